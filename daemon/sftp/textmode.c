/* textmode.c — TYPE A line ends for the SFTP bridge's transfers: the
 * files keep LF, the network carries CRLF (RFC 959 §3.1.1.1). */
#include "textmode.h"

size_t textmode_to_net(struct textmode *t, const char *in, size_t inlen,
		       size_t *used, char *out, size_t outcap)
{
	size_t i = 0, o = 0;

	/* held_cr here: the last byte sent was a CR, so a LF that follows
	 * it (even in the next chunk) is already a CRLF and stays one. */
	while (i < inlen && o < outcap) {
		char c = in[i];

		if (c == '\n' && !t->held_cr) {
			if (outcap - o < 2)
				break;
			out[o++] = '\r';
		}
		out[o++] = c;
		t->held_cr = c == '\r';
		i++;
	}
	*used = i;
	return o;
}

size_t textmode_from_net(struct textmode *t, const char *in, size_t inlen,
			 size_t *used, char *out, size_t outcap)
{
	size_t i = 0, o = 0;

	/* held_cr here: the last chunk ended in a CR not yet written; this
	 * chunk's first byte says whether it was a line end. */
	if (t->held_cr && inlen > 0 && outcap > 0) {
		if (in[0] == '\n') {
			i++;
			out[o++] = '\n';
		} else {
			out[o++] = '\r';
		}
		t->held_cr = 0;
	}
	while (i < inlen && o < outcap && !t->held_cr) {
		if (in[i] != '\r') {
			out[o++] = in[i++];
		} else if (i + 1 == inlen) {
			t->held_cr = 1;
			i++;
		} else if (in[i + 1] == '\n') {
			out[o++] = '\n';
			i += 2;
		} else {
			/* A lone CR is data (RFC 959 leaves it undefined;
			 * keeping it loses nothing). */
			out[o++] = '\r';
			i++;
		}
	}
	*used = i;
	return o;
}

size_t textmode_from_net_end(struct textmode *t, char *out, size_t outcap)
{
	if (!t->held_cr || outcap == 0)
		return 0;
	t->held_cr = 0;
	out[0] = '\r';
	return 1;
}

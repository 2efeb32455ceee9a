/* fuzz_ipc.c — libFuzzer target for the IPC decoder (common/ipc.c,
 * docs/IPC.txt): a frame decoded, its word and every key=value read back
 * and compared with a plain reading of the input, then re-encoded with
 * ipc_init/ipc_add and decoded again to the same keys and values.
 *
 * Input: a frame's text (what follows the u32 length prefix). */
#include "ipc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#ifdef FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Lines compared per input: enough to cover the parser, few enough that
 * a message of 2000 one-byte lines stays fast. */
#define MAX_PAIRS 256

struct pair {
	const char *key, *value; /* into the input copy */
	size_t kl, vl;
	int nth; /* earlier pairs with the same key */
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_ipc: %s\n", what);
	abort();
}

/* The message's text past m->len is out of bounds for every reader:
 * ASan reports any read of it. */
static void fence(struct ipc_msg *m)
{
	ASAN_POISON_MEMORY_REGION(m->text + m->len, sizeof(m->text) - m->len);
}

static void unfence(struct ipc_msg *m)
{
	ASAN_UNPOISON_MEMORY_REGION(m->text, sizeof(m->text));
}

/* The key=value lines after the first line, as docs/IPC.txt defines
 * them (a line without '=' holds no key). Cuts copy's lines in place. */
static int read_pairs(char *copy, size_t len, struct pair *pv)
{
	char *p = memchr(copy, '\n', len), *end = copy + len;
	int n = 0, i;

	while (p && ++p < end && n < MAX_PAIRS) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *le = nl ? nl : end;
		char *eq = memchr(p, '=', (size_t)(le - p));

		*le = '\0';
		if (eq) {
			*eq = '\0';
			pv[n].key = p;
			pv[n].kl = (size_t)(eq - p);
			pv[n].value = eq + 1;
			pv[n].vl = (size_t)(le - eq - 1);
			pv[n].nth = 0;
			for (i = 0; i < n; i++)
				if (!strcmp(pv[i].key, p))
					pv[n].nth++;
			n++;
		}
		p = nl;
	}
	return n;
}

/* Every pair reads back from m as the nth value of its key. */
static void check_pairs(const struct ipc_msg *m, const struct pair *pv, int n)
{
	static char out[IPC_MAX + 1];
	int i;

	for (i = 0; i < n; i++) {
		if (ipc_get(m, pv[i].key, pv[i].nth, out, sizeof(out)) != 0)
			die("ipc_get misses a key");
		if (strlen(out) != pv[i].vl ||
		    memcmp(out, pv[i].value, pv[i].vl))
			die("ipc_get gives another value");
	}
}

/* A value is written whole or not at all: an output of exactly its
 * size works, one byte less fails without writing past the end. */
static void check_bounds(const struct ipc_msg *m, const struct pair *pv)
{
	char *out = malloc(pv->vl + 1);

	if (!out)
		die("out of memory");
	if (ipc_get(m, pv->key, pv->nth, out, pv->vl) != -1)
		die("ipc_get wrote a value larger than its buffer");
	if (ipc_get(m, pv->key, pv->nth, out, pv->vl + 1) != 0 ||
	    out[pv->vl] != '\0')
		die("ipc_get failed on a buffer of the value's size");
	free(out);
}

/* The word as docs/IPC.txt defines it, or NULL. */
static const char *expect_word(const char *t, size_t len, size_t *wl)
{
	const char *nl;

	if (len < 7 || memcmp(t, IPC_MAGIC " ", 6))
		return NULL;
	nl = memchr(t + 6, '\n', len - 6);
	if (!nl || nl == t + 6)
		return NULL;
	*wl = (size_t)(nl - t - 6);
	return t + 6;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_msg *m = malloc(sizeof(*m)), *r = malloc(sizeof(*r)),
		       *d = malloc(sizeof(*d));
	struct pair *pv = malloc(MAX_PAIRS * sizeof(*pv));
	char *copy = malloc(size + 1), word[IPC_MAX + 1];
	const char *ew;
	size_t wl = 0, want;
	int rc, n, i, ok;

	if (!m || !r || !d || !pv || !copy)
		die("out of memory");
	rc = ipc_decode(data, size, m);
	ok = size >= 1 && size <= IPC_MAX && !memchr(data, '\0', size);
	if (rc != (ok ? 0 : -EPROTO))
		die("ipc_decode's verdict is wrong");
	if (!ok)
		goto out;
	if (m->len != size || memcmp(m->text, data, size) ||
	    m->text[size] != '\0')
		die("ipc_decode changed the text");
	fence(m);

	ew = expect_word(m->text, m->len, &wl);
	rc = ipc_word(m, word, sizeof(word));
	if (rc != (ew ? 0 : -1) ||
	    (ew && (strlen(word) != wl || memcmp(word, ew, wl))))
		die("ipc_word disagrees with the text");
	if (ew && ipc_word(m, word, wl) != -1)
		die("ipc_word wrote a word larger than its buffer");

	memcpy(copy, data, size);
	copy[size] = '\0';
	n = read_pairs(copy, size, pv);
	check_pairs(m, pv, n);
	for (i = 0; i < n && i < 8; i++)
		check_bounds(m, &pv[i]);
	if (n > 0 && n < MAX_PAIRS) {
		int count = 0;

		for (i = 0; i < n; i++)
			count += !strcmp(pv[i].key, pv[0].key);
		if (ipc_get(m, pv[0].key, count, word, sizeof(word)) != -1)
			die("ipc_get found a value past the last one");
	}

	/* Re-encoded, the same pairs come back. */
	if (ew) {
		memcpy(word, ew, wl);
		word[wl] = '\0';
	}
	ipc_init(r, ew ? word : "CONNECT");
	want = r->len;
	for (i = 0; i < n; i++) {
		want += pv[i].kl + pv[i].vl + 2;
		if (ipc_add(r, pv[i].key, pv[i].value) !=
		    (want > IPC_MAX ? -1 : 0))
			die("ipc_add's verdict is wrong");
		if (want > IPC_MAX)
			break;
	}
	if (r->len > IPC_MAX || r->text[r->len] != '\0')
		die("ipc_add overran the message");
	if (ipc_decode(r->text, r->len, d) != 0)
		die("a re-encoded message does not decode");
	fence(d);
	if (ew && (ipc_word(d, word, sizeof(word)) != 0 || strlen(word) != wl ||
		   memcmp(word, ew, wl)))
		die("the re-encoded word differs");
	check_pairs(d, pv, i);
	unfence(d);
	unfence(m);
out:
	free(copy);
	free(pv);
	free(d);
	free(r);
	free(m);
	return 0;
}

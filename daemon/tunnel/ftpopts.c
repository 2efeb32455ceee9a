/* ftpopts.c — a tunnel's FTP settings given as Key=Value (ftpopts.h). */
#include "ftpopts.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ftp.h"

/* The value of kv when its key is `key` ("Key=Value", "Key Value"). */
static const char *value_of(const char *kv, const char *key)
{
	size_t n = strlen(key);
	const char *v;

	if (strncasecmp(kv, key, n) || !kv[n] || !strchr("= \t", kv[n]))
		return NULL;
	v = kv + n;
	v += strspn(v, " \t");
	v += *v == '=';
	return v + strspn(v, " \t");
}

void ftpopts_init(struct tunnel_opts *t)
{
	t->ftp_active_mode = FWD_ACTIVE_AUTO;
	t->ftp_passive_reply = 0;
}

int ftpopts_set(struct tunnel_opts *t, const char *kv, char *err, size_t errlen)
{
	const char *v;

	if ((v = value_of(kv, "FtpActiveMode"))) {
		if (!strcasecmp(v, "forward"))
			t->ftp_active_mode = FTP_ACTIVE_FORWARD;
		else if (!strcasecmp(v, "passive") || !strcasecmp(v, "convert"))
			t->ftp_active_mode = FTP_ACTIVE_CONVERT;
		else if (!strcasecmp(v, "auto"))
			t->ftp_active_mode = FWD_ACTIVE_AUTO;
		else {
			snprintf(err, errlen,
				 "bad value for FtpActiveMode '%s' (forward, "
				 "passive, convert or auto)",
				 v);
			return -1;
		}
		return 0;
	}
	if ((v = value_of(kv, "FtpPassiveAddress"))) {
		if (!strcasecmp(v, "control"))
			t->ftp_passive_reply = 0;
		else if (!strcasecmp(v, "reply"))
			t->ftp_passive_reply = 1;
		else {
			snprintf(err, errlen,
				 "bad value for FtpPassiveAddress '%s' "
				 "(control or reply)",
				 v);
			return -1;
		}
		return 0;
	}
	return 1;
}

/* ftpopts.c — a tunnel's FTP settings given as Key=Value (ftpopts.h); the
 * values are read by common/sshkeys.c, as for the configuration file. */
#include "ftpopts.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ftp.h"
#include "sshkeys.h"

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
	t->ftp_passive_ahead = 1;
	t->sftp_login_ftp = -1;
}

void ftpopts_settle(struct tunnel_opts *t, const struct ssh_opts *o)
{
	/* The rule (Tectia's username-from-app): without an SSH
	 * user of its own, a login can only be the FTP client's. */
	if (t->sftp_login_ftp < 0)
		t->sftp_login_ftp = !(o->set & SSH_SET_USER);
}

int ftpopts_set(struct tunnel_opts *t, const char *kv, char *err, size_t errlen)
{
	const char *v;

	if ((v = value_of(kv, "FtpActiveMode"))) {
		switch (sshkeys_ftp_active(v)) {
		case SSHKEYS_ACTIVE_FORWARD:
			t->ftp_active_mode = FTP_ACTIVE_FORWARD;
			break;
		case SSHKEYS_ACTIVE_CONVERT:
			t->ftp_active_mode = FTP_ACTIVE_CONVERT;
			break;
		case SSHKEYS_ACTIVE_AUTO:
			t->ftp_active_mode = FWD_ACTIVE_AUTO;
			break;
		default:
			snprintf(err, errlen,
				 "bad value for FtpActiveMode '%s' (forward, "
				 "passive, convert or auto)",
				 v);
			return -1;
		}
		return 0;
	}
	if ((v = value_of(kv, "FtpPassiveAddress"))) {
		int reply = sshkeys_ftp_passive_reply(v);

		if (reply < 0) {
			snprintf(err, errlen,
				 "bad value for FtpPassiveAddress '%s' "
				 "(control or reply)",
				 v);
			return -1;
		}
		t->ftp_passive_reply = reply;
		return 0;
	}
	if ((v = value_of(kv, "FtpPassiveAhead"))) {
		int on = sshkeys_yes_no(v);

		if (on < 0) {
			snprintf(err, errlen,
				 "bad value for FtpPassiveAhead '%s' (yes or "
				 "no)",
				 v);
			return -1;
		}
		t->ftp_passive_ahead = on;
		return 0;
	}
	if ((v = value_of(kv, "SftpLogin"))) {
		/* Whose SSH login serves an sftp/ tunnel's FTP logins:
		 * ftp-tunnel's own, or each FTP login's own. */
		int ftp = sshkeys_sftp_login(v);

		if (ftp < 0) {
			snprintf(err, errlen,
				 "bad value for SftpLogin '%s' (tunnel: "
				 "ftp-tunnel's own SSH login; ftp: each FTP "
				 "login's USER and PASS)",
				 v);
			return -1;
		}
		t->sftp_login_ftp = ftp;
		return 0;
	}
	return 1;
}

/* confload.c — the configuration files ftp-tunnel reads (the parser is
 * common/conf.c), and finding a profile in them. */
#include "confload.h"

#include <ctype.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conffile.h"
#include "log.h"
#include "tectia.h"

#define CONF_FILE_MAX (1 << 20)

/* Whether text looks like XML: its first non-blank character is '<'. */
static int looks_like_xml(const char *text, size_t len)
{
	size_t i = 0;

	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		i = 3; /* a UTF-8 byte order mark */
	while (i < len && isspace((unsigned char)text[i]))
		i++;
	return i < len && text[i] == '<';
}

static int load(struct conf *c, const char *path, int tectia_ok)
{
	char *text, err[200];
	size_t len;
	int rc =
	    conffile_read(path, CONF_FILE_MAX, &text, &len, err, sizeof(err));

	if (rc < 0)
		conf_fail(c, path, 0, "%s", err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (tectia_ok && looks_like_xml(text, len)) {
		if (c->ntectia < CONF_MAX_FILES)
			snprintf(c->tectia[c->ntectia++], sizeof(c->tectia[0]),
				 "%s", path);
	} else {
		conf_parse(c, path, text, len, conffile_home());
	}
	free(text);
	return c->bad ? -1 : 0;
}

/* conffile_search's callback: a file the user named may be Tectia's
 * XML. */
static void load_one(void *arg, const char *path, int named)
{
	struct conf *c = arg;

	if (named)
		c->named = 1;
	load(c, path, named);
}

int confload_files(struct conf *c, const char *file, char *err, size_t errlen)
{
	conffile_search(file, 0, load_one, c);
	conf_finish(c);
	if (c->bad) {
		snprintf(err, errlen, "%s", c->err);
		return -1;
	}
	return 0;
}

static void tectia_warning(void *arg, const char *msg)
{
	(void)arg;
	log_info("%s", msg);
}

/* Looks for name in one Tectia file. 1 found, 0 not (or no such file),
 * -1 with err set. */
static int from_tectia(const char *path, const char *name, struct profile *out,
		       char *err, size_t errlen)
{
	enum { MAX_PROFILES = 256 };
	struct profile *all;
	int n = 0, i, found = 0;

	if (access(path, F_OK) < 0)
		return 0;
	all = calloc(MAX_PROFILES, sizeof(*all));
	if (!all) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (tectia_read(path, all, MAX_PROFILES, &n, err, errlen,
			tectia_warning, NULL) < 0) {
		free(all);
		return -1;
	}
	for (i = 0; i < n && !found; i++) {
		if (!strcmp(all[i].name, name)) {
			*out = all[i];
			found = 1;
		}
	}
	free(all);
	return found;
}

int confload_profile(const struct conf *c, const char *name,
		     struct profile *out, char *err, size_t errlen)
{
	const struct profile *p = conf_profile(c, name);
	const char *home;
	char user[PATH_MAX];
	int i, rc;

	if (p) {
		*out = *p;
		return 1;
	}
	for (i = 0; i < c->ntectia; i++) {
		rc = from_tectia(c->tectia[i], name, out, err, errlen);
		if (rc)
			return rc;
	}
	if (c->named)
		return 0;
	/* Tectia's own files, the user's first. A malformed global file is
	 * skipped, as Tectia's broker does; a malformed user file is an
	 * error. */
	home = conffile_home();
	if (home &&
	    snprintf(user, sizeof(user), "%s/.ssh2/ssh-broker-config.xml",
		     home) < (int)sizeof(user)) {
		rc = from_tectia(user, name, out, err, errlen);
		if (rc)
			return rc;
	}
	rc = from_tectia("/etc/ssh2/ssh-broker-config.xml", name, out, err,
			 errlen);
	if (rc < 0) {
		log_warn("%s (the system's Tectia file is skipped)", err);
		return 0;
	}
	return rc;
}

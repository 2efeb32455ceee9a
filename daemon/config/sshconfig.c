/* sshconfig.c — reads OpenSSH client configuration files (ssh_config(5))
 * into struct ssh_opts, so that an existing SSH setup (aliases, keys, ports)
 * works unchanged. The parser does no I/O but through its Include
 * callback; the loader at the end finds, checks and reads the files. */
#include "sshconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <glob.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conffile.h"
#include "home.h"
#include "log.h"
#include "sshkeys.h"

#define WS " \t\r\n"
#define MAX_LINE 8192
#define MAX_WORDS 64
#define MAX_FILE (1024 * 1024)

/* What one file's reading is at: the block a line belongs to. */
struct place {
	const char *fname;
	int line;
	int active;	 /* the current Host/Match block applies */
	char label[300]; /* "Host a b" or "Match ...", for messages */
};

/* --- patterns ---------------------------------------------------------- */

static int tolower_ascii(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

/* A glob of '*' and '?' against s, case-insensitively; the last '*' is
 * retried one character further on a mismatch, so time stays linear in
 * practice. */
static int glob_match(const char *s, const char *p)
{
	const char *star = NULL, *retry = NULL;

	while (*s) {
		if (*p == '*') {
			star = ++p;
			retry = s;
		} else if (*p == '?' ||
			   (*p && tolower_ascii(*p) == tolower_ascii(*s))) {
			p++;
			s++;
		} else if (star) {
			p = star;
			s = ++retry;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return !*p;
}

/* A list of patterns (a Host line's words, or a Match argument split at
 * commas): 1 when one pattern matches and no negated one ("!p") does. */
static int match_list(const char *name, char **pats, int n)
{
	int i, hit = 0;

	for (i = 0; i < n; i++) {
		if (pats[i][0] == '!') {
			if (glob_match(name, pats[i] + 1))
				return 0;
		} else if (glob_match(name, pats[i])) {
			hit = 1;
		}
	}
	return hit;
}

static int match_commas(const char *name, const char *list)
{
	char copy[MAX_LINE], *pats[MAX_WORDS], *save = NULL, *t;
	int n = 0;

	snprintf(copy, sizeof(copy), "%s", list);
	for (t = strtok_r(copy, ",", &save); t && n < MAX_WORDS;
	     t = strtok_r(NULL, ",", &save))
		pats[n++] = t;
	return match_list(name, pats, n);
}

/* --- tokens ------------------------------------------------------------ */

struct tokens {
	const struct sshconfig_env *env;
	const struct ssh_opts *o;
	const char *given;
};

/* Expands a leading "~" (when tilde) and the %-tokens in `allowed` into
 * out. 0, or -1 with err naming what could not be expanded. */
static int expand(const char *in, const char *allowed, const struct tokens *t,
		  int tilde, char *out, size_t outlen, char *err, size_t errlen)
{
	size_t n = 0;
	char num[24];

	out[0] = '\0';
	if (tilde && in[0] == '~' && (in[1] == '/' || !in[1])) {
		n = (size_t)snprintf(out, outlen, "%s", t->env->home);
		in++;
	}
	for (; *in && n < outlen; in++) {
		const char *v = NULL;

		if (*in != '%') {
			out[n++] = *in;
			continue;
		}
		in++;
		if (!*in || !strchr(allowed, *in)) {
			snprintf(err, errlen, "unknown token %%%c",
				 *in ? *in : ' ');
			return -1;
		}
		switch (*in) {
		case '%':
			v = "%";
			break;
		case 'd':
			v = t->env->home;
			break;
		case 'u':
			v = t->env->local_user;
			break;
		case 'l':
			v = t->env->local_host;
			break;
		case 'h':
			v = t->o->host;
			break;
		case 'n':
			v = t->given;
			break;
		case 'r':
			v = t->o->user;
			break;
		case 'p':
			snprintf(num, sizeof(num), "%u", t->o->port);
			v = num;
			break;
		case 'i':
			snprintf(num, sizeof(num), "%lu", t->env->uid);
			v = num;
			break;
		}
		n += (size_t)snprintf(out + n, outlen - n, "%s", v ? v : "");
	}
	if (n >= outlen) {
		snprintf(err, errlen, "too long after expansion");
		return -1;
	}
	out[n] = '\0';
	return 0;
}

/* The tokens of IdentityFile and UserKnownHostsFile. */
#define PATH_TOKENS "%dhilnpru"

/* --- the parser -------------------------------------------------------- */

void sshconfig_init(struct sshconfig *c, struct ssh_opts *o,
		    const struct sshconfig_env *env)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
	c->env = *env;
	snprintf(c->given, sizeof(c->given), "%s",
		 o->alias[0] ? o->alias : o->host);
}

/* Writes "FILE line N: message" into err; returns -1. */
static int fail(char *err, size_t errlen, const struct place *pl,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, const struct place *pl,
		const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s line %d: %s", pl->fname, pl->line, msg);
	return -1;
}

static void set_label(struct place *pl, char **w, int n)
{
	size_t len = 0;
	int i;

	pl->label[0] = '\0';
	for (i = 0; i < n && len < sizeof(pl->label); i++)
		len +=
		    (size_t)snprintf(pl->label + len, sizeof(pl->label) - len,
				     "%s%s", i ? " " : "", w[i]);
}

/* A Match line: 1 applies, 0 does not, 2 has a criterion we do not
 * evaluate (the block is skipped: never guess it matches), -1 bad. */
static int match_line(struct sshconfig *c, const struct place *pl, char **w,
		      int n, char *err, size_t errlen)
{
	int i, result = 1;

	if (n < 2)
		return fail(err, errlen, pl, "Match needs criteria");
	for (i = 1; i < n; i++) {
		const char *crit = w[i], *subject = NULL;
		int neg = crit[0] == '!', r = 0;

		crit += neg;
		if (!strcasecmp(crit, "all")) {
			r = 1;
		} else if (!strcasecmp(crit, "canonical")) {
			r = 0; /* we never canonicalise host names */
		} else if (!strcasecmp(crit, "host")) {
			subject = c->o->host; /* after HostName, as ssh */
		} else if (!strcasecmp(crit, "originalhost")) {
			subject = c->given;
		} else if (!strcasecmp(crit, "user")) {
			subject =
			    c->o->user[0] ? c->o->user : c->env.local_user;
		} else if (!strcasecmp(crit, "localuser")) {
			subject = c->env.local_user;
		} else {
			log_debug("%s line %d: Match %s is not evaluated by "
				  "ftp-tunnel: block skipped",
				  pl->fname, pl->line, w[i]);
			return 2;
		}
		if (subject) {
			if (i + 1 >= n)
				return fail(err, errlen, pl,
					    "Match %s needs an argument", crit);
			r = match_commas(subject, w[++i]);
		}
		if (neg ? r : !r)
			result = 0;
	}
	return result;
}

static int do_include(struct sshconfig *c, const struct place *pl,
		      const char *incdir, int depth, char **w, int n, char *err,
		      size_t errlen)
{
	char path[4096];
	int i;

	if (n < 2)
		return fail(err, errlen, pl, "Include needs a file");
	if (depth + 1 > SSHCONFIG_MAX_DEPTH)
		return fail(err, errlen, pl,
			    "Include nested too deeply (more than %d levels)",
			    SSHCONFIG_MAX_DEPTH);
	if (!c->include)
		return fail(err, errlen, pl, "Include is not allowed here");
	for (i = 1; i < n; i++) {
		if (w[i][0] == '~' && (w[i][1] == '/' || !w[i][1]))
			snprintf(path, sizeof(path), "%s%s", c->env.home,
				 w[i] + 1);
		else if (w[i][0] == '/')
			snprintf(path, sizeof(path), "%s", w[i]);
		else
			snprintf(path, sizeof(path), "%s/%s", incdir, w[i]);
		if (c->include(c, path, incdir, depth + 1, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* ProxyJump/ProxyCommand: only "none" can be honoured; any other value
 * that applies would make ssh connect elsewhere than we would. */
static int do_proxy(struct sshconfig *c, const struct place *pl,
		    const char *key, char **w, int n, char *err, size_t errlen)
{
	char where[320] = "";

	if (c->o->set & SSH_SET_PROXY)
		return 0; /* an earlier ProxyJump/ProxyCommand none wins */
	if (n == 2 && !strcasecmp(w[1], "none")) {
		c->o->set |= SSH_SET_PROXY;
		return 0;
	}
	if (pl->label[0])
		snprintf(where, sizeof(where), " (%s)", pl->label);
	snprintf(err, errlen,
		 "%s line %d: %s%s is not supported by ftp-tunnel; connect to "
		 "the jump host's forwarded port instead, or use ssh -L to it",
		 pl->fname, pl->line, key, where);
	return -1;
}

/* A keyword inside a block that applies. */
static int do_setting(struct sshconfig *c, const struct place *pl, char **w,
		      int n, char *err, size_t errlen)
{
	struct tokens t = {&c->env, c->o, c->given};
	char buf[4096], msg[600];
	int rc, i;

	if (!strcasecmp(w[0], "ProxyJump"))
		return do_proxy(c, pl, "ProxyJump", w, n, err, errlen);
	if (!strcasecmp(w[0], "ProxyCommand"))
		return do_proxy(c, pl, "ProxyCommand", w, n, err, errlen);
	if (!strcasecmp(w[0], "HostName") && n == 2) {
		/* %h is the name as given: HostName %h.example.com. */
		struct ssh_opts given = *c->o;

		snprintf(given.host, sizeof(given.host), "%s", c->given);
		t.o = &given;
		if (expand(w[1], "%h", &t, 0, buf, sizeof(buf), msg,
			   sizeof(msg)) < 0)
			return fail(err, errlen, pl, "HostName: %s", msg);
		w[1] = buf;
	}
	if (!strcasecmp(w[0], "IdentityFile") ||
	    !strcasecmp(w[0], "UserKnownHostsFile")) {
		/* Expanded once everything is known (sshconfig_finish): %h
		 * and %r may still change. Checked now, to name the line. */
		for (i = 1; i < n; i++)
			if (expand(w[i], PATH_TOKENS, &t, 1, buf, sizeof(buf),
				   msg, sizeof(msg)) < 0)
				return fail(err, errlen, pl, "%s: %s", w[0],
					    msg);
	}
	rc = ssh_opts_apply(c->o, w[0], w + 1, n - 1, SSH_APPLY_FIRST, msg,
			    sizeof(msg));
	if (rc == SSH_OPTS_UNKNOWN) {
		log_debug("%s line %d: %s ignored (not used by ftp-tunnel)",
			  pl->fname, pl->line, w[0]);
		return 0;
	}
	if (rc < 0)
		return fail(err, errlen, pl, "%s", msg);
	if (rc == 1)
		log_debug("%s line %d: %s: an earlier value is kept", pl->fname,
			  pl->line, w[0]);
	return 0;
}

static int do_line(struct sshconfig *c, struct place *pl, char *line,
		   const char *incdir, int depth, char *err, size_t errlen)
{
	char *w[MAX_WORDS];
	int n = sshkeys_split(line, w, MAX_WORDS), rc;

	if (n == SSHKEYS_SPLIT_QUOTE)
		return fail(err, errlen, pl, "unterminated quote");
	if (n == SSHKEYS_SPLIT_MANY)
		return fail(err, errlen, pl, "too many arguments");
	if (n == 0)
		return 0;
	if (!strcasecmp(w[0], "Host")) {
		if (n < 2)
			return fail(err, errlen, pl, "Host needs a pattern");
		pl->active = match_list(c->given, w + 1, n - 1);
		set_label(pl, w, n);
		if (pl->active)
			log_info("%s line %d: %s applies to %s", pl->fname,
				 pl->line, pl->label, c->given);
		return 0;
	}
	if (!strcasecmp(w[0], "Match")) {
		rc = match_line(c, pl, w, n, err, errlen);
		if (rc < 0)
			return -1;
		pl->active = rc == 1;
		set_label(pl, w, n);
		if (pl->active)
			log_info("%s line %d: %s applies to %s", pl->fname,
				 pl->line, pl->label, c->given);
		return 0;
	}
	if (!pl->active)
		return 0;
	if (!strcasecmp(w[0], "Include"))
		return do_include(c, pl, incdir, depth, w, n, err, errlen);
	return do_setting(c, pl, w, n, err, errlen);
}

int sshconfig_parse(struct sshconfig *c, const char *text, const char *fname,
		    const char *incdir, int depth, char *err, size_t errlen)
{
	struct place pl = {.fname = fname, .active = 1};
	char line[MAX_LINE];

	while (*text) {
		size_t len = strcspn(text, "\n");

		pl.line++;
		if (len >= sizeof(line))
			return fail(err, errlen, &pl, "line too long");
		memcpy(line, text, len);
		line[len] = '\0';
		text += len + (text[len] == '\n');
		if (do_line(c, &pl, line, incdir, depth, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int sshconfig_finish(struct ssh_opts *o, const struct sshconfig_env *env,
		     char *err, size_t errlen)
{
	struct tokens t = {env, o, o->alias[0] ? o->alias : o->host};
	char buf[4096], msg[600];
	char **lists[2] = {o->identities, o->known_hosts};
	int counts[2] = {o->nidentities, o->nknown_hosts}, l, i;

	if (!(o->set & SSH_SET_USER))
		snprintf(o->user, sizeof(o->user), "%s", env->local_user);
	if (!(o->set & SSH_SET_PORT))
		o->port = 22;
	for (l = 0; l < 2; l++) {
		for (i = 0; i < counts[l]; i++) {
			char *copy;

			if (expand(lists[l][i], PATH_TOKENS, &t, 1, buf,
				   sizeof(buf), msg, sizeof(msg)) < 0) {
				snprintf(err, errlen, "%s: %s", lists[l][i],
					 msg);
				return -1;
			}
			copy = strdup(buf);
			if (!copy) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			free(lists[l][i]);
			lists[l][i] = copy;
		}
	}
	return 0;
}

/* --- the loader -------------------------------------------------------- */

struct loader {
	int check_perms; /* the user's files: as ssh, refuse ones others may
			  * write */
};

/* "~/..." for paths in the home directory, for messages. */
static void display_name(const char *home, const char *path, char *out,
			 size_t outlen)
{
	size_t h = strlen(home);

	if (h > 1 && !strncmp(path, home, h) && path[h] == '/')
		snprintf(out, outlen, "~%s", path + h);
	else
		snprintf(out, outlen, "%s", path);
}

/* Reads and parses one file. A missing file is an error only when
 * must_exist (a file named by the user). */
static int read_one(struct sshconfig *c, const char *path, const char *incdir,
		    int depth, int must_exist, char *err, size_t errlen)
{
	struct loader *ld = c->arg;
	char name[4200], *text = NULL;
	struct stat st;
	ssize_t got;
	size_t len = 0;
	int fd, rc = -1;

	display_name(c->env.home, path, name, sizeof(name));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT && !must_exist) {
			log_debug("ssh config %s: not there", name);
			return 0;
		}
		snprintf(err, errlen, "cannot read %s: %s", name,
			 strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (must_exist)
			snprintf(err, errlen, "%s: not a file", name);
		else
			rc = 0; /* a directory an Include glob matched */
		goto out;
	}
	if (ld && ld->check_perms && !conffile_trusted(&st)) {
		snprintf(err, errlen, "%s: %s", name, CONFFILE_UNTRUSTED);
		goto out;
	}
	if (st.st_size > MAX_FILE) {
		snprintf(err, errlen, "%s: too large", name);
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	while (len < (size_t)st.st_size &&
	       (got = read(fd, text + len, (size_t)st.st_size - len)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "cannot read %s: %s", name,
				 strerror(errno));
			goto out;
		}
		len += (size_t)got;
	}
	text[len] = '\0';
	log_info("reading ssh config %s for %s", name, c->given);
	rc = sshconfig_parse(c, text, name, incdir, depth, err, errlen);
out:
	free(text);
	close(fd);
	return rc;
}

static int include_files(struct sshconfig *c, const char *path,
			 const char *incdir, int depth, char *err,
			 size_t errlen)
{
	glob_t g;
	size_t i;
	int rc;

	rc = glob(path, 0, NULL, &g);
	if (rc == GLOB_NOMATCH) {
		log_debug("ssh config: Include %s matches no file", path);
		return 0;
	}
	if (rc) {
		snprintf(err, errlen, "Include %s: cannot list the files",
			 path);
		return -1;
	}
	rc = 0;
	for (i = 0; i < g.gl_pathc && rc == 0; i++)
		rc = read_one(c, g.gl_pathv[i], incdir, depth, 0, err, errlen);
	globfree(&g);
	return rc;
}

/* The file a variable names ("none": no file), or the default. 0: none,
 * 1: *path set (must_exist when from the variable). */
static int pick_file(const char *var, const char *def, const char **path,
		     int *must_exist)
{
	const char *v = getenv(var);

	*must_exist = 0;
	*path = def;
	if (v && *v) {
		if (!strcasecmp(v, "none"))
			return 0;
		*path = v;
		*must_exist = 1;
	}
	return 1;
}

int sshconfig_load(struct ssh_opts *o, char *err, size_t errlen)
{
	struct passwd *pw = getpwuid(getuid());
	const char *path;
	struct sshconfig_env env;
	struct sshconfig c;
	struct loader ld;
	char user_file[4300], user_dir[4200], host[256] = "";
	int must;

	env.home = user_home();
	env.local_user = pw ? pw->pw_name : "root";
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	env.local_host = host;
	env.uid = (unsigned long)getuid();
	sshconfig_init(&c, o, &env);
	c.include = include_files;
	c.arg = &ld;
	snprintf(user_dir, sizeof(user_dir), "%s/.ssh",
		 strcmp(env.home, "/") ? env.home : "");
	snprintf(user_file, sizeof(user_file), "%s/config", user_dir);
	if (pick_file("FTP_TUNNEL_SSH_CONFIG", user_file, &path, &must)) {
		ld.check_perms = 1;
		if (read_one(&c, path, user_dir, 0, must, err, errlen) < 0)
			return -1;
	}
	if (pick_file("FTP_TUNNEL_SSH_SYSTEM_CONFIG", "/etc/ssh/ssh_config",
		      &path, &must)) {
		ld.check_perms = 0;
		if (read_one(&c, path, "/etc/ssh", 0, must, err, errlen) < 0)
			return -1;
	}
	if (o->alias[0])
		log_info("%s is %s", o->alias, o->host);
	return sshconfig_finish(o, &env, err, errlen);
}

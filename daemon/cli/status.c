/* status.c — `ftp-tunnel status [--json]` and `ftp-tunnel stop [PID|
 * NAME]`. status asks the daemon and every foreground ftp-tunnel of the
 * user (fgsock.h) for the format-2 STATUS reply (docs/IPC.txt), collects
 * their records and prints them as tables or as one JSON object; an older
 * daemon's format-1 reply is printed as it comes. Sockets left by
 * processes that died are removed. stop asks the daemon, or one
 * foreground process, to stop and waits until its process is gone. */
#include "status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fgsock.h"
#include "ipc.h"
#include "json.h"

#define DAEMON_TIMEOUT_S 10
/* A foreground process answers from its event loop at once; one that
 * hangs must not hold the listing of the others for long. */
#define FG_TIMEOUT_S 3
#define FG_MAX 256
/* A report bigger than this (4 MiB) is not a report. */
#define STATUS_MAX_MSGS 1024
#define CELL 160
#define COLS_MAX 8

struct kv {
	const char *key, *val;
};

struct rec {
	const char *type;
	size_t first, n; /* its pairs in report.kv */
};

/* A STATUS reply: its key=value lines, then split into records. */
struct report {
	int format;
	char *text; /* owned; the pairs point into it */
	size_t len, cap;
	struct kv *kv;
	size_t nkv;
	struct rec *rec;
	size_t nrec;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ftp-tunnel status [--json]\n"
		   "       ftp-tunnel stop [PID|NAME]\n");
}

static int pid_gone(int pid);

/* --- talking to the daemon -------------------------------------------- */

/* The daemon's socket path, or -1 after saying why there is none. */
static int daemon_sock_path(char *path, size_t len)
{
	if (ipc_socket_path(getuid(), path, len) < 0 ||
	    ipc_check_dir(path, getuid(), 0) < 0) {
		fprintf(stderr, "ftp-tunnel: no daemon is running (no private "
				"socket directory)\n");
		return -1;
	}
	return 0;
}

/* Says why a request failed; returns the exit status. */
static int request_failed(const char *path, int rc)
{
	if (rc == -ENOENT || rc == -ECONNREFUSED)
		fprintf(stderr, "ftp-tunnel: no daemon is running (%s: %s)\n",
			path, strerror(-rc));
	else
		fprintf(stderr, "ftp-tunnel: the daemon did not answer: %s\n",
			strerror(-rc));
	return 1;
}

/* An "ERR" reply: print its message. Returns nonzero if m is one. */
static int reply_is_error(const struct ipc_msg *m)
{
	char word[16], msg[512];

	if (ipc_word(m, word, sizeof(word)) == 0 && !strcmp(word, "OK"))
		return 0;
	if (ipc_get(m, "message", 0, msg, sizeof(msg)) < 0)
		snprintf(msg, sizeof(msg), "unexpected reply");
	fprintf(stderr, "ftp-tunnel: the daemon said: %s\n", msg);
	return 1;
}

static int append(struct report *r, const char *s, size_t len)
{
	if (r->len + len + 1 > r->cap) {
		size_t cap = (r->len + len + 1) * 2;
		char *t = realloc(r->text, cap);

		if (!t)
			return -ENOMEM;
		r->text = t;
		r->cap = cap;
	}
	memcpy(r->text + r->len, s, len);
	r->len += len;
	r->text[r->len] = '\0';
	return 0;
}

/* Collects the reply's lines after each message's first. 0 or -errno. */
static int fetch_report(int s, struct report *r)
{
	struct ipc_msg req, m;
	char v[16];
	int n, rc, fd;

	ipc_init(&req, "STATUS");
	ipc_add(&req, "format", "2");
	rc = ipc_send(s, &req, -1);
	for (n = 0; rc == 0 && n < STATUS_MAX_MSGS; n++) {
		size_t body;

		rc = ipc_recv(s, &m, &fd);
		if (rc < 0)
			break;
		if (fd >= 0)
			close(fd);
		if (reply_is_error(&m))
			return -EPROTO;
		/* A daemon that predates format 2 ignores the key. */
		if (n == 0)
			r->format = ipc_get(&m, "format", 0, v, sizeof(v)) == 0
					? atoi(v)
					: 1;
		body = strcspn(m.text, "\n") + 1;
		if (body < m.len && append(r, m.text + body, m.len - body) < 0)
			return -ENOMEM;
		if (r->format < 2 || ipc_get(&m, "end", 0, v, sizeof(v)) == 0)
			return 0;
	}
	return rc < 0 ? rc : -EMSGSIZE;
}

/* --- the report -------------------------------------------------------- */

static int add_pair(struct report *r, const char *key, const char *val)
{
	struct kv *t;

	if (!strcmp(key, "record")) {
		struct rec *q = realloc(r->rec, (r->nrec + 1) * sizeof(*q));

		if (!q)
			return -ENOMEM;
		r->rec = q;
		r->rec[r->nrec].type = val;
		r->rec[r->nrec].first = r->nkv;
		r->rec[r->nrec].n = 0;
		r->nrec++;
		return 0;
	}
	t = realloc(r->kv, (r->nkv + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	r->kv = t;
	r->kv[r->nkv].key = key;
	r->kv[r->nkv].val = val;
	r->nkv++;
	if (r->nrec)
		r->rec[r->nrec - 1].n++;
	return 0;
}

/* Splits the text into pairs and records, in place. 0 or -ENOMEM. */
static int parse_report(struct report *r)
{
	char *line = r->text, *nl, *eq;

	while (line && *line) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		eq = strchr(line, '=');
		if (eq) {
			*eq = '\0';
			/* Pairs before the first record (format=2) and the
			 * closing end=1 are framing, not data. */
			if (r->format < 2 ||
			    (strcmp(line, "end") && strcmp(line, "format") &&
			     (r->nrec || !strcmp(line, "record"))))
				if (add_pair(r, line, eq + 1) < 0)
					return -ENOMEM;
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

static void report_free(struct report *r)
{
	free(r->text);
	free(r->kv);
	free(r->rec);
}

/* The value of key in record q, or "" (never NULL). */
static const char *get(const struct report *r, const struct rec *q,
		       const char *key)
{
	size_t i;

	for (i = q->first; i < q->first + q->n; i++)
		if (!strcmp(r->kv[i].key, key))
			return r->kv[i].val;
	return "";
}

static const struct rec *first_of(const struct report *r, const char *type)
{
	size_t i;

	for (i = 0; i < r->nrec; i++)
		if (!strcmp(r->rec[i].type, type))
			return &r->rec[i];
	return NULL;
}

/* --- JSON ------------------------------------------------------------- */

static void json_str(const char *s)
{
	char out[6 * IPC_MAX + 3];

	if (json_escape(s, out, sizeof(out)) < 0)
		snprintf(out, sizeof(out), "\"\"");
	fputs(out, stdout);
}

/* Keys whose values are counts (JSON numbers) and flags (booleans);
 * every other value, and any value that is not digits, is a string. */
static int is_count(const char *key, const char *val)
{
	static const char *const counts[] = {
	    "id",	"pid",		 "uptime",   "port",	    "channels",
	    "session",	"control",	 "n",	     "connections", "requests",
	    "bytes_up", "bytes_down",	 "rx_bytes", "tx_bytes",    "sessions",
	    "controls", "data_channels", NULL};
	size_t i;

	if (!*val || strspn(val, "0123456789") != strlen(val) ||
	    strlen(val) > 19)
		return 0;
	for (i = 0; counts[i]; i++)
		if (!strcmp(key, counts[i]))
			return 1;
	return 0;
}

/* The record's pairs as members, after an opening brace. */
static void json_members(const struct report *r, const struct rec *q)
{
	size_t i;

	for (i = q->first; i < q->first + q->n; i++) {
		const struct kv *p = &r->kv[i];

		if (i > q->first)
			fputs(", ", stdout);
		json_str(p->key);
		fputs(": ", stdout);
		if (!strcmp(p->key, "converted"))
			fputs(strcmp(p->val, "0") ? "true" : "false", stdout);
		else if (is_count(p->key, p->val))
			fputs(p->val, stdout);
		else
			json_str(p->val);
	}
}

/* The first record of the type as a member named name (null when there
 * is none), after a comma; ind is the member's indentation. */
static void json_object(const struct report *r, const char *name,
			const char *type, const char *ind)
{
	const struct rec *q = first_of(r, type);

	printf(",\n%s\"%s\": ", ind, name);
	if (!q) {
		fputs("null", stdout);
		return;
	}
	fputs("{", stdout);
	json_members(r, q);
	fputs("}", stdout);
}

/* Every record of the type as an array member named name. */
static void json_array(const struct report *r, const char *name,
		       const char *type, const char *ind)
{
	size_t i;
	int n = 0;

	printf(",\n%s\"%s\": [", ind, name);
	for (i = 0; i < r->nrec; i++) {
		if (strcmp(r->rec[i].type, type))
			continue;
		printf("%s\n%s  {", n++ ? "," : "", ind);
		json_members(r, &r->rec[i]);
		fputs("}", stdout);
	}
	printf(n ? "\n%s]" : "]", ind);
}

/* Each control with its data connections nested as "data". */
static void json_controls(const struct report *r, const char *ind)
{
	size_t i, j;
	int nc = 0, nd;

	printf(",\n%s\"controls\": [", ind);
	for (i = 0; i < r->nrec; i++) {
		const struct rec *c = &r->rec[i];

		if (strcmp(c->type, "control"))
			continue;
		printf("%s\n%s  {", nc++ ? "," : "", ind);
		json_members(r, c);
		fputs(", \"data\": [", stdout);
		nd = 0;
		for (j = 0; j < r->nrec; j++) {
			const struct rec *d = &r->rec[j];

			if (strcmp(d->type, "data") ||
			    strcmp(get(r, d, "control"), get(r, c, "id")))
				continue;
			printf("%s{", nd++ ? ", " : "");
			json_members(r, d);
			fputs("}", stdout);
		}
		fputs("]}", stdout);
	}
	printf(nc ? "\n%s]" : "]", ind);
}

/* The daemon's report (NULL: none answered), then each foreground
 * process's as a member of "foreground". */
static void print_json(const struct report *d, const struct report *fg,
		       size_t nfg)
{
	static const struct report none = {.format = 2};
	const struct report *r = d ? d : &none;
	size_t i;

	printf("{\n  \"format\": %d", r->format);
	if (r->format < 2) {
		/* An older daemon: its pairs as they came. */
		fputs(",\n  \"pairs\": [", stdout);
		for (i = 0; i < r->nkv; i++) {
			fputs(i ? ", [" : "[", stdout);
			json_str(r->kv[i].key);
			fputs(", ", stdout);
			json_str(r->kv[i].val);
			fputs("]", stdout);
		}
		fputs("]", stdout);
	} else {
		json_object(r, "daemon", "daemon", "  ");
		json_array(r, "sessions", "session", "  ");
		json_controls(r, "  ");
		json_array(r, "held", "held", "  ");
		json_object(r, "totals", "totals", "  ");
	}
	fputs(",\n  \"foreground\": [", stdout);
	for (i = 0; i < nfg; i++) {
		/* "process" first: a member needs a comma before it. */
		const struct rec *p = first_of(&fg[i], "process");

		printf("%s\n    {\"process\": {", i ? "," : "");
		if (p)
			json_members(&fg[i], p);
		fputs("}", stdout);
		json_array(&fg[i], "tunnels", "tunnel", "     ");
		json_array(&fg[i], "sessions", "session", "     ");
		json_controls(&fg[i], "     ");
		json_object(&fg[i], "totals", "totals", "     ");
		fputs("}", stdout);
	}
	fputs(nfg ? "\n  ]\n}\n" : "]\n}\n", stdout);
}

/* --- tables ------------------------------------------------------------ */

static const char *fmt_bytes(const char *v, char *out, size_t len)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
	double x = strtod(v, NULL);
	int u = -1;

	if (x < 1024) {
		snprintf(out, len, "%.0f B", x);
		return out;
	}
	while (x >= 1024 && u < 3) {
		x /= 1024;
		u++;
	}
	snprintf(out, len, x < 10 ? "%.2f %s" : "%.1f %s", x, units[u]);
	return out;
}

static const char *fmt_age(const char *v, char *out, size_t len)
{
	unsigned long long s = strtoull(v, NULL, 10);

	if (s < 60)
		snprintf(out, len, "%llus", s);
	else if (s < 3600)
		snprintf(out, len, "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, len, "%lluh%02llum", s / 3600, s % 3600 / 60);
	else
		snprintf(out, len, "%llud%02lluh", s / 86400, s % 86400 / 3600);
	return out;
}

static void host_port(const char *host, const char *port, char *out, size_t len)
{
	snprintf(out, len, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
}

/* A table: each row's cells come from a function, called once to
 * measure and once to print, so the columns line up. */
typedef int (*row_fn)(const struct report *r, const struct rec *q,
		      char cells[COLS_MAX][CELL]);

static void print_table(const struct report *r, const char *title,
			const char *type, const char *const *head, row_fn row,
			void (*details)(const struct report *,
					const struct rec *))
{
	char cells[COLS_MAX][CELL];
	size_t width[COLS_MAX] = {0}, i;
	int c, ncols = 0, any = 0;

	while (head[ncols])
		ncols++;
	for (c = 0; c < ncols; c++)
		width[c] = strlen(head[c]);
	for (i = 0; i < r->nrec; i++) {
		if (strcmp(r->rec[i].type, type))
			continue;
		any = 1;
		row(r, &r->rec[i], cells);
		for (c = 0; c < ncols; c++)
			if (strlen(cells[c]) > width[c])
				width[c] = strlen(cells[c]);
	}
	if (!any)
		return;
	printf("\n%s\n ", title);
	for (c = 0; c < ncols; c++)
		printf(" %-*s", c == ncols - 1 ? 0 : (int)width[c], head[c]);
	putchar('\n');
	for (i = 0; i < r->nrec; i++) {
		if (strcmp(r->rec[i].type, type))
			continue;
		row(r, &r->rec[i], cells);
		putchar(' ');
		for (c = 0; c < ncols; c++)
			printf(" %-*s", c == ncols - 1 ? 0 : (int)width[c],
			       cells[c]);
		putchar('\n');
		if (details)
			details(r, &r->rec[i]);
	}
}

static const char *const session_head[] = {"ID",       "SERVER", "USER", "UP",
					   "CHANNELS", "STATE",	 NULL};

/* State last: `ftp-tunnel status | grep ' ready$'` finds live ones. */
static int session_row(const struct report *r, const struct rec *q,
		       char cells[COLS_MAX][CELL])
{
	snprintf(cells[0], CELL, "%s", get(r, q, "id"));
	if (*get(r, q, "name")) /* "alias (user@host:port)" */
		snprintf(cells[1], CELL, "%s", get(r, q, "name"));
	else
		host_port(get(r, q, "host"), get(r, q, "port"), cells[1], CELL);
	snprintf(cells[2], CELL, "%s", get(r, q, "user"));
	fmt_age(get(r, q, "uptime"), cells[3], CELL);
	snprintf(cells[4], CELL, "%s", get(r, q, "channels"));
	snprintf(cells[5], CELL, "%s", get(r, q, "state"));
	return 0;
}

static void session_details(const struct report *r, const struct rec *q)
{
	/* The path, as one thinks of it: the jump hosts, then the server
	 * by the name it was given. */
	if (*get(r, q, "via")) {
		char name[CELL];

		snprintf(name, sizeof(name), "%s", get(r, q, "name"));
		name[strcspn(name, " ")] = '\0'; /* "alias (user@host:port)" */
		printf("      path %s → %s\n", get(r, q, "via"), name);
	}
	if (!*get(r, q, "kex"))
		return; /* not past the handshake */
	printf("      kex %s, host key %s\n", get(r, q, "kex"),
	       get(r, q, "hostkey"));
	printf("      client to server %s %s, server to client %s %s\n",
	       get(r, q, "cipher_cs"), get(r, q, "mac_cs"),
	       get(r, q, "cipher_sc"), get(r, q, "mac_sc"));
}

static const char *const held_head[] = {"NAME", "STATE", "SSH SESSION",
					"TUNNEL", NULL};

static int held_row(const struct report *r, const struct rec *q,
		    char cells[COLS_MAX][CELL])
{
	snprintf(cells[0], CELL, "%s", get(r, q, "name"));
	snprintf(cells[1], CELL, "%s", get(r, q, "state"));
	snprintf(cells[2], CELL, "%s", get(r, q, "session"));
	snprintf(cells[3], CELL, "%s", get(r, q, "tunnel"));
	return 0;
}

static const char *const tunnel_head[] = {"STATE", "TUNNEL", NULL};

static int tunnel_row(const struct report *r, const struct rec *q,
		      char cells[COLS_MAX][CELL])
{
	snprintf(cells[0], CELL, "%s", get(r, q, "state"));
	snprintf(cells[1], CELL, "%s", get(r, q, "name"));
	return 0;
}

static const char *const control_head[] = {"ID",
					   "SESSION",
					   "PROGRAM'S DESTINATION",
					   "FTP SERVER (FROM SSH SERVER)",
					   "UP",
					   "BYTES UP",
					   "BYTES DOWN",
					   NULL};

static int control_row(const struct report *r, const struct rec *q,
		       char cells[COLS_MAX][CELL])
{
	snprintf(cells[0], CELL, "%s", get(r, q, "id"));
	snprintf(cells[1], CELL, "%s", get(r, q, "session"));
	snprintf(cells[2], CELL, "%s", get(r, q, "dst"));
	snprintf(cells[3], CELL, "%s", get(r, q, "ftp_server"));
	fmt_age(get(r, q, "uptime"), cells[4], CELL);
	fmt_bytes(get(r, q, "bytes_up"), cells[5], CELL);
	fmt_bytes(get(r, q, "bytes_down"), cells[6], CELL);
	return 0;
}

static void control_details(const struct report *r, const struct rec *c)
{
	char up[32], down[32], age[32];
	size_t i;

	if (*get(r, c, "tunnel"))
		printf("      from %s through %s\n",
		       *get(r, c, "client") ? get(r, c, "client") : "?",
		       get(r, c, "tunnel"));
	for (i = 0; i < r->nrec; i++) {
		const struct rec *d = &r->rec[i];

		if (strcmp(d->type, "data") ||
		    strcmp(get(r, d, "control"), get(r, c, "id")))
			continue;
		printf("      data %s: %s%s, up %s, %s up, %s down\n",
		       get(r, d, "n"), get(r, d, "mode"),
		       strcmp(get(r, d, "converted"), "1")
			   ? ""
			   : " (passive to the server)",
		       fmt_age(get(r, d, "uptime"), age, sizeof(age)),
		       fmt_bytes(get(r, d, "bytes_up"), up, sizeof(up)),
		       fmt_bytes(get(r, d, "bytes_down"), down, sizeof(down)));
	}
}

/* Uptime, what was served and what runs now, of a daemon or process
 * record p and its totals t. */
static void print_counts(const struct report *r, const struct rec *p,
			 const struct rec *t)
{
	char a[32], b[32];

	printf("uptime:      %s\n", fmt_age(get(r, p, "uptime"), a, sizeof(a)));
	printf("served:      %s FTP control connection(s)\n",
	       get(r, p, "connections"));
	printf("now:         %s SSH session(s), %s FTP control connection(s), "
	       "%s data connection(s)\n",
	       get(r, t, "sessions"), get(r, t, "controls"),
	       get(r, t, "data_channels"));
	printf("bytes:       %s up, %s down\n",
	       fmt_bytes(get(r, t, "bytes_up"), a, sizeof(a)),
	       fmt_bytes(get(r, t, "bytes_down"), b, sizeof(b)));
}

/* A foreground process's report, after the daemon's. */
static void print_foreground(const struct report *r)
{
	const struct rec *p = first_of(r, "process"),
			 *t = first_of(r, "totals");

	if (!p || !t)
		return;
	printf("\n== foreground ftp-tunnel, pid %s: %s%s\n", get(r, p, "pid"),
	       *get(r, p, "profile") ? "profile " : "", get(r, p, "name"));
	printf("command:     %s\n", get(r, p, "command"));
	print_counts(r, p, t);
	print_table(r, "Tunnels", "tunnel", tunnel_head, tunnel_row, NULL);
	print_table(r, "SSH sessions", "session", session_head, session_row,
		    session_details);
	print_table(r, "FTP control connections", "control", control_head,
		    control_row, control_details);
}

static void print_human(const struct report *r)
{
	const struct rec *d = first_of(r, "daemon"), *t = first_of(r, "totals");
	size_t i;

	if (r->format < 2 || !d || !t) {
		/* An older daemon: its pairs as "key: value". */
		for (i = 0; i < r->nkv; i++) {
			char key[80];

			snprintf(key, sizeof(key), "%s:", r->kv[i].key);
			printf("%-12s %s\n", key, r->kv[i].val);
		}
		return;
	}
	printf("pid:         %s\n", get(r, d, "pid"));
	printf("version:     %s\n", get(r, d, "version"));
	print_counts(r, d, t);
	print_table(r, "SSH sessions", "session", session_head, session_row,
		    session_details);
	print_table(r, "FTP control connections", "control", control_head,
		    control_row, control_details);
	print_table(r, "Held tunnels (ftp-tunnel -f)", "held", held_head,
		    held_row, NULL);
}

/* One report from the socket at path into r. 0, or -errno (-EPROTO after
 * printing an ERR reply's message). */
static int report_from(const char *path, int timeout_s, struct report *r)
{
	int s = ipc_connect(path, timeout_s), rc;

	if (s < 0)
		return s;
	rc = fetch_report(s, r);
	close(s);
	if (rc == 0)
		rc = parse_report(r);
	return rc;
}

/* The daemon's report into r. 1 when it has one, 0 when no daemon runs,
 * -1 after saying why it did not answer. */
static int daemon_report(struct report *r)
{
	char path[108];
	int rc;

	if (ipc_socket_path(getuid(), path, sizeof(path)) < 0 ||
	    ipc_check_dir(path, getuid(), 0) < 0)
		return 0;
	rc = report_from(path, DAEMON_TIMEOUT_S, r);
	if (rc == -ENOENT || rc == -ECONNREFUSED)
		return 0;
	if (rc == -EPROTO)
		return -1;
	if (rc < 0) {
		request_failed(path, rc);
		return -1;
	}
	return 1;
}

/* Calls fn(pid, path, arg) for each foreground process's socket (fgsock.h)
 * in the user's socket directory, in pid order; fn returns 0 or what
 * talking to it failed with (-errno; -EPROTO when fn said why). A socket
 * nobody listens on whose process is gone (killed before it could remove
 * it) is removed. The number of processes that answered. */
static int each_foreground(int (*fn)(int pid, const char *path, void *arg),
			   void *arg)
{
	char path[108], why[512];
	int pids[FG_MAX], n = 0, i, j, dfd, lfd;
	struct dirent *e;
	DIR *dir;

	if (fgsock_path(getpid(), path, sizeof(path)) < 0)
		return 0;
	/* The directory as checked (ours, 0700, no link on the way), and
	 * only through that descriptor. */
	dfd = ipc_dir_open(path, getuid(), 0, why, sizeof(why));
	if (dfd < 0)
		return 0;
	lfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = lfd >= 0 ? fdopendir(lfd) : NULL;
	if (!dir) {
		if (lfd >= 0)
			close(lfd);
		close(dfd);
		return 0;
	}
	while ((e = readdir(dir)) && n < FG_MAX) {
		int pid = (int)fgsock_name_pid(e->d_name);

		if (pid <= 0)
			continue;
		for (i = n; i > 0 && pids[i - 1] > pid; i--)
			pids[i] = pids[i - 1];
		pids[i] = pid;
		n++;
	}
	closedir(dir);
	for (i = j = 0; i < n; i++) {
		char name[64];
		int rc;

		if (fgsock_path(pids[i], path, sizeof(path)) < 0)
			continue;
		rc = fn(pids[i], path, arg);
		/* Nobody listens: a socket whose process died (SIGKILL, a
		 * crash). A live process of that pid may be making a new
		 * one: only a dead one's is removed. */
		if ((rc == -ECONNREFUSED || rc == -ENOENT) &&
		    pid_gone(pids[i])) {
			snprintf(name, sizeof(name), "%s%d%s", FGSOCK_PREFIX,
				 pids[i], FGSOCK_SUFFIX);
			unlinkat(dfd, name, 0);
			continue;
		}
		if (rc == -ECONNREFUSED || rc == -ENOENT)
			continue;
		if (rc < 0 && rc != -EPROTO)
			fprintf(stderr,
				"ftp-tunnel: ftp-tunnel pid %d did not answer "
				"on %s: %s\n",
				pids[i], path, strerror(-rc));
		j += rc == 0;
	}
	close(dfd);
	return j;
}

/* Foreground processes' reports, gathered by each_foreground. */
struct fg_list {
	struct report r[FG_MAX];
	size_t n;
};

static int fg_collect(int pid, const char *path, void *arg)
{
	struct fg_list *l = arg;
	struct report *r = &l->r[l->n];
	int rc;

	(void)pid;
	memset(r, 0, sizeof(*r));
	rc = report_from(path, FG_TIMEOUT_S, r);
	if (rc == 0 && r->format < 2)
		rc = -EPROTO; /* every foreground process speaks format 2 */
	if (rc == 0)
		l->n++;
	else
		report_free(r);
	return rc;
}

static int do_status(int json)
{
	struct report d = {0};
	struct fg_list *fg = calloc(1, sizeof(*fg));
	size_t i;
	int have, rc = 1;

	if (!fg) {
		fprintf(stderr, "ftp-tunnel: out of memory\n");
		return 1;
	}
	have = daemon_report(&d);
	each_foreground(fg_collect, fg);
	if (have < 0 && !fg->n)
		goto out;
	if (have <= 0 && !fg->n) {
		fprintf(stderr, "ftp-tunnel: no daemon is running and no "
				"foreground ftp-tunnel either\n");
		goto out;
	}
	if (json) {
		print_json(have > 0 ? &d : NULL, fg->r, fg->n);
	} else {
		if (have > 0)
			print_human(&d);
		else
			printf("ftp-tunneld: not running\n");
		for (i = 0; i < fg->n; i++)
			print_foreground(&fg->r[i]);
	}
	rc = fflush(stdout) == 0 && have >= 0 ? 0 : 1;
out:
	report_free(&d);
	for (i = 0; i < fg->n; i++)
		report_free(&fg->r[i]);
	free(fg);
	return rc;
}

/* --- stop ------------------------------------------------------------- */

/* Whether process pid has ended (a zombie has: it only waits for its
 * parent to notice). */
static int pid_gone(int pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return kill(pid, 0) < 0 && errno == ESRCH;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && (p[2] == 'Z' || p[2] == 'X');
}

/* Waits until pid has ended (DAEMON_TIMEOUT_S at most). 0 or -1. */
static int wait_gone(int pid)
{
	struct timespec pause = {0, 50 * 1000 * 1000};
	int i;

	for (i = 0; i < DAEMON_TIMEOUT_S * 20; i++) {
		if (pid_gone(pid))
			return 0;
		nanosleep(&pause, NULL);
	}
	return -1;
}

static int do_stop(void)
{
	struct ipc_msg req, m;
	char path[108], v[16];
	struct timespec pause = {0, 50 * 1000 * 1000};
	int fd, rc, pid = 0, i;

	if (daemon_sock_path(path, sizeof(path)) < 0)
		return 1;
	ipc_init(&req, "STOP");
	rc = ipc_call(path, &req, &m, &fd, DAEMON_TIMEOUT_S);
	if (rc < 0)
		return request_failed(path, rc);
	if (fd >= 0)
		close(fd);
	if (reply_is_error(&m))
		return 1;
	if (ipc_get(&m, "pid", 0, v, sizeof(v)) == 0)
		pid = atoi(v);
	/* Gone means the process has ended; a daemon that does not say
	 * its pid is gone when its socket no longer answers. */
	if (pid > 0) {
		i = wait_gone(pid) < 0 ? DAEMON_TIMEOUT_S * 20 : 0;
	} else {
		for (i = 0; i < DAEMON_TIMEOUT_S * 20; i++) {
			if ((fd = ipc_connect(path, DAEMON_TIMEOUT_S)) < 0)
				break;
			close(fd);
			nanosleep(&pause, NULL);
		}
	}
	if (i == DAEMON_TIMEOUT_S * 20) {
		fprintf(stderr,
			"ftp-tunnel: ftp-tunneld (pid %d) was asked to "
			"stop but is still running after %d s\n",
			pid, DAEMON_TIMEOUT_S);
		return 1;
	}
	if (pid > 0)
		printf("ftp-tunneld (pid %d) stopped\n", pid);
	else
		printf("ftp-tunneld stopped\n");
	return 0;
}

/* `stop PID|NAME`: the foreground processes to stop, and how it went. */
struct fg_stop {
	const char *target; /* a pid in decimal, or a name */
	int matched, failed;
};

/* Stops the process behind path when it is the target: by pid, or by
 * the name (profile or destination) its PING reply gives. */
static int fg_stop_one(int pid, const char *path, void *arg)
{
	struct fg_stop *st = arg;
	struct ipc_msg req, m;
	char name[256];
	int fd, rc;

	if (strspn(st->target, "0123456789") == strlen(st->target)) {
		if (atoi(st->target) != pid)
			return 0;
	} else {
		ipc_init(&req, "PING");
		rc = ipc_call(path, &req, &m, &fd, FG_TIMEOUT_S);
		if (rc < 0)
			return rc;
		if (fd >= 0)
			close(fd);
		if (ipc_get(&m, "name", 0, name, sizeof(name)) < 0 ||
		    strcmp(name, st->target))
			return 0;
	}
	st->matched++;
	ipc_init(&req, "STOP");
	rc = ipc_call(path, &req, &m, &fd, FG_TIMEOUT_S);
	if (rc < 0) {
		st->failed++;
		return rc;
	}
	if (fd >= 0)
		close(fd);
	if (reply_is_error(&m)) {
		st->failed++;
		return -EPROTO;
	}
	if (wait_gone(pid) < 0) {
		fprintf(stderr,
			"ftp-tunnel: ftp-tunnel (pid %d) was asked to stop "
			"but is still running after %d s\n",
			pid, DAEMON_TIMEOUT_S);
		st->failed++;
		return -EPROTO;
	}
	printf("ftp-tunnel (pid %d) stopped\n", pid);
	return 0;
}

/* `ftp-tunnel stop PID|NAME`: the foreground ftp-tunnel of that pid, or
 * every one started with that profile or destination. */
static int do_stop_foreground(const char *target)
{
	struct fg_stop st = {.target = target};

	each_foreground(fg_stop_one, &st);
	if (!st.matched) {
		fprintf(stderr,
			"ftp-tunnel: no foreground ftp-tunnel of yours is %s "
			"%s (ftp-tunnel status lists them; ftp-tunnel stop "
			"without an argument stops the daemon)\n",
			strspn(target, "0123456789") == strlen(target)
			    ? "pid"
			    : "named",
			target);
		return 1;
	}
	return st.failed ? 1 : 0;
}

int status_cli_wanted(int argc, char **argv)
{
	return argc >= 2 &&
	       (!strcmp(argv[1], "status") || !strcmp(argv[1], "stop"));
}

int status_cli_main(int argc, char **argv)
{
	const char *target = NULL;
	int json = 0, i;

	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[1], "status") && !strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "-h") ||
			   !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[1], "stop") && !target && argv[i][0] &&
			   argv[i][0] != '-') {
			target = argv[i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!strcmp(argv[1], "stop"))
		return target ? do_stop_foreground(target) : do_stop();
	return do_status(json);
}

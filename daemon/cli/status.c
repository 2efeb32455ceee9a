/* status.c — `ftp-tunnel status [--json]` and `ftp-tunnel stop`.
 * status asks the daemon for the format-2 STATUS reply (docs/IPC.txt),
 * collects its records and prints them as tables or as one JSON object;
 * an older daemon's format-1 reply is printed as it comes. stop asks the
 * daemon to stop and waits until its process is gone. */
#include "status.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "json.h"

#define DAEMON_TIMEOUT_S 10
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
		   "       ftp-tunnel stop\n");
}

/* --- talking to the daemon -------------------------------------------- */

/* The daemon's socket path, or -1 after saying why there is none. */
static int daemon_path(char *path, size_t len)
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

static void json_object(const struct report *r, const char *name,
			const char *type)
{
	const struct rec *q = first_of(r, type);

	printf(",\n  \"%s\": {", name);
	if (q)
		json_members(r, q);
	fputs("}", stdout);
}

/* Every record of the type as an array member named name. */
static void json_array(const struct report *r, const char *name,
		       const char *type)
{
	size_t i;
	int n = 0;

	printf(",\n  \"%s\": [", name);
	for (i = 0; i < r->nrec; i++) {
		if (strcmp(r->rec[i].type, type))
			continue;
		printf("%s\n    {", n++ ? "," : "");
		json_members(r, &r->rec[i]);
		fputs("}", stdout);
	}
	fputs(n ? "\n  ]" : "]", stdout);
}

/* Each control with its data connections nested as "data". */
static void json_controls(const struct report *r)
{
	size_t i, j;
	int nc = 0, nd;

	fputs(",\n  \"controls\": [", stdout);
	for (i = 0; i < r->nrec; i++) {
		const struct rec *c = &r->rec[i];

		if (strcmp(c->type, "control"))
			continue;
		printf("%s\n    {", nc++ ? "," : "");
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
	fputs(nc ? "\n  ]" : "]", stdout);
}

static void print_json(const struct report *r)
{
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
		fputs("]\n}\n", stdout);
		return;
	}
	json_object(r, "daemon", "daemon");
	json_array(r, "sessions", "session");
	json_controls(r);
	json_array(r, "held", "held");
	json_object(r, "totals", "totals");
	fputs("\n}\n", stdout);
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

static void print_human(const struct report *r)
{
	const struct rec *d = first_of(r, "daemon"), *t = first_of(r, "totals");
	char a[32], b[32];
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
	printf("uptime:      %s\n", fmt_age(get(r, d, "uptime"), a, sizeof(a)));
	printf("served:      %s FTP control connection(s)\n",
	       get(r, d, "connections"));
	printf("now:         %s SSH session(s), %s FTP control connection(s), "
	       "%s data connection(s)\n",
	       get(r, t, "sessions"), get(r, t, "controls"),
	       get(r, t, "data_channels"));
	printf("bytes:       %s up, %s down\n",
	       fmt_bytes(get(r, t, "bytes_up"), a, sizeof(a)),
	       fmt_bytes(get(r, t, "bytes_down"), b, sizeof(b)));
	print_table(r, "SSH sessions", "session", session_head, session_row,
		    session_details);
	print_table(r, "FTP control connections", "control", control_head,
		    control_row, control_details);
	print_table(r, "Held tunnels (ftp-tunnel -f)", "held", held_head,
		    held_row, NULL);
}

static int do_status(int json)
{
	struct report r = {0};
	char path[108];
	int s, rc;

	if (daemon_path(path, sizeof(path)) < 0)
		return 1;
	s = ipc_connect(path, DAEMON_TIMEOUT_S);
	if (s < 0)
		return request_failed(path, s);
	rc = fetch_report(s, &r);
	close(s);
	if (rc == -EPROTO) {
		report_free(&r);
		return 1;
	}
	if (rc == 0)
		rc = parse_report(&r);
	if (rc < 0) {
		report_free(&r);
		return request_failed(path, rc);
	}
	if (json)
		print_json(&r);
	else
		print_human(&r);
	report_free(&r);
	return fflush(stdout) == 0 ? 0 : 1;
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

static int do_stop(void)
{
	struct ipc_msg req, m;
	char path[108], v[16];
	struct timespec pause = {0, 50 * 1000 * 1000};
	int fd, rc, pid = 0, i;

	if (daemon_path(path, sizeof(path)) < 0)
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
	for (i = 0; i < DAEMON_TIMEOUT_S * 20; i++) {
		if (pid > 0 ? pid_gone(pid)
			    : (fd = ipc_connect(path, DAEMON_TIMEOUT_S)) < 0)
			break;
		if (pid <= 0)
			close(fd);
		nanosleep(&pause, NULL);
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

int status_cli_wanted(int argc, char **argv)
{
	return argc >= 2 &&
	       (!strcmp(argv[1], "status") || !strcmp(argv[1], "stop"));
}

int status_cli_main(int argc, char **argv)
{
	int json = 0, i;

	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[1], "status") && !strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "-h") ||
			   !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	return !strcmp(argv[1], "stop") ? do_stop() : do_status(json);
}

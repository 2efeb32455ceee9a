/* transport.c — the path to an SSH server that is not a TCP connect of
 * our own: a jump host's direct-tcpip channel (ProxyJump) or a command
 * (ProxyCommand), either carried to the session over a socket pair.
 *
 * A jump host's session runs on a thread of its own (a worker): its
 * cipher work and the server's session's then use two cores, as ssh -J's
 * two processes do. The two threads share the socket pair and, under
 * the lock, what the jump host's side has to report (the socket, or why
 * it failed), which a task on the session's loop delivers. */
#include "transport.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pump.h"
#include "spec.h"
#include "taskq.h"
#include "worker.h"

extern char **environ;

/* How long an ended command has to go after SIGTERM before SIGKILL. */
#define COMMAND_GRACE_MS 1000

struct transport {
	struct loop *loop; /* the session's */
	transport_cb cb;
	void *arg;
	struct taskq *q; /* reports, run on loop */
	char path[600];	 /* transport_path; set before any thread */
	/* Under lock: what either thread has to report. why and pump_why
	 * are written once (while empty), then only read. */
	pthread_mutex_t lock;
	int posted;	/* a report task is queued */
	int fd;		/* the session's end, until handed over */
	int handed;	/* fd handed over */
	int done;	/* the failure reported: nothing more */
	char why[1400]; /* first failure, "" while none */
	/* A channel error of the pump: the jump host's own death, if that
	 * is what it was, is said right after and says more. */
	char pump_why[1400];
	/* ProxyJump, on the worker's thread: the last jump host's session,
	 * and its channel to the server carried into the socket pair by a
	 * pump. */
	struct worker *w;
	char hop[256]; /* the jump host as given, for messages */
	struct ssh_sess *sess;
	struct pump *pump;
	char dst_host[256];
	uint16_t dst_port;
	/* ProxyCommand. */
	char cmd[SSH_PROXY_MAX * 2]; /* expanded, for messages */
	pid_t pid;		     /* 0: none, or reaped */
	pid_t pgid;		     /* its process group, 0: none */
	int pidfd;		     /* readable once it exits, or -1 */
	int errfd;		     /* its stderr, -1 once at EOF */
	char errline[300];	     /* its last line on stderr */
	size_t errlen;
	struct loop_timer *reap_timer;
};

int transport_wanted(const struct ssh_opts *o)
{
	return o->proxy_jump[0] || o->proxy_command[0];
}

const char *transport_path(const struct transport *t)
{
	return t ? t->path : "";
}

const char *transport_why(const struct transport *t)
{
	struct transport *u = (struct transport *)t; /* the lock */
	const char *why;

	if (!t)
		return NULL;
	pthread_mutex_lock(&u->lock);
	why = t->why[0] ? t->why : t->pump_why[0] ? t->pump_why : NULL;
	pthread_mutex_unlock(&u->lock);
	return why;
}

/* Delivers, on the session's loop, the failure or else the socket. The
 * callback may free t: nothing touches t after it. */
static void report_task(struct loop *loop, void *arg)
{
	struct transport *t = arg;
	char why[sizeof(t->why)];
	int fd = -1;

	(void)loop;
	why[0] = '\0';
	pthread_mutex_lock(&t->lock);
	t->posted = 0;
	if (!t->done) {
		if (!t->why[0] && t->pump_why[0])
			memcpy(t->why, t->pump_why, sizeof(t->why));
		if (t->why[0]) {
			t->done = 1;
			memcpy(why, t->why, sizeof(why));
			if (t->fd >= 0)
				close(t->fd);
			t->fd = -1;
		} else if (t->fd >= 0 && !t->handed) {
			fd = t->fd;
			t->fd = -1;
			t->handed = 1;
		}
	}
	pthread_mutex_unlock(&t->lock);
	if (why[0])
		t->cb(-1, why, t->arg);
	else if (fd >= 0)
		t->cb(fd, NULL, t->arg);
}

/* Queues report_task unless it is queued already. With lock held. */
static void report_locked(struct transport *t)
{
	if (t->posted)
		return;
	if (taskq_post(t->q, report_task, t) == 0)
		t->posted = 1;
	else
		log_err("transport %s: out of memory: a report is lost",
			t->path);
}

/* Records the first failure and reports it. Either thread. */
static void fail(struct transport *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fail(struct transport *t, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&t->lock);
	if (!t->why[0]) {
		va_start(ap, fmt);
		vsnprintf(t->why, sizeof(t->why), fmt, ap);
		va_end(ap);
		log_debug("transport %s: %s", t->path, t->why);
		report_locked(t);
	}
	pthread_mutex_unlock(&t->lock);
}

/* A hop's own message, named by the hop unless a hop further out already
 * named itself ("jump host a: jump host b: ..." says nothing more). */
static void fail_hop(struct transport *t, const char *msg)
{
	if (!strncmp(msg, "jump host ", 10))
		fail(t, "%s", msg);
	else
		fail(t, "jump host %s: %s", t->hop, msg);
}

/* --- ProxyJump ---------------------------------------------------------- */

static void pump_done(struct pump *p, const char *why, void *arg)
{
	struct transport *t = arg;

	(void)p;
	t->pump = NULL;
	/* A jump host that died says why itself (hop_event, right after);
	 * an orderly close is the server's, and the session sees it. */
	if (why && !ssh_sess_dead(t->sess)) {
		pthread_mutex_lock(&t->lock);
		if (!t->pump_why[0]) {
			snprintf(t->pump_why, sizeof(t->pump_why),
				 "jump host %s: the channel to %s port %u "
				 "broke: %s",
				 t->hop, t->dst_host, t->dst_port, why);
			report_locked(t);
		}
		pthread_mutex_unlock(&t->lock);
	}
}

static void open_done(struct ssh_sess *s, LIBSSH2_CHANNEL *ch, const char *err,
		      void *arg)
{
	struct transport *t = arg;
	char name[96];
	int sv[2];

	if (!ch) {
		fail_hop(t, err);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) < 0) {
		ssh_chan_discard(s, ch);
		fail(t, "jump host %s: cannot make a socket pair: %s", t->hop,
		     strerror(errno));
		return;
	}
	snprintf(name, sizeof(name), "jump %.40s>%.40s:%u", t->hop, t->dst_host,
		 t->dst_port);
	t->pump = pump_new(s, ch, sv[0], name, pump_done, t);
	if (!t->pump) {
		close(sv[1]);
		fail(t, "jump host %s: out of memory", t->hop);
		return;
	}
	log_info("jump host %s: channel to %s port %u open", t->hop,
		 t->dst_host, t->dst_port);
	pthread_mutex_lock(&t->lock);
	t->fd = sv[1];
	report_locked(t);
	pthread_mutex_unlock(&t->lock);
}

static void hop_event(struct ssh_sess *s, enum ssh_event ev, const char *msg,
		      void *arg)
{
	struct transport *t = arg;
	long id;

	if (ev != SSH_EV_READY) {
		fail_hop(t, msg);
		return;
	}
	id = ssh_open_direct(s, t->dst_host, t->dst_port, "127.0.0.1", 0,
			     open_done, t);
	if (id < 0)
		fail(t, "jump host %s: cannot open a channel to %s port %u: %s",
		     t->hop, t->dst_host, t->dst_port, strerror((int)-id));
}

/* Copies into h what the hop does not set itself: how strict, where the
 * known hosts are, whether anybody may be asked, and the timers. Its
 * identities stay its own, as with ssh -J. */
static int inherit(struct ssh_opts *h, const struct ssh_opts *o)
{
	int i;

	if (!(h->set & SSH_SET_KNOWN_HOSTS)) {
		for (i = 0; i < o->nknown_hosts; i++) {
			h->known_hosts[i] = strdup(o->known_hosts[i]);
			if (!h->known_hosts[i])
				return -1;
			h->nknown_hosts = i + 1;
		}
		h->set |= o->set & SSH_SET_KNOWN_HOSTS;
	}
	if (!(h->set & SSH_SET_STRICT)) {
		h->strict = o->strict;
		h->set |= o->set & SSH_SET_STRICT;
	}
	if (!(h->set & SSH_SET_CONNECT_TIMEOUT))
		h->connect_timeout = o->connect_timeout;
	if (!(h->set & SSH_SET_ALIVE_INTERVAL))
		h->alive_interval = o->alive_interval;
	if (!(h->set & SSH_SET_ALIVE_COUNT))
		h->alive_count_max = o->alive_count_max;
	h->batch_mode |= o->batch_mode;
	h->no_auth_prompt |= o->no_auth_prompt;
	return 0;
}

/* The last jump host of o's list, with its own settings: the hosts
 * before it become its ProxyJump (as ssh -J a,b makes b's ssh run with
 * -J a), ssh_config fills in the rest. 0, or -1 with t->why set. */
static int hop_opts(struct transport *t, const struct ssh_opts *o,
		    struct ssh_opts *h)
{
	char list[SSH_PROXY_MAX], err[1200], user[128] = "", host[256];
	char *last, *hop, *arg[1] = {list};
	uint16_t port = 0;

	snprintf(list, sizeof(list), "%s", o->proxy_jump);
	last = strrchr(list, ',');
	hop = last ? last + 1 : list;
	if (last)
		*last = '\0';
	if (!strncasecmp(hop, "ssh://", 6))
		hop += 6;
	if (spec_parse_dest(hop, user, sizeof(user), host, sizeof(host),
			    &port) < 0) {
		fail(t, "ProxyJump: bad jump host '%s'", hop);
		return -1;
	}
	snprintf(t->hop, sizeof(t->hop), "%s", host);
	/* OpenSSH's check: a server that is its own last jump host. */
	if ((!strcasecmp(host, o->host) ||
	     (o->alias[0] && !strcasecmp(host, o->alias))) &&
	    (port ? port : 22) == o->port &&
	    !strcmp(user[0] ? user : o->user, o->user)) {
		fail(t,
		     "jump host %s: a ProxyJump loop (%s is its own jump host; "
		     "give it ProxyJump none in its Host block)",
		     host, host);
		return -1;
	}
	if (o->jump_depth + 1 > SSH_MAX_JUMPS) {
		fail(
		    t,
		    "jump host %s: more than %d jump hosts in a row: ProxyJump "
		    "settings that lead back to each other? (give the first "
		    "jump host ProxyJump none)",
		    host, SSH_MAX_JUMPS);
		return -1;
	}
	if (ssh_opts_set_dest(h, hop) < 0) {
		fail(t, "ProxyJump: bad jump host '%s'", hop);
		return -1;
	}
	if (last && ssh_opts_apply(h, "ProxyJump", arg, 1, SSH_APPLY_REPLACE,
				   err, sizeof(err)) < 0) {
		fail(t, "jump host %s: %s", host, err);
		return -1;
	}
	h->jump_depth = o->jump_depth + 1;
	h->resolve = o->resolve;
	if (h->resolve && h->resolve(h, err, sizeof(err)) < 0) {
		fail(t, "jump host %s: %s", host, err);
		return -1;
	}
	if (!h->user[0])
		snprintf(h->user, sizeof(h->user), "%s", o->user);
	if (inherit(h, o) < 0) {
		fail(t, "jump host %s: out of memory", host);
		return -1;
	}
	return 0;
}

/* The jump host's session is made on the worker's loop before its
 * thread starts (its ssh_config is read here, on the caller's thread, as
 * the server's was); from then on only the worker touches it. */
static void start_jump(struct transport *t, const struct ssh_opts *o)
{
	struct ssh_opts h;
	struct ssh_sess_info info;

	ssh_opts_init(&h);
	snprintf(t->dst_host, sizeof(t->dst_host), "%s", o->host);
	t->dst_port = o->port;
	if (hop_opts(t, o, &h) < 0) {
		snprintf(t->path, sizeof(t->path), "%s", t->hop);
		ssh_opts_release(&h);
		return;
	}
	t->w = worker_new();
	if (t->w)
		t->sess = ssh_sess_new(worker_loop(t->w), &h, hop_event, t);
	ssh_opts_release(&h);
	if (!t->sess) {
		worker_free(t->w);
		t->w = NULL;
		fail(t, "jump host %s: out of memory", t->hop);
		return;
	}
	ssh_sess_info(t->sess, &info);
	snprintf(t->path, sizeof(t->path), "%s%s%s", info.via,
		 info.via[0] ? " → " : "", t->hop);
	log_info("%s port %u: through jump host %s (%s)", o->host, o->port,
		 t->hop, ssh_sess_name(t->sess));
	if (worker_start(t->w) < 0) {
		ssh_sess_free(t->sess);
		t->sess = NULL;
		worker_free(t->w);
		t->w = NULL;
		fail(t, "jump host %s: cannot start a thread", t->hop);
	}
}

/* On the worker: the jump host's side ends, and the worker with it. */
static void stop_jump(struct loop *loop, void *arg)
{
	struct transport *t = arg;

	pump_abort(t->pump);
	t->pump = NULL;
	ssh_sess_free(t->sess);
	t->sess = NULL;
	loop_stop(loop);
}

/* --- ProxyCommand ------------------------------------------------------- */

/* A value a token may put into a shell command: nothing the shell would
 * read as syntax (OpenSSH refuses such host and user names too), so a
 * name can never add a command of its own. */
static int shell_safe(const char *v)
{
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && !strchr("._-@:[]%+", *v))
			return 0;
	return 1;
}

/* The command with OpenSSH's tokens replaced: %h the host connected to,
 * %p its port, %r the user, %n the name as given, %% a '%'. 0, -1 when
 * too long, -2 for a name that is not shell_safe. */
static int expand_command(const struct ssh_opts *o, char *out, size_t len)
{
	const char *in = o->proxy_command;
	size_t n = 0;
	char num[8];

	for (; *in; in++) {
		const char *v;

		if (*in != '%') {
			if (n + 1 >= len)
				return -1;
			out[n++] = *in;
			continue;
		}
		switch (*++in) {
		case 'h':
			v = o->host;
			break;
		case 'p':
			snprintf(num, sizeof(num), "%u", o->port);
			v = num;
			break;
		case 'r':
			v = o->user;
			break;
		case 'n':
			v = o->alias[0] ? o->alias : o->host;
			break;
		case '%':
			v = "%";
			break;
		default:
			return -1; /* checked when set */
		}
		if (!shell_safe(v))
			return -2;
		if (n + strlen(v) >= len)
			return -1;
		memcpy(out + n, v, strlen(v));
		n += strlen(v);
	}
	out[n] = '\0';
	return 0;
}

static void reap_cb(struct loop *loop, void *arg);
static int read_stderr(struct transport *t);

/* The command's status, once it is gone: a failure unless the session
 * already ended it. */
static int reap(struct transport *t)
{
	int status;
	pid_t r;

	if (t->pid <= 0)
		return 1;
	r = waitpid(t->pid, &status, WNOHANG);
	if (r == 0)
		return 0;
	t->pid = 0;
	if (r < 0) /* ECHILD: somebody else reaped it */
		status = 0;
	if (WIFSIGNALED(status))
		fail(t, "ProxyCommand '%s' was killed by signal %d%s%s", t->cmd,
		     WTERMSIG(status), t->errline[0] ? ": " : "", t->errline);
	else
		fail(t, "ProxyCommand '%s' exited with status %d%s%s", t->cmd,
		     WEXITSTATUS(status), t->errline[0] ? ": " : "",
		     t->errline);
	return 1;
}

/* The command exited: the session cannot go on without it, even when
 * something it started still holds the socket open. */
static void pidfd_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct transport *t = arg;

	(void)events;
	loop_unwatch(loop, fd);
	close(fd);
	t->pidfd = -1;
	/* Its last words first, for the message. */
	while (t->errfd >= 0 && read_stderr(t))
		;
	if (!reap(t))
		loop_timer_arm(t->reap_timer, 50);
}

static void reap_cb(struct loop *loop, void *arg)
{
	struct transport *t = arg;

	(void)loop;
	if (!reap(t))
		loop_timer_arm(t->reap_timer, 50);
}

/* The command's stderr goes to our log, a line at a time; the last line
 * is kept for the message if it exits. Its EOF means it is exiting. */
static int read_stderr(struct transport *t)
{
	char buf[1024];
	int fd = t->errfd;
	ssize_t n;

	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n > 0) {
		ssize_t i;

		for (i = 0; i < n; i++) {
			if (buf[i] == '\n' ||
			    t->errlen + 1 >= sizeof(t->errline)) {
				t->errline[t->errlen] = '\0';
				if (t->errlen)
					log_warn("ProxyCommand: %s",
						 t->errline);
				t->errlen = 0;
				continue;
			}
			if (buf[i] != '\r')
				t->errline[t->errlen++] = buf[i];
		}
		t->errline[t->errlen] = '\0';
		return 1;
	}
	loop_unwatch(t->loop, fd);
	close(fd);
	t->errfd = -1;
	if (t->errlen)
		log_warn("ProxyCommand: %s", t->errline);
	if (!reap(t))
		loop_timer_arm(t->reap_timer, 50);
	return 0;
}

static void stderr_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop;
	(void)fd;
	(void)events;
	read_stderr(arg);
}

static void start_command(struct transport *t, const struct ssh_opts *o)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	char shell_cmd[sizeof(t->cmd) + 8];
	char *argv[] = {"/bin/sh", "-c", shell_cmd, NULL};
	int sv[2], ep[2], rc;

	snprintf(t->path, sizeof(t->path), "ProxyCommand");
	switch (expand_command(o, t->cmd, sizeof(t->cmd))) {
	case 0:
		break;
	case -2:
		fail(t,
		     "ProxyCommand '%s': the host or user name has characters "
		     "a shell would interpret; refused",
		     o->proxy_command);
		return;
	default:
		fail(t, "ProxyCommand: too long once its tokens are expanded");
		return;
	}
	/* exec: the shell becomes the command, so the process we end is the
	 * command itself (as ssh does it). */
	snprintf(shell_cmd, sizeof(shell_cmd), "exec %s", t->cmd);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		fail(t, "ProxyCommand: cannot make a socket pair: %s",
		     strerror(errno));
		return;
	}
	if (pipe2(ep, O_CLOEXEC) < 0) {
		fail(t, "ProxyCommand: cannot make a pipe: %s",
		     strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
	posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
	/* Nothing else of ours: a descriptor some module left without
	 * close-on-exec would outlive its connection in the command. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	posix_spawnattr_init(&attr);
	/* Its own process group, so that ending it ends what it started;
	 * signals as a fresh program has them (our loops block some and
	 * ignore SIGPIPE). */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
					    POSIX_SPAWN_SETSIGMASK |
					    POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&t->pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sv[1]);
	close(ep[1]);
	if (rc) {
		t->pid = 0;
		close(sv[0]);
		close(ep[0]);
		fail(t, "ProxyCommand '%s': cannot start /bin/sh: %s", t->cmd,
		     strerror(rc));
		return;
	}
	t->pgid = t->pid;
	log_info("ProxyCommand '%s': pid %ld", t->cmd, (long)t->pid);
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	fcntl(ep[0], F_SETFL, fcntl(ep[0], F_GETFL) | O_NONBLOCK);
	t->errfd = ep[0];
	if (loop_watch(t->loop, ep[0], EPOLLIN, stderr_cb, t) < 0) {
		close(ep[0]);
		t->errfd = -1;
	}
	/* Without pidfds (Linux < 5.3) the end of its stderr stands in. */
	t->pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
	if (t->pidfd >= 0 &&
	    loop_watch(t->loop, t->pidfd, EPOLLIN, pidfd_cb, t) < 0) {
		close(t->pidfd);
		t->pidfd = -1;
	}
	pthread_mutex_lock(&t->lock);
	t->fd = sv[0];
	report_locked(t);
	pthread_mutex_unlock(&t->lock);
}

/* Ends the command and what it started: SIGTERM to the group, SIGKILL
 * after the grace time. Blocks that long at most. */
static void end_command(struct transport *t)
{
	struct timespec tick = {0, 10 * 1000 * 1000};
	int i;

	if (t->pgid <= 0)
		return;
	/* Even when the command itself is gone: what it started may not be. */
	kill(-t->pgid, SIGTERM);
	for (i = 0; t->pid > 0 && i < COMMAND_GRACE_MS / 10; i++) {
		if (waitpid(t->pid, NULL, WNOHANG) != 0)
			t->pid = 0;
		else
			nanosleep(&tick, NULL);
	}
	if (t->pid > 0) {
		log_warn("ProxyCommand '%s' (pid %ld) ignored SIGTERM: killed",
			 t->cmd, (long)t->pid);
		kill(-t->pgid, SIGKILL);
		waitpid(t->pid, NULL, 0);
		t->pid = 0;
	}
	t->pgid = 0;
}

/* --- both --------------------------------------------------------------- */

struct transport *transport_new(struct loop *loop, const struct ssh_opts *o,
				transport_cb cb, void *arg)
{
	struct transport *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->loop = loop;
	t->cb = cb;
	t->arg = arg;
	t->fd = t->errfd = t->pidfd = -1;
	pthread_mutex_init(&t->lock, NULL);
	t->q = taskq_new(loop);
	t->reap_timer = loop_timer_new(loop, reap_cb, t);
	if (!t->q || !t->reap_timer) {
		taskq_free(t->q);
		loop_timer_free(t->reap_timer);
		pthread_mutex_destroy(&t->lock);
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	if (o->proxy_jump[0])
		start_jump(t, o);
	else
		start_command(t, o);
	return t;
}

void transport_free(struct transport *t)
{
	if (!t)
		return;
	/* The worker first: after stop_jump nothing posts a report. */
	if (t->w) {
		worker_call(t->w, stop_jump, t);
		worker_free(t->w);
	}
	taskq_free(t->q); /* a report still queued is dropped */
	loop_timer_free(t->reap_timer);
	if (t->errfd >= 0) {
		loop_unwatch(t->loop, t->errfd);
		close(t->errfd);
	}
	if (t->pidfd >= 0) {
		loop_unwatch(t->loop, t->pidfd);
		close(t->pidfd);
	}
	if (t->fd >= 0)
		close(t->fd);
	end_command(t);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* real.c — finds libc's functions behind the shim's hooks (dlsym RTLD_NEXT,
 * once), with raw system calls as the last resort, so a hook can never end up
 * calling itself. */
#define _GNU_SOURCE
#include "shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct shim_real shim_real;

/* Any object of this file: dladdr() on it names the shim's own module. */
static const char self_marker;

static int sys_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	return (int)syscall(SYS_connect, fd, sa, len);
}

static int sys_getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	return (int)syscall(SYS_getpeername, fd, sa, len);
}

static int sys_accept4(int fd, struct sockaddr *sa, socklen_t *len, int fl)
{
	return (int)syscall(SYS_accept4, fd, sa, len, fl);
}

static int sys_accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	return sys_accept4(fd, sa, len, 0);
}

static int sys_close(int fd)
{
	return (int)syscall(SYS_close, fd);
}

static ssize_t sys_sendto(int fd, const void *buf, size_t n, int flags,
			  const struct sockaddr *sa, socklen_t len)
{
	return syscall(SYS_sendto, fd, buf, n, flags, sa, len);
}

static ssize_t sys_sendmsg(int fd, const struct msghdr *m, int flags)
{
	return syscall(SYS_sendmsg, fd, m, flags);
}

/* Whether p lies in the module that holds this file (the shim itself, or
 * the wrapper): RTLD_NEXT can hand back our own hook when the shim was
 * loaded in an unusual order (dlopen'ed twice, or linked in). */
static int is_self(void *p)
{
	Dl_info a, b;

	if (!dladdr(p, &a) || !dladdr(&self_marker, &b))
		return 0;
	return a.dli_fbase == b.dli_fbase;
}

/* libc's name, or NULL: RTLD_NEXT first (what follows the shim in the
 * lookup order: another preload, then libc), then libc.so.6 itself. */
static void *resolve(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	void *libc;

	if (p && !is_self(p))
		return p;
	libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	if (libc) {
		p = dlsym(libc, name);
		dlclose(libc);
		if (p && !is_self(p))
			return p;
	}
	return NULL;
}

static void init_once(void)
{
	void *p;

	/* ISO C forbids converting void * to a function pointer, but POSIX
	 * requires dlsym's result to be usable so; memcpy says exactly that. */
	p = resolve("connect");
	shim_real.connect = sys_connect;
	if (p)
		memcpy(&shim_real.connect, &p, sizeof(p));
	p = resolve("getpeername");
	shim_real.getpeername = sys_getpeername;
	if (p)
		memcpy(&shim_real.getpeername, &p, sizeof(p));
	p = resolve("accept");
	shim_real.accept = sys_accept;
	if (p)
		memcpy(&shim_real.accept, &p, sizeof(p));
	p = resolve("accept4");
	shim_real.accept4 = sys_accept4;
	if (p)
		memcpy(&shim_real.accept4, &p, sizeof(p));
	p = resolve("close");
	shim_real.close = sys_close;
	if (p)
		memcpy(&shim_real.close, &p, sizeof(p));
	p = resolve("sendto");
	shim_real.sendto = sys_sendto;
	if (p)
		memcpy(&shim_real.sendto, &p, sizeof(p));
	p = resolve("sendmsg");
	shim_real.sendmsg = sys_sendmsg;
	if (p)
		memcpy(&shim_real.sendmsg, &p, sizeof(p));
	/* No system call behind these: NULL if libc lacks them. */
	p = resolve("getaddrinfo");
	if (p)
		memcpy(&shim_real.getaddrinfo, &p, sizeof(p));
	p = resolve("gethostbyname");
	if (p)
		memcpy(&shim_real.gethostbyname, &p, sizeof(p));
	p = resolve("gethostbyname2");
	if (p)
		memcpy(&shim_real.gethostbyname2, &p, sizeof(p));
	p = resolve("gethostbyname_r");
	if (p)
		memcpy(&shim_real.gethostbyname_r, &p, sizeof(p));
	p = resolve("gethostbyname2_r");
	if (p)
		memcpy(&shim_real.gethostbyname2_r, &p, sizeof(p));

	shim_cfg_load();
	if (shim_cfg.enabled)
		shim_reg_atfork();
	shim_debug("loaded: %s (via %s)",
		   shim_cfg.enabled ? "routing" : "no FTP_TUNNEL_VIA",
		   shim_cfg.enabled ? shim_cfg.via : "-");
}

void shim_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int saved = errno;

	pthread_once(&once, init_once);
	/* A hook that falls straight through must leave errno as libc would. */
	errno = saved;
}

/* real.c — finds libc's functions behind the shim's hooks (dlsym RTLD_NEXT,
 * once), with raw system calls as the last resort, so a hook can never end up
 * calling itself. */
#define _GNU_SOURCE
#include "shim.h"

#include <dlfcn.h>
#include <link.h>
#include <stdatomic.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct shim_real shim_real;

/* Any object of this file: it lies in the shim's own module. */
static const char self_marker;

/* The address range of the module holding this file (the shim itself, or
 * the wrapper), found once by the first hook. */
static uintptr_t self_lo, self_hi;

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

/* dl_iterate_phdr callback: records the extent of the loaded segments of
 * the module that holds self_marker. */
static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t me = (uintptr_t)&self_marker, lo = UINTPTR_MAX, hi = 0;
	int i;

	(void)size;
	(void)arg;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD)
			continue;
		if (start < lo)
			lo = start;
		if (start + ph->p_memsz > hi)
			hi = start + ph->p_memsz;
	}
	if (me < lo || me >= hi)
		return 0;
	self_lo = lo;
	self_hi = hi;
	return 1;
}

/* Whether p lies in the shim's own module: RTLD_NEXT can hand back our own
 * hook when the shim was loaded in an unusual order (dlopen'ed twice, or
 * linked in). An address range, not dladdr(): dladdr() searches the whole
 * symbol table of libc for a name, ~50 000 instructions a call. */
static int is_self(void *p)
{
	return (uintptr_t)p >= self_lo && (uintptr_t)p < self_hi;
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

static void resolve_all(void)
{
	void *p;

	dl_iterate_phdr(find_self, NULL);
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
}

static void load_env(void)
{
	shim_init_real();
	shim_cfg_load();
	if (shim_cfg.enabled)
		shim_reg_atfork();
	shim_debug("loaded: %s (via %s)",
		   shim_cfg.enabled ? "routing" : "no FTP_TUNNEL_VIA",
		   shim_cfg.enabled ? shim_cfg.via : "-");
}

/* Set (release) once the once-function finished: after that a hook's only
 * cost is this load, not a call to pthread_once and errno kept around it. */
static atomic_int real_ready, env_ready;

/* Runs fn once (pthread_once) and marks *ready; errno as it was. */
static void once(pthread_once_t *o, void (*fn)(void), atomic_int *ready)
{
	int saved = errno;

	pthread_once(o, fn);
	atomic_store_explicit(ready, 1, memory_order_release);
	/* A hook that falls straight through must leave errno as libc would. */
	errno = saved;
}

void shim_init_real(void)
{
	static pthread_once_t o = PTHREAD_ONCE_INIT;

	if (!atomic_load_explicit(&real_ready, memory_order_acquire))
		once(&o, resolve_all, &real_ready);
}

void shim_init(void)
{
	static pthread_once_t o = PTHREAD_ONCE_INIT;

	if (!atomic_load_explicit(&env_ready, memory_order_acquire))
		once(&o, load_env, &env_ready);
}

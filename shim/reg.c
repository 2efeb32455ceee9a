/* reg.c — the registry of descriptors the shim intercepted: which fd is a
 * routed control connection or a data connection and what getpeername()
 * must say for it, plus the shim's own descriptors. One mutex; a lock-free
 * bitmap lets close() on other descriptors skip the lock. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "addr.h"

/* Hard cap: a process holding more intercepted sockets than this is not an
 * FTP client; the connection that would exceed it fails with ENOBUFS. */
#define REG_MAX 16384
/* close() of fds below this is decided by one atomic bit. */
#define REG_BITS 65536
#define WORD_BITS (8 * sizeof(unsigned long))

struct ent {
	int fd;
	enum shim_reg_kind kind;
	/* The socket's identity when registered: fclose() and the like
	 * close a descriptor without calling the hooked close(), and the
	 * number may since name another file. */
	dev_t dev;
	ino_t ino;
	struct sockaddr_storage peer;
	socklen_t peerlen;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ent *ents;
static size_t nents, cap;
static atomic_size_t count;
static atomic_ulong bits[REG_BITS / WORD_BITS];

static void set_bit(int fd, int on)
{
	unsigned long m;

	if (fd < 0 || fd >= REG_BITS)
		return;
	m = 1UL << ((unsigned)fd % WORD_BITS);
	if (on)
		atomic_fetch_or(&bits[(unsigned)fd / WORD_BITS], m);
	else
		atomic_fetch_and(&bits[(unsigned)fd / WORD_BITS], ~m);
}

/* Removes ents[i] (under the lock). */
static void drop(size_t i)
{
	set_bit(ents[i].fd, 0);
	ents[i] = ents[--nents];
	atomic_store(&count, nents);
}

/* Whether ents[i]'s descriptor still names its socket (under the lock);
 * drops it if not. */
static int live(size_t i)
{
	struct stat st;

	if (ents[i].kind == SHIM_REG_OWN)
		return 1;
	if (fstat(ents[i].fd, &st) == 0 && st.st_dev == ents[i].dev &&
	    st.st_ino == ents[i].ino)
		return 1;
	drop(i);
	return 0;
}

static ssize_t find(int fd)
{
	size_t i;

	for (i = 0; i < nents; i++)
		if (ents[i].fd == fd)
			return (ssize_t)i;
	return -1;
}

/* Makes room for one entry (under the lock): grows the array, and when at
 * the cap first sweeps out entries whose descriptors went away. */
static int room(void)
{
	size_t i, ncap;
	struct ent *n;

	if (nents == REG_MAX)
		for (i = nents; i-- > 0;)
			live(i);
	if (nents < cap)
		return 0;
	if (nents >= REG_MAX)
		return -ENOBUFS;
	ncap = cap ? cap * 2 : 16;
	if (ncap > REG_MAX)
		ncap = REG_MAX;
	n = realloc(ents, ncap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ents = n;
	cap = ncap;
	return 0;
}

int shim_reg_add(int fd, enum shim_reg_kind kind, const struct sockaddr *peer,
		 socklen_t peerlen)
{
	struct stat st;
	struct ent e;
	ssize_t i;
	int rc = 0;

	memset(&e, 0, sizeof(e));
	if (fstat(fd, &st) < 0)
		return -errno;
	e.fd = fd;
	e.kind = kind;
	e.dev = st.st_dev;
	e.ino = st.st_ino;
	if (peer) {
		if (peerlen > sizeof(e.peer))
			peerlen = sizeof(e.peer);
		memcpy(&e.peer, peer, peerlen);
		e.peerlen = peerlen;
	}
	pthread_mutex_lock(&lock);
	i = find(fd);
	if (i < 0) {
		rc = room();
		if (rc == 0)
			i = (ssize_t)nents++;
	}
	if (rc == 0) {
		ents[i] = e;
		set_bit(fd, 1);
		atomic_store(&count, nents);
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

int shim_reg_get(int fd, struct sockaddr_storage *out, socklen_t *outlen)
{
	ssize_t i;
	int kind = 0;

	if (!shim_reg_maybe(fd))
		return 0;
	pthread_mutex_lock(&lock);
	i = find(fd);
	if (i >= 0 && live((size_t)i)) {
		kind = (int)ents[i].kind;
		if (out)
			*out = ents[i].peer;
		if (outlen)
			*outlen = ents[i].peerlen;
	}
	pthread_mutex_unlock(&lock);
	return kind;
}

int shim_reg_close(int fd)
{
	ssize_t i;
	int rc = 0;

	pthread_mutex_lock(&lock);
	i = find(fd);
	if (i >= 0) {
		if (ents[i].kind == SHIM_REG_OWN)
			rc = -EBADF;
		else
			drop((size_t)i);
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

void shim_reg_del(int fd)
{
	ssize_t i;

	pthread_mutex_lock(&lock);
	i = find(fd);
	if (i >= 0)
		drop((size_t)i);
	pthread_mutex_unlock(&lock);
}

int shim_reg_any(void)
{
	return atomic_load(&count) != 0;
}

int shim_reg_maybe(int fd)
{
	if (atomic_load(&count) == 0)
		return 0;
	if (fd < 0 || fd >= REG_BITS)
		return 1;
	return (atomic_load(&bits[(unsigned)fd / WORD_BITS]) >>
		((unsigned)fd % WORD_BITS)) &
	       1;
}

int shim_reg_control_host(const struct sockaddr *dst, int *family)
{
	size_t i;
	int found = 0;

	if (atomic_load(&count) == 0)
		return 0;
	pthread_mutex_lock(&lock);
	for (i = nents; i-- > 0 && !found;) {
		if (ents[i].kind != SHIM_REG_CONTROL || !live(i))
			continue;
		if (addr_same_host(dst, (struct sockaddr *)&ents[i].peer)) {
			*family = ents[i].peer.ss_family;
			found = 1;
		}
	}
	pthread_mutex_unlock(&lock);
	return found;
}

/* fork() while another thread holds the lock would leave the child's copy
 * locked forever: hold it across the fork in every thread's stead. */
static void prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void resume(void)
{
	pthread_mutex_unlock(&lock);
}

static void child(void)
{
	pthread_mutex_unlock(&lock);
	shim_daemon_forked();
}

static void atfork_once(void)
{
	pthread_atfork(prepare, resume, child);
}

void shim_reg_atfork(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, atfork_once);
}

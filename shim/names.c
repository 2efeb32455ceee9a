/* names.c — which addresses the program's own name lookups returned for
 * the host names routes name: a small table (SHIM_NAMES_MAX entries, the
 * least recently used one replaced), one mutex. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "names.h"

#include <netinet/in.h>
#include <string.h>

void shim_names_init(struct shim_names *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
}

static int names_key(const struct sockaddr *sa, unsigned char out[16])
{
	if (sa->sa_family == AF_INET) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr,
		       4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

/* The entry of (name, a), or -1 (under the lock). */
static int names_find(const struct shim_names *t, int name,
		      const unsigned char *a)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (t->e[i].name == name && !memcmp(t->e[i].addr, a, 16))
			return i;
	return -1;
}

void shim_names_record(struct shim_names *t, int name,
		       const struct sockaddr *sa)
{
	unsigned char a[16];
	int i, j;

	if (name < 0 || !sa || names_key(sa, a) < 0)
		return;
	pthread_mutex_lock(&t->lock);
	i = names_find(t, name, a);
	if (i < 0 && t->n < SHIM_NAMES_MAX) {
		i = t->n++;
	} else if (i < 0) {
		for (i = 0, j = 1; j < t->n; j++)
			if (t->e[j].used < t->e[i].used)
				i = j;
	}
	t->e[i].name = name;
	memcpy(t->e[i].addr, a, 16);
	t->e[i].used = ++t->clock;
	pthread_mutex_unlock(&t->lock);
}

int shim_names_has(struct shim_names *t, int name, const struct sockaddr *sa)
{
	unsigned char a[16];
	int i;

	if (name < 0 || names_key(sa, a) < 0)
		return 0;
	pthread_mutex_lock(&t->lock);
	i = names_find(t, name, a);
	if (i >= 0)
		t->e[i].used = ++t->clock;
	pthread_mutex_unlock(&t->lock);
	return i >= 0;
}

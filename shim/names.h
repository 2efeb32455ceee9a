/* names.h — the table of host names the program resolved, and to what
 * (names.c), so a Route's host-name pattern can match the address the
 * program then connects to. */
#ifndef SHIM_NAMES_H
#define SHIM_NAMES_H

#include <pthread.h>
#include <sys/socket.h>

#define SHIM_NAMES_MAX 256

struct shim_names {
	pthread_mutex_t lock;
	unsigned long clock;
	int n;
	struct {
		int name;
		unsigned char addr[16]; /* IPv6, IPv4 as ::ffff:a.b.c.d */
		unsigned long used;
	} e[SHIM_NAMES_MAX];
};

void shim_names_init(struct shim_names *t);
/* Remembers that name resolved to sa's address (AF_INET or AF_INET6;
 * others ignored); the least recently used entry makes room. */
void shim_names_record(struct shim_names *t, int name,
		       const struct sockaddr *sa);
/* Whether name resolved to sa's address (ports ignored). */
int shim_names_has(struct shim_names *t, int name, const struct sockaddr *sa);

#endif

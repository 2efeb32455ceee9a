/* hook_resolve.c — the exported name lookups: getaddrinfo(),
 * gethostbyname(), gethostbyname2(), gethostbyname_r() and
 * gethostbyname2_r(). They only watch: what libc returned for a host name
 * that a route names is recorded (cfg.c), so that a connect() to one of
 * those addresses is routed; the result itself is never changed. */
/* Not _GNU_SOURCE: see hook_connect.c. */
#define _DEFAULT_SOURCE
#include "shim.h"

#include <errno.h>
#include <netdb.h>

SHIM_EXPORT int getaddrinfo(const char *restrict node,
			    const char *restrict service,
			    const struct addrinfo *restrict hints,
			    struct addrinfo **restrict res)
{
	int rc;

	shim_init();
	if (!shim_real.getaddrinfo) {
		errno = ENOSYS;
		return EAI_SYSTEM;
	}
	rc = shim_real.getaddrinfo(node, service, hints, res);
	if (rc == 0 && node && res)
		shim_names_seen_ai(node, *res);
	return rc;
}

/* Keeps h_errno (and errno) as libc left them around the recording. */
static void seen(const char *name, const struct hostent *he)
{
	int h = h_errno;

	shim_names_seen_he(name, he);
	h_errno = h;
}

SHIM_EXPORT struct hostent *gethostbyname(const char *name)
{
	struct hostent *he;

	shim_init();
	if (!shim_real.gethostbyname) {
		h_errno = NO_RECOVERY;
		return NULL;
	}
	he = shim_real.gethostbyname(name);
	if (he && name)
		seen(name, he);
	return he;
}

SHIM_EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
	struct hostent *he;

	shim_init();
	if (!shim_real.gethostbyname2) {
		h_errno = NO_RECOVERY;
		return NULL;
	}
	he = shim_real.gethostbyname2(name, af);
	if (he && name)
		seen(name, he);
	return he;
}

/* The _r twins: the answer when libc has no such function, and the
 * recording of what a successful call returned. */
static int no_resolver_r(struct hostent **result, int *h_errnop)
{
	if (result)
		*result = NULL;
	if (h_errnop)
		*h_errnop = NO_RECOVERY;
	return ENOSYS;
}

static int seen_r(int rc, const char *name, struct hostent **result)
{
	if (rc == 0 && result && *result && name)
		seen(name, *result);
	return rc;
}

SHIM_EXPORT int gethostbyname_r(const char *restrict name,
				struct hostent *restrict ret,
				char *restrict buf, size_t buflen,
				struct hostent **restrict result,
				int *restrict h_errnop)
{
	int rc;

	shim_init();
	if (!shim_real.gethostbyname_r)
		return no_resolver_r(result, h_errnop);
	rc =
	    shim_real.gethostbyname_r(name, ret, buf, buflen, result, h_errnop);
	return seen_r(rc, name, result);
}

SHIM_EXPORT int gethostbyname2_r(const char *restrict name, int af,
				 struct hostent *restrict ret,
				 char *restrict buf, size_t buflen,
				 struct hostent **restrict result,
				 int *restrict h_errnop)
{
	int rc;

	shim_init();
	if (!shim_real.gethostbyname2_r)
		return no_resolver_r(result, h_errnop);
	rc = shim_real.gethostbyname2_r(name, af, ret, buf, buflen, result,
					h_errnop);
	return seen_r(rc, name, result);
}

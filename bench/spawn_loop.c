/* spawn_loop.c — the bench's program-startup probe: starts PROG N times,
 * one after the other (posix_spawn, then wait), and prints the
 * microseconds per start. The children get this process's environment,
 * plus LD_PRELOAD=$SPAWN_PRELOAD when that is set, so the loop itself
 * never runs with the shim loaded.
 *
 * usage: [SPAWN_PRELOAD=lib.so] spawn_loop N PROG [ARG...] */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	const char *pre = getenv("SPAWN_PRELOAD");
	struct timespec t0, t1;
	char **env, *ld = NULL;
	size_t ne = 0, k = 0;
	long n, i;

	if (argc < 3) {
		fprintf(stderr, "usage: spawn_loop N PROG [ARG...]\n");
		return 2;
	}
	n = atol(argv[1]);
	while (environ[ne])
		ne++;
	env = calloc(ne + 2, sizeof(*env));
	if (!env)
		return 1;
	for (size_t j = 0; j < ne; j++)
		if (strncmp(environ[j], "LD_PRELOAD=", 11) != 0 &&
		    strncmp(environ[j], "SPAWN_PRELOAD=", 14) != 0)
			env[k++] = environ[j];
	if (pre && *pre) {
		if (asprintf(&ld, "LD_PRELOAD=%s", pre) < 0)
			return 1;
		env[k++] = ld;
	}
	env[k] = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		pid_t pid;
		int st;

		if (posix_spawn(&pid, argv[2], NULL, NULL, argv + 2, env) !=
		    0) {
			perror("posix_spawn");
			return 1;
		}
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0) {
			fprintf(stderr, "spawn_loop: %s failed\n", argv[2]);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.1f us/start\n", ((t1.tv_sec - t0.tv_sec) * 1e6 +
				   (t1.tv_nsec - t0.tv_nsec) / 1e3) /
				      (double)n);
	free(ld);
	free(env);
	return 0;
}

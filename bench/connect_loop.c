/* connect_loop.c — the bench's shim-overhead probe: N times socket(),
 * connect() to 127.0.0.1:PORT (a closed port: ECONNREFUSED, or a listening
 * one), close(); prints the nanoseconds per iteration. Run with and
 * without LD_PRELOAD=libftptunnel.so, the port being one no route covers.
 *
 * usage: connect_loop N PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct timespec t0, t1;
	long n, i, ok = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: connect_loop N PORT\n");
		return 2;
	}
	n = atol(argv[1]);
	a.sin_port = htons((unsigned short)atoi(argv[2]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0) {
			perror("socket");
			return 1;
		}
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			ok++;
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.1f ns/connect (%ld of %ld connected)\n",
	       ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) /
		   (double)n,
	       ok, n);
	return 0;
}

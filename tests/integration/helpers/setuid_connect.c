/* setuid_connect.c — a tiny program for t_shim_setuid.sh, installed
 * set-user-ID root there: it says which IDs it runs with, connects a TCP
 * socket to HOST PORT (an IPv4 address) and prints either the first line
 * the peer sends or connect()'s error. What it prints is what the test
 * checks: whether the shim gave a privileged process a routed connection.
 *
 *   setuid_connect [-r UID] HOST PORT
 *
 * -r UID  first make UID the real user ID, keeping the effective one (a
 *         process run by root that changed its IDs itself: no
 *         secure-execution mode, but privileges its real user lacks)
 * Output: "ids ruid=R euid=E", then "connected: LINE" or
 * "connect: STRERROR (errno N)". Exits 0 unless its arguments are bad. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sin;
	struct timeval tv = {5, 0};
	char line[200];
	ssize_t n;
	int s;

	if (argc == 5 && !strcmp(argv[1], "-r")) {
		if (setresuid((uid_t)atoi(argv[2]), (uid_t)-1, (uid_t)-1) < 0) {
			perror("setuid_connect: setresuid");
			return 2;
		}
		argv += 2;
		argc -= 2;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: setuid_connect [-r UID] HOST PORT\n");
		return 2;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
		fprintf(stderr, "setuid_connect: %s is not an IPv4 address\n",
			argv[1]);
		return 2;
	}
	printf("ids ruid=%u euid=%u\n", (unsigned)getuid(),
	       (unsigned)geteuid());
	fflush(stdout);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0) {
		printf("socket: %s (errno %d)\n", strerror(errno), errno);
		return 0;
	}
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		printf("connect: %s (errno %d)\n", strerror(errno), errno);
		return 0;
	}
	/* A peer that says nothing must not hang the test. */
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = read(s, line, sizeof(line) - 1);
	line[n > 0 ? n : 0] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	printf("connected: %s\n", line);
	close(s);
	return 0;
}

/* test_ipcstep.c — ipc_recv_step, the daemon's non-blocking request
 * reader: a request sent one byte at a time is whole only after its last
 * byte, at every split; a bad length, a NUL, or the end of the stream
 * end the connection; a descriptor passed along is closed. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "ipc.h"

/* The frame ipc_send would write for m. */
static size_t frame(const struct ipc_msg *m, unsigned char *out)
{
	out[0] = (unsigned char)(m->len >> 24);
	out[1] = (unsigned char)(m->len >> 16);
	out[2] = (unsigned char)(m->len >> 8);
	out[3] = (unsigned char)m->len;
	memcpy(out + 4, m->text, m->len);
	return 4 + m->len;
}

static void byte_by_byte(void)
{
	struct ipc_msg req, got;
	struct ipc_reader rd = {.len = 0};
	unsigned char f[4 + IPC_MAX];
	char v[32];
	size_t n, i;
	int sv[2], rc = 0;

	ipc_init(&req, "STATUS");
	ipc_add(&req, "format", "2");
	n = frame(&req, f);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	CHECK(ipc_recv_step(sv[1], &rd, &got) == 0, "nothing sent: wait");
	for (i = 0; i < n; i++) {
		CHECK(write(sv[0], f + i, 1) == 1, "write");
		rc = ipc_recv_step(sv[1], &rd, &got);
		if (i + 1 < n)
			CHECK(rc == 0, "byte %zu of %zu: %d, want 0", i + 1, n,
			      rc);
	}
	CHECK(rc == 1, "last byte: %d, want 1", rc);
	CHECK(ipc_word(&got, v, sizeof(v)) == 0 && !strcmp(v, "STATUS"),
	      "word");
	CHECK(ipc_get(&got, "format", 0, v, sizeof(v)) == 0 && !strcmp(v, "2"),
	      "format=2");
	close(sv[0]);
	close(sv[1]);
}

/* A frame after its first k bytes, then the end of the stream. */
static int cut_at(const unsigned char *f, size_t k)
{
	struct ipc_reader rd = {.len = 0};
	struct ipc_msg got;
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -999;
	if (k && write(sv[0], f, k) != (ssize_t)k)
		return -998;
	close(sv[0]);
	rc = ipc_recv_step(sv[1], &rd, &got);
	close(sv[1]);
	return rc;
}

static void refusals(void)
{
	struct ipc_msg req;
	unsigned char f[4 + IPC_MAX];
	size_t n;

	ipc_init(&req, "PING");
	n = frame(&req, f);
	CHECK(cut_at(f, 0) == -EPROTO, "end of stream at once");
	CHECK(cut_at(f, 2) == -EPROTO, "end of stream in the length");
	CHECK(cut_at(f, n - 1) == -EPROTO, "end of stream in the text");
	memset(f, 0, 4);
	CHECK(cut_at(f, 4) == -EPROTO, "length 0");
	f[0] = 0xff;
	CHECK(cut_at(f, 4) == -EPROTO, "length over IPC_MAX");
	n = frame(&req, f);
	f[6] = '\0';
	CHECK(cut_at(f, n) == -EPROTO, "a NUL in the text");
}

static void passed_fd_closed(void)
{
	struct ipc_msg req, got;
	struct ipc_reader rd = {.len = 0};
	int sv[2], p[2], rc;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	CHECK(pipe(p) == 0, "pipe");
	ipc_init(&req, "PING");
	CHECK(ipc_send(sv[0], &req, p[0]) == 0, "send with a descriptor");
	close(p[0]);
	rc = ipc_recv_step(sv[1], &rd, &got);
	CHECK(rc == 1, "PING with a descriptor: %d", rc);
	/* Its only other reference gone, the pipe's read end is closed:
	 * a write fails with EPIPE. */
	CHECK(write(p[1], "x", 1) < 0 && errno == EPIPE,
	      "the passed descriptor was closed");
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* the EPIPE check below */
	byte_by_byte();
	refusals();
	passed_fd_closed();
	printf("test_ipcstep: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}

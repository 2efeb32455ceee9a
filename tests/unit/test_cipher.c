/* test_cipher.c — ssh_cipher_order: the preferred ciphers first, only
 * what the library lists, the rest in the library's order, whole names
 * only, and a list too long for the output refused. */
#include <string.h>

#include "check.h"
#include "ssh_cipher.h"

static void order(const char *supported, const char *want)
{
	char out[1024];
	int n = ssh_cipher_order(supported, out, sizeof(out));

	CHECK(n >= 0 && !strcmp(out, want), "order(%s) = %s (%d), want %s",
	      supported, n >= 0 ? out : "-", n, want);
}

int main(void)
{
	char small[16];

	/* libssh2 1.10 (Debian 12): no chacha20, no GCM. */
	order("aes128-ctr,aes192-ctr,aes256-ctr,aes256-cbc,"
	      "rijndael-cbc@lysator.liu.se,aes192-cbc,aes128-cbc,3des-cbc",
	      "aes128-ctr,aes192-ctr,aes256-ctr,aes256-cbc,"
	      "rijndael-cbc@lysator.liu.se,aes192-cbc,aes128-cbc,3des-cbc");
	/* libssh2 1.11.1: GCM first in its own list, chacha20 last. */
	order("aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes128-ctr,"
	      "aes192-ctr,aes256-ctr,aes256-cbc,chacha20-poly1305@openssh.com",
	      "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
	      "aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-cbc");
	/* Whole names only: a prefix of a preferred name is not it. */
	order("aes128-ct,3des-cbc", "aes128-ct,3des-cbc");
	order("3des-cbc,aes128-ctr", "aes128-ctr,3des-cbc");
	CHECK(ssh_cipher_order("", small, sizeof(small)) < 0, "empty list");
	CHECK(ssh_cipher_order("aes128-ctr,aes256-ctr", small, sizeof(small)) <
		  0,
	      "too long for the output");
	printf("test_cipher: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}

/* ssh_cipher.h — the order in which a session offers its ciphers: the
 * fastest through libssh2 first, and only what the library supports. */
#ifndef SSH_CIPHER_H
#define SSH_CIPHER_H

#include <stddef.h>

#include <libssh2.h>

/* Orders the comma list `supported` (libssh2's ciphers, in its order):
 * chacha20-poly1305@openssh.com, then aes128-ctr, aes192-ctr, aes256-ctr,
 * aes256-gcm@openssh.com, aes128-gcm@openssh.com, where supported; then
 * the rest of `supported` as it comes. Writes the list into out. Returns
 * its length, or -1 when it does not fit (out unchanged) or supported is
 * empty. Pure. */
int ssh_cipher_order(const char *supported, char *out, size_t outlen);

/* Sets the session's cipher preference both ways to ssh_cipher_order of
 * what libssh2_session_supported_algs reports. Before the handshake;
 * quiet when the library says no (its own order stays). */
void ssh_cipher_prefer(LIBSSH2_SESSION *raw, const char *sess_name);

#endif

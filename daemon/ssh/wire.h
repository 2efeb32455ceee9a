/* wire.h — SSH's data types on the wire (RFC 4251 §5): uint32, uint64 and
 * string, big-endian, for the payloads we build ourselves (a direct-tcpip
 * open, SFTP packets). Each put returns the byte after what it wrote; the
 * caller has made room. */
#ifndef SSH_WIRE_H
#define SSH_WIRE_H

#include <stdint.h>
#include <string.h>

static inline unsigned char *wire_put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return p + 4;
}

static inline unsigned char *wire_put_u64(unsigned char *p, uint64_t v)
{
	p = wire_put_u32(p, (uint32_t)(v >> 32));
	return wire_put_u32(p, (uint32_t)v);
}

/* A string: its length, then its n bytes. */
static inline unsigned char *wire_put_bytes(unsigned char *p, const void *b,
					    uint32_t n)
{
	p = wire_put_u32(p, n);
	memcpy(p, b, n);
	return p + n;
}

static inline uint32_t wire_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

#endif

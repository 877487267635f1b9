/* byteorder.h - little-endian loads and stores at unaligned addresses. */
#ifndef VSE_BYTEORDER_H
#define VSE_BYTEORDER_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

/*
 * Wire formats here (virtio 1.2 5.10.6, Linux vsockmon.h) are little-endian
 * and packed; memcpy keeps unaligned access defined behaviour.
 */

/* Loads a little-endian 16-bit value from p. */
static inline uint16_t
vse_get_le16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

/* Loads a little-endian 32-bit value from p. */
static inline uint32_t
vse_get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

/* Loads a little-endian 64-bit value from p. */
static inline uint64_t
vse_get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

/* Stores v at p, little-endian. */
static inline void
vse_put_le16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

/* Stores v at p, little-endian. */
static inline void
vse_put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

/* Stores v at p, little-endian. */
static inline void
vse_put_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

#endif

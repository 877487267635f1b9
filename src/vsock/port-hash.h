/* port-hash.h - the one bucket hash for tables keyed by vsock ports (device conntab, replay's pair tables). */
#ifndef VSE_PORT_HASH_H
#define VSE_PORT_HASH_H

#include <stdint.h>

/*
 * Bucket of key in a table of nbuckets (a power of two): key ^ seed through
 * splitmix64's finaliser, so neighbouring ports spread over all buckets.
 * Inline: the device looks a connection up on every packet.
 */
static inline uint32_t
port_hash(uint64_t key, uint64_t seed, uint32_t nbuckets)
{
	uint64_t z = key ^ seed;

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	z ^= z >> 31;
	return (uint32_t)z & (nbuckets - 1);
}

/* The key of a (local or guest port, peer or host port) pair. */
static inline uint64_t
port_pair_key(uint32_t port, uint32_t peer)
{
	return ((uint64_t)port << 32) | peer;
}

#endif

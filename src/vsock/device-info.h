/* device-info.h - read-only introspection of a device: its connections and its bounds, for tests, fuzzers and tools. */
#ifndef VSE_DEVICE_INFO_H
#define VSE_DEVICE_INFO_H

#include <stdint.h>

#include "device.h"

/* A connection's state (doc/connection-states.md has the table). */
enum vsock_conn_state {
	VSOCK_CONN_GUEST_CONNECTING = 0,	/* guest REQUEST, host connecting */
	VSOCK_CONN_HOST_CONNECTING,		/* our REQUEST out, no RESPONSE */
	VSOCK_CONN_ESTABLISHED,			/* half-closed too: see *_shut */
	VSOCK_CONN_CLOSING,			/* host gone, our SHUTDOWN out */
	VSOCK_CONN_KILLED,			/* RST queued, gone once sent */
	VSOCK_CONN__COUNT
};

/* One connection as the device sees it, copied out. */
struct vsock_conn_info {
	uint32_t local_port;		/* host side */
	uint32_t peer_port;		/* guest side */
	uint16_t type;			/* VIRTIO_VSOCK_TYPE_* */
	enum vsock_conn_state state;
	uint32_t peer_shut;		/* VIRTIO_VSOCK_SHUTDOWN_* the guest sent */
	uint32_t local_shut;		/* ... and those we declared */
	uint32_t g2h_held;		/* guest bytes held for the host */
	uint32_t g2h_unforwarded;	/* received, not yet taken by the host */
	uint32_t buf_alloc;		/* what we advertise to the guest */
	uint32_t peer_buf_alloc;	/* what the guest advertised */
};

/* The device's limits and how close it is to them. */
struct vsock_device_info {
	uint32_t nconns, max_conns;
	uint32_t orphan_rsts, orphan_max;	/* RSTs owed to pairs with no
						 * connection, and their cap */
	uint32_t buf_alloc;			/* per connection */
	uint64_t conn_state_bytes;		/* connection structs and their
						 * lookup table, no buffers */
};

/* Fills out with c's current state. */
void vsock_conn_get_info(const struct vsock_conn *c,
    struct vsock_conn_info *out);

/* Fills out with dev's limits and use. */
void vsock_device_get_info(const struct vsock_device *dev,
    struct vsock_device_info *out);

/*
 * Calls fn for every connection, in no promised order, until fn returns
 * nonzero; returns that value, or 0. fn must not call into the device.
 */
int vsock_device_foreach_conn(const struct vsock_device *dev,
    int (*fn)(void *ctx, const struct vsock_conn *c), void *ctx);

#endif

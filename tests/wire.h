/* wire.h - a raw-packet test rig: fake-guest rings, the device and the scripted backend. */
#ifndef VSE_TESTS_WIRE_H
#define VSE_TESTS_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "backend-script.h"
#include "device.h"
#include "mem.h"
#include "pkt.h"
#include "queues.h"
#include "ring.h"

struct flight;

#define WIRE_GUEST_CID		3
#define WIRE_RX_PAYLOAD		4096
#define WIRE_QSIZE		256
#define WIRE_TX_SLOT		(VSOCK_HDR_SIZE + 65536)

/*
 * The test plays the guest driver by hand: it writes every header field
 * itself, so it can send what no well-behaved driver would.
 */
struct wire {
	struct fg_mem mem;
	struct fg_queues q;		/* rx, tx, ev */
	struct vsock_device *dev;
	struct script_backend sb;
	uint64_t guest_cid;		/* packets to the guest must name it */
	vsock_time_t now;
	uint64_t rx_pool;		/* WIRE_QSIZE RX buffers */
	uint32_t rx_buf_len;		/* header + payload per RX buffer */
	uint64_t tx_pool;		/* WIRE_QSIZE TX slots */
	bool tx_slot_used[WIRE_QSIZE];
	uint64_t ev_pool;
	unsigned notifies[3];
	uint64_t rx_packets;
	uint64_t rx_empty;		/* buffers returned unused */
	struct flight *flight;		/* the device's tap, for a failure */
	bool hold_kick;			/* wire_send queues only: kick yourself */
};

/* Default device config for the rig (CID 3, firecracker profile). */
void wire_config(struct vsock_device_config *cfg);

/* Builds the rig; rx_buffers RX buffers posted (of rx_payload bytes each). */
struct wire *wire_new_cfg(const struct vsock_device_config *cfg,
    unsigned rx_buffers, uint32_t rx_payload);

/*
 * Same, with another host backend instead of the scripted one (ctx NULL:
 * the rig's own script backend, with ops of the caller's).
 */
struct wire *wire_new_backend(const struct vsock_device_config *cfg,
    const struct vsock_backend_ops *ops, void *ctx, unsigned rx_buffers,
    uint32_t rx_payload);
struct wire *wire_new(void);
void wire_free(struct wire *w);

/* A guest->host header with the usual fields (CID 3 -> 2, STREAM). */
struct vsock_hdr wire_hdr(uint16_t op, uint32_t guest_port,
    uint32_t host_port);

/* Sends h (+ payload of h.len bytes) as one TX chain and kicks. */
void wire_send(struct wire *w, const struct vsock_hdr *h, const void *payload);

/* Sends raw bytes as one TX chain (for malformed packets), optionally
 * with a writable segment appended, and kicks. */
void wire_send_raw(struct wire *w, const void *bytes, uint32_t len,
    bool add_writable);

/* Next packet the device sent, 1; or 0 when none. Reposts the buffer. */
int wire_recv(struct wire *w, struct vsock_hdr *h, void *payload,
    uint32_t cap);

/* Asserts no packet is waiting. */
void wire_expect_none(struct wire *w);

/* Receives one packet and asserts its op (and returns it). */
struct vsock_hdr wire_expect(struct wire *w, uint16_t op);

/* Posts n more RX buffers and kicks the RX queue. */
void wire_post_rx(struct wire *w, unsigned n);

/* Advances virtual time by ns and runs the device. */
void wire_advance(struct wire *w, vsock_time_t ns);

/* Guest connects guest_port -> host_port (listener must exist); RESPONSE. */
struct script_conn *wire_connect(struct wire *w, uint32_t guest_port,
    uint32_t host_port);

#endif

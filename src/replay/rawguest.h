/* rawguest.h - a raw-packet guest driver: puts exactly the bytes it is given on the TX ring. */
#ifndef FG_RAWGUEST_H
#define FG_RAWGUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "mem.h"
#include "queues.h"
#include "replay.h"
#include "ring.h"

#define RAWGUEST_QSIZE		256
#define RAWGUEST_TX_SLOTS	8
/* One TX slot holds a header and the largest payload a capture can hold. */
#define RAWGUEST_TX_SLOT	(VSOCK_HDR_SIZE + 262144)

/*
 * The driver side of a device's three queues, with no protocol of its own:
 * unlike fakeguest/vsock.h it never decides a header field. Replay and the
 * fuzzer use it to put a recorded or hostile packet on the TX ring as it is,
 * and to keep the RX ring stocked so the device is never starved of
 * buffers. What the device sends is observed through its tap, not here.
 */
struct rawguest {
	struct fg_mem mem;
	struct fg_queues q;		/* rx, tx, ev */
	struct vsock_device *dev;
	uint32_t rx_buf_len;		/* header + payload per RX buffer */
	uint64_t rx_pool, tx_pool, ev_pool;
	uint8_t *tx_mem;		/* tx_pool, as the driver writes it */
	bool tx_busy[RAWGUEST_TX_SLOTS];
	uint16_t rx_head[RAWGUEST_QSIZE];	/* descriptor of RX buffer i (always posted) */
	uint64_t sent, received;	/* TX chains added, RX buffers reaped */
	uint64_t rx_kicks;		/* RX kicks given after reaping */
};

/*
 * Maps guest memory, negotiates every feature the device offers, sets up
 * its queues and posts all RX buffers (rx_payload bytes of payload each,
 * 4096 as Linux guests use when 0) and the event buffers. Returns 0 or
 * -VSE_ERR_*; on failure nothing is left to free.
 */
int rawguest_init(struct rawguest *g, struct vsock_device *dev,
    uint32_t rx_payload, vsock_time_t now);

/* Unmaps guest memory (the device must be freed first or not used again). */
void rawguest_destroy(struct rawguest *g);

/*
 * Adds one TX chain: the 44 header bytes, then (as Linux does, in a second
 * descriptor) len payload bytes; rawguest_kick makes the device take it. The header may say
 * anything. Returns 0, -VSE_ERR_INVAL (len too large) or -VSE_ERR_NOMEM
 * (the device has not consumed earlier chains: a broken queue).
 */
int rawguest_send(struct rawguest *g, const uint8_t hdr[VSOCK_HDR_SIZE],
    const uint8_t *payload, uint32_t len, vsock_time_t now);

/*
 * Makes every RX buffer hold rx_payload bytes after the header (at most
 * 64 KiB), the posted ones the device has not taken yet included: a
 * device reads a descriptor only when it takes the buffer, so between its
 * runs this is as if they had been posted at that size. Returns 0 or
 * -VSE_ERR_INVAL.
 */
int rawguest_set_rx_payload(struct rawguest *g, uint32_t rx_payload);

/* Kicks TX at now: the device processes every chain added since. */
void rawguest_kick(struct rawguest *g, vsock_time_t now);

/*
 * Takes back every RX buffer the device used, posts it again and kicks RX
 * at now if the device asked for a kick (it ran out of buffers). Returns
 * the number reaped; call until 0 to let the device send everything it has.
 */
unsigned rawguest_drain(struct rawguest *g, vsock_time_t now);

/* The raw guest as replay's guest (ctx: a struct rawguest, 4 KiB RX buffers). */
extern const struct replay_guest_ops rawguest_replay_ops;

#endif

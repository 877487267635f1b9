/* inbuf.h - device-writable buffers a driver keeps posted (the RX and event queues). */
#ifndef FG_INBUF_H
#define FG_INBUF_H

#include <stdbool.h>
#include <stdint.h>

#include "mem.h"
#include "ring.h"

/*
 * A pool of equal buffers in guest memory, each posted as one writable
 * descriptor, as Linux's virtio_vsock_rx_fill and virtio_vsock_event_fill
 * do. The pool is carved once out of fg_mem (a bump allocator) and recycled.
 */
struct fg_inbuf {
	struct fg_ring *ring;
	uint32_t size;		/* bytes per buffer */
	uint32_t count;		/* buffers in the pool */
	uint64_t *gpa;		/* per buffer */
	uint8_t **hva;		/* per buffer: where it is mapped, found once */
	uint32_t *free;		/* stack of unposted buffer indices */
	uint32_t nfree;
	uint32_t posted;	/* buffers the device holds */
	uint32_t loaned;	/* reaped, held by a reader (fg_inbuf_loan) */
};

/* Carves count buffers of size bytes for ring r. 0 or -VSE_ERR_NOMEM. */
int fg_inbuf_init(struct fg_inbuf *ib, struct fg_ring *r, uint32_t count,
    uint32_t size);

void fg_inbuf_destroy(struct fg_inbuf *ib);

/* Posts every free buffer the ring has room for; returns how many. */
uint32_t fg_inbuf_fill(struct fg_inbuf *ib);

/*
 * Reaps one used buffer: copies min(used length, cap) bytes to dst, stores
 * the used length in *len and takes the buffer back into the pool. Returns
 * 1, or 0 when nothing is used (or the ring saw a device error).
 */
int fg_inbuf_reap(struct fg_inbuf *ib, void *dst, uint32_t cap,
    uint32_t *len);

/*
 * Reaps one used buffer without a copy and without taking it back: *slot
 * names it, *data points at it in guest memory (Linux, too, reads the skb
 * where the device wrote it). The caller ends it with fg_inbuf_recycle
 * (now) or fg_inbuf_loan (a reader keeps it until fg_inbuf_recycle).
 */
int fg_inbuf_reap_slot(struct fg_inbuf *ib, uint32_t *slot,
    const uint8_t **data, uint32_t *len);

/* Takes a reaped or loaned buffer back into the pool (posted at the next fill). */
void fg_inbuf_recycle(struct fg_inbuf *ib, uint32_t slot, bool was_loaned);

/*
 * May one more reaped buffer stay with a reader? At most half the pool is
 * ever on loan, so the device always has the other half to fill: a reader
 * that never reads cannot starve the queue (Linux allocates new RX buffers
 * instead; we have a fixed pool in guest memory).
 */
bool fg_inbuf_may_loan(const struct fg_inbuf *ib);

/* The reaped buffer stays with a reader (counts against the loan cap). */
void fg_inbuf_loan(struct fg_inbuf *ib);

#endif

/* inbuf.h - device-writable buffers a driver keeps posted (the RX and event queues). */
#ifndef FG_INBUF_H
#define FG_INBUF_H

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
	uint32_t *free;		/* stack of unposted buffer indices */
	uint32_t nfree;
	uint32_t posted;	/* buffers the device holds */
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
 * The same without a copy: *data points at the buffer in guest memory,
 * valid until the next fg_inbuf_fill reposts it (Linux, too, reads the
 * skb where the device wrote it).
 */
int fg_inbuf_reap_view(struct fg_inbuf *ib, const uint8_t **data,
    uint32_t *len);

#endif

/* ring.h - driver side of a split virtqueue, as Linux's virtio_ring does it. */
#ifndef FG_RING_H
#define FG_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "mem.h"
#include "virtio-ring.h"

/* Entries of the per-slot indirect table the driver preallocates. */
#define FG_RING_INDIRECT_MAX	64

/* One buffer the driver hands to the device. */
struct fg_buf {
	uint64_t gpa;
	uint32_t len;
};

struct fg_ring_slot {
	void *token;		/* caller's cookie, NULL when the slot is free */
	uint16_t ndesc;		/* direct descriptors the chain occupies */
	uint64_t indirect;	/* this head's indirect table, or FG_GPA_NONE */
	uint8_t *indirect_hva;	/* where that table is mapped */
	bool kept;		/* used, kept by the driver to repost as it is */
};

struct fg_ring_stats {
	uint64_t added;
	uint64_t reaped;
	uint64_t kicks;		/* times fg_ring_kick_needed said yes */
};

/*
 * Driver side of one split ring in fake-guest memory. The driver keeps its
 * own free list (next_free) instead of reusing desc.next as Linux does, so
 * that adversarial raw writes into the descriptor table cannot corrupt the
 * driver's bookkeeping. A device error seen while reaping (an id never
 * handed out, a length beyond the buffer) is recorded in device_error.
 */
struct fg_ring {
	struct fg_mem *mem;
	uint32_t num;
	bool event_idx;
	bool indirect;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint8_t *desc, *avail, *used;
	uint16_t free_head;
	uint32_t num_free;
	uint16_t *next_free;
	uint16_t avail_idx;		/* what we published */
	uint16_t kicked_avail_idx;	/* avail_idx at the last kick decision */
	uint16_t last_used_idx;		/* next used entry to reap */
	struct fg_ring_slot *slot;
	uint32_t *writable_len;		/* per head: bytes the device may write */
	const char *device_error;	/* first protocol error by the device */
	struct fg_ring_stats stats;
};

/*
 * Allocates the three ring parts in guest memory with the spec's
 * alignments (16/2/4) and sets the driver up for the given features.
 */
int fg_ring_init(struct fg_ring *r, struct fg_mem *mem, uint32_t num,
    uint64_t features);

void fg_ring_destroy(struct fg_ring *r);

/*
 * Adds a chain: nout device-readable buffers then nin device-writable ones,
 * directly or through an indirect table, and publishes it with release
 * ordering. Returns the head index, or -VSE_ERR_NOMEM when the ring is full.
 */
int fg_ring_add(struct fg_ring *r, const struct fg_buf *out, unsigned nout,
    const struct fg_buf *in, unsigned nin, void *token, bool use_indirect);

/* After adds: does the device want a kick (2.7.13.4 / VIRTQ_USED_F_NO_NOTIFY)? */
bool fg_ring_kick_needed(struct fg_ring *r);

/*
 * Reaps one used element: returns its token and stores the used length in
 * *len, or NULL when nothing is used. Checks the device's answer.
 */
void *fg_ring_get_used(struct fg_ring *r, uint32_t *len);

/*
 * Like fg_ring_get_used, but the chain stays allocated and unchanged (its
 * head in *head) for fg_ring_repost: a driver recycling a receive buffer
 * as it was need not free and rewrite its descriptors (Linux's virtio_vsock
 * refills with new ones; the device cannot tell the difference).
 */
void *fg_ring_get_used_keep(struct fg_ring *r, uint32_t *len,
    uint16_t *head);

/*
 * Makes a chain kept by fg_ring_get_used_keep available again, with its
 * descriptors and token as they are. Needs no free descriptor. Returns 0,
 * or -VSE_ERR_INVAL when head is not a kept chain.
 */
int fg_ring_repost(struct fg_ring *r, uint16_t head);

/*
 * Takes up to max used elements off the ring and makes each chain
 * available again as it was (fg_ring_get_used_keep then fg_ring_repost,
 * in one step: a receive ring kept full). Returns how many; stops early
 * when nothing more is used or the device broke the protocol
 * (r->device_error says how).
 */
unsigned fg_ring_recycle(struct fg_ring *r, unsigned max);

/* Number of used elements waiting to be reaped. */
uint16_t fg_ring_used_pending(const struct fg_ring *r);

/* Asks the device to interrupt (or not) when it next uses buffers. */
void fg_ring_set_interrupts(struct fg_ring *r, bool enable);

/* Adversarial primitives: write raw values the device must not trust. */
void fg_ring_raw_desc(struct fg_ring *r, uint32_t i, uint64_t addr,
    uint32_t len, uint16_t flags, uint16_t next);
void fg_ring_raw_publish(struct fg_ring *r, uint16_t head);
void fg_ring_raw_set_avail_idx(struct fg_ring *r, uint16_t idx);

#endif

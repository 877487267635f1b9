/* queues.h - a raw driver's three rings in guest memory, bound to the device's three queues. */
#ifndef FG_QUEUES_H
#define FG_QUEUES_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "mem.h"
#include "ring.h"

#define FG_EVQ_SIZE	8	/* event ring entries, as QEMU's vhost-vsock */

/*
 * The rings of a driver that builds its own chains (replay's raw guest,
 * the fuzzer, the wire test rig): made and bound here once, filled by
 * each driver its own way.
 */
struct fg_queues {
	struct fg_ring rx, tx, ev;
};

/* Hands ring r, in mem, to dev as its queue qi; 0 or -VSE_ERR_*. */
int fg_ring_bind(struct vsock_device *dev, struct fg_mem *mem, unsigned qi,
    const struct fg_ring *r);

/*
 * Lays out RX and TX rings of qsize entries and an FG_EVQ_SIZE event ring
 * in mem, with features, and hands each to dev as its queue. Returns 0 or
 * -VSE_ERR_*; after a failure fg_queues_destroy still frees what was made.
 */
int fg_queues_init(struct fg_queues *q, struct fg_mem *mem,
    struct vsock_device *dev, unsigned qsize, uint64_t features);

/*
 * For a driver whose TX chains each sit in one of nslots buffer slots,
 * token slot + 1: marks the slots of chains the device used free again
 * and returns the first free slot, or -1 when all are in flight. For a
 * device that runs only when asked: it takes what used idx shows.
 */
int fg_queues_tx_slot(struct fg_queues *q, bool *busy, unsigned nslots);

/* Frees the rings (the device must not use them again); a zeroed q is fine. */
void fg_queues_destroy(struct fg_queues *q);

#endif

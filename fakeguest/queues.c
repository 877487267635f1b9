/* queues.c - a raw driver's three rings, made in guest memory and handed to the device. */
#include "config.h"

#include <string.h>

#include "queues.h"

int
fg_ring_bind(struct vsock_device *dev, struct fg_mem *mem, unsigned qi,
    const struct fg_ring *r)
{
	return vsock_device_set_queue(dev, qi, &mem->gm, r->num, r->desc_gpa,
	    r->avail_gpa, r->used_gpa);
}

int
fg_queues_init(struct fg_queues *q, struct fg_mem *mem,
    struct vsock_device *dev, unsigned qsize, uint64_t features)
{
	int e;

	memset(q, 0, sizeof(*q));
	if ((e = fg_ring_init(&q->rx, mem, qsize, features)) < 0 ||
	    (e = fg_ring_init(&q->tx, mem, qsize, features)) < 0 ||
	    (e = fg_ring_init(&q->ev, mem, FG_EVQ_SIZE, features)) < 0)
		return e;
	if ((e = fg_ring_bind(dev, mem, VSOCK_QUEUE_RX, &q->rx)) < 0 ||
	    (e = fg_ring_bind(dev, mem, VSOCK_QUEUE_TX, &q->tx)) < 0)
		return e;
	return fg_ring_bind(dev, mem, VSOCK_QUEUE_EVENT, &q->ev);
}

int
fg_queues_tx_slot(struct fg_queues *q, bool *busy, unsigned nslots)
{
	unsigned i, pending = fg_ring_used_pending(&q->tx);
	uintptr_t tok;

	/*
	 * What used idx shows, and no more: a last look that finds nothing
	 * (a fence, idx again) is for a device on another thread, and this
	 * driver's runs only when asked (replay's, the test wire's). A
	 * device error stops it early.
	 */
	while (pending-- > 0 &&
	    (tok = (uintptr_t)fg_ring_get_used(&q->tx, NULL)) != 0)
		if (tok - 1 < nslots)
			busy[tok - 1] = false;
	for (i = 0; i < nslots; i++)
		if (!busy[i])
			return (int)i;
	return -1;
}

void
fg_queues_destroy(struct fg_queues *q)
{
	fg_ring_destroy(&q->rx);
	fg_ring_destroy(&q->tx);
	fg_ring_destroy(&q->ev);
}

/* rawguest.c - the raw-packet guest driver: exact TX chains, an RX ring kept full. */
#include "config.h"

#include <string.h>

#include "error.h"
#include "rawguest.h"

#define RAWGUEST_EVQ_SIZE	FG_EVQ_SIZE

/* Every RX buffer has room for the largest payload (rawguest_set_rx_payload). */
#define RX_SLOT		(VSOCK_HDR_SIZE + VIRTIO_VSOCK_MAX_PKT_BUF_SIZE)

/* Posts RX buffer i of the pool; its token is i + 1. */
static int
post_rx(struct rawguest *g, unsigned i)
{
	struct fg_buf b = { g->rx_pool + (uint64_t)i * RX_SLOT,
	    g->rx_buf_len };
	int head = fg_ring_add(&g->q.rx, NULL, 0, &b, 1,
	    (void *)(uintptr_t)(i + 1), false);

	if (head >= 0)
		g->rx_head[i] = (uint16_t)head;
	return head;
}

/*
 * Allocates the buffer pools in guest memory, untouched: 18 MiB (256 RX
 * buffers with room for 64 KiB each, 8 TX slots of 256 KiB) of which a
 * short trace uses a few pages; zeroing them cost more than replaying it.
 */
static int
layout(struct rawguest *g)
{
	g->rx_pool = fg_mem_alloc_untouched(&g->mem,
	    (uint64_t)RAWGUEST_QSIZE * RX_SLOT, 16);
	g->tx_pool = fg_mem_alloc_untouched(&g->mem,
	    (uint64_t)RAWGUEST_TX_SLOTS * RAWGUEST_TX_SLOT, 16);
	g->ev_pool = fg_mem_alloc(&g->mem, RAWGUEST_EVQ_SIZE * VSOCK_EVENT_SIZE,
	    4);
	if (g->rx_pool == FG_GPA_NONE || g->tx_pool == FG_GPA_NONE ||
	    g->ev_pool == FG_GPA_NONE)
		return -VSE_ERR_NOMEM;
	/* The driver writes its own TX slots directly (fg_mem_ptr). */
	g->tx_mem = fg_mem_ptr(&g->mem, g->tx_pool,
	    (uint64_t)RAWGUEST_TX_SLOTS * RAWGUEST_TX_SLOT);
	return 0;
}

/* Posts every RX and event buffer. */
static int
post_all(struct rawguest *g)
{
	unsigned i;
	int e;

	for (i = 0; i < RAWGUEST_EVQ_SIZE; i++) {
		struct fg_buf b = { g->ev_pool + VSOCK_EVENT_SIZE * i,
		    VSOCK_EVENT_SIZE };

		if ((e = fg_ring_add(&g->q.ev, NULL, 0, &b, 1,
		    (void *)(uintptr_t)(i + 1), false)) < 0)
			return e;
	}
	for (i = 0; i < RAWGUEST_QSIZE; i++)
		if ((e = post_rx(g, i)) < 0)
			return e;
	return 0;
}

int
rawguest_init(struct rawguest *g, struct vsock_device *dev,
    uint32_t rx_payload, vsock_time_t now)
{
	uint64_t f, size;
	int e;

	memset(g, 0, sizeof(*g));
	g->dev = dev;
	g->rx_buf_len = VSOCK_HDR_SIZE + (rx_payload ? rx_payload :
	    VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE);
	size = (uint64_t)RAWGUEST_QSIZE * RX_SLOT +
	    (uint64_t)RAWGUEST_TX_SLOTS * RAWGUEST_TX_SLOT + (1 << 20);
	if ((e = fg_mem_init_simple(&g->mem, size)) < 0)
		return e;
	f = vsock_device_features(dev);
	if ((e = vsock_device_set_features(dev, f)) < 0 ||
	    (e = fg_queues_init(&g->q, &g->mem, dev, RAWGUEST_QSIZE, f)) < 0 ||
	    (e = layout(g)) < 0 || (e = post_all(g)) < 0) {
		rawguest_destroy(g);
		return e;
	}
	/* This kick announces every buffer posted: later ones count from here. */
	(void)fg_ring_kick_needed(&g->q.rx);
	vsock_device_kick(dev, VSOCK_QUEUE_RX, now);
	return 0;
}

void
rawguest_destroy(struct rawguest *g)
{
	fg_queues_destroy(&g->q);
	fg_mem_destroy(&g->mem);
	memset(g, 0, sizeof(*g));
}

int
rawguest_send(struct rawguest *g, const uint8_t hdr[VSOCK_HDR_SIZE],
    const uint8_t *payload, uint32_t len, vsock_time_t now)
{
	struct fg_buf out[2];
	uint8_t *slot;
	uint64_t gpa;
	int i, e;

	if (len > RAWGUEST_TX_SLOT - VSOCK_HDR_SIZE)
		return -VSE_ERR_INVAL;
	if ((i = fg_queues_tx_slot(&g->q, g->tx_busy, RAWGUEST_TX_SLOTS)) < 0)
		return -VSE_ERR_NOMEM;
	gpa = g->tx_pool + (uint64_t)i * RAWGUEST_TX_SLOT;
	slot = g->tx_mem + (size_t)i * RAWGUEST_TX_SLOT;
	memcpy(slot, hdr, VSOCK_HDR_SIZE);
	out[0] = (struct fg_buf){ gpa, VSOCK_HDR_SIZE };
	if (len > 0) {
		memcpy(slot + VSOCK_HDR_SIZE, payload, len);
		out[1] = (struct fg_buf){ gpa + VSOCK_HDR_SIZE, len };
	}
	e = fg_ring_add(&g->q.tx, out, len > 0 ? 2 : 1, NULL, 0,
	    (void *)(uintptr_t)(i + 1), false);
	if (e < 0)
		return e;
	g->tx_busy[i] = true;
	g->sent++;
	(void)now;
	return 0;
}

int
rawguest_set_rx_payload(struct rawguest *g, uint32_t rx_payload)
{
	struct fg_ring *r = &g->q.rx;
	uint32_t len = VSOCK_HDR_SIZE + rx_payload;
	unsigned i;

	if (rx_payload == 0 || rx_payload > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE)
		return -VSE_ERR_INVAL;
	for (i = 0; i < RAWGUEST_QSIZE; i++) {
		uint16_t head = g->rx_head[i];

		fg_ring_raw_desc(r, head, g->rx_pool + (uint64_t)i * RX_SLOT,
		    len, VIRTQ_DESC_F_WRITE, 0);
		/* A used buffer not yet reaped was used at its old size. */
		if (len > r->writable_len[head])
			r->writable_len[head] = len;
	}
	g->rx_buf_len = len;
	return 0;
}

void
rawguest_kick(struct rawguest *g, vsock_time_t now)
{
	vsock_device_kick(g->dev, VSOCK_QUEUE_TX, now);
}

/*
 * rawguest_drain's work when the device used something; apart, so that the
 * common answer (nothing used) costs no more than one look at used idx.
 */
static unsigned __attribute__((noinline))
reap_rx(struct rawguest *g, unsigned pending, vsock_time_t now)
{
	unsigned n;

	/*
	 * Each buffer goes back as it was, its descriptor untouched: the
	 * device reads a descriptor afresh whenever it takes the buffer, so
	 * rewriting the same address and size was work for nothing.
	 */
	/*
	 * What idx showed, not until a reap finds nothing: that last look
	 * (a fence, idx again) is for a device on another thread, and
	 * replay's runs only when asked. A device error stops it early.
	 */
	n = fg_ring_recycle(&g->q.rx, pending);
	g->received += n;
	/*
	 * Only a device that found the ring empty waits for these buffers
	 * (it armed avail_event): Linux's virtqueue_kick_prepare(). Any other
	 * kick would only make it run again with nothing new to do.
	 */
	if (n > 0 && fg_ring_kick_needed(&g->q.rx)) {
		g->rx_kicks++;
		vsock_device_kick(g->dev, VSOCK_QUEUE_RX, now);
	}
	return n;
}

unsigned
rawguest_drain(struct rawguest *g, vsock_time_t now)
{
	unsigned pending;

	/* Replay asks after every step; mostly the device has used nothing. */
	if ((pending = fg_ring_used_pending(&g->q.rx)) == 0)
		return 0;
	return reap_rx(g, pending, now);
}

/* replay's guest ops over a rawguest. */
static int
replay_attach(void *ctx, struct vsock_device *dev, uint32_t rx_payload,
    vsock_time_t now)
{
	return rawguest_init(ctx, dev, rx_payload, now);
}

static int
replay_send(void *ctx, const uint8_t hdr[VSOCK_HDR_SIZE],
    const uint8_t *payload, uint32_t len, vsock_time_t now)
{
	return rawguest_send(ctx, hdr, payload, len, now);
}

static void
replay_kick(void *ctx, vsock_time_t now)
{
	rawguest_kick(ctx, now);
}

static unsigned
replay_drain(void *ctx, vsock_time_t now)
{
	return rawguest_drain(ctx, now);
}

static void
replay_detach(void *ctx)
{
	rawguest_destroy(ctx);
}

static int
replay_set_rx(void *ctx, uint32_t rx_payload)
{
	return rawguest_set_rx_payload(ctx, rx_payload);
}

const struct replay_guest_ops rawguest_replay_ops = {
	.attach = replay_attach,
	.send = replay_send,
	.kick = replay_kick,
	.drain = replay_drain,
	.detach = replay_detach,
	.set_rx = replay_set_rx,
};

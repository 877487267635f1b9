/* guest.c - a simulated Linux guest attached to a device, driven by flags and injected time as an event loop would. */
#include "config.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "guest.h"
#include "mem.h"
#include "vsock.h"

struct fg_guest {
	struct vsock_device *dev;
	struct fg_mem mem;
	struct fg_vsock *vs;
	vsock_time_t now;
	bool kick;			/* the guest notified the device */
	bool irq;			/* the device interrupted the guest */
};

/* The guest wrote a queue's notify register: remember, act in settle. */
static void
on_kick(void *ctx, unsigned q)
{
	(void)q;	/* the device looks at every queue on any kick */
	((struct fg_guest *)ctx)->kick = true;
}

/* The device raised the guest's interrupt. */
static void
on_irq(void *ctx, unsigned q)
{
	(void)q;	/* the guest's handler polls all three queues */
	((struct fg_guest *)ctx)->irq = true;
}

/* The stack's configuration (Linux's defaults, the caller's sizes), acked. */
static int
stack_config(struct vsock_device *dev, const struct fg_guest_config *c,
    struct fg_vsock_config *gc)
{
	uint8_t space[8];
	uint64_t cid;
	unsigned q;

	fg_vsock_config_defaults(gc);
	/* virtio 5.10.4: the CID is the config space, little-endian. */
	vsock_device_get_config(dev, space);
	memcpy(&cid, space, sizeof(cid));
	gc->guest_cid = le64toh(cid);
	gc->features = vsock_device_features(dev);
	for (q = 0; q < VSOCK_NUM_QUEUES; q++)
		gc->qsize[q] = c->qsize != 0 ? c->qsize : 128;
	if (c->rx_buf_size != 0)
		gc->rx_buf_size = c->rx_buf_size;
	gc->max_socks = c->max_socks != 0 ? c->max_socks : 256;
	return vsock_device_set_features(dev, gc->features);
}

/* Sets the device's queues up over the stack's rings. */
static int
attach_queues(struct fg_guest *g)
{
	const struct fg_ring *r;
	unsigned q;
	int e;

	for (q = 0; q < VSOCK_NUM_QUEUES; q++) {
		r = fg_vsock_ring(g->vs, q);
		if ((e = vsock_device_set_queue(g->dev, q, &g->mem.gm, r->num,
		    r->desc_gpa, r->avail_gpa, r->used_gpa)) < 0)
			return e;
	}
	return 0;
}

int
fg_guest_new(struct vsock_device *dev, const struct fg_guest_config *cfg,
    struct fg_guest **out)
{
	static const struct fg_guest_config defaults;
	struct fg_vsock_config gc;
	struct fg_guest *g;
	int e;

	if (cfg == NULL)
		cfg = &defaults;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return -VSE_ERR_NOMEM;
	g->dev = dev;
	if ((e = fg_mem_init_simple(&g->mem, cfg->ram_size != 0 ?
	    cfg->ram_size : UINT64_C(64) << 20)) < 0) {
		free(g);
		return e;
	}
	if ((e = stack_config(dev, cfg, &gc)) < 0)
		goto fail;
	gc.kick = on_kick;
	gc.kick_ctx = g;
	if ((e = fg_vsock_new(&g->mem, &gc, &g->vs)) < 0)
		goto fail;
	if ((e = attach_queues(g)) < 0)
		goto fail;
	vsock_device_set_notify(dev, on_irq, g);
	/* DRIVER_OK: the stack posts its buffers and kicks. */
	fg_vsock_start(g->vs);
	*out = g;
	return 0;
fail:
	if (g->vs != NULL)
		fg_vsock_free(g->vs);
	fg_mem_destroy(&g->mem);
	free(g);
	return e;
}

void
fg_guest_free(struct fg_guest *g)
{
	if (g == NULL)
		return;
	fg_vsock_free(g->vs);
	fg_mem_destroy(&g->mem);
	free(g);
}

struct fg_vsock *
fg_guest_vsock(struct fg_guest *g)
{
	return g->vs;
}

vsock_time_t
fg_guest_next_deadline(const struct fg_guest *g)
{
	vsock_time_t d = vsock_device_next_deadline(g->dev);
	uint64_t v = fg_vsock_next_deadline(g->vs);

	return d < v ? d : v;
}

/* One round: due timers, then the kick and the interrupt raised. */
static bool
settle_round(struct fg_guest *g)
{
	bool moved = false;

	if (vsock_device_next_deadline(g->dev) <= g->now) {
		vsock_device_run(g->dev, g->now);
		moved = true;
	} else if (fg_vsock_next_deadline(g->vs) <= g->now) {
		fg_vsock_poll(g->vs, g->now);
		moved = true;
	}
	if (g->kick) {
		g->kick = false;
		vsock_device_kick(g->dev, VSOCK_QUEUE_TX, g->now);
		moved = true;
	}
	if (g->irq) {
		g->irq = false;
		fg_vsock_poll(g->vs, g->now);
		moved = true;
	}
	return moved;
}

bool
fg_guest_settle(struct fg_guest *g, vsock_time_t now)
{
	unsigned rounds;

	if (now > g->now)
		g->now = now;
	for (rounds = 0; rounds < FG_GUEST_MAX_ROUNDS; rounds++)
		if (!settle_round(g))
			return true;
	return false;
}

const char *
fg_guest_violation(const struct fg_guest *g)
{
	return fg_vsock_violation(g->vs);
}

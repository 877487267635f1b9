/* sim-guest.c - a simulated guest driver over a device, as serve runs one per VM. */
#include "config.h"

#include <stdio.h>

#include "queues.h"
#include "sim-guest.h"

/*
 * The simulated guest reads the device's config space (ctx is the device),
 * as Linux's driver does on TRANSPORT_RESET (virtio_vsock_event_handle ->
 * virtio_vsock_update_guest_cid): how it learns a new CID after
 * `serve --control reset cid=N`.
 */
static void
read_config(void *ctx, uint8_t cfg[8])
{
	vsock_device_get_config(ctx, cfg);
}

int
sim_guest_new(struct vsock_device *dev, uint64_t cid, unsigned max_socks,
    fg_vsock_kick_fn kick, void *ctx, struct fg_mem *mem,
    struct fg_vsock **vs, char *err, size_t errlen)
{
	struct fg_vsock_config gc;
	unsigned q;

	if (fg_mem_init_simple(mem, SIM_GUEST_RAM) < 0) {
		snprintf(err, errlen, "cannot map guest memory");
		return -1;
	}
	fg_vsock_config_defaults(&gc);
	gc.guest_cid = cid;
	gc.features = vsock_device_features(dev);
	gc.max_socks = max_socks;
	gc.kick = kick;
	gc.kick_ctx = ctx;
	gc.read_config = read_config;
	gc.config_ctx = dev;
	if (vsock_device_set_features(dev, gc.features) < 0 ||
	    fg_vsock_new(mem, &gc, vs) < 0) {
		snprintf(err, errlen, "cannot set up the guest driver");
		return -1;
	}
	for (q = 0; q < VSOCK_NUM_QUEUES; q++) {
		const struct fg_ring *r = fg_vsock_ring(*vs, q);

		if (fg_ring_bind(dev, mem, q, r) < 0) {
			snprintf(err, errlen, "cannot set up queue %u", q);
			return -1;
		}
	}
	return 0;
}

void
sim_guest_on_kick(void *ctx, unsigned q)
{
	(void)q;
	((struct sim_guest_signals *)ctx)->kick = true;
}

void
sim_guest_on_irq(void *ctx, unsigned q)
{
	(void)q;
	((struct sim_guest_signals *)ctx)->irq = true;
}

bool
sim_guest_deliver(struct sim_guest_signals *s, struct vsock_device *dev,
    struct fg_vsock *vs, uint64_t now)
{
	bool moved = s->kick || s->irq;

	if (s->kick) {
		s->kick = false;
		vsock_device_kick(dev, VSOCK_QUEUE_TX, now);
	}
	if (s->irq) {
		s->irq = false;
		fg_vsock_poll(vs, now);
	}
	return moved;
}

bool
sim_guest_settle(struct sim_guest_signals *s, struct vsock_device *dev,
    struct fg_vsock *vs, sim_guest_apps_fn apps, void *ctx, uint64_t now)
{
	unsigned rounds;
	bool moved, any = false;

	for (rounds = 0; rounds < SIM_GUEST_SETTLE_ROUNDS; rounds++) {
		moved = sim_guest_deliver(s, dev, vs, now);
		if (apps != NULL)
			moved |= apps(ctx, now);
		if (!moved)
			break;
		any = true;
	}
	return any;
}

/* replay-live.c - replay --host: the trace's guest frames on the raw guest's rings, the program behind the muxer, paced by live-pace.c. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "host-side.h"
#include "live-pace.h"
#include "rawguest.h"

/* The --host side: the muxer, the device and the raw guest. */
struct live_host {
	struct host_side host;
	struct vsock_device *dev;
	struct rawguest g;
	bool guest_up;
};

/* Lets the device and the raw guest move everything already possible. */
static void
host_pump(struct live_pace *p)
{
	struct live_host *r = p->side;
	uint64_t now = loop_now();

	vsock_device_run(r->dev, now);
	muxer_run(r->host.mx, now);
	while (rawguest_drain(&r->g, now) > 0)
		;
}

static uint64_t
host_next_deadline(struct live_pace *p)
{
	struct live_host *r = p->side;
	uint64_t next = vsock_device_next_deadline(r->dev);
	uint64_t m = muxer_next_deadline(r->host.mx);

	return m < next ? m : next;
}

/* Puts guest frame i on the TX ring, waiting for a free slot if need be. */
static bool
host_feed(struct live_pace *p, uint64_t i)
{
	struct live_host *r = p->side;
	uint64_t deadline = live_pace_deadline(p);
	uint8_t hdr[VSOCK_HDR_SIZE];
	const uint8_t *payload;
	uint32_t len;
	int e;

	live_guest_frame(p->lt, i, hdr, &payload, &len);
	/* A device held back by a slow program keeps TX slots: wait. */
	while ((e = rawguest_send(&r->g, hdr, payload, len, loop_now())) ==
	    -VSE_ERR_NOMEM) {
		host_pump(p);
		if (live_diverged(p->lt))
			return true;
		if (loop_now() >= deadline) {
			snprintf(p->error, sizeof(p->error), "frame %" PRIu64
			    ": the device took no guest frame for %u ms",
			    i + 1, p->o->timeout_ms);
			return false;
		}
		if (!live_pace_wait(p, deadline))
			return false;
	}
	if (e < 0) {
		snprintf(p->error, sizeof(p->error), "cannot feed a guest "
		    "frame: %s", vse_strerror(e));
		return false;
	}
	rawguest_kick(&r->g, loop_now());
	host_pump(p);
	return true;
}

/* Opens the loop, the muxer at the UDS, the device and the raw guest. */
static int
host_setup(struct live_pace *p)
{
	struct live_host *r = p->side;
	struct muxer_config mc;
	struct host_device_opts ho;
	const char *why = NULL;
	int e;

	if (loop_new(&p->loop) < 0) {
		snprintf(p->error, sizeof(p->error), "cannot create the loop");
		return -1;
	}
	muxer_config_defaults(&mc);
	mc.uds_path = p->o->uds;
	mc.seqpacket = live_uses_seqpacket(p->lt);
	if (host_side_open(&r->host, p->loop, &mc, p->error,
	    sizeof(p->error)) < 0)
		return -1;
	ho = (struct host_device_opts){ .cid = live_guest_cid(p->lt),
	    .profile = p->profile, .seqpacket = mc.seqpacket,
	    .max_conns = VSOCK_DEFAULT_MAX_CONNS };
	if ((e = host_device_new(&r->host, &ho, NULL, &r->dev, &why)) < 0) {
		snprintf(p->error, sizeof(p->error), "%s", why ? why :
		    vse_strerror(e));
		return -1;
	}
	vsock_device_set_tap(r->dev, live_on_tap, p->lt);
	if ((e = rawguest_init(&r->g, r->dev, p->o->guest_rx_buf,
	    loop_now())) < 0) {
		snprintf(p->error, sizeof(p->error), "cannot set up the "
		    "guest: %s", vse_strerror(e));
		return -1;
	}
	r->guest_up = true;
	live_pace_ready(p, "replaying against the host program");
	return 0;
}

/* Frees what setup made; the device first (it closes the host sockets). */
static void
host_teardown(struct live_pace *p)
{
	struct live_host *r = p->side;

	if (r->dev != NULL)
		vsock_device_free(r->dev);
	if (r->guest_up)
		rawguest_destroy(&r->g);
	if (r->host.mx != NULL)
		muxer_free(r->host.mx);
}

static const struct live_pace_ops host_ops = {
	.setup = host_setup,
	.pump = host_pump,
	.next_deadline = host_next_deadline,
	.feed = host_feed,
	.teardown = host_teardown,
};

enum replay_verdict
replay_live_file(const char *path, const struct replay_live_options *o,
    struct replay_result *res)
{
	struct live_host r;

	memset(&r, 0, sizeof(r));
	return live_pace_file(path, LIVE_PROG_HOST, o, &host_ops, &r, res);
}

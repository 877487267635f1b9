/* replay-live-guest.c - replay --guest: the program's sockets are the simulated guest's (UDS.guest), the trace's host frames the scripted host's actions. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "backend-script.h"
#include "error.h"
#include "guest-apps.h"
#include "guest-endpoint.h"
#include "live-pace.h"
#include "sim-guest.h"

/* Rounds of guest, device and bridges before the loop looks at its fds. */
#define LIVE_SETTLE_ROUNDS	100000

/*
 * The --guest side, as serve's guest (doc/replay.md, "The guest side"):
 * the simulated guest (Linux's socket rules) with serve's endpoint for
 * run --guest programs; the host application is the scripted backend,
 * fed from the trace.
 */
struct live_guest {
	struct script_backend sb;
	bool sb_up;
	struct vsock_device *dev;
	struct fg_mem mem;
	struct fg_vsock *vs;
	struct gapps *apps;
	struct gep *gep;
	struct sim_guest_signals sig;
};

/* Lets the device, the guest and its bridges run until nothing moves. */
static void
guest_pump(struct live_pace *p)
{
	struct live_guest *r = p->side;
	uint64_t now = loop_now();
	unsigned k;

	vsock_device_run(r->dev, now);
	fg_vsock_poll(r->vs, now);
	for (k = 0; k < LIVE_SETTLE_ROUNDS; k++) {
		bool moved = sim_guest_deliver(&r->sig, r->dev, r->vs, now);

		moved |= gapps_run(r->apps, now);
		if (!moved)
			return;
	}
}

static uint64_t
guest_next_deadline(struct live_pace *p)
{
	struct live_guest *r = p->side;
	uint64_t next = vsock_device_next_deadline(r->dev);
	uint64_t g = fg_vsock_next_deadline(r->vs);

	return g < next ? g : next;
}

/*
 * The trace's host connects to a guest port: the program must listen
 * there first (its listen() reaches the guest through UDS.guest, after
 * it started), so the REQUEST waits for the listener, bounded.
 */
static bool
listening(struct live_pace *p, uint64_t i)
{
	struct live_guest *r = p->side;

	return gapps_port_check(r->apps, live_listen_port(p->lt, i),
	    loop_now()) == -EADDRINUSE;
}

static void
not_listening(struct live_pace *p, uint64_t i)
{
	live_listen_timed_out(p->lt, i, live_listen_port(p->lt, i),
	    p->o->timeout_ms);
}

/* Plays host frame i as the host application's action. */
static bool
guest_feed(struct live_pace *p, uint64_t i)
{
	struct live_guest *r = p->side;
	int e;

	if (live_listen_port(p->lt, i) != 0) {
		if (!live_pace_until(p, i, listening, not_listening))
			return false;
		if (live_diverged(p->lt))
			return true;
	}
	if ((e = live_play_host(p->lt, i, &r->sb, loop_now())) < 0) {
		snprintf(p->error, sizeof(p->error), "frame %" PRIu64 ": the "
		    "host application cannot act: %s", i + 1,
		    vse_strerror(e));
		return false;
	}
	guest_pump(p);
	return true;
}

/* The device on the scripted host, the simulated guest, UDS.guest. */
static int
guest_setup(struct live_pace *p)
{
	struct live_guest *r = p->side;
	struct vsock_device_config dc;
	bool seq = live_uses_seqpacket(p->lt);
	const char *why = NULL;
	int e;

	if (loop_new(&p->loop) < 0) {
		snprintf(p->error, sizeof(p->error), "cannot create the loop");
		return -1;
	}
	vsock_device_config_defaults(&dc);
	dc.guest_cid = live_guest_cid(p->lt);
	dc.profile = p->profile;
	dc.seqpacket = seq;
	script_init(&r->sb);
	r->sb_up = true;
	/* Answers wait for the trace's RESPONSE or RST (live_play_host). */
	script_listen_all(&r->sb, SCRIPT_PENDING);
	if ((e = vsock_device_new(&dc, &script_backend_ops, &r->sb, &r->dev,
	    &why)) < 0) {
		snprintf(p->error, sizeof(p->error), "%s", why ? why :
		    vse_strerror(e));
		return -1;
	}
	script_attach(&r->sb, r->dev);
	vsock_device_set_tap(r->dev, live_on_tap, p->lt);
	vsock_device_set_notify(r->dev, sim_guest_on_irq, &r->sig);
	if (sim_guest_new(r->dev, dc.guest_cid, VSOCK_DEFAULT_MAX_CONNS + 16,
	    sim_guest_on_kick, &r->sig, &r->mem, &r->vs, p->error,
	    sizeof(p->error)) < 0 ||
	    gapps_new(r->vs, p->loop, NULL, 0, NULL, 0, seq ?
	    VIRTIO_VSOCK_TYPE_SEQPACKET : VIRTIO_VSOCK_TYPE_STREAM, &r->apps,
	    p->error, sizeof(p->error)) < 0 ||
	    gep_new(p->loop, p->o->uds, r->apps, seq, &r->gep, p->error,
	    sizeof(p->error)) < 0)
		return -1;
	fg_vsock_start(r->vs);
	live_pace_ready(p, "replaying against the guest program");
	return 0;
}

/* Closes the endpoint (its socket files) and the guest before the device. */
static void
guest_teardown(struct live_pace *p)
{
	struct live_guest *r = p->side;
	uint64_t now = loop_now();

	gep_free(r->gep, now);
	if (r->apps != NULL)
		gapps_free(r->apps, now);
	if (r->dev != NULL)
		vsock_device_free(r->dev);
	if (r->sb_up)
		script_free(&r->sb);
	if (r->vs != NULL)
		fg_vsock_free(r->vs);
	fg_mem_destroy(&r->mem);
}

static const struct live_pace_ops guest_ops = {
	.setup = guest_setup,
	.pump = guest_pump,
	.next_deadline = guest_next_deadline,
	.feed = guest_feed,
	.teardown = guest_teardown,
};

enum replay_verdict
replay_live_guest_file(const char *path, const struct replay_live_options *o,
    struct replay_result *res)
{
	struct live_guest r;

	memset(&r, 0, sizeof(r));
	return live_pace_file(path, LIVE_PROG_GUEST, o, &guest_ops, &r, res);
}

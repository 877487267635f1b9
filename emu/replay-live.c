/* replay-live.c - drives a live replay: the muxer and device on the loop, the trace's guest frames paced by what the program has done. */
#include "config.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "host-side.h"
#include "loop.h"
#include "rawguest.h"
#include "replay-live.h"
#include "live-trace.h"

/* One live replay: the loop, the muxer, the device and the raw guest. */
struct live_run {
	const struct replay_live_options *o;
	struct live_trace *lt;
	struct loop *loop;
	struct host_side host;
	struct vsock_device *dev;
	struct rawguest g;
	bool guest_up;
	enum vsock_profile profile;
	int stop_signal;		/* SIGINT, SIGTERM, SIGHUP: stop */
	char error[256];		/* set: the run itself failed */
};

/* Lets the device and the raw guest move everything already possible. */
static void
pump(struct live_run *r)
{
	uint64_t now = loop_now();

	vsock_device_run(r->dev, now);
	muxer_run(r->host.mx, now);
	while (rawguest_drain(&r->g, now) > 0)
		;
}

/* Waits for the loop (fds, the device's and muxer's timers) until deadline. */
static bool
wait_once(struct live_run *r, uint64_t deadline)
{
	uint64_t next = vsock_device_next_deadline(r->dev);
	uint64_t m = muxer_next_deadline(r->host.mx);

	if (m < next)
		next = m;
	if (deadline < next)
		next = deadline;
	if (loop_wait(r->loop, next))
		return true;
	r->stop_signal = loop_stop_signal(r->loop);
	snprintf(r->error, sizeof(r->error), "interrupted by signal %d",
	    r->stop_signal);
	return false;
}

/*
 * Waits until host frame i is matched: the guest's next frame goes only
 * after every host frame before it, so the guest's pace is the program's.
 * A program silent for the timeout is a divergence, never a hang.
 */
static bool
await_host(struct live_run *r, uint64_t i)
{
	uint64_t deadline = loop_now() + (uint64_t)r->o->timeout_ms * 1000000u;

	for (;;) {
		pump(r);
		if (live_diverged(r->lt) || live_host_frame_done(r->lt, i))
			return true;
		if (loop_now() >= deadline) {
			live_timed_out(r->lt, i, r->o->timeout_ms);
			return true;
		}
		if (!wait_once(r, deadline))
			return false;
	}
}

/* Puts guest frame i on the TX ring, waiting for a free slot if need be. */
static bool
feed_guest(struct live_run *r, uint64_t i)
{
	uint64_t deadline = loop_now() + (uint64_t)r->o->timeout_ms * 1000000u;
	uint8_t hdr[VSOCK_HDR_SIZE];
	const uint8_t *payload;
	uint32_t len;
	int e;

	live_guest_frame(r->lt, i, hdr, &payload, &len);
	/* A device held back by a slow program keeps TX slots: wait. */
	while ((e = rawguest_send(&r->g, hdr, payload, len, loop_now())) ==
	    -VSE_ERR_NOMEM) {
		pump(r);
		if (live_diverged(r->lt))
			return true;
		if (loop_now() >= deadline) {
			snprintf(r->error, sizeof(r->error), "frame %" PRIu64
			    ": the device took no guest frame for %u ms",
			    i + 1, r->o->timeout_ms);
			return false;
		}
		if (!wait_once(r, deadline))
			return false;
	}
	if (e < 0) {
		snprintf(r->error, sizeof(r->error), "cannot feed a guest "
		    "frame: %s", vse_strerror(e));
		return false;
	}
	rawguest_kick(&r->g, loop_now());
	pump(r);
	return true;
}

/*
 * After the last frame: takes what the program already did (ready fds, no
 * waiting), so output beyond the trace's end that has arrived diverges.
 */
static void
settle_end(struct live_run *r)
{
	unsigned k;

	for (k = 0; k < 16 && !live_diverged(r->lt); k++) {
		pump(r);
		if (!wait_once(r, loop_now()))
			return;
	}
	pump(r);
}

/* The profile: --profile, else the one the host's buf_alloc implies. */
static enum vsock_profile
pick_profile(const struct live_run *r)
{
	uint32_t b = live_host_buf_alloc(r->lt);

	if (r->o->profile != REPLAY_PROFILE_INFER)
		return (enum vsock_profile)r->o->profile;
	return b != 0 ? replay_profile_for(b) : VSOCK_PROFILE_LINUX;
}

/* Opens the loop, the muxer at the UDS, the device and the raw guest. */
static int
setup(struct live_run *r)
{
	struct muxer_config mc;
	struct host_device_opts ho;
	const char *why = NULL;
	int e;

	if (loop_new(&r->loop) < 0) {
		snprintf(r->error, sizeof(r->error), "cannot create the loop");
		return -1;
	}
	muxer_config_defaults(&mc);
	mc.uds_path = r->o->uds;
	mc.seqpacket = live_uses_seqpacket(r->lt);
	if (host_side_open(&r->host, r->loop, &mc, r->error,
	    sizeof(r->error)) < 0)
		return -1;
	r->profile = pick_profile(r);
	ho = (struct host_device_opts){ .cid = live_guest_cid(r->lt),
	    .profile = r->profile, .seqpacket = mc.seqpacket,
	    .max_conns = VSOCK_DEFAULT_MAX_CONNS };
	if ((e = host_device_new(&r->host, &ho, NULL, &r->dev, &why)) < 0) {
		snprintf(r->error, sizeof(r->error), "%s", why ? why :
		    vse_strerror(e));
		return -1;
	}
	vsock_device_set_tap(r->dev, live_on_tap, r->lt);
	if ((e = rawguest_init(&r->g, r->dev, r->o->guest_rx_buf,
	    loop_now())) < 0) {
		snprintf(r->error, sizeof(r->error), "cannot set up the "
		    "guest: %s", vse_strerror(e));
		return -1;
	}
	r->guest_up = true;
	return 0;
}

/* Frees what setup made; the device first (it closes the host sockets). */
static void
teardown(struct live_run *r)
{
	if (r->dev != NULL)
		vsock_device_free(r->dev);
	if (r->guest_up)
		rawguest_destroy(&r->g);
	if (r->host.mx != NULL)
		muxer_free(r->host.mx);
	if (r->loop != NULL)
		loop_free(r->loop);
}

/* Every frame in order: host frames awaited, guest frames fed. */
static uint64_t
run_frames(struct live_run *r)
{
	uint64_t i, n = live_frame_count(r->lt);

	for (i = 0; i < n && !live_diverged(r->lt); i++) {
		bool ok = live_frame_is_guest(r->lt, i) ? feed_guest(r, i) :
		    await_host(r, i);

		if (!ok)
			return i;
	}
	if (!live_diverged(r->lt))
		settle_end(r);
	return i;
}

enum replay_verdict
replay_live_file(const char *path, const struct replay_live_options *o,
    struct replay_result *res)
{
	struct live_run r;
	uint64_t done = 0;

	memset(&r, 0, sizeof(r));
	r.o = o;
	if (live_trace_load(path, &r.lt, res) < 0)
		return res->verdict;
	if (setup(&r) == 0)
		done = run_frames(&r);
	live_finish(r.lt, done, r.profile, vsock_profile_buf_alloc(r.profile),
	    o->guest_rx_buf ? o->guest_rx_buf :
	    VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE, res);
	if (r.error[0] != '\0' && res->verdict != REPLAY_DIVERGED) {
		res->verdict = REPLAY_UNUSABLE;
		snprintf(res->error, sizeof(res->error), "%s: live replay "
		    "against %s: %s", path, o->uds, r.error);
	}
	teardown(&r);
	live_trace_free(r.lt);
	/*
	 * The loop held the stop signal for a clean teardown (the muxer's
	 * socket files, the host sockets); now it does what it would have
	 * done to a replay without a loop: end the program.
	 */
	if (r.stop_signal != 0) {
		signal(r.stop_signal, SIG_DFL);
		raise(r.stop_signal);
	}
	return res->verdict;
}

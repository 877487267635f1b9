/* live-pace.c - a trace paced by a live program: the program's frames awaited, the peer's fed, every wait bounded by --live-timeout. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "live-pace.h"

void
live_pace_ready(struct live_pace *p, const char *status)
{
	char what[300];

	if (p->o->ready == NULL || p->o->ready->said)
		return;
	snprintf(what, sizeof(what), "uds=%s", p->o->uds);
	ready_signal(p->o->ready, what, status);
}

uint64_t
live_pace_deadline(const struct live_pace *p)
{
	return loop_now() + (uint64_t)p->o->timeout_ms * 1000000u;
}

bool
live_pace_wait(struct live_pace *p, uint64_t deadline)
{
	uint64_t next = p->ops->next_deadline(p);

	if (deadline < next)
		next = deadline;
	if (loop_wait(p->loop, next))
		return true;
	p->stop_signal = loop_stop_signal(p->loop);
	snprintf(p->error, sizeof(p->error), "interrupted by signal %d",
	    p->stop_signal);
	return false;
}

bool
live_pace_until(struct live_pace *p, uint64_t i,
    bool (*done)(struct live_pace *p, uint64_t i),
    void (*timed_out)(struct live_pace *p, uint64_t i))
{
	uint64_t deadline = live_pace_deadline(p);

	for (;;) {
		p->ops->pump(p);
		if (live_diverged(p->lt) || done(p, i))
			return true;
		if (loop_now() >= deadline) {
			timed_out(p, i);
			return true;
		}
		if (!live_pace_wait(p, deadline))
			return false;
	}
}

static bool
frame_done(struct live_pace *p, uint64_t i)
{
	return live_frame_done(p->lt, i);
}

static void
frame_timed_out(struct live_pace *p, uint64_t i)
{
	live_timed_out(p->lt, i, p->o->timeout_ms);
}

/*
 * After the last frame: takes what the program already did (ready fds, no
 * waiting), so output beyond the trace's end that has arrived diverges.
 */
static void
settle_end(struct live_pace *p)
{
	unsigned k;

	for (k = 0; k < 16 && !live_diverged(p->lt); k++) {
		p->ops->pump(p);
		if (!live_pace_wait(p, loop_now()))
			return;
	}
	p->ops->pump(p);
}

/* Every frame in order: the program's awaited, the peer's fed. */
static uint64_t
run_frames(struct live_pace *p)
{
	uint64_t i, n = live_frame_count(p->lt);

	for (i = 0; i < n && !live_diverged(p->lt); i++) {
		/*
		 * The peer's next frame goes only after every program frame
		 * before it is matched, so the trace's pace is the program's.
		 */
		bool ok = live_frame_is_fed(p->lt, i) ? p->ops->feed(p, i) :
		    live_pace_until(p, i, frame_done, frame_timed_out);

		if (!ok)
			return i;
	}
	if (!live_diverged(p->lt))
		settle_end(p);
	return i;
}

/* The profile: --profile, else the one the host's buf_alloc implies. */
static enum vsock_profile
pick_profile(const struct live_pace *p)
{
	uint32_t b = live_host_buf_alloc(p->lt);

	if (p->o->profile != REPLAY_PROFILE_INFER)
		return (enum vsock_profile)p->o->profile;
	return b != 0 ? replay_profile_for(b) : VSOCK_PROFILE_LINUX;
}

enum replay_verdict
live_pace_file(const char *path, enum live_side side,
    const struct replay_live_options *o, const struct live_pace_ops *ops,
    void *state, struct replay_result *res)
{
	struct live_pace p;
	uint64_t done = 0;

	memset(&p, 0, sizeof(p));
	p.o = o;
	p.ops = ops;
	p.side = state;
	if (live_trace_load(path, side, &p.lt, res) < 0)
		return res->verdict;
	p.profile = pick_profile(&p);
	if (ops->setup(&p) == 0)
		done = run_frames(&p);
	live_finish(p.lt, done, p.profile, vsock_profile_buf_alloc(p.profile),
	    o->guest_rx_buf ? o->guest_rx_buf :
	    VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE, res);
	if (p.error[0] != '\0' && res->verdict != REPLAY_DIVERGED) {
		res->verdict = REPLAY_UNUSABLE;
		snprintf(res->error, sizeof(res->error), "%s: live replay "
		    "against %s: %s", path, o->uds, p.error);
	}
	ops->teardown(&p);
	if (p.loop != NULL)
		loop_free(p.loop);
	live_trace_free(p.lt);
	/*
	 * The loop held the stop signal for a clean teardown (socket files,
	 * the program's connections); now it does what it would have done
	 * to a replay without a loop: end the program.
	 */
	if (p.stop_signal != 0) {
		signal(p.stop_signal, SIG_DFL);
		raise(p.stop_signal);
	}
	return res->verdict;
}

/* live-pace.h - what replay --host and --guest share: a trace paced by a live program, every wait bounded, the stop signal kept for teardown. */
#ifndef VSOCKEMU_LIVE_PACE_H
#define VSOCKEMU_LIVE_PACE_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "live-trace.h"
#include "loop.h"
#include "replay-live.h"

struct live_pace;

/* What one side (--host, --guest) plugs into the pacing. */
struct live_pace_ops {
	/* Opens the loop (p->loop), the device and the side's endpoint. */
	int (*setup)(struct live_pace *p);
	/* Lets everything move that can without waiting. */
	void (*pump)(struct live_pace *p);
	/* The earliest timer of the side's parts (UINT64_MAX: none). */
	uint64_t (*next_deadline)(struct live_pace *p);
	/* Plays fed frame i; false with p->error set when the run failed. */
	bool (*feed)(struct live_pace *p, uint64_t i);
	/* Frees what setup made (also after a failed setup). */
	void (*teardown)(struct live_pace *p);
};

/* One live replay of one trace. */
struct live_pace {
	const struct replay_live_options *o;
	const struct live_pace_ops *ops;
	void *side;			/* the side's own state */
	struct live_trace *lt;
	struct loop *loop;
	enum vsock_profile profile;	/* the device's: --profile or inferred */
	int stop_signal;		/* SIGINT, SIGTERM, SIGHUP: stop */
	char error[256];		/* set: the run itself failed */
};

/*
 * The side's sockets listen: --ready-fd, NOTIFY_SOCKET (once a run: with
 * several traces, when the first trace's do).
 */
void live_pace_ready(struct live_pace *p, const char *status);

/* The end of a wait of --live-timeout that starts now. */
uint64_t live_pace_deadline(const struct live_pace *p);

/*
 * Waits for the loop (fds, the side's timers) until deadline at most.
 * false when a stop signal came (p->error says so).
 */
bool live_pace_wait(struct live_pace *p, uint64_t deadline);

/*
 * Pumps and waits until done(p, i) or a divergence; after --live-timeout
 * calls timed_out(p, i) (which records the divergence): a silent program
 * is a divergence, never a hang. false when a stop signal came.
 */
bool live_pace_until(struct live_pace *p, uint64_t i,
    bool (*done)(struct live_pace *p, uint64_t i),
    void (*timed_out)(struct live_pace *p, uint64_t i));

/*
 * Replays the trace at path with the program on side: loads it, sets up,
 * feeds the peer's frames and awaits the program's, each wait bounded by
 * o->timeout_ms; fills res as replay_file() does and returns its verdict.
 * A stop signal tears down first (socket files removed), then ends the
 * process by that signal.
 */
enum replay_verdict live_pace_file(const char *path, enum live_side side,
    const struct replay_live_options *o, const struct live_pace_ops *ops,
    void *state, struct replay_result *res);

#endif

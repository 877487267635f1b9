/* replay-live.h - `vsockemu replay --host UDS`: a trace's guest side played against the user's live host program. */
#ifndef VSOCKEMU_REPLAY_LIVE_H
#define VSOCKEMU_REPLAY_LIVE_H

#include "ready.h"
#include "replay.h"

/* Default of --live-timeout: how long one step waits for the program. */
#define REPLAY_LIVE_TIMEOUT_MS	5000
#define REPLAY_LIVE_TIMEOUT_MAX	3600000u

struct replay_live_options {
	const char *uds;		/* the muxer's socket, as serve's */
	unsigned timeout_ms;		/* per awaited host frame */
	int profile;			/* enum vsock_profile or _INFER */
	uint32_t guest_rx_buf;		/* 0: 4096 */
	bool guest;			/* --guest: the program is the guest */
	struct ready *ready;		/* --ready-fd...; NULL: none */
};

/*
 * Replays the trace at path with its host side played by a live program
 * reached through a muxer at o->uds (doc/replay.md, "Replay against a live
 * program"); fills res as replay_file() does. Returns res->verdict.
 */
enum replay_verdict replay_live_file(const char *path,
    const struct replay_live_options *o, struct replay_result *res);

/*
 * --guest: the same with its guest side played by a live program under
 * `vsockemu run --guest o->uds` (the simulated guest's endpoint at
 * o->uds.guest) and its host side by the scripted host application.
 */
enum replay_verdict replay_live_guest_file(const char *path,
    const struct replay_live_options *o, struct replay_result *res);

#endif

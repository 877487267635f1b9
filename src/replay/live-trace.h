/* live-trace.h - replay against a live host program: the trace held in memory, and the semantic comparator of what the program did. */
#ifndef VSE_LIVE_TRACE_H
#define VSE_LIVE_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt.h"
#include "replay.h"
#include "tap-record.h"

/*
 * `vsockemu replay --host UDS` and `--guest UDS` (doc/replay.md, "Replay
 * against a live program"). One side of the trace is the user's running
 * program, the other (the peer) is fed from the trace: with --host the
 * trace's guest frames go on the device's TX ring and the program is the
 * host application; with --guest the program's sockets are the simulated
 * guest's and the trace's host frames are played by the scripted host
 * application (live_play_host). What the program's side sends through the
 * device (its bytes, its shutdowns, closes and refusals) is compared with
 * the trace's frames of that side semantically: per connection one
 * coalesced byte stream and the order of lifecycle events (REQUEST,
 * RESPONSE, RST, SHUTDOWN with its flags) relative to it. Credit packets
 * and packet boundaries are free. This part holds no sockets and no
 * clock: the program (emu/replay-live*.c) drives it.
 */

/* Whose side of the trace the live program plays. */
enum live_side {
	LIVE_PROG_HOST,		/* --host: the trace's guest is fed */
	LIVE_PROG_GUEST,	/* --guest: the trace's host is fed */
};

struct live_trace;

/* Caps on what a live trace may hold: it is read whole before the run. */
#define LIVE_MAX_FRAMES		262144
#define LIVE_MAX_CONNS		4096
#define LIVE_MAX_BYTES		(64u << 20)	/* payload, both ways */

/*
 * Reads the trace at path whole and works out roles and connections. On
 * unusable input returns -1 with res->verdict REPLAY_UNUSABLE and res->error
 * naming the path (and frame); else 0 and *out.
 */
int live_trace_load(const char *path, enum live_side side,
    struct live_trace **out, struct replay_result *res);

void live_trace_free(struct live_trace *lt);

/* The guest CID the device must have (the trace's when valid, else 3). */
uint64_t live_guest_cid(const struct live_trace *lt);

/* Does the trace use SEQPACKET (the device and muxer must offer it)? */
bool live_uses_seqpacket(const struct live_trace *lt);

/* The host's buf_alloc the profile is inferred from (0: none seen). */
uint32_t live_host_buf_alloc(const struct live_trace *lt);

uint64_t live_frame_count(const struct live_trace *lt);

/* Is frame i (0-based) the peer's (fed) rather than the program's (awaited)? */
bool live_frame_is_fed(const struct live_trace *lt, uint64_t i);

/*
 * --host: guest frame i as it must go on the TX ring: CIDs mapped onto the device's
 * (guest's, 2) and a host-initiated connection's host port onto the one the
 * device chose; payload and length as recorded. Also marks the frame's
 * connection as started, so the device's answers on it are compared.
 */
void live_guest_frame(struct live_trace *lt, uint64_t i,
    uint8_t hdr[VSOCK_HDR_SIZE], const uint8_t **payload, uint32_t *len);

/* Has program frame i been matched by what the program did (credit: always)? */
bool live_frame_done(const struct live_trace *lt, uint64_t i);

/*
 * A device tap (ctx: the live trace): every packet of the program's side
 * (--host: the device's to the guest; --guest: the guest's to the device)
 * is compared; the first divergence is kept and ends the run.
 */
void live_on_tap(void *ctx, const struct vsock_tap_record *rec);

/* The program did nothing for timeout_ms while frame i was awaited. */
void live_timed_out(struct live_trace *lt, uint64_t i, unsigned timeout_ms);

struct script_backend;

/*
 * --guest: the guest port the program must listen on before fed frame i
 * (a host REQUEST the trace's guest accepted) can be played, or 0 when i
 * needs none.
 */
uint32_t live_listen_port(const struct live_trace *lt, uint64_t i);

/* --guest: the program did not listen on port for timeout_ms before frame i. */
void live_listen_timed_out(struct live_trace *lt, uint64_t i, uint32_t port,
    unsigned timeout_ms);

/*
 * --guest: plays host frame i as the host application's action on sb
 * (scripted backend, every port listening SCRIPT_PENDING): answers the
 * guest's REQUEST, connects, writes, shuts down, closes or aborts; a
 * credit packet, or a frame on a connection the device has already
 * ended, does nothing. Returns 0, or a -VSE_ERR_* code.
 */
int live_play_host(struct live_trace *lt, uint64_t i,
    struct script_backend *sb, uint64_t now);

bool live_diverged(const struct live_trace *lt);

/*
 * Fills res: counts, profile and buf_alloc as given, and PASS or the
 * divergence (frames: those replayed up to it).
 */
void live_finish(struct live_trace *lt, uint64_t frames_done,
    enum vsock_profile profile, uint32_t buf_alloc, uint32_t guest_rx_buf,
    struct replay_result *res);

#endif

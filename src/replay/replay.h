/* replay.h - verify the device against a recorded vsockmon trace, frame by frame. */
#ifndef VSE_REPLAY_H
#define VSE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "device.h"
#include "pcap-reader.h"

/*
 * Deterministic replay (doc/replay.md). Per connection one endpoint of the
 * trace is the guest: its frames are put on the device's TX ring exactly as
 * recorded (only CIDs and the host's allocated port mapped onto the
 * device's). The other endpoint is the device plus a host application whose
 * actions are inferred from the trace (or given by a host script); its frames
 * are the expected output. Before each guest frame the device runs until it
 * is quiescent, and what it sent is compared with the host frames the trace
 * shows before that guest frame. Time is the capture's; the wall clock is
 * never read.
 */

struct replay;
struct replay_script;

enum replay_mode {
	REPLAY_SEMANTIC = 0,	/* outcomes, events, byte streams, invariants */
	REPLAY_STRICT,		/* and every header field of every host frame */
};

enum replay_verdict {
	REPLAY_PASS = 0,
	REPLAY_DIVERGED = 1,
	REPLAY_UNUSABLE = 2,	/* not a capture, wrong link type, corrupt,
				   no frame, or beyond a memory limit */
};

/* Where the guest's frames go: a driver over the device's queues. */
struct replay_guest_ops {
	/*
	 * The device exists: set its queues up and post RX buffers of
	 * rx_payload bytes after the header (0: the driver's default).
	 */
	int (*attach)(void *ctx, struct vsock_device *dev,
	    uint32_t rx_payload, vsock_time_t now);
	/*
	 * Queues one TX chain: header then len payload bytes, exactly; no
	 * kick. Must hold REPLAY_BATCH_MAX chains between kicks.
	 */
	int (*send)(void *ctx, const uint8_t hdr[VSOCK_HDR_SIZE],
	    const uint8_t *payload, uint32_t len, vsock_time_t now);
	/* Kicks TX: the device takes every queued chain in one go. */
	void (*kick)(void *ctx, vsock_time_t now);
	/*
	 * Give used RX buffers back and kick; returns how many were used.
	 * A drain that returns 0 has not touched the device (rp_settle
	 * relies on it).
	 */
	unsigned (*drain)(void *ctx, vsock_time_t now);
	/* The device is about to be freed. */
	void (*detach)(void *ctx);
	/*
	 * Optional: from now on, RX buffers hold rx_payload bytes after the
	 * header, those posted and not yet used included (replay learns the
	 * size from the trace as it goes). NULL: the size stays.
	 */
	int (*set_rx)(void *ctx, uint32_t rx_payload);
};

/*
 * Guest frames of one instant with no host frame between them are fed as
 * one batch, as a device processes what one kick made available before it
 * answers; at most this many.
 */
#define REPLAY_BATCH_MAX	8

#define REPLAY_PROFILE_INFER	(-1)

struct replay_options {
	enum replay_mode mode;
	int profile;			/* enum vsock_profile or _INFER */
	uint32_t buf_alloc;		/* 0: the trace's (first host packet) */
	/*
	 * Payload bytes of each guest RX buffer. A real guest's size shows
	 * in its trace (a SEQPACKET fragment is exactly one buffer; no
	 * packet is larger): 0 lets replay_file infer it, else 4096.
	 */
	uint32_t guest_rx_buf;
	bool host_initiated;		/* equal CIDs: the REQUEST's sender is the host */
	/*
	 * The guest to replay in a capture of several (a host's vsockmon
	 * sees every VM): frames of other guests are skipped and counted.
	 * 0: the first frame's guest, and another guest diverges.
	 */
	uint64_t guest_cid;
	const struct replay_script *script;	/* NULL: infer everything */
	/* Every packet the device taps (guest frames as fed, its output). */
	vsock_tap_fn tap;
	void *tap_ctx;
};

/* Frames of context kept for a divergence report. */
#define REPLAY_CONTEXT		5

/* One trace frame, as remembered for context. */
struct replay_ctx_frame {
	uint64_t number;
	uint64_t ts_ns;			/* since the first frame */
	bool to_guest;
	struct vsock_hdr hdr;
};

/* The first divergence of a trace. */
struct replay_divergence {
	uint64_t frame;			/* trace frame number; see at_end */
	bool at_end;			/* found when the trace had ended */
	char conn[96];			/* "guest 3:1024 <-> host 2:1234" */
	char field[32];			/* "op", "fwd_cnt", "credit", ... */
	char what[160];			/* one sentence */
	char expected[192];		/* TRACE_FORMAT_HDR_LEN: a header fits */
	char actual[192];
	struct replay_ctx_frame context[REPLAY_CONTEXT];
	unsigned ncontext;
};

struct replay_result {
	enum replay_verdict verdict;
	enum replay_mode mode;
	uint64_t frames, guest_frames, host_frames;
	uint64_t conns;
	uint64_t bytes_g2h, bytes_h2g;	/* payload in the trace */
	uint64_t device_packets;	/* what the device sent */
	uint64_t split_taps;		/* Linux 6.1 split-tap records, trimmed */
	uint64_t repeated_rsts;		/* Linux's RST when the application
					 * closes a socket already reset */
	uint64_t reset_shutdowns;	/* Linux's SHUTDOWN from a socket
					 * already reset */
	uint64_t queued_rws;		/* Linux's RW queued before the
					 * guest's full SHUTDOWN, sent after */
	uint64_t other_guest_frames;	/* skipped: not opt.guest_cid's */
	/*
	 * Records the capture's snapshot length cut inside the payload
	 * (VSOCK_PCAP_ACCEPT_CUT): replayed with filler, their missing bytes
	 * not compared (cut_bytes of bytes_g2h + bytes_h2g); cut_snaplen is
	 * the longest such record, the snapshot length.
	 */
	uint64_t cut_records, cut_bytes;
	uint32_t cut_snaplen;
	enum vsock_profile profile;
	uint32_t buf_alloc;
	bool profile_inferred;
	uint32_t guest_rx_buf;		/* payload bytes per guest RX buffer */
	bool rx_inferred;		/* guest_rx_buf read off the trace */
	char error[640];		/* REPLAY_UNUSABLE: why, naming the frame */
	struct replay_divergence div;	/* REPLAY_DIVERGED */
};

void replay_options_defaults(struct replay_options *o);

/*
 * Starts a replay with the device configured by o (profile and buf_alloc
 * must be decided: replay_file infers them). The guest ops and ctx must
 * outlive it. Returns 0 or -VSE_ERR_NOMEM / -VSE_ERR_INVAL.
 */
int replay_new(const struct replay_options *o, enum vsock_profile profile,
    uint32_t buf_alloc, const struct replay_guest_ops *guest, void *guest_ctx,
    struct replay **out);

/*
 * Feeds the next frame (numbers and times must come in capture order; a
 * time that runs backwards is taken as the latest so far). Returns 0 to go
 * on, 1 once the verdict is settled (the trace diverged, or went beyond
 * what replay holds in memory: UNUSABLE; further frames are ignored), or
 * -VSE_ERR_NOMEM. Memory follows the live connections and one window, never
 * the number of frames fed (doc/replay.md, "Memory and speed"). A frame
 * not dropped with payload_len < hdr.len (cut by the snapshot length) is
 * replayed with filler to hdr.len (-VSE_ERR_INVAL above
 * VIRTIO_VSOCK_MAX_PKT_BUF_SIZE) and counted in cut_records and cut_bytes.
 */
int replay_feed(struct replay *rp, const struct vsock_pcap_frame *f);

/*
 * Ends the trace: settles the last frames and the byte streams, fills res
 * (verdict PASS or DIVERGED; UNUSABLE past a memory limit, res->error
 * naming the frame). Call once.
 */
void replay_finish(struct replay *rp, struct replay_result *res);

void replay_free(struct replay *rp);

/*
 * Replays the capture at path with o, driving a fake guest through guest.
 * Unusable input gives REPLAY_UNUSABLE with res->error naming path and
 * frame. Returns res->verdict.
 */
enum replay_verdict replay_file(const char *path,
    const struct replay_options *o, const struct replay_guest_ops *guest,
    void *guest_ctx, struct replay_result *res);

/* Picks the profile a host buf_alloc implies (262144: linux, else firecracker). */
enum vsock_profile replay_profile_for(uint32_t buf_alloc);

/* --- host scripts (--host-script) --- */

/* What the host application does on one port. */
enum replay_port_mode {
	REPLAY_PORT_INFER = 0,	/* accept/refuse, sends and reads as traced */
	REPLAY_PORT_ACCEPT,	/* accept; sends and reads as traced */
	REPLAY_PORT_REFUSE,	/* refuse every connection */
	REPLAY_PORT_ECHO,	/* accept, read at once, send it back, close on EOF */
};

/*
 * Parses a host script: one "PORT MODE" a line (MODE accept, refuse or
 * echo), '#' comments and blank lines ignored. On error returns
 * -VSE_ERR_INVAL and a message naming the line in msg.
 */
int replay_script_parse(const char *text, struct replay_script **out,
    char *msg, size_t msglen);
enum replay_port_mode replay_script_mode(const struct replay_script *s,
    uint32_t port);
void replay_script_free(struct replay_script *s);

/* --- expected verdicts (--expect: doc/replay.md, "Expected verdicts") --- */

struct replay_expect;

/* What a manifest line expects of one trace in one mode. */
struct replay_expectation {
	enum replay_verdict verdict;
	uint64_t frame;			/* DIVERGED: the frame named; 0 any */
	unsigned line;			/* the manifest's line */
};

/*
 * Parses a manifest (testvectors/MANIFEST's format): one "TRACE MODE
 * VERDICT [FRAME]" a line, MODE semantic or strict, VERDICT pass, diverged
 * or unusable, FRAME only after diverged; '#' comments and blank lines
 * ignored; a later line for the same trace and mode wins. A relative TRACE
 * is relative to dir (the manifest's directory). On error returns
 * -VSE_ERR_INVAL and a message naming the line in msg.
 */
int replay_expect_parse(const char *text, const char *dir,
    struct replay_expect **out, char *msg, size_t msglen);

/*
 * The expectation for the trace at path in mode, or NULL. Matched by file
 * identity (device and inode; stat(2), which never reads the file), so
 * "./t.pcap" and "t.pcap" are one trace; "-" never matches.
 */
const struct replay_expectation *replay_expect_find(
    const struct replay_expect *e, const char *path, enum replay_mode mode);

/* Does res meet x (the verdict, and for DIVERGED the frame if given)? */
bool replay_expect_met(const struct replay_expectation *x,
    const struct replay_result *res);

void replay_expect_free(struct replay_expect *e);

/* --- reports --- */

/*
 * The version of --format json's objects (doc/replay.md, "JSON report"):
 * raised whenever a field changes meaning or goes, not when one is added.
 */
#define REPLAY_JSON_SCHEMA 1

enum replay_format {
	REPLAY_FORMAT_TEXT = 0,
	REPLAY_FORMAT_TAP,
	REPLAY_FORMAT_JSON,
};

/* "PASS", "DIVERGED" or "UNUSABLE", as the reports say it. */
const char *replay_verdict_name(enum replay_verdict v);

/*
 * Formats the report of trace number index (1-based) of total into a new
 * string (caller frees): a summary line per trace and, on divergence, the
 * frame, connection, field, expected and actual values and the context. TAP
 * gets a plan before the first trace; JSON gives one object per trace
 * (one a line). Returns NULL without memory.
 */
char *replay_report(const char *trace, const struct replay_result *res,
    enum replay_format fmt, unsigned index, unsigned total);

/*
 * The same with what manifest (its name, for the report) expects of the
 * trace, x: a verdict that meets it is marked expected (TAP: a TODO
 * directive for a divergence), one that does not is reported UNEXPECTED.
 */
char *replay_report_expected(const char *trace, const struct replay_result *res,
    const struct replay_expectation *x, const char *manifest,
    enum replay_format fmt, unsigned index, unsigned total);

/* A trace the manifest says nothing about in this mode: not replayed. */
char *replay_report_skipped(const char *trace, const char *manifest,
    enum replay_mode mode, enum replay_format fmt, unsigned index,
    unsigned total);

/* How many traces got each verdict; with --expect, how many as expected. */
struct replay_totals {
	unsigned traces, passed, diverged, unusable;
	bool expecting;
	unsigned met, skipped;
	unsigned unexpected;		/* verdict not as expected ... */
	unsigned unexpected_unusable;	/* ... of which unusable */
};

void replay_totals_add(struct replay_totals *t, enum replay_verdict v);

/* Counts a replayed trace against its expectation (with --expect). */
void replay_totals_expected(struct replay_totals *t,
    const struct replay_expectation *x, const struct replay_result *res);

/*
 * The exit status the verdicts call for: 1 if any trace diverged (bad
 * input elsewhere must not hide a divergence), else 2 if any was unusable,
 * else 0. With --expect, only verdicts the manifest did not expect count:
 * 1 if any of those is a pass or a divergence, else 2 if any is unusable.
 */
int replay_totals_status(const struct replay_totals *t);

/*
 * The last line of a run, "N traces: P passed, D diverged, U unusable"
 * (a TAP comment; in JSON {"totals":{...}}), and with --expect one more,
 * "expected: M as expected, X unexpected, S not in the manifest", as a new
 * string (caller frees), or NULL without memory.
 */
char *replay_totals_report(const struct replay_totals *t,
    enum replay_format fmt);

#endif

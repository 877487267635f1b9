/* replay-int.h - private structures of the replay engine (src/replay*.c). */
#ifndef VSE_REPLAY_INT_H
#define VSE_REPLAY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend-script.h"
#include "replay.h"

/*
 * Memory is bounded by what is live, never by the trace's length
 * (doc/replay.md, "Memory and speed"):
 * - a finished pair (closed on both sides, nothing owed, its bytes matched)
 *   is remembered for the packets Linux sends after a close (a second RST,
 *   an RST for a late SHUTDOWN), and forgotten once this many newer pairs
 *   have finished: the device's own connection limit, so a burst of closes
 *   as large as the device can hold is still told apart;
 */
#define RP_KEEP_FINISHED	1024
/*
 * - one window (the host frames between two guest frames, and the device's
 *   packets of that time) holds at most this many packets: real traces need
 *   a few hundred;
 */
#define RP_WINDOW_MAX		65536
/*
 * - one direction's bytes held until the other side matches them (and so a
 *   SEQPACKET message being gathered) hold at most this much: four times
 *   the largest buffer replay believes a host advertises (replay-file.c).
 */
#define RP_HOLD_MAX		(16u << 20)
#define RP_HOLD_MAX_MIB		16

/*
 * - the look-ahead to a host SEQPACKET message's end (replay-eom.c) holds
 *   at most this many frames and payload bytes; beyond, the message is
 *   handed over as its fragments come, as without a look-ahead.
 */
#define RP_EOM_AHEAD_FRAMES	4096
#define RP_EOM_AHEAD_BYTES	(4u << 20)
/* What stands for the unknown rest of a message the guest's close cut. */
#define RP_EOM_UNKNOWN		1

/* A parsed host script: what the application does per port. */
struct replay_script {
	unsigned n;
	struct {
		uint32_t port;
		enum replay_port_mode mode;
	} port[SCRIPT_MAX_LISTENERS];
};

/* Which side of a comparison a packet or byte came from. */
enum rp_side {
	RP_TRACE = 0,		/* the recorded host frames */
	RP_DEVICE = 1,		/* what the device did */
};

/* A connection's life as the trace shows it. */
enum rp_state {
	RPC_NONE = 0,		/* no connection on the pair yet */
	RPC_GUEST_REQ,		/* guest REQUEST waiting for an answer */
	RPC_HOST_REQ,		/* host REQUEST waiting for an answer */
	RPC_OPEN,		/* established (maybe half-closed) */
	RPC_CLOSED,		/* an RST ended it */
};

/*
 * One direction's byte stream, compared without regard to packet
 * boundaries: the side that is ahead keeps its surplus here until the other
 * catches up. The buffer only grows; steady state allocates nothing.
 */
struct rp_stream {
	uint8_t *buf;
	size_t off, len, cap;		/* surplus is buf[off .. len) */
	int lead;			/* enum rp_side holding it, or -1 */
	uint64_t total[2];		/* bytes pushed by each side */
};

/* One host packet of a window, in trace terms (ports and CIDs mapped back). */
struct rp_pkt {
	struct vsock_hdr h;
	uint64_t frame;			/* trace frame, or the one being processed */
};

/* A growable list of a window's packets, reused from window to window. */
struct rp_pktlist {
	struct rp_pkt *v;
	uint32_t n, cap;
};

/*
 * One (guest port, host port) pair of the trace and the connections it
 * carried one after another. Trace-side fields (t_*) follow the recorded
 * host frames; guest fields (g_*) the replayed guest frames, which the
 * trace and the device share; device fields (d_*) what the device sent.
 */
struct rp_conn {
	uint32_t guest_port, host_port;	/* as in the trace */
	uint32_t dev_port;		/* the device's host port */
	uint16_t type;
	bool host_initiated;
	enum replay_port_mode mode;
	struct script_conn *sc;		/* the host application's end */
	uint8_t state;			/* enum rp_state */
	bool t_opened;			/* the connection got established */
	bool t_late_rst;		/* its application's closing RST was seen */
	uint64_t t_queued_frame;	/* first RW after the guest's full
					 * SHUTDOWN, awaiting the RST, or 0 */
	uint32_t t_queued_rws;		/* such RWs so far */
	uint32_t d_owed_rst;		/* guest packets to a dead pair, unanswered */
	bool counted;			/* counted as a connection */

	/* guest frames as replayed */
	uint8_t g_shut;			/* SHUTDOWN flags the guest sent */
	bool g_rst;			/* the guest's last frame was RST */
	uint32_t g_buf, g_fwd;		/* its last buf_alloc and fwd_cnt */
	uint64_t g_tx;			/* RW payload bytes it sent */
	uint64_t g_creq_frame;		/* unanswered CREDIT_REQUEST, or 0 */

	/* the trace's host frames */
	uint8_t t_shut;			/* SHUTDOWN flags the host sent */
	uint32_t t_owed_rst;		/* RSTs owed for guest packets on no connection */
	uint64_t t_tx;			/* RW payload bytes the host sent */
	uint32_t t_fwd;			/* its last fwd_cnt */
	uint32_t t_buf;			/* its last buf_alloc, 0: none yet */
	uint64_t t_read;		/* bytes the application read */
	bool t_abort;			/* an RST this window the app may have caused */
	uint8_t *msg;			/* SEQPACKET message being gathered */
	uint32_t msg_len, msg_cap;
	bool msg_ahead;			/* ... already handed over whole */

	/* the device's packets */
	uint64_t d_tx;			/* RW payload bytes it sent */
	uint32_t d_buf, d_fwd;		/* buf_alloc, fwd_cnt it last reported */
	bool d_reported;
	bool d_creq;			/* CREDIT_REQUEST sent since the guest's update */
	bool d_echo_closed;

	struct rp_stream h2g, g2h;
	struct rp_pktlist win[2];	/* this window, by enum rp_side */
	bool in_window;
	struct rp_conn *win_next;
	struct rp_conn *tnext, *dnext;	/* hash chains: trace key, device key */
	bool dkeyed;
	struct rp_conn *all_next, *all_prev;
	bool kept;			/* finished, on the list of finished pairs */
	struct rp_conn *kept_next, *kept_prev;
};

/* A chained hash table of connections by (guest port, host port). */
struct rp_table {
	struct rp_conn **bucket;
	uint32_t nbuckets, count;
	bool device;			/* keyed by dev_port through dnext */
	/*
	 * The last connection found, NULL after any insert or remove: a
	 * trace's frames mostly name the connection before (rp_table_find).
	 */
	struct rp_conn *hit;
};

struct replay {
	struct replay_options opt;
	enum vsock_profile profile;
	uint32_t buf_alloc;
	const struct replay_guest_ops *guest;
	void *guest_ctx;
	struct vsock_device *dev;
	struct script_backend sb;
	bool attached;

	/* the trace's endpoints */
	bool started;
	uint64_t t0;			/* first frame's time */
	vsock_time_t now;		/* virtual time: capture time since t0 */
	uint64_t guest_cid, host_cid;	/* as in the trace */
	uint64_t dev_guest_cid;

	struct rp_table tkeys, dkeys;
	struct rp_conn *all;
	/* Finished pairs, oldest first (RP_KEEP_FINISHED). */
	struct rp_conn *kept_head, *kept_tail;
	uint32_t nkept;
	uint32_t window_pkts;		/* packets held by this window */
	unsigned reap_at;		/* host application ends before a sweep */
	struct rp_conn *window;		/* connections touched this window */
	struct rp_conn *connecting;	/* host connect in progress (tap binds) */
	uint64_t cur_frame;		/* frame being processed */
	/* Guest frames queued for one kick, in order (see REPLAY_BATCH_MAX). */
	struct rp_pending {
		struct rp_conn *c;
		uint64_t number;
		uint16_t op;
		bool dir_marked, dropped;	/* the recording's verdict */
		bool tapped, tapped_dropped;	/* the device's */
	} batch[REPLAY_BATCH_MAX];
	unsigned nbatch, ntapped;
	vsock_time_t batch_t;

	/*
	 * Frames held while a host SEQPACKET message's end is looked for
	 * (replay-eom.c): frame[head .. n), payloads in buf.
	 */
	struct rp_ahead {
		struct vsock_pcap_frame *frame;
		size_t *off;			/* each frame's payload in buf */
		unsigned head, n, cap;
		uint8_t *buf;
		size_t len, bufcap;
		bool checked;			/* frame[head] looked at */
		bool pending;			/* frame[head] starts a message */
		unsigned scan;			/* its end looked for up to here */
		/* The whole message, for the application at frame give. */
		uint8_t *msg;
		uint32_t msg_len, msg_cap, msg_flags;
		uint64_t give;			/* frame number, 0: none */
		struct rp_conn *give_conn;
	} ahead;

	struct replay_ctx_frame ring[REPLAY_CONTEXT];
	uint64_t nring;
	unsigned ring_at;		/* nring % REPLAY_CONTEXT, kept: no division a frame */

	/* The guest's RX buffer size, learned as it goes (replay-rxsize.c). */
	bool rx_learning;
	uint32_t rx_largest;		/* largest host RW so far */

	/* Records cut by the snaplen (replay-cut.c): filler, made once. */
	uint8_t *cut_fill, *cut_buf;

	bool diverged;
	bool nomem;
	bool limited;			/* a replay limit was hit: unusable */
	bool finishing;			/* the trace has ended */
	struct replay_result res;
};

/* replay-conn.c */
int rp_table_init(struct rp_table *t, bool device);
void rp_table_free(struct rp_table *t);
struct rp_conn *rp_table_lookup(struct rp_table *t, uint32_t guest_port,
    uint32_t host_port);

/* The host port a table keys c by. */
static inline uint32_t
rp_table_port(const struct rp_table *t, const struct rp_conn *c)
{
	return t->device ? c->dev_port : c->host_port;
}

/*
 * The connection with the key, or NULL. Inline for the last one found,
 * which most frames and device packets name (rp_table_lookup).
 */
static inline struct rp_conn *
rp_table_find(struct rp_table *t, uint32_t guest_port, uint32_t host_port)
{
	struct rp_conn *c = t->hit;

	if (c != NULL && c->guest_port == guest_port &&
	    rp_table_port(t, c) == host_port)
		return c;
	return rp_table_lookup(t, guest_port, host_port);
}
int rp_table_insert(struct rp_table *t, struct rp_conn *c);
void rp_table_remove(struct rp_table *t, struct rp_conn *c);
struct rp_conn *rp_conn_new(struct replay *rp, uint32_t guest_port,
    uint32_t host_port);
void rp_conn_reset(struct rp_conn *c);
int rp_conn_rekey(struct replay *rp, struct rp_conn *c, uint32_t dev_port);
void rp_conn_free_all(struct replay *rp);
void rp_conn_unkeep(struct replay *rp, struct rp_conn *c);

/*
 * A frame or a device packet is about c: a finished pair is live again.
 * Inline, as rp_touch: every frame and device packet comes here.
 */
static inline void
rp_conn_use(struct replay *rp, struct rp_conn *c)
{
	if (c->kept)
		rp_conn_unkeep(rp, c);
}

/* Puts c on this window's list (once). */
static inline void
rp_touch(struct replay *rp, struct rp_conn *c)
{
	rp_conn_use(rp, c);
	if (c->in_window)
		return;
	c->in_window = true;
	c->win_next = rp->window;
	rp->window = c;
}
void rp_conn_set_app(struct rp_conn *c, struct script_conn *sc);
void rp_conn_finish_window(struct replay *rp, struct rp_conn *c);
void rp_conn_reap(struct replay *rp);
void rp_conn_name(const struct replay *rp, const struct rp_conn *c,
    char *buf, size_t len);

/* replay-stream.c */
void rp_stream_free(struct rp_stream *s);
void rp_stream_trim(struct rp_stream *s);
int rp_stream_lead(struct replay *rp, struct rp_stream *s, enum rp_side side,
    const uint8_t *p, size_t n);
int rp_stream_match(struct replay *rp, struct rp_stream *s, enum rp_side side,
    const uint8_t *p, size_t n, uint64_t *at);

/*
 * Side `side` produced n more bytes. Returns 0, or 1 when they differ from
 * what the other side produced at the same offset (*at = that offset in
 * the stream), or -1 when they cannot be held (rp is unusable: out of
 * memory or over RP_HOLD_MAX). Inline, the choice between holding
 * (rp_stream_lead) and comparing (rp_stream_match): each needs less of a
 * frame apart, and every RW's bytes come here twice.
 */
static inline int
rp_stream_push(struct replay *rp, struct rp_stream *s, enum rp_side side,
    const uint8_t *p, size_t n, uint64_t *at)
{
	/* Nothing held (len == off) means nobody is ahead. */
	if (s->len == s->off || s->lead == -1 || s->lead == (int)side)
		return rp_stream_lead(rp, s, side, p, n);
	return rp_stream_match(rp, s, side, p, n, at);
}
size_t rp_stream_pending(const struct rp_stream *s, enum rp_side *lead);
int rp_stream_retract(struct rp_stream *s, enum rp_side side, size_t n);
int rp_pktlist_add(struct rp_pktlist *l, const struct vsock_hdr *h,
    uint64_t frame);
void rp_pktlist_free(struct rp_pktlist *l);
void rp_window_hold(struct replay *rp, struct rp_conn *c, enum rp_side side,
    const struct vsock_hdr *h, uint64_t frame);
void rp_window_drop_last(struct replay *rp, struct rp_conn *c,
    enum rp_side side);
bool rp_msg_append(struct replay *rp, struct rp_conn *c, const uint8_t *p,
    uint32_t len);

/* replay.c */
int rp_feed_frame(struct replay *rp, const struct vsock_pcap_frame *f);
void rp_diverge(struct replay *rp, uint64_t frame, const struct rp_conn *c,
    const char *field, const char *expected, const char *actual,
    const char *fmt, ...) __attribute__((format(printf, 7, 8)));
void rp_limit(struct replay *rp, uint64_t frame, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* replay-trace.c */
int rp_trace_host(struct replay *rp, struct rp_conn *c,
    const struct vsock_pcap_frame *f);
void rp_trace_guest(struct replay *rp, struct rp_conn *c,
    const struct vsock_hdr *h, const uint8_t *payload);
struct rp_conn *rp_trace_conn(struct replay *rp,
    const struct vsock_pcap_frame *f, bool *to_guest);
struct rp_conn *rp_trace_find(struct replay *rp,
    const struct vsock_pcap_frame *f, bool *to_guest);

bool rp_app_service(struct replay *rp, struct rp_conn *c);
void rp_queued_rws_settle(struct replay *rp, struct rp_conn *c, bool rst);

/* replay-eom.c */
int rp_eom_feed(struct replay *rp, const struct vsock_pcap_frame *f);
int rp_eom_flush(struct replay *rp);
void rp_eom_free(struct replay *rp);
bool rp_eom_take(struct replay *rp, const struct rp_conn *c,
    const uint8_t **msg, uint32_t *len, uint32_t *flags);

/* replay-rxsize.c */
void replay_learn_rx(struct replay *rp);
void rp_rx_learn(struct replay *rp, const struct vsock_pcap_frame *f);

/* replay-cut.c */
/*
 * Completes a frame whose payload the capture cut (payload_len < hdr.len)
 * into g: the captured bytes, then filler of the stream offset
 * stream_off onward, to hdr.len (at most VIRTIO_VSOCK_MAX_PKT_BUF_SIZE:
 * else -VSE_ERR_INVAL). g's payload lasts until the next call. Counts the
 * record. Returns 0, -VSE_ERR_INVAL or -VSE_ERR_NOMEM.
 */
int rp_cut_complete(struct replay *rp, const struct vsock_pcap_frame *f,
    uint64_t stream_off, struct vsock_pcap_frame *g);
void rp_cut_free(struct replay *rp);

/* replay-device.c */
int rp_device_start(struct replay *rp);
void rp_device_stop(struct replay *rp);
void rp_run_timers(struct replay *rp, vsock_time_t t);

/*
 * Fires every timer due by t (rp_run_timers). Inline: every frame asks,
 * and mostly none is due.
 */
static inline void
rp_run_until(struct replay *rp, vsock_time_t t)
{
	if (vsock_device_next_deadline(rp->dev) <= t)
		rp_run_timers(rp, t);
}
bool rp_settle(struct replay *rp);
void rp_flush_batch(struct replay *rp);

/*
 * Kicks the queued guest frames, if any (rp_flush_batch). Inline: every
 * host frame asks, and most find none queued.
 */
static inline void
rp_flush_guest(struct replay *rp)
{
	if (rp->nbatch != 0)
		rp_flush_batch(rp);
}
int rp_feed_guest(struct replay *rp, struct rp_conn *c,
    const struct vsock_pcap_frame *f);
void rp_device_quiescent(struct replay *rp, struct rp_conn *c);

/* replay-compare.c */

/* Does op end, open or refuse a connection (what semantic mode compares)? */
static inline bool
rp_is_event(uint16_t op)
{
	return op == VIRTIO_VSOCK_OP_REQUEST || op == VIRTIO_VSOCK_OP_RESPONSE ||
	    op == VIRTIO_VSOCK_OP_RST || op == VIRTIO_VSOCK_OP_SHUTDOWN;
}

/*
 * Does the mode compare packets of op (strict: all; semantic: events)?
 * Inline: every host frame and device packet asks, and in semantic mode
 * most (data, credit) are not held.
 */
static inline bool
rp_compared(const struct replay *rp, uint16_t op)
{
	return rp->opt.mode == REPLAY_STRICT || rp_is_event(op);
}

/*
 * Holds a packet of this window for the comparison, if the mode compares
 * it (replay-stream.c, rp_window_hold).
 */
static inline void
rp_window_add(struct replay *rp, struct rp_conn *c, enum rp_side side,
    const struct vsock_hdr *h, uint64_t frame)
{
	if (rp_compared(rp, h->op))
		rp_window_hold(rp, c, side, h, frame);
}

void rp_compare_window(struct replay *rp, struct rp_conn *c,
    uint64_t closing_frame);

#endif

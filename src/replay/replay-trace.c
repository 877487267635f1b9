/* replay-trace.c - the trace's side: roles, what the recorded host may do, and what its application did. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "replay-int.h"

/*
 * Finds the pair a frame belongs to (NULL: none yet) and says which way it
 * went.
 * A vsockemu mark or CID 2 on either side settles the direction; with equal
 * CIDs (Linux loopback) or no host CID, the pair's first REQUEST decides:
 * its sender is the guest, or the host with --host-initiated.
 */
static inline struct rp_conn *
trace_find(struct replay *rp, const struct vsock_pcap_frame *f,
    bool *to_guest)
{
	const struct vsock_hdr *h = &f->hdr;
	uint32_t gp, hp;

	if (f->dir_marked || h->src_cid == VMADDR_CID_HOST ||
	    h->dst_cid == VMADDR_CID_HOST) {
		*to_guest = f->to_guest;
	} else if (rp_table_find(&rp->tkeys, h->src_port, h->dst_port) !=
	    NULL) {
		*to_guest = false;
	} else if (rp_table_find(&rp->tkeys, h->dst_port, h->src_port) !=
	    NULL) {
		*to_guest = true;
	} else {
		*to_guest = h->op == VIRTIO_VSOCK_OP_REQUEST &&
		    rp->opt.host_initiated;
	}
	gp = *to_guest ? h->dst_port : h->src_port;
	hp = *to_guest ? h->src_port : h->dst_port;
	return rp_table_find(&rp->tkeys, gp, hp);
}

struct rp_conn *
rp_trace_find(struct replay *rp, const struct vsock_pcap_frame *f,
    bool *to_guest)
{
	return trace_find(rp, f, to_guest);
}

/* The same, creating the pair if it is new; inline: every frame asks. */
struct rp_conn *
rp_trace_conn(struct replay *rp, const struct vsock_pcap_frame *f,
    bool *to_guest)
{
	const struct vsock_hdr *h = &f->hdr;
	struct rp_conn *c;

	if ((c = trace_find(rp, f, to_guest)) == NULL)
		c = *to_guest ? rp_conn_new(rp, h->dst_port, h->src_port) :
		    rp_conn_new(rp, h->src_port, h->dst_port);
	else
		rp_conn_use(rp, c);
	return c;
}

/* A new connection on the pair: fresh counters, counted once. */
static void
begin_conn(struct replay *rp, struct rp_conn *c, uint16_t type)
{
	rp_conn_reset(c);
	c->type = type;
	c->counted = true;
	c->mode = rp->opt.script != NULL ?
	    replay_script_mode(rp->opt.script, c->host_port) :
	    REPLAY_PORT_INFER;
	rp->res.conns++;
}

/*
 * The guest receives no more while a host SEQPACKET message is half sent:
 * the trace shows its first fragments, never its end, so the application's
 * message is unknown and no device can be held to it. Those bytes leave the
 * comparison (the guest's stack drops a message without its EOM).
 */
static void
drop_cut_message(struct rp_conn *c)
{
	enum rp_side lead;
	size_t n;

	if (c->type != VIRTIO_VSOCK_TYPE_SEQPACKET ||
	    (c->msg_len == 0 && !c->msg_ahead))
		return;
	/*
	 * The device may have sent the head (the application had the message
	 * from the look-ahead, replay-eom.c): those bytes matched; what is
	 * left over either side is the message's, unknown.
	 */
	/* lead is set only when something is pending (n > 0). */
	n = rp_stream_pending(&c->h2g, &lead);
	if (n > 0 && lead == RP_TRACE)
		(void)rp_stream_retract(&c->h2g, RP_TRACE,
		    n < c->msg_len ? n : c->msg_len);
	else if (n > 0 && c->msg_ahead)
		(void)rp_stream_retract(&c->h2g, RP_DEVICE,
		    n < RP_EOM_UNKNOWN ? n : RP_EOM_UNKNOWN);
	c->msg_len = 0;
	c->msg_ahead = false;
}

/* Guest frames on a live connection: credit, data, shutdown. */
static void
guest_open(struct replay *rp, struct rp_conn *c, const struct vsock_hdr *h,
    const uint8_t *payload)
{
	uint64_t at;

	if (h->op == VIRTIO_VSOCK_OP_RST || (h->op ==
	    VIRTIO_VSOCK_OP_SHUTDOWN && (h->flags & VIRTIO_VSOCK_SHUTDOWN_RCV)))
		drop_cut_message(c);
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RW:
		if (c->g_shut & VIRTIO_VSOCK_SHUTDOWN_SEND)
			break;		/* the device drops it */
		c->g_tx += h->len;
		(void)rp_stream_push(rp, &c->g2h, RP_TRACE, payload, h->len,
		    &at);
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		c->g_shut |= (uint8_t)(h->flags & VIRTIO_VSOCK_SHUTDOWN_MASK);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		if (c->g_creq_frame == 0)
			c->g_creq_frame = rp->cur_frame;
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		c->d_creq = false;
		break;
	case VIRTIO_VSOCK_OP_RST:
		c->state = RPC_CLOSED;
		break;
	}
}

/*
 * A guest frame the device is about to receive (and, marked or not, did
 * not drop in the recording): what the guest now has and what the host
 * owes it.
 */
void
rp_trace_guest(struct replay *rp, struct rp_conn *c, const struct vsock_hdr *h,
    const uint8_t *payload)
{
	bool live = c->state == RPC_GUEST_REQ || c->state == RPC_HOST_REQ ||
	    c->state == RPC_OPEN;

	if (h->op == VIRTIO_VSOCK_OP_RW)
		rp->res.bytes_g2h += h->len;
	c->g_rst = h->op == VIRTIO_VSOCK_OP_RST;
	if (!vsock_type_known(h->type) || (live && h->type != c->type)) {
		/* Unknown type: RST (never for RST); wrong type: dropped. */
		if (!live && h->op != VIRTIO_VSOCK_OP_RST)
			c->t_owed_rst++;
		return;
	}
	if (!live) {
		if (h->op == VIRTIO_VSOCK_OP_REQUEST) {
			begin_conn(rp, c, h->type);
			c->state = RPC_GUEST_REQ;
			c->g_buf = h->buf_alloc;
			c->g_fwd = h->fwd_cnt;
		} else if (h->op != VIRTIO_VSOCK_OP_RST) {
			c->t_owed_rst++;
			c->d_owed_rst++;	/* the device owes it too */
		}
		return;
	}
	c->g_buf = h->buf_alloc;
	c->g_fwd = h->fwd_cnt;
	if (c->state == RPC_OPEN) {
		guest_open(rp, c, h, payload);
	} else if (h->op == VIRTIO_VSOCK_OP_RST) {
		c->state = RPC_CLOSED;
	} else if (c->state == RPC_HOST_REQ &&
	    h->op == VIRTIO_VSOCK_OP_RESPONSE) {
		c->state = RPC_OPEN;
		c->t_opened = true;
	}
}

/* --- the host application's actions, inferred from its frames --- */

/* The host connects to the guest's port, as its REQUEST shows. */
static int
act_connect(struct replay *rp, struct rp_conn *c)
{
	struct script_conn *sc;
	int e;

	rp->connecting = c;
	e = script_connect(&rp->sb, c->guest_port, c->type, rp->now, &sc);
	rp->connecting = NULL;
	if (e < 0)
		return e;
	rp_conn_set_app(c, sc);
	sc->in_gated = c->mode != REPLAY_PORT_ECHO;
	if (c->dev_port != sc->host_port && rp_conn_rekey(rp, c,
	    sc->host_port) < 0)
		rp->nomem = true;
	return 0;
}

/*
 * The application sends a host RW's payload (SEQPACKET: whole messages).
 * A message cut into several packets (by the guest's credit,
 * virtio_transport_send_pkt_info() -> virtio_transport_get_credit(), or
 * its RX buffers; EOM only on the last) was written whole before the
 * first left: the look-ahead (replay-eom.c) found its end, and it is
 * handed over at the first fragment. Without it (beyond the look-ahead,
 * or the end never comes), only at the EOM.
 */
static void
act_send(struct replay *rp, struct rp_conn *c, const struct vsock_hdr *h,
    const uint8_t *p)
{
	const uint8_t *whole;
	uint32_t len, flags;

	if (c->sc == NULL || c->mode == REPLAY_PORT_ECHO)
		return;
	if (c->type == VIRTIO_VSOCK_TYPE_STREAM) {
		if (h->len > 0 && script_send(&rp->sb, c->sc, p, h->len, 0,
		    rp->now) < 0)
			rp->nomem = true;
		return;
	}
	if (c->msg_len == 0 && !c->msg_ahead &&
	    rp_eom_take(rp, c, &whole, &len, &flags)) {
		if (script_send(&rp->sb, c->sc, whole, len, flags,
		    rp->now) < 0)
			rp->nomem = true;
		c->msg_ahead = true;
	}
	/* Gathered all the same: a guest's close may still cut it. */
	if (!rp_msg_append(rp, c, p, h->len))
		return;
	if (h->flags & VIRTIO_VSOCK_SEQ_EOM) {
		if (!c->msg_ahead && script_send(&rp->sb, c->sc, c->msg,
		    c->msg_len, h->flags & (VIRTIO_VSOCK_SEQ_EOM |
		    VIRTIO_VSOCK_SEQ_EOR), rp->now) < 0)
			rp->nomem = true;
		c->msg_len = 0;
		c->msg_ahead = false;
	}
}

/*
 * The application shut down or closed, as a SHUTDOWN with new flags shows.
 * Linux sends one per shutdown() with that call's flags (vsock_shutdown),
 * and RCV|SEND when the application closes, after its SHUTDOWN(SEND) too
 * (virtio_transport_close): SEND then RCV|SEND is a half-close, then the
 * close.
 */
static void
act_shutdown(struct replay *rp, struct rp_conn *c, uint32_t flags,
    uint8_t added)
{
	if (c->sc == NULL || c->mode == REPLAY_PORT_ECHO || added == 0)
		return;
	if ((flags & VIRTIO_VSOCK_SHUTDOWN_MASK) == VIRTIO_VSOCK_SHUTDOWN_MASK)
		script_close(&rp->sb, c->sc, false, rp->now);
	else if (added & VIRTIO_VSOCK_SHUTDOWN_SEND)
		script_shutdown_write(&rp->sb, c->sc, rp->now);
	else
		script_shutdown_read(&rp->sb, c->sc, rp->now);
}

/*
 * Takes the host frame just added to c's window out again: a known Linux
 * behaviour the device does not reproduce, accepted with a warning.
 */
static void
accept_unreproduced(struct replay *rp, struct rp_conn *c, uint64_t *counter)
{
	(*counter)++;
	rp_window_drop_last(rp, c, RP_TRACE);
}

/*
 * Is this RST the application closing a socket that was already reset?
 * Linux's virtio_transport_close() sends RST when the peer had shut down
 * both ways, which an RST from either side implies
 * (virtio_transport_do_close sets peer_shutdown): once per connection,
 * from the socket, so with its buf_alloc. A reply to a packet with no
 * socket carries buf_alloc 0 (virtio_transport_reset_no_sock) and Linux
 * never sends it for an RST: that is what no device may do.
 */
static bool
closing_reset_socket(const struct rp_conn *c, const struct vsock_hdr *h)
{
	return c->state == RPC_CLOSED && c->t_opened && !c->t_late_rst &&
	    h->buf_alloc != 0;
}

/*
 * The application resized its buffer, as a host packet whose buf_alloc
 * differs from the connection's previous one shows: Linux announces it at
 * once (setsockopt(SO_VM_SOCKETS_BUFFER_SIZE) -> vsock_update_buffer_size()
 * -> virtio_transport_notify_buffer_size() -> a CREDIT_UPDATE). The device
 * clamps what it is told (vsock_device_host_set_buf_alloc).
 */
static void
act_buf_alloc(struct replay *rp, struct rp_conn *c, uint32_t buf_alloc)
{
	uint32_t was = c->t_buf;

	c->t_buf = buf_alloc;
	if (was == 0 || was == buf_alloc || c->sc == NULL ||
	    c->sc->conn == NULL || c->mode == REPLAY_PORT_ECHO)
		return;
	(void)vsock_device_host_set_buf_alloc(rp->dev, c->sc->conn, buf_alloc,
	    rp->now);
}

/* The guest's pending REQUEST is answered: accepted or refused. */
static void
act_answer(struct replay *rp, struct rp_conn *c, int err)
{
	if (c->sc != NULL && c->mode == REPLAY_PORT_INFER)
		script_complete(&rp->sb, c->sc, err, rp->now);
}

/* --- what a conforming device may send --- */

/*
 * RWs the host sent after the guest's full SHUTDOWN are what Linux had
 * queued before it, if the RST that answers the SHUTDOWN follows (rst) in
 * the same window; anything else first, or no RST, and they were data sent
 * after the guest's SHUTDOWN(RCV).
 */
void
rp_queued_rws_settle(struct replay *rp, struct rp_conn *c, bool rst)
{
	if (c->t_queued_frame == 0)
		return;
	if (rst)
		rp->res.queued_rws += c->t_queued_rws;
	else
		rp_diverge(rp, c->t_queued_frame, c, "op", "no data", "RW",
		    "the host sends data after the guest's SHUTDOWN(RCV) and "
		    "no RST follows it");
	c->t_queued_frame = 0;
	c->t_queued_rws = 0;
}

/* A host RST: owed for a guest packet, a refusal, or an abort. */
static void
host_rst(struct replay *rp, struct rp_conn *c, const struct vsock_pcap_frame *f)
{
	rp_queued_rws_settle(rp, c, true);
	switch (c->state) {
	case RPC_NONE:
	case RPC_CLOSED:
		if (c->t_owed_rst > 0) {
			c->t_owed_rst--;
		} else if (closing_reset_socket(c, &f->hdr)) {
			/*
			 * Harmless (it answers nothing) and not reproduced:
			 * the device forgets a pair at its RST, and an RST
			 * later could end a new connection on the pair.
			 */
			c->t_late_rst = true;
			accept_unreproduced(rp, c, &rp->res.repeated_rsts);
		} else if (c->g_rst) {
			rp_diverge(rp, f->number, c, "op", "nothing",
			    "RST", "the host answers the guest's RST with an "
			    "RST; a device never replies to an RST");
		} else {
			rp_diverge(rp, f->number, c, "op", "nothing",
			    "RST", "the host sends RST on a pair with no "
			    "connection the guest has not sent anything to");
		}
		break;
	case RPC_GUEST_REQ:
		act_answer(rp, c, -ECONNREFUSED);
		c->state = RPC_CLOSED;
		break;
	case RPC_OPEN:
		c->t_abort = true;
		c->state = RPC_CLOSED;
		break;
	default:
		/* A host REQUEST unanswered: the request timeout's RST. */
		c->state = RPC_CLOSED;
		break;
	}
}

/* The host's fwd_cnt: never back, never beyond what the guest sent. */
static int
host_fwd(struct replay *rp, struct rp_conn *c, const struct vsock_pcap_frame *f)
{
	uint32_t adv = f->hdr.fwd_cnt - c->t_fwd;
	char e[40], a[40];

	if (adv == 0)
		return 0;
	/* The texts are made only for a divergence: this runs per frame. */
	if (adv > UINT32_MAX / 2) {
		snprintf(a, sizeof(a), "%" PRIu32, f->hdr.fwd_cnt);
		snprintf(e, sizeof(e), "at least %" PRIu32, c->t_fwd);
		rp_diverge(rp, f->number, c, "fwd_cnt", e, a,
		    "the host's fwd_cnt went backwards");
		return 1;
	}
	if (c->t_read + adv > c->g_tx) {
		snprintf(a, sizeof(a), "%" PRIu32, f->hdr.fwd_cnt);
		snprintf(e, sizeof(e), "at most %" PRIu32,
		    (uint32_t)(c->t_fwd + (c->g_tx - c->t_read)));
		rp_diverge(rp, f->number, c, "fwd_cnt", e, a,
		    "the host reports %" PRIu64 " bytes forwarded but the "
		    "guest has sent only %" PRIu64, c->t_read + adv, c->g_tx);
		return 1;
	}
	c->t_fwd = f->hdr.fwd_cnt;
	c->t_read += adv;
	if (c->sc != NULL && c->mode != REPLAY_PORT_ECHO)
		script_allow_read(&rp->sb, c->sc, adv, rp->now);
	return 0;
}

/* A host RW: within the guest's credit, before either side's shutdown. */
static int
host_rw(struct replay *rp, struct rp_conn *c, const struct vsock_pcap_frame *f)
{
	const struct vsock_hdr *h = &f->hdr;
	int64_t in_flight = (int64_t)(uint32_t)((uint32_t)c->t_tx - c->g_fwd) +
	    h->len;
	char e[64], a[64];
	uint64_t at;

	if ((c->g_shut & VIRTIO_VSOCK_SHUTDOWN_RCV) &&
	    c->g_shut != VIRTIO_VSOCK_SHUTDOWN_MASK) {
		rp_diverge(rp, f->number, c, "op", "no data", "RW",
		    "the host sends data after the guest's SHUTDOWN(RCV)");
		return 1;
	}
	if (c->t_shut & VIRTIO_VSOCK_SHUTDOWN_SEND) {
		rp_diverge(rp, f->number, c, "op", "no data", "RW",
		    "the host sends data after its own SHUTDOWN(SEND)");
		return 1;
	}
	if (in_flight > c->g_buf) {
		snprintf(e, sizeof(e), "at most %" PRId64 " bytes",
		    (int64_t)c->g_buf - (in_flight - h->len));
		snprintf(a, sizeof(a), "%" PRIu32 " bytes", h->len);
		rp_diverge(rp, f->number, c, "credit", e, a,
		    "the host's RW overruns the guest's credit (buf_alloc "
		    "%" PRIu32 ", fwd_cnt %" PRIu32 ")", c->g_buf, c->g_fwd);
		return 1;
	}
	c->t_tx += h->len;
	if (c->g_shut & VIRTIO_VSOCK_SHUTDOWN_RCV) {
		/*
		 * After the guest's SHUTDOWN(RCV|SEND): Linux's vhost sends
		 * what was queued before that SHUTDOWN was processed
		 * (vhost_transport_send_pkt queues, the worker sends as the
		 * guest posts RX buffers), then the RST that answers it
		 * (virtio_transport_recv_connected). No application reads it
		 * and a device may drop it: out of the comparison, accepted
		 * once that RST shows (queued_rws_settle).
		 */
		if (c->t_queued_frame == 0)
			c->t_queued_frame = f->number;
		c->t_queued_rws++;
		rp_window_drop_last(rp, c, RP_TRACE);
		return 0;
	}
	rp->res.bytes_h2g += h->len;
	if (rp_stream_push(rp, &c->h2g, RP_TRACE, f->payload, h->len,
	    &at) == 1) {
		snprintf(a, sizeof(a), "byte %" PRIu64, at);
		rp_diverge(rp, f->number, c, "payload", "the device's bytes",
		    a, "the host->guest byte stream differs");
		return 1;
	}
	act_send(rp, c, h, f->payload);
	return 0;
}

/* Host frames on an established connection. */
static int
host_open(struct replay *rp, struct rp_conn *c, const struct vsock_pcap_frame *f)
{
	const struct vsock_hdr *h = &f->hdr;
	uint8_t added;

	if (host_fwd(rp, c, f))
		return 1;
	act_buf_alloc(rp, c, h->buf_alloc);
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RW:
		return host_rw(rp, c, f);
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		added = (uint8_t)(h->flags & VIRTIO_VSOCK_SHUTDOWN_MASK &
		    ~c->t_shut);
		c->t_shut |= added;
		act_shutdown(rp, c, h->flags, added);
		return 0;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		return 0;
	}
	rp_diverge(rp, f->number, c, "op", "RW, SHUTDOWN, CREDIT_*, RST",
	    vsock_op_name(h->op), "the host sends %s on an established "
	    "connection", vsock_op_name(h->op));
	return 1;
}

/* The packets that open connections. */
static int
host_open_ops(struct replay *rp, struct rp_conn *c,
    const struct vsock_pcap_frame *f)
{
	const struct vsock_hdr *h = &f->hdr;
	bool dead = c->state == RPC_NONE || c->state == RPC_CLOSED;

	if (h->op == VIRTIO_VSOCK_OP_REQUEST && dead) {
		begin_conn(rp, c, h->type);
		c->state = RPC_HOST_REQ;
		c->host_initiated = true;
		c->t_buf = h->buf_alloc;
		if (act_connect(rp, c) < 0)
			rp_diverge(rp, f->number, c, "op", "REQUEST",
			    "no connection", "the device cannot connect to "
			    "the guest (connection limit or no free port)");
		return rp->diverged;
	}
	if (h->op == VIRTIO_VSOCK_OP_RESPONSE && c->state == RPC_GUEST_REQ) {
		c->state = RPC_OPEN;
		c->t_opened = true;
		c->t_buf = h->buf_alloc;
		act_answer(rp, c, 0);
		return 0;
	}
	if (h->op == VIRTIO_VSOCK_OP_SHUTDOWN && c->state == RPC_CLOSED &&
	    c->t_opened && !c->t_late_rst) {
		/*
		 * Linux's shutdown() on a socket already reset still sends
		 * SHUTDOWN (vsock_shutdown checks only SS_UNCONNECTED); the
		 * guest, which has no socket left, answers with an RST.
		 */
		accept_unreproduced(rp, c, &rp->res.reset_shutdowns);
		return 0;
	}
	rp_diverge(rp, f->number, c, "op", dead ? "nothing" : "not that",
	    vsock_op_name(h->op), h->op == VIRTIO_VSOCK_OP_RESPONSE ?
	    "the host sends RESPONSE but no guest REQUEST waits on this pair" :
	    "the host sends %s on a pair with no established connection",
	    vsock_op_name(h->op));
	return 1;
}

/*
 * One recorded host frame: could a conforming device have sent it? If so,
 * infer what the host application did to cause it and do that now.
 * Returns 1 once the trace diverged.
 */
int
rp_trace_host(struct replay *rp, struct rp_conn *c,
    const struct vsock_pcap_frame *f)
{
	const struct vsock_hdr *h = &f->hdr;
	char e[64], a[64];

	rp_touch(rp, c);
	rp_window_add(rp, c, RP_TRACE, h, f->number);
	/* Credit packets may sit in that queue too; a SHUTDOWN may not. */
	if (h->op != VIRTIO_VSOCK_OP_RW && h->op != VIRTIO_VSOCK_OP_RST &&
	    h->op != VIRTIO_VSOCK_OP_CREDIT_UPDATE &&
	    h->op != VIRTIO_VSOCK_OP_CREDIT_REQUEST)
		rp_queued_rws_settle(rp, c, false);
	if (h->src_cid != rp->host_cid || h->dst_cid != rp->guest_cid) {
		snprintf(e, sizeof(e), "%" PRIu64 " > %" PRIu64, rp->host_cid,
		    rp->guest_cid);
		snprintf(a, sizeof(a), "%" PRIu64 " > %" PRIu64, h->src_cid,
		    h->dst_cid);
		rp_diverge(rp, f->number, c, "cid", e, a, "a host frame "
		    "between CIDs other than the trace's host and guest (a "
		    "capture of several guests replays one at a time: "
		    "--guest-cid)");
		return 1;
	}
	/* An RST answers with the guest's type, known or not. */
	if (h->op == VIRTIO_VSOCK_OP_RST) {
		/*
		 * The fwd_cnt of an RST on an open connection still says what
		 * the application had read by then (0 is Linux's RST without
		 * a socket, which reports nothing).
		 */
		if (c->state == RPC_OPEN && h->fwd_cnt != 0 &&
		    host_fwd(rp, c, f))
			return 1;
		host_rst(rp, c, f);
		return rp->diverged;
	}
	if (!vsock_type_known(h->type)) {
		snprintf(a, sizeof(a), "%u", h->type);
		rp_diverge(rp, f->number, c, "type", "STREAM or SEQPACKET", a,
		    "the host sends a socket type that does not exist");
		return 1;
	}
	if (c->state != RPC_OPEN)
		return host_open_ops(rp, c, f);
	if (h->type != c->type) {
		rp_diverge(rp, f->number, c, "type", vsock_type_name(c->type),
		    vsock_type_name(h->type), "the host's packet has another "
		    "type than its connection");
		return 1;
	}
	return host_open(rp, c, f);
}

/*
 * After the device ran: compares what the application received with what
 * the guest sent, and lets an echo application answer. Returns true when
 * the application did something the device must react to.
 */
bool
rp_app_service(struct replay *rp, struct rp_conn *c)
{
	struct script_conn *sc = c->sc;
	bool did = false;
	uint64_t at;
	size_t n;
	char a[64];

	if (sc == NULL)
		return false;
	if ((n = sc->in_len) > 0) {
		if (rp_stream_push(rp, &c->g2h, RP_DEVICE, sc->in, n,
		    &at) == 1) {
			snprintf(a, sizeof(a), "differs at byte %" PRIu64, at);
			rp_diverge(rp, rp->cur_frame, c, "payload",
			    "the guest's bytes", a, "the host application "
			    "received other bytes than the guest sent");
		}
		/* Taken before sending: the device may deliver more meanwhile. */
		sc->in_len = 0;
		if (c->mode == REPLAY_PORT_ECHO && sc->conn != NULL) {
			if (script_send(&rp->sb, sc, sc->in, n, 0, rp->now) < 0)
				rp->nomem = true;
			did = true;
		}
	}
	if (c->mode == REPLAY_PORT_ECHO && sc->shut_wr && sc->conn != NULL &&
	    !c->d_echo_closed) {
		c->d_echo_closed = true;
		script_close(&rp->sb, sc, false, rp->now);
		did = true;
	}
	return did;
}

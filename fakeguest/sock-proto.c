/* sock-proto.c - one socket's side of virtio-vsock: a handler per state, receive queue, timers (Linux virtio_transport_common.c). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "guest-credit.h"
#include "vsock-int.h"

/*
 * Linux's lookup order: the connected pair first (vsock_find_connected_socket,
 * whatever the socket's state: one reset by a transport reset still
 * answers for its pair), then the listener.
 */
struct fg_sock *
fg_sock_lookup(struct fg_vsock *vs, const struct vsock_hdr *h)
{
	struct fg_sock *s;
	unsigned i;

	for (i = 0; i < vs->nsock; i++) {
		s = &vs->sock[i];
		if (s->used && s->listed &&
		    s->local_port == h->dst_port && s->peer_cid == h->src_cid &&
		    s->peer_port == h->src_port)
			return s;
	}
	for (i = 0; i < vs->nsock; i++) {
		s = &vs->sock[i];
		if (s->used && s->state == FG_SS_LISTEN &&
		    s->local_port == h->dst_port)
			return s;
	}
	return NULL;
}

/* Addresses a packet of s and stamps our credit (virtio_transport_inc_tx_pkt). */
static void
sock_xmit(struct fg_vsock *vs, struct fg_sock *s, uint16_t op, uint32_t flags,
    const uint8_t *payload, uint32_t len)
{
	struct vsock_hdr h;

	memset(&h, 0, sizeof(h));
	h.src_cid = vs->cid;
	h.dst_cid = s->peer_cid;
	h.src_port = s->local_port;
	h.dst_port = s->peer_port;
	h.len = len;
	h.type = s->type;
	h.op = op;
	h.flags = flags;
	/* 5.10.6.3: every packet tells the peer our buffer and what we read. */
	h.buf_alloc = s->buf_alloc;
	h.fwd_cnt = s->fwd_cnt;
	s->last_fwd_cnt = s->fwd_cnt;
	fg_vsock_xmit(vs, &h, payload);
}

/* Sends a control packet (no payload) for s. */
void
fg_sock_send_ctl(struct fg_vsock *vs, struct fg_sock *s, uint16_t op,
    uint32_t flags)
{
	sock_xmit(vs, s, op, flags, NULL, 0);
}

/*
 * Bytes we may send now (Linux 6.1.192 virtio_transport_has_space): the
 * peer's buffer capped at our own (virtio_transport_tx_buf_size, so a peer
 * cannot make us keep more in flight than we would buffer), minus what is
 * in flight.
 */
uint32_t
fg_sock_credit(const struct fg_sock *s)
{
	return fg_credit_peer(fg_sock_tx_buf_size(s), s->tx_cnt,
	    s->peer_fwd_cnt);
}

/* Linux virtio_transport_tx_buf_size: min(peer_buf_alloc, buf_alloc). */
uint32_t
fg_sock_tx_buf_size(const struct fg_sock *s)
{
	return s->peer_buf_alloc < s->buf_alloc ? s->peer_buf_alloc :
	    s->buf_alloc;
}

/* Sends one RW of len <= 64 KiB; the caller checked the credit. */
void
fg_sock_send_rw(struct fg_vsock *vs, struct fg_sock *s, const uint8_t *buf,
    uint32_t len, uint32_t flags)
{
	s->tx_cnt += len;
	sock_xmit(vs, s, VIRTIO_VSOCK_OP_RW, flags, buf, len);
}

/* vsock_stream_has_data: bytes for STREAM, whole messages for SEQPACKET. */
bool
fg_sock_has_data(const struct fg_sock *s)
{
	if (s->type == VIRTIO_VSOCK_TYPE_SEQPACKET)
		return s->msg_count > 0;
	return s->rx_bytes > 0;
}

/*
 * The peer is finished (Linux virtio_transport_do_close): reads end once
 * the queue is empty; a socket the application already closed goes away.
 */
void
fg_sock_do_close(struct fg_vsock *vs, struct fg_sock *s)
{
	s->done = true;
	s->peer_shutdown = VIRTIO_VSOCK_SHUTDOWN_MASK;
	if (!fg_sock_has_data(s))
		s->state = FG_SS_CLOSING;
	if (s->released)
		fg_sock_free(vs, s);
}

/* A connect that ends without a connection: no packet is sent. */
static void
connect_fail(struct fg_sock *s, int err)
{
	s->state = FG_SS_CLOSED;
	s->err = err;
	s->listed = false;
	s->deadline = FG_TIME_NEVER;
}

/* REQUEST to a listener: a child in the accept queue, answered RESPONSE. */
static void
recv_listen(struct fg_vsock *vs, struct fg_sock *l, const struct vsock_hdr *h)
{
	struct fg_sock *c;
	int fd;

	/* Linux's sk_acceptq_is_full is "more than backlog", not "as many". */
	if (h->op != VIRTIO_VSOCK_OP_REQUEST ||
	    fg_fault_refuses(vs, h->dst_port) ||
	    (int64_t)l->accept_queued > l->backlog ||
	    (fd = fg_sock_alloc(vs, l->type)) < 0) {
		fg_vsock_reset_no_sock(vs, h);
		return;
	}
	c = &vs->sock[fd];
	/* Asked last, so a gate that said yes is always answered RESPONSE. */
	if (l->gate != NULL && !l->gate(l->gate_ctx, h->src_cid,
	    h->src_port)) {
		fg_sock_free(vs, c);
		fg_vsock_reset_no_sock(vs, h);
		return;
	}
	c->state = FG_SS_CONNECTED;
	c->listed = true;
	c->local_port = h->dst_port;
	c->peer_cid = h->src_cid;
	c->peer_port = h->src_port;
	c->buf_alloc = l->buf_alloc;	/* children inherit buffer_size */
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->parent = (int)(l - vs->sock);
	c->accept_seq = vs->accept_seq++;
	l->accept_queued++;
	if (!fg_fault_hold(vs, c))
		fg_sock_send_ctl(vs, c, VIRTIO_VSOCK_OP_RESPONSE, 0);
}

/* Linux virtio_transport_recv_connecting. */
static void
recv_connecting(struct fg_vsock *vs, struct fg_sock *s,
    const struct vsock_hdr *h)
{
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		s->state = FG_SS_CONNECTED;
		s->deadline = FG_TIME_NEVER;
		break;
	case VIRTIO_VSOCK_OP_INVALID:
		break;	/* Linux ignores it and keeps waiting */
	case VIRTIO_VSOCK_OP_RST:
		/* Linux reports a refused vsock connect as ECONNRESET. */
		connect_fail(s, ECONNRESET);
		break;
	default:
		/* virtio_transport_reset(vsk, skb): never answers an RST. */
		fg_sock_send_ctl(vs, s, VIRTIO_VSOCK_OP_RST, 0);
		connect_fail(s, EPROTO);
		break;
	}
}

/* Queues an RW payload, dropping what overruns our buf_alloc as Linux does. */
static void
recv_enqueue(struct fg_vsock *vs, struct fg_sock *s, const struct vsock_hdr *h,
    const uint8_t *payload)
{
	bool seq = s->type == VIRTIO_VSOCK_TYPE_SEQPACKET;
	uint32_t eom = seq ? h->flags & VIRTIO_VSOCK_SEQ_EOM : 0;
	struct fg_rxpkt *p;

	/* An empty RW carries nothing, unless it ends a message. */
	if (h->len == 0 && eom == 0)
		return;
	/*
	 * Linux (virtio_transport_inc_rx_pkt) drops a packet beyond the
	 * credit it advertised and keeps the connection: no RST.
	 */
	if (fg_credit_overrun(s->buf_alloc, s->buf_used, h->len) ||
	    (p = fg_rxpkt_new(vs, h->len, payload)) == NULL) {
		vs->stats.rx_overrun++;
		return;
	}
	p->len = h->len;
	p->off = 0;
	p->flags = seq ? h->flags : 0;
	TAILQ_INSERT_TAIL(&s->rxq, p, entry);
	s->rx_bytes += h->len;
	s->buf_used += h->len;
	if (eom)
		s->msg_count++;
}

/* SHUTDOWN flags accumulate; both ways and nothing unread: RST and done. */
static void
recv_shutdown(struct fg_vsock *vs, struct fg_sock *s, uint32_t flags)
{
	s->peer_shutdown |= flags & VIRTIO_VSOCK_SHUTDOWN_MASK;
	if (s->peer_shutdown != VIRTIO_VSOCK_SHUTDOWN_MASK)
		return;
	/* Linux unlists it at once so the peer may reuse its port. */
	s->listed = false;
	if (!fg_sock_has_data(s) && !s->done) {
		fg_sock_send_ctl(vs, s, VIRTIO_VSOCK_OP_RST, 0);
		fg_sock_do_close(vs, s);
	}
}

/* Linux virtio_transport_recv_connected (TCP_ESTABLISHED). */
static void
recv_connected(struct fg_vsock *vs, struct fg_sock *s,
    const struct vsock_hdr *h, const uint8_t *payload)
{
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RW:
		recv_enqueue(vs, s, h, payload);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break;	/* the header already updated the peer's credit */
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		fg_sock_send_ctl(vs, s, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0);
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		recv_shutdown(vs, s, h->flags);
		break;
	case VIRTIO_VSOCK_OP_RST:
		fg_sock_do_close(vs, s);
		break;
	default:
		vs->stats.rx_invalid_op++;	/* Linux drops it silently */
		break;
	}
}

/*
 * Linux virtio_transport_recv_disconnecting (TCP_CLOSING): only the peer's
 * RST matters; data, credit and shutdowns are dropped without a reply.
 */
static void
recv_disconnecting(struct fg_vsock *vs, struct fg_sock *s,
    const struct vsock_hdr *h)
{
	if (h->op == VIRTIO_VSOCK_OP_RST)
		fg_sock_do_close(vs, s);
}

/* Delivers a validated packet to the socket it was routed to. */
void
fg_sock_recv_pkt(struct fg_vsock *vs, struct fg_sock *s,
    const struct vsock_hdr *h, const uint8_t *payload)
{
	/*
	 * virtio_transport_recv_pkt: a socket whose peer is finished
	 * (SOCK_DONE) is treated as gone, before its credit is looked at.
	 */
	if (s->done && s->state != FG_SS_LISTEN) {
		fg_vsock_reset_no_sock(vs, h);
		return;
	}
	/* virtio_transport_space_update: any packet carries the peer's credit. */
	s->peer_buf_alloc = h->buf_alloc;
	s->peer_fwd_cnt = h->fwd_cnt;
	switch (s->state) {
	case FG_SS_LISTEN:
		recv_listen(vs, s, h);
		break;
	case FG_SS_CONNECTING:
		recv_connecting(vs, s, h);
		break;
	case FG_SS_CONNECTED:
		recv_connected(vs, s, h, payload);
		break;
	case FG_SS_CLOSING:
		recv_disconnecting(vs, s, h);
		break;
	default:
		/* TCP_CLOSE: e.g. a connection a transport reset ended. */
		fg_vsock_reset_no_sock(vs, h);
		break;
	}
}

/* Sets s's timer; the only way a deadline comes nearer (timer_min). */
void
fg_sock_arm(struct fg_vsock *vs, struct fg_sock *s, uint64_t deadline)
{
	s->deadline = deadline;
	if (deadline < vs->timer_min)
		vs->timer_min = deadline;
}

/*
 * Connect timeout (nothing sent, as Linux) and close timeout (RST). Runs
 * on every poll: before the earliest deadline it reads no socket (each
 * on its own cache lines), so a busy stream pays no scan per interrupt.
 */
void
fg_sock_run_timers(struct fg_vsock *vs, uint64_t now)
{
	struct fg_sock *s;
	unsigned i;

	if (now < vs->timer_min)
		return;	/* every deadline is later: the scan would skip all */
	vs->timer_min = FG_TIME_NEVER;	/* arms during the scan lower it */
	for (i = 0; i < vs->nsock; i++) {
		s = &vs->sock[i];
		if (!s->used)
			continue;
		if (s->deadline <= now) {
			if (s->held) {
				fg_fault_release_held(vs, s);
			} else if (s->state == FG_SS_CONNECTING) {
				connect_fail(s, ETIMEDOUT);
			} else if (s->released) {
				if (!s->done)
					fg_sock_send_ctl(vs, s,
					    VIRTIO_VSOCK_OP_RST, 0);
				fg_sock_free(vs, s);
			}
		}
		if (s->used && s->deadline < vs->timer_min)
			vs->timer_min = s->deadline;
	}
}

uint64_t
fg_sock_next_deadline(const struct fg_vsock *vs)
{
	uint64_t next = FG_TIME_NEVER;
	unsigned i;

	for (i = 0; i < vs->nsock; i++)
		if (vs->sock[i].used && vs->sock[i].deadline < next)
			next = vs->sock[i].deadline;
	return next;
}

/*
 * VIRTIO_VSOCK_EVENT_TRANSPORT_RESET: vsock_for_each_connected_socket calls
 * virtio_vsock_reset_sock on every socket of the connected table, which
 * only sets TCP_CLOSE and ECONNRESET, without a packet. Listeners and
 * connecting sockets (not in that table) stay as they are; a closed socket
 * keeps lingering on its close_work, which sends RST when it fires
 * (virtio_transport_close_timeout: SOCK_DONE is not set).
 */
void
fg_sock_transport_reset(struct fg_vsock *vs)
{
	struct fg_sock *s;
	unsigned i;

	for (i = 0; i < vs->nsock; i++) {
		s = &vs->sock[i];
		if (!s->used || !s->listed || s->state == FG_SS_CONNECTING)
			continue;
		s->state = FG_SS_CLOSED;
		s->err = ECONNRESET;
	}
}

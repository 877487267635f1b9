/* device-tx.c - guest to host: validate TX chains, run the per-state handlers, deliver data. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device-int.h"
#include "error.h"

/* Most host iovecs one payload is mapped into before falling back to a copy. */
#define TX_IOV_MAX	64

/* Copies len bytes from offset off of iov[0..cnt) to dst. */
static void
iov_copy_out(const struct iovec *iov, int cnt, size_t off, uint8_t *dst,
    size_t len)
{
	size_t k;
	int i;

	for (i = 0; i < cnt && len > 0; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		k = iov[i].iov_len - off;
		if (k > len)
			k = len;
		memcpy(dst, (const uint8_t *)iov[i].iov_base + off, k);
		dst += k;
		len -= k;
		off = 0;
	}
}

/*
 * Copies len payload bytes at payload offset off to the tail of c's txbuf:
 * from iov[0..cnt) when the payload is mapped there already (the direct
 * write's iovecs: guest memory checked at the pop, as the gather's flush
 * reads it), else from the chain.
 */
static int
buffer_payload(struct vsock_device *dev, struct vsock_conn *c,
    const struct virtq_chain *ch, const struct iovec *iov, int cnt,
    uint32_t off, uint32_t len)
{
	const struct virtq *vq = &dev->vq[VSOCK_QUEUE_TX];
	uint8_t *first, *second;
	uint32_t first_len;

	if (len == 0)
		return 0;
	first = txbuf_reserve(&c->tx, dev->cfg.buf_alloc, len, &second,
	    &first_len);
	if (first == NULL)
		return -VSE_ERR_NOMEM;
	if (iov != NULL) {
		iov_copy_out(iov, cnt, off, first, first_len);
		iov_copy_out(iov, cnt, (size_t)off + first_len, second,
		    len - first_len);
		return 0;
	}
	off += VSOCK_HDR_SIZE;
	if (virtq_chain_read(vq, ch, off, first, first_len) < 0 ||
	    (len > first_len && virtq_chain_read(vq, ch, off + first_len,
	    second, len - first_len) < 0))
		return -VSE_ERR_INVAL;
	return 0;
}

/* After the host took bytes: advance fwd_cnt and maybe owe an update. */
void
device_delivered(struct vsock_device *dev, struct vsock_conn *c, uint32_t n)
{
	c->cr.fwd_cnt += n;
	if (credit_update_due(&c->cr, dev->rules.update_policy))
		c->pending |= PEND_CREDIT_UPDATE;
}

/*
 * The host side refused data: what the error means (device_host_error). A
 * message its socket refuses as too long (AF_UNIX SEQPACKET: over
 * SO_SNDBUF - 32) is counted apart, since it is never cut or split to fit.
 */
static void
host_write_failed(struct vsock_device *dev, struct vsock_conn *c, ssize_t err)
{
	if (err == -EMSGSIZE) {
		dev->stats.seqpacket_g2h_oversize++;
		device_kill_for(dev, c, VSOCK_RELEASE_RESET,
		    VSOCK_WHY_MESSAGE_TOO_LONG);
		return;
	}
	device_host_error(dev, c, err, false);
}

/* Writes held SEQPACKET messages, whole, in order. */
static ssize_t
flush_messages(struct vsock_device *dev, struct vsock_conn *c)
{
	const struct txbuf_msg *m;
	struct iovec iov[2];
	ssize_t n;
	int cnt;

	while ((m = txbuf_first_msg(&c->tx)) != NULL) {
		uint32_t len = m->len;

		cnt = txbuf_peek(&c->tx, len, iov);
		n = dev->be->write(dev->be_ctx, c, iov, cnt, m->flags);
		if (n < 0)
			return n;
		/* A message is taken whole or not at all. */
		txbuf_consume(&c->tx, len);
		txbuf_pop_msg(&c->tx);
		device_delivered(dev, c, len);
		/*
		 * Linux: virtio_transport_seqpacket_do_dequeue() sends a
		 * credit update after every message read, free space aside.
		 */
		if (dev->rules.update_policy == VSOCK_CREDIT_LINUX)
			c->pending |= PEND_CREDIT_UPDATE;
	}
	return 0;
}

/*
 * Writes the held STREAM bytes, both parts of the ring in one write. A
 * short write means the host has no room now: the rest waits for its
 * next EV_WRITE, with no second write that could only return EAGAIN.
 * Firecracker's TxBuf::flush_to() (csm/txbuf.rs) writes again only after
 * a whole contiguous chunk was taken (the ring's wrap); one gathered
 * write covers that case here.
 */
static ssize_t
flush_stream(struct vsock_device *dev, struct vsock_conn *c)
{
	struct iovec iov[2];
	uint32_t held = c->tx.len;
	ssize_t n;
	int cnt;

	if (held == 0)
		return 0;
	cnt = txbuf_peek(&c->tx, held, iov);
	n = dev->be->write(dev->be_ctx, c, iov, cnt, 0);
	if (n <= 0)
		return n == 0 ? -EAGAIN : n;
	/* Never more than was offered, whatever the backend says. */
	if ((uint64_t)n > held)
		n = held;
	txbuf_consume(&c->tx, (uint32_t)n);
	device_delivered(dev, c, (uint32_t)n);
	return (uint32_t)n < held ? -EAGAIN : 0;
}

void
device_flush_to_host(struct vsock_device *dev, struct vsock_conn *c)
{
	ssize_t n;

	if (c->backend_gone || c->state != CONN_ESTABLISHED ||
	    device_host_reads_no_more(c))
		return;
	n = c->type == VIRTIO_VSOCK_TYPE_SEQPACKET ?
	    flush_messages(dev, c) : flush_stream(dev, c);
	if (n < 0 && n != -EAGAIN) {
		/* The host application cannot take data any more. */
		host_write_failed(dev, c, n);
		return;
	}
	device_shut_host_write(dev, c);
	device_check_done(dev, c);
	device_schedule(dev, c);
}

/*
 * Writes what the gather holds in one host write, as rx_data would have
 * packet by packet: the bytes taken are delivered, the rest go to the
 * txbuf (read once: from the same guest memory the write would have
 * read), then the held chains are given back in the order they came.
 */
void
device_tx_gather_flush(struct vsock_device *dev)
{
	struct tx_gather *g = &dev->gather;
	struct vsock_conn *c = g->c;
	uint8_t *first, *second;
	uint32_t taken = 0, rest, first_len;
	ssize_t n;
	uint16_t i;

	if (c == NULL)
		return;
	g->c = NULL;
	n = dev->be->write(dev->be_ctx, c, g->iov, g->iovcnt, 0);
	if (n < 0 && n != -EAGAIN)
		host_write_failed(dev, c, n);
	else {
		/* Never more than was offered, whatever the backend says. */
		taken = n <= 0 ? 0 : (uint64_t)n > g->len ? g->len : (uint32_t)n;
		if (taken > 0)
			device_delivered(dev, c, taken);
		rest = g->len - taken;
		if (rest > 0) {
			first = txbuf_reserve(&c->tx, dev->cfg.buf_alloc, rest,
			    &second, &first_len);
			if (first == NULL)
				device_kill(dev, c, VSOCK_RELEASE_RESET);
			else {
				iov_copy_out(g->iov, g->iovcnt, taken, first,
				    first_len);
				iov_copy_out(g->iov, g->iovcnt,
				    (size_t)taken + first_len, second,
				    rest - first_len);
			}
		}
		/*
		 * A rest means the host refused it just now (a short write or
		 * EAGAIN): a second write would only return EAGAIN. The rest
		 * waits for the host's room (write interest, device_want()),
		 * as Firecracker's send_bytes() (csm/connection.rs) writes
		 * once, pushes what the stream left to tx_buf and flushes it
		 * from notify(EPOLLOUT) only.
		 */
		if (c->state == CONN_ESTABLISHED && (rest == 0 ||
		    (!c->backend_gone && !device_host_reads_no_more(c))))
			device_schedule(dev, c);
	}
	for (i = 0; i < g->nheads; i++)
		virtq_push(&dev->vq[VSOCK_QUEUE_TX], g->head[i], 0);
	g->nheads = 0;
	g->iovcnt = 0;
	g->len = 0;
}

/*
 * Holds a STREAM RW's payload for one write with the packets of c before
 * and after it in this run (tx_held: the chain is given back at the
 * flush). False when the backend writes per packet or the payload is not
 * all in mapped guest memory: then it is written as before.
 */
static bool
tx_gather(struct vsock_device *dev, struct vsock_conn *c,
    const struct virtq_chain *ch, uint32_t len)
{
	struct tx_gather *g = &dev->gather;
	uint32_t mapped;
	int cnt;

	if (!dev->be->write_gathers || !txbuf_empty(&c->tx))
		return false;
	if (g->c != NULL && (g->c != c || g->nheads == TX_GATHER_PKTS))
		device_tx_gather_flush(dev);
	cnt = virtq_chain_iov(&dev->vq[VSOCK_QUEUE_TX], ch, false,
	    VSOCK_HDR_SIZE, len, g->iov + g->iovcnt, TX_GATHER_IOV - g->iovcnt,
	    &mapped);
	if ((cnt < 0 || mapped != len) && g->c != NULL) {
		/* Out of iovecs: write what is held, then try alone. */
		device_tx_gather_flush(dev);
		cnt = virtq_chain_iov(&dev->vq[VSOCK_QUEUE_TX], ch, false,
		    VSOCK_HDR_SIZE, len, g->iov, TX_GATHER_IOV, &mapped);
	}
	if (cnt < 0 || mapped != len)
		return false;
	g->c = c;
	g->iovcnt += cnt;
	g->len += len;
	g->head[g->nheads++] = ch->head;
	dev->tx_held = true;
	return true;
}

/* Delivers one RW's payload: straight from guest memory when nothing waits. */
static void
rx_data(struct vsock_device *dev, struct vsock_conn *c,
    const struct virtq_chain *ch, const struct vsock_hdr *h)
{
	struct iovec iov[TX_IOV_MAX];
	uint32_t mapped;
	bool seq = c->type == VIRTIO_VSOCK_TYPE_SEQPACKET;
	bool eom = seq && (h->flags & VIRTIO_VSOCK_SEQ_EOM);
	uint32_t taken = 0;
	ssize_t n = -EAGAIN;
	int cnt = -1;
	/*
	 * Behind bytes the muxer's socket refused (a STREAM txbuf holds
	 * bytes only after a refused write, and its write interest is set):
	 * append, write nothing until the host has room. Firecracker's
	 * send_bytes() (csm/connection.rs): "If there is data in the TX
	 * buffer, that means we're already registered for EPOLLOUT ...
	 * there's no point in attempting a write at this point."
	 */
	bool wait_room = !seq && dev->be->write_gathers &&
	    !txbuf_empty(&c->tx);

	c->cr.rx_cnt += h->len;
	c->g2h_total += h->len;
	if (!seq && tx_gather(dev, c, ch, h->len))
		return;
	/* Direct write only when it cannot reorder data: nothing is held. */
	if (txbuf_empty(&c->tx) && (!seq || eom) &&
	    (cnt = virtq_chain_iov(&dev->vq[VSOCK_QUEUE_TX], ch, false,
	    VSOCK_HDR_SIZE, h->len, iov, TX_IOV_MAX, &mapped)) >= 0) {
		if (mapped != h->len)
			cnt = -1;	/* not all mapped: no write, no iovecs */
	}
	if (cnt >= 0) {
		n = dev->be->write(dev->be_ctx, c, iov, cnt,
		    seq ? h->flags & (VIRTIO_VSOCK_SEQ_EOM |
		    VIRTIO_VSOCK_SEQ_EOR) : 0);
		if (n < 0 && n != -EAGAIN) {
			host_write_failed(dev, c, n);
			return;
		}
		if (n >= 0)
			taken = seq ? h->len : (uint32_t)n;
	}
	if (taken > 0 || (seq && n >= 0))
		device_delivered(dev, c, taken);
	if (taken < h->len || (seq && eom && n < 0)) {
		if (buffer_payload(dev, c, ch, cnt >= 0 ? iov : NULL, cnt,
		    taken, h->len - taken) < 0) {
			device_kill(dev, c, VSOCK_RELEASE_RESET);
			return;
		}
	}
	if (seq && eom && n < 0 && !txbuf_end_msg(&c->tx, dev->cfg.buf_alloc,
	    h->flags &
	    (VIRTIO_VSOCK_SEQ_EOM | VIRTIO_VSOCK_SEQ_EOR))) {
		/*
		 * More nearly empty messages held than the buffer has bytes
		 * for (txbuf_msgs_max()): refuse visibly, never grow.
		 */
		if (c->tx.nmsgs >= txbuf_msgs_max(dev->cfg.buf_alloc))
			dev->stats.seqpacket_held_max++;
		device_kill(dev, c, VSOCK_RELEASE_RESET);
		return;
	}
	/*
	 * A write tried here that left bytes held waits for the host's room,
	 * as the gathered write does: trying again at once could only be
	 * refused too (Firecracker's send_bytes() writes once and leaves the
	 * rest to notify(EPOLLOUT)). Only bytes held untried are flushed.
	 */
	if (wait_room || (cnt >= 0 && !txbuf_empty(&c->tx)))
		device_schedule(dev, c);
	else if (!txbuf_empty(&c->tx))
		device_flush_to_host(dev, c);
}

/* RW on an established connection. */
static void
established_rw(struct vsock_device *dev, struct vsock_conn *c,
    const struct virtq_chain *ch, const struct vsock_hdr *h)
{
	/* Data after the guest's own SHUTDOWN(SEND) is a protocol error. */
	if (c->peer_shut & VIRTIO_VSOCK_SHUTDOWN_SEND) {
		dev->stats.tx_invalid_op++;
		return;
	}
	if (!credit_rx_fits(&c->cr, h->len)) {
		device_tx_gather_flush(dev);
		dev->stats.rst_credit_overrun++;
		device_kill_for(dev, c, VSOCK_RELEASE_RESET,
		    VSOCK_WHY_CREDIT_OVERRUN);
		return;
	}
	if (device_host_reads_no_more(c)) {
		device_tx_gather_flush(dev);
		device_rw_unread(dev, c, h->len);
		return;
	}
	if (h->len == 0 && c->type == VIRTIO_VSOCK_TYPE_STREAM)
		return;
	rx_data(dev, c, ch, h);
}

/* The handler of ESTABLISHED (and its half-closed forms). */
static void
on_established(struct vsock_device *dev, struct vsock_conn *c,
    const struct virtq_chain *ch, const struct vsock_hdr *h)
{
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RW:
		established_rw(dev, c, ch, h);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break;	/* dispatch took the credit from the header */
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->pending |= PEND_CREDIT_UPDATE;
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		device_guest_shutdown(dev, c, h->flags);
		break;
	case VIRTIO_VSOCK_OP_RST:
		DEVICE_EVENT(dev, c, VSOCK_EVENT_RESET, VSOCK_WHO_GUEST,
		    VSOCK_WHY_PEER, 0);
		dev->stats.data_discarded += c->tx.len;
		device_release_backend(dev, c, VSOCK_RELEASE_RESET);
		device_destroy_conn(dev, c);
		return;
	default:
		dev->stats.tx_invalid_op++;
		break;
	}
	if (c->state == CONN_ESTABLISHED)
		device_schedule(dev, c);
}

/* The handler of a host-initiated connection awaiting RESPONSE. */
static void
on_host_connecting(struct vsock_device *dev, struct vsock_conn *c,
    const struct vsock_hdr *h)
{
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->pending & PEND_REQUEST) {
			/* It answers a REQUEST the guest has not seen yet. */
			dev->stats.tx_invalid_op++;
			break;
		}
		device_set_timer(dev, c, TIMER_NONE);
		device_established(dev, c);
		c->host_readable = true;
		dev->be->established(dev->be_ctx, c);
		if (!c->backend_gone)
			device_schedule(dev, c);
		break;
	case VIRTIO_VSOCK_OP_RST:
		/*
		 * Linux's guest answers a REQUEST for a port nobody listens
		 * on with RST (virtio_transport_recv_pkt: no socket).
		 */
		DEVICE_EVENT(dev, c, VSOCK_EVENT_REFUSED, VSOCK_WHO_GUEST,
		    VSOCK_WHY_NO_LISTENER, 0);
		device_release_backend(dev, c, VSOCK_RELEASE_REFUSED);
		device_destroy_conn(dev, c);
		break;
	default:
		dev->stats.tx_invalid_op++;
		/*
		 * Linux: virtio_transport_recv_connecting() resets on any
		 * other op (EPROTO) but INVALID. Not for a REQUEST the guest
		 * has not seen yet: the packet answers nothing.
		 */
		if (dev->rules.connecting_reply_resets &&
		    h->op != VIRTIO_VSOCK_OP_INVALID &&
		    !(c->pending & PEND_REQUEST))
			device_kill(dev, c, VSOCK_RELEASE_REFUSED);
		break;
	}
}

/*
 * The handler of connections that expect only the guest's RST: a guest
 * connect the backend is still completing, and one we are resetting. A
 * guest RST also cancels our own pending RST: the guest may already reuse
 * the pair.
 */
static void
on_waiting(struct vsock_device *dev, struct vsock_conn *c,
    const struct vsock_hdr *h)
{
	if (h->op == VIRTIO_VSOCK_OP_RST) {
		/* A guest giving up its connect; a KILLED one was told. */
		if (c->state == CONN_GUEST_CONNECTING)
			DEVICE_EVENT(dev, c, VSOCK_EVENT_RESET,
			    VSOCK_WHO_GUEST, VSOCK_WHY_PEER, 0);
		device_release_backend(dev, c, VSOCK_RELEASE_RESET);
		device_destroy_conn(dev, c);
		return;
	}
	dev->stats.tx_invalid_op++;
}

/* Events for a guest REQUEST the device refused before making a connection. */
static void
guest_request_refused(struct vsock_device *dev, const struct vsock_hdr *h,
    enum vsock_event_why why)
{
	device_event_emit_pair(dev, VSOCK_EVENT_REQUESTED, VSOCK_WHO_GUEST,
	    VSOCK_WHY_NONE, h->dst_port, h->src_port, h->type);
	device_event_emit_pair(dev, VSOCK_EVENT_REFUSED, VSOCK_WHO_DEVICE, why,
	    h->dst_port, h->src_port, h->type);
}

/* A guest REQUEST for a pair we do not know: ask the host side. */
static void
new_guest_conn(struct vsock_device *dev, const struct vsock_hdr *h)
{
	struct vsock_conn *c;
	int e;

	if (h->type == VIRTIO_VSOCK_TYPE_SEQPACKET && !dev->seqpacket) {
		dev->stats.rst_unknown_type++;
		device_queue_orphan_rst(dev, h);
		if (dev->cfg.on_event != NULL)
			guest_request_refused(dev, h, VSOCK_WHY_WRONG_TYPE);
		return;
	}
	if (dev->tab.count >= dev->cfg.max_conns ||
	    (c = device_new_conn(dev, h->dst_port, h->src_port,
	    h->type)) == NULL) {
		dev->stats.rst_conn_limit++;
		device_queue_orphan_rst(dev, h);
		if (dev->cfg.on_event != NULL)
			guest_request_refused(dev, h, VSOCK_WHY_LIMIT);
		return;
	}
	c->state = CONN_GUEST_CONNECTING;
	DEVICE_EVENT(dev, c, VSOCK_EVENT_REQUESTED, VSOCK_WHO_GUEST,
	    VSOCK_WHY_NONE, 0);
	credit_peer_update(&c->cr, h->buf_alloc, h->fwd_cnt);
	e = dev->be->connect(dev->be_ctx, c, h->dst_port, h->type);
	if (e == 0) {
		device_established(dev, c);
		c->pending |= PEND_RESPONSE;
		c->host_readable = true;
		device_schedule(dev, c);
	} else if (e == -EINPROGRESS) {
		/* A host side that never answers must not hold the guest. */
		device_set_timer(dev, c, TIMER_REQUEST);
	} else {
		device_refuse(dev, c, e);
	}
}

/* Routes one valid guest packet by connection state. */
static void
dispatch(struct vsock_device *dev, const struct virtq_chain *ch,
    const struct vsock_hdr *h)
{
	struct vsock_conn *c;

	/* 5.10.6.4: an unknown type is answered with RST (never an RST). */
	if (!vsock_type_known(h->type)) {
		if (h->op != VIRTIO_VSOCK_OP_RST)
			dev->stats.rst_unknown_type++;
		device_queue_orphan_rst(dev, h);
		return;
	}
	c = conntab_find(&dev->tab, h->dst_port, h->src_port);
	if (c == NULL) {
		if (h->op == VIRTIO_VSOCK_OP_REQUEST) {
			new_guest_conn(dev, h);
		} else if (h->op != VIRTIO_VSOCK_OP_RST) {
			dev->stats.rst_unknown_conn++;
			device_queue_orphan_rst(dev, h);
		}
		return;
	}
	if (h->type != c->type) {
		/*
		 * Linux: virtio_transport_recv_pkt() answers a type that is
		 * not the socket's with _reset_no_sock(), before it looks at
		 * the credit; the Firecracker muxer's send_pkt() too. The
		 * connection itself is left alone.
		 */
		if (h->op != VIRTIO_VSOCK_OP_RST)
			dev->stats.rst_wrong_type++;
		device_queue_orphan_rst(dev, h);
		return;
	}
	/* Every packet carries the guest's receive-buffer state. */
	credit_peer_update(&c->cr, h->buf_alloc, h->fwd_cnt);
	/*
	 * Our CREDIT_REQUEST is settled once credit is back, not by any
	 * CREDIT_UPDATE: a guest answers at once (Linux does, before its
	 * reader ran), and re-asking on an update that grants nothing makes
	 * request and update ping-pong forever. Linux's reader sends its own
	 * update once it frees space (virtio_transport_stream_do_dequeue).
	 */
	if (device_peer_credit(dev, c) > 0)
		c->credit_requested = false;
	switch (c->state) {
	case CONN_ESTABLISHED:
		on_established(dev, c, ch, h);
		break;
	case CONN_HOST_CONNECTING:
		on_host_connecting(dev, c, h);
		break;
	case CONN_CLOSING:
		device_closing_op(dev, c, h);
		break;
	default:
		on_waiting(dev, c, h);
		break;
	}
}

/* A valid packet for another CID: tapped as it came, handed to the router. */
static void
relay_chain(struct vsock_device *dev, const struct virtq_chain *ch,
    const uint8_t raw[VSOCK_HDR_SIZE], const struct vsock_hdr *h)
{
	if (virtq_chain_read(&dev->vq[VSOCK_QUEUE_TX], ch, VSOCK_HDR_SIZE,
	    dev->tap_copy, h->len) < 0) {
		dev->stats.tx_dropped_len++;
		return;
	}
	device_tap(dev, VSOCK_TAP_GUEST_TO_HOST, false, raw, h, dev->tap_copy,
	    h->len);
	dev->stats.g2h_packets++;
	device_relay_out(dev, raw, h, dev->tap_copy);
}

/*
 * One TX chain: copy the header out of guest memory once, decide on the
 * copy. Malformed chains are dropped silently (counted, tapped, no RST),
 * as vhost does; so is, where the profile says, a chain longer than any
 * packet, whatever its header claims (vhost_vsock_alloc_skb()).
 */
static void
tx_chain(struct vsock_device *dev, const struct virtq_chain *ch)
{
	const struct virtq *vq = &dev->vq[VSOCK_QUEUE_TX];
	uint8_t raw[VSOCK_HDR_SIZE];
	struct vsock_hdr h;
	const uint8_t *pay = dev->tap_copy;
	uint32_t carried, tap_len;
	bool drop = true;

	if (ch->read_len < VSOCK_HDR_SIZE ||
	    virtq_chain_read(vq, ch, 0, raw, VSOCK_HDR_SIZE) < 0) {
		device_tx_gather_flush(dev);
		dev->stats.tx_dropped_short++;
		return;
	}
	vsock_hdr_decode(raw, &h);
	carried = ch->read_len - VSOCK_HDR_SIZE;
	if (ch->nseg > ch->nread)
		dev->stats.tx_dropped_writable++;
	else if (h.len > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE || h.len > carried ||
	    (dev->rules.tx_chain_max != 0 &&
	    ch->read_len > dev->rules.tx_chain_max))
		dev->stats.tx_dropped_len++;
	else if (h.src_cid != dev->cfg.guest_cid ||
	    h.dst_cid != VMADDR_CID_HOST) {
		/* Off the host path: a sibling's packet if a router is set. */
		if (h.src_cid == dev->cfg.guest_cid && dev->route != NULL) {
			device_tx_gather_flush(dev);
			relay_chain(dev, ch, raw, &h);
			return;
		}
		dev->stats.tx_dropped_cid++;
	} else
		drop = false;
	/*
	 * Anything but another RW of the gathered connection sees the held
	 * packets written first, as they came (a SHUTDOWN after them, say).
	 */
	if (dev->gather.c != NULL && (drop ||
	    h.op != VIRTIO_VSOCK_OP_RW || h.type != dev->gather.c->type ||
	    h.dst_port != dev->gather.c->local_port ||
	    h.src_port != dev->gather.c->peer_port))
		device_tx_gather_flush(dev);
	if (dev->tap != NULL) {
		tap_len = h.len < carried ? h.len : carried;
		if (tap_len > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE)
			tap_len = VIRTIO_VSOCK_MAX_PKT_BUF_SIZE;
		/*
		 * Read in place when pop found the payload in one region (a
		 * Linux or Firecracker chain: header, then payload). Never
		 * trusted twice still holds: the tap decides nothing on these
		 * bytes, their length comes from h, decoded from the header
		 * copied once above (virtq_chain_read into raw) and bounded by
		 * pop's read_len, and the record's raw and hdr are that copy;
		 * the tap's consumers read each payload byte once
		 * (tap-record.h). The copy was no safer: rx_data reads the
		 * guest's bytes again for the host either way.
		 */
		if (tap_len > 0 && (pay = virtq_chain_view(vq, ch, false,
		    VSOCK_HDR_SIZE, tap_len)) == NULL) {
			pay = dev->tap_copy;
			if (virtq_chain_read(vq, ch, VSOCK_HDR_SIZE,
			    dev->tap_copy, tap_len) < 0)
				tap_len = 0;
		}
		device_tap(dev, VSOCK_TAP_GUEST_TO_HOST, drop, raw, &h,
		    pay, tap_len);
	}
	if (drop)
		return;
	dev->stats.g2h_packets++;
	if (h.op == VIRTIO_VSOCK_OP_RW)
		dev->stats.g2h_bytes += h.len;
	dispatch(dev, ch, &h);
}

void
device_tx_run(struct vsock_device *dev)
{
	struct virtq *vq = &dev->vq[VSOCK_QUEUE_TX];
	uint32_t budget = dev->cfg.tx_budget;

	dev->tx_more = false;
	if (!virtq_is_ready(vq))
		return;
	for (;;) {
		if (budget == 0) {
			/* Yield; next_deadline says "now" until we are back. */
			dev->tx_more = true;
			break;
		}
		if (virtq_pop_or_arm(vq, &dev->chain) != 1)
			break;	/* drained (a kick is asked for), or broken */
		budget--;
		dev->tx_held = false;
		tx_chain(dev, &dev->chain);
		if (!dev->tx_held)
			virtq_push(vq, dev->chain.head, 0);
	}
	/* One host write for what the run gathered, before RX answers. */
	if (dev->gather.c != NULL)
		device_tx_gather_flush(dev);
}

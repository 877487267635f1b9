/* device-rx.c - host to guest: pick what each connection owes, fill RX buffers. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "device-int.h"
#include "error.h"

/* The header of a packet from the host side of c to the guest. */
static void
conn_hdr(const struct vsock_device *dev, const struct vsock_conn *c,
    uint16_t op, struct vsock_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->src_cid = VMADDR_CID_HOST;
	h->dst_cid = dev->cfg.guest_cid;
	h->src_port = c->local_port;
	h->dst_port = c->peer_port;
	h->type = c->type;
	h->op = op;
	h->buf_alloc = c->cr.buf_alloc;
	h->fwd_cnt = c->cr.fwd_cnt;
}

/* Bytes of payload an RX chain can take given the peer's credit. */
static uint32_t
rx_room(const struct virtq_chain *ch, uint32_t credit)
{
	uint32_t room = ch->write_len - VSOCK_HDR_SIZE;

	if (room > credit)
		room = credit;
	return room > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE ?
	    VIRTIO_VSOCK_MAX_PKT_BUF_SIZE : room;
}

/* Could host data flow to the guest on c (credit aside)? */
static bool
data_may_flow(const struct vsock_conn *c)
{
	if (c->state != CONN_ESTABLISHED ||
	    (c->peer_shut & VIRTIO_VSOCK_SHUTDOWN_RCV) ||
	    (c->local_shut & VIRTIO_VSOCK_SHUTDOWN_SEND))
		return false;
	return c->h2g_buf != NULL ||
	    (c->host_readable && !c->host_eof && !c->backend_gone);
}

bool
device_conn_has_rx(const struct vsock_device *dev, const struct vsock_conn *c)
{
	if (c->pending & (PEND_RST | PEND_RESPONSE | PEND_REQUEST |
	    PEND_SHUTDOWN | PEND_CREDIT_UPDATE | PEND_CREDIT_REQUEST))
		return true;
	if (!data_may_flow(c))
		return false;
	/*
	 * Out of credit: worth a turn only to send one CREDIT_REQUEST, where
	 * the profile asks; else the guest's next packet reschedules c.
	 */
	return device_peer_credit(dev, c) > 0 ||
	    (dev->rules.credit_request && !c->credit_requested);
}

/*
 * A host read gave no data (n <= 0): end of stream, nothing there now
 * (-EAGAIN: wait for vsock_device_host_readable), or an error of the
 * host side (device_host_error decides what the guest is told).
 */
static void
host_read_empty(struct vsock_device *dev, struct vsock_conn *c, ssize_t n)
{
	if (n == 0) {
		device_host_eof(dev, c);
	} else if (n == -EAGAIN) {
		c->host_readable = false;
		c->rx_parked = false;
	} else {
		device_host_error(dev, c, n, true);
	}
}

/*
 * A STREAM read gave data and the backend says it emptied the host side
 * (VSOCK_READ_DRAINED): as -EAGAIN after it, without that read.
 */
static void
host_read_done(struct vsock_conn *c, uint32_t flags)
{
	if (flags & VSOCK_READ_DRAINED) {
		c->host_readable = false;
		c->rx_parked = false;
	}
}

/*
 * Reads STREAM data straight into the guest's buffer. Returns payload bytes
 * (> 0), or 0 when no RW can be made now (state updated accordingly).
 */
static uint32_t
read_stream(struct vsock_device *dev, struct vsock_conn *c,
    const struct virtq_chain *ch, uint32_t room)
{
	struct iovec iov[RX_IOV_MAX];
	uint32_t flags = 0, mapped;
	ssize_t n;
	int cnt;

	/* Fewer bytes than room when the iovecs run out: read less. */
	cnt = virtq_chain_iov(&dev->vq[VSOCK_QUEUE_RX], ch, true,
	    VSOCK_HDR_SIZE, room, iov, RX_IOV_MAX, &mapped);
	if (cnt == 0)
		return 0;
	/* Never read with a zero-length buffer: 0 would look like EOF. */
	n = dev->be->read(dev->be_ctx, c, iov, cnt, &flags);
	if (n > 0) {
		host_read_done(c, flags);
		return (uint32_t)n;
	}
	host_read_empty(dev, c, n);
	return 0;
}

/*
 * Drops c's host bytes not yet sent (c->h2g_buf). A STREAM batch buffer
 * goes back to the device's pool: allocating and freeing 64 KiB per batch
 * made glibc trim and regrow its heap every time (issue 20).
 */
void
device_h2g_release(struct vsock_device *dev, struct vsock_conn *c)
{
	if (c->type == VIRTIO_VSOCK_TYPE_STREAM)
		blockpool_put(&dev->h2g_pool, c->h2g_buf);
	else
		free(c->h2g_buf);
	c->h2g_buf = NULL;
}

/*
 * STREAM with RX buffers smaller than what credit allows (Linux posts 4 KiB
 * ones): one read of up to min(credit, 64 KiB) into a per-connection
 * buffer, handed out over as many RX buffers as it takes. One copy more
 * than reading into the guest's buffer, but one syscall per 64 KiB instead
 * of per 4 KiB. The buffer lives only while it holds bytes, and comes from
 * the device's bounded pool (device_h2g_release).
 */
static void
read_stream_batch(struct vsock_device *dev, struct vsock_conn *c,
    uint32_t want)
{
	struct iovec iov;
	uint32_t flags = 0;
	ssize_t n;

	/* want <= VIRTIO_VSOCK_MAX_PKT_BUF_SIZE, the pool's block size. */
	if ((c->h2g_buf = blockpool_get(&dev->h2g_pool)) == NULL) {
		device_kill(dev, c, VSOCK_RELEASE_RESET);
		return;
	}
	iov = (struct iovec){ c->h2g_buf, want };
	n = dev->be->read(dev->be_ctx, c, &iov, 1, &flags);
	if (n > 0) {
		host_read_done(c, flags);
		c->h2g_len = (uint32_t)n;
		c->h2g_off = 0;
		c->h2g_pkt_left = 0;
		c->h2g_flags = 0;	/* a stream has no message ends */
		return;
	}
	device_h2g_release(dev, c);
	host_read_empty(dev, c, n);
}

/*
 * Maps the header slot and the payload area of chain ca, popped ahead, in
 * pieces (a buffer split over regions, or several buffers). Returns the
 * payload iovecs, or 0 when either part does not map whole.
 */
static int
rx_ahead_map_split(const struct virtq *vq, const struct virtq_chain *ca,
    struct rx_ahead_chain *x, struct iovec *iov, int max)
{
	uint32_t mapped;
	int k;

	k = virtq_chain_iov(vq, ca, true, 0, VSOCK_HDR_SIZE, x->hdr,
	    RX_HDR_IOV_MAX, &mapped);
	if (mapped < VSOCK_HDR_SIZE)
		return 0;
	x->nhdr = (uint8_t)k;
	k = virtq_chain_iov(vq, ca, true, VSOCK_HDR_SIZE, x->room, iov, max,
	    &mapped);
	return mapped < x->room ? 0 : k;
}

/*
 * Pops the chains after ch until, with ch's room, they can take most
 * bytes (or the bounds stop them: RX_AHEAD_MAX chains, RX_IOV_MAX
 * iovecs), mapping each one's header slot and payload area once. No
 * chain's room crosses a multiple of 64 KiB from the read's start, so
 * the packets are those of reads of 64 KiB one after another (as Linux's
 * virtio_transport_send_pkt_info() cuts packets of at most
 * VIRTIO_VSOCK_MAX_PKT_BUF_SIZE, which vhost_transport_do_send_pkt()
 * splits over the guest's buffers). Returns the iovec count, or 0 (every
 * chain popped here given back) when they cannot take want bytes: too
 * few chains, one that is no receive buffer (the loop in device_rx_run
 * handles it as it comes), one too scattered, or a broken queue.
 */
static int
rx_ahead_map(struct vsock_device *dev, const struct virtq_chain *ch,
    uint32_t room, uint32_t want, uint32_t most)
{
	struct virtq *vq = &dev->vq[VSOCK_QUEUE_RX];
	struct rx_ahead *ra = &dev->ahead;
	const struct virtq_chain *ca = &ra->chain;
	uint32_t total = room, mapped, cut;
	unsigned n = 0;
	int cnt, k;

	cnt = virtq_chain_iov(vq, ch, true, VSOCK_HDR_SIZE, room, ra->iov,
	    RX_IOV_MAX, &mapped);
	if (mapped < room)
		return 0;
	while (total < most && n < RX_AHEAD_MAX &&
	    virtq_pop(vq, &ra->chain) == 1) {
		struct rx_ahead_chain *x = &ra->c[n];
		uint8_t *p;
		uint32_t r;

		if (ca->nread > 0 || ca->write_len <= VSOCK_HDR_SIZE) {
			(void)virtq_unpop(vq);
			break;
		}
		r = ca->write_len - VSOCK_HDR_SIZE;
		/* At most 64 KiB per chain, RX_AHEAD_MAX chains: no wrap. */
		cut = (total / VIRTIO_VSOCK_MAX_PKT_BUF_SIZE + 1) *
		    VIRTIO_VSOCK_MAX_PKT_BUF_SIZE;
		if (cut > most)
			cut = most;
		x->room = r < cut - total ? r : cut - total;
		if ((p = virtq_chain_flat_writable(vq, ca)) != NULL) {
			/* One buffer in one region: as the maps below give. */
			if (cnt == RX_IOV_MAX) {
				(void)virtq_unpop(vq);
				break;
			}
			x->hdr[0] = (struct iovec){ p, VSOCK_HDR_SIZE };
			x->nhdr = 1;
			ra->iov[cnt] = (struct iovec){ p + VSOCK_HDR_SIZE,
			    x->room };
			k = 1;
		} else if ((k = rx_ahead_map_split(vq, ca, x,
		    ra->iov + cnt, RX_IOV_MAX - cnt)) == 0) {
			(void)virtq_unpop(vq);
			break;
		}
		x->head = ca->head;
		x->pay = (uint16_t)cnt;
		x->npay = (uint8_t)k;
		cnt += k;
		total += x->room;
		n++;
	}
	if (total >= want) {
		ra->n = n;
		return cnt;
	}
	/* A broken queue gives nothing back; nothing more is pushed either. */
	(void)virtq_rewind(vq, n);
	return 0;
}

/*
 * STREAM with RX buffers smaller than what credit allows, and c alone on
 * the schedule: one scatter read of want bytes straight into ch and the
 * chains after it (Firecracker reads into one buffer per packet; this
 * saves read_stream_batch's copy). The bytes land as the batch would have
 * handed them out, so the packets are the same: ch gets min(read, room),
 * each next chain what it can take of the rest, and the chains the bytes
 * did not reach go back to the ring (virtq_rewind). The read offers up
 * to most bytes (<= credit) where enough chains are posted, fewer (at
 * least want) where not. With another connection owed a turn, the batch
 * keeps the round robin. Returns the bytes in ch (0: the read gave none,
 * state updated), or -1 when the chains cannot take want bytes (nothing
 * read).
 */
static int64_t
read_stream_scatter(struct vsock_device *dev, struct vsock_conn *c,
    const struct virtq_chain *ch, uint32_t room, uint32_t want,
    uint32_t most)
{
	struct rx_ahead *ra = &dev->ahead;
	uint32_t flags = 0, rest;
	unsigned i, filled;
	ssize_t n;
	int cnt;

	if (dev->rxq.head != NULL || dev->norphans > 0 ||
	    device_relay_pending(dev))
		return -1;
	if ((cnt = rx_ahead_map(dev, ch, room, want, most)) == 0)
		return -1;
	n = dev->be->read(dev->be_ctx, c, ra->iov, cnt, &flags);
	if (n <= 0) {
		(void)virtq_rewind(&dev->vq[VSOCK_QUEUE_RX], ra->n);
		ra->n = 0;
		host_read_empty(dev, c, n);
		return 0;
	}
	host_read_done(c, flags);
	/* The backend may not say it read more than it was given room for. */
	if ((size_t)n > most)
		n = most;
	rest = (uint32_t)n > room ? (uint32_t)n - room : 0;
	for (filled = 0, i = 0; i < ra->n && rest > 0; i++, filled++) {
		ra->c[i].len = rest < ra->c[i].room ? rest : ra->c[i].room;
		rest -= ra->c[i].len;
	}
	(void)virtq_rewind(&dev->vq[VSOCK_QUEUE_RX], ra->n - filled);
	ra->n = filled;
	return (uint32_t)n < room ? n : room;
}

/*
 * Reads the next host SEQPACKET message whole. A message larger than the
 * guest's whole buffer (min(peer's, ours) under the cap rule: Linux's
 * virtio_transport_seqpacket_enqueue()) could never be delivered: it is
 * refused with RST rather than truncated. payload_max bounds our memory.
 */
static void
read_message(struct vsock_device *dev, struct vsock_conn *c)
{
	uint32_t window = dev->rules.credit_cap_own_buf &&
	    c->cr.buf_alloc < c->cr.peer_buf_alloc ? c->cr.buf_alloc :
	    c->cr.peer_buf_alloc;
	uint32_t limit = window < dev->payload_max ? window :
	    dev->payload_max;
	struct iovec iov;
	uint32_t flags = 0;
	ssize_t n;

	if (dev->seq_staging == NULL &&
	    (dev->seq_staging = malloc(dev->payload_max)) == NULL) {
		device_kill(dev, c, VSOCK_RELEASE_RESET);
		return;
	}
	iov = (struct iovec){ dev->seq_staging, limit };
	n = dev->be->read(dev->be_ctx, c, &iov, 1, &flags);
	if (n == -EMSGSIZE) {
		dev->stats.seqpacket_oversize++;
		device_kill(dev, c, VSOCK_RELEASE_RESET);
	} else if (n <= 0) {
		host_read_empty(dev, c, n);
	} else if ((c->h2g_buf = malloc((size_t)n)) == NULL) {
		device_kill(dev, c, VSOCK_RELEASE_RESET);
	} else {
		memcpy(c->h2g_buf, dev->seq_staging, (size_t)n);
		c->h2g_len = (uint32_t)n;
		c->h2g_off = 0;
		c->h2g_pkt_left = 0;
		c->h2g_flags = flags | VIRTIO_VSOCK_SEQ_EOM;
	}
}

/*
 * Copies the next fragment of c's message into the chain; sets EOM/EOR.
 * Linux: virtio_transport_send_pkt_info() sends a message in packets of at
 * most 64 KiB and within credit, and vhost_transport_do_send_pkt() cuts each
 * packet at the guest's buffers, never one fragment across two packets.
 * (Firecracker has no SEQPACKET.)
 */
static uint32_t
message_fragment(struct vsock_device *dev, struct vsock_conn *c,
    const struct virtq_chain *ch, uint32_t room, uint32_t credit,
    uint32_t *flags)
{
	uint32_t n = c->h2g_len - c->h2g_off;

	if (c->h2g_pkt_left == 0) {
		c->h2g_pkt_left = n < VIRTIO_VSOCK_MAX_PKT_BUF_SIZE ? n :
		    VIRTIO_VSOCK_MAX_PKT_BUF_SIZE;
		if (c->h2g_pkt_left > credit)
			c->h2g_pkt_left = credit;
	}
	if (n > c->h2g_pkt_left)
		n = c->h2g_pkt_left;
	if (n > room)
		n = room;
	if (n == 0 && c->h2g_len != 0)
		return 0;
	if (virtq_chain_write(&dev->vq[VSOCK_QUEUE_RX], ch, VSOCK_HDR_SIZE,
	    c->h2g_buf + c->h2g_off, n) < 0)
		return 0;
	c->h2g_off += n;
	c->h2g_pkt_left -= n;
	*flags = 0;
	if (c->h2g_off == c->h2g_len) {
		/* EOM (and EOR) only on the last fragment, as vhost does. */
		*flags = c->h2g_flags;
		device_h2g_release(dev, c);
	}
	return n;
}

/*
 * Tries to make an RW for c in this chain. Returns true with *len / *flags
 * set when one was made (a zero-length SEQPACKET message counts).
 */
static bool
make_rw(struct vsock_device *dev, struct vsock_conn *c,
    const struct virtq_chain *ch, uint32_t *len, uint32_t *flags)
{
	uint32_t credit, room;
	uint64_t ready;
	int64_t got;

	if (!data_may_flow(c))
		return false;
	credit = device_peer_credit(dev, c);
	if (credit == 0) {
		if (dev->rules.credit_request && !c->credit_requested)
			c->pending |= PEND_CREDIT_REQUEST;
		device_close_stalled(dev, c);
		return false;
	}
	room = rx_room(ch, credit);
	if (room == 0)
		return false;	/* header-only buffer: not EOF, just small */
	*flags = 0;
	if (c->type == VIRTIO_VSOCK_TYPE_STREAM && c->h2g_buf == NULL) {
		uint32_t want = credit, most = credit;

		if (want > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE)
			want = VIRTIO_VSOCK_MAX_PKT_BUF_SIZE;
		/*
		 * A backend that knows what is ready (backend.h: readable)
		 * spares the scatter read popping 64 KiB of buffers ahead
		 * for a few bytes; those bytes land where they would have.
		 * It reads 64 KiB at most (replay's reports stay as they
		 * were). One that does not (the muxer's socket, which a
		 * host writing fast keeps fuller than 64 KiB) is offered
		 * all the chains posted and credit allow: one recvmsg
		 * instead of two or more (issue 20), the same packets.
		 */
		if (dev->be->readable != NULL) {
			if ((ready = dev->be->readable(dev->be_ctx, c)) < want)
				want = (uint32_t)ready;
			most = want;
		}
		/* Big enough buffer: straight into guest memory, no copy. */
		if (room >= want) {
			*len = read_stream(dev, c, ch, room);
			return *len > 0;
		}
		if ((got = read_stream_scatter(dev, c, ch, room, want,
		    most)) >= 0) {
			*len = (uint32_t)got;
			return *len > 0;
		}
		read_stream_batch(dev, c, want);
	} else if (c->h2g_buf == NULL) {
		read_message(dev, c);
	}
	if (c->h2g_buf == NULL)
		return false;
	*len = message_fragment(dev, c, ch, room, credit, flags);
	return *len > 0 || *flags != 0;
}

/* Picks c's highest-priority output. Returns the op, or 0 for nothing. */
static uint16_t
next_op(struct vsock_device *dev, struct vsock_conn *c,
    const struct virtq_chain *ch, uint32_t *len, uint32_t *flags)
{
	*len = 0;
	*flags = 0;
	if (c->pending & PEND_RST)
		return VIRTIO_VSOCK_OP_RST;
	if (c->pending & PEND_RESPONSE)
		return VIRTIO_VSOCK_OP_RESPONSE;
	if (c->pending & PEND_REQUEST)
		return VIRTIO_VSOCK_OP_REQUEST;
	if (make_rw(dev, c, ch, len, flags))
		return VIRTIO_VSOCK_OP_RW;
	if (c->state == CONN_KILLED)
		return 0;	/* make_rw may have killed it: RST next turn */
	if (c->pending & PEND_SHUTDOWN) {
		*flags = c->shut_owed;
		return VIRTIO_VSOCK_OP_SHUTDOWN;
	}
	if (c->pending & PEND_CREDIT_UPDATE)
		return VIRTIO_VSOCK_OP_CREDIT_UPDATE;
	if (c->pending & PEND_CREDIT_REQUEST)
		return VIRTIO_VSOCK_OP_CREDIT_REQUEST;
	return 0;
}

/* Bookkeeping after op went out on c; may destroy c. */
static void
sent(struct vsock_device *dev, struct vsock_conn *c, uint16_t op,
    uint32_t len)
{
	credit_reported(&c->cr);
	/* Every packet carries buf_alloc and fwd_cnt: no update is owed. */
	c->pending &= (uint8_t)~PEND_CREDIT_UPDATE;
	switch (op) {
	case VIRTIO_VSOCK_OP_RST:
		dev->stats.rst_sent++;
		device_destroy_conn(dev, c);
		return;
	case VIRTIO_VSOCK_OP_RESPONSE:
		c->pending &= (uint8_t)~PEND_RESPONSE;
		break;
	case VIRTIO_VSOCK_OP_REQUEST:
		c->pending &= (uint8_t)~PEND_REQUEST;
		/*
		 * The guest's time to answer starts now, not at the host's
		 * connect (Firecracker: recv_pkt() sets the expiry when it
		 * yields the REQUEST).
		 */
		device_set_timer(dev, c, TIMER_REQUEST);
		break;
	case VIRTIO_VSOCK_OP_RW:
		c->cr.tx_cnt += len;	/* Linux's name: sent to the peer */
		c->h2g_total += len;
		dev->stats.h2g_bytes += len;
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		device_shutdown_sent(dev, c);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		dev->stats.credit_updates_sent++;
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->pending &= (uint8_t)~PEND_CREDIT_REQUEST;
		c->credit_requested = true;
		dev->stats.credit_requests_sent++;
		break;
	}
	device_schedule(dev, c);
}

/* Writes header h (and taps the packet) into the chain; returns used len. */
uint32_t
device_emit(struct vsock_device *dev, const struct virtq_chain *ch,
    const struct vsock_hdr *h)
{
	const struct virtq *vq = &dev->vq[VSOCK_QUEUE_RX];
	const uint8_t *pay = dev->tap_copy;
	uint8_t raw[VSOCK_HDR_SIZE];

	vsock_hdr_encode(h, raw);
	if (virtq_chain_write(vq, ch, 0, raw, VSOCK_HDR_SIZE) < 0)
		return 0;
	if (dev->tap != NULL) {
		/*
		 * The payload as it lies in the guest's buffer, in place when
		 * pop found it in one region (every Linux and Firecracker RX
		 * buffer). The header that matters is ours: raw is encoded
		 * from h, never read back from the guest, and the length is
		 * h->len; the tap's consumers read each payload byte once
		 * (tap-record.h).
		 */
		if (h->len > 0 && (pay = virtq_chain_view(vq, ch, true,
		    VSOCK_HDR_SIZE, h->len)) == NULL) {
			pay = dev->tap_copy;
			if (virtq_chain_read_writable(vq, ch, VSOCK_HDR_SIZE,
			    dev->tap_copy, h->len) < 0)
				memset(dev->tap_copy, 0, h->len);
		}
		device_tap(dev, VSOCK_TAP_HOST_TO_GUEST, false, raw, h, pay,
		    h->len);
	}
	dev->stats.h2g_packets++;
	return VSOCK_HDR_SIZE + h->len;
}

/*
 * Copies len bytes between iovecs and a flat buffer; the iovecs map guest
 * memory checked when the chain was popped.
 */
static void
iov_copy(const struct iovec *iov, unsigned cnt, uint8_t *buf, uint32_t len,
    bool to_iov)
{
	unsigned i;

	for (i = 0; i < cnt && len > 0; i++) {
		size_t k = iov[i].iov_len < len ? iov[i].iov_len : len;

		if (to_iov)
			memcpy(iov[i].iov_base, buf, k);
		else
			memcpy(buf, iov[i].iov_base, k);
		buf += k;
		len -= (uint32_t)k;
	}
}

/*
 * The chains a scatter read filled after the first: each gets its header
 * (the same fields as the batch's next fragment would: sent() changes no
 * header field but len, so it is encoded once and only len is patched)
 * and is tapped as it lies in guest memory; then the first (head, used
 * bytes) and they go to the used ring in the order popped, with one index
 * store (vhost_add_used_n), and are accounted as one.
 */
static void
push_ahead(struct vsock_device *dev, struct vsock_conn *c, uint16_t head,
    uint32_t used)
{
	struct virtq *vq = &dev->vq[VSOCK_QUEUE_RX];
	struct rx_ahead *ra = &dev->ahead;
	uint8_t raw[VSOCK_HDR_SIZE];
	struct vsock_hdr h;
	uint32_t bytes = 0;
	unsigned i, n = ra->n;

	ra->n = 0;
	ra->used[0] = (struct virtq_done){ head, used };
	conn_hdr(dev, c, VIRTIO_VSOCK_OP_RW, &h);
	vsock_hdr_encode(&h, raw);
	for (i = 0; i < n; i++) {
		const struct rx_ahead_chain *x = &ra->c[i];

		vse_put_le32(raw + VSOCK_HDR_OFF_LEN, x->len);
		h.len = x->len;		/* the tap's copy of the header */
		if (x->nhdr == 1)
			memcpy(x->hdr[0].iov_base, raw, VSOCK_HDR_SIZE);
		else
			iov_copy(x->hdr, x->nhdr, raw, VSOCK_HDR_SIZE, true);
		if (dev->tap != NULL) {
			/* In place when one iovec: as device_emit says. */
			const uint8_t *pay = ra->iov[x->pay].iov_base;

			if (x->npay != 1) {
				iov_copy(ra->iov + x->pay, x->npay,
				    dev->tap_copy, x->len, false);
				pay = dev->tap_copy;
			}
			device_tap(dev, VSOCK_TAP_HOST_TO_GUEST, false, raw,
			    &h, pay, x->len);
		}
		ra->used[i + 1] = (struct virtq_done){ x->head,
		    VSOCK_HDR_SIZE + x->len };
		bytes += x->len;
	}
	dev->stats.h2g_packets += n;
	(void)virtq_push_n(vq, ra->used, n + 1);
	/*
	 * One sent() for all: it adds up lengths, and the scheduling it
	 * does per packet would see the same state each time but the last
	 * (data left, credit left: the read took at most the credit and
	 * every chain here holds a byte), so only the last one counts.
	 */
	sent(dev, c, VIRTIO_VSOCK_OP_RW, bytes);
}

/* Fills the chain with c's next packet; 0 when c had nothing after all. */
static uint32_t
fill_from_conn(struct vsock_device *dev, struct vsock_conn *c,
    const struct virtq_chain *ch)
{
	struct vsock_hdr h;
	uint32_t len, flags, used;
	uint16_t op = next_op(dev, c, ch, &len, &flags);

	if (op == 0)
		return 0;
	conn_hdr(dev, c, op, &h);
	h.len = len;
	h.flags = flags;
	used = device_emit(dev, ch, &h);
	sent(dev, c, op, len);
	return used;
}

/* Fills the chain with the oldest RST owed to an unknown pair. */
static uint32_t
fill_orphan(struct vsock_device *dev, const struct virtq_chain *ch)
{
	const struct orphan_rst *o = &dev->orphans[dev->orphan_head];
	struct vsock_hdr h;

	/* Linux's RST for a packet with no socket: buf_alloc and fwd_cnt 0. */
	memset(&h, 0, sizeof(h));
	h.src_cid = VMADDR_CID_HOST;
	h.dst_cid = dev->cfg.guest_cid;
	h.src_port = o->local_port;
	h.dst_port = o->peer_port;
	h.type = o->type;
	h.op = VIRTIO_VSOCK_OP_RST;
	dev->orphan_head = (dev->orphan_head + 1) % dev->cfg.orphan_max;
	dev->norphans--;
	dev->stats.rst_sent++;
	return device_emit(dev, ch, &h);
}

/* Takes the next connection off the schedule. */
static struct vsock_conn *
rxq_pop(struct vsock_device *dev)
{
	struct vsock_conn *c = dev->rxq.head;

	if (c != NULL) {
		conn_list_unlink(&dev->rxq, c, RXQ_LINK);
		c->on_rxq = false;
	}
	return c;
}

/*
 * The guest has no RX buffer for what is owed: the connection whose turn
 * it is stops being polled for reading now (its data waits for the
 * guest's kick); the others on the schedule, if polled, are parked by
 * their next readable report (vsock_device_host_readable). Only the head,
 * so a guest posting one buffer at a time cannot make each run walk every
 * connection.
 */
static void
rx_starved(struct vsock_device *dev)
{
	struct vsock_conn *c = dev->rxq.head;

	if (c != NULL && c->host_readable && !c->rx_parked) {
		c->rx_parked = true;
		device_want(dev, c);
	}
}

/*
 * Sends what is owed while the guest has RX buffers: orphan RSTs first,
 * then packets relayed from sibling VMs, then connections round-robin,
 * one packet per turn. A connection that
 * turns out to have nothing is not rescheduled until something changes,
 * so the loop ends; when buffers run out we ask for a kick and stop
 * (nothing is polled meanwhile).
 */
void
device_rx_run(struct vsock_device *dev)
{
	struct virtq *vq = &dev->vq[VSOCK_QUEUE_RX];
	struct virtq_chain *ch = &dev->chain;
	struct vsock_conn *c;
	uint32_t used;

	if (!virtq_is_ready(vq))
		return;
	while (dev->norphans > 0 || device_relay_pending(dev) ||
	    dev->rxq.head != NULL) {
		if (virtq_pop_or_arm(vq, ch) != 1) {
			/* No buffers (a kick is asked for), or broken. */
			rx_starved(dev);
			return;
		}
		if (ch->nread > 0 || ch->write_len < VSOCK_HDR_SIZE) {
			/* Not a receive buffer; give it back unused. */
			dev->stats.rx_bad_buffers++;
			virtq_push(vq, ch->head, 0);
			continue;
		}
		if (dev->norphans > 0) {
			virtq_push(vq, ch->head, fill_orphan(dev, ch));
			continue;
		}
		if (device_relay_pending(dev)) {
			virtq_push(vq, ch->head, device_relay_fill(dev, ch));
			continue;
		}
		c = rxq_pop(dev);
		used = fill_from_conn(dev, c, ch);
		if (used == 0)
			dev->ahead.n = 0;	/* only a dead queue fails emit */
		if (used > 0 && dev->ahead.n > 0) {
			push_ahead(dev, c, ch->head, used);
		} else if (used > 0) {
			virtq_push(vq, ch->head, used);
		} else if (ch->write_len == VSOCK_HDR_SIZE &&
		    device_conn_has_rx(dev, c)) {
			/*
			 * A header-only buffer cannot carry the data c has;
			 * return it empty rather than mistake it for EOF or
			 * spin on it.
			 */
			dev->stats.rx_bad_buffers++;
			virtq_push(vq, ch->head, 0);
			device_schedule(dev, c);
		} else {
			/* Nothing after all: wait for the next host event. */
			virtq_unpop(vq);
			device_want(dev, c);
		}
	}
}

/* sock.c - the socket API of the guest stack: handles, binding, af_vsock's checks, send and recv. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "guest-credit.h"
#include "vsock-int.h"

/* An open handle: in use, not closed, not waiting in an accept queue. */
struct fg_sock *
fg_sock_get(struct fg_vsock *vs, int fd)
{
	struct fg_sock *s;

	if (fd < 0 || (unsigned)fd >= vs->nsock)
		return NULL;
	s = &vs->sock[fd];
	if (!s->used || s->released || s->parent >= 0)
		return NULL;
	return s;
}

/* Takes the lowest free slot, as the kernel hands out fds. */
int
fg_sock_alloc(struct fg_vsock *vs, uint16_t type)
{
	struct fg_sock *s;
	unsigned i;

	for (i = 0; i < vs->nsock; i++) {
		s = &vs->sock[i];
		if (s->used)
			continue;
		memset(s, 0, sizeof(*s));
		s->used = true;
		s->type = type;
		s->state = FG_SS_UNCONNECTED;
		s->parent = -1;
		s->deadline = FG_TIME_NEVER;
		s->buf_alloc = FG_DEFAULT_BUF_ALLOC;
		s->rcvlowat = 1;
		TAILQ_INIT(&s->rxq);
		return (int)i;
	}
	return -EMFILE;
}

/* Drops the receive queue and the slot (and its place in an accept queue). */
void
fg_sock_free(struct fg_vsock *vs, struct fg_sock *s)
{
	struct fg_rxpkt *p;

	while ((p = TAILQ_FIRST(&s->rxq)) != NULL) {
		TAILQ_REMOVE(&s->rxq, p, entry);
		fg_rxpkt_free(vs, p);
	}
	if (s->parent >= 0)
		vs->sock[s->parent].accept_queued--;
	memset(s, 0, sizeof(*s));
}

/*
 * A receive packet holding the len payload bytes at payload (the RX buffer
 * being handled): the buffer itself kept on loan while the loan cap allows
 * (no copy, as Linux queues the skb), else a copy, in a block from the
 * pool when it is near full.
 */
struct fg_rxpkt *
fg_rxpkt_new(struct fg_vsock *vs, uint32_t len, const uint8_t *payload)
{
	size_t size = sizeof(struct fg_rxpkt) + len;
	struct fg_rxpkt *p;

	if (vs->rx_slot >= 0 && len > 0 && fg_inbuf_may_loan(&vs->rx)) {
		/* rx_slot < the RX queue size: fg_inbuf's own index. */
		p = (struct fg_rxpkt *)(void *)(vs->rx_loan_pkts +
		    (size_t)vs->rx_slot * sizeof(struct fg_rxpkt));
		p->slot = vs->rx_slot;
		p->data = payload;
		fg_inbuf_loan(&vs->rx);
		vs->rx_slot = -1;	/* rx_poll must not recycle it now */
		vs->stats.rx_loaned++;
		return p;
	}
	vs->stats.rx_copied++;
	p = blockpool_fits(&vs->rxpool, size) ? blockpool_get(&vs->rxpool) :
	    malloc(size);
	if (p == NULL)
		return NULL;
	p->slot = -1;
	p->data = p->own;
	memcpy(p->own, payload, len);
	return p;
}

/* Gives p back where fg_rxpkt_new took it from (a loaned RX buffer too). */
void
fg_rxpkt_free(struct fg_vsock *vs, struct fg_rxpkt *p)
{
	if (p->slot >= 0)
		fg_inbuf_recycle(&vs->rx, (uint32_t)p->slot, true);
	else if (blockpool_fits(&vs->rxpool, sizeof(*p) + p->len))
		blockpool_put(&vs->rxpool, p);
	else
		free(p);
}

/* Is port held by a bound socket (Linux's bound table)? */
static bool
port_in_use(const struct fg_vsock *vs, uint32_t port)
{
	unsigned i;

	for (i = 0; i < vs->nsock; i++)
		if (vs->sock[i].used && vs->sock[i].bound &&
		    vs->sock[i].local_port == port)
			return true;
	return false;
}

/*
 * Linux's __vsock_bind_connectible with a deterministic start: the next
 * port from 1024 upward that nobody holds. nsock + 1 tries always find one.
 */
static int
autobind(struct fg_vsock *vs, struct fg_sock *s)
{
	uint32_t port;
	unsigned i;

	for (i = 0; i <= vs->nsock; i++) {
		port = vs->next_port++;
		if (vs->next_port == FG_PORT_ANY)
			vs->next_port = FG_PORT_EPHEMERAL;
		if (!port_in_use(vs, port)) {
			s->bound = true;
			s->local_port = port;
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

int
fg_sock_open(struct fg_vsock *vs, uint16_t type)
{
	if (!vsock_type_known(type))
		return -ESOCKTNOSUPPORT;
	return fg_sock_alloc(vs, type);
}

int
fg_sock_bind(struct fg_vsock *vs, int fd, uint32_t port)
{
	struct fg_sock *s = fg_sock_get(vs, fd);

	if (s == NULL)
		return -EBADF;
	if (s->bound)
		return -EINVAL;
	if (port == FG_PORT_ANY)
		return autobind(vs, s);
	if (port_in_use(vs, port))
		return -EADDRINUSE;
	s->bound = true;
	s->local_port = port;
	return 0;
}

int
fg_sock_listen(struct fg_vsock *vs, int fd, int backlog)
{
	struct fg_sock *s = fg_sock_get(vs, fd);

	if (s == NULL)
		return -EBADF;
	if ((s->state != FG_SS_UNCONNECTED && s->state != FG_SS_LISTEN) ||
	    !s->bound)
		return -EINVAL;
	s->state = FG_SS_LISTEN;
	s->backlog = backlog < 0 ? 0 : backlog;
	return 0;
}

int
fg_sock_set_gate(struct fg_vsock *vs, int fd, fg_sock_gate_fn fn, void *ctx)
{
	struct fg_sock *s = fg_sock_get(vs, fd);

	if (s == NULL)
		return -EBADF;
	s->gate = fn;
	s->gate_ctx = ctx;
	return 0;
}

/* Hands out the oldest child of the listener's accept queue. */
int
fg_sock_accept(struct fg_vsock *vs, int fd)
{
	struct fg_sock *l = fg_sock_get(vs, fd), *c, *best = NULL;
	unsigned i;

	if (l == NULL)
		return -EBADF;
	if (l->state != FG_SS_LISTEN)
		return -EINVAL;
	for (i = 0; i < vs->nsock; i++) {
		c = &vs->sock[i];
		if (c->used && c->parent == fd && !c->held &&
		    (best == NULL || c->accept_seq < best->accept_seq))
			best = c;
	}
	if (best == NULL)
		return -EAGAIN;
	best->parent = -1;
	l->accept_queued--;
	return (int)(best - vs->sock);
}

/* af_vsock's vsock_connect for a non-blocking socket. */
int
fg_sock_connect(struct fg_vsock *vs, int fd, uint64_t cid, uint32_t port,
    uint64_t now)
{
	struct fg_sock *s = fg_sock_get(vs, fd);
	int e;

	if (s == NULL)
		return -EBADF;
	if (s->state == FG_SS_CONNECTED || s->state == FG_SS_CLOSING)
		return -EISCONN;
	if (s->state == FG_SS_CONNECTING)
		return -EALREADY;
	if (s->state == FG_SS_LISTEN)
		return -EINVAL;
	if (s->type == VIRTIO_VSOCK_TYPE_SEQPACKET && !vs->seqpacket)
		return -ESOCKTNOSUPPORT;
	if (!s->bound && (e = autobind(vs, s)) < 0)
		return e;
	s->peer_cid = cid;
	s->peer_port = port;
	s->state = FG_SS_CONNECTING;
	s->err = 0;
	s->listed = true;
	fg_sock_arm(vs, s, now > FG_TIME_NEVER - FG_CONNECT_TIMEOUT ?
	    FG_TIME_NEVER : now + FG_CONNECT_TIMEOUT);
	fg_sock_send_ctl(vs, s, VIRTIO_VSOCK_OP_REQUEST, 0);
	return -EINPROGRESS;
}

/* STREAM: as much as the credit allows, in packets of at most 64 KiB. */
static ssize_t
stream_send(struct fg_vsock *vs, struct fg_sock *s, const uint8_t *buf,
    size_t len)
{
	uint32_t n = fg_sock_credit(s), off, chunk;

	if (len < n)
		n = (uint32_t)len;
	if (n == 0)
		return -EAGAIN;
	for (off = 0; off < n; off += chunk) {
		chunk = n - off;
		if (chunk > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE)
			chunk = VIRTIO_VSOCK_MAX_PKT_BUF_SIZE;
		fg_sock_send_rw(vs, s, buf + off, chunk, 0);
	}
	return n;
}

/*
 * SEQPACKET: -EMSGSIZE beyond min(peer's buffer, ours) (Linux
 * virtio_transport_seqpacket_enqueue). Unlike Linux, whose non-blocking
 * send can leave half a message on the wire, the message goes whole or
 * not at all; EOM marks its last fragment, EOR too with MSG_EOR.
 */
static ssize_t
seq_send(struct fg_vsock *vs, struct fg_sock *s, const uint8_t *buf,
    size_t len, int flags)
{
	uint32_t off, chunk, f;

	if (len > fg_sock_tx_buf_size(s))
		return -EMSGSIZE;
	if (fg_sock_credit(s) < len)
		return -EAGAIN;
	for (off = 0; off < len; off += chunk) {
		chunk = (uint32_t)len - off;
		if (chunk > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE)
			chunk = VIRTIO_VSOCK_MAX_PKT_BUF_SIZE;
		f = 0;
		if (off + chunk == len)
			f = VIRTIO_VSOCK_SEQ_EOM |
			    ((flags & MSG_EOR) ? VIRTIO_VSOCK_SEQ_EOR : 0);
		fg_sock_send_rw(vs, s, buf + off, chunk, f);
	}
	return (ssize_t)len;
}

/* af_vsock's vsock_connectible_sendmsg checks, then the type's send. */
ssize_t
fg_sock_send(struct fg_vsock *vs, int fd, const void *buf, size_t len,
    int flags)
{
	struct fg_sock *s = fg_sock_get(vs, fd);

	if (s == NULL)
		return -EBADF;
	if ((s->shutdown & VIRTIO_VSOCK_SHUTDOWN_SEND) ||
	    (s->peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_RCV))
		return -EPIPE;
	if (s->state != FG_SS_CONNECTED)
		return -ENOTCONN;
	/* Linux never sends a zero-length RW. */
	if (len == 0)
		return 0;
	if (fg_txq_congested(&vs->tx))
		return -EAGAIN;
	if (s->type == VIRTIO_VSOCK_TYPE_SEQPACKET)
		return seq_send(vs, s, buf, len, flags);
	return stream_send(vs, s, buf, len);
}

/* Unlinks and releases the head packet, crediting its bytes (Linux >= 6.12). */
static void
consume_head(struct fg_vsock *vs, struct fg_sock *s)
{
	struct fg_rxpkt *p = TAILQ_FIRST(&s->rxq);

	TAILQ_REMOVE(&s->rxq, p, entry);
	s->buf_used -= p->len;
	s->fwd_cnt += p->len;
	fg_rxpkt_free(vs, p);
}

/*
 * STREAM read (virtio_transport_stream_do_dequeue): rx_bytes drops per
 * byte read, fwd_cnt only once a packet is wholly read; then the
 * Linux >= 6.8 CREDIT_UPDATE rule.
 */
static ssize_t
stream_recv(struct fg_vsock *vs, struct fg_sock *s, uint8_t *buf, size_t len)
{
	struct fg_rxpkt *p;
	size_t copied = 0, n;

	if (s->rx_bytes == 0)
		return (s->peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_SEND) ? 0 :
		    -EAGAIN;
	while (copied < len && (p = TAILQ_FIRST(&s->rxq)) != NULL) {
		n = p->len - p->off;
		if (n > len - copied)
			n = len - copied;
		memcpy(buf + copied, p->data + p->off, n);
		p->off += (uint32_t)n;
		s->rx_bytes -= (uint32_t)n;
		copied += n;
		if (p->off == p->len)
			consume_head(vs, s);
	}
	if (fg_credit_update_needed(s->buf_alloc, s->fwd_cnt, s->last_fwd_cnt,
	    s->rx_bytes, s->rcvlowat))
		fg_sock_send_ctl(vs, s, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0);
	return (ssize_t)copied;
}

/*
 * SEQPACKET read (virtio_transport_seqpacket_do_dequeue): one message,
 * the rest of it discarded (MSG_TRUNC); Linux then always sends a
 * CREDIT_UPDATE.
 */
static ssize_t
seq_recv(struct fg_vsock *vs, struct fg_sock *s, uint8_t *buf, size_t len,
    int *flags)
{
	struct fg_rxpkt *p;
	size_t copied = 0, total = 0, n;
	uint32_t f = 0;

	if (s->msg_count == 0)
		return (s->peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_SEND) ? 0 :
		    -EAGAIN;
	while ((f & VIRTIO_VSOCK_SEQ_EOM) == 0 &&
	    (p = TAILQ_FIRST(&s->rxq)) != NULL) {
		n = len - copied < p->len ? len - copied : p->len;
		memcpy(buf + copied, p->data, n);
		copied += n;
		total += p->len;
		f = p->flags;
		s->rx_bytes -= p->len;
		consume_head(vs, s);
	}
	s->msg_count--;
	*flags = ((f & VIRTIO_VSOCK_SEQ_EOR) ? MSG_EOR : 0) |
	    (total > len ? MSG_TRUNC : 0);
	fg_sock_send_ctl(vs, s, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0);
	return (ssize_t)copied;
}

/* af_vsock's vsock_connectible_recvmsg checks, then the type's read. */
ssize_t
fg_sock_recv(struct fg_vsock *vs, int fd, void *buf, size_t len, int *flags)
{
	struct fg_sock *s = fg_sock_get(vs, fd);
	int dummy;

	if (flags == NULL)
		flags = &dummy;
	*flags = 0;
	if (s == NULL)
		return -EBADF;
	/* A peer that finished (SOCK_DONE) reads as end of stream. */
	if (s->state != FG_SS_CONNECTED)
		return s->done ? 0 : -ENOTCONN;
	if ((s->shutdown & VIRTIO_VSOCK_SHUTDOWN_RCV) || len == 0)
		return 0;
	if (s->type == VIRTIO_VSOCK_TYPE_SEQPACKET)
		return seq_recv(vs, s, buf, len, flags);
	return stream_recv(vs, s, buf, len);
}

/* shutdown(2): SHUT_RD/WR/RDWR are Linux's RCV/SEND bits minus one. */
int
fg_sock_shutdown(struct fg_vsock *vs, int fd, int how)
{
	struct fg_sock *s = fg_sock_get(vs, fd);
	uint32_t mode;

	if (s == NULL)
		return -EBADF;
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (s->state != FG_SS_CONNECTED && s->state != FG_SS_CLOSING)
		return -ENOTCONN;
	mode = (uint32_t)how + 1;
	s->shutdown |= mode;
	/* vsock_shutdown clears SOCK_DONE, even on a reset connection. */
	s->done = false;
	fg_sock_send_ctl(vs, s, VIRTIO_VSOCK_OP_SHUTDOWN, mode);
	return 0;
}

/*
 * Linux virtio_transport_close: RST at once when the peer already shut
 * down both ways, else SHUTDOWN(RCV|SEND) and linger until the peer's RST
 * or FG_CLOSE_TIMEOUT.
 */
static void
release(struct fg_vsock *vs, struct fg_sock *s, uint64_t now)
{
	if (s->state != FG_SS_CONNECTED && s->state != FG_SS_CLOSING) {
		fg_sock_free(vs, s);
		return;
	}
	if (s->peer_shutdown == VIRTIO_VSOCK_SHUTDOWN_MASK) {
		fg_sock_send_ctl(vs, s, VIRTIO_VSOCK_OP_RST, 0);
		fg_sock_free(vs, s);
		return;
	}
	if (s->shutdown != VIRTIO_VSOCK_SHUTDOWN_MASK) {
		s->shutdown = VIRTIO_VSOCK_SHUTDOWN_MASK;
		fg_sock_send_ctl(vs, s, VIRTIO_VSOCK_OP_SHUTDOWN,
		    VIRTIO_VSOCK_SHUTDOWN_MASK);
	}
	s->released = true;
	fg_sock_arm(vs, s, now > FG_TIME_NEVER - FG_CLOSE_TIMEOUT ?
	    FG_TIME_NEVER : now + FG_CLOSE_TIMEOUT);
}

/* close(2); a listener releases its unaccepted children first. */
int
fg_sock_close(struct fg_vsock *vs, int fd, uint64_t now)
{
	struct fg_sock *s = fg_sock_get(vs, fd), *c;
	unsigned i;

	if (s == NULL)
		return -EBADF;
	if (s->state == FG_SS_LISTEN) {
		for (i = 0; i < vs->nsock; i++) {
			c = &vs->sock[i];
			if (c->used && c->parent == fd) {
				c->parent = -1;
				s->accept_queued--;
				release(vs, c, now);
			}
		}
	}
	release(vs, s, now);
	return 0;
}

/* Linux vsock_poll for a connectible socket, with virtio's notify_poll_*. */
int
fg_sock_poll(const struct fg_vsock *vs, int fd)
{
	const struct fg_sock *s = fg_sock_get((struct fg_vsock *)vs, fd);
	int mask = 0;

	if (s == NULL)
		return 0;
	if (s->err != 0)
		mask |= POLLERR;
	if (s->shutdown == VIRTIO_VSOCK_SHUTDOWN_MASK ||
	    ((s->shutdown & VIRTIO_VSOCK_SHUTDOWN_SEND) &&
	    (s->peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_SEND)))
		mask |= POLLHUP;
	if ((s->shutdown & VIRTIO_VSOCK_SHUTDOWN_RCV) ||
	    (s->peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_SEND))
		mask |= POLLRDHUP | POLLIN;
	if (s->state == FG_SS_LISTEN && s->accept_queued > 0)
		mask |= POLLIN;
	/* virtio_transport_notify_poll_in: rx_bytes against SO_RCVLOWAT. */
	if (s->state != FG_SS_LISTEN &&
	    !(s->shutdown & VIRTIO_VSOCK_SHUTDOWN_RCV) &&
	    s->rx_bytes >= s->rcvlowat)
		mask |= POLLIN;
	/* notify_poll_out: any credit; a closed peer reads as writable. */
	if ((s->state == FG_SS_CONNECTED && fg_sock_credit(s) > 0) ||
	    s->state == FG_SS_CLOSED || s->state == FG_SS_CLOSING)
		if (!(s->shutdown & VIRTIO_VSOCK_SHUTDOWN_SEND))
			mask |= POLLOUT;
	return mask;
}

int
fg_sock_info(const struct fg_vsock *vs, int fd, struct fg_sock_info *out)
{
	const struct fg_sock *s = fg_sock_get((struct fg_vsock *)vs, fd);

	if (s == NULL)
		return -EBADF;
	memset(out, 0, sizeof(*out));
	out->state = s->state;
	out->error = s->err;
	out->type = s->type;
	out->local_port = s->local_port;
	out->peer_cid = s->peer_cid;
	out->peer_port = s->peer_port;
	out->shutdown = s->shutdown;
	out->peer_shutdown = s->peer_shutdown;
	out->buf_alloc = s->buf_alloc;
	out->rcvlowat = s->rcvlowat;
	out->rx_bytes = s->rx_bytes;
	out->buf_used = s->buf_used;
	out->msg_count = s->msg_count;
	out->fwd_cnt = s->fwd_cnt;
	out->last_fwd_cnt = s->last_fwd_cnt;
	out->tx_cnt = s->tx_cnt;
	out->peer_buf_alloc = s->peer_buf_alloc;
	out->peer_fwd_cnt = s->peer_fwd_cnt;
	out->credit = fg_sock_credit(s);
	out->accept_queued = s->accept_queued;
	return 0;
}

int
fg_sock_state(const struct fg_vsock *vs, int fd)
{
	struct fg_sock_info i;
	int e = fg_sock_info(vs, fd, &i);

	return e < 0 ? e : (int)i.state;
}

int
fg_sock_error(const struct fg_vsock *vs, int fd)
{
	struct fg_sock_info i;
	int e = fg_sock_info(vs, fd, &i);

	return e < 0 ? e : i.error;
}

/* Does s have a peer a credit update can go to? */
static bool
has_peer(const struct fg_sock *s)
{
	return s->state == FG_SS_CONNECTED || s->state == FG_SS_CLOSING;
}

/* Linux >= 6.8 virtio_transport_notify_set_rcvlowat. */
int
fg_sock_set_rcvlowat(struct fg_vsock *vs, int fd, uint32_t lowat)
{
	struct fg_sock *s = fg_sock_get(vs, fd);

	if (s == NULL)
		return -EBADF;
	if (lowat > s->buf_alloc)
		return -EINVAL;
	/* A reader now waiting for more must let the peer know it may send. */
	if (has_peer(s) && s->rx_bytes < lowat &&
	    s->fwd_cnt != s->last_fwd_cnt)
		fg_sock_send_ctl(vs, s, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0);
	s->rcvlowat = lowat != 0 ? lowat : 1;
	return 0;
}

/* Linux virtio_transport_notify_buffer_size: a change is announced. */
int
fg_sock_set_buf_alloc(struct fg_vsock *vs, int fd, uint32_t size)
{
	struct fg_sock *s = fg_sock_get(vs, fd);

	if (s == NULL)
		return -EBADF;
	if (size == s->buf_alloc)
		return 0;
	s->buf_alloc = size;
	if (has_peer(s))
		fg_sock_send_ctl(vs, s, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0);
	return 0;
}

/* Test seam: as if tx_cnt bytes went out acknowledged and fwd_cnt came in. */
int
fg_sock_test_set_counters(struct fg_vsock *vs, int fd, uint32_t tx_cnt,
    uint32_t fwd_cnt)
{
	struct fg_sock *s = fg_sock_get(vs, fd);

	if (s == NULL)
		return -EBADF;
	s->tx_cnt = s->peer_fwd_cnt = tx_cnt;
	s->fwd_cnt = s->last_fwd_cnt = fwd_cnt;
	return 0;
}

/* replay-eom.c - the look-ahead to a host SEQPACKET message's end: the application wrote it whole before its first fragment left. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "replay-int.h"

/*
 * Linux sends a SEQPACKET message the application wrote in one send() as
 * several packets when the guest's credit or RX buffers cut it, EOM on the
 * last only (virtio_transport_send_pkt_info() -> virtio_transport_get_credit()),
 * and the first leaves before the trace shows the end. The replayed
 * application must hold the whole message by the first fragment, or the
 * device has nothing to send there. So at a host fragment that starts a
 * message, frames are held (copied: the reader's pointers do not last)
 * until that message's EOM shows, then fed in order with the message known.
 * The end never comes when the pair is cut (an RST or SHUTDOWN from either
 * side: the "message cut by the guest's close" quirk then applies), or
 * beyond RP_EOM_AHEAD_FRAMES / _BYTES, or at the trace's end: the frames
 * are fed as they are, the message handed over at its EOM as before.
 */

/*
 * Is f a SEQPACKET fragment without its EOM, recorded whole: could it
 * start a message at all? Inline: most frames are not.
 */
static inline bool
is_fragment(const struct vsock_pcap_frame *f)
{
	const struct vsock_hdr *h = &f->hdr;

	return h->op == VIRTIO_VSOCK_OP_RW &&
	    h->type == VIRTIO_VSOCK_TYPE_SEQPACKET &&
	    !(h->flags & VIRTIO_VSOCK_SEQ_EOM) && f->payload_len == h->len;
}

/* Does f, fed next, start a host SEQPACKET message without its EOM? */
static bool
starts_message(struct replay *rp, const struct vsock_pcap_frame *f)
{
	const struct vsock_hdr *h = &f->hdr;
	const struct rp_conn *c;
	bool to_guest;

	if (!rp->started || !is_fragment(f))
		return false;
	if (rp->opt.guest_cid != 0 && rp->opt.guest_cid !=
	    (f->to_guest ? h->dst_cid : h->src_cid))
		return false;
	if ((c = rp_trace_find(rp, f, &to_guest)) == NULL || !to_guest)
		return false;
	return c->state == RPC_OPEN && c->type == VIRTIO_VSOCK_TYPE_SEQPACKET &&
	    c->msg_len == 0 && !c->msg_ahead && c->sc != NULL &&
	    c->mode != REPLAY_PORT_ECHO;
}

/* Is g on the same pair as the host frame s, either way? Which way? */
static bool
same_pair(const struct vsock_hdr *s, const struct vsock_hdr *g, bool *fwd)
{
	*fwd = g->src_cid == s->src_cid && g->src_port == s->src_port &&
	    g->dst_cid == s->dst_cid && g->dst_port == s->dst_port;
	return *fwd || (g->src_cid == s->dst_cid && g->src_port ==
	    s->dst_port && g->dst_cid == s->src_cid && g->dst_port ==
	    s->src_port);
}

enum msg_end { END_MORE, END_FOUND, END_GUEST_CUT, END_CUT };

/* Does the guest stop receiving with g: RST, SHUTDOWN(RCV)? */
static bool
guest_cuts(const struct vsock_hdr *g)
{
	return g->op == VIRTIO_VSOCK_OP_RST ||
	    (g->op == VIRTIO_VSOCK_OP_SHUTDOWN &&
	    (g->flags & VIRTIO_VSOCK_SHUTDOWN_RCV));
}

/*
 * Looks for the end of the message frame[head] starts, from where the last
 * look stopped; *eom is its last fragment when found, or the guest's frame
 * that cut it (END_GUEST_CUT).
 */
static enum msg_end
find_end(struct rp_ahead *a, unsigned *eom)
{
	const struct vsock_hdr *s = &a->frame[a->head].hdr, *g;
	bool fwd;

	for (; a->scan < a->n; a->scan++) {
		g = &a->frame[a->scan].hdr;
		if (!same_pair(s, g, &fwd))
			continue;
		if (!fwd && guest_cuts(g)) {
			*eom = a->scan;
			return END_GUEST_CUT;
		}
		if (g->op == VIRTIO_VSOCK_OP_RST ||
		    g->op == VIRTIO_VSOCK_OP_SHUTDOWN ||
		    g->op == VIRTIO_VSOCK_OP_REQUEST ||
		    g->op == VIRTIO_VSOCK_OP_RESPONSE)
			return END_CUT;
		if (!fwd || g->op != VIRTIO_VSOCK_OP_RW)
			continue;
		if (g->type != VIRTIO_VSOCK_TYPE_SEQPACKET ||
		    a->frame[a->scan].payload_len != g->len)
			return END_CUT;	/* not a message replay can gather */
		if (g->flags & VIRTIO_VSOCK_SEQ_EOM) {
			*eom = a->scan;
			return END_FOUND;
		}
	}
	return END_MORE;
}

/*
 * Gathers the message frame[head .. eom] carries, for rp_eom_take(). When
 * the guest cut it (cut: frame[eom] is the guest's RST or SHUTDOWN), the
 * fragments before are its head and the rest is unknown: one byte more
 * (RP_EOM_UNKNOWN) stands for it, so the device, like Linux, sends the head
 * without EOM and no more while the guest's credit is used up.
 */
static int
gather(struct replay *rp, unsigned eom, bool cut)
{
	struct rp_ahead *a = &rp->ahead;
	const struct vsock_hdr *s = &a->frame[a->head].hdr, *g;
	size_t len = 0;
	unsigned i;
	bool fwd;
	uint8_t *q;

	for (i = a->head; i <= eom; i++)
		if (same_pair(s, &a->frame[i].hdr, &fwd) && fwd)
			len += a->frame[i].hdr.len;
	if (cut)
		len += RP_EOM_UNKNOWN;
	/* The held payloads bound it: RP_EOM_AHEAD_BYTES. */
	if (len > a->msg_cap) {
		if ((q = realloc(a->msg, len)) == NULL)
			return -VSE_ERR_NOMEM;
		a->msg = q;
		a->msg_cap = (uint32_t)len;
	}
	a->msg_len = 0;
	for (i = a->head; i <= eom; i++) {
		g = &a->frame[i].hdr;
		if (!same_pair(s, g, &fwd) || !fwd || g->len == 0)
			continue;
		memcpy(a->msg + a->msg_len, a->buf + a->off[i], g->len);
		a->msg_len += g->len;
	}
	if (cut) {
		memset(a->msg + a->msg_len, 0, RP_EOM_UNKNOWN);
		a->msg_len += RP_EOM_UNKNOWN;
		a->msg_flags = 0;	/* never sent whole */
	} else {
		a->msg_flags = a->frame[eom].hdr.flags &
		    (VIRTIO_VSOCK_SEQ_EOM | VIRTIO_VSOCK_SEQ_EOR);
	}
	a->give = a->frame[a->head].number;
	return 0;
}

/* Keeps a copy of f at the end of the held frames. */
static int
hold(struct rp_ahead *a, const struct vsock_pcap_frame *f)
{
	struct vsock_pcap_frame *fr;
	size_t *off, cap, base;
	unsigned n;
	uint8_t *q;

	if (a->head > 0 && a->head < a->n) {
		/* Reuse the front: what is held is bounded, not what was. */
		base = a->off[a->head];
		memmove(a->frame, a->frame + a->head,
		    (a->n - a->head) * sizeof(*a->frame));
		memmove(a->buf, a->buf + base, a->len - base);
		for (n = a->head; n < a->n; n++)
			a->off[n - a->head] = a->off[n] - base;
		a->len -= base;
		a->n -= a->head;
		a->scan = a->scan > a->head ? a->scan - a->head : 0;
		a->head = 0;
	}
	if (a->n == a->cap) {
		n = a->cap ? 2 * a->cap : 16;
		if ((fr = realloc(a->frame, n * sizeof(*fr))) == NULL)
			return -VSE_ERR_NOMEM;
		a->frame = fr;
		if ((off = realloc(a->off, n * sizeof(*off))) == NULL)
			return -VSE_ERR_NOMEM;
		a->off = off;
		a->cap = n;
	}
	if (a->len + f->payload_len > a->bufcap) {
		cap = a->bufcap ? a->bufcap : 4096;
		while (cap < a->len + f->payload_len)
			cap *= 2;
		if ((q = realloc(a->buf, cap)) == NULL)
			return -VSE_ERR_NOMEM;
		a->buf = q;
		a->bufcap = cap;
	}
	if (f->payload_len > 0)
		memcpy(a->buf + a->len, f->payload, f->payload_len);
	a->frame[a->n] = *f;
	a->off[a->n++] = a->len;
	a->len += f->payload_len;
	return 0;
}

/* Are the held frames at the look-ahead's limit? */
static bool
full(const struct rp_ahead *a)
{
	return a->n - a->head >= RP_EOM_AHEAD_FRAMES ||
	    a->len - a->off[a->head] >= RP_EOM_AHEAD_BYTES;
}

/*
 * Feeds the held frames until one starts a message whose end is not held
 * yet (unless at_end: the trace is over). Returns replay_feed's answer.
 */
static int
drain(struct replay *rp, bool at_end)
{
	struct rp_ahead *a = &rp->ahead;
	struct vsock_pcap_frame *fr;
	enum msg_end end;
	unsigned eom = 0;
	bool to_guest, overflow = false;
	int e = 0;

	while (a->head < a->n) {
		fr = &a->frame[a->head];
		fr->payload = a->buf + a->off[a->head];
		if (!a->checked) {
			a->checked = true;
			/*
			 * Past the limit, what is held goes as it is: no frame
			 * is looked through again for each message start.
			 */
			a->pending = !overflow && starts_message(rp, fr);
			a->scan = a->head + 1;
		}
		if (a->pending) {
			end = find_end(a, &eom);
			if (end == END_MORE && !at_end && !full(a))
				return 0;
			overflow |= end == END_MORE && !at_end;
			if (end == END_FOUND || end == END_GUEST_CUT) {
				if (gather(rp, eom, end == END_GUEST_CUT) < 0) {
					rp->nomem = true;
					return -VSE_ERR_NOMEM;
				}
				a->give_conn = rp_trace_find(rp, fr, &to_guest);
			}
			a->pending = false;
		}
		e = rp_feed_frame(rp, fr);
		a->give = 0;
		a->head++;
		a->checked = false;
		if (e != 0)
			break;		/* the verdict is settled */
	}
	a->head = a->n = 0;
	a->len = 0;
	a->checked = a->pending = false;
	return e;
}

/*
 * rp_eom_feed's work when frames are held or f starts a message: apart,
 * so that the common case pays for none of it.
 */
static int __attribute__((noinline))
hold_and_drain(struct replay *rp, const struct vsock_pcap_frame *f)
{
	if (hold(&rp->ahead, f) < 0) {
		rp->nomem = true;
		return -VSE_ERR_NOMEM;
	}
	return drain(rp, false);
}

int
rp_eom_feed(struct replay *rp, const struct vsock_pcap_frame *f)
{
	const struct rp_ahead *a = &rp->ahead;

	/* The common case: nothing held, nothing to hold, no copy. */
	if (a->head == a->n && (!is_fragment(f) || !starts_message(rp, f)))
		return rp_feed_frame(rp, f);
	return hold_and_drain(rp, f);
}

int
rp_eom_flush(struct replay *rp)
{
	return drain(rp, true);
}

/* The whole message c's application sends at the frame being fed, if known. */
bool
rp_eom_take(struct replay *rp, const struct rp_conn *c, const uint8_t **msg,
    uint32_t *len, uint32_t *flags)
{
	struct rp_ahead *a = &rp->ahead;

	if (a->give == 0 || a->give != rp->cur_frame || a->give_conn != c)
		return false;
	*msg = a->msg;
	*len = a->msg_len;
	*flags = a->msg_flags;
	a->give = 0;
	return true;
}

void
rp_eom_free(struct replay *rp)
{
	struct rp_ahead *a = &rp->ahead;

	free(a->frame);
	free(a->off);
	free(a->buf);
	free(a->msg);
	memset(a, 0, sizeof(*a));
}

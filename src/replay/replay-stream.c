/* replay-stream.c - what replay holds: byte streams compared across packets, window packets, messages. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "replay-int.h"

void
rp_stream_free(struct rp_stream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
	s->lead = -1;
}

/* Gives the buffer of a matched stream back; its totals stay. */
void
rp_stream_trim(struct rp_stream *s)
{
	if (s->len != s->off)
		return;
	free(s->buf);
	s->buf = NULL;
	s->off = s->len = s->cap = 0;
}

/* Appends n surplus bytes of the side that is ahead. */
static int
stream_append(struct rp_stream *s, const uint8_t *p, size_t n)
{
	size_t cap;
	uint8_t *q;

	if (s->off > 0 && s->len + n > s->cap) {
		/* Slide the surplus to the front before growing. */
		memmove(s->buf, s->buf + s->off, s->len - s->off);
		s->len -= s->off;
		s->off = 0;
	}
	if (s->len + n > s->cap) {
		cap = s->cap ? s->cap : 4096;
		while (cap < s->len + n)
			cap *= 2;
		if ((q = realloc(s->buf, cap)) == NULL)
			return -VSE_ERR_NOMEM;
		s->buf = q;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

/* Keeps the surplus of the side ahead, within RP_HOLD_MAX; 0 or -1 (rp told). */
static int
stream_hold(struct replay *rp, struct rp_stream *s, const uint8_t *p,
    size_t n)
{
	if (s->len - s->off + n > RP_HOLD_MAX) {
		rp_limit(rp, rp->cur_frame, "one side of a connection is more "
		    "than %d MiB ahead of the other in one direction",
		    RP_HOLD_MAX_MIB);
		return -1;
	}
	if (stream_append(s, p, n) < 0) {
		rp->nomem = true;
		return -1;
	}
	return 0;
}

/*
 * Takes back the last n bytes side pushed, if they are still its surplus
 * (nothing the other side produced has matched them). Returns 0, or -1
 * when they are not.
 */
int
rp_stream_retract(struct rp_stream *s, enum rp_side side, size_t n)
{
	if (s->lead != (int)side || s->len - s->off < n)
		return -1;
	s->len -= n;
	s->total[side] -= n;
	if (s->len == s->off) {
		s->off = s->len = 0;
		s->lead = -1;
	}
	return 0;
}

/* rp_stream_push when side is ahead, or nobody is: its bytes are held. */
int
rp_stream_lead(struct replay *rp, struct rp_stream *s, enum rp_side side,
    const uint8_t *p, size_t n)
{
	s->lead = (int)side;
	s->total[side] += n;
	if (n == 0)
		return 0;
	/*
	 * Most pushes find nothing held and the buffer as large as before:
	 * stream_hold's work without its call (no slide, no growth, in cap).
	 */
	if (s->len + n <= s->cap && s->len - s->off + n <= RP_HOLD_MAX) {
		memcpy(s->buf + s->len, p, n);
		s->len += n;
		return 0;
	}
	return stream_hold(rp, s, p, n);
}

/* rp_stream_push when the other side is ahead: its surplus is compared. */
int
rp_stream_match(struct replay *rp, struct rp_stream *s, enum rp_side side,
    const uint8_t *p, size_t n, uint64_t *at)
{
	size_t have, k, i;

	have = s->len - s->off;
	k = n < have ? n : have;
	if (memcmp(s->buf + s->off, p, k) != 0) {
		/*
		 * Where, from a second look: p may be guest memory
		 * (tap-record.h) that changed since memcmp, so the look is
		 * bounded by k and memcmp's verdict stands whatever it finds.
		 */
		for (i = 0; i < k && s->buf[s->off + i] == p[i]; i++)
			continue;
		*at = s->total[side] + i;
		return 1;
	}
	s->off += k;
	s->total[side] += n;
	if (s->off == s->len) {
		s->off = s->len = 0;
		s->lead = -1;
	}
	if (k < n) {
		s->lead = (int)side;
		return stream_hold(rp, s, p + k, n - k);
	}
	return 0;
}

/* Surplus bytes one side has over the other, and which side. */
size_t
rp_stream_pending(const struct rp_stream *s, enum rp_side *lead)
{
	if (s->len == s->off || s->lead < 0)
		return 0;
	*lead = (enum rp_side)s->lead;
	return s->len - s->off;
}

int
rp_pktlist_add(struct rp_pktlist *l, const struct vsock_hdr *h,
    uint64_t frame)
{
	struct rp_pkt *v;
	uint32_t cap;

	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 8;
		if ((v = realloc(l->v, cap * sizeof(*v))) == NULL)
			return -VSE_ERR_NOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].h = *h;
	l->v[l->n].frame = frame;
	l->n++;
	return 0;
}

void
rp_pktlist_free(struct rp_pktlist *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/*
 * Holds a packet of this window for the comparison (replay-compare.c), one
 * the mode compares (rp_window_add asked): in semantic mode only the
 * events, so a long stream of data and credit packets holds nothing. At
 * most RP_WINDOW_MAX in all.
 */
void
rp_window_hold(struct replay *rp, struct rp_conn *c, enum rp_side side,
    const struct vsock_hdr *h, uint64_t frame)
{
	if (rp->window_pkts >= RP_WINDOW_MAX) {
		rp_limit(rp, frame, "more than %d packets between two guest "
		    "frames of different times (replay holds one such window "
		    "in memory)", RP_WINDOW_MAX);
		return;
	}
	if (rp_pktlist_add(&c->win[side], h, frame) < 0)
		rp->nomem = true;
	else
		rp->window_pkts++;
}

/* Takes back the packet side added last to this window. */
void
rp_window_drop_last(struct replay *rp, struct rp_conn *c, enum rp_side side)
{
	if (c->win[side].n == 0)
		return;
	c->win[side].n--;
	rp->window_pkts--;
}

/*
 * Gathers a SEQPACKET message's fragments (len bytes at p) until its EOM.
 * No cap of its own is needed: the device sends none of a message before
 * its EOM, so its bytes are also held, unmatched, in the host->guest
 * stream, which stops at RP_HOLD_MAX first. Returns false without memory.
 */
bool
rp_msg_append(struct replay *rp, struct rp_conn *c, const uint8_t *p,
    uint32_t len)
{
	uint32_t cap;
	uint8_t *q;

	if (c->msg_len + len > c->msg_cap) {
		cap = c->msg_cap ? c->msg_cap : 4096;
		while (cap < c->msg_len + len)
			cap *= 2;
		if ((q = realloc(c->msg, cap)) == NULL) {
			rp->nomem = true;
			return false;
		}
		c->msg = q;
		c->msg_cap = cap;
	}
	if (len > 0)
		memcpy(c->msg + c->msg_len, p, len);
	c->msg_len += len;
	return true;
}

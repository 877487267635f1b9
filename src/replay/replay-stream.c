/* replay-stream.c - byte streams compared across packet boundaries, and window packet lists. */
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

/*
 * Side `side` produced n more bytes. Returns 0, or 1 when they differ from
 * what the other side produced at the same offset (*at = that offset in
 * the stream), or -VSE_ERR_NOMEM.
 */
int
rp_stream_push(struct rp_stream *s, enum rp_side side, const uint8_t *p,
    size_t n, uint64_t *at)
{
	size_t have, k, i;

	if (s->len == s->off)
		s->lead = -1;
	if (s->lead == -1 || s->lead == (int)side) {
		s->lead = (int)side;
		s->total[side] += n;
		return n > 0 ? stream_append(s, p, n) : 0;
	}
	have = s->len - s->off;
	k = n < have ? n : have;
	if (memcmp(s->buf + s->off, p, k) != 0) {
		for (i = 0; s->buf[s->off + i] == p[i]; i++)
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
		return stream_append(s, p + k, n - k);
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

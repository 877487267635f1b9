/* ladder.c - group a trace's frames into connections and rows for the ladder diagrams, folding long data runs, within fixed bounds. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ladder.h"
#include "vsock-proto.h"

void
ladder_init(struct ladder *l)
{
	memset(l, 0, sizeof(*l));
}

void
ladder_mark(struct ladder *l, uint64_t n, unsigned mark)
{
	l->mark_frame = n;
	l->mark = mark;
}

/* Data packets are what a long transfer is made of: they fold. */
static bool
is_data(const struct vsock_hdr *h)
{
	return h->op == VIRTIO_VSOCK_OP_RW ||
	    h->op == VIRTIO_VSOCK_OP_CREDIT_UPDATE ||
	    h->op == VIRTIO_VSOCK_OP_CREDIT_REQUEST;
}

/* Is c the connection between f's two endpoints (either way round)? */
static bool
conn_matches(const struct ladder_conn *c, const struct vsock_hdr *h)
{
	return (c->left_cid == h->src_cid && c->left_port == h->src_port &&
	    c->right_cid == h->dst_cid && c->right_port == h->dst_port) ||
	    (c->left_cid == h->dst_cid && c->left_port == h->dst_port &&
	    c->right_cid == h->src_cid && c->right_port == h->src_port);
}

/*
 * The connection f belongs to: the latest between its two endpoints, or
 * NULL. A REQUEST always begins a new one (ports are reused: Linux's
 * bind loop, vsock_test's fixed 1234); anything else, even after an RST
 * (Linux's SHUTDOWN from a socket already reset), joins the latest.
 */
static struct ladder_conn *
find_conn(struct ladder *l, const struct vsock_pcap_frame *f)
{
	struct ladder_conn *c, *found = NULL;

	if (f->hdr.op == VIRTIO_VSOCK_OP_REQUEST)
		return NULL;
	for (c = l->head; c != NULL; c = c->next)
		if (conn_matches(c, &f->hdr))
			found = c;
	return found;
}

/*
 * A new connection, its lanes set by f: the guest on the left when the
 * direction is known (vsockemu's mark, or two different CIDs: the host is
 * CID 2); on loopback, where both ends share a CID, the first sender.
 */
static struct ladder_conn *
new_conn(struct ladder *l, const struct vsock_pcap_frame *f)
{
	struct ladder_conn *c;
	bool sender_left = true;

	if (l->nconns >= LADDER_MAX_CONNS)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (f->dir_marked || f->hdr.src_cid != f->hdr.dst_cid) {
		c->left_is_guest = true;
		sender_left = !f->to_guest;
	}
	c->left_cid = sender_left ? f->hdr.src_cid : f->hdr.dst_cid;
	c->left_port = sender_left ? f->hdr.src_port : f->hdr.dst_port;
	c->right_cid = sender_left ? f->hdr.dst_cid : f->hdr.src_cid;
	c->right_port = sender_left ? f->hdr.dst_port : f->hdr.src_port;
	c->type = f->hdr.type;
	if (l->tail != NULL)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	l->nconns++;
	return c;
}

/* Appends r to c's rows; false when the trace's row budget is spent. */
static bool
push_row(struct ladder *l, struct ladder_conn *c, const struct ladder_row *r)
{
	struct ladder_row *n;
	unsigned cap;

	if (l->nrows >= LADDER_MAX_ROWS)
		return false;
	if (c->nrows == c->cap) {
		cap = c->cap ? c->cap * 2 : 16;
		if ((n = realloc(c->rows, cap * sizeof(*n))) == NULL)
			return false;
		c->rows = n;
		c->cap = cap;
	}
	c->rows[c->nrows++] = *r;
	l->nrows++;
	return true;
}

/* Counts r as one of the open run's rows left out. */
static void
omit(struct ladder_conn *c, const struct ladder_row *r)
{
	if (c->omitted.omitted_frames++ == 0) {
		c->omitted.kind = LADDER_ROW_OMITTED;
		c->omitted.folded = true;
		c->omitted.frame = r->frame;
		c->omitted.ts_ns = r->ts_ns;
	}
	if (r->hdr.op == VIRTIO_VSOCK_OP_RW)
		c->omitted.omitted_bytes[r->from_left ? 0 : 1] += r->hdr.len;
}

/*
 * Ends c's open run: what was left out (one OMITTED row), then the run's
 * last rows.
 */
static void
close_run(struct ladder *l, struct ladder_conn *c)
{
	unsigned i, kept_end = c->nrows;

	if (c->run_len == 0)
		return;		/* no run open */
	/* A short run shows whole; a long one's last rows show too. */
	if (c->run_len <= LADDER_RUN_FOLD_MIN)
		for (i = c->run_start; i < kept_end; i++)
			c->rows[i].folded = false;
	else if (c->ntail == 0)
		for (i = kept_end > c->run_start + LADDER_RUN_TAIL ?
		    kept_end - LADDER_RUN_TAIL : c->run_start; i < kept_end; i++)
			c->rows[i].folded = false;

	if (c->omitted.omitted_frames > 0 && !push_row(l, c, &c->omitted))
		l->undrawn_frames += c->omitted.omitted_frames;
	for (i = 0; i < c->ntail; i++) {
		c->tail[i].folded = false;	/* a long run's end shows */
		if (!push_row(l, c, &c->tail[i]))
			l->undrawn_frames++;
	}
	memset(&c->omitted, 0, sizeof(c->omitted));
	c->ntail = 0;
	c->run_len = 0;
}

/*
 * Places a data row of an open run: shown, folded and kept, or (past
 * LADDER_RUN_KEEP) held among the run's last rows, the oldest of which is
 * then left out.
 */
static void
place_data(struct ladder *l, struct ladder_conn *c, struct ladder_row *r)
{
	unsigned pos = c->run_len++;

	if (pos == 0)
		c->run_start = c->nrows;
	r->folded = pos >= LADDER_RUN_SHOW;
	if (pos < LADDER_RUN_SHOW + LADDER_RUN_KEEP) {
		if (!push_row(l, c, r))
			l->undrawn_frames++;
		return;
	}
	if (c->ntail == LADDER_RUN_TAIL) {
		omit(c, &c->tail[0]);
		memmove(&c->tail[0], &c->tail[1],
		    (LADDER_RUN_TAIL - 1) * sizeof(c->tail[0]));
		c->ntail--;
	}
	c->tail[c->ntail++] = *r;
}

/*
 * The sender's free receive space as its header advertises it (the peer's
 * view in Linux's virtio_transport_get_credit(): buf_alloc less what it
 * has sent that fwd_cnt does not yet count), in the counters' 32-bit
 * arithmetic. False when that makes no sense (a capture that starts
 * mid-stream, a peer that overran): no bar rather than a wrong one.
 */
static bool
credit_free(const struct ladder_conn *c, const struct vsock_hdr *h,
    bool from_left, uint32_t *free_out)
{
	uint32_t pending = (uint32_t)c->sent[from_left ? 1 : 0] - h->fwd_cnt;

	if (pending > h->buf_alloc)
		return false;
	*free_out = h->buf_alloc - pending;
	return true;
}

int
ladder_add(struct ladder *l, const struct vsock_pcap_frame *f)
{
	struct ladder_conn *c;
	struct ladder_row r;
	bool marked;

	if (!l->have_first) {
		l->first_ns = f->ts_ns;
		l->have_first = true;
	}
	l->frames++;
	if ((c = find_conn(l, f)) == NULL && (c = new_conn(l, f)) == NULL) {
		l->undrawn_frames++;
		return l->nconns >= LADDER_MAX_CONNS ? 0 : -1;
	}
	memset(&r, 0, sizeof(r));
	r.kind = LADDER_ROW_PACKET;
	r.frame = f->number;
	r.backwards = f->ts_ns < l->first_ns;
	r.ts_ns = r.backwards ? l->first_ns - f->ts_ns : f->ts_ns - l->first_ns;
	r.from_left = f->hdr.src_cid == c->left_cid &&
	    f->hdr.src_port == c->left_port;
	r.hdr = f->hdr;
	r.payload_len = f->payload_len;
	r.preview_len = (uint8_t)(f->payload_len < LADDER_PREVIEW ?
	    f->payload_len : LADDER_PREVIEW);
	if (r.preview_len > 0)
		memcpy(r.preview, f->payload, r.preview_len);
	r.marks = (f->dropped ? LADDER_MARK_DROPPED : 0) |
	    (f->split_tap ? LADDER_MARK_SPLIT_TAP : 0) |
	    (f->cut ? LADDER_MARK_CUT : 0);
	marked = l->mark_frame != 0 && f->number == l->mark_frame;
	if (marked)
		r.marks |= l->mark;
	r.credit_known = credit_free(c, &f->hdr, r.from_left, &r.credit_free);
	c->frames++;
	if (f->hdr.op == VIRTIO_VSOCK_OP_RW && !f->dropped) {
		c->sent[r.from_left ? 0 : 1] += f->hdr.len;
		c->bytes[r.from_left ? 0 : 1] += f->hdr.len;
	}
	if (is_data(&f->hdr) && !marked) {
		place_data(l, c, &r);
		return 0;
	}
	/* Setup, SHUTDOWN, RST and the marked frame end a run and show. */
	close_run(l, c);
	if (!push_row(l, c, &r))
		l->undrawn_frames++;
	return 0;
}

void
ladder_finish(struct ladder *l)
{
	struct ladder_conn *c;

	for (c = l->head; c != NULL; c = c->next)
		close_run(l, c);
}

void
ladder_free(struct ladder *l)
{
	struct ladder_conn *c, *n;

	for (c = l->head; c != NULL; c = n) {
		n = c->next;
		free(c->rows);
		free(c);
	}
	ladder_init(l);
}

int
ladder_read_file(struct ladder *l, const char *path, char *err,
    size_t errlen)
{
	struct vsock_pcap_reader *r;
	struct vsock_pcap_frame f;
	int e;

	if (vsock_pcap_reader_open(path, VSOCK_PCAP_TRIM_SPLIT |
	    VSOCK_PCAP_ACCEPT_CUT, &r, err,
	    errlen) < 0)
		return -1;
	while ((e = vsock_pcap_reader_next(r, &f, err, errlen)) == 1)
		if (ladder_add(l, &f) < 0) {
			snprintf(err, errlen, "%s: out of memory at frame %llu",
			    path, (unsigned long long)f.number);
			e = -1;
			break;
		}
	vsock_pcap_reader_close(r);
	ladder_finish(l);
	return e == 0 ? 0 : -1;
}

/* replay-compare.c - one window's host frames against the device's packets, semantic or strict. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "replay-int.h"
#include "trace-format.h"

/*
 * The first header field in which a and b differ in strict mode, or NULL.
 * Linux's RST for a packet with no socket carries buf_alloc and fwd_cnt 0:
 * a recorded RST with both 0 matches whatever the device put there.
 */
static const char *
strict_field(const struct vsock_hdr *a, const struct vsock_hdr *b)
{
	bool rst0 = a->op == VIRTIO_VSOCK_OP_RST && a->buf_alloc == 0 &&
	    a->fwd_cnt == 0;

	if (a->op != b->op)
		return "op";
	if (a->src_cid != b->src_cid)
		return "src_cid";
	if (a->dst_cid != b->dst_cid)
		return "dst_cid";
	if (a->src_port != b->src_port)
		return "src_port";
	if (a->dst_port != b->dst_port)
		return "dst_port";
	if (a->type != b->type)
		return "type";
	if (a->len != b->len)
		return "len";
	if (a->flags != b->flags)
		return "flags";
	if (!rst0 && a->buf_alloc != b->buf_alloc)
		return "buf_alloc";
	if (!rst0 && a->fwd_cnt != b->fwd_cnt)
		return "fwd_cnt";
	return NULL;
}

/* Semantic mode: same op, and SHUTDOWN with the same flags. */
static const char *
semantic_field(const struct vsock_hdr *a, const struct vsock_hdr *b)
{
	if (a->op != b->op)
		return "op";
	if (a->op == VIRTIO_VSOCK_OP_SHUTDOWN && a->flags != b->flags)
		return "flags";
	return NULL;
}

/* The packets of one side that the mode compares, as indexes into l. */
static bool
counts(const struct replay *rp, const struct rp_pkt *p)
{
	return rp_compared(rp, p->h.op);
}

/* Next index >= i in l that the mode compares, or l->n. */
static uint32_t
next_counted(const struct replay *rp, const struct rp_pktlist *l, uint32_t i)
{
	while (i < l->n && !counts(rp, &l->v[i]))
		i++;
	return i;
}

/*
 * Is l->v[i] a SHUTDOWN directly followed (among compared packets) by an
 * RST, while the other side is at an RST? Then the order of a clean close
 * differs in a way the protocol allows: the RST supersedes the SHUTDOWN.
 */
static bool
spare_shutdown(const struct replay *rp, const struct rp_pktlist *l,
    uint32_t i, const struct rp_pktlist *o, uint32_t j)
{
	uint32_t k;

	if (i >= l->n || j >= o->n || l->v[i].h.op != VIRTIO_VSOCK_OP_SHUTDOWN ||
	    o->v[j].h.op != VIRTIO_VSOCK_OP_RST)
		return false;
	k = next_counted(rp, l, i + 1);
	return k < l->n && l->v[k].h.op == VIRTIO_VSOCK_OP_RST;
}

/* Reports the first mismatch between trace packet i and device packet j. */
static void
mismatch(struct replay *rp, struct rp_conn *c, const struct rp_pktlist *tl,
    uint32_t i, const struct rp_pktlist *dl, uint32_t j, const char *field,
    uint64_t closing)
{
	char e[TRACE_FORMAT_HDR_LEN], a[TRACE_FORMAT_HDR_LEN];

	if (i < tl->n)
		trace_format_hdr(&tl->v[i].h, e, sizeof(e));
	else
		snprintf(e, sizeof(e), "nothing");
	if (j < dl->n)
		trace_format_hdr(&dl->v[j].h, a, sizeof(a));
	else
		snprintf(a, sizeof(a), "nothing");
	if (i < tl->n)
		rp_diverge(rp, tl->v[i].frame, c, field, e, a,
		    j < dl->n ? "the device sends another packet than the "
		    "trace shows" : "the device does not send what the trace "
		    "shows");
	else
		rp_diverge(rp, closing, c, field, e, a, "the device sends a "
		    "packet the trace does not show before frame %" PRIu64,
		    closing);
}

/*
 * Compares c's packets of this window in order: connection events
 * (semantic) or every header field (strict). Data and credit are checked
 * elsewhere, as they happen.
 */
void
rp_compare_window(struct replay *rp, struct rp_conn *c, uint64_t closing)
{
	const struct rp_pktlist *tl = &c->win[RP_TRACE], *dl = &c->win[RP_DEVICE];
	bool strict = rp->opt.mode == REPLAY_STRICT;
	const char *field;
	uint32_t i = 0, j = 0;

	for (;;) {
		i = next_counted(rp, tl, i);
		j = next_counted(rp, dl, j);
		if (i == tl->n && j == dl->n)
			return;
		if (i < tl->n && j < dl->n) {
			field = strict ? strict_field(&tl->v[i].h, &dl->v[j].h) :
			    semantic_field(&tl->v[i].h, &dl->v[j].h);
			if (field == NULL) {
				i++;
				j++;
				continue;
			}
		} else {
			field = "op";
		}
		if (spare_shutdown(rp, tl, i, dl, j)) {
			i++;
			continue;
		}
		if (spare_shutdown(rp, dl, j, tl, i)) {
			j++;
			continue;
		}
		mismatch(rp, c, tl, i, dl, j, field, closing);
		return;
	}
}

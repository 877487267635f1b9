/* replay-live-compare.c - what a live program did, through the device, against its side of the trace: bytes and lifecycle, timing and packets aside. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "live-trace-int.h"
#include "replay-divergence.h"
#include "trace-format.h"

/* Keeps the first divergence, naming frame index fi of the trace. */
static void
diverge(struct live_trace *lt, const struct live_conn *c, uint64_t fi,
    const char *field, const char *expected, const char *actual,
    const char *fmt, ...)
{
	struct replay_divergence *d = &lt->div;
	uint64_t k, from;
	va_list ap;

	if (lt->diverged)
		return;
	lt->diverged = true;
	va_start(ap, fmt);
	replay_div_set(d, lt->f[fi].number, field, expected, actual, fmt, ap);
	va_end(ap);
	if (c != NULL)
		snprintf(d->conn, sizeof(d->conn), "guest %" PRIu64 ":%" PRIu32
		    " <-> host %" PRIu64 ":%" PRIu32, c->guest_cid,
		    c->guest_port, c->host_cid, c->host_port);
	from = fi + 1 > REPLAY_CONTEXT ? fi + 1 - REPLAY_CONTEXT : 0;
	for (k = from; k <= fi; k++)
		d->context[d->ncontext++] = (struct replay_ctx_frame){
		    lt->f[k].number, lt->f[k].ts_ns, lt->f[k].host,
		    lt->f[k].hdr };
}

/* The program's side's packet h in the trace's terms (its CIDs and ports). */
static void
format_actual(const struct live_trace *lt, const struct live_conn *c,
    const struct vsock_hdr *h, char *buf, size_t len)
{
	struct vsock_hdr t = *h;
	bool host = lt->side == LIVE_PROG_HOST;

	if (c != NULL) {
		t.src_cid = host ? c->host_cid : c->guest_cid;
		t.dst_cid = host ? c->guest_cid : c->host_cid;
		t.src_port = host ? c->host_port : c->guest_port;
		t.dst_port = host ? c->guest_port : c->host_port;
	}
	trace_format_hdr(&t, buf, len);
}

/* The trace's RW frame of the program's side holding offset off of c's stream. */
static uint64_t
frame_at(const struct live_trace *lt, const struct live_conn *c, uint64_t off)
{
	uint64_t i;

	for (i = 0; i < lt->nf; i++)
		if (&lt->c[lt->f[i].conn] == c && !lt->f[i].fed &&
		    lt->f[i].hdr.op == VIRTIO_VSOCK_OP_RW &&
		    lt->f[i].off_end > off)
			return i;
	return c->last_frame;
}

/* One lifecycle packet as "SHUTDOWN flags RCV|SEND" or "RST". */
static void
format_event(uint16_t op, uint32_t flags, char *buf, size_t len)
{
	struct vsock_hdr h = { .op = op, .flags = flags,
	    .type = VIRTIO_VSOCK_TYPE_STREAM };
	char fl[40];

	if (op != VIRTIO_VSOCK_OP_SHUTDOWN) {
		snprintf(buf, len, "%s", vsock_op_name(op));
		return;
	}
	trace_format_flags(&h, fl, sizeof(fl));
	snprintf(buf, len, "SHUTDOWN flags %s", fl);
}

/* The trace's lifecycle frames of step si of c: "SHUTDOWN flags SEND, RST". */
static void
format_step(const struct live_trace *lt, const struct live_conn *c,
    uint32_t si, char *buf, size_t len)
{
	const struct live_step *s = &c->st[si];
	size_t used = 0;
	uint64_t i;
	char ev[64];

	buf[0] = '\0';
	for (i = s->frame; i <= s->last_frame && used < len; i++) {
		if (&lt->c[lt->f[i].conn] != c || lt->f[i].step != si + 1)
			continue;
		format_event(lt->f[i].hdr.op, lt->f[i].hdr.flags, ev,
		    sizeof(ev));
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    used ? ", " : "", ev);
	}
}

/*
 * The program's bytes in one RW: each must be the trace's at its offset of
 * the coalesced stream of its side, and none may come where the trace's
 * side took a lifecycle step first (its SHUTDOWN, its close).
 */
static void
compare_bytes(struct live_trace *lt, struct live_conn *c,
    const struct vsock_tap_record *rec)
{
	const struct live_step *s = c->matched < c->nst ?
	    &c->st[c->matched] : NULL;
	uint64_t off = c->got, k;
	const uint8_t *p = rec->payload;
	char ev[96], act[TRACE_FORMAT_HDR_LEN];

	for (k = 0; k < rec->payload_len; k++, off++) {
		/* Read once: p may be guest memory (tap-record.h). */
		uint8_t b = p[k];

		if (s != NULL && s->off <= off) {
			format_step(lt, c, c->matched, ev, sizeof(ev));
			format_actual(lt, c, &rec->hdr, act, sizeof(act));
			diverge(lt, c, s->frame, "op", ev, act, "the %s sent "
			    "data at offset %" PRIu64 " of the %s stream "
			    "where the trace's %s sent %s", lt->who, off,
			    lt->dir, lt->who, ev);
			return;
		}
		if (off >= c->stream_len) {
			diverge(lt, c, c->last_frame, "payload", "no more data",
			    "more data", "the %s sent byte 0x%02x at offset "
			    "%" PRIu64 " of the %s stream, which ends there "
			    "in the trace", lt->who, b, off, lt->dir);
			return;
		}
		if (b != c->stream[off]) {
			char x[8], a[8];

			snprintf(x, sizeof(x), "0x%02x", c->stream[off]);
			snprintf(a, sizeof(a), "0x%02x", b);
			diverge(lt, c, frame_at(lt, c, off), "payload", x, a,
			    "the %s sent byte %s at offset %" PRIu64 " of the "
			    "%s stream, the trace has %s", lt->who, a, off,
			    lt->dir, x);
			return;
		}
	}
	c->got = off;
}

/*
 * SEQPACKET: the program's messages must end where the trace's do (the
 * bytes are compared as one stream; a message's end is part of it).
 */
static void
compare_eom(struct live_trace *lt, struct live_conn *c,
    const struct vsock_tap_record *rec)
{
	uint64_t end = c->got;
	bool eom = rec->hdr.flags & VIRTIO_VSOCK_SEQ_EOM;
	uint64_t want = c->eom_matched < c->neom ? c->eom[c->eom_matched] :
	    UINT64_MAX;
	char x[32], a[32];

	if (rec->hdr.type != VIRTIO_VSOCK_TYPE_SEQPACKET)
		return;
	if (eom && end == want) {
		c->eom_matched++;
		return;
	}
	if (!eom && end <= want)
		return;	/* a fragment: the message goes on */
	snprintf(x, sizeof(x), "message end at %" PRIu64, want);
	snprintf(a, sizeof(a), "message end at %" PRIu64, end);
	if (want == UINT64_MAX)
		snprintf(x, sizeof(x), "no more messages");
	if (eom)
		diverge(lt, c, want == UINT64_MAX ? c->last_frame :
		    frame_at(lt, c, want - 1), "flags", x, a, "the "
		    "%s ended a message at offset %" PRIu64 " of the %s "
		    "stream, the trace's message ends at %" PRIu64, lt->who,
		    end, lt->dir, want == UINT64_MAX ? c->stream_len : want);
	else
		diverge(lt, c, frame_at(lt, c, want - 1), "flags", x, "no EOM",
		    "the %s's message runs on past offset %" PRIu64 " of the "
		    "%s stream, where the trace's message ends", lt->who, want,
		    lt->dir);
}

/*
 * A lifecycle packet must take the program's LIVE_* set towards the
 * trace's next step, never beyond what the step allows, after the same
 * number of stream bytes; the step is reached when the set has all it
 * needs. Within a step the device may split or merge packets, as it saw
 * the program act (struct live_step); an RST alone matches a SHUTDOWN and
 * RST, as replay accepts (doc/replay.md, "Closing order"), but not a
 * SHUTDOWN alone: that is a reset where the trace's host closed. A packet
 * that changes nothing (a repeated RST, an RST ending a connection closed
 * both ways) changes nothing here either.
 */
static void
compare_event(struct live_trace *lt, struct live_conn *c,
    const struct vsock_tap_record *rec)
{
	const struct vsock_hdr *h = &rec->hdr;
	const struct live_step *s = c->matched < c->nst ?
	    &c->st[c->matched] : NULL;
	unsigned now = c->state | live_bits(h);
	char ev[96], act[TRACE_FORMAT_HDR_LEN], got[64];

	/* A repeated packet, or the RST that ends a closed connection. */
	if (now == c->state || (h->op == VIRTIO_VSOCK_OP_RST &&
	    (c->state & LIVE_CLOSED) == LIVE_CLOSED))
		return;
	format_actual(lt, c, h, act, sizeof(act));
	format_event(h->op, h->flags, got, sizeof(got));
	if (s == NULL) {
		diverge(lt, c, c->last_frame, "op", "nothing", act, "the %s "
		    "sent %s where the trace's %s sent nothing more on this "
		    "connection", lt->who, got, lt->who);
		return;
	}
	format_step(lt, c, c->matched, ev, sizeof(ev));
	if (now & ~s->allow) {
		char x[TRACE_FORMAT_HDR_LEN];

		trace_format_hdr(&lt->f[s->frame].hdr, x, sizeof(x));
		diverge(lt, c, s->frame, h->op == lt->f[s->frame].hdr.op ?
		    "flags" : "op", x, act, "the %s sent %s where the "
		    "trace's %s sent %s", lt->who, got, lt->who, ev);
		return;
	}
	if (c->got < s->off) {
		diverge(lt, c, s->frame, "payload", ev, act, "the %s sent %s "
		    "after %" PRIu64 " bytes of the %s stream, the trace's %s "
		    "after %" PRIu64, lt->who, got, c->got, lt->dir, lt->who,
		    s->off);
		return;
	}
	c->state = now;
	while (c->matched < c->nst && (c->st[c->matched].need & ~now) == 0)
		c->matched++;
}

/*
 * A REQUEST of the program's side: the program connected; binds it to the
 * trace's first such connection not yet made to the same peer port, and
 * learns the port the program's side picked (--host: the device's local
 * port; --guest: the guest stack's ephemeral one).
 */
static struct live_conn *
map_request(struct live_trace *lt, const struct vsock_hdr *h)
{
	bool host = lt->side == LIVE_PROG_HOST;
	uint32_t i;

	for (i = 0; i < lt->nc; i++) {
		struct live_conn *c = &lt->c[i];

		if (c->prog_initiated && !c->started && h->dst_port ==
		    (host ? c->guest_port : c->host_port)) {
			if (host)
				c->dev_hport = h->src_port;
			else
				c->dev_gport = h->src_port;
			live_conn_start(lt, c);
			return c;
		}
	}
	return NULL;
}

void
live_on_tap(void *ctx, const struct vsock_tap_record *rec)
{
	struct live_trace *lt = ctx;
	const struct vsock_hdr *h = &rec->hdr;
	struct live_conn *c;
	char act[TRACE_FORMAT_HDR_LEN];

	bool host = lt->side == LIVE_PROG_HOST;

	if (lt->diverged || rec->dropped || rec->dir != (host ?
	    VSOCK_TAP_HOST_TO_GUEST : VSOCK_TAP_GUEST_TO_HOST) ||
	    h->op == VIRTIO_VSOCK_OP_CREDIT_UPDATE ||
	    h->op == VIRTIO_VSOCK_OP_CREDIT_REQUEST)
		return;
	c = h->op == VIRTIO_VSOCK_OP_REQUEST ? map_request(lt, h) : host ?
	    live_pairs_find(lt, &lt->dev_pairs, h->src_port, h->dst_port) :
	    live_pairs_find(lt, &lt->dev_pairs, h->dst_port, h->src_port);
	if (c == NULL) {
		trace_format_hdr(h, act, sizeof(act));
		/* Named at the frame fed before it: where the run was. */
		diverge(lt, NULL, lt->last_fed, "op", "nothing", act, "the %s "
		    "sent %s to %s port %" PRIu32 " on no connection of "
		    "the trace", lt->who, vsock_op_name(h->op), lt->peer,
		    h->dst_port);
		return;
	}
	if (h->op == VIRTIO_VSOCK_OP_RW) {
		compare_bytes(lt, c, rec);
		if (!lt->diverged)
			compare_eom(lt, c, rec);
	} else
		compare_event(lt, c, rec);
}

bool
live_frame_done(const struct live_trace *lt, uint64_t i)
{
	const struct live_frame *lf = &lt->f[i];
	const struct live_conn *c = &lt->c[lf->conn];

	if (lf->hdr.op == VIRTIO_VSOCK_OP_RW)
		return c->got >= lf->off_end;
	return lf->step == 0 || c->matched >= lf->step;
}

/* A wait as "5 s" or "1500 ms". */
static void
format_wait(unsigned timeout_ms, char *buf, size_t len)
{
	if (timeout_ms % 1000 == 0)
		snprintf(buf, len, "%u s", timeout_ms / 1000);
	else
		snprintf(buf, len, "%u ms", timeout_ms);
}

void
live_timed_out(struct live_trace *lt, uint64_t i, unsigned timeout_ms)
{
	const struct live_frame *lf = &lt->f[i];
	const struct live_conn *c = &lt->c[lf->conn];
	char x[TRACE_FORMAT_HDR_LEN], wait[32], ev[64], what[128];

	format_wait(timeout_ms, wait, sizeof(wait));
	if (lf->hdr.op == VIRTIO_VSOCK_OP_RW)
		snprintf(what, sizeof(what), "RW %" PRIu32 " bytes at frame %"
		    PRIu64 " (stream bytes %" PRIu64 " to %" PRIu64 ", %" PRIu64
		    " came)", lf->len, lf->number, lf->off_end - lf->len,
		    lf->off_end, c->got);
	else {
		format_event(lf->hdr.op, lf->hdr.flags, ev, sizeof(ev));
		snprintf(what, sizeof(what), "%s at frame %" PRIu64, ev,
		    lf->number);
	}
	trace_format_hdr(&lf->hdr, x, sizeof(x));
	diverge(lt, c, i, "timeout", x, "nothing", "the program sent nothing "
	    "for %s, the trace expects %s", wait, what);
}

void
live_listen_timed_out(struct live_trace *lt, uint64_t i, uint32_t port,
    unsigned timeout_ms)
{
	const struct live_frame *lf = &lt->f[i];
	char x[TRACE_FORMAT_HDR_LEN], wait[32];

	format_wait(timeout_ms, wait, sizeof(wait));
	trace_format_hdr(&lf->hdr, x, sizeof(x));
	diverge(lt, &lt->c[lf->conn], i, "timeout", x, "nothing", "the "
	    "program did not listen on guest port %" PRIu32 " for %s, the "
	    "trace's host connects to it at frame %" PRIu64, port, wait,
	    lf->number);
}

bool
live_diverged(const struct live_trace *lt)
{
	return lt->diverged;
}

void
live_finish(struct live_trace *lt, uint64_t frames_done,
    enum vsock_profile profile, uint32_t buf_alloc, uint32_t guest_rx_buf,
    struct replay_result *res)
{
	uint64_t i;

	memset(res, 0, sizeof(*res));
	res->mode = REPLAY_SEMANTIC;
	for (i = 0; i < frames_done && i < lt->nf; i++)
		if (!lt->f[i].host)
			res->guest_frames++;
		else
			res->host_frames++;
	res->frames = res->guest_frames + res->host_frames;
	res->conns = lt->nc;
	res->bytes_g2h = lt->bytes_g2h;
	res->bytes_h2g = lt->bytes_h2g;
	res->profile = profile;
	res->buf_alloc = buf_alloc;
	res->guest_rx_buf = guest_rx_buf;
	res->verdict = lt->diverged ? REPLAY_DIVERGED : REPLAY_PASS;
	if (lt->diverged)
		res->div = lt->div;
}

/* replay.c - the replay engine: frames in capture order, windows between guest frames, the verdict. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "replay-divergence.h"
#include "replay-int.h"

void
replay_options_defaults(struct replay_options *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = REPLAY_SEMANTIC;
	o->profile = REPLAY_PROFILE_INFER;
}

enum vsock_profile
replay_profile_for(uint32_t buf_alloc)
{
	return buf_alloc == vsock_profile_buf_alloc(VSOCK_PROFILE_FIRECRACKER) ?
	    VSOCK_PROFILE_FIRECRACKER : VSOCK_PROFILE_LINUX;
}

int
replay_new(const struct replay_options *o, enum vsock_profile profile,
    uint32_t buf_alloc, const struct replay_guest_ops *guest, void *guest_ctx,
    struct replay **out)
{
	struct replay *rp;

	*out = NULL;
	if (guest == NULL || guest->attach == NULL || guest->send == NULL ||
	    guest->kick == NULL ||
	    guest->drain == NULL || guest->detach == NULL ||
	    o->guest_rx_buf > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE)
		return -VSE_ERR_INVAL;
	if ((rp = calloc(1, sizeof(*rp))) == NULL)
		return -VSE_ERR_NOMEM;
	rp->opt = *o;
	rp->profile = profile;
	rp->buf_alloc = buf_alloc ? buf_alloc : vsock_profile_buf_alloc(profile);
	rp->guest = guest;
	rp->guest_ctx = guest_ctx;
	rp->res.mode = o->mode;
	rp->res.profile = profile;
	rp->res.buf_alloc = rp->buf_alloc;
	rp->res.guest_rx_buf = o->guest_rx_buf ? o->guest_rx_buf :
	    VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE;
	if (rp_table_init(&rp->tkeys, false) < 0 ||
	    rp_table_init(&rp->dkeys, true) < 0) {
		replay_free(rp);
		return -VSE_ERR_NOMEM;
	}
	*out = rp;
	return 0;
}

void
replay_free(struct replay *rp)
{
	if (rp == NULL)
		return;
	if (rp->dev != NULL)
		rp_device_stop(rp);
	rp_conn_free_all(rp);
	rp_eom_free(rp);
	rp_table_free(&rp->tkeys);
	rp_table_free(&rp->dkeys);
	rp_cut_free(rp);
	free(rp);
}

/*
 * Records a divergence at frame. The earliest frame wins: several found
 * while one window is compared are reported by the first frame involved.
 */
void
rp_diverge(struct replay *rp, uint64_t frame, const struct rp_conn *c,
    const char *field, const char *expected, const char *actual,
    const char *fmt, ...)
{
	struct replay_divergence *d = &rp->res.div;
	uint64_t i, first;
	va_list ap;

	if ((rp->diverged && !d->at_end && frame >= d->frame) || rp->limited)
		return;	/* past a limit, windows are incomplete: no verdict */
	rp->diverged = true;
	va_start(ap, fmt);
	replay_div_set(d, frame, field, expected, actual, fmt, ap);
	va_end(ap);
	d->at_end = rp->finishing;
	if (c != NULL)
		rp_conn_name(rp, c, d->conn, sizeof(d->conn));
	/* The context: the frames seen up to the divergent one. */
	first = rp->nring > REPLAY_CONTEXT ? rp->nring - REPLAY_CONTEXT : 0;
	for (i = first; i < rp->nring; i++) {
		const struct replay_ctx_frame *cf = &rp->ring[i % REPLAY_CONTEXT];

		if (cf->number <= frame || frame == 0)
			d->context[d->ncontext++] = *cf;
	}
}

/*
 * The trace is beyond what replay holds in memory (RP_* limits): it is
 * unusable, the reason naming the frame. The first limit hit is reported.
 */
void
rp_limit(struct replay *rp, uint64_t frame, const char *fmt, ...)
{
	size_t off;
	va_list ap;

	if (rp->limited || rp->diverged)
		return;
	rp->limited = true;
	off = (size_t)snprintf(rp->res.error, sizeof(rp->res.error),
	    "frame %" PRIu64 ": ", frame);
	va_start(ap, fmt);
	if (off < sizeof(rp->res.error))
		vsnprintf(rp->res.error + off, sizeof(rp->res.error) - off,
		    fmt, ap);
	va_end(ap);
}

/*
 * Lets the inferred applications act (reads, echoes) until nothing moves.
 * settled: rp_settle just returned true and nothing touched the device
 * since, so the first settle would do nothing. Returns true when it ends
 * so again (an application that did not act touched nothing: only
 * script_send and script_close do, rp_app_service), when calling it once
 * more would do nothing either.
 */
static bool
serve_apps(struct replay *rp, bool settled)
{
	struct rp_conn *c;
	bool again;

	do {
		if (!settled)
			settled = rp_settle(rp);
		again = false;
		for (c = rp->window; c != NULL; c = c->win_next)
			again |= rp_app_service(rp, c);
		if (again)
			settled = false;
	} while (again && !rp->diverged);
	return settled;
}

/* Closes a window: settle, infer aborts and echoes, check, compare. */
static void
close_window(struct replay *rp, vsock_time_t t, uint64_t closing)
{
	struct rp_conn *c, *next;
	bool still;

	rp_run_until(rp, t);
	if (t > rp->now)
		rp->now = t;
	/*
	 * Reads first: a host frame's fwd_cnt says the application had read
	 * by then, and the device may only finish (say, a clean close whose
	 * RST carries that fwd_cnt) once it has.
	 */
	still = serve_apps(rp, rp_settle(rp));
	/* An RST the device did not send itself: the application aborted. */
	for (c = rp->window; c != NULL; c = c->win_next) {
		uint32_t i;
		bool rst = false;

		if (!c->t_abort)
			continue;
		c->t_abort = false;
		for (i = 0; i < c->win[RP_DEVICE].n; i++)
			rst |= c->win[RP_DEVICE].v[i].h.op ==
			    VIRTIO_VSOCK_OP_RST;
		if (!rst && c->sc != NULL && c->sc->conn != NULL) {
			script_close(&rp->sb, c->sc, true, rp->now);
			still = false;
		}
	}
	/* Most windows: nothing was aborted, all is as it was. */
	if (!still)
		serve_apps(rp, false);
	for (c = rp->window; c != NULL; c = c->win_next) {
		rp_device_quiescent(rp, c);
		rp_compare_window(rp, c, closing);
	}
	for (c = rp->window; c != NULL; c = next) {
		next = c->win_next;
		c->win[RP_TRACE].n = c->win[RP_DEVICE].n = 0;
		c->in_window = false;
		c->win_next = NULL;
		rp_conn_finish_window(rp, c);
	}
	rp->window = NULL;
	rp->window_pkts = 0;
	rp_conn_reap(rp);
}

/* Remembers a frame for the context of a later report. */
static void
remember(struct replay *rp, const struct vsock_pcap_frame *f, bool to_guest)
{
	struct replay_ctx_frame *cf = &rp->ring[rp->ring_at];

	cf->number = f->number;
	cf->ts_ns = rp->now;
	cf->to_guest = to_guest;
	cf->hdr = f->hdr;
	rp->nring++;
	if (++rp->ring_at == REPLAY_CONTEXT)
		rp->ring_at = 0;
}

/* The first frame fixes the trace's CIDs and creates the device. */
static int
start(struct replay *rp, const struct vsock_pcap_frame *f, bool to_guest)
{
	rp->started = true;
	rp->t0 = f->ts_ns;
	rp->guest_cid = to_guest ? f->hdr.dst_cid : f->hdr.src_cid;
	rp->host_cid = to_guest ? f->hdr.src_cid : f->hdr.dst_cid;
	rp->dev_guest_cid = vsock_cid_valid(rp->guest_cid) &&
	    rp->guest_cid <= UINT32_MAX ? rp->guest_cid : 3;
	return rp_device_start(rp);
}

/*
 * A cut record's missing bytes that entered the comparison: those of an RW
 * the trace's side took into its byte count (before: that count first).
 */
static void
count_cut(struct replay *rp, const struct vsock_pcap_frame *f,
    uint64_t before, uint64_t after)
{
	uint64_t missing = f->hdr.len - f->payload_len;

	rp->res.cut_bytes += after - before < missing ? after - before :
	    missing;
}

int
replay_feed(struct replay *rp, const struct vsock_pcap_frame *f)
{
	if (rp->diverged || rp->nomem || rp->limited)
		return rp->nomem ? -VSE_ERR_NOMEM : 1;
	/* Through the look-ahead to a SEQPACKET message's end (replay-eom.c). */
	return rp_eom_feed(rp, f);
}

/* One frame into the engine, in capture order (replay_feed's contract). */
int
rp_feed_frame(struct replay *rp, const struct vsock_pcap_frame *f)
{
	struct vsock_pcap_frame whole;
	const struct vsock_pcap_frame *cut = NULL;
	struct rp_conn *c;
	vsock_time_t t;
	uint64_t before;
	bool to_guest;
	int e;

	if (rp->diverged || rp->nomem || rp->limited)
		return rp->nomem ? -VSE_ERR_NOMEM : 1;
	if (rp->opt.guest_cid != 0 && rp->opt.guest_cid !=
	    (f->to_guest ? f->hdr.dst_cid : f->hdr.src_cid)) {
		/* Another VM's traffic: not this replay's guest. */
		rp->res.other_guest_frames++;
		return 0;
	}
	if ((c = rp_trace_conn(rp, f, &to_guest)) == NULL)
		return -VSE_ERR_NOMEM;
	if (!f->dropped && f->payload_len < f->hdr.len) {
		/* Cut by the snapshot length: filler completes it. */
		if ((e = rp_cut_complete(rp, f, to_guest ? c->t_tx : c->g_tx,
		    &whole)) < 0)
			return e;
		cut = f;
		f = &whole;
	}
	if (!rp->started && (e = start(rp, f, to_guest)) < 0)
		return e;
	t = f->ts_ns > rp->t0 ? f->ts_ns - rp->t0 : 0;
	rp->res.frames++;
	rp->res.split_taps += f->split_tap;
	rp->cur_frame = f->number;
	if (to_guest) {
		rp->res.host_frames++;
		rp_flush_guest(rp);
		rp_run_until(rp, t);
		if (t > rp->now)
			rp->now = t;
		remember(rp, f, to_guest);
		rp_rx_learn(rp, f);
		before = rp->res.bytes_h2g;
		if (!rp->diverged)
			rp_trace_host(rp, c, f);
		if (cut != NULL)
			count_cut(rp, cut, before, rp->res.bytes_h2g);
		rp_settle(rp);
	} else {
		rp->res.guest_frames++;
		/*
		 * A guest frame of the same instant as the batch being queued,
		 * with no host frame between: the same kick, the same window.
		 */
		if (rp->nbatch == 0 || t != rp->batch_t) {
			rp_flush_guest(rp);
			close_window(rp, t, f->number);
		}
		remember(rp, f, to_guest);
		rp->cur_frame = f->number;
		if (rp->diverged)
			return 1;
		before = rp->res.bytes_g2h;
		if (!f->dropped)
			rp_trace_guest(rp, c, &f->hdr, f->payload);
		if (cut != NULL)
			count_cut(rp, cut, before, rp->res.bytes_g2h);
		rp_touch(rp, c);
		if ((e = rp_feed_guest(rp, c, f)) < 0)
			return e;
	}
	if (rp->nomem)
		return -VSE_ERR_NOMEM;
	return rp->diverged || rp->limited ? 1 : 0;
}

/* At the end every byte either side sent must have been matched. */
static void
check_streams(struct replay *rp)
{
	struct rp_conn *c;
	enum rp_side lead;
	size_t n;
	char e[64], a[64];

	for (c = rp->all; c != NULL && !rp->diverged; c = c->all_next) {
		if ((n = rp_stream_pending(&c->h2g, &lead)) == 0)
			continue;
		snprintf(e, sizeof(e), "%" PRIu64 " bytes",
		    c->h2g.total[RP_TRACE]);
		snprintf(a, sizeof(a), "%" PRIu64 " bytes",
		    c->h2g.total[RP_DEVICE]);
		rp_diverge(rp, rp->cur_frame, c, "bytes", e, a,
		    lead == RP_TRACE ? "the device never sent %zu bytes the "
		    "trace shows host->guest" : "the device sent %zu bytes "
		    "host->guest the trace never shows", n);
	}
}

void
replay_finish(struct replay *rp, struct replay_result *res)
{
	if (!rp->diverged && !rp->nomem && !rp->limited)
		(void)rp_eom_flush(rp);
	if (rp->started && !rp->diverged && !rp->nomem && !rp->limited) {
		rp->cur_frame = rp->nring > 0 ?
		    rp->ring[(rp->nring - 1) % REPLAY_CONTEXT].number : 0;
		rp->finishing = true;
		rp_flush_guest(rp);
		close_window(rp, rp->now, rp->cur_frame);
		check_streams(rp);
	}
	rp->res.verdict = rp->limited ? REPLAY_UNUSABLE : rp->diverged ?
	    REPLAY_DIVERGED : REPLAY_PASS;
	if (rp->nomem) {
		rp->res.verdict = REPLAY_UNUSABLE;
		snprintf(rp->res.error, sizeof(rp->res.error),
		    "out of memory at frame %" PRIu64, rp->cur_frame);
	}
	*res = rp->res;
}

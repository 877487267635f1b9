/* replay-device.c - the device's side of a replay: its setup, its output through the tap, its duties. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "replay-int.h"

/* Settling stops after this many rounds; a device that never quiesces diverges. */
#define RP_SETTLE_MAX	100000

static void rp_tap(void *ctx, const struct vsock_tap_record *rec);

/* The scripted application: listeners per the script, PENDING elsewhere. */
static int
setup_script(struct replay *rp)
{
	const struct replay_script *s = rp->opt.script;
	unsigned i;
	int e;

	script_init(&rp->sb);
	script_attach(&rp->sb, rp->dev);
	rp->sb.default_in_gated = true;
	/* A host frame's bytes are read in one go, not then a read of none. */
	rp->sb.report_drained = true;
	/* Answers wait for the trace to show them (RESPONSE or RST). */
	script_listen_all(&rp->sb, SCRIPT_PENDING);
	for (i = 0; s != NULL && i < s->n; i++) {
		e = script_listen(&rp->sb, s->port[i].port,
		    s->port[i].mode == REPLAY_PORT_REFUSE ? SCRIPT_REFUSE :
		    s->port[i].mode == REPLAY_PORT_INFER ? SCRIPT_PENDING :
		    SCRIPT_ACCEPT);
		if (e < 0)
			return e;
	}
	return 0;
}

/* Creates the device for the trace's guest and attaches the guest driver. */
int
rp_device_start(struct replay *rp)
{
	struct vsock_device_config cfg;
	int e;

	vsock_device_config_defaults(&cfg);
	cfg.guest_cid = rp->dev_guest_cid;
	cfg.profile = rp->profile;
	cfg.buf_alloc = rp->buf_alloc;
	cfg.seqpacket = true;
	if ((e = vsock_device_new(&cfg, &script_backend_ops, &rp->sb, &rp->dev,
	    NULL)) < 0)
		return e;
	if ((e = setup_script(rp)) < 0)
		return e;
	vsock_device_set_tap(rp->dev, rp_tap, rp);
	if ((e = rp->guest->attach(rp->guest_ctx, rp->dev, rp->opt.guest_rx_buf,
	    rp->now)) < 0)
		return e;
	rp->attached = true;
	return 0;
}

void
rp_device_stop(struct replay *rp)
{
	if (rp->attached)
		rp->guest->detach(rp->guest_ctx);
	rp->attached = false;
	vsock_device_free(rp->dev);
	rp->dev = NULL;
	script_free(&rp->sb);
}

/*
 * Lets the device send all it has: RX buffers back until none is used.
 * True when it got there; then a second settle before anything touches
 * the device or the guest's rings would find the same and do nothing.
 */
bool
rp_settle(struct replay *rp)
{
	vsock_time_t d;
	unsigned i;

	for (i = 0; i < RP_SETTLE_MAX; i++) {
		bool ran = (d = vsock_device_next_deadline(rp->dev)) <= rp->now;

		if (ran)
			vsock_device_run(rp->dev, rp->now);
		if (rp->guest->drain(rp->guest_ctx, rp->now) != 0)
			continue;
		/*
		 * A drain that gave nothing back did not touch the device
		 * (replay_guest_ops), so when it did not run either, the
		 * deadline just read still holds: most settles end here.
		 */
		if ((ran ? vsock_device_next_deadline(rp->dev) : d) > rp->now)
			return true;
	}
	rp_diverge(rp, rp->cur_frame, NULL, "quiescence", "the device settles",
	    "it keeps sending", "the device did not become quiescent");
	return false;
}

/* Fires every timer due by t (one is: rp_run_until) at its own virtual moment. */
void
rp_run_timers(struct replay *rp, vsock_time_t t)
{
	vsock_time_t d;

	while ((d = vsock_device_next_deadline(rp->dev)) <= t) {
		if (d > rp->now)
			rp->now = d;
		vsock_device_run(rp->dev, rp->now);
		rp_settle(rp);
		if (rp->diverged)
			return;
	}
}

/* Maps a guest frame's addresses onto the device and queues it on TX. */
int
rp_feed_guest(struct replay *rp, struct rp_conn *c,
    const struct vsock_pcap_frame *f)
{
	struct vsock_hdr h = f->hdr;
	uint8_t raw[VSOCK_HDR_SIZE];
	struct rp_pending *p;
	int e;

	if (rp->nbatch == REPLAY_BATCH_MAX)
		rp_flush_guest(rp);
	if (h.src_cid == rp->guest_cid)
		h.src_cid = rp->dev_guest_cid;
	if (h.dst_cid == rp->host_cid)
		h.dst_cid = VMADDR_CID_HOST;
	if (h.dst_port == c->host_port)
		h.dst_port = c->dev_port;
	vsock_hdr_encode(&h, raw);
	e = rp->guest->send(rp->guest_ctx, raw, f->payload, f->payload_len,
	    rp->now);
	if (e < 0)
		return e;
	p = &rp->batch[rp->nbatch++];
	*p = (struct rp_pending){ .c = c, .number = f->number, .op = h.op,
	    .dir_marked = f->dir_marked, .dropped = f->dropped };
	rp->batch_t = rp->now;
	return 0;
}

/*
 * Kicks the queued guest frames (at least one: rp_flush_guest asked) as
 * one batch, lets the device answer, then checks each frame as processed:
 * the device's verdict on malformed packets against the recording's, and
 * the application end of a REQUEST.
 */
void
rp_flush_batch(struct replay *rp)
{
	unsigned i, n = rp->nbatch;

	rp->ntapped = 0;
	rp->guest->kick(rp->guest_ctx, rp->now);
	rp_settle(rp);
	rp->nbatch = 0;
	for (i = 0; i < n && !rp->diverged; i++) {
		struct rp_pending *p = &rp->batch[i];
		struct rp_conn *c = p->c;

		if (p->dir_marked && p->dropped != p->tapped_dropped)
			rp_diverge(rp, p->number, c, "dropped",
			    p->dropped ? "dropped" : "processed",
			    p->tapped_dropped ? "dropped" : "processed",
			    "the device and the recording disagree on whether "
			    "this guest packet is malformed");
		if (p->op == VIRTIO_VSOCK_OP_REQUEST &&
		    c->state == RPC_GUEST_REQ && c->sc == NULL) {
			rp_conn_set_app(c, script_find(&rp->sb, c->dev_port,
			    c->guest_port));
			/* An old one: this REQUEST was refused. */
			if (c->sc != NULL && c->sc->conn == NULL)
				rp_conn_set_app(c, NULL);
			if (c->sc != NULL && c->mode == REPLAY_PORT_ECHO)
				c->sc->in_gated = false;
		}
	}
}

/* --- the device's output --- */

/* An RW from the device: credit, shutdown, bytes. */
static void
device_rw(struct replay *rp, struct rp_conn *c, const struct vsock_hdr *h,
    const uint8_t *payload)
{
	int64_t in_flight = (int64_t)(uint32_t)((uint32_t)c->d_tx - c->g_fwd) +
	    h->len;
	char e[64], a[64];
	uint64_t at;

	if (c->g_shut & VIRTIO_VSOCK_SHUTDOWN_RCV)
		rp_diverge(rp, rp->cur_frame, c, "op", "no data", "RW",
		    "the device sends data after the guest's SHUTDOWN(RCV)");
	if (in_flight > c->g_buf) {
		snprintf(e, sizeof(e), "at most %" PRId64 " bytes",
		    (int64_t)c->g_buf - (in_flight - h->len));
		snprintf(a, sizeof(a), "%" PRIu32 " bytes", h->len);
		rp_diverge(rp, rp->cur_frame, c, "credit", e, a,
		    "the device's RW overruns the guest's credit");
	}
	c->d_tx += h->len;
	if (rp_stream_push(rp, &c->h2g, RP_DEVICE, payload, h->len,
	    &at) == 1) {
		snprintf(a, sizeof(a), "differs at byte %" PRIu64, at);
		rp_diverge(rp, rp->cur_frame, c, "payload", "the trace's bytes",
		    a, "the device's host->guest byte stream differs from "
		    "the trace's");
	}
}

/* fwd_cnt: what the application read, never more than the guest sent. */
static void
device_fwd(struct replay *rp, struct rp_conn *c, const struct vsock_hdr *h)
{
	const struct script_conn *sc = c->sc;
	char e[64], a[32];

	if (sc == NULL || (h->op == VIRTIO_VSOCK_OP_RST && h->fwd_cnt == 0))
		return;
	if ((uint32_t)(h->fwd_cnt - (uint32_t)sc->in_total) <=
	    (uint32_t)(c->g_tx - sc->in_total))
		return;
	snprintf(e, sizeof(e), "%" PRIu32 " (read by the host)",
	    (uint32_t)sc->in_total);
	snprintf(a, sizeof(a), "%" PRIu32, h->fwd_cnt);
	rp_diverge(rp, rp->cur_frame, c, "fwd_cnt", e, a,
	    "the device reports a fwd_cnt the host application has not "
	    "read (the guest sent %" PRIu64 ")", c->g_tx);
}

/* The pair a device packet belongs to; a host connect binds its port. */
static struct rp_conn *
device_conn(struct replay *rp, const struct vsock_hdr *h)
{
	struct rp_conn *c = rp_table_find(&rp->dkeys, h->dst_port, h->src_port);

	if (c != NULL)
		rp_conn_use(rp, c);
	if (c == NULL && rp->connecting != NULL &&
	    h->op == VIRTIO_VSOCK_OP_REQUEST &&
	    h->dst_port == rp->connecting->guest_port) {
		c = rp->connecting;
		if (rp_conn_rekey(rp, c, h->src_port) < 0)
			rp->nomem = true;
	}
	return c;
}

/* Every packet the device sends to the guest, checked as it leaves. */
static void
device_packet(struct replay *rp, const struct vsock_tap_record *rec)
{
	const struct vsock_hdr *h = &rec->hdr;
	struct vsock_hdr t;
	struct rp_conn *c;

	rp->res.device_packets++;
	if ((c = device_conn(rp, h)) == NULL) {
		rp_diverge(rp, rp->cur_frame, NULL, "pair", "nothing",
		    vsock_op_name(h->op), "the device sends %s to port %"
		    PRIu32 " from port %" PRIu32 ", a pair the trace never "
		    "used", vsock_op_name(h->op), h->dst_port, h->src_port);
		return;
	}
	if (h->op == VIRTIO_VSOCK_OP_RW)
		device_rw(rp, c, h, rec->payload);
	/*
	 * An RST after the guest's RST is a reply to it unless the device
	 * owed one for a packet the guest sent to the dead pair in the same
	 * kick (Linux sends RST, SHUTDOWN(3), RST when it closes).
	 */
	if (h->op == VIRTIO_VSOCK_OP_RST && c->d_owed_rst > 0)
		c->d_owed_rst--;
	else if (h->op == VIRTIO_VSOCK_OP_RST && c->g_rst)
		rp_diverge(rp, rp->cur_frame, c, "op", "nothing", "RST",
		    "the device answers the guest's RST with an RST");
	device_fwd(rp, c, h);
	c->d_buf = h->buf_alloc;
	c->d_fwd = h->fwd_cnt;
	c->d_reported = true;
	if (h->op != VIRTIO_VSOCK_OP_RST)
		c->g_creq_frame = 0;
	if (h->op == VIRTIO_VSOCK_OP_CREDIT_REQUEST)
		c->d_creq = true;
	rp_touch(rp, c);
	/* Most packets (data, credit) are not held: no trace-terms copy. */
	if (!rp_compared(rp, h->op))
		return;
	t = *h;
	t.src_cid = rp->host_cid;
	t.dst_cid = rp->guest_cid;
	t.src_port = c->host_port;
	rp_window_hold(rp, c, RP_DEVICE, &t, rp->cur_frame);
}

/* The device's tap: passes every record on, checks what it sends. */
static void
rp_tap(void *ctx, const struct vsock_tap_record *rec)
{
	struct replay *rp = ctx;

	if (rp->opt.tap != NULL)
		rp->opt.tap(rp->opt.tap_ctx, rec);
	if (rec->dir == VSOCK_TAP_GUEST_TO_HOST) {
		/* Guest packets are tapped in the order they were queued. */
		if (rp->ntapped < rp->nbatch) {
			rp->batch[rp->ntapped].tapped = true;
			rp->batch[rp->ntapped++].tapped_dropped = rec->dropped;
		}
		return;
	}
	if (!rp->diverged)
		device_packet(rp, rec);
}

/* --- duties checked once the device is quiescent --- */

/* Is the application's end of c connected and not gone? */
static bool
app_alive(const struct rp_conn *c)
{
	return c->sc != NULL && c->sc->conn != NULL && c->sc->established;
}

/* Bytes the guest may still receive by what it last told the device. */
static int64_t
guest_credit(const struct rp_conn *c)
{
	return (int64_t)c->g_buf - (uint32_t)((uint32_t)c->d_tx - c->g_fwd);
}

/*
 * Must the device tell a blocked guest about the room its application
 * made? Linux does only once that room is most of its buffer: 6.1's
 * virtio_transport_stream_do_dequeue() sends CREDIT_UPDATE when free space
 * (buf_alloc less what was read since the last report) drops below one
 * packet, or its queue runs dry; with bytes still queued it leaves the
 * guest to wait for the reads to come (a capture taken while its queue was
 * momentarily empty shows an update a replay of the same reads need not
 * make). Other profiles announce any room (credit_update_due()).
 */
static bool
room_owed(const struct replay *rp, const struct rp_conn *c, int64_t actual)
{
	uint32_t read = (uint32_t)c->sc->in_total - c->d_fwd;

	if (actual <= 0)
		return false;
	if (vsock_profile_rules(rp->profile)->update_policy !=
	    VSOCK_CREDIT_LINUX)
		return true;
	return (int64_t)c->d_buf - read < VIRTIO_VSOCK_MAX_PKT_BUF_SIZE ||
	    (uint32_t)c->g_tx == (uint32_t)c->sc->in_total;
}

/* The device's duties on c once it has nothing more to send. */
void
rp_device_quiescent(struct replay *rp, struct rp_conn *c)
{
	const struct script_conn *sc = c->sc;
	int64_t view, actual;

	/* The window closes: no RST followed the host's late RWs. */
	rp_queued_rws_settle(rp, c, false);
	if (c->g_creq_frame != 0 && app_alive(c))
		rp_diverge(rp, c->g_creq_frame, c, "credit", "CREDIT_UPDATE",
		    "nothing", "the device never answers the guest's "
		    "CREDIT_REQUEST");
	c->g_creq_frame = 0;
	if (!app_alive(c))
		return;
	/* Only a profile that asks for credit owes the request (Linux never). */
	if (vsock_profile_rules(rp->profile)->credit_request &&
	    sc->out_off < sc->out_len &&
	    !(c->g_shut & VIRTIO_VSOCK_SHUTDOWN_RCV) && guest_credit(c) <= 0 &&
	    !c->d_creq)
		rp_diverge(rp, rp->cur_frame, c, "credit", "CREDIT_REQUEST",
		    "nothing", "the device is out of the guest's credit with "
		    "data to send and does not ask for credit");
	if (!c->d_reported || (c->g_shut & VIRTIO_VSOCK_SHUTDOWN_SEND))
		return;
	view = (int64_t)c->d_buf - (uint32_t)((uint32_t)c->g_tx - c->d_fwd);
	actual = (int64_t)c->d_buf -
	    (uint32_t)((uint32_t)c->g_tx - (uint32_t)sc->in_total);
	if (view <= 0 && room_owed(rp, c, actual))
		rp_diverge(rp, rp->cur_frame, c, "credit", "CREDIT_UPDATE",
		    "nothing", "the device leaves the guest blocked although "
		    "it has %" PRId64 " bytes of room to announce", actual);
}

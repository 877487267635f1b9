/* device.c - the vsock device: lifecycle, features, queues, timers and scheduling. */
#include "config.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "device-int.h"
#include "error.h"

void
vsock_device_config_defaults(struct vsock_device_config *c)
{
	memset(c, 0, sizeof(*c));
	c->guest_cid = 3;
	c->max_conns = VSOCK_DEFAULT_MAX_CONNS;
	c->profile = VSOCK_PROFILE_FIRECRACKER;
	c->request_timeout = VSOCK_DEFAULT_REQUEST_TIMEOUT;
	c->tx_budget = 256;
	c->orphan_max = 256;
}

/*
 * Whether cid can be a guest's: 0 (hypervisor), 1 (local), 2 (host) and
 * VMADDR_CID_ANY are reserved, and CIDs above 32 bits unsupported (the
 * virtio spec keeps guest_cid's upper half zero). The one rule, shared by
 * the device and the simulated guest.
 * Linux: vhost_vsock_set_cid(), "Refuse reserved CIDs" and "64-bit CIDs".
 */
bool
vsock_cid_valid(uint64_t cid)
{
	return cid > VMADDR_CID_HOST && cid < VMADDR_CID_ANY;
}

/* Checks cfg; returns a sentence saying what is wrong, or NULL. */
static const char *
config_problem(const struct vsock_device_config *cfg,
    const struct vsock_backend_ops *be)
{
	if (!vsock_cid_valid(cfg->guest_cid))
		return "guest CID is reserved: 0 (hypervisor), 1 (local), "
		    "2 (host), 0xffffffff (any) and CIDs above 32 bits "
		    "cannot be used";
	if (cfg->max_conns == 0 ||
	    cfg->max_conns > VSOCK_LOCAL_PORT_END - VSOCK_LOCAL_PORT_FIRST)
		return "connection limit must be between 1 and 2^30";
	if (vsock_profile_rules(cfg->profile) == NULL)
		return "unknown profile";
	if (cfg->tx_budget == 0 || cfg->orphan_max == 0)
		return "TX budget and orphan queue must be at least 1";
	if (be == NULL || be->connect == NULL || be->established == NULL ||
	    be->write == NULL || be->read == NULL || be->shutdown == NULL ||
	    be->want == NULL || be->release == NULL)
		return "backend ops table is incomplete";
	return NULL;
}

int
vsock_device_new(const struct vsock_device_config *cfg,
    const struct vsock_backend_ops *be, void *be_ctx,
    struct vsock_device **out, const char **why)
{
	struct vsock_device *dev;
	const char *problem = config_problem(cfg, be);

	*out = NULL;
	if (problem != NULL) {
		if (why != NULL)
			*why = problem;
		return vsock_cid_valid(cfg->guest_cid) ? -VSE_ERR_INVAL :
		    -VSE_ERR_BAD_CID;
	}
	if ((dev = calloc(1, sizeof(*dev))) == NULL)
		return -VSE_ERR_NOMEM;
	dev->cfg = *cfg;
	dev->rules = *vsock_profile_rules(cfg->profile);
	if (dev->cfg.buf_alloc == 0)
		dev->cfg.buf_alloc = dev->rules.buf_alloc;
	if (dev->cfg.close_timeout == 0)
		dev->cfg.close_timeout = dev->rules.close_timeout;
	dev->be = be;
	dev->be_ctx = be_ctx;
	dev->next_local_port = VSOCK_LOCAL_PORT_FIRST;
	dev->orphans = calloc(cfg->orphan_max, sizeof(*dev->orphans));
	dev->payload_max = dev->cfg.buf_alloc > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE ?
	    dev->cfg.buf_alloc : VIRTIO_VSOCK_MAX_PKT_BUF_SIZE;
	dev->tap_copy = malloc(dev->payload_max);
	blockpool_init(&dev->h2g_pool, VIRTIO_VSOCK_MAX_PKT_BUF_SIZE,
	    DEVICE_H2G_SPARE_MAX);
	blockpool_init(&dev->txbuf_pool, dev->cfg.buf_alloc,
	    DEVICE_TXBUF_SPARE_BYTES / dev->cfg.buf_alloc <
	    DEVICE_TXBUF_SPARE_MAX ? DEVICE_TXBUF_SPARE_BYTES /
	    dev->cfg.buf_alloc : DEVICE_TXBUF_SPARE_MAX);
	if (dev->orphans == NULL || dev->tap_copy == NULL ||
	    conntab_init(&dev->tab, (cfg->hash_seed != 0 ? cfg->hash_seed :
	    VSOCK_DEVICE_PUBLIC_SEED) ^ cfg->guest_cid) < 0) {
		vsock_device_free(dev);
		return -VSE_ERR_NOMEM;
	}
	*out = dev;
	return 0;
}

/* Drops every connection without a packet; the backend hears why. */
static void
drop_all(struct vsock_device *dev, enum vsock_release why)
{
	struct vsock_conn *c;
	uint32_t i;

	/*
	 * Removing a connection shifts its cluster back, across the end of
	 * the slots too: go round until none is left.
	 */
	for (i = 0; dev->tab.count > 0; i = (i + 1) & (dev->tab.nslots - 1))
		while ((c = dev->tab.slot[i].c) != NULL) {
			/* A killed one's end was told when it was killed. */
			if (c->state != CONN_KILLED)
				DEVICE_EVENT(dev, c, VSOCK_EVENT_RESET,
				    VSOCK_WHO_DEVICE,
				    VSOCK_WHY_TRANSPORT_RESET, 0);
			device_release_backend(dev, c, why);
			device_destroy_conn(dev, c);
		}
	dev->norphans = 0;
}

void
vsock_device_free(struct vsock_device *dev)
{
	if (dev == NULL)
		return;
	/* The listener may be gone before the device: no events from here. */
	dev->cfg.on_event = NULL;
	if (dev->tab.slot != NULL)
		drop_all(dev, VSOCK_RELEASE_DEVICE_RESET);
	conntab_free(&dev->tab);
	device_relay_flush(dev);
	free(dev->orphans);
	free(dev->tap_copy);
	free(dev->seq_staging);
	blockpool_destroy(&dev->h2g_pool);
	blockpool_destroy(&dev->txbuf_pool);
	free(dev);
}

void
vsock_device_set_tap(struct vsock_device *dev, vsock_tap_fn fn, void *ctx)
{
	dev->tap = fn;
	dev->tap_ctx = ctx;
}

void
vsock_device_set_notify(struct vsock_device *dev, vsock_notify_fn fn,
    void *ctx)
{
	dev->notify = fn;
	dev->notify_ctx = ctx;
}

uint64_t
vsock_device_features(const struct vsock_device *dev)
{
	uint64_t f = VIRTIO_FEATURE(VIRTIO_F_VERSION_1) |
	    VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX) |
	    VIRTIO_FEATURE(VIRTIO_RING_F_INDIRECT_DESC);

	/*
	 * 5.10.3: STREAM is implied when the driver acks neither F_STREAM
	 * nor F_NO_IMPLIED_STREAM; we offer neither, as Linux guests expect.
	 */
	if (dev->cfg.seqpacket)
		f |= VIRTIO_FEATURE(VIRTIO_VSOCK_F_SEQPACKET);
	return f;
}

int
vsock_device_set_features(struct vsock_device *dev, uint64_t acked)
{
	if (acked & ~vsock_device_features(dev))
		return -VSE_ERR_FEATURES;
	/* A legacy (pre-1.0) driver is not supported. */
	if (!(acked & VIRTIO_FEATURE(VIRTIO_F_VERSION_1)))
		return -VSE_ERR_FEATURES;
	dev->features = acked;
	dev->seqpacket =
	    (acked & VIRTIO_FEATURE(VIRTIO_VSOCK_F_SEQPACKET)) != 0;
	return 0;
}

void
vsock_device_get_config(const struct vsock_device *dev, uint8_t cfg[8])
{
	uint64_t cid = htole64(dev->cfg.guest_cid);

	memcpy(cfg, &cid, sizeof(cid));
}

int
vsock_device_set_queue(struct vsock_device *dev, unsigned q,
    const struct guestmem *mem, uint32_t num, uint64_t desc_gpa,
    uint64_t avail_gpa, uint64_t used_gpa)
{
	if (q >= VSOCK_NUM_QUEUES)
		return -VSE_ERR_INVAL;
	dev->broken_told &= (uint8_t)~(1u << q);
	return virtq_setup(&dev->vq[q], mem, num, desc_gpa, avail_gpa,
	    used_gpa, dev->features);
}

int
vsock_device_queue_base(struct vsock_device *dev, unsigned q, uint16_t base)
{
	if (q >= VSOCK_NUM_QUEUES || dev->vq[q].num == 0)
		return -VSE_ERR_INVAL;
	virtq_set_base(&dev->vq[q], base);
	return 0;
}

int
vsock_device_queue_stop(struct vsock_device *dev, unsigned q,
    uint16_t *last_avail)
{
	if (q >= VSOCK_NUM_QUEUES)
		return -VSE_ERR_INVAL;
	*last_avail = dev->vq[q].last_avail_idx;
	virtq_reset(&dev->vq[q]);
	return 0;
}

const struct virtq *
vsock_device_queue(const struct vsock_device *dev, unsigned q)
{
	return q < VSOCK_NUM_QUEUES ? &dev->vq[q] : NULL;
}

/* --- connections --- */

struct vsock_conn *
device_new_conn(struct vsock_device *dev, uint32_t local, uint32_t peer,
    uint16_t type)
{
	struct vsock_conn *c;

	if (type > UINT8_MAX)	/* callers pass STREAM or SEQPACKET only */
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->dev = dev;
	c->local_port = local;
	c->peer_port = peer;
	c->type = (uint8_t)type;
	c->cr.buf_alloc = c->cr.rx_limit = dev->cfg.buf_alloc;
	c->tx.pool = &dev->txbuf_pool;
	c->opened_at = dev->now;
	if (conntab_insert(&dev->tab, c) < 0) {
		free(c);
		return NULL;
	}
	dev->stats.conns_opened++;
	return c;
}

void
device_release_backend(struct vsock_device *dev, struct vsock_conn *c,
    enum vsock_release why)
{
	if (c->backend_gone)
		return;
	c->backend_gone = true;
	dev->be->release(dev->be_ctx, c, why);
	c->backend_data = NULL;
}

void
device_destroy_conn(struct vsock_device *dev, struct vsock_conn *c)
{
	if (c->was_established)
		DEVICE_EVENT(dev, c, VSOCK_EVENT_CLOSED, VSOCK_WHO_DEVICE,
		    VSOCK_WHY_NONE, 0);
	device_set_timer(dev, c, TIMER_NONE);
	if (c->on_rxq)
		conn_list_unlink(&dev->rxq, c, RXQ_LINK);
	conntab_remove(&dev->tab, c);
	txbuf_free(&c->tx);
	device_h2g_release(dev, c);
	free(c);
	dev->stats.conns_closed++;
}

/*
 * Drops what the guest sent that the host will now never take. The host's
 * message in flight to the guest (c->h2g_buf) is not the guest's: an orderly
 * host close still delivers it whole. With credit_back the dropped bytes
 * count as consumed (fwd_cnt, maybe an update): a guest application
 * blocked sending to us may be what keeps it from reading, and so from
 * granting the credit an orderly host close needs to deliver the host's
 * last bytes and its SHUTDOWN. Without, they stay unread, as on Linux's
 * socket (device-close.c decides).
 */
void
device_discard_tx(struct vsock_device *dev, struct vsock_conn *c,
    bool credit_back)
{
	dev->stats.data_discarded += c->tx.len;
	if (credit_back)
		device_delivered(dev, c, c->tx.len);
	txbuf_free(&c->tx);
}

/* Ends c with an RST (or at once): device_kill's work, no event. */
static void
kill_conn(struct vsock_device *dev, struct vsock_conn *c,
    enum vsock_release why)
{
	device_release_backend(dev, c, why);
	if (c->state == CONN_HOST_CONNECTING && (c->pending & PEND_REQUEST)) {
		/* Our REQUEST never went out: the guest knows no pair to reset. */
		device_destroy_conn(dev, c);
		return;
	}
	device_discard_tx(dev, c, true);
	/* Host bytes read but not yet sent die with the connection. */
	device_h2g_release(dev, c);
	c->state = CONN_KILLED;
	c->pending = PEND_RST;
	device_set_timer(dev, c, TIMER_NONE);
	device_schedule(dev, c);
}

/* The reason an RST for `release` gives when its caller names none. */
static enum vsock_event_why
release_why(enum vsock_release release)
{
	switch (release) {
	case VSOCK_RELEASE_CLOSED:
		return VSOCK_WHY_CLOSED;
	case VSOCK_RELEASE_REFUSED:
		return VSOCK_WHY_PROTOCOL;
	case VSOCK_RELEASE_TIMEOUT:
		return VSOCK_WHY_TIMEOUT;
	case VSOCK_RELEASE_DEVICE_RESET:
		return VSOCK_WHY_TRANSPORT_RESET;
	default:
		return VSOCK_WHY_ABORTED;
	}
}

/*
 * Says how c ends: a connect that never got established was refused (by
 * the host side, by the guest's answer, or by the timer), one that was
 * is reset. The RST always comes from the host side.
 */
static void
event_kill(struct vsock_device *dev, const struct vsock_conn *c,
    enum vsock_event_why why)
{
	enum vsock_event_kind kind = VSOCK_EVENT_RESET;
	enum vsock_event_who who = VSOCK_WHO_HOST;

	if (c->state == CONN_GUEST_CONNECTING ||
	    c->state == CONN_HOST_CONNECTING) {
		if (why == VSOCK_WHY_TIMEOUT)
			who = VSOCK_WHO_DEVICE;
		else if (c->state == CONN_HOST_CONNECTING &&
		    why == VSOCK_WHY_PROTOCOL)
			who = VSOCK_WHO_GUEST;
		if (c->state == CONN_GUEST_CONNECTING ||
		    who != VSOCK_WHO_HOST)
			kind = VSOCK_EVENT_REFUSED;
	}
	device_event_emit(dev, c, kind, who, why, 0);
}

void
device_kill_for(struct vsock_device *dev, struct vsock_conn *c,
    enum vsock_release release, enum vsock_event_why why)
{
	if (c->state == CONN_KILLED)
		return;
	if (dev->cfg.on_event != NULL)
		event_kill(dev, c, why != VSOCK_WHY_NONE ? why :
		    release_why(release));
	kill_conn(dev, c, release);
}

void
device_kill(struct vsock_device *dev, struct vsock_conn *c,
    enum vsock_release why)
{
	device_kill_for(dev, c, why, VSOCK_WHY_NONE);
}

void
device_refuse(struct vsock_device *dev, struct vsock_conn *c, int err)
{
	DEVICE_EVENT(dev, c, VSOCK_EVENT_REFUSED, VSOCK_WHO_HOST,
	    device_refusal_why(err), (uint32_t)-err);
	kill_conn(dev, c, VSOCK_RELEASE_REFUSED);
}

void
device_established(struct vsock_device *dev, struct vsock_conn *c)
{
	c->state = CONN_ESTABLISHED;
	c->was_established = true;
	DEVICE_EVENT(dev, c, VSOCK_EVENT_ESTABLISHED,
	    c->host_initiated ? VSOCK_WHO_GUEST : VSOCK_WHO_HOST,
	    VSOCK_WHY_NONE, 0);
}

void
device_want(struct vsock_device *dev, struct vsock_conn *c)
{
	unsigned want = 0;

	if (c->backend_gone)
		return;
	/*
	 * Read interest stays while data known to wait can still go: the
	 * device reads it to the end in this run, so dropping interest
	 * when the host became readable and asking again once drained cost
	 * an epoll_ctl pair per burst (issue 20). It is dropped while the
	 * data cannot go: no credit, or parked (no RX buffer, or the host
	 * reported readable again meanwhile), so a guest that stops posting
	 * buffers or reading costs no CPU (Firecracker's get_polled_evset()
	 * drops IN while an Rw waits for the same reason).
	 */
	if (c->state == CONN_ESTABLISHED && !c->host_eof &&
	    !(c->peer_shut & VIRTIO_VSOCK_SHUTDOWN_RCV) && (!c->host_readable ||
	    (!c->rx_parked && device_peer_credit(dev, c) > 0)))
		want |= VSOCK_EV_READ;
	/*
	 * Write interest only for what a write could take: a SEQPACKET
	 * message goes whole, so fragments before its EOM wait for the guest,
	 * and polling for them would spin a level-triggered loop.
	 */
	if (c->type == VIRTIO_VSOCK_TYPE_SEQPACKET ? c->tx.nmsgs > 0 :
	    c->tx.len > 0)
		want |= VSOCK_EV_WRITE;
	if (want != c->want) {
		c->want = (uint8_t)want;
		dev->be->want(dev->be_ctx, c, want);
	}
}

void
device_schedule(struct vsock_device *dev, struct vsock_conn *c)
{
	if (!c->on_rxq && device_conn_has_rx(dev, c)) {
		conn_list_append(&dev->rxq, c, RXQ_LINK);
		c->on_rxq = true;
	}
	device_want(dev, c);
}

void
device_queue_orphan_rst(struct vsock_device *dev, const struct vsock_hdr *h)
{
	struct orphan_rst *o;

	/* Never answer an RST: the reply could kill a new connection. */
	if (h->op == VIRTIO_VSOCK_OP_RST)
		return;
	if (dev->norphans == dev->cfg.orphan_max) {
		dev->stats.orphan_dropped++;
		return;
	}
	o = &dev->orphans[(dev->orphan_head + dev->norphans) %
	    dev->cfg.orphan_max];
	o->local_port = h->dst_port;
	o->peer_port = h->src_port;
	o->type = h->type;
	dev->norphans++;
}

void
device_tap(struct vsock_device *dev, enum vsock_tap_dir dir, bool dropped,
    const uint8_t raw[VSOCK_HDR_SIZE], const struct vsock_hdr *h,
    const uint8_t *payload, uint32_t payload_len)
{
	struct vsock_tap_record rec;

	if (dev->tap == NULL)
		return;
	rec.dir = dir;
	rec.dropped = dropped;
	rec.now = dev->now;
	memcpy(rec.raw, raw, VSOCK_HDR_SIZE);
	rec.hdr = *h;
	rec.payload = payload;
	rec.payload_len = payload_len;
	dev->tap(dev->tap_ctx, &rec);
}

/* --- timers --- */

void
device_set_timer(struct vsock_device *dev, struct vsock_conn *c,
    enum conn_timer kind)
{
	if (c->timer != TIMER_NONE)
		conn_list_unlink(&dev->timers[c->timer], c, TIMER_LINK);
	c->timer = (uint8_t)kind;
	if (kind == TIMER_NONE)
		return;
	c->deadline = dev->now + (kind == TIMER_REQUEST ?
	    dev->cfg.request_timeout : dev->cfg.close_timeout);
	conn_list_append(&dev->timers[kind], c, TIMER_LINK);
}

/* Fires every timer due by now; each list is in deadline order. */
static void
sweep_timers(struct vsock_device *dev)
{
	struct vsock_conn *c;
	int kind;

	for (kind = TIMER_REQUEST; kind < TIMER__COUNT; kind++)
		while ((c = dev->timers[kind].head) != NULL &&
		    c->deadline <= dev->now) {
			device_set_timer(dev, c, TIMER_NONE);
			if (kind == TIMER_REQUEST)
				dev->stats.timeouts_request++;
			else
				dev->stats.timeouts_close++;
			/* An unanswered REQUEST or SHUTDOWN ends in RST. */
			device_kill(dev, c, VSOCK_RELEASE_TIMEOUT);
		}
}

vsock_time_t
vsock_device_next_deadline(const struct vsock_device *dev)
{
	vsock_time_t next = VSOCK_TIME_NEVER;
	int kind;

	if (dev->tx_more)
		return dev->now;
	for (kind = TIMER_REQUEST; kind < TIMER__COUNT; kind++)
		if (dev->timers[kind].head != NULL &&
		    dev->timers[kind].head->deadline < next)
			next = dev->timers[kind].head->deadline;
	return next;
}

/* --- processing --- */

/*
 * The event is going out: RX waits until the guest has taken it. Linux's
 * driver handles it, then gives the buffer back and kicks
 * (virtio_vsock_event_handle(), virtio_vsock_event_fill_one()); that
 * refill is the acknowledgment, whichever queue the kick names (callers
 * may merge notifications). Firecracker takes any event-queue kick.
 * Called before the push: a guest on another thread cannot have refilled
 * yet, so any later rise of the count is its answer.
 */
static void
await_reset_ack(struct vsock_device *dev)
{
	struct virtq *vq = &dev->vq[VSOCK_QUEUE_EVENT];
	int left;

	/* Ask for that kick even if event-idx would suppress it. */
	virtq_set_notification(vq, true);
	left = virtq_avail(vq);
	dev->reset_ack_pending = true;
	dev->reset_ack_avail = left > 0 ? (uint16_t)left : 0;
}

/* Has the guest given an event buffer back since the event was posted? */
static void
check_reset_ack(struct vsock_device *dev)
{
	struct virtq *vq = &dev->vq[VSOCK_QUEUE_EVENT];
	int left;

	if (!dev->reset_ack_pending)
		return;
	/* A queue that is gone or broken can never carry the refill. */
	if (!virtq_is_ready(vq) || (left = virtq_avail(vq)) < 0 ||
	    (unsigned)left > dev->reset_ack_avail)
		dev->reset_ack_pending = false;
}

/*
 * Is RX held for a TRANSPORT_RESET? Firecracker's process_rx() returns
 * while pending_event_ack is set: a host connect right after the reset
 * must not reach the guest before the event does. Not when the guest has
 * no usable event queue: it could never take the event.
 */
static bool
reset_holds_rx(const struct vsock_device *dev)
{
	return (dev->reset_event_pending || dev->reset_ack_pending) &&
	    virtq_is_ready(&dev->vq[VSOCK_QUEUE_EVENT]);
}

/* Posts a pending TRANSPORT_RESET event into the guest's event buffers. */
static void
event_run(struct vsock_device *dev)
{
	struct virtq *vq = &dev->vq[VSOCK_QUEUE_EVENT];
	uint32_t id = htole32(VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	unsigned tries;

	if (!dev->reset_event_pending || !virtq_is_ready(vq))
		return;
	for (tries = 0; tries < vq->num; tries++) {
		if (virtq_pop_or_arm(vq, &dev->chain) != 1)
			return;
		if (dev->chain.nread == 0 &&
		    dev->chain.write_len >= VSOCK_EVENT_SIZE &&
		    virtq_chain_write(vq, &dev->chain, 0, &id,
		    VSOCK_EVENT_SIZE) == 0) {
			/* Count the buffers left before the guest can refill. */
			await_reset_ack(dev);
			virtq_push(vq, dev->chain.head, VSOCK_EVENT_SIZE);
			dev->reset_event_pending = false;
			return;
		}
		dev->stats.rx_bad_buffers++;
		virtq_push(vq, dev->chain.head, 0);
	}
}

/* Interrupts the guest for every queue that used buffers and wants it. */
static void
send_notifications(struct vsock_device *dev)
{
	unsigned q;

	for (q = 0; q < VSOCK_NUM_QUEUES; q++)
		if (virtq_is_ready(&dev->vq[q]) &&
		    !virtq_notify_settled(&dev->vq[q]) &&
		    virtq_should_notify(&dev->vq[q]) && dev->notify != NULL)
			dev->notify(dev->notify_ctx, q);
}

/* The injected clock only moves forward: callers may pass stale times. */
static void
advance_clock(struct vsock_device *dev, vsock_time_t now)
{
	if (now > dev->now)
		dev->now = now;
}

/* Moves the clock forward (never back) and does all pending work. */
static void
device_process(struct vsock_device *dev, vsock_time_t now)
{
	advance_clock(dev, now);
	if (dev->in_run)
		return;
	dev->in_run = true;
	sweep_timers(dev);
	check_reset_ack(dev);
	device_tx_run(dev);
	if (!reset_holds_rx(dev))
		device_rx_run(dev);
	event_run(dev);
	if (dev->cfg.on_event != NULL)
		device_event_check_queues(dev);
	send_notifications(dev);
	dev->in_run = false;
}

void
vsock_device_kick(struct vsock_device *dev, unsigned q, vsock_time_t now)
{
	(void)q;	/* every kick may unblock every queue */
	device_process(dev, now);
}

void
vsock_device_run(struct vsock_device *dev, vsock_time_t now)
{
	device_process(dev, now);
}

/* A transport reset, the guest's CID having been old_cid. */
static void
transport_reset(struct vsock_device *dev, uint64_t old_cid, vsock_time_t now)
{
	advance_clock(dev, now);
	if (dev->cfg.on_event != NULL)
		device_event_transport_reset(dev, old_cid);
	/* 5.10.6.6: connections are dropped without a packet. */
	drop_all(dev, VSOCK_RELEASE_DEVICE_RESET);
	device_relay_flush(dev);
	dev->reset_event_pending = true;
	device_process(dev, now);
}

void
vsock_device_transport_reset(struct vsock_device *dev, vsock_time_t now)
{
	transport_reset(dev, dev->cfg.guest_cid, now);
}

int
vsock_device_transport_reset_cid(struct vsock_device *dev, uint64_t guest_cid,
    vsock_time_t now)
{
	if (!vsock_cid_valid(guest_cid))
		return -VSE_ERR_BAD_CID;
	/*
	 * 5.10.6.6: the driver re-reads guest_cid when it handles the event
	 * (Firecracker: a snapshot restored in another VM).
	 */
	uint64_t old_cid = dev->cfg.guest_cid;

	dev->cfg.guest_cid = guest_cid;
	transport_reset(dev, old_cid, now);
	return 0;
}

/* --- host side --- */

/* Picks the next free local port, round-robin in [2^30, 2^31). */
static int
alloc_local_port(struct vsock_device *dev, uint32_t *port)
{
	uint32_t tries;

	/* At most count ports are in use, so count + 1 tries always suffice. */
	for (tries = 0; tries <= dev->tab.count; tries++) {
		uint32_t p = dev->next_local_port++;

		if (dev->next_local_port == VSOCK_LOCAL_PORT_END)
			dev->next_local_port = VSOCK_LOCAL_PORT_FIRST;
		if (!conntab_port_used(&dev->tab, p)) {
			*port = p;
			return 0;
		}
	}
	return -VSE_ERR_NO_PORT;
}

/* Can the host connect with type now? 0 and a local port, or -VSE_ERR_*. */
static int
host_connect_problem(struct vsock_device *dev, uint16_t type, uint32_t *local)
{
	if (type != VIRTIO_VSOCK_TYPE_STREAM &&
	    !(type == VIRTIO_VSOCK_TYPE_SEQPACKET && dev->seqpacket))
		return -VSE_ERR_BAD_TYPE;
	if (dev->tab.count >= dev->cfg.max_conns)
		return -VSE_ERR_CONN_LIMIT;
	return alloc_local_port(dev, local);
}

/* Events for a host connect the device refused before any packet. */
static void
host_connect_refused(struct vsock_device *dev, uint32_t port, uint16_t type,
    int e)
{
	enum vsock_event_why why = e == -VSE_ERR_BAD_TYPE ?
	    VSOCK_WHY_WRONG_TYPE : e == -VSE_ERR_NOMEM ? VSOCK_WHY_NO_MEMORY :
	    VSOCK_WHY_LIMIT;

	device_event_emit_pair(dev, VSOCK_EVENT_REQUESTED, VSOCK_WHO_HOST,
	    VSOCK_WHY_NONE, 0, port, type);
	device_event_emit_pair(dev, VSOCK_EVENT_REFUSED, VSOCK_WHO_DEVICE, why,
	    0, port, type);
}

int
vsock_device_host_connect(struct vsock_device *dev, uint32_t port,
    uint16_t type, void *backend_data, vsock_time_t now,
    struct vsock_conn **out)
{
	struct vsock_conn *c;
	uint32_t local;
	int e;

	*out = NULL;
	advance_clock(dev, now);
	e = host_connect_problem(dev, type, &local);
	if (e == 0 && (c = device_new_conn(dev, local, port, type)) == NULL)
		e = -VSE_ERR_NOMEM;
	if (e < 0) {
		if (dev->cfg.on_event != NULL)
			host_connect_refused(dev, port, type, e);
		return e;
	}
	c->host_initiated = true;
	DEVICE_EVENT(dev, c, VSOCK_EVENT_REQUESTED, VSOCK_WHO_HOST,
	    VSOCK_WHY_NONE, 0);
	c->state = CONN_HOST_CONNECTING;
	c->backend_data = backend_data;
	c->pending = PEND_REQUEST;
	/*
	 * Bounds the wait for an RX buffer to carry the REQUEST (Firecracker
	 * has no such bound); re-armed when the REQUEST goes out.
	 */
	device_set_timer(dev, c, TIMER_REQUEST);
	device_schedule(dev, c);
	*out = c;
	device_process(dev, now);
	return 0;
}

void
vsock_device_host_connected(struct vsock_device *dev, struct vsock_conn *c,
    int err, vsock_time_t now)
{
	advance_clock(dev, now);	/* the events below carry it */
	if (c->state == CONN_GUEST_CONNECTING && !c->backend_gone) {
		device_set_timer(dev, c, TIMER_NONE);
		if (err == 0) {
			device_established(dev, c);
			c->pending |= PEND_RESPONSE;
			c->host_readable = true;
			device_schedule(dev, c);
		} else {
			device_refuse(dev, c, err);
		}
	}
	device_process(dev, now);
}

void
vsock_device_host_readable(struct vsock_device *dev, struct vsock_conn *c,
    vsock_time_t now)
{
	if (!c->backend_gone) {
		/*
		 * Told again while the data it was told of waits: every run
		 * takes what it can, so this one cannot; park it (a
		 * level-triggered loop would report it again and again).
		 */
		c->rx_parked = c->host_readable;
		c->host_readable = true;
		device_schedule(dev, c);
	}
	device_process(dev, now);
}

void
vsock_device_host_writable(struct vsock_device *dev, struct vsock_conn *c,
    vsock_time_t now)
{
	advance_clock(dev, now);
	if (!c->backend_gone)
		device_flush_to_host(dev, c);
	device_process(dev, now);
}

/*
 * Linux: vsock_update_buffer_size() clamps the application's value to the
 * socket's [buffer_min_size, buffer_max_size] and, when it changed, calls
 * virtio_transport_notify_buffer_size(), which (past a cap at
 * VIRTIO_VSOCK_MAX_BUF_SIZE, 4 GiB - 1 in 6.1) sets buf_alloc and sends a
 * CREDIT_UPDATE at once, whatever the bytes held: fewer than held just
 * leaves the guest no credit until the application reads. Our maximum is
 * the device's buf_alloc: the txbuf a connection holds guest bytes in.
 */
uint32_t
vsock_device_host_set_buf_alloc(struct vsock_device *dev, struct vsock_conn *c,
    uint32_t buf_alloc, vsock_time_t now)
{
	uint32_t v = buf_alloc;

	advance_clock(dev, now);
	if (v < VSOCK_BUF_ALLOC_MIN)
		v = VSOCK_BUF_ALLOC_MIN;
	if (v > dev->cfg.buf_alloc)
		v = dev->cfg.buf_alloc;
	if (v != c->cr.buf_alloc && c->state != CONN_KILLED) {
		c->cr.buf_alloc = v;	/* never above rx_limit, the device's */
		/* Before it is established, its REQUEST or RESPONSE tells. */
		if (c->state == CONN_ESTABLISHED || c->state == CONN_CLOSING) {
			c->pending |= PEND_CREDIT_UPDATE;
			device_schedule(dev, c);
		}
	}
	device_process(dev, now);
	return c->cr.buf_alloc;
}

void
vsock_device_host_event(struct vsock_device *dev, struct vsock_conn *c,
    enum vsock_host_event ev, vsock_time_t now)
{
	advance_clock(dev, now);
	device_host_event(dev, c, ev);
	device_process(dev, now);
}

/* --- accessors --- */

void
vsock_conn_set_backend_data(struct vsock_conn *c, void *data)
{
	c->backend_data = data;
}

void *
vsock_conn_backend_data(const struct vsock_conn *c)
{
	return c->backend_data;
}

uint32_t
vsock_conn_local_port(const struct vsock_conn *c)
{
	return c->local_port;
}

uint32_t
vsock_conn_peer_port(const struct vsock_conn *c)
{
	return c->peer_port;
}

uint16_t
vsock_conn_type(const struct vsock_conn *c)
{
	return c->type;
}

uint32_t
vsock_conn_buf_alloc(const struct vsock_conn *c)
{
	return c->cr.rx_limit;
}

struct vsock_conn *
vsock_device_find(const struct vsock_device *dev, uint32_t local_port,
    uint32_t peer_port)
{
	return conntab_find(&dev->tab, local_port, peer_port);
}

unsigned
vsock_device_nconns(const struct vsock_device *dev)
{
	return dev->tab.count;
}

const struct vsock_profile_rules *
vsock_device_rules(const struct vsock_device *dev)
{
	return &dev->rules;
}

const struct vsock_device_stats *
vsock_device_stats(const struct vsock_device *dev)
{
	return &dev->stats;
}

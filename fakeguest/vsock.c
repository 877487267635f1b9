/* vsock.c - the guest stack's queues: RX refill and receive, TX, events, and checks on the device. */
#include "config.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "vsock-int.h"
#include "device.h"	/* vsock_cid_valid(): the one CID rule */

/* Linux-like defaults; queue sizes as QEMU's vhost-vsock offers them. */
void
fg_vsock_config_defaults(struct fg_vsock_config *c)
{
	unsigned q;

	memset(c, 0, sizeof(*c));
	c->guest_cid = 3;
	c->features = VIRTIO_FEATURE(VIRTIO_F_VERSION_1) |
	    VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX) |
	    VIRTIO_FEATURE(VIRTIO_RING_F_INDIRECT_DESC);
	for (q = 0; q < VSOCK_NUM_QUEUES; q++)
		c->qsize[q] = 128;
	c->rx_buf_size = FG_LINUX_RX_BUF_SIZE;
	/*
	 * As Linux 6.1's virtio_transport_send_pkt_work (Debian's, with the
	 * skb): the header at skb->head and the payload behind it are two
	 * scatterlist entries, which virtqueue_add_split puts in an indirect
	 * table when VIRTIO_RING_F_INDIRECT_DESC is negotiated.
	 */
	c->tx_layout = FG_TX_SKB;
	c->tx_indirect = true;
	c->tx_frag_size = 4096;
	c->tx_slots = 32;
	c->tx_pending_max = 64;
	c->max_socks = 64;
}

/* Rejects configurations the stack cannot honour. */
static int
check_config(const struct fg_vsock_config *c)
{
	if (!vsock_cid_valid(c->guest_cid) || c->rx_buf_size == 0 ||
	    c->rx_buf_size > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE ||
	    c->max_socks == 0 || c->max_socks > 65536 ||
	    c->tx_pending_max == 0)
		return -VSE_ERR_INVAL;
	return 0;
}

/* Builds rings, buffer pools and the socket table. */
static int
build(struct fg_vsock *vs)
{
	const struct fg_vsock_config *c = &vs->cfg;
	unsigned q;
	int e;

	for (q = 0; q < VSOCK_NUM_QUEUES; q++)
		if ((e = fg_ring_init(&vs->ring[q], vs->mem, c->qsize[q],
		    c->features)) < 0)
			return e;
	if ((e = fg_inbuf_init(&vs->rx, &vs->ring[VSOCK_QUEUE_RX],
	    c->qsize[VSOCK_QUEUE_RX], VSOCK_HDR_SIZE + c->rx_buf_size)) < 0 ||
	    (e = fg_inbuf_init(&vs->ev, &vs->ring[VSOCK_QUEUE_EVENT],
	    c->qsize[VSOCK_QUEUE_EVENT], VSOCK_EVENT_SIZE)) < 0 ||
	    (e = fg_txq_init(&vs->tx, &vs->ring[VSOCK_QUEUE_TX], c->tx_layout,
	    c->tx_frag_size, c->tx_indirect, c->tx_slots,
	    c->tx_pending_max)) < 0)
		return e;
	/* Packets of a full RX buffer cycle through here, not through malloc. */
	blockpool_init(&vs->rxpool, sizeof(struct fg_rxpkt) + c->rx_buf_size,
	    FG_RXPOOL_BYTES / (sizeof(struct fg_rxpkt) + c->rx_buf_size) + 1);
	vs->rx_loan_pkts = calloc(c->qsize[VSOCK_QUEUE_RX],
	    sizeof(struct fg_rxpkt));
	vs->sock = calloc(c->max_socks, sizeof(*vs->sock));
	if (vs->sock == NULL || vs->rx_loan_pkts == NULL)
		return -VSE_ERR_NOMEM;
	vs->nsock = c->max_socks;
	return 0;
}

/* Creates the stack; nothing is posted until fg_vsock_start. */
int
fg_vsock_new(struct fg_mem *mem, const struct fg_vsock_config *c,
    struct fg_vsock **out)
{
	struct fg_vsock *vs;
	int e;

	*out = NULL;
	if ((e = check_config(c)) < 0)
		return e;
	if ((vs = calloc(1, sizeof(*vs))) == NULL)
		return -VSE_ERR_NOMEM;
	vs->mem = mem;
	vs->cfg = *c;
	vs->cid = c->guest_cid;
	vs->seqpacket = (c->features &
	    VIRTIO_FEATURE(VIRTIO_VSOCK_F_SEQPACKET)) != 0;
	vs->next_port = FG_PORT_EPHEMERAL;
	vs->rx_slot = -1;
	if ((e = build(vs)) < 0) {
		fg_vsock_free(vs);
		return e;
	}
	*out = vs;
	return 0;
}

/* Frees sockets, pools and rings. */
void
fg_vsock_free(struct fg_vsock *vs)
{
	unsigned i;

	if (vs == NULL)
		return;
	for (i = 0; i < vs->nsock; i++)
		if (vs->sock[i].used)
			fg_sock_free(vs, &vs->sock[i]);
	free(vs->sock);
	free(vs->rx_loan_pkts);
	blockpool_destroy(&vs->rxpool);
	fg_txq_destroy(&vs->tx);
	fg_inbuf_destroy(&vs->ev);
	fg_inbuf_destroy(&vs->rx);
	for (i = 0; i < VSOCK_NUM_QUEUES; i++)
		fg_ring_destroy(&vs->ring[i]);
	free(vs);
}

const struct fg_ring *
fg_vsock_ring(const struct fg_vsock *vs, unsigned q)
{
	return q < VSOCK_NUM_QUEUES ? &vs->ring[q] : NULL;
}

/* Notifies the device about q when the ring says it wants to hear. */
static void
kick(struct fg_vsock *vs, unsigned q)
{
	if (fg_ring_kick_needed(&vs->ring[q]) && vs->cfg.kick != NULL)
		vs->cfg.kick(vs->cfg.kick_ctx, q);
}

/* Moves pending TX packets onto the ring and kicks if any went. */
static void
tx_flush(struct fg_vsock *vs)
{
	if (fg_txq_flush(&vs->tx) > 0)
		kick(vs, VSOCK_QUEUE_TX);
}

/* Queues one packet for the device and sends what the ring takes. */
void
fg_vsock_xmit(struct fg_vsock *vs, const struct vsock_hdr *h,
    const void *payload)
{
	int e = fg_txq_queue(&vs->tx, h, payload);

	/* Only a failed malloc refuses; the stack then loses the packet. */
	if (e < 0)
		return;
	vs->stats.tx_pkts[h->op]++;
	if (h->op == VIRTIO_VSOCK_OP_RW)
		vs->stats.tx_bytes += h->len;
	if (e > 0) {
		kick(vs, VSOCK_QUEUE_TX);	/* placed on the ring already */
		return;
	}
	vs->stats.tx_waited++;
	tx_flush(vs);
}

/*
 * RST for a packet no socket takes (Linux virtio_transport_reset_no_sock),
 * addressed back to its sender. Never in reply to an RST: two stacks would
 * otherwise bounce resets forever.
 */
void
fg_vsock_reset_no_sock(struct fg_vsock *vs, const struct vsock_hdr *in)
{
	struct vsock_hdr h;

	if (in->op == VIRTIO_VSOCK_OP_RST)
		return;
	memset(&h, 0, sizeof(h));
	h.src_cid = vs->cid;
	h.dst_cid = in->src_cid;
	h.src_port = in->dst_port;
	h.dst_port = in->src_port;
	h.type = in->type;
	h.op = VIRTIO_VSOCK_OP_RST;
	fg_vsock_xmit(vs, &h, NULL);
}

/* Records a device protocol violation; the first one keeps its text. */
void
fg_vsock_violate(struct fg_vsock *vs, const char *why)
{
	vs->stats.violations++;
	if (vs->violation == NULL)
		vs->violation = why;
}

/* DRIVER_OK: fills the RX and event queues. */
void
fg_vsock_start(struct fg_vsock *vs)
{
	if (fg_inbuf_fill(&vs->rx) > 0)
		kick(vs, VSOCK_QUEUE_RX);
	if (fg_inbuf_fill(&vs->ev) > 0)
		kick(vs, VSOCK_QUEUE_EVENT);
}

/* Is this RX header one a correct device could have sent? */
static const char *
rx_check(const struct fg_vsock *vs, const struct vsock_hdr *h, uint32_t used)
{
	if (h->len > vs->cfg.rx_buf_size)
		return "RX hdr.len exceeds the RX buffer";
	if (used != VSOCK_HDR_SIZE + h->len)
		return "RX used length disagrees with hdr.len";
	if (h->dst_cid != vs->cid)
		return "RX dst_cid is not the guest's CID";
	/*
	 * The host, or a sibling VM a device relays for (vhost-device-vsock's
	 * groups); Linux's virtio_transport_recv_pkt() takes any src_cid.
	 */
	if (h->src_cid != VMADDR_CID_HOST &&
	    (!vsock_cid_valid(h->src_cid) || h->src_cid == vs->cid))
		return "RX src_cid is neither the host (2) nor a sibling";
	if (h->op != VIRTIO_VSOCK_OP_RW && h->len != 0)
		return "RX payload on a control packet";
	if (h->type == VIRTIO_VSOCK_TYPE_SEQPACKET && !vs->seqpacket)
		return "RX SEQPACKET without VIRTIO_VSOCK_F_SEQPACKET";
	return NULL;
}

/* Handles one received buffer of used bytes (Linux virtio_transport_recv_pkt). */
static void
rx_handle(struct fg_vsock *vs, const uint8_t *raw, uint32_t used)
{
	struct vsock_hdr h;
	struct fg_sock *s;
	const char *why;

	if (used < VSOCK_HDR_SIZE) {
		fg_vsock_violate(vs, "RX used length shorter than a header");
		return;
	}
	vsock_hdr_decode(raw, &h);
	if ((why = rx_check(vs, &h, used)) != NULL) {
		fg_vsock_violate(vs, why);
		return;
	}
	if (!vsock_type_known(h.type)) {
		/* Linux answers an unknown type with RST; we also flag it. */
		fg_vsock_violate(vs, "RX type unknown");
		fg_vsock_reset_no_sock(vs, &h);
		return;
	}
	if (h.op == VIRTIO_VSOCK_OP_INVALID || h.op > VIRTIO_VSOCK_OP__MAX) {
		/*
		 * No correct device sends it, so it is flagged; Linux checks
		 * no op here, so the socket's state handler still decides.
		 */
		fg_vsock_violate(vs, "RX op unknown");
	} else {
		vs->stats.rx_pkts[h.op]++;
	}
	if (h.op == VIRTIO_VSOCK_OP_RW)
		vs->stats.rx_bytes += h.len;
	s = fg_sock_lookup(vs, &h);
	if (s == NULL || s->type != h.type) {
		fg_vsock_reset_no_sock(vs, &h);
		return;
	}
	fg_sock_recv_pkt(vs, s, &h, raw + VSOCK_HDR_SIZE);
}

/*
 * Receives RX packets while replies can still be queued (Linux's
 * virtio_transport_more_replies back-pressure), then refills once fewer
 * than half the buffers are posted, as virtio_transport_rx_work does.
 */
static void
rx_poll(struct fg_vsock *vs)
{
	const uint8_t *data;
	uint32_t len, slot;

	for (;;) {
		if (fg_txq_congested(&vs->tx)) {
			if (fg_ring_used_pending(&vs->ring[VSOCK_QUEUE_RX]))
				vs->stats.rx_throttled++;
			break;
		}
		/* Read in place; a socket may keep the buffer (fg_rxpkt_new). */
		if (fg_inbuf_reap_slot(&vs->rx, &slot, &data, &len) == 0)
			break;
		vs->rx_slot = slot;
		rx_handle(vs, data, len);
		if (vs->rx_slot >= 0)
			fg_inbuf_recycle(&vs->rx, slot, false);
		vs->rx_slot = -1;
	}
	/* fg_fault_pause_rx: a guest that stopped posting buffers. */
	if (!vs->rx_paused && vs->rx.posted < vs->rx.count / 2 &&
	    fg_inbuf_fill(&vs->rx) > 0) {
		vs->stats.rx_refills++;
		kick(vs, VSOCK_QUEUE_RX);
	}
}

/* Handles used event buffers and posts them again (5.10.6.5). */
static void
event_poll(struct fg_vsock *vs)
{
	uint8_t raw[VSOCK_EVENT_SIZE];
	uint32_t len, id;

	while (fg_inbuf_reap(&vs->ev, raw, sizeof(raw), &len) == 1) {
		if (len != VSOCK_EVENT_SIZE) {
			fg_vsock_violate(vs, "event used length is not 4");
			continue;
		}
		memcpy(&id, raw, sizeof(id));
		if (le32toh(id) != VIRTIO_VSOCK_EVENT_TRANSPORT_RESET) {
			fg_vsock_violate(vs, "event id unknown");
			continue;
		}
		vs->stats.events++;
		vs->stats.transport_resets++;
		/* Linux: virtio_vsock_update_guest_cid() comes first. */
		if (vs->cfg.read_config != NULL) {
			uint8_t cfg[8];
			uint64_t cid;

			vs->cfg.read_config(vs->cfg.config_ctx, cfg);
			memcpy(&cid, cfg, sizeof(cid));
			fg_vsock_set_cid(vs, le64toh(cid));
		}
		fg_sock_transport_reset(vs);
	}
	if (fg_inbuf_fill(&vs->ev) > 0)
		kick(vs, VSOCK_QUEUE_EVENT);
}

/* The interrupt handler of all three queues, then the timers. */
void
fg_vsock_poll(struct fg_vsock *vs, uint64_t now)
{
	if (now > vs->now)
		vs->now = now;	/* what a fault's hold counts from */
	fg_txq_reap(&vs->tx);
	tx_flush(vs);
	event_poll(vs);
	rx_poll(vs);
	fg_sock_run_timers(vs, now);
}

uint64_t
fg_vsock_next_deadline(const struct fg_vsock *vs)
{
	return fg_sock_next_deadline(vs);
}

/* Linux's virtio_vsock_update_guest_cid, after a transport reset. */
void
fg_vsock_set_cid(struct fg_vsock *vs, uint64_t cid)
{
	vs->cid = cid;
}

const struct fg_vsock_stats *
fg_vsock_stats(const struct fg_vsock *vs)
{
	return &vs->stats;
}

const struct blockpool *
fg_vsock_rxpool(const struct fg_vsock *vs)
{
	return &vs->rxpool;
}

/* Our first violation, else the first error a ring saw while reaping. */
const char *
fg_vsock_violation(const struct fg_vsock *vs)
{
	unsigned q;

	if (vs->violation != NULL)
		return vs->violation;
	for (q = 0; q < VSOCK_NUM_QUEUES; q++)
		if (vs->ring[q].device_error != NULL)
			return vs->ring[q].device_error;
	return NULL;
}

unsigned
fg_vsock_socket_count(const struct fg_vsock *vs)
{
	unsigned i, n = 0;

	for (i = 0; i < vs->nsock; i++)
		if (vs->sock[i].used)
			n++;
	return n;
}

uint32_t
fg_vsock_tx_pending(const struct fg_vsock *vs)
{
	return vs->tx.npending;
}

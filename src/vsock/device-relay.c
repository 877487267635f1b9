/* device-relay.c - packets between sibling VMs: the route hook on TX, a bounded relay queue on RX. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device-int.h"
#include "error.h"

/* One relayed packet waiting for a guest RX buffer. */
struct relay_pkt {
	struct relay_pkt *next;
	uint8_t raw[VSOCK_HDR_SIZE];	/* the sender's header, as it sent it */
	uint32_t len, off;		/* payload, and how much went out */
	uint8_t data[];
};

void
vsock_device_set_router(struct vsock_device *dev, vsock_route_fn fn,
    void *ctx)
{
	dev->route = fn;
	dev->route_ctx = ctx;
}

/* What a queued packet costs against VSOCK_RELAY_MAX_BYTES. */
static size_t
relay_cost(uint32_t len)
{
	return sizeof(struct relay_pkt) + len;
}

/* Appends one packet (header as given, payload copied); -VSE_ERR_* if full. */
static int
relay_enqueue(struct vsock_device *dev, const uint8_t raw[VSOCK_HDR_SIZE],
    const uint8_t *payload, uint32_t len)
{
	struct relay_pkt *p;

	if (dev->relay_bytes + relay_cost(len) > VSOCK_RELAY_MAX_BYTES) {
		dev->stats.relay_dropped++;
		return -VSE_ERR_RELAY_FULL;
	}
	if ((p = malloc(relay_cost(len))) == NULL)
		return -VSE_ERR_NOMEM;
	p->next = NULL;
	memcpy(p->raw, raw, VSOCK_HDR_SIZE);
	p->len = len;
	p->off = 0;
	if (len > 0)
		memcpy(p->data, payload, len);
	if (dev->relay_tail != NULL)
		dev->relay_tail->next = p;
	else
		dev->relay_head = p;
	dev->relay_tail = p;
	dev->relay_bytes += relay_cost(len);
	return 0;
}

int
vsock_device_relay_in(struct vsock_device *dev,
    const uint8_t raw[VSOCK_HDR_SIZE], const uint8_t *payload, uint32_t len,
    vsock_time_t now)
{
	struct vsock_hdr h;
	int e;

	vsock_hdr_decode(raw, &h);
	/* The router looked the CID up; a packet for another guest is a bug. */
	if (h.dst_cid != dev->cfg.guest_cid || h.len != len ||
	    len > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE)
		return -VSE_ERR_INVAL;
	if ((e = relay_enqueue(dev, raw, payload, len)) < 0)
		return e;
	dev->stats.relay_in++;
	vsock_device_run(dev, now);
	return 0;
}

/* Frees every queued packet: a reset guest must not see the old ones. */
void
device_relay_flush(struct vsock_device *dev)
{
	struct relay_pkt *p;

	while ((p = dev->relay_head) != NULL) {
		dev->relay_head = p->next;
		free(p);
	}
	dev->relay_tail = NULL;
	dev->relay_bytes = 0;
}

/*
 * The guest learns that the CID it asked for is not there: an RST as that
 * CID would send it, so the guest's connect fails at once (Linux's
 * virtio_transport_reset_no_sock() swaps the addresses the same way).
 * vhost-device-vsock drops such packets (thread_backend.rs send_pkt(),
 * "dropping packet for unknown cid"), leaving the guest to time out.
 */
static void
relay_unreachable(struct vsock_device *dev, const struct vsock_hdr *h)
{
	struct vsock_hdr r;
	uint8_t raw[VSOCK_HDR_SIZE];

	/* Never answer an RST: the reply could kill a new connection. */
	if (h->op == VIRTIO_VSOCK_OP_RST)
		return;
	memset(&r, 0, sizeof(r));
	r.src_cid = h->dst_cid;
	r.dst_cid = h->src_cid;
	r.src_port = h->dst_port;
	r.dst_port = h->src_port;
	r.type = h->type;
	r.op = VIRTIO_VSOCK_OP_RST;
	vsock_hdr_encode(&r, raw);
	if (relay_enqueue(dev, raw, NULL, 0) == 0)
		dev->stats.rst_sent++;
}

/*
 * A valid guest packet for a CID that is not the host's, with a router
 * set: hand it over whole (vhost-device-vsock's send_pkt() enqueues the
 * raw packet to the sibling found by dst_cid). The devices relay, they
 * do not terminate: header and credit fields go through unchanged.
 */
void
device_relay_out(struct vsock_device *dev, const uint8_t raw[VSOCK_HDR_SIZE],
    const struct vsock_hdr *h, const uint8_t *payload)
{
	int e;

	e = dev->route(dev->route_ctx, raw, payload, h->len, dev->now);
	if (e == 0) {
		dev->stats.relay_out++;
		return;
	}
	dev->stats.relay_refused++;
	relay_unreachable(dev, h);
}

/*
 * Writes the oldest relayed packet, or as much as the buffer holds, into
 * an RX chain; returns the used length. A packet larger than the buffer
 * goes out in parts, SEQPACKET's EOM and EOR on the last one only, as
 * Linux's vhost_transport_do_send_pkt() splits it.
 */
uint32_t
device_relay_fill(struct vsock_device *dev, const struct virtq_chain *ch)
{
	const struct virtq *vq = &dev->vq[VSOCK_QUEUE_RX];
	struct relay_pkt *p = dev->relay_head;
	uint32_t room = ch->write_len - VSOCK_HDR_SIZE, n = p->len - p->off;
	struct vsock_hdr h;
	uint32_t used = 0;

	if (n > room)
		n = room;
	if (n == 0 && p->off < p->len) {
		/* A header-only buffer cannot carry any of it: give it back. */
		dev->stats.rx_bad_buffers++;
		return 0;
	}
	vsock_hdr_decode(p->raw, &h);
	h.len = n;
	if (p->off + n < p->len)
		h.flags &= ~(uint32_t)(VIRTIO_VSOCK_SEQ_EOM |
		    VIRTIO_VSOCK_SEQ_EOR);
	if (virtq_chain_write(vq, ch, VSOCK_HDR_SIZE, p->data + p->off,
	    n) == 0)
		used = device_emit(dev, ch, &h);
	p->off += n;
	if (p->off < p->len && used > 0)
		return used;
	/* Sent whole, or the buffer was unusable: the packet is done. */
	dev->relay_head = p->next;
	if (dev->relay_head == NULL)
		dev->relay_tail = NULL;
	dev->relay_bytes -= relay_cost(p->len);
	free(p);
	return used;
}

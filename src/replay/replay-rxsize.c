/* replay-rxsize.c - the guest's RX buffer size, learned from the host's packets as they come. */
#include "config.h"

#include "replay-int.h"

void
replay_learn_rx(struct replay *rp)
{
	rp->rx_learning = rp->opt.guest_rx_buf == 0 &&
	    rp->guest->set_rx != NULL;
}

/* From now on the guest's RX buffers hold n bytes of payload. */
static void
rx_set(struct replay *rp, uint32_t n)
{
	if (rp->guest->set_rx(rp->guest_ctx, n) < 0) {
		rp->rx_learning = false;	/* keeps what it had */
		return;
	}
	rp->res.guest_rx_buf = n;
	rp->res.rx_inferred = true;
}

/*
 * Learns from host frame f, before the device is asked to produce it. A
 * device fills a guest RX buffer before it fragments a SEQPACKET message
 * (virtio 1.2 5.10.6.3), so a fragment without EOM is one buffer, unless
 * credit cut it: Linux's virtio_transport_send_pkt_info() sends at most
 * virtio_transport_get_credit() bytes, EOM only on the message's last
 * packet. vhost_transport_do_send_pkt() splits a packet at every buffer, so
 * a buffer holds at least the largest packet so far: a cut fragment smaller
 * than that was cut by credit and tells nothing, and the first fragment as
 * large as every packet before it settles the size. Until then no host
 * packet is larger than a buffer, so the buffers grow to the largest one
 * above Linux's default as it shows.
 *
 * The size is applied before the frame's action, and only buffers the
 * device has not yet taken change: what the device sent before is what it
 * would have sent with buffers of this size from the start, since no
 * packet of the trace so far was larger. A look-ahead that learned it
 * first had to hold the frames until then (megabytes, in a real session).
 */
void
rp_rx_learn(struct replay *rp, const struct vsock_pcap_frame *f)
{
	const struct vsock_hdr *h = &f->hdr;

	if (!rp->rx_learning || f->dropped || h->op != VIRTIO_VSOCK_OP_RW ||
	    h->len > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE)
		return;
	if (h->len > rp->rx_largest)
		rp->rx_largest = h->len;
	if (h->len > 0 && h->len == rp->rx_largest &&
	    h->type == VIRTIO_VSOCK_TYPE_SEQPACKET &&
	    !(h->flags & VIRTIO_VSOCK_SEQ_EOM)) {
		rx_set(rp, h->len);
		rp->rx_learning = false;
	} else if (rp->rx_largest > VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE &&
	    rp->rx_largest > rp->res.guest_rx_buf) {
		rx_set(rp, rp->rx_largest);
	}
}

/* credit.h - virtio-vsock credit flow control (virtio 1.2, 5.10.6.3 "Buffer Space Management"). */
#ifndef VSE_CREDIT_H
#define VSE_CREDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "credit-policy.h"

/*
 * Both directions of one connection's credit. All counters are free-running
 * u32s that wrap at 2^32 (the spec's fwd_cnt and buf_alloc are le32); every
 * difference below is taken modulo 2^32 first.
 */
struct vsock_credit {
	/* Our receive side: guest -> host. */
	uint32_t buf_alloc;	/* bytes we advertise */
	uint32_t rx_cnt;	/* payload bytes received from the guest */
	uint32_t fwd_cnt;	/* of those, delivered to the host application */
	uint32_t last_fwd_cnt;	/* fwd_cnt as last sent to the guest */
	uint32_t last_buf_alloc;/* buf_alloc as last sent to the guest */
	uint32_t rx_limit;	/* the largest buf_alloc we advertised (the
				 * device's: an application only shrinks it
				 * below): a guest may still send against it */
	/* The guest's receive side: host -> guest. */
	uint32_t peer_buf_alloc;
	uint32_t peer_fwd_cnt;
	uint32_t tx_cnt;	/* payload bytes sent to the guest */
};


/* Firecracker's CONN_CREDIT_UPDATE_THRESHOLD: buffer size less 4 KiB. */
#define VSOCK_CREDIT_FC_SLACK		4096
/*
 * Linux 6.1 (6.1.192, virtio_transport_stream_do_dequeue) sends an update
 * once free space drops below one packet, or the queue empties.
 */
#define VSOCK_CREDIT_LINUX_LOW_SPACE	(64 * 1024)

/* Guest bytes we hold that the host application has not taken. */
static inline uint32_t
credit_rx_queued(const struct vsock_credit *cr)
{
	return cr->rx_cnt - cr->fwd_cnt;
}

/*
 * Does a guest RW of len bytes fit in what we advertised? A conforming guest
 * computes its credit from our last reported fwd_cnt, which is never ahead of
 * ours, so it can never fail this; one that does overruns (RST). Against the
 * largest buf_alloc we advertised (rx_limit): after the host application
 * shrank it (vsock_device_host_set_buf_alloc), a guest's packets in flight
 * were sent against the old one. Linux 6.1 drops such a packet without a
 * word (virtio_transport_recv_enqueue(): virtio_transport_inc_rx_pkt()
 * false); we keep it, and memory stays bounded by what we once promised.
 */
bool credit_rx_fits(const struct vsock_credit *cr, uint32_t len);

/*
 * Bytes we may send to the guest now:
 * min(peer_buf_alloc, cap) - (tx_cnt - peer_fwd_cnt). Computed in signed
 * 64-bit so that a guest shrinking buf_alloc below the bytes in flight (or
 * reporting a fwd_cnt ahead of tx_cnt) gives 0, never a huge value (Linux
 * 60316d7f10b1). cap bounds the bytes in flight, not each grant: Linux's
 * virtio_transport_tx_buf_alloc() ("vsock/virtio: cap TX credit to local
 * buffer size", 2026) passes its own buf_alloc so that a guest advertising
 * 4 GiB and never reading cannot pull more than that; UINT32_MAX is no cap
 * (Linux 6.1, Firecracker's peer_avail_credit()).
 *
 * Inline: the device asks twice per guest packet (issue 16's instruction
 * count).
 */
static inline uint32_t
credit_peer_avail(const struct vsock_credit *cr, uint32_t cap)
{
	int64_t in_flight = (uint32_t)(cr->tx_cnt - cr->peer_fwd_cnt);
	uint32_t window = cr->peer_buf_alloc < cap ? cr->peer_buf_alloc : cap;
	int64_t avail = (int64_t)window - in_flight;

	return avail <= 0 ? 0 : (uint32_t)avail;
}

/* Credit the guest believes it has, from what we last told it. */
uint32_t credit_guest_view(const struct vsock_credit *cr);

/* Records the guest's buf_alloc and fwd_cnt from any packet it sent. */
void credit_peer_update(struct vsock_credit *cr, uint32_t buf_alloc,
    uint32_t fwd_cnt);

/* Records that our buf_alloc and fwd_cnt went out in a packet. */
void credit_reported(struct vsock_credit *cr);

/*
 * After the host application took bytes: must a CREDIT_UPDATE go out now
 * under this policy? Also true, except for Linux's, when the guest's view
 * of its credit is 0 and we have freed space: it may be blocked, and
 * nothing else would tell it (Linux tells it only at low space or an empty
 * queue, which the application's reads reach).
 */
bool credit_update_due(const struct vsock_credit *cr,
    enum vsock_credit_policy policy);

#endif

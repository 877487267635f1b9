/* guest-credit.c - the guest stack's virtio-vsock credit arithmetic (virtio 1.2 5.10.6.3, Linux virtio_transport_common.c). */
#include "config.h"

#include "guest-credit.h"
#include "vsock-proto.h"

/* Peer credit in signed 64-bit so that a shrunken peer buffer yields 0. */
uint32_t
fg_credit_peer(uint32_t peer_buf_alloc, uint32_t tx_cnt, uint32_t peer_fwd_cnt)
{
	/* 5.10.6.3: tx_cnt and fwd_cnt are free-running; differ in u32. */
	uint32_t in_flight = tx_cnt - peer_fwd_cnt;
	int64_t credit = (int64_t)peer_buf_alloc - (int64_t)in_flight;

	return credit > 0 ? (uint32_t)credit : 0;
}

/* The Linux >= 6.8 CREDIT_UPDATE rule after the application read. */
bool
fg_credit_update_needed(uint32_t buf_alloc, uint32_t fwd_cnt,
    uint32_t last_fwd_cnt, uint32_t rx_bytes, uint32_t rcvlowat)
{
	uint32_t delta = fwd_cnt - last_fwd_cnt;
	/*
	 * Linux keeps free_space in u32, which wraps to a huge value when
	 * buf_alloc was shrunk below the unreported delta; we compute it
	 * signed so that case counts as "no space" and the peer hears of it.
	 */
	int64_t free_space = (int64_t)buf_alloc - (int64_t)delta;

	if (delta == 0)
		return false;
	return free_space < VIRTIO_VSOCK_MAX_PKT_BUF_SIZE || rx_bytes < rcvlowat;
}

/* Linux drops (does not reset on) an RW that does not fit the buffer. */
bool
fg_credit_overrun(uint32_t buf_alloc, uint32_t rx_bytes, uint32_t len)
{
	return (uint64_t)rx_bytes + len > buf_alloc;
}

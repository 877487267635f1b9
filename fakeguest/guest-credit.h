/* guest-credit.h - virtio-vsock credit arithmetic of the guest stack, as Linux computes it. */
#ifndef FG_GUEST_CREDIT_H
#define FG_GUEST_CREDIT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Bytes we may still send: peer_buf_alloc - (tx_cnt - peer_fwd_cnt).
 * The in-flight count is a u32 difference, so it survives tx_cnt wrapping
 * past 2^32; a peer that shrank its buffer below what is in flight gets 0.
 */
uint32_t fg_credit_peer(uint32_t peer_buf_alloc, uint32_t tx_cnt,
    uint32_t peer_fwd_cnt);

/*
 * Linux >= 6.8 (virtio_transport_stream_do_dequeue): after a read, send a
 * CREDIT_UPDATE when fwd_cnt moved since it was last reported and either
 * the free space the peer knows of is below one maximal packet (64 KiB) or
 * fewer than rcvlowat bytes are left queued.
 */
bool fg_credit_update_needed(uint32_t buf_alloc, uint32_t fwd_cnt,
    uint32_t last_fwd_cnt, uint32_t rx_bytes, uint32_t rcvlowat);

/*
 * Does a packet of len bytes overrun what we advertised? Linux's
 * virtio_transport_inc_rx_pkt: queued + len must fit in buf_alloc.
 */
bool fg_credit_overrun(uint32_t buf_alloc, uint32_t rx_bytes, uint32_t len);

#endif

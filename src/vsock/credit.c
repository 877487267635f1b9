/* credit.c - credit arithmetic and update policies, wrap-safe at 2^32. */
#include "config.h"

#include "credit.h"

bool
credit_rx_fits(const struct vsock_credit *cr, uint32_t len)
{
	/* 64-bit sum: queued + len cannot wrap here. */
	return (uint64_t)credit_rx_queued(cr) + len <= cr->rx_limit;
}

uint32_t
credit_guest_view(const struct vsock_credit *cr)
{
	int64_t unreported = (uint32_t)(cr->rx_cnt - cr->last_fwd_cnt);
	int64_t view = (int64_t)cr->last_buf_alloc - unreported;

	return view <= 0 ? 0 : (uint32_t)view;
}

void
credit_peer_update(struct vsock_credit *cr, uint32_t buf_alloc,
    uint32_t fwd_cnt)
{
	cr->peer_buf_alloc = buf_alloc;
	cr->peer_fwd_cnt = fwd_cnt;
}

void
credit_reported(struct vsock_credit *cr)
{
	cr->last_fwd_cnt = cr->fwd_cnt;
	cr->last_buf_alloc = cr->buf_alloc;
}

bool
credit_update_due(const struct vsock_credit *cr,
    enum vsock_credit_policy policy)
{
	uint32_t delta = cr->fwd_cnt - cr->last_fwd_cnt;

	if (delta == 0)
		return cr->buf_alloc != cr->last_buf_alloc;
	/*
	 * Not Linux's rule: virtio_transport_stream_do_dequeue() leaves a
	 * blocked guest waiting for low space or an empty queue.
	 */
	if (policy != VSOCK_CREDIT_LINUX && credit_guest_view(cr) == 0)
		return true;
	switch (policy) {
	case VSOCK_CREDIT_FIRECRACKER:
		return cr->buf_alloc > VSOCK_CREDIT_FC_SLACK &&
		    delta > cr->buf_alloc - VSOCK_CREDIT_FC_SLACK;
	case VSOCK_CREDIT_LINUX:
		/* free_space as Linux computes it: buf_alloc - fwd_cnt_delta. */
		return (int64_t)cr->buf_alloc - delta <
		    VSOCK_CREDIT_LINUX_LOW_SPACE || credit_rx_queued(cr) == 0;
	}
	return false;
}

/* device-info.c - read-only introspection of a device, so no code outside the device needs its private structures. */
#include "config.h"

#include "device-info.h"
#include "device-int.h"

/* The public name of an internal state; a new state fails to compile here. */
static enum vsock_conn_state
public_state(enum conn_state s)
{
	switch (s) {
	case CONN_GUEST_CONNECTING:
		return VSOCK_CONN_GUEST_CONNECTING;
	case CONN_HOST_CONNECTING:
		return VSOCK_CONN_HOST_CONNECTING;
	case CONN_ESTABLISHED:
		return VSOCK_CONN_ESTABLISHED;
	case CONN_CLOSING:
		return VSOCK_CONN_CLOSING;
	case CONN_KILLED:
		return VSOCK_CONN_KILLED;
	}
	return VSOCK_CONN_KILLED;	/* not reached: c->state is one of them */
}

void
vsock_conn_get_info(const struct vsock_conn *c, struct vsock_conn_info *out)
{
	out->local_port = c->local_port;
	out->peer_port = c->peer_port;
	out->type = c->type;
	out->state = public_state((enum conn_state)c->state);
	out->peer_shut = c->peer_shut;
	out->local_shut = c->local_shut;
	out->g2h_held = c->tx.len;
	out->g2h_unforwarded = credit_rx_queued(&c->cr);
	out->buf_alloc = c->cr.buf_alloc;
	out->peer_buf_alloc = c->cr.peer_buf_alloc;
}

void
vsock_device_get_info(const struct vsock_device *dev,
    struct vsock_device_info *out)
{
	out->nconns = dev->tab.count;
	out->max_conns = dev->cfg.max_conns;
	out->orphan_rsts = dev->norphans;
	out->orphan_max = dev->cfg.orphan_max;
	out->buf_alloc = dev->cfg.buf_alloc;
	/* The slots by pair (key and pointer) and the buckets by port. */
	out->conn_state_bytes = (uint64_t)dev->tab.count *
	    sizeof(struct vsock_conn) +
	    (uint64_t)dev->tab.nslots * sizeof(struct conntab_slot) +
	    (uint64_t)dev->tab.nport * sizeof(struct vsock_conn *);
}

int
vsock_device_foreach_conn(const struct vsock_device *dev,
    int (*fn)(void *ctx, const struct vsock_conn *c), void *ctx)
{
	const struct vsock_conn *c;
	uint32_t i;
	int r;

	for (i = 0; i < dev->tab.nslots; i++)
		if ((c = dev->tab.slot[i].c) != NULL && (r = fn(ctx, c)) != 0)
			return r;
	return 0;
}

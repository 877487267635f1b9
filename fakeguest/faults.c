/* faults.c - faults the simulated guest commits on request: refused or held connects, resets, no RX buffers (serve --control). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "vsock-int.h"

#define NS_PER_MS	UINT64_C(1000000)

/* The entry for port, or NULL. */
static struct fg_fault_entry *
find(struct fg_vsock *vs, uint32_t port)
{
	unsigned i;

	for (i = 0; i < FG_FAULT_PORTS_MAX; i++)
		if (vs->faults[i].fault != FG_FAULT_NONE &&
		    vs->faults[i].port == port)
			return &vs->faults[i];
	return NULL;
}

int
fg_fault_set_port(struct fg_vsock *vs, uint32_t port,
    enum fg_port_fault fault, uint64_t delay_ms)
{
	struct fg_fault_entry *e = find(vs, port);
	unsigned i;

	if (fault > FG_FAULT_DELAY || delay_ms > FG_FAULT_DELAY_MAX_MS)
		return -EINVAL;
	if (fault == FG_FAULT_NONE) {
		if (e != NULL)
			memset(e, 0, sizeof(*e));
		return 0;
	}
	for (i = 0; e == NULL && i < FG_FAULT_PORTS_MAX; i++)
		if (vs->faults[i].fault == FG_FAULT_NONE)
			e = &vs->faults[i];
	if (e == NULL)
		return -ENOSPC;
	e->port = port;
	e->fault = fault;
	e->delay_ns = fault == FG_FAULT_DELAY ? delay_ms * NS_PER_MS : 0;
	return 0;
}

enum fg_port_fault
fg_fault_port(const struct fg_vsock *vs, uint32_t port)
{
	struct fg_fault_entry *e = find((struct fg_vsock *)vs, port);

	return e != NULL ? e->fault : FG_FAULT_NONE;
}

/* Does a REQUEST to the listener on port get RST instead of RESPONSE? */
bool
fg_fault_refuses(const struct fg_vsock *vs, uint32_t port)
{
	return fg_fault_port(vs, port) == FG_FAULT_REFUSE;
}

/*
 * A child just made for a REQUEST: holds its RESPONSE (and its place in
 * the accept queue: it cannot be accepted before it is connected) until
 * the delay passes on the injected clock. Returns true when held.
 */
bool
fg_fault_hold(struct fg_vsock *vs, struct fg_sock *child)
{
	struct fg_fault_entry *e = find(vs, child->local_port);

	if (e == NULL || e->fault != FG_FAULT_DELAY)
		return false;
	child->held = true;
	fg_sock_arm(vs, child, vs->now + e->delay_ns);
	return true;
}

/*
 * The hold is over: RESPONSE, and the child may be accepted. A child the
 * host gave up on meanwhile (its RST: done) or a transport reset ended
 * (closed) goes without a packet, as it never answered.
 */
void
fg_fault_release_held(struct fg_vsock *vs, struct fg_sock *s)
{
	s->held = false;
	s->deadline = FG_TIME_NEVER;
	if (s->done || s->state != FG_SS_CONNECTED) {
		fg_sock_free(vs, s);
		return;
	}
	fg_sock_send_ctl(vs, s, VIRTIO_VSOCK_OP_RESPONSE, 0);
}

/* Is s an established connection the reset covers? */
static bool
reset_covers(const struct fg_sock *s, uint32_t port, bool all)
{
	if (!s->used || !s->listed || s->held || s->done ||
	    (s->state != FG_SS_CONNECTED && s->state != FG_SS_CLOSING))
		return false;
	return all || s->local_port == port || s->peer_port == port;
}

unsigned
fg_fault_reset(struct fg_vsock *vs, uint32_t port, bool all)
{
	struct fg_sock *s;
	unsigned i, n = 0;

	for (i = 0; i < vs->nsock; i++) {
		s = &vs->sock[i];
		if (!reset_covers(s, port, all))
			continue;
		/* virtio_transport_reset(vsk, NULL): RST for the pair. */
		fg_sock_send_ctl(vs, s, VIRTIO_VSOCK_OP_RST, 0);
		s->err = ECONNRESET;
		s->listed = false;
		if (s->released) {
			fg_sock_free(vs, s);
		} else {
			/* virtio_transport_do_close: done, TCP_CLOSE. */
			s->done = true;
			s->state = FG_SS_CLOSED;
			s->deadline = FG_TIME_NEVER;
		}
		n++;
	}
	return n;
}

void
fg_fault_pause_rx(struct fg_vsock *vs, bool paused)
{
	vs->rx_paused = paused;
	if (!paused && fg_inbuf_fill(&vs->rx) > 0 &&
	    fg_ring_kick_needed(&vs->ring[VSOCK_QUEUE_RX]) &&
	    vs->cfg.kick != NULL)
		vs->cfg.kick(vs->cfg.kick_ctx, VSOCK_QUEUE_RX);
}

bool
fg_fault_rx_paused(const struct fg_vsock *vs)
{
	return vs->rx_paused;
}

uint32_t
fg_fault_rx_posted(const struct fg_vsock *vs)
{
	return vs->rx.posted;
}

/* replay-live-play.c - replay --guest: the trace's host frames played one at a time as the scripted host application's actions. */
#include "config.h"

#include <errno.h>

#include "backend-script.h"
#include "live-trace-int.h"

uint32_t
live_listen_port(const struct live_trace *lt, uint64_t i)
{
	const struct live_frame *lf = &lt->f[i];

	/* Where the trace's guest refused, the program must not listen. */
	if (lt->side != LIVE_PROG_GUEST || !lf->fed ||
	    lf->hdr.op != VIRTIO_VSOCK_OP_REQUEST ||
	    !lt->c[lf->conn].prog_accepted)
		return 0;
	return lt->c[lf->conn].guest_port;
}

/*
 * A host SHUTDOWN as the application's call: Linux sends one per
 * shutdown() with that call's flags (vsock_shutdown) and RCV|SEND when it
 * closes (virtio_transport_close), so RCV|SEND is a close, SEND a
 * shutdown(SHUT_WR), RCV a shutdown(SHUT_RD).
 */
static void
play_shutdown(struct script_backend *sb, struct script_conn *sc,
    uint32_t flags, uint64_t now)
{
	if ((flags & VIRTIO_VSOCK_SHUTDOWN_MASK) == VIRTIO_VSOCK_SHUTDOWN_MASK)
		script_close(sb, sc, false, now);
	else if (flags & VIRTIO_VSOCK_SHUTDOWN_SEND)
		script_shutdown_write(sb, sc, now);
	else if (flags & VIRTIO_VSOCK_SHUTDOWN_RCV)
		script_shutdown_read(sb, sc, now);
}

/*
 * An RST from the host: a refusal while the guest's REQUEST waits
 * (ECONNREFUSED, as the device reports a host connect that failed), else
 * the application's abort. The RST a device sends by itself (after the
 * guest's full SHUTDOWN, for a packet with no connection) finds the
 * connection already ended and does nothing.
 */
static void
play_reset(struct script_backend *sb, struct script_conn *sc, uint64_t now)
{
	if (!sc->established && !sc->host_initiated)
		script_complete(sb, sc, -ECONNREFUSED, now);
	else
		script_close(sb, sc, true, now);
}

int
live_play_host(struct live_trace *lt, uint64_t i, struct script_backend *sb,
    uint64_t now)
{
	const struct live_frame *lf = &lt->f[i];
	struct live_conn *c = &lt->c[lf->conn];
	const struct vsock_hdr *h = &lf->hdr;
	struct script_conn *sc;
	int e;

	lt->last_fed = i;
	if (h->op == VIRTIO_VSOCK_OP_REQUEST) {
		/* The host connects; the device picks its local port. */
		if ((e = script_connect(sb, c->guest_port, h->type, now,
		    &sc)) < 0)
			return e;
		c->dev_hport = sc->host_port;
		live_conn_start(lt, c);
		return 0;
	}
	/* Not made by the program (compared already), or ended by the device. */
	if (!c->started || (sc = script_find(sb, c->dev_hport,
	    c->dev_gport)) == NULL || sc->conn == NULL)
		return 0;
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (!sc->established)
			script_complete(sb, sc, 0, now);
		break;
	case VIRTIO_VSOCK_OP_RST:
		play_reset(sb, sc, now);
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		play_shutdown(sb, sc, h->flags, now);
		break;
	case VIRTIO_VSOCK_OP_RW:
		if (lf->msg_part || (lf->len == 0 &&
		    h->type != VIRTIO_VSOCK_TYPE_SEQPACKET))
			break;
		return script_send(sb, sc, lt->fpay + lf->payload, lf->len,
		    h->type == VIRTIO_VSOCK_TYPE_SEQPACKET ? h->flags &
		    (VIRTIO_VSOCK_SEQ_EOM | VIRTIO_VSOCK_SEQ_EOR) : 0, now);
	}
	return 0;
}

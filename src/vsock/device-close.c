/* device-close.c - how connections end, per profile: Linux 6.1's and Firecracker's close and reset rules. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "device-int.h"

/*
 * doc/connection-states.md has these rules as a table, one row per (state,
 * event), each with the function it comes from: Linux 6.1's
 * net/vmw_vsock/virtio_transport_common.c and af_vsock.c (the host socket
 * of a vhost-vsock guest), Firecracker's csm/connection.rs and
 * unix/muxer.rs. tests/check_states.c checks the table row by row.
 */

/* Does the device follow Linux's rules (else Firecracker's)? */
static bool
linux_rules(const struct vsock_device *dev)
{
	return dev->rules.close_rules == VSOCK_CLOSE_LINUX;
}

/*
 * Guest bytes the host application has not read: received (rx_cnt) but not
 * forwarded (fwd_cnt). Linux's vsock_stream_has_data(), which counts the
 * bytes queued on the socket (virtio_transport_inc_rx_pkt adds them,
 * virtio_transport_dec_rx_pkt moves them to fwd_cnt as they are read).
 */
bool
device_has_unread(const struct vsock_conn *c)
{
	return credit_rx_queued(&c->cr) != 0 || c->credited_unread;
}

/* Will the host application read nothing more (shut down reading, closed)? */
bool
device_host_reads_no_more(const struct vsock_conn *c)
{
	return (c->local_shut & VIRTIO_VSOCK_SHUTDOWN_RCV) || c->host_closing;
}

/*
 * Owes the guest a SHUTDOWN with flags. Linux sends one packet per
 * shutdown() with that call's flags (vsock_shutdown ->
 * virtio_transport_shutdown); two owed while the guest posts no RX buffer
 * leave as one, their flags ORed.
 */
static void
owe_shutdown(struct vsock_device *dev, struct vsock_conn *c, uint8_t flags)
{
	c->local_shut |= flags;
	c->shut_owed |= flags;
	c->pending |= PEND_SHUTDOWN;
	device_schedule(dev, c);
}

/*
 * The application is gone and its last SHUTDOWN is out: wait for the
 * guest's RST, not forever (Linux: virtio_transport_close schedules
 * virtio_transport_close_timeout after VSOCK_CLOSE_TIMEOUT, 8 s;
 * Firecracker: LocalClosed arms CONN_SHUTDOWN_TIMEOUT_MS, 2 s).
 */
static void
enter_closing(struct vsock_device *dev, struct vsock_conn *c)
{
	c->state = CONN_CLOSING;
	device_release_backend(dev, c, VSOCK_RELEASE_CLOSED);
	/* Armed at the application's close already: it runs from there. */
	if (c->timer != TIMER_CLOSE)
		device_set_timer(dev, c, TIMER_CLOSE);
}

/*
 * The application closed and its stream is read to the end: SHUTDOWN
 * (RCV|SEND), even after its own SHUTDOWN(SEND), unless it had shut down
 * both ways itself (virtio_transport_close: "if ((sk->sk_shutdown &
 * SHUTDOWN_MASK) != SHUTDOWN_MASK) virtio_transport_shutdown(vsk,
 * SHUTDOWN_MASK)"; Firecracker's recv_pkt: a 0-length read sends
 * SHUTDOWN(RCV|SEND)).
 */
static void
finish_close(struct vsock_device *dev, struct vsock_conn *c)
{
	if (c->local_shut != VIRTIO_VSOCK_SHUTDOWN_MASK)
		owe_shutdown(dev, c, VIRTIO_VSOCK_SHUTDOWN_MASK);
	if (c->pending & PEND_SHUTDOWN)
		c->close_owed = true;
	else
		enter_closing(dev, c);
}

/* The application's stream ended (a read returned 0): half-close or close. */
void
device_host_eof(struct vsock_device *dev, struct vsock_conn *c)
{
	c->host_eof = true;
	c->host_readable = false;
	if (c->host_closing && c->host_close_reset && !linux_rules(dev))
		device_kill(dev, c, VSOCK_RELEASE_RESET);
	else if (c->host_closing)
		finish_close(dev, c);
	else	/* shutdown(SHUT_WR): vsock_shutdown, SEND_SHUTDOWN */
		owe_shutdown(dev, c, VIRTIO_VSOCK_SHUTDOWN_SEND);
}

/* The application shut down reading (Linux: vsock_shutdown, RCV_SHUTDOWN). */
static void
host_shut_rd(struct vsock_device *dev, struct vsock_conn *c)
{
	if (c->local_shut & VIRTIO_VSOCK_SHUTDOWN_RCV)
		return;
	/* Bytes it will never read stay unread: fwd_cnt does not move. */
	device_discard_tx(dev, c, false);
	owe_shutdown(dev, c, VIRTIO_VSOCK_SHUTDOWN_RCV);
}

/* The application closed (Linux: __vsock_release -> virtio_transport_close). */
static void
host_close(struct vsock_device *dev, struct vsock_conn *c)
{
	/* Linux: "Already received SHUTDOWN from peer, reply with RST". */
	if (c->peer_shut == VIRTIO_VSOCK_SHUTDOWN_MASK) {
		device_kill(dev, c, VSOCK_RELEASE_CLOSED);
		return;
	}
	/*
	 * Firecracker with guest bytes still to flush: the close wakes it
	 * for writing too, the flush to the closed stream fails and kills
	 * before the EOF is read (notify: EPOLLOUT -> flush_to -> kill).
	 */
	if (!linux_rules(dev) && !txbuf_empty(&c->tx)) {
		device_kill(dev, c, VSOCK_RELEASE_RESET);
		return;
	}
	if (c->host_closing)
		return;
	c->host_closing = true;
	/*
	 * Not forever: the close timer runs from the close (Linux schedules
	 * close_work in virtio_transport_close), also while the guest has
	 * yet to make room for the application's last bytes.
	 */
	device_set_timer(dev, c, TIMER_CLOSE);
	/*
	 * Linux closes at once when nothing it wrote can reach the guest any
	 * more. Firecracker stops polling a stream the guest will not read
	 * from (get_polled_evset: PeerClosed(true, _)) and never sees this
	 * close: the guest's SHUTDOWN(SEND) ends it (RST).
	 */
	if (c->host_eof || (linux_rules(dev) &&
	    (c->peer_shut & VIRTIO_VSOCK_SHUTDOWN_RCV))) {
		/* Unread data does not turn the close into an RST (unlike TCP). */
		device_discard_tx(dev, c, false);
		finish_close(dev, c);
		return;
	}
	/* What the application wrote before closing still goes out. */
	device_discard_tx(dev, c, false);
	c->host_readable = true;
	if (device_peer_credit(dev, c) == 0)
		device_close_stalled(dev, c);
	device_schedule(dev, c);
}

/*
 * A close still owes the guest the application's last bytes (which Linux
 * never does: its writes block until the guest has room, and its
 * SHUTDOWN(RCV|SEND) leaves at the close) and the guest has no room for
 * them. A guest application blocked sending to us may be what keeps it
 * from reading: the guest bytes the closed application left unread are
 * credited back (fwd_cnt, maybe an update) so it can go on, and still
 * count as unread for the RST rules. Only then: a close that does not wait
 * keeps Linux's fwd_cnt on the wire.
 */
void
device_close_stalled(struct vsock_device *dev, struct vsock_conn *c)
{
	uint32_t unread = credit_rx_queued(&c->cr);

	if (c->state != CONN_ESTABLISHED || !c->host_closing ||
	    c->host_eof || unread == 0)
		return;
	c->credited_unread = true;
	device_delivered(dev, c, unread);
	device_schedule(dev, c);
}

/* What the application did to its end, by state and profile. */
void
device_host_event(struct vsock_device *dev, struct vsock_conn *c,
    enum vsock_host_event ev)
{
	if (c->backend_gone || c->state == CONN_KILLED)
		return;
	if (ev == VSOCK_HOST_ABORT) {
		device_kill(dev, c, VSOCK_RELEASE_RESET);
		return;
	}
	if (c->state == CONN_HOST_CONNECTING && ev != VSOCK_HOST_SHUT_RD &&
	    linux_rules(dev) && !(c->pending & PEND_REQUEST)) {
		/*
		 * virtio_transport_close() sends nothing for a socket that is
		 * not established; the guest's RESPONSE then finds no socket
		 * and gets RST (virtio_transport_recv_pkt).
		 */
		DEVICE_EVENT(dev, c, VSOCK_EVENT_RESET, VSOCK_WHO_HOST,
		    VSOCK_WHY_CLOSED, 0);
		device_release_backend(dev, c, VSOCK_RELEASE_CLOSED);
		device_destroy_conn(dev, c);
		return;
	}
	if (c->state != CONN_ESTABLISHED) {
		/* Nothing to stop reading yet; a close ends it (RST). */
		if (ev != VSOCK_HOST_SHUT_RD)
			device_kill(dev, c, VSOCK_RELEASE_RESET);
		return;
	}
	if (!linux_rules(dev) && ev == VSOCK_HOST_CLOSE_UNREAD && !c->host_eof) {
		/*
		 * Firecracker reads the stream until a read fails (recv_pkt:
		 * AF_UNIX returns the bytes queued before the ECONNRESET,
		 * unix_stream_read_generic), and that error kills: the
		 * application's last bytes go out first, then RST. A close
		 * it cannot see, or one with guest bytes to flush, is
		 * host_close's, as for a clean close.
		 */
		c->host_close_reset = true;
		host_close(dev, c);
		return;
	}
	if (!linux_rules(dev) && ev != VSOCK_HOST_CLOSE) {
		/* Firecracker: a failed write or read kills (send_pkt, recv_pkt). */
		device_kill(dev, c, VSOCK_RELEASE_RESET);
		return;
	}
	if (ev == VSOCK_HOST_SHUT_RD)
		host_shut_rd(dev, c);
	else
		host_close(dev, c);
}

/*
 * A backend call on c failed with err: -EPIPE on a write is the
 * application's shutdown(SHUT_RD), -ECONNRESET its close (on a read also
 * the end of its stream), anything else a failure (RST).
 */
void
device_host_error(struct vsock_device *dev, struct vsock_conn *c,
    ssize_t err, bool reading)
{
	if (err == -EPIPE && !reading) {
		device_host_event(dev, c, VSOCK_HOST_SHUT_RD);
	} else if (err == -ECONNRESET && !reading && !linux_rules(dev)) {
		/*
		 * Firecracker writes guest bytes to the closed stream, and
		 * the failed write kills (send_pkt -> send_bytes), whatever
		 * the application left to read.
		 */
		device_host_event(dev, c, VSOCK_HOST_ABORT);
	} else if (err == -ECONNRESET) {
		device_host_event(dev, c, VSOCK_HOST_CLOSE_UNREAD);
		/* A read that reports the close has reached the end of the stream. */
		if (reading && c->state == CONN_ESTABLISHED && !c->host_eof)
			device_host_eof(dev, c);
	} else {
		device_kill(dev, c, VSOCK_RELEASE_RESET);
	}
}

/* Passes the guest's SHUT_WR on once every byte it sent is written. */
void
device_shut_host_write(struct vsock_device *dev, struct vsock_conn *c)
{
	if ((c->peer_shut & VIRTIO_VSOCK_SHUTDOWN_SEND) && !c->backend_gone &&
	    !c->backend_shut_wr && txbuf_empty(&c->tx)) {
		c->backend_shut_wr = true;
		dev->be->shutdown(dev->be_ctx, c, VSOCK_SHUT_WR);
	}
}

/*
 * The guest closed both ways but the host has not taken all it sent: where
 * the profile says so, that wait is bounded by the close timeout, then RST
 * (Firecracker: connection.rs send_pkt(), SHUTDOWN with tx_buf not empty,
 * CONN_SHUTDOWN_TIMEOUT_MS). Firecracker arms it only when one SHUTDOWN
 * carries both flags; two halves arm it too here, or nothing would bound
 * that wait. Linux has no such timer (virtio_transport_recv_connected()).
 */
static void
arm_peer_close_timer(struct vsock_device *dev, struct vsock_conn *c)
{
	if (dev->rules.peer_close_timer && c->state == CONN_ESTABLISHED &&
	    c->peer_shut == VIRTIO_VSOCK_SHUTDOWN_MASK &&
	    !txbuf_empty(&c->tx) && c->timer == TIMER_NONE)
		device_set_timer(dev, c, TIMER_CLOSE);
}

/* A guest SHUTDOWN on an established connection (half-closed ones too). */
void
device_guest_shutdown(struct vsock_device *dev, struct vsock_conn *c,
    uint32_t flags)
{
	uint8_t add = (uint8_t)(flags & VIRTIO_VSOCK_SHUTDOWN_MASK &
	    ~c->peer_shut);

	/* Flags accumulate and are never cleared. */
	c->peer_shut |= add;
	if (add != 0)
		DEVICE_EVENT(dev, c, VSOCK_EVENT_SHUTDOWN, VSOCK_WHO_GUEST,
		    VSOCK_WHY_NONE, add);
	if ((add & VIRTIO_VSOCK_SHUTDOWN_RCV) && !c->backend_gone) {
		device_h2g_release(dev, c);
		dev->be->shutdown(dev->be_ctx, c, VSOCK_SHUT_RD);
	}
	device_shut_host_write(dev, c);
	arm_peer_close_timer(dev, c);
	if (!linux_rules(dev)) {
		device_check_done(dev, c);
		return;
	}
	/*
	 * virtio_transport_recv_connected(), SHUTDOWN: once the peer has shut
	 * down both ways, a socket with nothing unread resets at once
	 * (virtio_transport_reset + virtio_transport_do_close); one with
	 * bytes unread waits for its application, whose close then sends
	 * the RST (virtio_transport_close). Both SHUTDOWN(SEND)s alone end
	 * nothing: the application's close does (SHUTDOWN(RCV|SEND)).
	 */
	if (c->peer_shut == VIRTIO_VSOCK_SHUTDOWN_MASK && !device_has_unread(c))
		device_kill(dev, c, VSOCK_RELEASE_CLOSED);
}

/* A guest RW (within credit) for an application that reads no more. */
void
device_rw_unread(struct vsock_device *dev, struct vsock_conn *c, uint32_t len)
{
	if (!linux_rules(dev)) {
		/*
		 * Firecracker writes it to the stream the application closed
		 * (it reads the EOF only later) and kills on the error
		 * (send_pkt -> send_bytes).
		 */
		device_kill(dev, c, VSOCK_RELEASE_RESET);
		return;
	}
	/*
	 * Linux queues it on the socket (virtio_transport_recv_enqueue),
	 * where nothing reads it: counted, never forwarded; credited back
	 * only while a close waits for the guest's room (device_close_stalled).
	 */
	c->cr.rx_cnt += len;
	c->g2h_total += len;
	dev->stats.data_discarded += len;
	if (device_peer_credit(dev, c) == 0)
		device_close_stalled(dev, c);
}

/* A guest packet on a connection whose application closed. */
void
device_closing_op(struct vsock_device *dev, struct vsock_conn *c,
    const struct vsock_hdr *h)
{
	if (h->op == VIRTIO_VSOCK_OP_RST) {
		/* Both: the connection is gone; an RST is never answered. */
		DEVICE_EVENT(dev, c, VSOCK_EVENT_RESET, VSOCK_WHO_GUEST,
		    VSOCK_WHY_PEER, 0);
		device_release_backend(dev, c, VSOCK_RELEASE_RESET);
		device_destroy_conn(dev, c);
		return;
	}
	if (!linux_rules(dev)) {
		/* Firecracker's LocalClosed takes nothing else (send_pkt, `_`). */
		dev->stats.tx_invalid_op++;
		return;
	}
	/* Linux: the released socket still runs virtio_transport_recv_connected. */
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RW:
		/* virtio_transport_recv_enqueue: beyond buf_alloc is RST. */
		if (!credit_rx_fits(&c->cr, h->len)) {
			dev->stats.rst_credit_overrun++;
			device_kill_for(dev, c, VSOCK_RELEASE_RESET,
			    VSOCK_WHY_CREDIT_OVERRUN);
			return;
		}
		device_rw_unread(dev, c, h->len);
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		if (h->flags & VIRTIO_VSOCK_SHUTDOWN_MASK & ~c->peer_shut)
			DEVICE_EVENT(dev, c, VSOCK_EVENT_SHUTDOWN,
			    VSOCK_WHO_GUEST, VSOCK_WHY_NONE, h->flags &
			    VIRTIO_VSOCK_SHUTDOWN_MASK & ~c->peer_shut);
		c->peer_shut |= (uint8_t)(h->flags &
		    VIRTIO_VSOCK_SHUTDOWN_MASK);
		/* With bytes unread: the close timeout's RST, not this one. */
		if (c->peer_shut == VIRTIO_VSOCK_SHUTDOWN_MASK &&
		    !device_has_unread(c))
			device_kill(dev, c, VSOCK_RELEASE_CLOSED);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->pending |= PEND_CREDIT_UPDATE;
		device_schedule(dev, c);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break;
	default:
		dev->stats.tx_invalid_op++;
		break;
	}
}

/* Our owed SHUTDOWN went out: a close's last one leads to CLOSING. */
void
device_shutdown_sent(struct vsock_device *dev, struct vsock_conn *c)
{
	c->pending &= (uint8_t)~PEND_SHUTDOWN;
	DEVICE_EVENT(dev, c, VSOCK_EVENT_SHUTDOWN, VSOCK_WHO_HOST,
	    VSOCK_WHY_NONE, c->shut_owed);
	c->sent_shut |= c->shut_owed;
	c->shut_owed = 0;
	if (c->close_owed && c->state == CONN_ESTABLISHED) {
		c->close_owed = false;
		enter_closing(dev, c);
		return;
	}
	device_check_done(dev, c);
}

/*
 * Firecracker: both directions done ends the connection with RST. Its
 * PeerClosed(true, true) resets once the TX buffer is flushed
 * (connection.rs notify). Firecracker has no half-close of the host side
 * (a host EOF sends SHUTDOWN(RCV|SEND)); vsockemu keeps one, so a guest
 * SHUTDOWN(SEND) after our SHUTDOWN(SEND), or the other way round, also
 * ends here. Linux never resets for this: see device_guest_shutdown.
 */
void
device_check_done(struct vsock_device *dev, struct vsock_conn *c)
{
	bool g2h, h2g;

	if (linux_rules(dev) || c->state != CONN_ESTABLISHED)
		return;
	g2h = device_host_reads_no_more(c) ||
	    ((c->peer_shut & VIRTIO_VSOCK_SHUTDOWN_SEND) &&
	    txbuf_empty(&c->tx) && c->backend_shut_wr);
	h2g = (c->sent_shut & VIRTIO_VSOCK_SHUTDOWN_SEND) ||
	    (c->peer_shut & VIRTIO_VSOCK_SHUTDOWN_RCV);
	if (g2h && h2g)
		device_kill(dev, c, VSOCK_RELEASE_CLOSED);
}

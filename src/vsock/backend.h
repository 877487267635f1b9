/* backend.h - the host side of the device: one ops table, many implementations. */
#ifndef VSE_BACKEND_H
#define VSE_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct vsock_conn;

/*
 * vsock_backend_ops.shutdown's `how`. The core includes no socket header, so
 * it names the directions itself, with the values shutdown(2) gives SHUT_RD
 * and SHUT_WR: a socket backend passes `how` on unchanged (the muxer asserts
 * the values are equal).
 */
#define VSOCK_SHUT_RD		0	/* SHUT_RD */
#define VSOCK_SHUT_WR		1	/* SHUT_WR */

/*
 * The one set of event bits: what the device asks a backend to watch for
 * (vsock_backend_ops.want: READ, WRITE), what the muxer asks of an event
 * loop, and what a loop reports back (also HUP, ERR). The values are
 * epoll-independent; the program's loop maps them.
 */
#define VSOCK_EV_READ	1u	/* tell me when the host has data or EOF */
#define VSOCK_EV_WRITE	2u	/* tell me when the host can take data */
#define VSOCK_EV_HUP	4u	/* peer closed; asked for alone: only hang-ups
				 * and errors (epoll reports them anyway) */
#define VSOCK_EV_ERR	8u	/* error on the fd (reported, never asked for) */

/*
 * Set in read()'s *flags by a STREAM read that came back short because
 * the host had no more (a short recvmsg on a stream socket): the device
 * reads again only after the next vsock_device_host_readable. It saves
 * the read that would find nothing (-EAGAIN) after every burst; tokio's
 * PollEvented::poll_read clears readiness on a short read the same way.
 * Only for a backend whose readiness is level-triggered (the muxer's
 * epoll): a wrong guess (more arrived meanwhile) then costs one more
 * report, never a stall. Never set for SEQPACKET, whose flags are the
 * message's.
 */
#define VSOCK_READ_DRAINED	(1u << 31)

/* Why a connection is released. */
enum vsock_release {
	VSOCK_RELEASE_CLOSED = 0,	/* orderly: both sides shut down */
	VSOCK_RELEASE_RESET,		/* RST, error or overrun */
	VSOCK_RELEASE_REFUSED,		/* host-initiated connect refused by guest */
	VSOCK_RELEASE_TIMEOUT,		/* a request or close timeout fired */
	VSOCK_RELEASE_DEVICE_RESET,	/* device or transport reset */
};

/*
 * What the host application did to its end of a connection, as a backend
 * reports it (vsock_device_host_event). Its half-close, shutdown(SHUT_WR),
 * is no event: read() returns 0 once the data before it is read, so the
 * end of stream keeps its place after the data.
 */
enum vsock_host_event {
	VSOCK_HOST_SHUT_RD = 0,	/* shutdown(SHUT_RD): it reads no more */
	VSOCK_HOST_CLOSE,	/* close(): what it wrote first still goes out */
	VSOCK_HOST_CLOSE_UNREAD,/* close() leaving guest data unread */
	VSOCK_HOST_ABORT,	/* the backend failed: reset the connection */
};

/*
 * What the device asks of its host side. The AF_UNIX muxer (real sockets)
 * and the scripted backend (memory) implement the same table; the device
 * never knows which it has. Every call is made from vsock_device_* entry
 * points; a backend reports host events back with vsock_device_host_*.
 * Per-connection backend state hangs off vsock_conn_set_backend_data().
 */
struct vsock_backend_ops {
	/*
	 * The guest connects to host port `port` with socket type `type`.
	 * Return 0 when connected, -EINPROGRESS to answer later through
	 * vsock_device_host_connected(), or -errno to refuse (the guest gets
	 * RST).
	 */
	int (*connect)(void *ctx, struct vsock_conn *c, uint32_t port,
	    uint16_t type);

	/*
	 * A host-initiated connection (vsock_device_host_connect) was
	 * accepted by the guest: RESPONSE arrived. Refusal and timeout come
	 * through release().
	 */
	void (*established)(void *ctx, struct vsock_conn *c);

	/*
	 * Guest data for the host application. For SEQPACKET one call
	 * carries one whole message and flags holds VIRTIO_VSOCK_SEQ_EOM /
	 * _EOR. Returns bytes taken (a STREAM may take fewer), -EAGAIN when
	 * nothing can be taken now (the device then asks for
	 * VSOCK_EV_WRITE), -EPIPE when the application shut down reading
	 * (VSOCK_HOST_SHUT_RD), -ECONNRESET when it closed
	 * (VSOCK_HOST_CLOSE_UNREAD), or another -errno, which resets the
	 * connection.
	 */
	ssize_t (*write)(void *ctx, struct vsock_conn *c,
	    const struct iovec *iov, int iovcnt, uint32_t flags);

	/*
	 * Host data for the guest, at most the iov's total. Returns bytes
	 * read (> 0), 0 at end of stream (host shut down writing), -EAGAIN
	 * when nothing is there now, -EMSGSIZE (SEQPACKET) when the next
	 * message is larger than the iov (nothing consumed), -ECONNRESET
	 * when the application closed leaving guest data unread (the stream
	 * ends there: VSOCK_HOST_CLOSE_UNREAD), or another -errno, which
	 * resets the connection. For SEQPACKET one call reads
	 * one whole message and sets *flags to its EOM / EOR bits; for a
	 * STREAM it may set VSOCK_READ_DRAINED.
	 */
	ssize_t (*read)(void *ctx, struct vsock_conn *c,
	    const struct iovec *iov, int iovcnt, uint32_t *flags);

	/*
	 * The guest shut down a direction: VSOCK_SHUT_WR once it will send
	 * no more and every byte it sent was written; VSOCK_SHUT_RD once it
	 * will receive no more.
	 */
	void (*shutdown)(void *ctx, struct vsock_conn *c, int how);

	/* Which host events the device wants reported for c (VSOCK_EV_*). */
	void (*want)(void *ctx, struct vsock_conn *c, unsigned events);

	/*
	 * The connection is gone; free the backend state. After this call
	 * c is invalid.
	 */
	void (*release)(void *ctx, struct vsock_conn *c, enum vsock_release why);

	/*
	 * write() on a STREAM may carry the payload of several RW packets of
	 * one connection (a socket's sendmsg of an iovec): the device then
	 * gathers the consecutive RW packets of a connection found in one
	 * run into one call. A backend that models what an application takes
	 * per read (the scripted one) leaves it false: one call per packet.
	 */
	bool write_gathers;

	/*
	 * Optional (NULL: unknown). The bytes a STREAM read() would give now,
	 * when the backend knows without a system call (the scripted one
	 * does). The device then pops only the RX buffers those bytes fill:
	 * without it a few bytes cost a scatter read's 64 KiB of buffers
	 * popped ahead and given back. The packets are the same either way.
	 * 0 is a fine answer: the read still reports EOF, -EAGAIN or errors.
	 */
	uint64_t (*readable)(void *ctx, struct vsock_conn *c);
};

#endif

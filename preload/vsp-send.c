/* vsp-send.c - the send calls of a vsock SEQPACKET socket: each message with its EOR byte. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

#include "seq-frame.h"
#include "vsp.h"

#define NEXT(name) \
	static __typeof__(name) *next_##name; \
	if (next_##name == NULL) \
		next_##name = (__typeof__(name) *)vsp_next(#name)

/* libc's sendmsg, past us. */
static ssize_t
real_sendmsg(int fd, const struct msghdr *m, int flags)
{
	NEXT(sendmsg);
	return next_sendmsg(fd, m, flags);
}

/*
 * sendmsg(2) of any fd. On a connected vsock SEQPACKET socket each call is
 * one message and MSG_EOR marks it VIRTIO_VSOCK_SEQ_EOR (Linux:
 * virtio_transport_seqpacket_enqueue()); the EOR byte carries the mark.
 */
ssize_t
sendmsg(int fd, const struct msghdr *m, int flags)
{
	switch (vsp_io_mode(fd)) {
	case VSP_IO_NOTCONN:
		return -1;
	case VSP_IO_FRAMED:
		return seq_frame_sendmsg(fd, m, flags, (flags & MSG_EOR) != 0,
		    real_sendmsg);
	default:
		return real_sendmsg(fd, m, flags);
	}
}

/* One buffer as one message of a framed socket. */
static ssize_t
send_framed(int fd, const void *buf, size_t len, int flags)
{
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	return sendmsg(fd, &m, flags);
}

/* sendto(2): a connected vsock socket ignores the address, as Linux does. */
ssize_t
sendto(int fd, const void *buf, size_t len, int flags,
    const struct sockaddr *sa, socklen_t salen)
{
	NEXT(sendto);
	switch (vsp_io_mode(fd)) {
	case VSP_IO_NOTCONN:
		return -1;
	case VSP_IO_FRAMED:
		return send_framed(fd, buf, len, flags);
	default:
		return next_sendto(fd, buf, len, flags, sa, salen);
	}
}

ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	return sendto(fd, buf, len, flags, NULL, 0);
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	NEXT(write);
	switch (vsp_io_mode(fd)) {
	case VSP_IO_NOTCONN:
		return -1;
	case VSP_IO_FRAMED:
		return send_framed(fd, buf, len, 0);
	default:
		return next_write(fd, buf, len);
	}
}

ssize_t
writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov };
	enum vsp_io io;

	NEXT(writev);
	if ((io = vsp_io_mode(fd)) == VSP_IO_NOTCONN)
		return -1;
	if (io == VSP_IO_PLAIN || iovcnt < 0)	/* libc refuses a negative count */
		return next_writev(fd, iov, iovcnt);
	m.msg_iovlen = (size_t)iovcnt;
	return sendmsg(fd, &m, 0);
}

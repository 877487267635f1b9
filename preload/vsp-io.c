/* vsp-io.c - receive and poll where an AF_UNIX carrier differs from Linux's AF_VSOCK. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "seq-frame.h"
#include "vsp.h"

#define NEXT(name) \
	static __typeof__(name) *next_##name; \
	if (next_##name == NULL) \
		next_##name = (__typeof__(name) *)vsp_next(#name)

/* Is fd a vsock SEQPACKET socket (whose receive needs the buffer check)? */
static bool
is_seqpacket(int fd)
{
	struct vsp_sock *s = vsp_get(fd);

	return s != NULL && s->type == SOCK_SEQPACKET;
}

/*
 * A SEQPACKET receive whose copy to the caller faults: AF_UNIX consumes
 * the message and fails with EFAULT; Linux 6.1 consumes it too but fails
 * with ENOMEM (virtio_transport_seqpacket_do_dequeue() returns the copy's
 * -EFAULT as the record length, __vsock_seqpacket_recvmsg() turns a
 * negative length into -ENOMEM; vsock_test "SOCK_SEQPACKET invalid
 * receive buffer" checks both).
 */
static ssize_t
seq_errno(int fd, ssize_t r)
{
	if (r < 0 && errno == EFAULT && is_seqpacket(fd))
		errno = ENOMEM;
	return r;
}

/* libc's recvmsg, past us. */
static ssize_t
real_recvmsg(int fd, struct msghdr *m, int flags)
{
	NEXT(recvmsg);
	return next_recvmsg(fd, m, flags);
}

/*
 * recvmsg(2) of any fd. A connected vsock SEQPACKET socket's messages
 * carry the EOR byte it opted in to (seq-frame.h): MSG_EOR comes back in
 * msg_flags as Linux's virtio_transport_seqpacket_do_dequeue() sets it,
 * MSG_TRUNC and the full length as vsock_connectible_recvmsg() gives.
 */
ssize_t
recvmsg(int fd, struct msghdr *m, int flags)
{
	struct msghdr v;
	ssize_t n;

	if (vsp_get(fd) == NULL)
		return real_recvmsg(fd, m, flags);
	/* Linux's vsock_connectible_recvmsg() names no sender: namelen 0. */
	v = *m;
	v.msg_name = NULL;
	v.msg_namelen = 0;
	if (vsp_framed(fd))
		n = seq_frame_recvmsg(fd, &v, flags, NULL, real_recvmsg);
	else
		n = real_recvmsg(fd, &v, flags);
	m->msg_namelen = 0;
	m->msg_controllen = v.msg_controllen;
	m->msg_flags = v.msg_flags;
	return seq_errno(fd, n);
}

/* recv into one buffer of a framed socket, through recvmsg(). */
static ssize_t
recv_framed(int fd, void *buf, size_t len, int flags)
{
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	return recvmsg(fd, &m, flags);
}

ssize_t
recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *sa,
    socklen_t *salen)
{
	NEXT(recvfrom);
	if (sa != NULL && vsp_get(fd) != NULL) {
		struct vsp_sock *s = vsp_get(fd);

		if (s->state == VSP_CONNECTED && salen != NULL) {
			memcpy(sa, &s->peer, *salen < sizeof(s->peer) ?
			    *salen : sizeof(s->peer));
			*salen = sizeof(s->peer);
		}
		sa = NULL;	/* the carrier's AF_UNIX address means nothing */
		salen = NULL;
	}
	if (vsp_framed(fd))
		return recv_framed(fd, buf, len, flags);
	return seq_errno(fd, next_recvfrom(fd, buf, len, flags, sa, salen));
}

ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	return recvfrom(fd, buf, len, flags, NULL, NULL);
}

ssize_t
read(int fd, void *buf, size_t len)
{
	NEXT(read);
	if (vsp_framed(fd))
		return recv_framed(fd, buf, len, 0);
	return seq_errno(fd, next_read(fd, buf, len));
}

ssize_t
readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov };

	NEXT(readv);
	if (!vsp_framed(fd) || iovcnt < 0)
		return seq_errno(fd, next_readv(fd, iov, iovcnt));
	m.msg_iovlen = (size_t)iovcnt;
	return recvmsg(fd, &m, 0);
}

/* _FORTIFY_SOURCE's read and recv: checked here as glibc does, then ours. */
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);

ssize_t
__read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	NEXT(__read_chk);
	if (len > buflen || !vsp_framed(fd))
		return seq_errno(fd, next___read_chk(fd, buf, len, buflen));
	return recv_framed(fd, buf, len, 0);
}

ssize_t
__recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	NEXT(__recv_chk);
	if (len > buflen || !vsp_framed(fd))
		return seq_errno(fd, next___recv_chk(fd, buf, len, buflen,
		    flags));
	return recv_framed(fd, buf, len, flags);
}

/* Bytes waiting on a stream carrier. */
static int
queued(int fd)
{
	int n = 0;

	if (ioctl(fd, FIONREAD, &n) < 0)
		return -1;
	return n;
}

/*
 * Linux: vsock_poll() reports POLLIN only once SO_RCVLOWAT bytes wait
 * (vsock_stream_has_data() >= target), unless the peer shut down or an
 * error is pending. AF_UNIX ignores the low-water mark in poll, so the
 * readiness is narrowed here. Returns how many fds stay ready.
 */
static int
apply_rcvlowat(struct pollfd *fds, nfds_t n, bool *narrowed)
{
	int ready = 0;
	nfds_t i;

	for (i = 0; i < n; i++) {
		struct vsp_sock *s = vsp_get(fds[i].fd);

		if (s != NULL && s->type == SOCK_STREAM && s->rcvlowat > 1 &&
		    s->state == VSP_CONNECTED &&
		    (fds[i].revents & (POLLIN | POLLRDNORM)) &&
		    !(fds[i].revents & (POLLHUP | POLLRDHUP | POLLERR)) &&
		    queued(fds[i].fd) < s->rcvlowat) {
			fds[i].revents &= (short)~(POLLIN | POLLRDNORM);
			*narrowed = true;
		}
		if (fds[i].revents)
			ready++;
	}
	return ready;
}

/* Does any fd polled have a low-water mark to honour? */
static bool
any_rcvlowat(const struct pollfd *fds, nfds_t n)
{
	nfds_t i;

	for (i = 0; i < n; i++) {
		struct vsp_sock *s = vsp_get(fds[i].fd);

		if (s != NULL && s->type == SOCK_STREAM && s->rcvlowat > 1)
			return true;
	}
	return false;
}

/* Monotonic milliseconds. */
static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * poll(2) with SO_RCVLOWAT honoured. While data below the mark is all
 * there is, the carrier stays readable, so it is polled again in 5 ms
 * slices until more arrives or the timeout passes.
 */
int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	long long deadline = timeout < 0 ? -1 : mono_ms() + timeout;
	bool narrowed;
	int r, slice;

	NEXT(poll);
	if (!any_rcvlowat(fds, n))
		return next_poll(fds, n, timeout);
	slice = timeout;
	for (;;) {
		r = next_poll(fds, n, slice);
		if (r < 0 || (r == 0 && (slice == timeout ||
		    (deadline >= 0 && mono_ms() >= deadline))))
			return r;
		if (r == 0)
			continue;	/* a 5 ms slice ended: poll again */
		narrowed = false;
		r = apply_rcvlowat(fds, n, &narrowed);
		if (r > 0 || !narrowed)
			return r;
		if (deadline >= 0 && mono_ms() >= deadline)
			return 0;
		slice = 5;
		if (deadline >= 0 && deadline - mono_ms() < slice)
			slice = (int)(deadline - mono_ms());
		if (slice < 0)
			slice = 0;
	}
}

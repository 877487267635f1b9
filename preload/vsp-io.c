/* vsp-io.c - receive and poll where an AF_UNIX carrier differs from Linux's AF_VSOCK. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
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
	enum vsp_io io;
	struct msghdr v;
	ssize_t n;

	if (vsp_get(fd) == NULL)
		return real_recvmsg(fd, m, flags);
	if ((io = vsp_io_mode(fd)) == VSP_IO_NOTCONN)
		return -1;
	/* Linux's vsock_connectible_recvmsg() names no sender: namelen 0. */
	v = *m;
	v.msg_name = NULL;
	v.msg_namelen = 0;
	if (io == VSP_IO_FRAMED)
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
	switch (vsp_io_mode(fd)) {
	case VSP_IO_NOTCONN:
		return -1;
	case VSP_IO_FRAMED:
		return recv_framed(fd, buf, len, flags);
	default:
		return seq_errno(fd, next_recvfrom(fd, buf, len, flags, sa,
		    salen));
	}
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
	switch (vsp_io_mode(fd)) {
	case VSP_IO_NOTCONN:
		return -1;
	case VSP_IO_FRAMED:
		return recv_framed(fd, buf, len, 0);
	default:
		return seq_errno(fd, next_read(fd, buf, len));
	}
}

ssize_t
readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov };
	enum vsp_io io;

	NEXT(readv);
	if ((io = vsp_io_mode(fd)) == VSP_IO_NOTCONN)
		return -1;
	if (io == VSP_IO_PLAIN || iovcnt < 0)	/* libc refuses a negative count */
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
	if (len > buflen)
		return next___read_chk(fd, buf, len, buflen);	/* aborts */
	return read(fd, buf, len);
}

ssize_t
__recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	NEXT(__recv_chk);
	if (len > buflen)
		return next___recv_chk(fd, buf, len, buflen, flags); /* aborts */
	return recv(fd, buf, len, flags);
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

/* What poll() is told of one vsock fd, beyond the kernel's answer. */
struct vsp_pollfd {
	short events;		/* the caller's */
	bool connecting;	/* a non-blocking connect was waiting */
};

/* Does poll() need to shape fd's answer (connect, SO_ERROR, low-water)? */
static bool
shaped(int fd)
{
	struct vsp_sock *s = vsp_get(fd);

	return s != NULL && (s->state == VSP_CONNECTING || s->so_error != 0 ||
	    (s->type == SOCK_STREAM && s->rcvlowat > 1));
}

/*
 * Before polling: a connect still waiting for its answer is polled for
 * that answer (POLLIN of the carrier), not for what the caller asked.
 * Returns true when one is decided already (poll must not wait); *next
 * is lowered to the earliest connect deadline (SO_VM_SOCKETS_CONNECT_TIMEOUT).
 */
static bool
poll_prepare(struct pollfd *fds, nfds_t n, struct vsp_pollfd *saved,
    long long *next)
{
	bool decided = false;
	nfds_t i;

	for (i = 0; i < n; i++) {
		struct vsp_sock *s = vsp_get(fds[i].fd);

		saved[i].events = fds[i].events;
		saved[i].connecting = s != NULL && s->state == VSP_CONNECTING;
		if (!saved[i].connecting)
			continue;
		if (vsp_connect_progress(fds[i].fd, s) != 0) {
			decided = true;
		} else {
			fds[i].events = POLLIN;
			if (*next < 0 || s->deadline < *next)
				*next = s->deadline;
		}
	}
	return decided;
}

/*
 * Linux's vsock_poll() for a connect: nothing while it waits (TCP_SYN_SENT),
 * POLLOUT once established, POLLOUT | POLLERR once it failed (TCP_CLOSE
 * with sk_err). Other fds keep the kernel's answer.
 */
static void
poll_connecting(struct pollfd *p, const struct vsp_pollfd *saved)
{
	struct vsp_sock *s = vsp_get(p->fd);

	NEXT(poll);
	p->events = saved->events;
	if (s == NULL || (!saved->connecting && s->so_error == 0))
		return;
	if (s->state == VSP_CONNECTING && p->revents != 0)
		(void)vsp_connect_progress(p->fd, s);
	if (s->state == VSP_CONNECTING) {
		p->revents = 0;
	} else if (s->state == VSP_CONNECTED) {
		p->revents = 0;
		(void)next_poll(p, 1, 0);	/* the carrier's state, now clean */
	} else if (s->so_error != 0) {
		p->revents = (short)((p->events & (POLLOUT | POLLWRNORM)) |
		    POLLERR);
	}
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

/* Does any fd polled need its answer shaped? */
static bool
any_shaped(const struct pollfd *fds, nfds_t n)
{
	nfds_t i;

	for (i = 0; i < n; i++)
		if (shaped(fds[i].fd))
			return true;
	return false;
}

/* libc's poll for ms (-1 forever), under mask when there is one (ppoll). */
static int
real_poll(struct pollfd *fds, nfds_t n, int ms, const sigset_t *mask)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	NEXT(poll);
	NEXT(ppoll);
	if (mask == NULL)
		return next_poll(fds, n, ms);
	return next_ppoll(fds, n, ms < 0 ? NULL : &ts, mask);
}

/* The shorter of two waits in ms (-1: forever). */
static int
shorter(int a, int b)
{
	if (a < 0)
		return b;
	return b < 0 || a < b ? a : b;
}

/*
 * poll(2) with vsock's answers: a non-blocking connect's POLLOUT and
 * POLLERR (ETIMEDOUT once its connect timeout passes), and SO_RCVLOWAT
 * honoured. While data below the mark is all there is, the carrier stays
 * readable, so it is polled again in 5 ms slices until more arrives or the
 * timeout passes. mask: ppoll's and pselect's signal mask, or NULL.
 */
static int
shaped_poll(struct pollfd *fds, nfds_t n, int timeout, const sigset_t *mask)
{
	long long deadline = timeout < 0 ? -1 : vsp_now_ms() + timeout, next;
	struct vsp_pollfd stack[16], *saved = stack;
	bool narrowed;
	int r, slice = timeout;
	nfds_t i;

	if (n > 16 && (saved = calloc(n, sizeof(*saved))) == NULL)
		return real_poll(fds, n, timeout, mask);
	for (;;) {
		next = -1;
		if (poll_prepare(fds, n, saved, &next))
			slice = 0;
		else
			slice = shorter(slice, vsp_ms_until(next));
		r = real_poll(fds, n, slice, mask);
		for (i = 0; i < n; i++) {
			if (r < 0)
				fds[i].events = saved[i].events;
			else
				poll_connecting(&fds[i], &saved[i]);
		}
		if (r < 0)
			break;
		narrowed = false;
		r = apply_rcvlowat(fds, n, &narrowed);
		if (r > 0)
			break;
		/* Nothing to report yet: a connect's partial answer, a mark. */
		slice = vsp_ms_until(deadline);
		if (narrowed && (slice < 0 || slice > 5))
			slice = 5;
		if (slice == 0 && next >= 0 && vsp_now_ms() >= next)
			continue;	/* a connect's deadline: decided next */
		if (slice == 0)
			break;
	}
	if (saved != stack)
		free(saved);
	return r;
}

int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	NEXT(poll);
	if (!any_shaped(fds, n))
		return next_poll(fds, n, timeout);
	return shaped_poll(fds, n, timeout, NULL);
}

/* A timespec timeout in whole milliseconds, rounded up (-1: NULL). */
static int
ts_ms(const struct timespec *ts)
{
	long long t;

	if (ts == NULL)
		return -1;
	t = (long long)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
	return t < 0 ? 0 : t > INT_MAX ? INT_MAX : (int)t;
}

int
ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
    const sigset_t *mask)
{
	NEXT(ppoll);
	if (!any_shaped(fds, n))
		return next_ppoll(fds, n, ts, mask);
	return shaped_poll(fds, n, ts_ms(ts), mask);
}

/* The fds of select()'s sets, as pollfds; how many. */
static nfds_t
select_to_poll(int nfds, const fd_set *r, const fd_set *w, const fd_set *x,
    struct pollfd *p)
{
	nfds_t n = 0;
	int fd;

	for (fd = 0; fd < nfds; fd++) {
		short ev = 0;

		if (r != NULL && FD_ISSET(fd, r))
			ev |= POLLIN;
		if (w != NULL && FD_ISSET(fd, w))
			ev |= POLLOUT;
		if (x != NULL && FD_ISSET(fd, x))
			ev |= POLLPRI;
		if (ev != 0)
			p[n++] = (struct pollfd){ .fd = fd, .events = ev };
	}
	return n;
}

/* poll()'s answer back into select()'s sets (Linux's POLLIN_SET etc.). */
static int
poll_to_select(const struct pollfd *p, nfds_t n, fd_set *r, fd_set *w,
    fd_set *x)
{
	int ready = 0;
	nfds_t i;

	if (r != NULL)
		FD_ZERO(r);
	if (w != NULL)
		FD_ZERO(w);
	if (x != NULL)
		FD_ZERO(x);
	for (i = 0; i < n; i++) {
		short ev = p[i].revents;

		if ((p[i].events & POLLIN) && (ev & (POLLIN | POLLHUP |
		    POLLERR))) {
			FD_SET(p[i].fd, r);
			ready++;
		}
		if ((p[i].events & POLLOUT) && (ev & (POLLOUT | POLLERR))) {
			FD_SET(p[i].fd, w);
			ready++;
		}
		if ((p[i].events & POLLPRI) && (ev & POLLPRI)) {
			FD_SET(p[i].fd, x);
			ready++;
		}
	}
	return ready;
}

/* Does select() need one of its fds' answer shaped? */
static bool
select_shaped(int nfds, const fd_set *r, const fd_set *w)
{
	int fd;

	if (nfds <= 0 || nfds > FD_SETSIZE)
		return false;	/* libc's own answer (EINVAL) */
	for (fd = 0; fd < nfds; fd++)
		if (((r != NULL && FD_ISSET(fd, r)) ||
		    (w != NULL && FD_ISSET(fd, w))) && shaped(fd))
			return true;
	return false;
}

/* select() through shaped_poll(), for ms (-1 forever) under mask. */
static int
select_poll(int nfds, fd_set *r, fd_set *w, fd_set *x, int ms,
    const sigset_t *mask)
{
	struct pollfd *p;
	nfds_t n;
	int ready;

	if ((p = calloc((size_t)nfds, sizeof(*p))) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	n = select_to_poll(nfds, r, w, x, p);
	ready = shaped_poll(p, n, ms, mask);
	if (ready >= 0)
		ready = poll_to_select(p, n, r, w, x);
	free(p);
	return ready;
}

/*
 * select(2): when a vsock fd's answer needs shaping (a non-blocking
 * connect, SO_ERROR, SO_RCVLOWAT), it is asked through shaped_poll();
 * otherwise libc's. The timeout is not updated with the time left.
 */
int
select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
	int ms = -1;

	NEXT(select);
	if (!select_shaped(nfds, r, w))
		return next_select(nfds, r, w, x, tv);
	if (tv != NULL) {
		long long t = (long long)tv->tv_sec * 1000 +
		    (tv->tv_usec + 999) / 1000;

		ms = t < 0 ? 0 : t > INT_MAX ? INT_MAX : (int)t;
	}
	return select_poll(nfds, r, w, x, ms, NULL);
}

/* pselect(2): as select(), under the signal mask given. */
int
pselect(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *ts,
    const sigset_t *mask)
{
	NEXT(pselect);
	if (!select_shaped(nfds, r, w))
		return next_pselect(nfds, r, w, x, ts, mask);
	return select_poll(nfds, r, w, x, ts_ms(ts), mask);
}

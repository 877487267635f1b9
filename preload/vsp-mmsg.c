/* vsp-mmsg.c - sendmmsg and recvmmsg of AF_VSOCK fds: one sendmsg or recvmsg of ours per message. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include "vsp.h"

#define NEXT(name) \
	static __typeof__(name) *next_##name; \
	if (next_##name == NULL) \
		next_##name = (__typeof__(name) *)vsp_next(#name)

/*
 * libc's sendmmsg and recvmmsg reach the kernel directly, so on a framed
 * SEQPACKET socket (seq-frame.h) they would send messages without the EOR
 * byte and hand the program the byte as data. Linux's __sys_sendmmsg()
 * and do_recvmmsg() are loops of ___sys_sendmsg() and ___sys_recvmsg()
 * over at most UIO_MAXIOV messages; so are these, over the sendmsg and
 * recvmsg above (vsp-send.c, vsp-io.c), for every vsock fd.
 */
#define MMSG_MAX	1024	/* UIO_MAXIOV */

int
sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	unsigned int i;
	ssize_t n;

	NEXT(sendmmsg);
	if (vsp_get(fd) == NULL)
		return next_sendmmsg(fd, vec, vlen, flags);
	if (vlen > MMSG_MAX)
		vlen = MMSG_MAX;
	for (i = 0; i < vlen; i++) {
		if ((n = sendmsg(fd, &vec[i].msg_hdr, flags)) < 0)
			return i > 0 ? (int)i : -1;	/* Linux: not reported */
		vec[i].msg_len = (unsigned int)n;
	}
	return (int)i;
}

/* Is the monotonic clock past end? */
static bool
past(const struct timespec *end)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > end->tv_sec ||
	    (now.tv_sec == end->tv_sec && now.tv_nsec >= end->tv_nsec);
}

/* *t becomes what is left until end (zero once past), as Linux writes it back. */
static void
time_left(const struct timespec *end, struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	t->tv_sec = end->tv_sec - now.tv_sec;
	t->tv_nsec = end->tv_nsec - now.tv_nsec;
	if (t->tv_nsec < 0) {
		t->tv_sec--;
		t->tv_nsec += 1000000000L;
	}
	if (t->tv_sec < 0)
		t->tv_sec = t->tv_nsec = 0;
}

/*
 * recvmmsg(2) as Linux's do_recvmmsg(): MSG_WAITFORONE turns on
 * MSG_DONTWAIT after the first message; the timeout is checked only after
 * each message; an error after a message was received ends the batch
 * without being reported.
 */
int
recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
    struct timespec *timeout)
{
	struct timespec end;
	unsigned int i;
	ssize_t n;

	NEXT(recvmmsg);
	if (vsp_get(fd) == NULL)
		return next_recvmmsg(fd, vec, vlen, flags, timeout);
	if (timeout != NULL) {
		if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 ||
		    timeout->tv_nsec >= 1000000000L) {
			errno = EINVAL;
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_sec += timeout->tv_sec;
		end.tv_nsec += timeout->tv_nsec;
		if (end.tv_nsec >= 1000000000L) {
			end.tv_sec++;
			end.tv_nsec -= 1000000000L;
		}
	}
	if (vlen > MMSG_MAX)
		vlen = MMSG_MAX;
	for (i = 0; i < vlen; i++) {
		n = recvmsg(fd, &vec[i].msg_hdr, flags & ~MSG_WAITFORONE);
		if (n < 0)
			return i > 0 ? (int)i : -1;	/* Linux: not reported */
		vec[i].msg_len = (unsigned int)n;
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
		if (timeout != NULL) {
			time_left(&end, timeout);
			if (past(&end)) {
				i++;
				break;
			}
		}
		if (vec[i].msg_hdr.msg_flags & MSG_OOB) {
			i++;
			break;
		}
	}
	return (int)i;
}

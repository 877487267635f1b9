/* seq-frame.c - SOCK_SEQPACKET messages over AF_UNIX with vsock's EOR bit: the opt-in "eor" framing. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "seq-frame.h"

/* iovecs kept on the stack; longer arrays are allocated (bounded above). */
#define SEQ_FRAME_IOV_STACK	16

/*
 * Builds [flag byte, m's iovecs] in stack or a bounded allocation; NULL
 * with errno. The caller frees the result when it is not stack.
 */
static struct iovec *
framed_iov(const struct msghdr *m, uint8_t *flag, struct iovec *stack)
{
	struct iovec *v = stack;

	if (m->msg_iovlen > SEQ_FRAME_IOV_MAX) {
		errno = EMSGSIZE;	/* as the kernel refuses > UIO_MAXIOV */
		return NULL;
	}
	if (m->msg_iovlen + 1 > SEQ_FRAME_IOV_STACK &&
	    (v = calloc(m->msg_iovlen + 1, sizeof(*v))) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	v[0].iov_base = flag;
	v[0].iov_len = 1;
	if (m->msg_iovlen > 0)
		memcpy(v + 1, m->msg_iov, m->msg_iovlen * sizeof(*v));
	return v;
}

ssize_t
seq_frame_sendmsg(int fd, const struct msghdr *m, int flags, bool eor,
    seq_frame_sendmsg_fn snd)
{
	struct iovec stack[SEQ_FRAME_IOV_STACK], *v;
	uint8_t flag = eor ? SEQ_FRAME_EOR : 0;
	struct msghdr fm = *m;
	size_t i, len = 0;
	ssize_t n;
	int e;

	/* Linux: virtio_transport_send_pkt_info() sends no empty RW. */
	for (i = 0; i < m->msg_iovlen; i++)
		len += m->msg_iov[i].iov_len;
	if (len == 0)
		return 0;
	if ((v = framed_iov(m, &flag, stack)) == NULL)
		return -1;
	fm.msg_iov = v;
	fm.msg_iovlen = m->msg_iovlen + 1;
	/* AF_UNIX ignores MSG_EOR; the flag byte carries it. */
	n = snd(fd, &fm, flags & ~MSG_EOR);
	e = errno;
	if (v != stack)
		free(v);
	errno = e;
	return n > 0 ? n - 1 : n;
}

/*
 * The message just read was the flag byte alone: an empty message, which
 * no Linux peer sends (virtio_transport_send_pkt_info() sends no empty
 * RW), so it is not one to report. Under MSG_PEEK it is still queued and
 * is taken now. Returns 0 to read the next message, -1 errno to stop.
 */
static int
drop_empty(int fd, int flags, seq_frame_recvmsg_fn rcv)
{
	uint8_t byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (!(flags & MSG_PEEK))
		return 0;
	return rcv(fd, &m, flags & ~MSG_PEEK) < 0 ? -1 : 0;
}

ssize_t
seq_frame_recvmsg(int fd, struct msghdr *m, int flags, bool *eor,
    seq_frame_recvmsg_fn rcv)
{
	struct iovec stack[SEQ_FRAME_IOV_STACK], *v;
	uint8_t flag = 0;
	struct msghdr fm = *m;
	ssize_t n;
	int e;

	if ((v = framed_iov(m, &flag, stack)) == NULL)
		return -1;
	fm.msg_iov = v;
	fm.msg_iovlen = m->msg_iovlen + 1;
	while ((n = rcv(fd, &fm, flags)) == 1 && !(fm.msg_flags & MSG_TRUNC) &&
	    drop_empty(fd, flags, rcv) == 0)
		fm = (struct msghdr){ .msg_name = m->msg_name,
		    .msg_namelen = m->msg_namelen, .msg_iov = v,
		    .msg_iovlen = m->msg_iovlen + 1,
		    .msg_control = m->msg_control,
		    .msg_controllen = m->msg_controllen };
	e = errno;
	if (v != stack)
		free(v);
	errno = e;
	if (n < 0)
		return n;
	m->msg_namelen = fm.msg_namelen;
	m->msg_controllen = fm.msg_controllen;
	m->msg_flags = fm.msg_flags & ~MSG_EOR;
	if (n > 0 && (flag & SEQ_FRAME_EOR))
		m->msg_flags |= MSG_EOR;
	if (eor != NULL)
		*eor = n > 0 && (flag & SEQ_FRAME_EOR);
	return n > 0 ? n - 1 : 0;
}

bool
seq_frame_take_optin(char *line, size_t *len)
{
	static const char word[] = " " SEQ_FRAME_OPTIN "\n";
	size_t w = sizeof(word) - 1;

	if (*len < w + 1 || memcmp(line + *len - w, word, w) != 0)
		return false;
	line[*len - w] = '\n';
	*len -= w - 1;
	return true;
}

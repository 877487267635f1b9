/* check_seq_frame.c - the opt-in EOR byte of SEQPACKET messages over AF_UNIX: framing, flags, bounds. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common.h"
#include "seq-frame.h"

/* A connected AF_UNIX SOCK_SEQPACKET pair. */
static void
pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
}

/* Sends buf as one framed message; the payload count it returned. */
static ssize_t
send_buf(int fd, const char *buf, size_t len, bool eor)
{
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	return seq_frame_sendmsg(fd, &m, MSG_DONTWAIT, eor, sendmsg);
}

/* Receives one framed message into buf; msg_flags into *flags. */
static ssize_t
recv_buf(int fd, char *buf, size_t len, int flags, int *msg_flags, bool *eor)
{
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n = seq_frame_recvmsg(fd, &m, flags | MSG_DONTWAIT, eor,
	    recvmsg);

	*msg_flags = m.msg_flags;
	return n;
}

/* EOR set on one message and not the next: each reads back as sent. */
START_TEST(test_eor_round_trip)
{
	char buf[16], raw[16];
	int sv[2], fl;
	bool eor;

	pair(sv);
	ck_assert_int_eq(send_buf(sv[0], "abc", 3, true), 3);
	ck_assert_int_eq(send_buf(sv[0], "de", 2, false), 2);
	ck_assert_int_eq(recv_buf(sv[1], buf, sizeof(buf), 0, &fl, &eor), 3);
	ck_assert_mem_eq(buf, "abc", 3);
	ck_assert(eor);
	ck_assert(fl & MSG_EOR);
	ck_assert_int_eq(recv_buf(sv[1], buf, sizeof(buf), 0, &fl, &eor), 2);
	ck_assert_mem_eq(buf, "de", 2);
	ck_assert(!eor);
	ck_assert(!(fl & MSG_EOR));
	/* On the wire: the flag byte, then the payload. */
	ck_assert_int_eq(send_buf(sv[0], "z", 1, true), 1);
	ck_assert_int_eq(recv(sv[1], raw, sizeof(raw), 0), 2);
	ck_assert_uint_eq((uint8_t)raw[0], SEQ_FRAME_EOR);
	ck_assert_int_eq(raw[1], 'z');
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/*
 * A short buffer: the payload's full length with MSG_TRUNC in flags, the
 * part that fits without it, MSG_TRUNC in msg_flags both ways (Linux:
 * vsock_connectible_recvmsg()).
 */
START_TEST(test_trunc)
{
	char buf[4];
	int sv[2], fl;
	bool eor;

	pair(sv);
	ck_assert_int_eq(send_buf(sv[0], "0123456789", 10, true), 10);
	ck_assert_int_eq(send_buf(sv[0], "0123456789", 10, false), 10);
	ck_assert_int_eq(recv_buf(sv[1], buf, sizeof(buf), MSG_TRUNC, &fl,
	    &eor), 10);
	ck_assert(fl & MSG_TRUNC);
	ck_assert(fl & MSG_EOR);
	ck_assert_mem_eq(buf, "0123", 4);
	ck_assert_int_eq(recv_buf(sv[1], buf, sizeof(buf), 0, &fl, &eor), 4);
	ck_assert(fl & MSG_TRUNC);
	ck_assert(!eor);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* MSG_PEEK leaves the message, flag byte and all, for the next read. */
START_TEST(test_peek)
{
	char buf[8];
	int sv[2], fl;
	bool eor;

	pair(sv);
	ck_assert_int_eq(send_buf(sv[0], "pk", 2, true), 2);
	ck_assert_int_eq(recv_buf(sv[1], buf, sizeof(buf), MSG_PEEK, &fl,
	    &eor), 2);
	ck_assert(eor);
	ck_assert_int_eq(recv_buf(sv[1], buf, sizeof(buf), 0, &fl, &eor), 2);
	ck_assert(eor);
	ck_assert_mem_eq(buf, "pk", 2);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/*
 * An empty message is not sent (Linux sends no empty RW) and one from a
 * peer that sends it anyway is skipped, peeked or not; the end of the
 * connection reads 0 with no EOR; a peer's unknown flag bits are ignored.
 */
START_TEST(test_empty_eof_and_unknown_bits)
{
	char buf[8], raw[2] = { (char)0xfe, 'q' };
	int sv[2], fl;
	bool eor = true;

	pair(sv);
	ck_assert_int_eq(send_buf(sv[0], "", 0, true), 0);
	ck_assert_int_eq(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(write(sv[0], "\001", 1), 1);
	ck_assert_int_eq(recv_buf(sv[1], buf, sizeof(buf), 0, &fl, &eor), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(write(sv[0], "\001", 1), 1);
	ck_assert_int_eq(write(sv[0], "\001", 1), 1);
	ck_assert_int_eq(write(sv[0], raw, 2), 2);
	ck_assert_int_eq(recv_buf(sv[1], buf, sizeof(buf), MSG_PEEK, &fl,
	    &eor), 1);
	ck_assert_int_eq(recv_buf(sv[1], buf, 0, 0, &fl, &eor), 0);
	ck_assert(fl & MSG_TRUNC);	/* a payload cut to 0: not an empty one */
	ck_assert_int_eq(write(sv[0], raw, 2), 2);
	ck_assert_int_eq(recv_buf(sv[1], buf, sizeof(buf), 0, &fl, &eor), 1);
	ck_assert(!eor);
	ck_assert(!(fl & MSG_EOR));
	close(sv[0]);
	eor = true;
	ck_assert_int_eq(recv_buf(sv[1], buf, sizeof(buf), 0, &fl, &eor), 0);
	ck_assert(!eor);
	close(sv[1]);
}
END_TEST

/* More iovecs than the kernel's UIO_MAXIOV leaves room for: EMSGSIZE. */
START_TEST(test_iov_bound)
{
	static struct iovec iov[SEQ_FRAME_IOV_MAX + 1];
	static char byte = 'x';
	struct msghdr m = { .msg_iov = iov };
	int sv[2], i;

	pair(sv);
	for (i = 0; i <= SEQ_FRAME_IOV_MAX; i++)
		iov[i] = (struct iovec){ &byte, 1 };
	m.msg_iovlen = SEQ_FRAME_IOV_MAX + 1;
	ck_assert_int_eq(seq_frame_sendmsg(sv[0], &m, MSG_DONTWAIT, false,
	    sendmsg), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	/* The most allowed is sent (from the heap, past the stack array). */
	m.msg_iovlen = SEQ_FRAME_IOV_MAX;
	ck_assert_int_eq(seq_frame_sendmsg(sv[0], &m, MSG_DONTWAIT, false,
	    sendmsg), SEQ_FRAME_IOV_MAX);
	ck_assert_int_eq(seq_frame_recvmsg(sv[1], &m, MSG_DONTWAIT, NULL,
	    recvmsg), SEQ_FRAME_IOV_MAX);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

struct optin_case {
	const char *in, *out;	/* out NULL: not an opt-in, unchanged */
};

static const struct optin_case optin_cases[] = {
	{ "CONNECT 52 eor\n", "CONNECT 52\n" },
	{ "CONNECT 3 52 eor\n", "CONNECT 3 52\n" },
	{ "CONNECT 52\n", NULL },
	{ "CONNECT 52 eor", NULL },		/* no newline */
	{ "CONNECT 52 eorr\n", NULL },
	{ "CONNECT 52eor\n", NULL },		/* no space: not the word */
	{ " eor\n", NULL },			/* nothing before the word */
	{ "eor\n", NULL },
	{ "", NULL },
};

/* Only a line ending in " eor\n" opts in; the word is cut, nothing else. */
START_TEST(test_optin)
{
	const struct optin_case *c = &optin_cases[_i];
	char line[64];
	size_t len = strlen(c->in);

	memcpy(line, c->in, len);
	ck_assert_int_eq(seq_frame_take_optin(line, &len), c->out != NULL);
	if (c->out != NULL) {
		ck_assert_uint_eq(len, strlen(c->out));
		ck_assert_mem_eq(line, c->out, len);
	} else {
		ck_assert_uint_eq(len, strlen(c->in));
		ck_assert_mem_eq(line, c->in, len);
	}
}
END_TEST

static Suite *
seq_frame_suite(void)
{
	Suite *s = suite_create("seq-frame");
	TCase *tc = tcase_create("frame");

	tcase_add_test(tc, test_eor_round_trip);
	tcase_add_test(tc, test_trunc);
	tcase_add_test(tc, test_peek);
	tcase_add_test(tc, test_empty_eof_and_unknown_bits);
	tcase_add_test(tc, test_iov_bound);
	tcase_add_loop_test(tc, test_optin, 0,
	    (int)(sizeof(optin_cases) / sizeof(optin_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(seq_frame_suite)

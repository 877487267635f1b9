/* seqpacket-echo.c - both ends of check-qemu's SEQPACKET boundary check. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

/*
 * Built static by check-qemu.sh so the same binary runs on the host and in
 * the guest's initramfs (no libraries to copy).
 *
 *   seqpacket-echo listen PATH      host: an AF_UNIX SOCK_SEQPACKET echo at
 *                                   PATH (the muxer's PATH_PORT); each
 *                                   message goes back whole, one client at
 *                                   a time, until killed.
 *   seqpacket-echo check CID PORT   guest: AF_VSOCK SOCK_SEQPACKET to
 *                                   CID:PORT; sends messages back to back
 *                                   and checks each comes back as one
 *                                   message of its own length and bytes.
 *
 * check prints "ok N" (N messages verified) or "FAIL why"; exit 0 on ok.
 */

#define BIG		(256 * 1024)	/* larger than any message sent */

/* Back to back, so a device that merged or split messages is caught. */
static const size_t batch[] = { 1, 7, 100, 4095, 4096, 4097, 1000, 3 };

/*
 * One message over several guest RX buffers (Linux 6.1 posts 4 KiB ones),
 * so both directions carry it as fragments with EOM only on the last.
 * Below our 64 KiB buf_alloc: Linux refuses a larger message locally.
 */
#define MULTI_FRAGMENT	60000
#define OVER_CREDIT	(64 * 1024 + 1)

static unsigned char sendbuf[BIG], recvbuf[BIG];

/* The bytes of message `seq`: distinct per message and per offset. */
static void
fill(unsigned char *p, size_t len, unsigned seq)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 7 + seq * 31 + (i >> 8));
}

/* Receives one message; its length, or -1 with MSG_TRUNC or an error. */
static ssize_t
recv_message(int fd, unsigned char *buf, size_t len)
{
	struct iovec iov = { buf, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	n = recvmsg(fd, &msg, 0);
	if (n >= 0 && (msg.msg_flags & MSG_TRUNC)) {
		errno = EMSGSIZE;
		return -1;
	}
	return n;
}

static int
echo_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd, fd;
	ssize_t n;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "seqpacket-echo: path too long\n");
		return 2;
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	if ((lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 8) < 0) {
		perror("seqpacket-echo: listen");
		return 1;
	}
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) < 0) {
			if (errno == EINTR)
				continue;
			perror("seqpacket-echo: accept");
			return 1;
		}
		while ((n = recv_message(fd, recvbuf, sizeof(recvbuf))) > 0)
			if (send(fd, recvbuf, (size_t)n, MSG_NOSIGNAL) != n)
				break;
		if (n < 0)
			perror("seqpacket-echo: recv");
		close(fd);
	}
}

/* Sends message seq of len bytes. */
static int
send_one(int fd, size_t len, unsigned seq)
{
	fill(sendbuf, len, seq);
	return send(fd, sendbuf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* Receives message seq and checks its length and bytes. */
static int
expect_one(int fd, size_t len, unsigned seq)
{
	ssize_t n = recv_message(fd, recvbuf, sizeof(recvbuf));

	if (n < 0) {
		printf("FAIL message %u: recv: %s\n", seq, strerror(errno));
		return -1;
	}
	if ((size_t)n != len) {
		printf("FAIL message %u: %zd bytes, sent %zu\n", seq, n, len);
		return -1;
	}
	fill(sendbuf, len, seq);
	if (memcmp(sendbuf, recvbuf, len) != 0) {
		printf("FAIL message %u: bytes differ\n", seq);
		return -1;
	}
	return 0;
}

static int
echo_check(unsigned cid, unsigned port)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = cid,
	    .svm_port = port };
	unsigned seq, nbatch = sizeof(batch) / sizeof(batch[0]);
	ssize_t n;
	int fd;

	if ((fd = socket(AF_VSOCK, SOCK_SEQPACKET, 0)) < 0) {
		printf("FAIL socket: %s\n", strerror(errno));
		return 1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		printf("FAIL connect: %s\n", strerror(errno));
		return 1;
	}
	for (seq = 0; seq < nbatch; seq++)
		if (send_one(fd, batch[seq], seq) < 0) {
			printf("FAIL send %u: %s\n", seq, strerror(errno));
			return 1;
		}
	for (seq = 0; seq < nbatch; seq++)
		if (expect_one(fd, batch[seq], seq) < 0)
			return 1;
	if (send_one(fd, MULTI_FRAGMENT, seq) < 0 ||
	    expect_one(fd, MULTI_FRAGMENT, seq) < 0) {
		printf("FAIL %d-byte message\n", MULTI_FRAGMENT);
		return 1;
	}
	seq++;
	/*
	 * Linux refuses a message larger than the buf_alloc we advertised,
	 * before anything leaves the guest. The transport says EMSGSIZE;
	 * Debian's 6.1 af_vsock hands it to the caller as ENOMEM.
	 */
	fill(sendbuf, OVER_CREDIT, seq);
	errno = 0;
	n = send(fd, sendbuf, OVER_CREDIT, MSG_NOSIGNAL);
	if (n >= 0 || (errno != EMSGSIZE && errno != ENOMEM)) {
		printf("FAIL %d-byte message: send gave %zd (%s)\n",
		    OVER_CREDIT, n, strerror(errno));
		return 1;
	}
	/* Nothing of it was sent: the next message comes back alone. */
	if (send_one(fd, 10, seq) < 0 || expect_one(fd, 10, seq) < 0) {
		printf("FAIL message after the refused one\n");
		return 1;
	}
	close(fd);
	printf("ok %u\n", seq + 1);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "listen") == 0)
		return echo_listen(argv[2]);
	if (argc == 4 && strcmp(argv[1], "check") == 0)
		return echo_check((unsigned)strtoul(argv[2], NULL, 10),
		    (unsigned)strtoul(argv[3], NULL, 10));
	fprintf(stderr, "usage: seqpacket-echo listen PATH\n"
	    "       seqpacket-echo check CID PORT\n");
	return 2;
}

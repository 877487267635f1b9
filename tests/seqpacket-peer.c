/* seqpacket-peer.c - a real AF_UNIX SOCK_SEQPACKET client or echo server for serve.sh: message boundaries checked. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Message sizes the client sends, in order: small, odd, a page, 64 KiB. */
static const size_t sizes[] = { 1, 2, 100, 4096, 60000, 65536, 3 };

#define MAX_MSG		(128 * 1024)
#define TIMEOUT_MS	30000	/* a safety net, never a condition */

static const char usage[] =
"usage: seqpacket-peer client PATH [PORT]\n"
"       seqpacket-peer echo-server PATH\n"
"client: connects a SOCK_SEQPACKET socket to PATH; with PORT first sends\n"
"\"CONNECT PORT\\n\" and wants \"OK n\\n\", each one message; then sends\n"
"messages of 1, 2, 100, 4096, 60000, 65536 and 3 bytes, one at a time, and\n"
"wants each back whole, alone and unchanged (exit 0; 1 with the reason).\n"
"echo-server: listens on PATH and, one connection after another, sends\n"
"every message back as it came, until killed.\n";

/* Fills a message so that a swapped, cut or merged one shows. */
static void
pattern(uint8_t *p, size_t n, size_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed * 13 + 1);
}

static int
fail(const char *what)
{
	fprintf(stderr, "seqpacket-peer: %s\n", what);
	return 1;
}

/* Fills sa with path; -1 when it does not fit. */
static int
addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -1;
	strcpy(sa->sun_path, path);
	return 0;
}

/*
 * Receives one message: its length, or -1. *trunc says whether the
 * kernel cut it (it never should: the buffer is twice the largest).
 */
static ssize_t
recv_msg(int fd, uint8_t *buf, size_t cap, int *trunc)
{
	struct iovec iov = { buf, cap };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t n;

	if (poll(&p, 1, TIMEOUT_MS) != 1)
		return -1;
	n = recvmsg(fd, &mh, 0);
	*trunc = (mh.msg_flags & MSG_TRUNC) != 0;
	return n;
}

/* The CONNECT line out, the OK line back: one message each. */
static int
connect_line(int fd, const char *port)
{
	char line[64], ok[64];
	int trunc, n = snprintf(line, sizeof(line), "CONNECT %s\n", port);
	ssize_t got;

	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n)
		return fail("cannot send the CONNECT line");
	got = recv_msg(fd, (uint8_t *)ok, sizeof(ok) - 1, &trunc);
	if (got <= 0)
		return fail("closed without OK");
	ok[got] = '\0';
	if (strncmp(ok, "OK ", 3) != 0 || ok[got - 1] != '\n' ||
	    strchr(ok, '\n') != ok + got - 1)
		return fail("the OK line is not one message \"OK n\\n\"");
	return 0;
}

static int
client(const char *path, const char *port)
{
	static uint8_t out[MAX_MSG], in[2 * MAX_MSG];
	struct sockaddr_un sa;
	char why[128];
	size_t i;
	ssize_t n;
	int fd, trunc;

	if (addr(&sa, path) < 0)
		return fail("path too long");
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return fail(strerror(errno));
	if (port != NULL && connect_line(fd, port) != 0)
		return 1;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		pattern(out, sizes[i], i);
		if (send(fd, out, sizes[i], MSG_NOSIGNAL) != (ssize_t)sizes[i])
			return fail("send failed");
		n = recv_msg(fd, in, sizeof(in), &trunc);
		if (n != (ssize_t)sizes[i] || trunc ||
		    memcmp(in, out, sizes[i]) != 0) {
			snprintf(why, sizeof(why), "message %zu: sent %zu "
			    "bytes, got %zd back%s", i, sizes[i], n,
			    trunc ? " (truncated)" : "");
			return fail(why);
		}
	}
	printf("%zu messages echoed whole\n", i);
	close(fd);
	return 0;
}

/* Echoes one connection's messages until its end. */
static void
echo_conn(int c)
{
	static uint8_t buf[2 * MAX_MSG];
	ssize_t n;

	while ((n = recv(c, buf, sizeof(buf), 0)) > 0)
		if (send(c, buf, (size_t)n, MSG_NOSIGNAL) != n)
			break;
	close(c);
}

static int
echo_server(const char *path)
{
	struct sockaddr_un sa;
	int fd, c;

	if (addr(&sa, path) < 0)
		return fail("path too long");
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0)
		return fail(strerror(errno));
	for (;;)
		if ((c = accept(fd, NULL, NULL)) >= 0)
			echo_conn(c);
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && argc <= 4 && strcmp(argv[1], "client") == 0)
		return client(argv[2], argc == 4 ? argv[3] : NULL);
	if (argc == 3 && strcmp(argv[1], "echo-server") == 0)
		return echo_server(argv[2]);
	fputs(usage, stderr);
	return 2;
}

/* half-close.c - both ends of check-qemu's "both sides half-close, then close" check. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

/*
 * Built static by check-qemu.sh so the same binary runs on the host and in
 * the guest's initramfs (issue 15: the device's close rules when both
 * sides shut down writing, in either order).
 *
 *   half-close first|second unix PATH       host: an AF_UNIX stream
 *                                           listener at PATH (the muxer's
 *                                           PATH_PORT); one connection
 *   half-close first|second vsock CID PORT  guest: AF_VSOCK stream
 *                                           connection to CID:PORT
 *
 * first   writes its PAYLOAD bytes, shuts down writing, reads the peer's
 *         bytes up to EOF, closes;
 * second  reads the peer's bytes up to EOF, writes its own, shuts down
 *         writing, and closes CLOSE_DELAY_MS later, so the first side's
 *         close comes first.
 * Prints "ok" when it read exactly the other side's bytes, else
 * "FAIL why"; exit 0 on ok. The order only decides which case the
 * capture shows; neither side's verdict depends on it.
 */

#define PAYLOAD		3000
#define CLOSE_DELAY_MS	500

static unsigned char mine[PAYLOAD], theirs[PAYLOAD + 1], want[PAYLOAD];

/* The bytes a side sends: distinct per side and per offset. */
static void
fill(unsigned char *p, size_t len, int first)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 13 + (first ? 7 : 101) + (i >> 8));
}

/* Writes all of buf; 0, or -1 with errno. */
static int
write_all(int fd, const unsigned char *buf, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = send(fd, buf, n, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads up to EOF into theirs; the byte count, or -1 with errno. */
static ssize_t
read_to_eof(int fd)
{
	size_t got = 0;
	ssize_t r;

	while (got < sizeof(theirs)) {
		r = recv(fd, theirs + got, sizeof(theirs) - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Checks what the peer sent; 0 when it is exactly its PAYLOAD bytes. */
static int
check_theirs(ssize_t n, int first)
{
	if (n < 0) {
		printf("FAIL recv: %s\n", strerror(errno));
		return -1;
	}
	fill(want, PAYLOAD, !first);
	if (n != PAYLOAD || memcmp(theirs, want, PAYLOAD) != 0) {
		printf("FAIL read %zd bytes, not the peer's %d\n", n, PAYLOAD);
		return -1;
	}
	return 0;
}

/* Plays one side on a connected fd; the exit status. */
static int
play(int fd, int first)
{
	struct timespec delay = { 0, CLOSE_DELAY_MS * 1000000L };
	ssize_t n;

	fill(mine, PAYLOAD, first);
	if (first) {
		if (write_all(fd, mine, PAYLOAD) < 0 ||
		    shutdown(fd, SHUT_WR) < 0) {
			printf("FAIL send: %s\n", strerror(errno));
			return 1;
		}
		n = read_to_eof(fd);
	} else {
		n = read_to_eof(fd);
		if (write_all(fd, mine, PAYLOAD) < 0 ||
		    shutdown(fd, SHUT_WR) < 0) {
			printf("FAIL send: %s\n", strerror(errno));
			return 1;
		}
		nanosleep(&delay, NULL);
	}
	close(fd);
	if (check_theirs(n, first) < 0)
		return 1;
	printf("ok\n");
	return 0;
}

/* Host: accepts one connection at path (a stream AF_UNIX listener). */
static int
unix_side(const char *path, int first)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd, fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		printf("FAIL path too long\n");
		return 2;
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 1) < 0) {
		printf("FAIL listen: %s\n", strerror(errno));
		return 1;
	}
	while ((fd = accept(lfd, NULL, NULL)) < 0)
		if (errno != EINTR) {
			printf("FAIL accept: %s\n", strerror(errno));
			return 1;
		}
	close(lfd);
	unlink(path);
	return play(fd, first);
}

/* Guest: connects to cid:port. */
static int
vsock_side(unsigned cid, unsigned port, int first)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = cid,
	    .svm_port = port };
	int fd;

	if ((fd = socket(AF_VSOCK, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		printf("FAIL connect: %s\n", strerror(errno));
		return 1;
	}
	return play(fd, first);
}

int
main(int argc, char **argv)
{
	int first;

	if (argc < 4 || (strcmp(argv[1], "first") != 0 &&
	    strcmp(argv[1], "second") != 0))
		goto usage;
	first = strcmp(argv[1], "first") == 0;
	if (argc == 4 && strcmp(argv[2], "unix") == 0)
		return unix_side(argv[3], first);
	if (argc == 5 && strcmp(argv[2], "vsock") == 0)
		return vsock_side((unsigned)strtoul(argv[3], NULL, 10),
		    (unsigned)strtoul(argv[4], NULL, 10), first);
usage:
	fprintf(stderr, "usage: half-close first|second unix PATH\n"
	    "       half-close first|second vsock CID PORT\n");
	return 2;
}

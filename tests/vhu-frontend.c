/* vhu-frontend.c - a hostile vhost-user front-end for tests/vhost-user.sh. */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "ring.h"
#include "vhost-user.h"

/*
 * usage: vhu-frontend SOCKET SCENARIO
 *   past-eof    a 4 KiB memfd declared as a 1 MiB region (issue 14 item
 *               2): the back-end must close the connection
 *   truncate    QEMU's handshake up to running rings, then the memfd is
 *               truncated and the TX ring kicked: the back-end must close
 *               the connection and signal both err eventfds
 *   kick-error  the handshake, then the TX ring's kick fd replaced by the
 *               write end of a pipe whose reader is gone (EPOLLERR for
 *               ever): the back-end must still answer GET_FEATURES
 *   call-pipe   the handshake, then the TX ring's call fd replaced by the
 *               write end of a pipe whose reader is gone, and a TX chain
 *               the device uses and interrupts for (issue 14 item 3: EPIPE,
 *               never SIGPIPE): the back-end must still answer GET_FEATURES
 * Exit 0 when the back-end did so, 1 when not, 2 on a local failure.
 */

/* Everything a session needs: the socket, guest RAM, two rings. */
struct fe {
	int sock;
	struct fg_mem mem;
	struct fg_ring ring[2];
	int kick[2], call[2], err[2];
};

/* Sends one message with its fds; 0 or -1. */
static int
fe_send(int sock, uint32_t req, uint32_t flags, const void *p, uint32_t size,
    const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} ctl;
	uint8_t msg[VHOST_USER_HDR_SIZE + VHOST_USER_MAX_PAYLOAD];
	uint32_t w[3] = { htole32(req), htole32(flags | VHOST_USER_VERSION),
	    htole32(size) };
	struct iovec iov = { msg, VHOST_USER_HDR_SIZE + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	memcpy(msg, w, sizeof(w));
	if (size > 0)
		memcpy(msg + VHOST_USER_HDR_SIZE, p, size);
	if (nfds > 0) {
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)iov.iov_len ? 0 :
	    -1;
}

/* Reads the reply to req and its u64; 0 or -1 (also at EOF). */
static int
fe_reply_u64(int sock, uint32_t req, uint64_t *v)
{
	uint32_t w[3];

	if (recv(sock, w, sizeof(w), MSG_WAITALL) != (ssize_t)sizeof(w) ||
	    le32toh(w[0]) != req || le32toh(w[2]) != sizeof(*v) ||
	    recv(sock, v, sizeof(*v), MSG_WAITALL) != (ssize_t)sizeof(*v))
		return -1;
	*v = le64toh(*v);
	return 0;
}

/* Sends req asking for REPLY_ACK and waits for a success. */
static int
fe_acked(int sock, uint32_t req, const void *p, uint32_t size,
    const int *fds, int nfds)
{
	uint64_t ack;

	return fe_send(sock, req, VHOST_USER_NEED_REPLY, p, size, fds,
	    nfds) < 0 || fe_reply_u64(sock, req, &ack) < 0 || ack != 0 ?
	    -1 : 0;
}

/* Waits until the back-end closes the connection: 0, or -1 if it does not. */
static int
fe_wait_eof(int sock)
{
	char c;

	return recv(sock, &c, 1, 0) == 0 ? 0 : -1;
}

/* Connects, retrying while the back-end is not listening yet (5 s). */
static int
fe_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	struct timeval tv = { 10, 0 };	/* a silent back-end fails the test */
	int fd, i;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	for (i = 0; i < 250; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			return fd;
		}
		close(fd);
		nanosleep(&pause, NULL);
	}
	return -1;
}

/* Features, protocol features (REPLY_ACK) and the owner, as QEMU does. */
static int
fe_negotiate(struct fe *f, uint64_t *features)
{
	uint64_t u, pf = VIRTIO_FEATURE(VHOST_USER_PROTOCOL_F_REPLY_ACK);

	if (fe_send(f->sock, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0) < 0 ||
	    fe_reply_u64(f->sock, VHOST_USER_GET_FEATURES, features) < 0)
		return -1;
	u = htole64(*features);
	pf = htole64(pf);
	return fe_send(f->sock, VHOST_USER_SET_FEATURES, 0, &u, 8, NULL,
	    0) < 0 || fe_send(f->sock, VHOST_USER_SET_PROTOCOL_FEATURES, 0,
	    &pf, 8, NULL, 0) < 0 || fe_acked(f->sock, VHOST_USER_SET_OWNER,
	    NULL, 0, NULL, 0) < 0 ? -1 : 0;
}

/* One ring: size, base, addresses, err, call and kick fds, enable. */
static int
fe_ring(struct fe *f, unsigned q)
{
	struct fg_ring *g = &f->ring[q];
	uint32_t st[2] = { htole32(q), htole32(256) };
	uint64_t a[5] = { htole64(q), htole64((uintptr_t)g->desc),
	    htole64((uintptr_t)g->used), htole64((uintptr_t)g->avail), 0 };
	uint64_t idx = htole64(q);

	f->kick[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	f->call[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	f->err[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fe_send(f->sock, VHOST_USER_SET_VRING_NUM, 0, st, 8, NULL, 0) < 0)
		return -1;
	st[1] = 0;
	if (fe_send(f->sock, VHOST_USER_SET_VRING_BASE, 0, st, 8, NULL, 0) <
	    0 || fe_send(f->sock, VHOST_USER_SET_VRING_ADDR, 0, a, 40, NULL,
	    0) < 0 || fe_send(f->sock, VHOST_USER_SET_VRING_ERR, 0, &idx, 8,
	    &f->err[q], 1) < 0 || fe_send(f->sock, VHOST_USER_SET_VRING_CALL,
	    0, &idx, 8, &f->call[q], 1) < 0 || fe_send(f->sock,
	    VHOST_USER_SET_VRING_KICK, 0, &idx, 8, &f->kick[q], 1) < 0)
		return -1;
	st[1] = htole32(1);
	/* Acked: every message before it has been handled. */
	return fe_acked(f->sock, VHOST_USER_SET_VRING_ENABLE, st, 8, NULL, 0);
}

/* QEMU's handshake up to both rings running, over a 1 MiB memfd. */
static int
fe_handshake(struct fe *f)
{
	struct fg_mem_spec spec = { 0x100000, 1 << 20 };
	uint64_t features, t[5];
	unsigned q;

	if (fg_mem_init(&f->mem, &spec, 1, FG_MEM_MEMFD) < 0 ||
	    fe_negotiate(f, &features) < 0)
		return -1;
	t[0] = htole64(1);
	t[1] = htole64(f->mem.region[0].gpa);
	t[2] = htole64(f->mem.region[0].size);
	t[3] = htole64((uintptr_t)f->mem.region[0].hva);
	t[4] = 0;
	if (fe_acked(f->sock, VHOST_USER_SET_MEM_TABLE, t, 40,
	    &f->mem.region[0].fd, 1) < 0)
		return -1;
	for (q = 0; q < 2; q++)
		if (fg_ring_init(&f->ring[q], &f->mem, 256, features) < 0 ||
		    fe_ring(f, q) < 0)
			return -1;
	return 0;
}

/* Issue 14 item 2: rings would lie past the end of a 4 KiB file. */
static int
past_eof(struct fe *f)
{
	int fd = memfd_create("vhu-frontend", MFD_CLOEXEC), rc;
	uint64_t t[5] = { htole64(1), htole64(0x100000), htole64(1 << 20),
	    htole64(0x7f0000000000), 0 };

	if (fd < 0 || ftruncate(fd, 4096) < 0 ||
	    fe_send(f->sock, VHOST_USER_SET_MEM_TABLE, 0, t, 40, &fd, 1) < 0)
		rc = 2;
	else
		rc = fe_wait_eof(f->sock) < 0;
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Guest memory pulled from under running rings, then a kick. */
static int
truncate_memory(struct fe *f)
{
	uint64_t one = 1, n;
	unsigned q;

	if (fe_handshake(f) < 0 || ftruncate(f->mem.region[0].fd, 0) < 0 ||
	    write(f->kick[1], &one, sizeof(one)) != sizeof(one))
		return 2;
	/* Nothing here touches the truncated memory: we would fault too. */
	if (fe_wait_eof(f->sock) < 0)
		return 1;
	for (q = 0; q < 2; q++)
		if (read(f->err[q], &n, sizeof(n)) != sizeof(n))
			return 1;
	return 0;
}

/* A kick fd that reports EPOLLERR for ever; the back-end must live on. */
static int
kick_error(struct fe *f)
{
	uint64_t idx = htole64(1), features;
	int p[2];

	if (fe_handshake(f) < 0 || pipe(p) < 0)
		return 2;
	close(p[0]);
	if (fe_acked(f->sock, VHOST_USER_SET_VRING_KICK, &idx, 8, &p[1], 1) <
	    0)
		return 1;
	close(p[1]);
	return fe_send(f->sock, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL,
	    0) < 0 || fe_reply_u64(f->sock, VHOST_USER_GET_FEATURES,
	    &features) < 0;
}

/* An interrupt into a pipe nobody reads; the back-end must live on. */
static int
call_pipe(struct fe *f)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	uint64_t idx = htole64(1), features, one = 1;
	struct fg_buf b;
	uint32_t len;
	int p[2], i;

	if (fe_handshake(f) < 0 || pipe(p) < 0)
		return 2;
	close(p[0]);
	if (fe_acked(f->sock, VHOST_USER_SET_VRING_CALL, &idx, 8, &p[1], 1) <
	    0)
		return 1;
	close(p[1]);
	/* A zeroed header: dropped as malformed, its buffer used: interrupt. */
	b.len = 44;
	b.gpa = fg_mem_alloc(&f->mem, b.len, 8);
	if (b.gpa == FG_GPA_NONE || fg_ring_add(&f->ring[1], &b, 1, NULL, 0,
	    f, false) < 0 || write(f->kick[1], &one, sizeof(one)) !=
	    sizeof(one))
		return 2;
	/*
	 * Used means the interrupt follows in the same dispatch of the
	 * back-end's single-threaded loop, before it reads our next message.
	 */
	for (i = 0; i < 500 && fg_ring_get_used(&f->ring[1], &len) == NULL;
	    i++)
		nanosleep(&pause, NULL);
	if (i == 500)
		return 1;
	return fe_send(f->sock, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL,
	    0) < 0 || fe_reply_u64(f->sock, VHOST_USER_GET_FEATURES,
	    &features) < 0;
}

/* Releases what a scenario set up (munmap only: memory is never touched). */
static void
fe_free(struct fe *f)
{
	unsigned q;

	for (q = 0; q < 2; q++) {
		if (f->ring[q].num != 0)
			fg_ring_destroy(&f->ring[q]);
		if (f->kick[q] > 0)
			close(f->kick[q]);
		if (f->call[q] > 0)
			close(f->call[q]);
		if (f->err[q] > 0)
			close(f->err[q]);
	}
	fg_mem_destroy(&f->mem);
	close(f->sock);
}

/* Runs the scenario its name says. */
static int
run(struct fe *f, const char *scenario)
{
	if (strcmp(scenario, "past-eof") == 0)
		return past_eof(f);
	if (strcmp(scenario, "truncate") == 0)
		return truncate_memory(f);
	if (strcmp(scenario, "kick-error") == 0)
		return kick_error(f);
	if (strcmp(scenario, "call-pipe") == 0)
		return call_pipe(f);
	fprintf(stderr, "vhu-frontend: unknown scenario %s\n", scenario);
	return 2;
}

int
main(int argc, char **argv)
{
	struct fe f;
	int rc;

	memset(&f, 0, sizeof(f));
	if (argc != 3) {
		fputs("usage: vhu-frontend SOCKET past-eof|truncate|"
		    "kick-error|call-pipe\n", stderr);
		return 2;
	}
	if ((f.sock = fe_connect(argv[1])) < 0) {
		fprintf(stderr, "vhu-frontend: cannot connect to %s\n",
		    argv[1]);
		return 2;
	}
	rc = run(&f, argv[2]);
	fe_free(&f);
	return rc;
}

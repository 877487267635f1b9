/* check_gapps.c - serve's guest services (emu/guest-apps.c) over the fake guest, the device and a scripted host, in virtual time. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.h"
#include "grig.h"
#include "guest-apps.h"
#include "loop.h"
#include "seq-frame.h"
#include "serve-stats.h"

#define ECHO_PORT	52
#define DISCARD_PORT	53
#define SOURCE_PORT	54
#define UNIX_PORT	56
/* Rounds of guest + device + services before calling it a busy loop. */
#define ARIG_MAX_ROUNDS	10000
/* A guest table and a device table small enough for a leak to fill. */
#define ARIG_SOCKS	8
#define ARIG_CONNS	4
#define KIB		1024

/* The rig, the services of serve inside its guest, a local AF_UNIX server. */
struct arig {
	struct grig *g;
	struct loop *loop;
	struct gapps *apps;
	char dir[64];		/* holds the unix: service's socket */
	char path[108];
	int lfd;		/* the unix: service's listener, or -1 */
};

/* Open fds of this process (the test's own and the services'). */
static unsigned
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* A listening AF_UNIX socket in a fresh directory: the unix: service. */
static void
arig_listen_local(struct arig *a)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	strcpy(a->dir, "/tmp/vse-gapps-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(a->dir));
	snprintf(a->path, sizeof(a->path), "%s/svc.sock", a->dir);
	strcpy(sa.sun_path, a->path);
	a->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	ck_assert_int_ge(a->lfd, 0);
	ck_assert_int_eq(bind(a->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(a->lfd, 64), 0);
}

/*
 * A rig serving echo, discard, source:1 GB and unix: on their ports; with
 * seqpacket the device offers SEQPACKET too.
 */
static struct arig *
arig_new_seq(bool seqpacket)
{
	struct arig *a = calloc(1, sizeof(*a));
	struct gapp_listen_spec ls[4];
	struct grig_config c;
	char err[256];

	ck_assert_ptr_nonnull(a);
	arig_listen_local(a);
	memset(ls, 0, sizeof(ls));
	ck_assert_int_eq(gapp_parse_service("echo", &ls[0]), 0);
	ck_assert_int_eq(gapp_parse_service("discard", &ls[1]), 0);
	ck_assert_int_eq(gapp_parse_service("source:1000000000", &ls[2]), 0);
	ls[3].service = GAPP_UNIX;
	ls[3].path = a->path;
	ls[0].port = ECHO_PORT;
	ls[1].port = DISCARD_PORT;
	ls[2].port = SOURCE_PORT;
	ls[3].port = UNIX_PORT;
	grig_config_defaults(&c);
	c.max_socks = ARIG_SOCKS;
	c.max_conns = ARIG_CONNS;
	c.seqpacket = seqpacket;
	a->g = grig_new_cfg(&c);
	/* The host application reads only what a test lets it. */
	a->g->sb.default_in_gated = true;
	ck_assert_int_eq(loop_new(&a->loop), 0);
	ck_assert_msg(gapps_new(a->g->vs, a->loop, ls, 4, NULL, 0,
	    VIRTIO_VSOCK_TYPE_STREAM, &a->apps, err, sizeof(err)) == 0,
	    "gapps_new: %s", err);
	return a;
}

static struct arig *
arig_new(void)
{
	return arig_new_seq(false);
}

static void
arig_free(struct arig *a)
{
	gapps_free(a->apps, a->g->now);
	grig_free(a->g);
	loop_free(a->loop);
	close(a->lfd);
	unlink(a->path);
	rmdir(a->dir);
	free(a);
}

/* Runs guest, device and services until nothing moves, as serve's settle. */
static void
arig_settle(struct arig *a)
{
	unsigned rounds = 0;

	do {
		ck_assert_msg(++rounds < ARIG_MAX_ROUNDS,
		    "services and device never settle: a busy loop");
		grig_settle(a->g, a->g->now);
	} while (gapps_run(a->apps, a->g->now));
}

/* Advances virtual time by ns, stopping at every timer on the way. */
static void
arig_advance(struct arig *a, uint64_t ns)
{
	uint64_t target = a->g->now + ns, d, v;

	for (;;) {
		arig_settle(a);
		d = vsock_device_next_deadline(a->g->dev);
		v = fg_vsock_next_deadline(a->g->vs);
		if (v < d)
			d = v;
		if (d > target)
			break;
		grig_settle(a->g, d);
	}
	grig_settle(a->g, target);
	arig_settle(a);
}

/* The host application connects to a guest port; it must be accepted. */
static struct script_conn *
arig_connect(struct arig *a, uint32_t port)
{
	struct script_conn *sc = NULL;

	ck_assert_int_eq(script_connect(&a->g->sb, port,
	    VIRTIO_VSOCK_TYPE_STREAM, a->g->now, &sc), 0);
	arig_settle(a);
	ck_assert_msg(sc->established, "guest port %u refused the host "
	    "(released %d): its slots are gone", port, sc->released);
	return sc;
}

/* How a host client leaves. */
enum leave {
	LEAVE_CLOSE,		/* close(): the muxer sees EOF, then HUP */
	LEAVE_HALF_CLOSE,	/* shutdown(SHUT_WR) first, as socat does */
	LEAVE_ABORT,		/* a connection error: the device resets */
	LEAVE__COUNT,
};

static void
arig_leave(struct arig *a, struct script_conn *sc, enum leave how)
{
	if (how == LEAVE_HALF_CLOSE) {
		script_shutdown_write(&a->g->sb, sc, a->g->now);
		arig_settle(a);
	}
	script_close(&a->g->sb, sc, how == LEAVE_ABORT, a->g->now);
	arig_settle(a);
}

/* Only the four listeners are left: no socket, service or slot leaked. */
static void
assert_idle(struct arig *a, const char *when)
{
	ck_assert_msg(vsock_device_nconns(a->g->dev) == 0,
	    "%s: the device still holds %u connections", when,
	    vsock_device_nconns(a->g->dev));
	ck_assert_msg(fg_vsock_socket_count(a->g->vs) == 4,
	    "%s: the guest holds %u sockets besides its 4 listeners", when,
	    fg_vsock_socket_count(a->g->vs) - 4);
}

/* The unix: service's end of the newest bridge; it talks until refused. */
static int
accept_local(struct arig *a)
{
	int fd = accept4(a->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	ck_assert_msg(fd >= 0, "the bridge never connected: %s",
	    strerror(errno));
	return fd;
}

/* Writes to fd until its buffer is full; returns the last errno. */
static int
talk_until_full(int fd)
{
	static uint8_t buf[64 * KIB];

	while (send(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
		;
	return errno;
}

/*
 * The unix: service keeps talking whenever it can; the bridge must end
 * it (EPIPE) once nobody will take what it says. Bounded: 20 rounds.
 */
static void
talk_until_refused(struct arig *a, int fd)
{
	unsigned k;
	int e;

	for (k = 0; k < 20; k++) {
		if ((e = talk_until_full(fd)) == EPIPE)
			return;
		ck_assert_int_eq(e, EAGAIN);
		arig_settle(a);
	}
	ck_abort_msg("the bridge never gave its service up");
}

static const uint16_t service_ports[] = {
	ECHO_PORT, DISCARD_PORT, SOURCE_PORT, UNIX_PORT,
};

/*
 * Issue 14 item 1: clients that leave in the middle of a transfer, on
 * every service and every way of leaving, give back everything: device
 * slots, guest sockets, services and the bridge's fd. Twenty of them
 * through tables of 4 and 8; then one more is still accepted.
 */
START_TEST(test_clients_leave_mid_transfer)
{
	uint16_t port = service_ports[_i / LEAVE__COUNT];
	enum leave how = (enum leave)(_i % LEAVE__COUNT);
	static uint8_t data[1024 * KIB];
	struct arig *a = arig_new();
	struct script_conn *sc;
	unsigned k, fds = count_fds();
	int lfd = -1;
	char when[64];

	for (k = 0; k < 20; k++) {
		snprintf(when, sizeof(when), "port %u client %u", port, k);
		sc = arig_connect(a, port);
		if (port == UNIX_PORT) {
			lfd = accept_local(a);
			ck_assert_int_eq(talk_until_full(lfd), EAGAIN);
		}
		/* More than any window: someone is left holding data. */
		if (port != SOURCE_PORT)
			script_send(&a->g->sb, sc, data, sizeof(data), 0,
			    a->g->now);
		script_allow_read(&a->g->sb, sc, 100, a->g->now);
		arig_settle(a);
		arig_leave(a, sc, how);
		/*
		 * At once: the services take what the host left and close.
		 * The unix: service never reads, so the bridge cannot take
		 * the host's last bytes: that ends at the device's close
		 * timeout.
		 */
		if (port != UNIX_PORT)
			assert_idle(a, when);
		arig_advance(a, 10 * FG_NS_PER_SEC);
		if (port == UNIX_PORT) {
			/* Refused, as a program whose peer left would be. */
			talk_until_refused(a, lfd);
			close(lfd);
			arig_settle(a);
		}
		assert_idle(a, when);
		ck_assert_uint_eq(gapps_count(a->apps), 0);
		ck_assert_msg(count_fds() == fds, "%s: %u fds leaked", when,
		    count_fds() - fds);
	}
	sc = arig_connect(a, port);
	arig_leave(a, sc, LEAVE_CLOSE);
	if (port == UNIX_PORT)
		close(accept_local(a));
	arig_advance(a, 10 * FG_NS_PER_SEC);
	assert_idle(a, "at the end");
	arig_free(a);
}
END_TEST

/*
 * The device: a host that shut down writing and then closes still ends
 * the connection (SHUTDOWN(RCV|SEND) to the guest, which resets it): the
 * EOF was read before the close, so no later read could report it. Here
 * the gated application leaves the source's bytes unread, which makes the
 * firecracker profile's close an RST (Firecracker's flush to the closed
 * stream fails: connection.rs notify); check_states has the SHUTDOWN case
 * ("half-closed-host + host close").
 */
START_TEST(test_host_half_close_then_close)
{
	struct arig *a = arig_new();
	struct script_conn *sc = arig_connect(a, SOURCE_PORT);
	const struct fg_vsock_stats *st = fg_vsock_stats(a->g->vs);
	uint64_t shut0 = st->rx_pkts[VIRTIO_VSOCK_OP_SHUTDOWN];
	uint64_t rst0 = st->rx_pkts[VIRTIO_VSOCK_OP_RST];

	script_shutdown_write(&a->g->sb, sc, a->g->now);
	arig_settle(a);
	ck_assert_uint_eq(st->rx_pkts[VIRTIO_VSOCK_OP_SHUTDOWN], shut0 + 1);
	script_close(&a->g->sb, sc, false, a->g->now);
	arig_settle(a);
	ck_assert_uint_eq(st->rx_pkts[VIRTIO_VSOCK_OP_SHUTDOWN], shut0 + 1);
	ck_assert_uint_eq(st->rx_pkts[VIRTIO_VSOCK_OP_RST], rst0 + 1);
	assert_idle(a, "after the close");
	arig_free(a);
}
END_TEST

/*
 * The device's close timer runs from the host close, not from the later
 * SHUTDOWN: a guest that makes room for the host's last bytes only after
 * a while gets no extra time for it (Linux: close_work is scheduled in
 * virtio_transport_close).
 */
START_TEST(test_host_close_timer_from_close)
{
	struct grig *g = grig_new();
	int l = grig_listen(g, VIRTIO_VSOCK_TYPE_STREAM, 7000, 4), fd;
	uint64_t t = vsock_profile_close_timeout(VSOCK_PROFILE_FIRECRACKER);
	static uint8_t data[300 * KIB];
	struct script_conn *sc;
	ssize_t n;

	ck_assert_int_eq(grig_host_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 7000,
	    &sc), 0);
	fd = fg_sock_accept(g->vs, l);
	ck_assert_int_ge(fd, 0);
	script_send(&g->sb, sc, data, sizeof(data), 0, g->now);
	script_close(&g->sb, sc, false, g->now);
	grig_settle(g, g->now);			/* 256 KiB wait in the guest */
	grig_advance(g, t / 2);
	while ((n = fg_sock_recv(g->vs, fd, data, sizeof(data), NULL)) > 0)
		grig_settle(g, g->now);		/* the rest, then SHUTDOWN */
	ck_assert_uint_eq(vsock_device_nconns(g->dev), 1);
	grig_advance(g, t / 2 - 1);
	ck_assert_uint_eq(vsock_device_nconns(g->dev), 1);
	grig_advance(g, 1);
	ck_assert_uint_eq(vsock_device_nconns(g->dev), 0);
	grig_free(g);
}
END_TEST

/*
 * Issue 14 "Also seen": the peer's SHUTDOWN(3) finds echo with nothing
 * unread, so the stack sends RST at once (virtio_transport_recv_connected).
 * Echo then reads EOF and closes: no SHUTDOWN after that RST, only the RST
 * Linux's virtio_transport_close sends when a socket whose peer shut down
 * both ways is closed.
 */
START_TEST(test_echo_nothing_after_rst)
{
	struct arig *a = arig_new();
	struct script_conn *sc = arig_connect(a, ECHO_PORT);
	const struct fg_vsock_stats *st = fg_vsock_stats(a->g->vs);
	uint64_t before[VIRTIO_VSOCK_OP__MAX + 1];
	unsigned op;

	script_send(&a->g->sb, sc, "hello", 5, 0, a->g->now);
	script_allow_read(&a->g->sb, sc, 5, a->g->now);
	arig_settle(a);
	ck_assert_uint_eq(sc->in_total, 5);
	memcpy(before, st->tx_pkts, sizeof(before));
	script_close(&a->g->sb, sc, false, a->g->now);
	arig_settle(a);
	for (op = 0; op <= VIRTIO_VSOCK_OP__MAX; op++)
		ck_assert_msg(st->tx_pkts[op] - before[op] ==
		    (op == VIRTIO_VSOCK_OP_RST ? 2u : 0u),
		    "the guest sent %llu %s after the host left",
		    (unsigned long long)(st->tx_pkts[op] - before[op]),
		    vsock_op_name((uint16_t)op));
	assert_idle(a, "after the close");
	arig_free(a);
}
END_TEST

/* Counts what the guest sent from now on, op by op. */
struct tx_mark {
	uint64_t before[VIRTIO_VSOCK_OP__MAX + 1];
};

static void
tx_mark(struct arig *a, struct tx_mark *m)
{
	memcpy(m->before, fg_vsock_stats(a->g->vs)->tx_pkts,
	    sizeof(m->before));
}

static uint64_t
tx_since(struct arig *a, const struct tx_mark *m, uint16_t op)
{
	return fg_vsock_stats(a->g->vs)->tx_pkts[op] - m->before[op];
}

/*
 * The bridge's version of "Also seen": the host leaves with nothing
 * unread, the stack resets at once; the local service then ends too.
 * Both directions are over, so the bridge closes (the RST of Linux's
 * close) instead of a shutdown(SHUT_WR) that would put a SHUTDOWN after
 * the connection's RST.
 */
START_TEST(test_bridge_nothing_after_rst)
{
	struct arig *a = arig_new();
	struct script_conn *sc = arig_connect(a, UNIX_PORT);
	int lfd = accept_local(a);
	struct tx_mark m;
	char buf[8];

	script_send(&a->g->sb, sc, "abc", 3, 0, a->g->now);
	arig_settle(a);
	ck_assert_int_eq(recv(lfd, buf, sizeof(buf), MSG_DONTWAIT), 3);
	tx_mark(a, &m);
	script_close(&a->g->sb, sc, false, a->g->now);
	arig_settle(a);
	/*
	 * The stack's RST, then the bridge's close: the peer's SHUTDOWN(RCV)
	 * went on as shutdown(SHUT_RD), so the service can say nothing more
	 * and the bridge need not wait for it.
	 */
	ck_assert_uint_eq(tx_since(a, &m, VIRTIO_VSOCK_OP_RST), 2);
	ck_assert_int_eq(recv(lfd, buf, sizeof(buf), MSG_DONTWAIT), 0);
	ck_assert_int_eq(shutdown(lfd, SHUT_WR), 0);
	arig_settle(a);
	ck_assert_uint_eq(tx_since(a, &m, VIRTIO_VSOCK_OP_SHUTDOWN), 0);
	ck_assert_uint_eq(tx_since(a, &m, VIRTIO_VSOCK_OP_RST), 2);
	close(lfd);
	assert_idle(a, "after both ends");
	arig_free(a);
}
END_TEST

/*
 * A local EOF is no news to a peer that reads no more: the host left with
 * data still on its way to the slow local service, the device reset the
 * connection at its close timeout, then the service ends. No SHUTDOWN; the
 * bridge still delivers what the host sent, then closes.
 */
START_TEST(test_bridge_no_shutdown_to_gone_peer)
{
	static uint8_t data[1024 * KIB], buf[64 * KIB];
	struct arig *a = arig_new();
	struct script_conn *sc = arig_connect(a, UNIX_PORT);
	int lfd = accept_local(a);
	struct tx_mark m;
	size_t got = 0;
	ssize_t n;

	script_send(&a->g->sb, sc, data, sizeof(data), 0, a->g->now);
	arig_settle(a);
	script_close(&a->g->sb, sc, false, a->g->now);
	arig_advance(a, 10 * FG_NS_PER_SEC);
	ck_assert_uint_eq(vsock_device_nconns(a->g->dev), 0);
	ck_assert_uint_eq(gapps_count(a->apps), 1);
	tx_mark(a, &m);
	ck_assert_int_eq(shutdown(lfd, SHUT_WR), 0);
	arig_settle(a);
	ck_assert_uint_eq(tx_since(a, &m, VIRTIO_VSOCK_OP_SHUTDOWN), 0);
	while ((n = recv(lfd, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
		ck_assert_msg(n > 0, "recv: %s", strerror(errno));
		got += (size_t)n;
		arig_settle(a);
	}
	ck_assert_uint_gt(got, 256 * KIB);	/* what reached the guest */
	ck_assert_uint_eq(tx_since(a, &m, VIRTIO_VSOCK_OP_SHUTDOWN), 0);
	close(lfd);
	assert_idle(a, "after the service read it all");
	arig_free(a);
}
END_TEST

/*
 * A unix: bridge whose local service ends while the guest's peer still
 * sends passes the half-close on (SHUTDOWN(SEND)); once the peer is done
 * too, it closes and frees its fd.
 */
START_TEST(test_bridge_half_close)
{
	struct arig *a = arig_new();
	struct script_conn *sc = arig_connect(a, UNIX_PORT);
	int lfd = accept_local(a);
	const struct fg_vsock_stats *st = fg_vsock_stats(a->g->vs);
	uint64_t shut0 = st->tx_pkts[VIRTIO_VSOCK_OP_SHUTDOWN];
	char buf[16];

	ck_assert_int_eq(send(lfd, "bye", 3, MSG_NOSIGNAL), 3);
	ck_assert_int_eq(shutdown(lfd, SHUT_WR), 0);
	script_allow_read(&a->g->sb, sc, 100, a->g->now);
	arig_settle(a);
	ck_assert_uint_eq(sc->in_total, 3);
	ck_assert(sc->shut_wr);		/* the host saw EOF */
	ck_assert_uint_eq(st->tx_pkts[VIRTIO_VSOCK_OP_SHUTDOWN], shut0 + 1);
	script_send(&a->g->sb, sc, "late", 4, 0, a->g->now);
	script_shutdown_write(&a->g->sb, sc, a->g->now);
	arig_settle(a);
	ck_assert_int_eq(recv(lfd, buf, sizeof(buf), MSG_DONTWAIT), 4);
	ck_assert_int_eq(recv(lfd, buf, sizeof(buf), MSG_DONTWAIT), 0);
	ck_assert_uint_eq(gapps_count(a->apps), 0);
	close(lfd);
	script_close(&a->g->sb, sc, false, a->g->now);
	arig_advance(a, 10 * FG_NS_PER_SEC);
	assert_idle(a, "after both ends");
	arig_free(a);
}
END_TEST

/*
 * The host closes: Linux's close() sends SHUTDOWN(RCV|SEND), after which a
 * guest write fails with EPIPE (vsock_connectible_sendmsg()). The bridge
 * passes the RCV half on as shutdown(SHUT_RD), so the local service's
 * write fails too (vsock_test "SOCK_STREAM server close" under run).
 */
START_TEST(test_bridge_peer_close_fails_local_writes)
{
	struct arig *a = arig_new();
	struct script_conn *sc = arig_connect(a, UNIX_PORT);
	int lfd = accept_local(a);
	char buf[8];

	script_send(&a->g->sb, sc, "x", 1, 0, a->g->now);
	script_close(&a->g->sb, sc, false, a->g->now);
	arig_settle(a);
	ck_assert_int_eq(send(lfd, "y", 1, MSG_NOSIGNAL | MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_int_eq(recv(lfd, buf, sizeof(buf), MSG_DONTWAIT), 1);
	ck_assert_int_eq(recv(lfd, buf, sizeof(buf), MSG_DONTWAIT), 0);
	close(lfd);
	arig_advance(a, 10 * FG_NS_PER_SEC);
	assert_idle(a, "after both ends");
	arig_free(a);
}
END_TEST

/*
 * The local service closes (not a SHUT_WR): the guest's peer gets
 * SHUTDOWN(RCV|SEND), as from Linux's close() (virtio_transport_close()),
 * so its writes fail with EPIPE (vsock_test "SOCK_STREAM client close").
 */
START_TEST(test_bridge_local_close_is_full_shutdown)
{
	struct arig *a = arig_new();
	struct script_conn *sc = arig_connect(a, UNIX_PORT);
	int lfd = accept_local(a);

	ck_assert_int_eq(send(lfd, "bye", 3, MSG_NOSIGNAL), 3);
	close(lfd);
	script_allow_read(&a->g->sb, sc, 100, a->g->now);
	arig_settle(a);
	ck_assert_uint_eq(sc->in_total, 3);
	ck_assert(sc->shut_wr);
	ck_assert_msg(sc->shut_rd, "a local close reached the host as a "
	    "half-close only");
	script_close(&a->g->sb, sc, false, a->g->now);
	arig_advance(a, 10 * FG_NS_PER_SEC);
	assert_idle(a, "after both ends");
	arig_free(a);
}
END_TEST

/* How many RSTs the guest sent among the rig's last packets. */
static unsigned
guest_rsts(const struct arig *a)
{
	uint64_t i;
	unsigned n = 0;

	for (i = a->g->npackets; i > 0 && i + GRIG_TRACE > a->g->npackets;
	    i--) {
		const struct grig_trace *t = &a->g->trace[(i - 1) % GRIG_TRACE];

		if (t->dir == VSOCK_TAP_GUEST_TO_HOST &&
		    t->hdr.op == VIRTIO_VSOCK_OP_RST)
			n++;
	}
	return n;
}

/*
 * The local program closes, and the host answers the guest's
 * SHUTDOWN(RCV|SEND) with RST (Firecracker's muxer does): the guest sends
 * nothing back. A Linux program's close() is virtio_transport_close():
 * SHUTDOWN, then linger; the peer's RST ends the lingering socket
 * (virtio_transport_do_close(), close work cancelled) without a reply.
 * Passing the close on as shutdown(SHUT_RDWR) and closing only after the
 * RST made the guest answer it with an RST of its own (virtio_transport_
 * close() on a socket whose peer_shutdown is full), which no guest whose
 * program just closes would send.
 */
START_TEST(test_bridge_local_close_then_host_rst_is_quiet)
{
	struct arig *a = arig_new();
	struct script_conn *sc = arig_connect(a, UNIX_PORT);
	int lfd = accept_local(a);

	close(lfd);
	arig_settle(a);
	ck_assert(sc->shut_wr && sc->shut_rd);
	script_close(&a->g->sb, sc, true, a->g->now);
	arig_settle(a);
	ck_assert_uint_eq(guest_rsts(a), 0);
	arig_advance(a, 10 * FG_NS_PER_SEC);
	ck_assert_uint_eq(guest_rsts(a), 0);
	assert_idle(a, "after the host's reset");
	arig_free(a);
}
END_TEST

/* Reads what gapps_connect_fd announced on fd (one line). */
static void
read_announce(int fd, char *line, size_t len)
{
	ssize_t n = recv(fd, line, len - 1, MSG_DONTWAIT);

	ck_assert_int_gt(n, 0);
	line[n] = '\0';
}

/*
 * A run --guest connect to the scripted host's port, established: the
 * guest's local port from the "OK" line; *local is the program's end.
 */
static uint32_t
run_connected(struct arig *a, uint32_t port, int *local)
{
	char line[64];
	int sv[2];

	ck_assert_int_eq(script_listen(&a->g->sb, port, SCRIPT_ACCEPT), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	ck_assert_int_eq(gapps_connect_fd(a->apps, sv[0], VMADDR_CID_HOST,
	    port, VIRTIO_VSOCK_TYPE_STREAM, NULL, a->g->now), 0);
	arig_settle(a);
	read_announce(sv[1], line, sizeof(line));
	ck_assert_msg(strncmp(line, "OK ", 3) == 0 && strchr(line, '\n'),
	    "announce: '%s'", line);
	*local = sv[1];
	return (uint32_t)atoi(line + 3);
}

/*
 * run --guest's connect: the bridge says "OK <guest port>" once the guest
 * connection is established and then carries data; a refused one is
 * "ERR 104" (ECONNRESET, what vsock_connect() returns after an RST).
 */
START_TEST(test_run_connect_announces)
{
	struct arig *a = arig_new();
	struct script_conn *sc;
	char line[64], buf[8];
	int sv[2];

	sc = script_find(&a->g->sb, 7000, run_connected(a, 7000, &sv[1]));
	ck_assert_ptr_nonnull(sc);
	script_send(&a->g->sb, sc, "hi", 2, 0, a->g->now);
	arig_settle(a);
	ck_assert_int_eq(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), 2);
	close(sv[1]);
	script_close(&a->g->sb, sc, false, a->g->now);
	arig_advance(a, 10 * FG_NS_PER_SEC);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	ck_assert_int_eq(gapps_connect_fd(a->apps, sv[0], VMADDR_CID_HOST,
	    7001, VIRTIO_VSOCK_TYPE_STREAM, NULL, a->g->now), 0);
	arig_settle(a);
	read_announce(sv[1], line, sizeof(line));
	ck_assert_str_eq(line, "ERR 104\n");
	ck_assert_int_eq(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), 0);
	close(sv[1]);
	assert_idle(a, "after both");
	arig_free(a);
}
END_TEST

/* The header of the rig's last packet the guest sent. */
static const struct vsock_hdr *
last_guest_packet(const struct arig *a)
{
	uint64_t i;

	for (i = a->g->npackets; i > 0 && i + GRIG_TRACE > a->g->npackets;
	    i--)
		if (a->g->trace[(i - 1) % GRIG_TRACE].dir ==
		    VSOCK_TAP_GUEST_TO_HOST)
			return &a->g->trace[(i - 1) % GRIG_TRACE].hdr;
	ck_abort_msg("no guest packet among the last %d", GRIG_TRACE);
	return NULL;
}

/*
 * run --guest: SO_VM_SOCKETS_BUFFER_SIZE set after connect names the
 * connection by its addresses, and the guest socket announces the new
 * buf_alloc at once in a CREDIT_UPDATE (Linux: vsock_update_buffer_size()
 * -> virtio_transport_notify_buffer_size()); the same size again sends
 * nothing (vsock_update_buffer_size() calls the transport only for a
 * change), and addresses of no connection are -ENOTCONN.
 */
START_TEST(test_run_set_buf_alloc_after_connect)
{
	struct arig *a = arig_new();
	const struct vsock_hdr *h;
	uint32_t port;
	uint64_t before;
	int sv[2];

	port = run_connected(a, 7000, &sv[1]);

	ck_assert_int_eq(gapps_set_buf_alloc(a->apps, port, VMADDR_CID_HOST,
	    7000, 40000, a->g->now), 0);
	arig_settle(a);
	h = last_guest_packet(a);
	ck_assert_uint_eq(h->op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	ck_assert_uint_eq(h->src_port, port);
	ck_assert_uint_eq(h->buf_alloc, 40000);

	before = a->g->npackets;
	ck_assert_int_eq(gapps_set_buf_alloc(a->apps, port, VMADDR_CID_HOST,
	    7000, 40000, a->g->now), 0);
	arig_settle(a);
	ck_assert_uint_eq(a->g->npackets, before);

	ck_assert_int_eq(gapps_set_buf_alloc(a->apps, port, VMADDR_CID_HOST,
	    7001, 40000, a->g->now), -ENOTCONN);
	ck_assert_int_eq(gapps_set_buf_alloc(a->apps, port + 1,
	    VMADDR_CID_HOST, 7000, 40000, a->g->now), -ENOTCONN);
	close(sv[1]);
	arig_advance(a, 10 * FG_NS_PER_SEC);
	arig_free(a);
}
END_TEST

/* Reads one raw message of fd: the flag byte (seq-frame.h) and data. */
static void
expect_framed(int fd, uint8_t flag, const char *data)
{
	char buf[16];
	size_t n = strlen(data);

	ck_assert_int_eq(recv(fd, buf, sizeof(buf), MSG_DONTWAIT),
	    (ssize_t)n + 1);
	ck_assert_uint_eq((uint8_t)buf[0], flag);
	ck_assert_mem_eq(buf + 1, data, n);
}

/*
 * run --guest's SEQPACKET connect that opted in ("CONNECT cid port eor"):
 * after the plain OK line, every bridged message carries the EOR byte
 * both ways, so the host's VIRTIO_VSOCK_SEQ_EOR reaches the program as
 * MSG_EOR and the program's MSG_EOR reaches the host.
 */
START_TEST(test_run_connect_framed_eor)
{
	struct arig *a = arig_new_seq(true);
	struct script_conn *sc;
	char line[64];
	int sv[2];

	ck_assert_int_eq(script_listen(&a->g->sb, 7000, SCRIPT_ACCEPT), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK,
	    0, sv), 0);
	ck_assert_int_eq(gapps_connect_fd(a->apps, sv[0], VMADDR_CID_HOST,
	    7000, VIRTIO_VSOCK_TYPE_SEQPACKET,
	    &(struct gapp_sock_opts){ .framed = true }, a->g->now), 0);
	arig_settle(a);
	read_announce(sv[1], line, sizeof(line));
	ck_assert_msg(strncmp(line, "OK ", 3) == 0, "announce: '%s'", line);
	sc = script_find(&a->g->sb, 7000, (uint32_t)atoi(line + 3));
	ck_assert_ptr_nonnull(sc);
	script_send(&a->g->sb, sc, "hi", 2, VIRTIO_VSOCK_SEQ_EOR, a->g->now);
	arig_settle(a);
	script_send(&a->g->sb, sc, "x", 1, 0, a->g->now);
	arig_settle(a);
	expect_framed(sv[1], SEQ_FRAME_EOR, "hi");
	expect_framed(sv[1], 0, "x");
	ck_assert_int_eq(send(sv[1], "\001ab", 3, 0), 3);
	ck_assert_int_eq(send(sv[1], "\000c", 2, 0), 2);
	script_allow_read(&a->g->sb, sc, 3, a->g->now);
	arig_settle(a);
	ck_assert_uint_eq(sc->in_nmsgs, 2);
	ck_assert_uint_eq(sc->in_msg[0].len, 2);
	ck_assert(sc->in_msg[0].flags & VIRTIO_VSOCK_SEQ_EOR);
	ck_assert_uint_eq(sc->in_msg[1].len, 1);
	ck_assert(!(sc->in_msg[1].flags & VIRTIO_VSOCK_SEQ_EOR));
	close(sv[1]);
	script_close(&a->g->sb, sc, false, a->g->now);
	arig_advance(a, 10 * FG_NS_PER_SEC);
	arig_free(a);
}
END_TEST

/*
 * run --guest's listen: the guest listens on the port and bridges to the
 * given path while the listener lives; the port is free again after.
 */
START_TEST(test_run_listen_and_unlisten)
{
	struct arig *a = arig_new();
	struct script_conn *sc = NULL;
	int h, lfd;

	ck_assert_int_eq(gapps_listen_unix(a->apps, ECHO_PORT,
	    VIRTIO_VSOCK_TYPE_STREAM, a->path, NULL), -EADDRINUSE);
	h = gapps_listen_unix(a->apps, 7100, VIRTIO_VSOCK_TYPE_STREAM,
	    a->path, NULL);
	ck_assert_int_ge(h, 0);
	sc = arig_connect(a, 7100);
	lfd = accept_local(a);
	close(lfd);
	script_close(&a->g->sb, sc, false, a->g->now);
	arig_advance(a, 10 * FG_NS_PER_SEC);
	gapps_unlisten(a->apps, h, a->g->now);
	arig_settle(a);
	assert_idle(a, "after unlisten");
	ck_assert_int_eq(script_connect(&a->g->sb, 7100,
	    VIRTIO_VSOCK_TYPE_STREAM, a->g->now, &sc), 0);
	arig_settle(a);
	ck_assert(!sc->established);
	ck_assert_int_ge(gapps_listen_unix(a->apps, 7100,
	    VIRTIO_VSOCK_TYPE_STREAM, a->path, NULL), 0);
	arig_free(a);
}
END_TEST

/*
 * run --guest: SO_VM_SOCKETS_BUFFER_SIZE set on a listener after listen
 * is what the connections it accepts from then on advertise (Linux:
 * vsock_update_buffer_size() stores it, __vsock_create() copies it to
 * each child, virtio_transport_do_socket_init() makes it the buf_alloc);
 * a handle that is no listener is -EBADF.
 */
START_TEST(test_run_listen_set_buf_alloc)
{
	struct arig *a = arig_new();
	const struct vsock_hdr *h;
	struct script_conn *sc;
	int l, lfd;

	l = gapps_listen_unix(a->apps, 7200, VIRTIO_VSOCK_TYPE_STREAM,
	    a->path, NULL);
	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(gapps_listen_set_buf_alloc(a->apps, l, 24576), 0);
	ck_assert_int_eq(gapps_listen_set_buf_alloc(a->apps, l + 1, 24576),
	    -EBADF);
	ck_assert_int_eq(gapps_listen_set_buf_alloc(a->apps, -1, 24576),
	    -EBADF);
	sc = arig_connect(a, 7200);
	h = last_guest_packet(a);
	ck_assert_uint_eq(h->op, VIRTIO_VSOCK_OP_RESPONSE);
	ck_assert_uint_eq(h->buf_alloc, 24576);
	lfd = accept_local(a);
	close(lfd);
	script_close(&a->g->sb, sc, false, a->g->now);
	arig_advance(a, 10 * FG_NS_PER_SEC);
	gapps_unlisten(a->apps, l, a->g->now);
	ck_assert_int_eq(gapps_listen_set_buf_alloc(a->apps, l, 24576),
	    -EBADF);
	arig_free(a);
}
END_TEST

/* Ways a unix: service can fail to take a connection (issue 18 item 1). */
enum unready {
	UNREADY_MISSING,	/* no file at the path */
	UNREADY_FILE,		/* a regular file there */
	UNREADY_NOT_LISTENING,	/* a socket bound there, never listen()ed */
	UNREADY_BACKLOG_FULL,	/* a listener whose backlog is full */
	UNREADY__COUNT,
};

/* Messages the services logged, for the "said once" checks. */
struct said {
	unsigned n;
	char last[256];
};

static void
said_log(void *ctx, const char *msg)
{
	struct said *s = ctx;

	s->n++;
	snprintf(s->last, sizeof(s->last), "%s", msg);
}

/*
 * Replaces the rig's unix: service by one that takes nothing, as how
 * says; fills fill[] with the clients that fill a backlog (-1 ends).
 */
static void
make_unready(struct arig *a, enum unready how, int *fill, size_t nfill)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t k = 0;
	int fd;

	close(a->lfd);
	a->lfd = -1;
	unlink(a->path);
	strcpy(sa.sun_path, a->path);
	if (how == UNREADY_FILE) {
		fd = open(a->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600);
		ck_assert_int_ge(fd, 0);
		close(fd);
	} else if (how != UNREADY_MISSING) {
		a->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(a->lfd, 0);
		ck_assert_int_eq(bind(a->lfd, (struct sockaddr *)&sa,
		    sizeof(sa)), 0);
	}
	if (how == UNREADY_BACKLOG_FULL) {
		ck_assert_int_eq(listen(a->lfd, 0), 0);
		/* AF_UNIX takes backlog + 1, then EAGAIN; bounded anyway. */
		for (k = 0; k + 1 < nfill; k++) {
			fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
			    SOCK_CLOEXEC, 0);
			ck_assert_int_ge(fd, 0);
			if (connect(fd, (struct sockaddr *)&sa,
			    sizeof(sa)) < 0) {
				ck_assert_int_eq(errno, EAGAIN);
				close(fd);
				break;
			}
			fill[k] = fd;
		}
		ck_assert_msg(k + 1 < nfill, "the backlog never filled");
	}
	fill[k] = -1;
}

/* Takes the unready service away and starts a listening one again. */
static void
make_ready(struct arig *a, int *fill)
{
	size_t k;

	for (k = 0; fill[k] >= 0; k++)
		close(fill[k]);
	if (a->lfd >= 0)
		close(a->lfd);
	unlink(a->path);
	rmdir(a->dir);
	arig_listen_local(a);
}

/*
 * Issue 18 item 1: a unix: service that is missing, is a regular file,
 * does not listen or has a full backlog makes the guest refuse as Linux
 * does with nothing listening (virtio_transport_reset_no_sock): RST to
 * the REQUEST, no RESPONSE, so the host never gets OK. Said once, not
 * per connection; no fd or socket is left. A service that comes up later
 * is used at once: the failure is not remembered.
 */
START_TEST(test_bridge_refuses_unready_service)
{
	enum unready how = (enum unready)_i;
	struct arig *a = arig_new();
	struct said said = { 0, "" };
	struct script_conn *sc;
	struct tx_mark m;
	unsigned k, fds;
	int fill[64];

	gapps_set_log(a->apps, said_log, &said);
	make_unready(a, how, fill, 64);
	fds = count_fds();
	tx_mark(a, &m);
	for (k = 0; k < 3; k++) {
		ck_assert_int_eq(script_connect(&a->g->sb, UNIX_PORT,
		    VIRTIO_VSOCK_TYPE_STREAM, a->g->now, &sc), 0);
		arig_settle(a);
		ck_assert_msg(!sc->established, "way %d: accepted", how);
		ck_assert_msg(sc->released != 0, "way %d: left hanging", how);
	}
	ck_assert_uint_eq(tx_since(a, &m, VIRTIO_VSOCK_OP_RESPONSE), 0);
	ck_assert_uint_eq(tx_since(a, &m, VIRTIO_VSOCK_OP_RST), 3);
	ck_assert_uint_eq(gapps_count(a->apps), 0);
	ck_assert_msg(count_fds() == fds, "way %d: %u fds leaked", how,
	    count_fds() - fds);
	assert_idle(a, "after the refusals");
	ck_assert_msg(said.n == 1, "way %d: said %u times", how, said.n);
	ck_assert_msg(strstr(said.last, a->path) != NULL &&
	    strstr(said.last, "56") != NULL, "way %d: said '%s'", how,
	    said.last);
	make_ready(a, fill);
	sc = arig_connect(a, UNIX_PORT);
	close(accept_local(a));
	arig_leave(a, sc, LEAVE_CLOSE);
	arig_advance(a, 10 * FG_NS_PER_SEC);
	assert_idle(a, "after the service came up");
	arig_free(a);
}
END_TEST

/* serve's SIGUSR1 line counts what is held now, not what ever was. */
START_TEST(test_counters)
{
	struct arig *a = arig_new();
	struct script_conn *sc = arig_connect(a, ECHO_PORT);
	struct serve_counters c;
	char line[160];

	serve_counters_get(a->g->vs, a->apps, a->g->dev, &c);
	serve_counters_format(&c, line, sizeof(line));
	ck_assert_str_eq(line, "stats guest_sockets=5 guest_apps=1 "
	    "device_conns=1 conns_opened=1");
	arig_leave(a, sc, LEAVE_CLOSE);
	serve_counters_get(a->g->vs, a->apps, a->g->dev, &c);
	ck_assert_uint_eq(c.guest_sockets, 4);
	ck_assert_uint_eq(c.guest_apps, 0);
	ck_assert_uint_eq(c.device_conns, 0);
	ck_assert_uint_eq(c.conns_opened, 1);
	ck_assert_int_eq(serve_counters_format(&c, line, 8), 64);
	ck_assert_str_eq(line, "stats g");
	arig_free(a);
}
END_TEST

static Suite *
gapps_suite(void)
{
	Suite *s = suite_create("gapps");
	TCase *life = tcase_create("lifecycle");

	tcase_set_timeout(life, 60);
	tcase_add_loop_test(life, test_clients_leave_mid_transfer, 0,
	    (int)(sizeof(service_ports) / sizeof(service_ports[0])) *
	    LEAVE__COUNT);
	tcase_add_test(life, test_host_half_close_then_close);
	tcase_add_test(life, test_host_close_timer_from_close);
	tcase_add_test(life, test_echo_nothing_after_rst);
	tcase_add_test(life, test_bridge_half_close);
	tcase_add_test(life, test_bridge_nothing_after_rst);
	tcase_add_test(life, test_bridge_no_shutdown_to_gone_peer);
	tcase_add_test(life, test_counters);
	tcase_add_test(life, test_bridge_peer_close_fails_local_writes);
	tcase_add_test(life, test_bridge_local_close_is_full_shutdown);
	tcase_add_test(life, test_bridge_local_close_then_host_rst_is_quiet);
	tcase_add_test(life, test_run_connect_announces);
	tcase_add_test(life, test_run_set_buf_alloc_after_connect);
	tcase_add_test(life, test_run_connect_framed_eor);
	tcase_add_test(life, test_run_listen_and_unlisten);
	tcase_add_test(life, test_run_listen_set_buf_alloc);
	tcase_add_loop_test(life, test_bridge_refuses_unready_service, 0,
	    UNREADY__COUNT);
	suite_add_tcase(s, life);
	return s;
}

VSE_CHECK_MAIN(gapps_suite)

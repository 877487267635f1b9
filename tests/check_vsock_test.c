/* check_vsock_test.c - Linux's tools/testing/vsock/vsock_test.c, wire-visible cases, on guest stack + device + scripted host. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "common.h"
#include "grig.h"

#define HPORT		1234	/* host service (vsock_test's default port) */
#define GPORT		1234	/* guest service */
#define STREAM		VIRTIO_VSOCK_TYPE_STREAM
#define SEQPACKET	VIRTIO_VSOCK_TYPE_SEQPACKET
#define NCONNS		100	/* vsock_test's MULTICONN_NFDS */
#define KIB		1024u

/* A rig with the given device profile, SEQPACKET offered or not. */
static struct grig *
rig(enum vsock_profile profile, bool seqpacket)
{
	struct grig_config c;

	grig_config_defaults(&c);
	c.profile = profile;
	c.seqpacket = seqpacket;
	return grig_new_cfg(&c);
}

/* getsockopt-like snapshot of fd; the socket must be open. */
static struct fg_sock_info
info(struct grig *g, int fd)
{
	struct fg_sock_info i;

	ck_assert_err(fg_sock_info(g->vs, fd, &i), 0);
	return i;
}

/* accept() must hand out a connected socket now. */
static int
accept_one(struct grig *g, int lfd)
{
	int fd = fg_sock_accept(g->vs, lfd);

	ck_assert_msg(fd >= 0, "accept: %d", fd);
	ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_CONNECTED);
	return fd;
}

/* The guest connects to a host listener; both ends established. */
static int
connect_ok(struct grig *g, uint16_t type, struct script_conn **sc)
{
	int fd = grig_connect(g, type, HPORT);

	ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_CONNECTED);
	*sc = grig_host_end(g, fd);
	ck_assert((*sc)->established);
	return fd;
}

/* The device holds no connection and the guest has no lingering socket. */
static void
all_closed(struct grig *g)
{
	ck_assert_uint_eq(vsock_device_nconns(g->dev), 0);
	ck_assert_uint_eq(fg_vsock_next_deadline(g->vs), FG_TIME_NEVER);
}

/*
 * "SOCK_STREAM connection reset": connect to a port nobody listens on.
 * The device refuses with RST; Linux reports ECONNRESET, not ECONNREFUSED.
 */
START_TEST(test_connection_reset)
{
	struct grig *g = rig(VSOCK_PROFILE_FIRECRACKER, false);
	int fd = grig_connect(g, STREAM, HPORT);

	ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_CLOSED);
	ck_assert_int_eq(fg_sock_error(g->vs, fd), ECONNRESET);
	ck_assert_uint_eq(g->sb.refusals, 1);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->rx_pkts[VIRTIO_VSOCK_OP_RST],
	    1);
	/* Refused at once, not after the 2 s connect timeout. */
	ck_assert_uint_eq(g->now, 0);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, "x", 1, 0), -ENOTCONN);
	all_closed(g);
	grig_free(g);
}
END_TEST

/*
 * "SOCK_STREAM bind only": the host connects to a guest port that is
 * bound but not listening. The guest answers RST; the host application
 * hears "refused" and the device keeps nothing.
 */
START_TEST(test_bind_only)
{
	struct grig *g = rig(VSOCK_PROFILE_FIRECRACKER, false);
	struct script_conn *sc;
	int fd = fg_sock_open(g->vs, STREAM);

	ck_assert_err(fg_sock_bind(g->vs, fd, GPORT), 0);
	ck_assert_err(grig_host_connect(g, STREAM, GPORT, &sc), 0);
	ck_assert_int_eq(sc->released, 1 + VSOCK_RELEASE_REFUSED);
	ck_assert(!sc->established);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->tx_pkts[VIRTIO_VSOCK_OP_RST],
	    1);
	/* The bound socket is untouched. */
	ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_UNCONNECTED);
	all_closed(g);
	grig_free(g);
}
END_TEST

/*
 * The guest's side of vsock_test's "wait for remote close, then send
 * fails, then the byte sent before the close is read, then EOF".
 */
static void
guest_sees_remote_close(struct grig *g, int fd)
{
	char c = 0;

	ck_assert_uint_eq(info(g, fd).peer_shutdown,
	    VIRTIO_VSOCK_SHUTDOWN_MASK);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, "x", 1, 0), -EPIPE);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, &c, 1, NULL), 1);
	ck_assert_int_eq(c, 'A');
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, &c, 1, NULL), 0);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, &c, 1, NULL), 0);
}

/* The host's side of the same: the byte, EOF, and the connection gone. */
static void
host_sees_remote_close(struct grig *g, struct script_conn *sc)
{
	(void)g;
	ck_assert_uint_eq(sc->in_len, 1);
	ck_assert_int_eq(sc->in[0], 'B');
	ck_assert(sc->shut_wr);		/* EOF after the byte */
	ck_assert(sc->shut_rd);		/* writing would fail: EPIPE */
	ck_assert_int_eq(sc->released, 1 + VSOCK_RELEASE_CLOSED);
}

/*
 * "SOCK_STREAM client close": the client sends a byte and closes; the
 * server sees the remote close, cannot send, reads the byte, then EOF.
 * Run twice: host client / guest server, then guest client / host server.
 */
START_TEST(test_client_close)
{
	struct grig *g = rig(VSOCK_PROFILE_FIRECRACKER, false);
	struct script_conn *sc;
	int lfd, fd;

	lfd = grig_listen(g, STREAM, GPORT, 1);
	ck_assert_err(grig_host_connect(g, STREAM, GPORT, &sc), 0);
	ck_assert(sc->established);
	fd = accept_one(g, lfd);
	ck_assert_err(script_send(&g->sb, sc, "A", 1, 0, g->now), 0);
	script_close(&g->sb, sc, false, g->now);
	grig_settle(g, g->now);
	guest_sees_remote_close(g, fd);
	ck_assert_err(fg_sock_close(g->vs, fd, g->now), 0);
	grig_settle(g, g->now);
	all_closed(g);

	script_listen(&g->sb, HPORT, SCRIPT_ACCEPT);
	fd = connect_ok(g, STREAM, &sc);
	grig_send_all(g, fd, "B", 1);
	ck_assert_err(fg_sock_close(g->vs, fd, g->now), 0);
	grig_settle(g, g->now);
	host_sees_remote_close(g, sc);
	all_closed(g);
	grig_free(g);
}
END_TEST

/*
 * "SOCK_STREAM server close": the server sends a byte and closes; the
 * client sees the same. Host server / guest client, then the reverse.
 */
START_TEST(test_server_close)
{
	struct grig *g = rig(VSOCK_PROFILE_LINUX, false);
	struct script_conn *sc;
	int lfd, fd;

	script_listen(&g->sb, HPORT, SCRIPT_ACCEPT);
	fd = connect_ok(g, STREAM, &sc);
	ck_assert_err(script_send(&g->sb, sc, "A", 1, 0, g->now), 0);
	script_close(&g->sb, sc, false, g->now);
	grig_settle(g, g->now);
	guest_sees_remote_close(g, fd);
	ck_assert_err(fg_sock_close(g->vs, fd, g->now), 0);
	grig_settle(g, g->now);
	all_closed(g);

	lfd = grig_listen(g, STREAM, GPORT, 1);
	ck_assert_err(grig_host_connect(g, STREAM, GPORT, &sc), 0);
	fd = accept_one(g, lfd);
	grig_send_all(g, fd, "B", 1);
	ck_assert_err(fg_sock_close(g->vs, fd, g->now), 0);
	grig_settle(g, g->now);
	host_sees_remote_close(g, sc);
	all_closed(g);
	grig_free(g);
}
END_TEST

/* Bytes connection i sends each way, and where in the pattern they start. */
static size_t
mc_len(int i)
{
	return 1 + (size_t)i * 97;
}

static uint64_t
mc_off(int i, bool to_host)
{
	return (uint64_t)i * 7919 + (to_host ? 0 : 3);
}

/*
 * Every connection sends its own slice of the pattern each way at once;
 * each end checks it got exactly its slice.
 */
static void
multiconn_data(struct grig *g, const int *fd, struct script_conn **sc)
{
	static uint8_t buf[NCONNS * 97 + 1];
	int i;

	for (i = 0; i < NCONNS; i++) {
		script_pattern_fill(mc_off(i, true), buf, mc_len(i));
		ck_assert_int_eq(fg_sock_send(g->vs, fd[i], buf, mc_len(i), 0),
		    (ssize_t)mc_len(i));
		script_pattern_fill(mc_off(i, false), buf, mc_len(i));
		ck_assert_err(script_send(&g->sb, sc[i], buf, mc_len(i), 0,
		    g->now), 0);
		if (fg_vsock_tx_pending(g->vs) > 32)
			grig_settle(g, g->now);
	}
	grig_settle(g, g->now);
	for (i = 0; i < NCONNS; i++) {
		ck_assert_uint_eq(sc[i]->in_len, mc_len(i));
		ck_assert(script_pattern_check(mc_off(i, true), sc[i]->in,
		    mc_len(i)));
		grig_recv_all(g, fd[i], buf, mc_len(i));
		ck_assert(script_pattern_check(mc_off(i, false), buf,
		    mc_len(i)));
		ck_assert_err(fg_sock_close(g->vs, fd[i], g->now), 0);
	}
	grig_settle(g, g->now);
	for (i = 0; i < NCONNS; i++)
		ck_assert_int_eq(sc[i]->released, 1 + VSOCK_RELEASE_CLOSED);
	all_closed(g);
}

/* "SOCK_STREAM multiple connections", guest-initiated: 100 at once. */
START_TEST(test_multiconn_guest)
{
	struct grig *g = rig(VSOCK_PROFILE_FIRECRACKER, false);
	struct script_conn *sc[NCONNS];
	int fd[NCONNS], i;

	script_listen(&g->sb, HPORT, SCRIPT_ACCEPT);
	for (i = 0; i < NCONNS; i++) {
		fd[i] = fg_sock_open(g->vs, STREAM);
		ck_assert_int_eq(fg_sock_connect(g->vs, fd[i], VMADDR_CID_HOST,
		    HPORT, g->now), -EINPROGRESS);
	}
	grig_settle(g, g->now);
	for (i = 0; i < NCONNS; i++) {
		ck_assert_int_eq(fg_sock_state(g->vs, fd[i]), FG_SS_CONNECTED);
		sc[i] = grig_host_end(g, fd[i]);
	}
	ck_assert_uint_eq(vsock_device_nconns(g->dev), NCONNS);
	multiconn_data(g, fd, sc);
	grig_free(g);
}
END_TEST

/* The same, host-initiated: 100 connects to one guest listener. */
START_TEST(test_multiconn_host)
{
	struct grig *g = rig(VSOCK_PROFILE_LINUX, false);
	struct script_conn *sc[NCONNS];
	int fd[NCONNS], lfd, i;

	lfd = grig_listen(g, STREAM, GPORT, NCONNS);
	for (i = 0; i < NCONNS; i++)
		ck_assert_err(script_connect(&g->sb, GPORT, STREAM, g->now,
		    &sc[i]), 0);
	grig_settle(g, g->now);
	ck_assert_uint_eq(info(g, lfd).accept_queued, NCONNS);
	for (i = 0; i < NCONNS; i++) {
		ck_assert(sc[i]->established);
		fd[i] = accept_one(g, lfd);
		/* FIFO: the i-th accepted is the i-th connect. */
		ck_assert_uint_eq(info(g, fd[i]).peer_port, sc[i]->host_port);
	}
	ck_assert_int_eq(fg_sock_accept(g->vs, lfd), -EAGAIN);
	multiconn_data(g, fd, sc);
	grig_free(g);
}
END_TEST

#define LIMIT	10

/*
 * Not in vsock_test.c: the same burst against a device limited to 10
 * connections (Firecracker's max_conns knob). The first 10 connect, the
 * rest are reset (ECONNRESET) with nothing held; once one closes, a
 * retry gets its slot.
 */
START_TEST(test_multiconn_limit)
{
	struct grig_config c;
	struct grig *g;
	int fd[LIMIT + 2], i;

	grig_config_defaults(&c);
	c.max_conns = LIMIT;
	g = grig_new_cfg(&c);
	script_listen(&g->sb, HPORT, SCRIPT_ACCEPT);
	for (i = 0; i < LIMIT + 2; i++) {
		fd[i] = fg_sock_open(g->vs, STREAM);
		ck_assert_int_eq(fg_sock_connect(g->vs, fd[i], VMADDR_CID_HOST,
		    HPORT, g->now), -EINPROGRESS);
	}
	grig_settle(g, g->now);
	for (i = 0; i < LIMIT + 2; i++)
		ck_assert_int_eq(fg_sock_state(g->vs, fd[i]),
		    i < LIMIT ? FG_SS_CONNECTED : FG_SS_CLOSED);
	ck_assert_int_eq(fg_sock_error(g->vs, fd[LIMIT]), ECONNRESET);
	ck_assert_uint_eq(vsock_device_stats(g->dev)->rst_conn_limit, 2);
	ck_assert_uint_eq(vsock_device_nconns(g->dev), LIMIT);
	ck_assert_err(fg_sock_close(g->vs, fd[0], g->now), 0);
	grig_settle(g, g->now);
	ck_assert_int_eq(fg_sock_connect(g->vs, fd[LIMIT], VMADDR_CID_HOST,
	    HPORT, g->now), -EINPROGRESS);
	grig_settle(g, g->now);
	ck_assert_int_eq(fg_sock_state(g->vs, fd[LIMIT]), FG_SS_CONNECTED);
	grig_send_all(g, fd[LIMIT], "B", 1);
	ck_assert_uint_eq(grig_host_end(g, fd[LIMIT])->in_len, 1);
	grig_free(g);
}
END_TEST

/* Message i of the bounds tests: boundary sizes first, then a mix. */
static size_t
msg_len(unsigned i)
{
	static const size_t edge[] = {
		1, 2, 43, 44, 45, 4095, 4096, 4097, 65535, 65536, 65537,
		131072, 200003,
	};

	if (i < sizeof(edge) / sizeof(edge[0]))
		return edge[i];
	/* A small LCG: deterministic sizes from 1 to 12 KiB. */
	return 1 + (i * 2654435761u >> 7) % (12 * KIB);
}

/* Every third message carries MSG_EOR (vsock_test alternates too). */
static bool
msg_eor(unsigned i)
{
	return i % 3 == 1;
}

#define NMSGS	300

/* "SOCK_SEQPACKET msg bounds", guest to host: lengths and EOR arrive. */
static void
msg_bounds_to_host(struct grig *g, int fd, struct script_conn *sc)
{
	static uint8_t buf[256 * KIB];
	uint64_t off = 0;
	unsigned i;
	ssize_t n;

	for (i = 0; i < NMSGS; i++) {
		script_pattern_fill(off, buf, msg_len(i));
		n = fg_sock_send(g->vs, fd, buf, msg_len(i),
		    msg_eor(i) ? MSG_EOR : 0);
		if (n == -EAGAIN) {
			grig_settle(g, g->now);
			n = fg_sock_send(g->vs, fd, buf, msg_len(i),
			    msg_eor(i) ? MSG_EOR : 0);
		}
		ck_assert_msg(n == (ssize_t)msg_len(i), "message %u: %zd", i,
		    n);
		off += msg_len(i);
	}
	grig_settle(g, g->now);
	ck_assert_uint_eq(sc->in_nmsgs, NMSGS);
	for (i = 0; i < NMSGS; i++) {
		ck_assert_uint_eq(sc->in_msg[i].len, msg_len(i));
		ck_assert_uint_eq(sc->in_msg[i].flags, VIRTIO_VSOCK_SEQ_EOM |
		    (msg_eor(i) ? VIRTIO_VSOCK_SEQ_EOR : 0));
	}
	ck_assert_uint_eq(sc->in_len, off);
	ck_assert(script_pattern_check(0, sc->in, sc->in_len));
}

/* The same, host to guest: one recv is one message, EOR as sent. */
static void
msg_bounds_to_guest(struct grig *g, int fd, struct script_conn *sc)
{
	static uint8_t buf[256 * KIB];
	uint64_t off = 0;
	unsigned i;
	ssize_t n;
	int flags;

	for (i = 0; i < NMSGS; i++) {
		script_pattern_fill(off, buf, msg_len(i));
		ck_assert_err(script_send(&g->sb, sc, buf, msg_len(i),
		    msg_eor(i) ? VIRTIO_VSOCK_SEQ_EOR : 0, g->now), 0);
		off += msg_len(i);
	}
	grig_settle(g, g->now);
	for (i = 0, off = 0; i < NMSGS; i++) {
		n = fg_sock_recv(g->vs, fd, buf, sizeof(buf), &flags);
		if (n == -EAGAIN) {
			grig_settle(g, g->now);
			n = fg_sock_recv(g->vs, fd, buf, sizeof(buf), &flags);
		}
		ck_assert_msg(n == (ssize_t)msg_len(i), "message %u: %zd, "
		    "want %zu", i, n, msg_len(i));
		ck_assert_int_eq(flags, msg_eor(i) ? MSG_EOR : 0);
		ck_assert(script_pattern_check(off, buf, (size_t)n));
		off += msg_len(i);
	}
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, sizeof(buf), &flags),
	    -EAGAIN);
}

/*
 * "SOCK_SEQPACKET msg bounds": many messages of mixed sizes (some span
 * several 64 KiB packets, some several 4 KiB RX buffers), with and
 * without MSG_EOR; every boundary survives, both ways.
 */
START_TEST(test_seqpacket_msg_bounds)
{
	struct grig *g = rig(VSOCK_PROFILE_LINUX, true);
	struct script_conn *sc;
	int fd;

	script_listen(&g->sb, HPORT, SCRIPT_ACCEPT);
	fd = connect_ok(g, SEQPACKET, &sc);
	msg_bounds_to_host(g, fd, sc);
	msg_bounds_to_guest(g, fd, sc);
	grig_free(g);
}
END_TEST

/*
 * "SOCK_SEQPACKET big message": a message beyond the peer's buffer fails
 * with EMSGSIZE in the guest. A host message beyond the guest's buf_alloc
 * cannot be delivered: the device resets the connection rather than
 * truncate it. One byte less passes.
 */
START_TEST(test_seqpacket_bigmsg)
{
	static uint8_t buf[256 * KIB + 1];
	struct grig *g = rig(VSOCK_PROFILE_LINUX, true);
	struct script_conn *sc;
	int fd, flags;

	script_listen(&g->sb, HPORT, SCRIPT_ACCEPT);
	fd = connect_ok(g, SEQPACKET, &sc);
	ck_assert_uint_eq(info(g, fd).peer_buf_alloc, 256 * KIB);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 256 * KIB + 1, 0),
	    -EMSGSIZE);
	grig_send_all(g, fd, buf, 256 * KIB);
	ck_assert_uint_eq(sc->in_nmsgs, 1);
	ck_assert_uint_eq(sc->in_msg[0].len, 256 * KIB);

	/* The guest shrinks its buffer to 8 KiB and tells the device. */
	ck_assert_err(fg_sock_set_buf_alloc(g->vs, fd, 8 * KIB), 0);
	grig_settle(g, g->now);
	ck_assert_err(script_send(&g->sb, sc, buf, 8 * KIB, 0, g->now), 0);
	grig_settle(g, g->now);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, sizeof(buf), &flags),
	    8 * KIB);
	ck_assert_err(script_send(&g->sb, sc, buf, 8 * KIB + 1, 0, g->now), 0);
	grig_settle(g, g->now);
	ck_assert_uint_eq(vsock_device_stats(g->dev)->seqpacket_oversize, 1);
	ck_assert_int_eq(sc->released, 1 + VSOCK_RELEASE_RESET);
	/* Nothing of it arrived: the connection just ended. */
	ck_assert_uint_eq(info(g, fd).rx_bytes, 0);
	ck_assert_uint_eq(info(g, fd).peer_shutdown,
	    VIRTIO_VSOCK_SHUTDOWN_MASK);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, sizeof(buf), &flags), 0);
	ck_assert_err(fg_sock_close(g->vs, fd, g->now), 0);
	grig_settle(g, g->now);
	all_closed(g);
	grig_free(g);
}
END_TEST

#define MERGE_SENDS	3000

/* Send i of the merge test is 1 to 13 bytes. */
static size_t
merge_len(unsigned i)
{
	return 1 + i % 13;
}

/*
 * "SOCK_STREAM virtio skb merge": many tiny writes without the reader
 * running in between; every byte arrives, in order, and one read takes
 * data that came in many packets. Both directions.
 */
START_TEST(test_stream_merge)
{
	static uint8_t buf[64 * KIB];
	struct grig *g = rig(VSOCK_PROFILE_FIRECRACKER, false);
	struct script_conn *sc;
	uint64_t off = 0, rx_before;
	unsigned i;
	ssize_t n;
	int fd;

	script_listen(&g->sb, HPORT, SCRIPT_ACCEPT);
	fd = connect_ok(g, STREAM, &sc);
	for (i = 0; i < MERGE_SENDS; i++) {
		script_pattern_fill(off, buf, merge_len(i));
		grig_send_all(g, fd, buf, merge_len(i));
		off += merge_len(i);
	}
	ck_assert_uint_eq(sc->in_len, off);
	ck_assert(script_pattern_check(0, sc->in, sc->in_len));

	rx_before = fg_vsock_stats(g->vs)->rx_pkts[VIRTIO_VSOCK_OP_RW];
	for (i = 0, off = 0; i < MERGE_SENDS; i++) {
		script_pattern_fill(off, buf, merge_len(i));
		ck_assert_err(script_send(&g->sb, sc, buf, merge_len(i), 0,
		    g->now), 0);
		off += merge_len(i);
	}
	grig_settle(g, g->now);
	/* Many packets, and one recv takes them all. */
	ck_assert_uint_gt(fg_vsock_stats(g->vs)->rx_pkts[VIRTIO_VSOCK_OP_RW] -
	    rx_before, 1);
	n = fg_sock_recv(g->vs, fd, buf, sizeof(buf), NULL);
	ck_assert_int_eq(n, (ssize_t)off);
	ck_assert(script_pattern_check(0, buf, (size_t)n));
	grig_free(g);
}
END_TEST

/*
 * "SOCK_STREAM SHUT_WR": after shutdown(SHUT_WR) send fails with EPIPE,
 * the peer reads EOF, and the other direction still works. Guest shuts
 * first, then (on a new connection) the host.
 */
START_TEST(test_stream_shutwr)
{
	struct grig *g = rig(VSOCK_PROFILE_FIRECRACKER, false);
	struct script_conn *sc;
	char c;
	int fd;

	script_listen(&g->sb, HPORT, SCRIPT_ACCEPT);
	fd = connect_ok(g, STREAM, &sc);
	grig_send_all(g, fd, "B", 1);
	ck_assert_err(fg_sock_shutdown(g->vs, fd, SHUT_WR), 0);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, "x", 1, 0), -EPIPE);
	grig_settle(g, g->now);
	ck_assert(sc->shut_wr && !sc->shut_rd);
	ck_assert_uint_eq(sc->in_len, 1);
	ck_assert_int_eq(sc->released, 0);
	ck_assert_err(script_send(&g->sb, sc, "A", 1, 0, g->now), 0);
	grig_recv_all(g, fd, &c, 1);
	ck_assert_int_eq(c, 'A');
	ck_assert_err(fg_sock_close(g->vs, fd, g->now), 0);
	grig_settle(g, g->now);
	all_closed(g);

	fd = connect_ok(g, STREAM, &sc);
	ck_assert_err(script_send(&g->sb, sc, "A", 1, 0, g->now), 0);
	script_shutdown_write(&g->sb, sc, g->now);
	grig_settle(g, g->now);
	ck_assert_uint_eq(info(g, fd).peer_shutdown,
	    VIRTIO_VSOCK_SHUTDOWN_SEND);
	grig_recv_all(g, fd, &c, 1);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, &c, 1, NULL), 0);
	grig_send_all(g, fd, "B", 1);
	ck_assert_uint_eq(sc->in_len, 1);
	ck_assert_err(fg_sock_close(g->vs, fd, g->now), 0);
	grig_settle(g, g->now);
	ck_assert_int_eq(sc->released, 1 + VSOCK_RELEASE_CLOSED);
	all_closed(g);
	grig_free(g);
}
END_TEST

/*
 * "SOCK_STREAM SHUT_RD": once a side shut reading, the other side's send
 * fails with EPIPE. The guest shuts its reading (the host application
 * hears SHUT_RD and its pending data is never read for the guest); then
 * the host closes, which shuts its reading too, and the guest's send
 * fails.
 */
START_TEST(test_stream_shutrd)
{
	struct grig *g = rig(VSOCK_PROFILE_FIRECRACKER, false);
	struct script_conn *sc;
	uint64_t reads;
	char c;
	int fd;

	script_listen(&g->sb, HPORT, SCRIPT_ACCEPT);
	fd = connect_ok(g, STREAM, &sc);
	ck_assert_err(fg_sock_shutdown(g->vs, fd, SHUT_RD), 0);
	grig_settle(g, g->now);
	ck_assert(sc->shut_rd && !sc->shut_wr);
	reads = sc->reads;
	ck_assert_err(script_send(&g->sb, sc, "A", 1, 0, g->now), 0);
	grig_settle(g, g->now);
	ck_assert_uint_eq(sc->reads, reads);
	ck_assert_uint_eq(info(g, fd).rx_bytes, 0);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, &c, 1, NULL), 0);
	/* Writing still works. */
	grig_send_all(g, fd, "B", 1);
	ck_assert_uint_eq(sc->in_len, 1);
	ck_assert_err(fg_sock_close(g->vs, fd, g->now), 0);
	grig_settle(g, g->now);
	all_closed(g);

	fd = connect_ok(g, STREAM, &sc);
	script_close(&g->sb, sc, false, g->now);
	grig_settle(g, g->now);
	ck_assert(info(g, fd).peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_RCV);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, "x", 1, 0), -EPIPE);
	ck_assert_err(fg_sock_close(g->vs, fd, g->now), 0);
	grig_settle(g, g->now);
	all_closed(g);
	grig_free(g);
}
END_TEST

/*
 * "SOCK_STREAM double bind connect": a client bound to a fixed port
 * connects, the connection closes cleanly, and the same port connects to
 * the same service again: the (host port, guest port) tuple is reused.
 * Who closes first alternates; the device must have forgotten the old
 * connection either way.
 */
START_TEST(test_double_bind_connect)
{
	struct grig *g = rig(VSOCK_PROFILE_FIRECRACKER, false);
	struct script_conn *sc;
	int fd, round;

	script_listen(&g->sb, HPORT, SCRIPT_ACCEPT);
	for (round = 0; round < 4; round++) {
		fd = fg_sock_open(g->vs, STREAM);
		ck_assert_err(fg_sock_bind(g->vs, fd, 5000), 0);
		ck_assert_int_eq(fg_sock_connect(g->vs, fd, VMADDR_CID_HOST,
		    HPORT, g->now), -EINPROGRESS);
		grig_settle(g, g->now);
		ck_assert_msg(fg_sock_state(g->vs, fd) == FG_SS_CONNECTED,
		    "round %d: state %d error %d", round,
		    fg_sock_state(g->vs, fd), fg_sock_error(g->vs, fd));
		sc = grig_host_end(g, fd);
		grig_send_all(g, fd, "B", 1);
		ck_assert_uint_eq(sc->in_len, 1);
		if (round % 2 == 1) {
			script_close(&g->sb, sc, false, g->now);
			grig_settle(g, g->now);
		}
		ck_assert_err(fg_sock_close(g->vs, fd, g->now), 0);
		grig_settle(g, g->now);
		ck_assert_int_eq(sc->released, 1 + VSOCK_RELEASE_CLOSED);
		all_closed(g);
	}
	grig_free(g);
}
END_TEST

#define CREDIT_BUF	(128 * KIB)	/* RCVLOWAT_CREDIT_UPD_BUF_SIZE */

/*
 * vsock_test's credit-update-with-SO_RCVLOWAT pair. The guest's buffer is
 * 128 KiB; the host sends 128 KiB + 1, so the last byte waits for credit.
 * The guest reads 64 KiB: free space is then 64 KiB, not below one
 * packet, so Linux >= 6.8 sends no update and the host stays blocked,
 * unless fewer than SO_RCVLOWAT bytes are left queued. low_rx_bytes sets
 * SO_RCVLOWAT = 64 KiB + 1 before the read ("SOCK_STREAM virtio credit
 * update + low rx_bytes"); otherwise setting it after the read must send
 * the update ("SOCK_STREAM virtio credit update + SO_RCVLOWAT").
 */
static void
credit_update_test(bool low_rx_bytes)
{
	static uint8_t buf[CREDIT_BUF + 1];
	struct grig *g = rig(VSOCK_PROFILE_LINUX, false);
	struct script_conn *sc;
	int fd;

	script_listen(&g->sb, HPORT, SCRIPT_ACCEPT);
	fd = connect_ok(g, STREAM, &sc);
	ck_assert_err(fg_sock_set_buf_alloc(g->vs, fd, CREDIT_BUF), 0);
	if (low_rx_bytes)
		ck_assert_err(fg_sock_set_rcvlowat(g->vs, fd,
		    VIRTIO_VSOCK_MAX_PKT_BUF_SIZE + 1), 0);
	grig_settle(g, g->now);
	script_send_pattern(&g->sb, sc, CREDIT_BUF + 1, g->now);
	grig_settle(g, g->now);
	ck_assert_uint_eq(info(g, fd).rx_bytes, CREDIT_BUF);

	grig_recv_all(g, fd, buf, VIRTIO_VSOCK_MAX_PKT_BUF_SIZE);
	if (!low_rx_bytes) {
		/* No update yet: the sender is still blocked. */
		ck_assert_uint_eq(info(g, fd).rx_bytes,
		    CREDIT_BUF - VIRTIO_VSOCK_MAX_PKT_BUF_SIZE);
		ck_assert_uint_eq(sc->out_pattern_left, 1);
		ck_assert_err(fg_sock_set_rcvlowat(g->vs, fd,
		    VIRTIO_VSOCK_MAX_PKT_BUF_SIZE + 1), 0);
		grig_settle(g, g->now);
	}
	/* The update went out; the last byte is here (poll() returns). */
	ck_assert_uint_eq(sc->out_pattern_left, 0);
	ck_assert_uint_eq(info(g, fd).rx_bytes,
	    CREDIT_BUF - VIRTIO_VSOCK_MAX_PKT_BUF_SIZE + 1);
	grig_recv_all(g, fd, buf + VIRTIO_VSOCK_MAX_PKT_BUF_SIZE,
	    CREDIT_BUF + 1 - VIRTIO_VSOCK_MAX_PKT_BUF_SIZE);
	ck_assert(script_pattern_check(0, buf, CREDIT_BUF + 1));
	grig_free(g);
}

START_TEST(test_credit_update_set_rcvlowat)
{
	credit_update_test(false);
}
END_TEST

START_TEST(test_credit_update_low_rx_bytes)
{
	credit_update_test(true);
}
END_TEST

/*
 * "SOCK_STREAM retry failed connect()": the first connect is refused
 * (RST, ECONNRESET); once the host listens, connect() on the same socket
 * succeeds and carries data.
 */
START_TEST(test_connect_retry)
{
	struct grig *g = rig(VSOCK_PROFILE_FIRECRACKER, false);
	struct script_conn *sc;
	int fd = grig_connect(g, STREAM, HPORT);

	ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_CLOSED);
	ck_assert_int_eq(fg_sock_error(g->vs, fd), ECONNRESET);
	script_listen(&g->sb, HPORT, SCRIPT_ACCEPT);
	ck_assert_int_eq(fg_sock_connect(g->vs, fd, VMADDR_CID_HOST, HPORT,
	    g->now), -EINPROGRESS);
	grig_settle(g, g->now);
	ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_CONNECTED);
	ck_assert_int_eq(fg_sock_error(g->vs, fd), 0);
	sc = grig_host_end(g, fd);
	grig_send_all(g, fd, "B", 1);
	ck_assert_uint_eq(sc->in_len, 1);
	ck_assert_uint_eq(g->sb.refusals, 1);
	grig_free(g);
}
END_TEST

#define MS	(FG_NS_PER_SEC / 1000)

/*
 * Not in vsock_test.c (its timeouts are SO_RCVTIMEO): connect() to a host
 * service whose connect never finishes ends after 2 s of virtual time.
 * The guest gives up (Linux's VSOCK_DEFAULT_CONNECT_TIMEOUT) and the
 * device gives up on the host side at the same moment (its request
 * timeout): whichever fires first, the guest socket is closed, the host
 * side released as a timeout, and a late completion finds nothing.
 */
START_TEST(test_connect_timeout)
{
	struct grig *g = rig(VSOCK_PROFILE_FIRECRACKER, false);
	struct script_conn *sc;
	int fd;

	script_listen(&g->sb, HPORT, SCRIPT_PENDING);
	fd = grig_connect(g, STREAM, HPORT);
	sc = grig_host_end(g, fd);
	grig_advance(g, FG_CONNECT_TIMEOUT - MS);
	ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_CONNECTING);
	ck_assert_int_eq(sc->released, 0);
	grig_advance(g, MS);
	ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_CLOSED);
	ck_assert(fg_sock_error(g->vs, fd) == ETIMEDOUT ||
	    fg_sock_error(g->vs, fd) == ECONNRESET);
	ck_assert_int_eq(sc->released, 1 + VSOCK_RELEASE_TIMEOUT);
	ck_assert_uint_eq(vsock_device_nconns(g->dev), 0);
	script_complete(&g->sb, sc, 0, g->now);	/* too late: ignored */
	grig_settle(g, g->now);
	all_closed(g);
	grig_free(g);
}
END_TEST

/*
 * The host closes while the guest has not read its data: the guest owes
 * no RST until it has read, so the device's close timeout (2 s,
 * Firecracker profile) ends the connection. The guest still reads every
 * byte, then EOF.
 */
START_TEST(test_close_timeout_device)
{
	struct grig *g = rig(VSOCK_PROFILE_FIRECRACKER, false);
	struct script_conn *sc;
	char buf[4];
	int fd;

	script_listen(&g->sb, HPORT, SCRIPT_ACCEPT);
	fd = connect_ok(g, STREAM, &sc);
	ck_assert_err(script_send(&g->sb, sc, "ABC", 3, 0, g->now), 0);
	script_close(&g->sb, sc, false, g->now);
	grig_settle(g, g->now);
	ck_assert_uint_eq(vsock_device_nconns(g->dev), 1);
	grig_advance(g, 2 * FG_NS_PER_SEC - MS);
	ck_assert_uint_eq(vsock_device_nconns(g->dev), 1);
	grig_advance(g, MS);
	ck_assert_uint_eq(vsock_device_stats(g->dev)->timeouts_close, 1);
	ck_assert_uint_eq(vsock_device_nconns(g->dev), 0);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, sizeof(buf), NULL), 3);
	ck_assert_int_eq(memcmp(buf, "ABC", 3), 0);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, sizeof(buf), NULL), 0);
	ck_assert_err(fg_sock_close(g->vs, fd, g->now), 0);
	grig_settle(g, g->now);
	all_closed(g);
	grig_free(g);
}
END_TEST

/*
 * The guest closes while the host application still has not taken its
 * data (a slow reader): the device cannot finish the close, so the
 * guest's close timeout (8 s, Linux's VSOCK_CLOSE_TIMEOUT) sends RST,
 * and the host hears a reset.
 */
START_TEST(test_close_timeout_guest)
{
	static uint8_t buf[8 * KIB];
	struct grig *g = rig(VSOCK_PROFILE_FIRECRACKER, false);
	struct script_conn *sc;
	int fd;

	script_listen(&g->sb, HPORT, SCRIPT_ACCEPT);
	g->sb.default_in_limit = 1000;
	fd = connect_ok(g, STREAM, &sc);
	grig_send_all(g, fd, buf, sizeof(buf));
	ck_assert_uint_eq(sc->in_total, 1000);
	ck_assert_err(fg_sock_close(g->vs, fd, g->now), 0);
	grig_advance(g, FG_CLOSE_TIMEOUT - MS);
	ck_assert_int_eq(sc->released, 0);
	grig_advance(g, MS);
	ck_assert_int_eq(sc->released, 1 + VSOCK_RELEASE_RESET);
	ck_assert_uint_eq(vsock_device_stats(g->dev)->data_discarded,
	    sizeof(buf) - 1000);
	all_closed(g);
	grig_free(g);
}
END_TEST

static Suite *
vsock_test_suite(void)
{
	Suite *s = suite_create("vsock_test");
	TCase *tc = tcase_create("linux");

	tcase_add_test(tc, test_connection_reset);
	tcase_add_test(tc, test_bind_only);
	tcase_add_test(tc, test_client_close);
	tcase_add_test(tc, test_server_close);
	tcase_add_test(tc, test_multiconn_guest);
	tcase_add_test(tc, test_multiconn_host);
	tcase_add_test(tc, test_multiconn_limit);
	tcase_add_test(tc, test_seqpacket_msg_bounds);
	tcase_add_test(tc, test_seqpacket_bigmsg);
	tcase_add_test(tc, test_stream_merge);
	tcase_add_test(tc, test_stream_shutwr);
	tcase_add_test(tc, test_stream_shutrd);
	tcase_add_test(tc, test_double_bind_connect);
	tcase_add_test(tc, test_credit_update_set_rcvlowat);
	tcase_add_test(tc, test_credit_update_low_rx_bytes);
	tcase_add_test(tc, test_connect_retry);
	tcase_add_test(tc, test_connect_timeout);
	tcase_add_test(tc, test_close_timeout_device);
	tcase_add_test(tc, test_close_timeout_guest);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(vsock_test_suite)

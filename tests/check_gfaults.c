/* check_gfaults.c - the faults the simulated guest commits on request (fakeguest/faults.c), against the device and a scripted host in virtual time. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "faults.h"
#include "grig.h"

#define PORT		5000
#define OTHER_PORT	5001
#define MS		UINT64_C(1000000)

/* Accepts one connection on listener l, or fails the test. */
static int
accept_one(struct grig *g, int l)
{
	int fd = fg_sock_accept(g->vs, l);

	ck_assert_int_ge(fd, 0);
	return fd;
}

/* refuse PORT: RST instead of RESPONSE; accept PORT: served again. */
START_TEST(test_refuse_then_accept)
{
	struct grig *g = grig_new();
	struct script_conn *sc;
	int l = grig_listen(g, VIRTIO_VSOCK_TYPE_STREAM, PORT, 8);

	grig_listen(g, VIRTIO_VSOCK_TYPE_STREAM, OTHER_PORT, 8);
	ck_assert_int_eq(fg_fault_set_port(g->vs, PORT, FG_FAULT_REFUSE, 0), 0);
	ck_assert_int_eq(fg_fault_port(g->vs, PORT), FG_FAULT_REFUSE);
	ck_assert_int_eq(grig_host_connect(g, VIRTIO_VSOCK_TYPE_STREAM, PORT,
	    &sc), 0);
	ck_assert(!sc->established);
	ck_assert_int_ne(sc->released, 0);
	ck_assert_int_eq(fg_sock_accept(g->vs, l), -EAGAIN);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->tx_pkts[VIRTIO_VSOCK_OP_RST],
	    1);
	/* Other ports are not touched. */
	grig_host_connect(g, VIRTIO_VSOCK_TYPE_STREAM, OTHER_PORT, &sc);
	ck_assert(sc->established);
	ck_assert_int_eq(fg_fault_set_port(g->vs, PORT, FG_FAULT_NONE, 0), 0);
	ck_assert_int_eq(fg_fault_port(g->vs, PORT), FG_FAULT_NONE);
	grig_host_connect(g, VIRTIO_VSOCK_TYPE_STREAM, PORT, &sc);
	ck_assert(sc->established);
	accept_one(g, l);
	grig_free(g);
}
END_TEST

/* delay PORT MS: RESPONSE after exactly MS of the injected clock. */
START_TEST(test_delay_holds_response)
{
	struct grig *g = grig_new();
	struct script_conn *sc;
	int l = grig_listen(g, VIRTIO_VSOCK_TYPE_STREAM, PORT, 8);

	ck_assert_int_eq(fg_fault_set_port(g->vs, PORT, FG_FAULT_DELAY, 500),
	    0);
	grig_host_connect(g, VIRTIO_VSOCK_TYPE_STREAM, PORT, &sc);
	ck_assert(!sc->established);
	ck_assert_int_eq(sc->released, 0);
	/* Not acceptable before it is connected. */
	ck_assert_int_eq(fg_sock_accept(g->vs, l), -EAGAIN);
	grig_advance(g, 499 * MS);
	ck_assert(!sc->established);
	grig_advance(g, 1 * MS);
	ck_assert(sc->established);
	accept_one(g, l);
	grig_free(g);
}
END_TEST

/*
 * A hold longer than the device's request timeout: the host side gives
 * up (RST), and the held child goes without ever answering.
 */
START_TEST(test_delay_past_request_timeout)
{
	struct grig *g = grig_new();
	struct script_conn *sc;
	int l = grig_listen(g, VIRTIO_VSOCK_TYPE_STREAM, PORT, 8);
	unsigned socks;

	socks = fg_vsock_socket_count(g->vs);
	fg_fault_set_port(g->vs, PORT, FG_FAULT_DELAY, 5000);
	grig_host_connect(g, VIRTIO_VSOCK_TYPE_STREAM, PORT, &sc);
	grig_advance(g, 6000 * MS);
	ck_assert(!sc->established);
	ck_assert_int_ne(sc->released, 0);
	ck_assert_int_eq(fg_sock_accept(g->vs, l), -EAGAIN);
	ck_assert_uint_eq(fg_vsock_socket_count(g->vs), socks);
	ck_assert_uint_eq(
	    fg_vsock_stats(g->vs)->tx_pkts[VIRTIO_VSOCK_OP_RESPONSE], 0);
	grig_free(g);
}
END_TEST

/* A transport reset during a hold ends the held child silently too. */
START_TEST(test_delay_then_transport_reset)
{
	struct grig *g = grig_new();
	struct script_conn *sc;
	unsigned socks;

	grig_listen(g, VIRTIO_VSOCK_TYPE_STREAM, PORT, 8);
	socks = fg_vsock_socket_count(g->vs);
	fg_fault_set_port(g->vs, PORT, FG_FAULT_DELAY, 100);
	grig_host_connect(g, VIRTIO_VSOCK_TYPE_STREAM, PORT, &sc);
	vsock_device_transport_reset(g->dev, g->now);
	grig_advance(g, 200 * MS);
	ck_assert_uint_eq(fg_vsock_socket_count(g->vs), socks);
	ck_assert_uint_eq(
	    fg_vsock_stats(g->vs)->tx_pkts[VIRTIO_VSOCK_OP_RESPONSE], 0);
	grig_free(g);
}
END_TEST

/* Bad faults and delays are refused; the table is bounded. */
START_TEST(test_fault_table_bounds)
{
	struct grig *g = grig_new();
	uint32_t p;

	ck_assert_int_eq(fg_fault_set_port(g->vs, 1, FG_FAULT_DELAY,
	    FG_FAULT_DELAY_MAX_MS + 1), -EINVAL);
	ck_assert_int_eq(fg_fault_set_port(g->vs, 1, (enum fg_port_fault)7,
	    0), -EINVAL);
	for (p = 0; p < FG_FAULT_PORTS_MAX; p++)
		ck_assert_int_eq(fg_fault_set_port(g->vs, p, FG_FAULT_REFUSE,
		    0), 0);
	ck_assert_int_eq(fg_fault_set_port(g->vs, p, FG_FAULT_REFUSE, 0),
	    -ENOSPC);
	/* A port that has one may change it; a cleared slot is reused. */
	ck_assert_int_eq(fg_fault_set_port(g->vs, 3, FG_FAULT_DELAY, 1), 0);
	ck_assert_int_eq(fg_fault_set_port(g->vs, 3, FG_FAULT_NONE, 0), 0);
	ck_assert_int_eq(fg_fault_set_port(g->vs, p, FG_FAULT_REFUSE, 0), 0);
	grig_free(g);
}
END_TEST

/* rst PORT: the guest's RST ends that port's connections, only those. */
START_TEST(test_reset_port)
{
	struct grig *g = grig_new();
	struct script_conn *a, *b;
	int l = grig_listen(g, VIRTIO_VSOCK_TYPE_STREAM, PORT, 8), fa, fb;

	grig_listen(g, VIRTIO_VSOCK_TYPE_STREAM, OTHER_PORT, 8);
	grig_host_connect(g, VIRTIO_VSOCK_TYPE_STREAM, PORT, &a);
	grig_host_connect(g, VIRTIO_VSOCK_TYPE_STREAM, OTHER_PORT, &b);
	fa = accept_one(g, l);
	ck_assert_uint_eq(fg_fault_reset(g->vs, PORT, false), 1);
	grig_settle(g, g->now);
	ck_assert_int_ne(a->released, 0);
	ck_assert_int_eq(b->released, 0);
	ck_assert_int_eq(fg_sock_error(g->vs, fa), ECONNRESET);
	ck_assert_int_eq(fg_sock_state(g->vs, fa), FG_SS_CLOSED);
	ck_assert_int_eq(fg_sock_send(g->vs, fa, "x", 1, 0), -ENOTCONN);
	/* Nothing left to reset there; all takes the rest. */
	ck_assert_uint_eq(fg_fault_reset(g->vs, PORT, false), 0);
	ck_assert_uint_eq(fg_fault_reset(g->vs, 0, true), 1);
	grig_settle(g, g->now);
	ck_assert_int_ne(b->released, 0);
	ck_assert_uint_eq(vsock_device_nconns(g->dev), 0);
	fb = fg_sock_accept(g->vs, l);
	ck_assert_int_eq(fb, -EAGAIN);
	grig_free(g);
}
END_TEST

/* A guest-initiated connection is reset by the host port it reached. */
START_TEST(test_reset_guest_connect)
{
	struct grig *g = grig_new();
	int fd;

	script_listen(&g->sb, 1234, SCRIPT_ACCEPT);
	fd = grig_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 1234);
	ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_CONNECTED);
	ck_assert_uint_eq(fg_fault_reset(g->vs, 1234, false), 1);
	grig_settle(g, g->now);
	ck_assert_int_ne(grig_host_end(g, fd)->released, 0);
	ck_assert_int_eq(fg_sock_close(g->vs, fd, g->now), 0);
	grig_free(g);
}
END_TEST

/*
 * pause-rx: once the posted buffers are used, nothing more reaches the
 * guest and the device stops taking host data (the script's bytes stay
 * unsent); resume-rx: everything arrives, in order.
 */
START_TEST(test_pause_rx)
{
	struct grig *g = grig_new();
	struct script_conn *sc;
	int l = grig_listen(g, VIRTIO_VSOCK_TYPE_STREAM, PORT, 8), fd;
	enum { TOTAL = 1024 * 1024 };
	uint8_t *buf = malloc(TOTAL);
	uint64_t before;
	size_t got = 0;
	ssize_t n;

	grig_host_connect(g, VIRTIO_VSOCK_TYPE_STREAM, PORT, &sc);
	fd = accept_one(g, l);
	fg_fault_pause_rx(g->vs, true);
	ck_assert(fg_fault_rx_paused(g->vs));
	script_send_pattern(&g->sb, sc, TOTAL, g->now);
	/* Read all that comes: what was posted (128 of 4 KiB) at most. */
	do {
		before = got;
		grig_settle(g, g->now);
		while ((n = fg_sock_recv(g->vs, fd, buf + got, TOTAL - got,
		    NULL)) > 0)
			got += (size_t)n;
	} while (got > before);
	ck_assert_uint_lt(got, TOTAL);
	ck_assert_uint_le(got, 128 * 4096);
	ck_assert_uint_eq(fg_fault_rx_posted(g->vs), 0);
	before = vsock_device_stats(g->dev)->h2g_bytes;
	grig_advance(g, 1000 * MS);
	ck_assert_uint_eq(vsock_device_stats(g->dev)->h2g_bytes, before);
	ck_assert_uint_gt(sc->out_pattern_left, 0);
	fg_fault_pause_rx(g->vs, false);
	grig_settle(g, g->now);
	while (got < TOTAL) {
		n = fg_sock_recv(g->vs, fd, buf + got, TOTAL - got, NULL);
		if (n == -EAGAIN) {
			grig_settle(g, g->now);
			continue;
		}
		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
	ck_assert(script_pattern_check(0, buf, TOTAL));
	free(buf);
	grig_free(g);
}
END_TEST

static Suite *
gfaults_suite(void)
{
	Suite *s = suite_create("gfaults");
	TCase *tc = tcase_create("faults");

	tcase_add_test(tc, test_refuse_then_accept);
	tcase_add_test(tc, test_delay_holds_response);
	tcase_add_test(tc, test_delay_past_request_timeout);
	tcase_add_test(tc, test_delay_then_transport_reset);
	tcase_add_test(tc, test_fault_table_bounds);
	tcase_add_test(tc, test_reset_port);
	tcase_add_test(tc, test_reset_guest_connect);
	tcase_add_test(tc, test_pause_rx);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(gfaults_suite)

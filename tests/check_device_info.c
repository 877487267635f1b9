/* check_device_info.c - the device's public introspection: connections, states and bounds, as tests and the fuzzer read them. */
#include "config.h"

#include <string.h>

#include "common.h"
#include "device-info.h"
#include "wire.h"

#define GP	1024
#define HP	1234

/* The info of the connection (HP, gp), which must exist. */
static struct vsock_conn_info
info_of(struct wire *w, uint32_t hp, uint32_t gp)
{
	struct vsock_conn *c = vsock_device_find(w->dev, hp, gp);
	struct vsock_conn_info ci;

	ck_assert_ptr_nonnull(c);
	memset(&ci, 0xa5, sizeof(ci));
	vsock_conn_get_info(c, &ci);
	return ci;
}

/* foreach callback: counts connections and sums their local ports. */
struct visit {
	unsigned n;
	uint64_t port_sum;
	unsigned stop_after;	/* 0: never stop */
};

static int
count_conn(void *ctx, const struct vsock_conn *c)
{
	struct visit *v = ctx;
	struct vsock_conn_info ci;

	vsock_conn_get_info(c, &ci);
	v->n++;
	v->port_sum += ci.peer_port;
	return v->stop_after != 0 && v->n == v->stop_after ? 42 : 0;
}

START_TEST(test_empty_device)
{
	struct vsock_device_config cfg;
	struct vsock_device_info di;
	struct visit v = { 0 };
	struct wire *w;

	wire_config(&cfg);
	cfg.max_conns = 17;
	cfg.orphan_max = 5;
	cfg.profile = VSOCK_PROFILE_LINUX;
	w = wire_new_cfg(&cfg, 8, WIRE_RX_PAYLOAD);
	memset(&di, 0xa5, sizeof(di));
	vsock_device_get_info(w->dev, &di);
	ck_assert_uint_eq(di.nconns, 0);
	ck_assert_uint_eq(di.max_conns, 17);
	ck_assert_uint_eq(di.orphan_rsts, 0);
	ck_assert_uint_eq(di.orphan_max, 5);
	ck_assert_uint_eq(di.buf_alloc,
	    vsock_profile_buf_alloc(VSOCK_PROFILE_LINUX));
	ck_assert_int_eq(vsock_device_foreach_conn(w->dev, count_conn, &v), 0);
	ck_assert_uint_eq(v.n, 0);
	wire_free(w);
}
END_TEST

START_TEST(test_established_conn)
{
	struct vsock_conn_info ci;
	struct vsock_device_info di;
	struct wire *w = wire_new();

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	wire_connect(w, GP, HP);
	ci = info_of(w, HP, GP);
	ck_assert_uint_eq(ci.local_port, HP);
	ck_assert_uint_eq(ci.peer_port, GP);
	ck_assert_uint_eq(ci.type, VIRTIO_VSOCK_TYPE_STREAM);
	ck_assert_int_eq(ci.state, VSOCK_CONN_ESTABLISHED);
	ck_assert_uint_eq(ci.peer_shut, 0);
	ck_assert_uint_eq(ci.local_shut, 0);
	ck_assert_uint_eq(ci.g2h_held, 0);
	ck_assert_uint_eq(ci.g2h_unforwarded, 0);
	ck_assert_uint_eq(ci.buf_alloc,
	    vsock_profile_buf_alloc(VSOCK_PROFILE_FIRECRACKER));
	/* wire_hdr's guest advertises 64 KiB. */
	ck_assert_uint_eq(ci.peer_buf_alloc,
	    wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP).buf_alloc);
	vsock_device_get_info(w->dev, &di);
	ck_assert_uint_eq(di.nconns, 1);
	ck_assert_uint_gt(di.conn_state_bytes, 0);
	wire_free(w);
}
END_TEST

/* Every public state shows, from the rig's ways of reaching each one. */
START_TEST(test_states)
{
	struct vsock_device_config cfg;
	struct script_conn *sc;
	struct vsock_hdr h;
	struct wire *w;

	wire_config(&cfg);
	/* No RX buffers: whatever the device owes the guest stays owed. */
	w = wire_new_cfg(&cfg, 0, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, SCRIPT_PENDING);
	script_listen(&w->sb, HP + 1, SCRIPT_ACCEPT);
	h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);
	wire_send(w, &h, NULL);
	ck_assert_int_eq(info_of(w, HP, GP).state,
	    VSOCK_CONN_GUEST_CONNECTING);

	ck_assert_err(script_connect(&w->sb, GP + 1, VIRTIO_VSOCK_TYPE_STREAM,
	    w->now, &sc), 0);
	ck_assert_int_eq(info_of(w, sc->host_port, GP + 1).state,
	    VSOCK_CONN_HOST_CONNECTING);

	h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP + 2, HP + 1);
	wire_send(w, &h, NULL);
	ck_assert_int_eq(info_of(w, HP + 1, GP + 2).state,
	    VSOCK_CONN_ESTABLISHED);
	sc = script_find(&w->sb, HP + 1, GP + 2);
	script_close(&w->sb, sc, true, w->now);
	ck_assert_int_eq(info_of(w, HP + 1, GP + 2).state, VSOCK_CONN_KILLED);
	wire_free(w);

	/* CLOSING: the host application left and our SHUTDOWN is out. */
	w = wire_new();
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	script_close(&w->sb, sc, false, w->now);
	wire_expect(w, VIRTIO_VSOCK_OP_SHUTDOWN);
	ck_assert_int_eq(info_of(w, HP, GP).state, VSOCK_CONN_CLOSING);
	wire_free(w);
}
END_TEST

/* Shutdown flags both ways, and guest bytes a host cannot take yet. */
START_TEST(test_shutdown_and_held_bytes)
{
	static const char data[1000];
	struct vsock_conn_info ci;
	struct script_conn *sc;
	struct vsock_hdr h;
	struct wire *w = wire_new();

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	sc->in_gated = true;		/* the application reads nothing yet */
	h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP);
	h.len = sizeof(data);
	wire_send(w, &h, data);
	ci = info_of(w, HP, GP);
	ck_assert_uint_eq(ci.g2h_held, sizeof(data));
	ck_assert_uint_eq(ci.g2h_unforwarded, sizeof(data));

	h = wire_hdr(VIRTIO_VSOCK_OP_SHUTDOWN, GP, HP);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
	wire_send(w, &h, NULL);
	ci = info_of(w, HP, GP);
	ck_assert_uint_eq(ci.peer_shut, VIRTIO_VSOCK_SHUTDOWN_SEND);
	ck_assert_uint_eq(ci.local_shut, 0);
	ck_assert_uint_eq(ci.g2h_held, sizeof(data));

	/* The application reads it all: the device hands everything over. */
	script_allow_read(&w->sb, sc, sizeof(data), w->now);
	ci = info_of(w, HP, GP);
	ck_assert_uint_eq(ci.g2h_held, 0);
	ck_assert_uint_eq(ci.g2h_unforwarded, 0);

	/* Another connection: the host side shuts down writing. */
	sc = wire_connect(w, GP + 1, HP);
	script_shutdown_write(&w->sb, sc, w->now);
	wire_expect(w, VIRTIO_VSOCK_OP_SHUTDOWN);
	ci = info_of(w, HP, GP + 1);
	ck_assert_uint_eq(ci.peer_shut, 0);
	ck_assert_uint_eq(ci.local_shut, VIRTIO_VSOCK_SHUTDOWN_SEND);
	ck_assert_int_eq(ci.state, VSOCK_CONN_ESTABLISHED);
	wire_free(w);
}
END_TEST

/* foreach visits each connection once and stops when asked. */
START_TEST(test_foreach)
{
	struct vsock_device_info di;
	struct visit v = { 0 };
	uint64_t before;
	struct wire *w = wire_new();
	unsigned i;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	vsock_device_get_info(w->dev, &di);
	before = di.conn_state_bytes;
	for (i = 0; i < 100; i++)
		wire_connect(w, GP + i, HP);
	ck_assert_int_eq(vsock_device_foreach_conn(w->dev, count_conn, &v), 0);
	ck_assert_uint_eq(v.n, 100);
	ck_assert_uint_eq(v.port_sum, 100 * GP + 99 * 100 / 2);
	vsock_device_get_info(w->dev, &di);
	ck_assert_uint_eq(di.nconns, 100);
	ck_assert_uint_gt(di.conn_state_bytes, before);

	memset(&v, 0, sizeof(v));
	v.stop_after = 7;
	ck_assert_int_eq(vsock_device_foreach_conn(w->dev, count_conn, &v),
	    42);
	ck_assert_uint_eq(v.n, 7);
	wire_free(w);
}
END_TEST

/* RSTs owed to pairs with no connection count against their cap. */
START_TEST(test_orphan_rsts)
{
	struct vsock_device_config cfg;
	struct vsock_device_info di;
	struct vsock_hdr h;
	struct wire *w;
	unsigned i;

	wire_config(&cfg);
	cfg.orphan_max = 4;
	w = wire_new_cfg(&cfg, 0, WIRE_RX_PAYLOAD);
	for (i = 0; i < 3; i++) {
		h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP + i, HP);
		h.len = 0;
		wire_send(w, &h, NULL);
	}
	vsock_device_get_info(w->dev, &di);
	ck_assert_uint_eq(di.orphan_rsts, 3);
	ck_assert_uint_eq(di.orphan_max, 4);
	ck_assert_uint_eq(di.nconns, 0);
	wire_free(w);
}
END_TEST

static Suite *
device_info_suite(void)
{
	Suite *s = suite_create("device_info");
	TCase *tc = tcase_create("info");

	tcase_add_test(tc, test_empty_device);
	tcase_add_test(tc, test_established_conn);
	tcase_add_test(tc, test_states);
	tcase_add_test(tc, test_shutdown_and_held_bytes);
	tcase_add_test(tc, test_foreach);
	tcase_add_test(tc, test_orphan_rsts);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(device_info_suite)

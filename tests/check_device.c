/* check_device.c - the device model on the wire: RST rules, states, credit, shutdown, timers. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "common.h"
#include "device-info.h"
#include "device-int.h"
#include "grig.h"
#include "wire.h"

#define GP	1024		/* guest port */
#define HP	1234		/* host port */
#define SEC	VSOCK_NS_PER_SEC

static const struct vsock_device_stats *
stats(struct wire *w)
{
	return vsock_device_stats(w->dev);
}

/* --- configuration --- */

START_TEST(test_reserved_cids_refused)
{
	/* Linux: vhost_vsock_set_cid() refuses <= 2, U32_MAX and above */
	static const uint64_t bad[] = { 0, 1, 2, 0xffffffffu,
	    0x100000000ull, UINT64_MAX };
	struct vsock_device_config cfg;
	struct vsock_device *dev;
	const char *why = NULL;
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vsock_device_config_defaults(&cfg);
		cfg.guest_cid = bad[i];
		ck_assert_err(vsock_device_new(&cfg, &script_backend_ops, NULL,
		    &dev, &why), -VSE_ERR_BAD_CID);
		ck_assert_ptr_null(dev);
		ck_assert_ptr_nonnull(strstr(why, "reserved"));
	}
	vsock_device_config_defaults(&cfg);
	cfg.guest_cid = 0xfffffffeu;		/* the highest guest CID */
	ck_assert_err(vsock_device_new(&cfg, &script_backend_ops, NULL, &dev,
	    &why), 0);
	vsock_device_free(dev);
}
END_TEST

/* One table names the profiles: every name parses back to its profile. */
START_TEST(test_profile_names)
{
	enum vsock_profile p, q;
	unsigned n = 0;

	for (p = 0; vsock_profile_rules(p) != NULL; p++, n++) {
		ck_assert_ptr_nonnull(vsock_profile_name(p));
		ck_assert_err(vsock_profile_parse(vsock_profile_name(p), &q),
		    0);
		ck_assert_int_eq(q, p);
	}
	ck_assert_uint_ge(n, 2);
	ck_assert_ptr_null(vsock_profile_name(p));	/* one past the last */
	ck_assert_err(vsock_profile_parse("linux", &q), 0);
	ck_assert_int_eq(q, VSOCK_PROFILE_LINUX);
	ck_assert_err(vsock_profile_parse("firecracker", &q), 0);
	ck_assert_int_eq(q, VSOCK_PROFILE_FIRECRACKER);
	ck_assert_err(vsock_profile_parse("Linux", &q), -VSE_ERR_INVAL);
	ck_assert_err(vsock_profile_parse("", &q), -VSE_ERR_INVAL);
}
END_TEST

START_TEST(test_features_and_config)
{
	struct wire *w = wire_new();
	struct vsock_device_config cfg;
	struct vsock_device *dev;
	uint8_t space[8];
	uint64_t f = vsock_device_features(w->dev);

	ck_assert(f & VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
	ck_assert(f & VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX));
	ck_assert(f & VIRTIO_FEATURE(VIRTIO_RING_F_INDIRECT_DESC));
	ck_assert(f & VIRTIO_FEATURE(VIRTIO_VSOCK_F_SEQPACKET));
	/* STREAM is implied: neither F_STREAM nor NO_IMPLIED_STREAM offered. */
	ck_assert(!(f & VIRTIO_FEATURE(VIRTIO_VSOCK_F_STREAM)));
	ck_assert(!(f & VIRTIO_FEATURE(VIRTIO_VSOCK_F_NO_IMPLIED_STREAM)));
	ck_assert_err(vsock_device_set_features(w->dev,
	    f | VIRTIO_FEATURE(VIRTIO_VSOCK_F_STREAM)), -VSE_ERR_FEATURES);
	ck_assert_err(vsock_device_set_features(w->dev,
	    VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX)), -VSE_ERR_FEATURES);
	vsock_device_get_config(w->dev, space);
	ck_assert_mem_eq(space, "\x03\0\0\0\0\0\0\0", 8);
	wire_free(w);

	vsock_device_config_defaults(&cfg);
	ck_assert_err(vsock_device_new(&cfg, &script_backend_ops, NULL, &dev,
	    NULL), 0);
	ck_assert(!(vsock_device_features(dev) &
	    VIRTIO_FEATURE(VIRTIO_VSOCK_F_SEQPACKET)));
	vsock_device_free(dev);
}
END_TEST

/* --- RST rules --- */

/* Any non-REQUEST op for an unknown pair gets RST; RST gets nothing. */
START_TEST(test_rst_unknown_pair)
{
	static const uint16_t ops[] = { VIRTIO_VSOCK_OP_INVALID,
	    VIRTIO_VSOCK_OP_RESPONSE, VIRTIO_VSOCK_OP_SHUTDOWN,
	    VIRTIO_VSOCK_OP_RW, VIRTIO_VSOCK_OP_CREDIT_UPDATE,
	    VIRTIO_VSOCK_OP_CREDIT_REQUEST, 8, 0xffff };
	struct wire *w = wire_new();
	struct vsock_hdr h, r;
	unsigned i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		h = wire_hdr(ops[i], GP + i, HP);
		h.len = ops[i] == VIRTIO_VSOCK_OP_RW ? 3 : 0;
		wire_send(w, &h, "abc");
		r = wire_expect(w, VIRTIO_VSOCK_OP_RST);
		/* Reply goes to the sender's tuple, with Linux's zero credit. */
		ck_assert_uint_eq(r.src_port, HP);
		ck_assert_uint_eq(r.dst_port, GP + i);
		ck_assert_uint_eq(r.type, VIRTIO_VSOCK_TYPE_STREAM);
		ck_assert_uint_eq(r.buf_alloc, 0);
		ck_assert_uint_eq(r.fwd_cnt, 0);
		ck_assert_uint_eq(r.len, 0);
		wire_expect_none(w);
	}
	h = wire_hdr(VIRTIO_VSOCK_OP_RST, GP, HP);
	wire_send(w, &h, NULL);
	wire_expect_none(w);
	ck_assert_uint_eq(stats(w)->rst_unknown_conn, 8);
	wire_free(w);
}
END_TEST

START_TEST(test_rst_no_listener)
{
	struct wire *w = wire_new();
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);

	script_listen(&w->sb, HP, SCRIPT_REFUSE);
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	h.dst_port = HP + 1;				/* nobody at all */
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	wire_expect_none(w);
	ck_assert_uint_eq(vsock_device_nconns(w->dev), 0);
	ck_assert_uint_eq(w->sb.refusals, 2);
	wire_free(w);
}
END_TEST

/* 5.10.6.4: an unknown type gets RST, unless it is an RST. */
START_TEST(test_rst_unknown_type)
{
	struct wire *w = wire_new();
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP), r;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	h.type = 3;
	wire_send(w, &h, NULL);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(r.type, 3);
	h.op = VIRTIO_VSOCK_OP_RST;
	wire_send(w, &h, NULL);
	wire_expect_none(w);
	ck_assert_uint_eq(stats(w)->rst_unknown_type, 1);
	ck_assert_uint_eq(w->sb.connects, 0);
	wire_free(w);
}
END_TEST

START_TEST(test_rst_seqpacket_not_negotiated)
{
	struct wire *w = wire_new();
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	ck_assert_err(vsock_device_set_features(w->dev,
	    VIRTIO_FEATURE(VIRTIO_F_VERSION_1)), 0);
	h.type = VIRTIO_VSOCK_TYPE_SEQPACKET;
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(w->sb.connects, 0);
	wire_free(w);
}
END_TEST

START_TEST(test_invalid_op_on_known_conn_dropped)
{
	struct wire *w = wire_new();
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	wire_connect(w, GP, HP);
	wire_send(w, &h, NULL);				/* duplicate REQUEST */
	h.op = VIRTIO_VSOCK_OP_RESPONSE;
	wire_send(w, &h, NULL);
	h.op = 77;
	wire_send(w, &h, NULL);
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	wire_expect_none(w);
	ck_assert_uint_eq(stats(w)->tx_invalid_op, 3);
	ck_assert_ptr_nonnull(vsock_device_find(w->dev, HP, GP));
	wire_free(w);
}
END_TEST

/*
 * A packet whose type is not its connection's gets an RST as if no socket
 * took it (Linux: virtio_transport_recv_pkt() -> _reset_no_sock(); the
 * Firecracker muxer's send_pkt() too), never for an RST; the connection
 * and its credit are untouched.
 */
START_TEST(test_wrong_type_on_known_conn_rst)
{
	struct wire *w = wire_new();
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP), r;
	struct script_conn *sc;
	struct vsock_conn *c;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	c = vsock_device_find(w->dev, HP, GP);
	h.type = VIRTIO_VSOCK_TYPE_SEQPACKET;
	h.len = 3;
	h.buf_alloc = 1234;
	h.fwd_cnt = 77;
	wire_send(w, &h, "abc");
	r = wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(r.src_port, HP);
	ck_assert_uint_eq(r.dst_port, GP);
	ck_assert_uint_eq(r.type, VIRTIO_VSOCK_TYPE_SEQPACKET);
	ck_assert_uint_eq(r.buf_alloc, 0);
	ck_assert_uint_eq(r.fwd_cnt, 0);
	wire_expect_none(w);
	ck_assert_ptr_eq(vsock_device_find(w->dev, HP, GP), c);
	ck_assert_uint_eq(c->cr.peer_buf_alloc, 256 * 1024);
	ck_assert_uint_eq(c->cr.rx_cnt, 0);
	ck_assert_uint_eq(sc->in_total, 0);
	h.op = VIRTIO_VSOCK_OP_RST;		/* never an RST for an RST */
	h.len = 0;
	wire_send(w, &h, NULL);
	wire_expect_none(w);
	ck_assert_ptr_eq(vsock_device_find(w->dev, HP, GP), c);
	ck_assert_int_eq(sc->released, 0);
	ck_assert_uint_eq(stats(w)->rst_wrong_type, 1);
	/* The connection still carries its own type's data. */
	h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP);
	h.len = 2;
	wire_send(w, &h, "ok");
	ck_assert_uint_eq(sc->in_total, 2);
	wire_free(w);
}
END_TEST

/* Malformed chains are dropped silently: no RST, a counter each. */
START_TEST(test_malformed_tx_dropped)
{
	struct wire *w = wire_new();
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP);
	uint8_t raw[VSOCK_HDR_SIZE + 8];

	vsock_hdr_encode(&h, raw);
	wire_send_raw(w, raw, VSOCK_HDR_SIZE, true);	/* writable part */
	wire_send_raw(w, raw, VSOCK_HDR_SIZE - 1, false);	/* short */
	h.len = 65537;
	vsock_hdr_encode(&h, raw);
	wire_send_raw(w, raw, VSOCK_HDR_SIZE, false);	/* > 64 KiB */
	h.len = 9;
	vsock_hdr_encode(&h, raw);
	wire_send_raw(w, raw, VSOCK_HDR_SIZE + 8, false);	/* lies */
	h.len = 0;
	h.src_cid = 4;
	vsock_hdr_encode(&h, raw);
	wire_send_raw(w, raw, VSOCK_HDR_SIZE, false);	/* spoofed src */
	h.src_cid = WIRE_GUEST_CID;
	h.dst_cid = 7;
	vsock_hdr_encode(&h, raw);
	wire_send_raw(w, raw, VSOCK_HDR_SIZE, false);	/* not to host */
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	wire_expect_none(w);
	ck_assert_uint_eq(stats(w)->tx_dropped_writable, 1);
	ck_assert_uint_eq(stats(w)->tx_dropped_short, 1);
	ck_assert_uint_eq(stats(w)->tx_dropped_len, 2);
	ck_assert_uint_eq(stats(w)->tx_dropped_cid, 2);
	ck_assert_uint_eq(stats(w)->rst_sent, 0);
	/* Every chain was returned with used length 0. */
	ck_assert_uint_eq(vsock_device_queue(w->dev,
	    VSOCK_QUEUE_TX)->stats.pushed, 6);
	wire_free(w);
}
END_TEST

/*
 * Sends an RW of 3 bytes ("abc") in a chain whose readable part is
 * total bytes: the header, the payload and padding, in two buffers.
 */
static void
send_long_chain(struct wire *w, uint32_t total)
{
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP);
	static uint8_t buf[VSOCK_HDR_SIZE + 3];
	uint64_t gpa = fg_mem_alloc(&w->mem, total, 16);
	struct fg_buf out[2] = { { gpa, VSOCK_HDR_SIZE + 3 },
	    { gpa + VSOCK_HDR_SIZE + 3, total - VSOCK_HDR_SIZE - 3 } };
	void *tok;

	ck_assert(gpa != FG_GPA_NONE);
	h.len = 3;
	vsock_hdr_encode(&h, buf);
	memcpy(buf + VSOCK_HDR_SIZE, "abc", 3);
	fg_mem_write(&w->mem, gpa, buf, sizeof(buf));
	/* Borrow the rig's last TX slot for the token: retired as usual. */
	ck_assert(!w->tx_slot_used[WIRE_QSIZE - 1]);
	w->tx_slot_used[WIRE_QSIZE - 1] = true;
	ck_assert_int_ge(fg_ring_add(&w->q.tx, out, 2, NULL, 0,
	    (void *)(uintptr_t)WIRE_QSIZE, false), 0);
	vsock_device_kick(w->dev, VSOCK_QUEUE_TX, w->now);
	while ((tok = fg_ring_get_used(&w->q.tx, NULL)) != NULL)
		w->tx_slot_used[(uintptr_t)tok - 1] = false;
	ck_assert(!w->tx_slot_used[WIRE_QSIZE - 1]);	/* ours came back */
}

/*
 * A TX chain longer than a header and 64 KiB, whatever its header says:
 * vhost drops it (vhost_vsock_alloc_skb(): len > MAX_PKT_BUF_SIZE +
 * SKB_HEADROOM), so the linux profile does (dropped, counted, tapped);
 * Firecracker bounds only hdr.len (VsockPacketTx::parse()), so the
 * firecracker profile takes the packet. Exactly 64 KiB + 44 is fine.
 */
START_TEST(test_tx_chain_longer_than_packet)
{
	struct vsock_device_config cfg;
	struct script_conn *sc;
	struct wire *w;

	wire_config(&cfg);
	cfg.profile = _i ? VSOCK_PROFILE_LINUX : VSOCK_PROFILE_FIRECRACKER;
	w = wire_new_cfg(&cfg, 64, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	send_long_chain(w, VSOCK_HDR_SIZE + 65536);
	ck_assert_uint_eq(sc->in_total, 3);
	send_long_chain(w, VSOCK_HDR_SIZE + 65537);
	ck_assert_uint_eq(sc->in_total, _i ? 3 : 6);
	ck_assert_uint_eq(stats(w)->tx_dropped_len, _i ? 1 : 0);
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	if (_i == 1)	/* linux: an update, the queue emptied */
		wire_expect(w, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	wire_expect_none(w);			/* no RST either way */
	wire_free(w);
}
END_TEST

/* The 1023rd connection is accepted, the 1024th gets RST. */
START_TEST(test_connection_limit)
{
	struct wire *w = wire_new();
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, 0, HP), r;
	uint32_t i;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	for (i = 0; i < VSOCK_DEFAULT_MAX_CONNS; i++) {
		h.src_port = 5000 + i;
		wire_send(w, &h, NULL);
		r = wire_expect(w, VIRTIO_VSOCK_OP_RESPONSE);
		ck_assert_uint_eq(r.dst_port, 5000 + i);
	}
	ck_assert_uint_eq(vsock_device_nconns(w->dev), 1023);
	h.src_port = 9999;
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(stats(w)->rst_conn_limit, 1);
	ck_assert_uint_eq(vsock_device_nconns(w->dev), 1023);
	wire_free(w);
}
END_TEST

/* Field f of struct vsock_conn ends within its first CONN_HOT_BYTES. */
#define ASSERT_HOT(f)	ck_assert_uint_le(offsetof(struct vsock_conn, f) + \
	sizeof(((struct vsock_conn *)0)->f), CONN_HOT_BYTES)

/*
 * Everything a control packet reads of its connection (dispatch,
 * device_schedule, device_conn_has_rx, device_want) is in its first 64
 * bytes (device-int.h, struct vsock_conn): one cache line, two where
 * malloc's alignment splits it. backend_gone and the txbuf's len were
 * lines further on.
 */
START_TEST(test_conn_hot_fields_first)
{
	ck_assert_uint_eq(offsetof(struct vsock_conn, h2g_buf), 0);
	ASSERT_HOT(cr);
	ASSERT_HOT(type);
	ASSERT_HOT(state);
	ASSERT_HOT(pending);
	ASSERT_HOT(peer_shut);
	ASSERT_HOT(local_shut);
	ASSERT_HOT(want);
	ASSERT_HOT(host_readable);
	ASSERT_HOT(host_eof);
	ASSERT_HOT(credit_requested);
	ASSERT_HOT(on_rxq);
	ASSERT_HOT(backend_gone);
	ASSERT_HOT(rx_parked);
	ASSERT_HOT(tx.len);
	ASSERT_HOT(tx.nmsgs);
}
END_TEST

#define TAB_CONNS	3000

/*
 * Removals at the head, in the middle and at the end of chains, and
 * growth: every lookup still finds exactly the connections left.
 */
START_TEST(test_conntab_chains)
{
	static struct vsock_conn conns[TAB_CONNS];
	struct conntab t;
	unsigned i;

	memset(conns, 0, sizeof(conns));
	ck_assert_int_eq(conntab_init(&t, 42), 0);
	for (i = 0; i < TAB_CONNS; i++) {
		/* Few local ports, many peers: long by-port chains too. */
		conns[i].local_port = 1000 + i % 7;
		conns[i].peer_port = i;
		ck_assert_int_eq(conntab_insert(&t, &conns[i]), 0);
	}
	ck_assert_int_eq(conntab_insert(&t, &conns[5]), -VSE_ERR_INVAL);
	for (i = 0; i < TAB_CONNS; i += 3)
		conntab_remove(&t, &conns[i]);
	for (i = 0; i < TAB_CONNS; i++)
		ck_assert_ptr_eq(conntab_find(&t, 1000 + i % 7, i),
		    i % 3 == 0 ? NULL : &conns[i]);
	ck_assert_ptr_null(conntab_find(&t, 0, 0));
	for (i = 0; i < TAB_CONNS; i++)
		if (i % 3 != 0)
			conntab_remove(&t, &conns[i]);
	ck_assert_uint_eq(t.count, 0);
	for (i = 0; i < t.nslots; i++)
		ck_assert_ptr_null(t.slot[i].c);
	conntab_free(&t);
}
END_TEST

/* --- host-initiated connections and timeouts --- */

START_TEST(test_host_connect_ports_and_response)
{
	struct wire *w = wire_new();
	struct script_conn *a, *b;
	struct vsock_hdr r, h;

	ck_assert_err(script_connect(&w->sb, 52, VIRTIO_VSOCK_TYPE_STREAM,
	    w->now, &a), 0);
	r = wire_expect(w, VIRTIO_VSOCK_OP_REQUEST);
	ck_assert_uint_eq(r.src_port, 1073741824u);	/* 2^30 first */
	ck_assert_uint_eq(r.dst_port, 52);
	ck_assert_uint_eq(r.buf_alloc, 64 * 1024);
	ck_assert_err(script_connect(&w->sb, 52, VIRTIO_VSOCK_TYPE_STREAM,
	    w->now, &b), 0);
	r = wire_expect(w, VIRTIO_VSOCK_OP_REQUEST);
	ck_assert_uint_eq(r.src_port, 1073741825u);
	h = wire_hdr(VIRTIO_VSOCK_OP_RESPONSE, 52, 1073741824u);
	wire_send(w, &h, NULL);
	ck_assert(a->established);
	ck_assert(!b->established);
	h = wire_hdr(VIRTIO_VSOCK_OP_RST, 52, 1073741825u);
	wire_send(w, &h, NULL);
	ck_assert_int_eq(b->released, 1 + VSOCK_RELEASE_REFUSED);
	wire_expect_none(w);	/* never an RST for an RST */
	wire_free(w);
}
END_TEST

START_TEST(test_local_port_skips_ports_in_use)
{
	struct wire *w = wire_new();
	struct script_conn *a;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP,
	    VSOCK_LOCAL_PORT_FIRST);

	/* A guest connection already uses host port 2^30. */
	script_listen(&w->sb, VSOCK_LOCAL_PORT_FIRST, SCRIPT_ACCEPT);
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RESPONSE);
	ck_assert_err(script_connect(&w->sb, 52, VIRTIO_VSOCK_TYPE_STREAM,
	    w->now, &a), 0);
	ck_assert_uint_eq(a->host_port, VSOCK_LOCAL_PORT_FIRST + 1);
	/* Wrap: the cursor returns to 2^30 after 2^31 - 1. */
	w->dev->next_local_port = VSOCK_LOCAL_PORT_END - 1;
	ck_assert_err(script_connect(&w->sb, 52, VIRTIO_VSOCK_TYPE_STREAM,
	    w->now, &a), 0);
	ck_assert_uint_eq(a->host_port, VSOCK_LOCAL_PORT_END - 1);
	ck_assert_err(script_connect(&w->sb, 53, VIRTIO_VSOCK_TYPE_STREAM,
	    w->now, &a), 0);
	ck_assert_uint_eq(a->host_port, VSOCK_LOCAL_PORT_FIRST + 2);
	wire_free(w);
}
END_TEST

START_TEST(test_request_timeout)
{
	struct wire *w = wire_new();
	struct script_conn *a;
	struct vsock_hdr r;

	ck_assert_err(script_connect(&w->sb, 52, VIRTIO_VSOCK_TYPE_STREAM,
	    w->now, &a), 0);
	wire_expect(w, VIRTIO_VSOCK_OP_REQUEST);
	ck_assert_uint_eq(vsock_device_next_deadline(w->dev), 2 * SEC);
	wire_advance(w, 2 * SEC - 1);
	wire_expect_none(w);
	ck_assert_int_eq(a->released, 0);
	wire_advance(w, 1);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(r.dst_port, 52);
	ck_assert_int_eq(a->released, 1 + VSOCK_RELEASE_TIMEOUT);
	ck_assert_uint_eq(stats(w)->timeouts_request, 1);
	ck_assert_uint_eq(vsock_device_nconns(w->dev), 0);
	ck_assert_uint_eq(vsock_device_next_deadline(w->dev), VSOCK_TIME_NEVER);
	wire_free(w);
}
END_TEST

/*
 * The request timer runs from when the REQUEST leaves, as Firecracker's
 * recv_pkt() sets the expiry when it yields the REQUEST: a REQUEST that
 * waited 1.9 s for an RX buffer still gets its 2 s.
 */
START_TEST(test_request_timeout_from_send)
{
	struct vsock_device_config cfg;
	struct script_conn *a;
	struct vsock_hdr h;
	struct wire *w;

	wire_config(&cfg);
	w = wire_new_cfg(&cfg, 0, WIRE_RX_PAYLOAD);
	ck_assert_err(script_connect(&w->sb, 52, VIRTIO_VSOCK_TYPE_STREAM,
	    w->now, &a), 0);
	wire_advance(w, 19 * SEC / 10);
	wire_post_rx(w, 4);
	wire_expect(w, VIRTIO_VSOCK_OP_REQUEST);
	ck_assert_uint_eq(vsock_device_next_deadline(w->dev),
	    19 * SEC / 10 + 2 * SEC);
	wire_advance(w, SEC / 10);		/* 2.0 s after the connect */
	ck_assert_int_eq(a->released, 0);
	wire_advance(w, SEC / 20);		/* the guest answers at 2.05 s */
	h = wire_hdr(VIRTIO_VSOCK_OP_RESPONSE, 52, a->host_port);
	wire_send(w, &h, NULL);
	ck_assert(a->established);
	wire_expect_none(w);
	ck_assert_uint_eq(stats(w)->timeouts_request, 0);
	/* Unanswered: RST exactly 2 s after the REQUEST left. */
	ck_assert_err(script_connect(&w->sb, 53, VIRTIO_VSOCK_TYPE_STREAM,
	    w->now, &a), 0);
	wire_expect(w, VIRTIO_VSOCK_OP_REQUEST);
	wire_advance(w, 2 * SEC - 1);
	wire_expect_none(w);
	wire_advance(w, 1);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_int_eq(a->released, 1 + VSOCK_RELEASE_TIMEOUT);
	wire_free(w);
}
END_TEST

/*
 * Linux's virtio_transport_recv_connecting(): anything but RESPONSE, RST
 * or INVALID answering our REQUEST resets the connection at once (EPROTO);
 * INVALID is ignored. Firecracker's LocalInit state drops them all and
 * waits for the timeout (check_states, host-connecting row).
 */
START_TEST(test_host_connecting_bad_reply_linux)
{
	static const uint16_t ops[] = { VIRTIO_VSOCK_OP_REQUEST,
	    VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_OP_RW,
	    VIRTIO_VSOCK_OP_CREDIT_UPDATE, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 99 };
	struct vsock_device_config cfg;
	struct script_conn *a;
	struct vsock_hdr h, r;
	struct wire *w;
	unsigned i;

	wire_config(&cfg);
	cfg.profile = VSOCK_PROFILE_LINUX;
	w = wire_new_cfg(&cfg, 64, WIRE_RX_PAYLOAD);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		ck_assert_err(script_connect(&w->sb, 52 + i,
		    VIRTIO_VSOCK_TYPE_STREAM, w->now, &a), 0);
		wire_expect(w, VIRTIO_VSOCK_OP_REQUEST);
		h = wire_hdr(VIRTIO_VSOCK_OP_INVALID, 52 + i, a->host_port);
		wire_send(w, &h, NULL);		/* ignored */
		wire_expect_none(w);
		ck_assert_int_eq(a->released, 0);
		h.op = ops[i];
		h.len = ops[i] == VIRTIO_VSOCK_OP_RW ? 1 : 0;
		wire_send(w, &h, "x");
		r = wire_expect(w, VIRTIO_VSOCK_OP_RST);
		ck_assert_uint_eq(r.src_port, a->host_port);
		ck_assert_uint_eq(r.dst_port, 52 + i);
		ck_assert_int_eq(a->released, 1 + VSOCK_RELEASE_REFUSED);
		ck_assert(!a->established);
		ck_assert_uint_eq(vsock_device_nconns(w->dev), 0);
	}
	wire_free(w);
}
END_TEST

/*
 * A host connect whose REQUEST is still queued (the guest posted no RX
 * buffer yet): the guest has never seen the pair. A RESPONSE to it answers
 * nothing and is dropped; the REQUEST must not follow an established
 * connection. (Fuzzer finding: REQUEST and RW after a guessed RESPONSE.)
 */
START_TEST(test_unsent_request_response_dropped)
{
	struct vsock_device_config cfg;
	struct script_conn *a;
	struct vsock_hdr h;
	struct wire *w;

	wire_config(&cfg);
	w = wire_new_cfg(&cfg, 0, WIRE_RX_PAYLOAD);
	ck_assert_err(script_connect(&w->sb, 52, VIRTIO_VSOCK_TYPE_STREAM,
	    w->now, &a), 0);
	h = wire_hdr(VIRTIO_VSOCK_OP_RESPONSE, 52, a->host_port);
	wire_send(w, &h, NULL);
	ck_assert_uint_eq(stats(w)->tx_invalid_op, 1);
	ck_assert(!a->established);
	wire_post_rx(w, 4);
	wire_expect(w, VIRTIO_VSOCK_OP_REQUEST);
	wire_expect_none(w);
	wire_send(w, &h, NULL);
	ck_assert(a->established);
	wire_free(w);
}
END_TEST

/*
 * The same unsent REQUEST, aborted by the host or timed out: nothing goes
 * to the guest, not even an RST. (Fuzzer finding: an RST that answered
 * nothing the guest had sent.)
 */
START_TEST(test_unsent_request_ends_silently)
{
	struct vsock_device_config cfg;
	struct script_conn *a, *b;
	struct wire *w;

	wire_config(&cfg);
	w = wire_new_cfg(&cfg, 0, WIRE_RX_PAYLOAD);
	ck_assert_err(script_connect(&w->sb, 52, VIRTIO_VSOCK_TYPE_STREAM,
	    w->now, &a), 0);
	ck_assert_err(script_connect(&w->sb, 53, VIRTIO_VSOCK_TYPE_STREAM,
	    w->now, &b), 0);
	script_close(&w->sb, a, true, w->now);
	ck_assert_int_eq(a->released, 1 + VSOCK_RELEASE_RESET);
	wire_advance(w, 2 * SEC);
	ck_assert_int_eq(b->released, 1 + VSOCK_RELEASE_TIMEOUT);
	ck_assert_uint_eq(stats(w)->timeouts_request, 1);
	ck_assert_uint_eq(vsock_device_nconns(w->dev), 0);
	wire_post_rx(w, 4);
	wire_expect_none(w);
	ck_assert_uint_eq(stats(w)->rst_sent, 0);
	wire_free(w);
}
END_TEST

/* The timer fires on any device activity, not only on new connections. */
START_TEST(test_timers_swept_on_any_kick)
{
	struct wire *w = wire_new();
	struct script_conn *a;

	ck_assert_err(script_connect(&w->sb, 52, VIRTIO_VSOCK_TYPE_STREAM,
	    w->now, &a), 0);
	wire_expect(w, VIRTIO_VSOCK_OP_REQUEST);
	w->now += 3 * SEC;
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	ck_assert_int_eq(a->released, 1 + VSOCK_RELEASE_TIMEOUT);
	wire_free(w);
}
END_TEST

START_TEST(test_guest_connect_pending_backend)
{
	struct wire *w = wire_new();
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);
	struct script_conn *sc;

	script_listen(&w->sb, HP, SCRIPT_PENDING);
	wire_send(w, &h, NULL);
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	wire_expect_none(w);
	sc = script_find(&w->sb, HP, GP);
	script_complete(&w->sb, sc, 0, w->now);
	wire_expect(w, VIRTIO_VSOCK_OP_RESPONSE);
	h.src_port = GP + 1;
	wire_send(w, &h, NULL);
	sc = script_find(&w->sb, HP, GP + 1);
	script_complete(&w->sb, sc, -ECONNREFUSED, w->now);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	wire_free(w);
}
END_TEST

/* A backend that never finishes a guest's connect: RST at the timeout. */
START_TEST(test_guest_connect_backend_timeout)
{
	struct wire *w = wire_new();
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP), r;
	struct script_conn *sc;

	script_listen(&w->sb, HP, SCRIPT_PENDING);
	wire_send(w, &h, NULL);
	sc = script_find(&w->sb, HP, GP);
	wire_advance(w, 2 * SEC - 1);
	wire_expect_none(w);
	wire_advance(w, 1);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(r.dst_port, GP);
	ck_assert_int_eq(sc->released, 1 + VSOCK_RELEASE_TIMEOUT);
	ck_assert_uint_eq(vsock_device_nconns(w->dev), 0);
	/* A late completion is ignored: the connection is gone. */
	wire_free(w);
}
END_TEST

/* --- credit --- */

/* The guest may fill exactly buf_alloc; one byte more is an overrun. */
START_TEST(test_credit_exact_fit_and_overrun)
{
	struct wire *w = wire_new();
	struct script_conn *sc;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP);
	uint32_t sent = 0;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	w->sb.default_in_limit = 1;	/* the application reads nothing */
	sc = wire_connect(w, GP, HP);
	sc->in_limit = 1;
	while (sent < 64 * 1024) {
		h.len = 16 * 1024;
		wire_send(w, &h, NULL);
		sent += h.len;
	}
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	wire_expect_none(w);
	/* The application took one byte: one byte of credit is left. */
	ck_assert_uint_eq(credit_rx_queued(&vsock_device_find(w->dev, HP,
	    GP)->cr), 64 * 1024 - 1);
	h.len = 1;
	wire_send(w, &h, NULL);			/* exact fit */
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	wire_expect_none(w);
	ck_assert_uint_eq(credit_rx_queued(&vsock_device_find(w->dev, HP,
	    GP)->cr), 64 * 1024);
	wire_send(w, &h, NULL);			/* one byte too many */
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(stats(w)->rst_credit_overrun, 1);
	ck_assert_int_eq(sc->released, 1 + VSOCK_RELEASE_RESET);
	wire_free(w);
}
END_TEST

/* Out of credit: one CREDIT_REQUEST, then data resumes on CREDIT_UPDATE. */
START_TEST(test_credit_zero_request_then_resume)
{
	struct wire *w = wire_new();
	struct script_conn *sc;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP), r;
	uint8_t data[3000], got[4096];

	memset(data, 'x', sizeof(data));
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	h.buf_alloc = 1000;
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RESPONSE);
	sc = script_find(&w->sb, HP, GP);
	script_send(&w->sb, sc, data, sizeof(data), 0, w->now);
	ck_assert_int_eq(wire_recv(w, &r, got, sizeof(got)), 1);
	ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.len, 1000);
	r = wire_expect(w, VIRTIO_VSOCK_OP_CREDIT_REQUEST);
	wire_expect_none(w);
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	wire_expect_none(w);			/* once, not a storm */
	ck_assert_uint_eq(stats(w)->credit_requests_sent, 1);
	h = wire_hdr(VIRTIO_VSOCK_OP_CREDIT_UPDATE, GP, HP);
	h.buf_alloc = 1000;
	h.fwd_cnt = 1000;
	wire_send(w, &h, NULL);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.len, 1000);
	wire_free(w);
}
END_TEST

/*
 * Linux never sends CREDIT_REQUEST (nothing in virtio_transport_common.c
 * does): out of credit, the linux profile waits for the guest's own
 * CREDIT_UPDATE, which a Linux reader sends once it frees space. Nothing
 * is polled meanwhile.
 */
START_TEST(test_credit_zero_linux_waits_for_update)
{
	struct vsock_device_config cfg;
	struct script_conn *sc;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP), r;
	uint8_t data[3000], got[4096];
	struct wire *w;

	memset(data, 'x', sizeof(data));
	wire_config(&cfg);
	cfg.profile = VSOCK_PROFILE_LINUX;
	w = wire_new_cfg(&cfg, 64, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	h.buf_alloc = 1000;
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RESPONSE);
	sc = script_find(&w->sb, HP, GP);
	script_send(&w->sb, sc, data, sizeof(data), 0, w->now);
	ck_assert_int_eq(wire_recv(w, &r, got, sizeof(got)), 1);
	ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.len, 1000);
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	wire_expect_none(w);
	ck_assert_uint_eq(stats(w)->credit_requests_sent, 0);
	ck_assert(!(sc->want & VSOCK_EV_READ));
	h = wire_hdr(VIRTIO_VSOCK_OP_CREDIT_UPDATE, GP, HP);
	h.buf_alloc = 1000;
	h.fwd_cnt = 1000;
	wire_send(w, &h, NULL);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.len, 1000);
	wire_expect_none(w);
	ck_assert_uint_eq(stats(w)->credit_requests_sent, 0);
	wire_free(w);
}
END_TEST

/*
 * A CREDIT_UPDATE that grants nothing (the guest answering our request
 * before its reader ran, as Linux does) must not re-arm the request:
 * otherwise request and update ping-pong forever. The next request comes
 * only after credit was granted and ran out again.
 */
START_TEST(test_credit_request_not_repeated_on_empty_update)
{
	struct wire *w = wire_new();
	struct script_conn *sc;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP), r;
	uint8_t data[3000], got[4096];

	memset(data, 'x', sizeof(data));
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	h.buf_alloc = 1000;
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RESPONSE);
	sc = script_find(&w->sb, HP, GP);
	script_send(&w->sb, sc, data, sizeof(data), 0, w->now);
	ck_assert_int_eq(wire_recv(w, &r, got, sizeof(got)), 1);
	ck_assert_uint_eq(r.len, 1000);
	wire_expect(w, VIRTIO_VSOCK_OP_CREDIT_REQUEST);
	h = wire_hdr(VIRTIO_VSOCK_OP_CREDIT_UPDATE, GP, HP);
	h.buf_alloc = 1000;
	h.fwd_cnt = 0;				/* nothing read yet */
	wire_send(w, &h, NULL);
	wire_expect_none(w);
	ck_assert_uint_eq(stats(w)->credit_requests_sent, 1);
	h.fwd_cnt = 1000;			/* now the reader ran */
	wire_send(w, &h, NULL);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.len, 1000);
	wire_expect(w, VIRTIO_VSOCK_OP_CREDIT_REQUEST);
	wire_expect_none(w);
	ck_assert_uint_eq(stats(w)->credit_requests_sent, 2);
	wire_free(w);
}
END_TEST

/* A guest shrinking buf_alloc below what is in flight gets 0, not 4 GiB. */
START_TEST(test_credit_buf_alloc_shrink)
{
	struct wire *w = wire_new();
	struct script_conn *sc;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP), r;
	uint8_t data[2000];

	memset(data, 'y', sizeof(data));
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	h.buf_alloc = 1000;
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RESPONSE);
	sc = script_find(&w->sb, HP, GP);
	h = wire_hdr(VIRTIO_VSOCK_OP_CREDIT_UPDATE, GP, HP);
	h.buf_alloc = 1000;
	wire_send(w, &h, NULL);
	script_send(&w->sb, sc, data, 600, 0, w->now);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.len, 600);
	h.buf_alloc = 300;			/* 600 in flight > 300 */
	wire_send(w, &h, NULL);
	script_send(&w->sb, sc, data, 100, 0, w->now);
	wire_expect(w, VIRTIO_VSOCK_OP_CREDIT_REQUEST);
	wire_expect_none(w);
	ck_assert_uint_eq(credit_peer_avail(&vsock_device_find(w->dev, HP,
	    GP)->cr, UINT32_MAX), 0);
	wire_free(w);
}
END_TEST

/*
 * The host application resizes its buffer (Linux: SO_VM_SOCKETS_BUFFER_SIZE,
 * vsock_update_buffer_size() -> virtio_transport_notify_buffer_size()): a
 * CREDIT_UPDATE with the new buf_alloc at once, whatever is held (2048
 * with 4000 unread: fwd_cnt 0, linux61-*-host-bufsize-*); nothing when it
 * does not change; clamped to [128, the device's buf_alloc]. A guest RW
 * sent against the old buf_alloc still fits; beyond it, an overrun.
 */
START_TEST(test_host_buf_alloc_change)
{
	struct vsock_device_config cfg;
	struct vsock_conn *c;
	struct wire *w;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP), r;
	static uint8_t data[64 * 1024];

	wire_config(&cfg);
	cfg.profile = VSOCK_PROFILE_LINUX;
	w = wire_new_cfg(&cfg, 64, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	w->sb.default_in_gated = true;		/* it reads nothing */
	(void)wire_connect(w, GP, HP);
	c = vsock_device_find(w->dev, HP, GP);
	h.len = 2000;
	wire_send(w, &h, data);
	wire_send(w, &h, data);
	wire_expect_none(w);
	ck_assert_uint_eq(vsock_device_host_set_buf_alloc(w->dev, c, 2048,
	    w->now), 2048);
	r = wire_expect(w, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	ck_assert_uint_eq(r.buf_alloc, 2048);
	ck_assert_uint_eq(r.fwd_cnt, 0);
	wire_expect_none(w);
	ck_assert_uint_eq(vsock_device_host_set_buf_alloc(w->dev, c, 2048,
	    w->now), 2048);
	wire_expect_none(w);			/* unchanged: nothing */
	/* In flight before the guest learned: 5000 held > 2048, no RST. */
	h.len = 1000;
	wire_send(w, &h, data);
	wire_expect_none(w);
	ck_assert_uint_eq(credit_rx_queued(&c->cr), 5000);
	ck_assert_uint_eq(vsock_conn_buf_alloc(c), 256 * 1024);
	ck_assert_uint_eq(vsock_device_host_set_buf_alloc(w->dev, c, 1,
	    w->now), VSOCK_BUF_ALLOC_MIN);
	r = wire_expect(w, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	ck_assert_uint_eq(r.buf_alloc, VSOCK_BUF_ALLOC_MIN);
	ck_assert_uint_eq(vsock_device_host_set_buf_alloc(w->dev, c,
	    UINT32_MAX, w->now), 256 * 1024);
	r = wire_expect(w, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	ck_assert_uint_eq(r.buf_alloc, 256 * 1024);
	/* Beyond the largest buf_alloc advertised: an overrun, as always. */
	h.len = 64 * 1024;
	wire_send(w, &h, data);
	wire_send(w, &h, data);
	wire_send(w, &h, data);
	h.len = 64 * 1024 - 5000;
	wire_send(w, &h, data);
	wire_expect_none(w);
	h.len = 1;
	wire_send(w, &h, data);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(stats(w)->rst_credit_overrun, 1);
	wire_free(w);
}
END_TEST

/* Counters that start near 2^32 wrap without losing a byte of credit. */
START_TEST(test_credit_counters_wrap)
{
	struct wire *w = wire_new();
	struct script_conn *sc;
	struct vsock_conn *c;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP), r;
	uint8_t data[8192];
	int i;

	memset(data, 'z', sizeof(data));
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	c = vsock_device_find(w->dev, HP, GP);
	/* Pretend 4 GiB - 100 bytes already went each way. */
	c->cr.rx_cnt = c->cr.fwd_cnt = c->cr.last_fwd_cnt = UINT32_MAX - 99;
	c->cr.tx_cnt = c->cr.peer_fwd_cnt = UINT32_MAX - 99;
	for (i = 0; i < 3; i++) {
		h.len = 4000;
		h.fwd_cnt = UINT32_MAX - 99;	/* guest consumed all */
		wire_send(w, &h, data);
	}
	ck_assert_uint_eq(sc->in_total, 12000);
	ck_assert_uint_eq(c->cr.fwd_cnt, (uint32_t)(UINT32_MAX - 99 + 12000));
	script_send(&w->sb, sc, data, 8192, 0, w->now);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.len, 4096);
	ck_assert_uint_eq(r.fwd_cnt, (uint32_t)(UINT32_MAX - 99 + 12000));
	/* Both 4 KiB packets went out; tx_cnt wrapped past 2^32. */
	ck_assert_uint_eq(c->cr.tx_cnt, (uint32_t)(UINT32_MAX - 99 + 8192));
	ck_assert_uint_eq(c->cr.tx_cnt, 8092);
	ck_assert_uint_eq(credit_peer_avail(&c->cr, UINT32_MAX),
	    256 * 1024 - 8192);
	/* A guest claiming to have consumed more than it got: no credit. */
	h = wire_hdr(VIRTIO_VSOCK_OP_CREDIT_UPDATE, GP, HP);
	h.fwd_cnt = c->cr.tx_cnt + 1;
	wire_send(w, &h, NULL);
	ck_assert_uint_eq(credit_peer_avail(&c->cr, UINT32_MAX), 0);
	wire_free(w);
}
END_TEST

/*
 * A guest that advertises 256 KiB and never reads, against a 64 KiB device
 * buffer. Linux since "vsock/virtio: cap TX credit to local buffer size"
 * bounds the bytes in flight by min(peer_buf_alloc, buf_alloc): 64 KiB.
 * Firecracker (peer_avail_credit()) and Linux 6.1 have no cap: 256 KiB.
 */
START_TEST(test_credit_cap_in_flight)
{
	struct vsock_device_config cfg;
	struct script_conn *sc;
	struct vsock_hdr r;
	uint64_t got = 0;
	struct wire *w;

	wire_config(&cfg);
	cfg.profile = _i ? VSOCK_PROFILE_LINUX : VSOCK_PROFILE_FIRECRACKER;
	cfg.buf_alloc = 64 * 1024;
	ck_assert(vsock_profile_rules(cfg.profile)->credit_cap_own_buf == _i);
	w = wire_new_cfg(&cfg, 64, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);		/* guest buf_alloc 256 KiB */
	script_send_pattern(&w->sb, sc, 512 * 1024, w->now);
	for (;;) {
		vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
		if (!wire_recv(w, &r, NULL, 0))
			break;
		if (r.op == VIRTIO_VSOCK_OP_RW)
			got += r.len;
	}
	ck_assert_uint_eq(got, _i ? 64 * 1024 : 256 * 1024);
	wire_free(w);
}
END_TEST

/* CREDIT_REQUEST is answered with CREDIT_UPDATE carrying fwd_cnt. */
START_TEST(test_credit_request_answered)
{
	struct wire *w = wire_new();
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP), r;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	wire_connect(w, GP, HP);
	h.len = 10;
	wire_send(w, &h, NULL);
	h = wire_hdr(VIRTIO_VSOCK_OP_CREDIT_REQUEST, GP, HP);
	wire_send(w, &h, NULL);
	r = wire_expect(w, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	ck_assert_uint_eq(r.fwd_cnt, 10);
	ck_assert_uint_eq(r.buf_alloc, 64 * 1024);
	wire_free(w);
}
END_TEST

/* Firecracker policy: an unsolicited update after > 60 KiB forwarded. */
START_TEST(test_credit_update_policy_firecracker)
{
	struct wire *w = wire_new();
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP), r;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	wire_connect(w, GP, HP);
	h.len = 60 * 1024;
	wire_send(w, &h, NULL);
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	wire_expect_none(w);			/* exactly 60 KiB: not yet */
	h.len = 1;
	wire_send(w, &h, NULL);
	r = wire_expect(w, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	ck_assert_uint_eq(r.fwd_cnt, 60 * 1024 + 1);
	wire_free(w);
}
END_TEST

/* Linux policy: an update whenever the receive queue empties. */
START_TEST(test_credit_update_policy_linux)
{
	struct vsock_device_config cfg;
	struct wire *w;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP), r;

	wire_config(&cfg);
	cfg.profile = VSOCK_PROFILE_LINUX;
	w = wire_new_cfg(&cfg, 64, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	r = (wire_send(w, &(struct vsock_hdr){ .src_cid = 3, .dst_cid = 2,
	    .src_port = GP, .dst_port = HP, .type = 1, .op = 1,
	    .buf_alloc = 262144 }, NULL), wire_expect(w,
	    VIRTIO_VSOCK_OP_RESPONSE));
	ck_assert_uint_eq(r.buf_alloc, 256 * 1024);
	h.len = 6;
	wire_send(w, &h, "Hello\n");
	r = wire_expect(w, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	ck_assert_uint_eq(r.fwd_cnt, 6);
	wire_free(w);
}
END_TEST

/* A slow host: data is held (bounded by credit) and fwd_cnt follows reads. */
START_TEST(test_slow_host_backpressure)
{
	struct wire *w = wire_new();
	struct script_conn *sc;
	struct vsock_conn *c;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP), r;
	uint8_t data[16384];
	unsigned i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	sc->in_limit = 1000;
	c = vsock_device_find(w->dev, HP, GP);
	h.len = 16384;
	wire_send(w, &h, data);
	ck_assert_uint_eq(sc->in_total, 1000);
	ck_assert_uint_eq(c->cr.fwd_cnt, 1000);
	ck_assert_uint_eq(c->tx.len, 15384);
	ck_assert(sc->want & VSOCK_EV_WRITE);
	for (i = 0; i < 20; i++)
		script_consume(&w->sb, sc, 1000, w->now);
	ck_assert_uint_eq(sc->in_total, 16384);
	ck_assert_mem_eq(sc->in, data, 16384);
	ck_assert_uint_eq(c->tx.len, 0);
	ck_assert_ptr_null(c->tx.buf);		/* idle: no buffer kept */
	ck_assert(!(sc->want & VSOCK_EV_WRITE));
	(void)r;
	wire_free(w);
}
END_TEST

/*
 * A host that falls behind twice: the second time the txbuf ring is the
 * one the first gave back (no allocator map/unmap of buf_alloc bytes per
 * episode), and an idle connection still holds none.
 */
START_TEST(test_txbuf_storage_reused)
{
	struct wire *w = wire_new();
	struct script_conn *sc;
	struct vsock_conn *c;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP);
	static uint8_t data[16384];
	uint8_t *first;
	unsigned i, round;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	c = vsock_device_find(w->dev, HP, GP);
	h.len = sizeof(data);
	sc->in_limit = 1000;	/* unread bytes the host application holds */
	for (round = 0; round < 2; round++) {
		wire_send(w, &h, data);
		ck_assert_ptr_nonnull(c->tx.buf);
		if (round == 0)
			first = c->tx.buf;
		else
			ck_assert_ptr_eq(c->tx.buf, first);
		ck_assert_uint_eq(w->dev->txbuf_pool.nfree, 0);
		for (i = 0; i < 20; i++)
			script_consume(&w->sb, sc, 1000, w->now);
		ck_assert_ptr_null(c->tx.buf);	/* idle: no buffer held */
		ck_assert_uint_eq(w->dev->txbuf_pool.nfree, 1);
	}
	ck_assert_uint_eq(w->dev->txbuf_pool.reused, 1);
	wire_free(w);
}
END_TEST

/* --- RX starvation, fragmentation --- */

/* No RX buffers: the host is not read (no spin); buffers resume it. */
/* The scripted host, as a backend whose write() takes an iovec of packets. */
static struct vsock_backend_ops gather_ops;

static struct wire *
gather_wire(void)
{
	struct vsock_device_config cfg;

	gather_ops = script_backend_ops;
	gather_ops.write_gathers = true;
	wire_config(&cfg);
	return wire_new_backend(&cfg, &gather_ops, NULL, 64, WIRE_RX_PAYLOAD);
}

/* Queues n RW packets of 1000 pattern bytes from *off on, with no kick. */
static void
queue_rws(struct wire *w, unsigned n, uint64_t *off)
{
	static uint8_t p[1000];
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP);
	unsigned i;

	h.len = sizeof(p);
	for (i = 0; i < n; i++, *off += sizeof(p)) {
		script_pattern_fill(*off, p, sizeof(p));
		wire_send(w, &h, p);
	}
}

/*
 * A backend whose write takes an iovec gets the RW packets of one
 * connection popped in one run in one write, in order; the credit the
 * guest is told is the same as packet by packet (one update, at the end).
 */
START_TEST(test_tx_gather_one_write)
{
	struct wire *w = gather_wire();
	struct script_conn *sc;
	uint64_t off = 0;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	sc->verify_in = true;
	w->hold_kick = true;
	queue_rws(w, 8, &off);
	vsock_device_kick(w->dev, VSOCK_QUEUE_TX, w->now);
	ck_assert_uint_eq(sc->writes, 1);
	ck_assert_uint_eq(sc->in_total, 8000);
	ck_assert(!sc->in_mismatch);
	wire_expect_none(w);
	/* Another connection's packet between them: two writes. */
	queue_rws(w, 2, &off);
	wire_send(w, &(struct vsock_hdr){ 0 }, NULL);
	queue_rws(w, 2, &off);
	vsock_device_kick(w->dev, VSOCK_QUEUE_TX, w->now);
	ck_assert_uint_eq(sc->writes, 3);
	ck_assert_uint_eq(sc->in_total, 12000);
	ck_assert(!sc->in_mismatch);
	ck_assert_uint_eq(stats(w)->tx_dropped_cid, 1);
	wire_free(w);
}
END_TEST

/*
 * A connection whose host takes 2,500 bytes and no more, and six packets
 * of the guest's in one kick: the shared start of the tests below.
 */
static struct vsock_conn *
partial_write_start(struct wire *w, struct script_conn **scp, uint64_t *off)
{
	struct script_conn *sc;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = *scp = wire_connect(w, GP, HP);
	sc->verify_in = true;
	sc->in_limit = 2500;
	w->hold_kick = true;
	queue_rws(w, 6, off);
	vsock_device_kick(w->dev, VSOCK_QUEUE_TX, w->now);
	return vsock_device_find(w->dev, HP, GP);
}

/*
 * A host that takes part of a gathered write: the rest is held in the
 * txbuf, in order, and written once the host has room; every chain is
 * given back.
 */
START_TEST(test_tx_gather_partial_write)
{
	struct wire *w = gather_wire();
	const struct virtq *vq = vsock_device_queue(w->dev, VSOCK_QUEUE_TX);
	struct script_conn *sc;
	struct vsock_conn *c;
	uint64_t off = 0;

	c = partial_write_start(w, &sc, &off);
	/*
	 * The six packets in one write; the rest waits for the host's room
	 * with no second try (it could only return EAGAIN: Firecracker's
	 * send_bytes() writes once and leaves the rest to notify(EPOLLOUT)).
	 */
	ck_assert_uint_eq(sc->writes, 1);
	ck_assert_uint_eq(sc->in_total, 2500);
	ck_assert_uint_eq(c->cr.fwd_cnt, 2500);
	ck_assert_uint_eq(c->tx.len, 3500);
	ck_assert(sc->want & VSOCK_EV_WRITE);
	ck_assert_uint_eq(vq->stats.pushed, vq->stats.popped);
	/*
	 * Room for 2,500 of the 3,500 held: one write, short, and no second
	 * (it could only return EAGAIN): Firecracker's TxBuf::flush_to()
	 * (csm/txbuf.rs) writes again only after a whole chunk was taken.
	 */
	script_consume(&w->sb, sc, 2500, w->now);
	ck_assert_uint_eq(sc->writes, 2);
	ck_assert_uint_eq(c->tx.len, 1000);
	ck_assert(sc->want & VSOCK_EV_WRITE);
	script_consume(&w->sb, sc, 2500, w->now);
	ck_assert_uint_eq(sc->writes, 3);
	ck_assert_uint_eq(sc->in_total, 6000);
	ck_assert(!sc->in_mismatch);
	ck_assert_uint_eq(c->tx.len, 0);
	wire_free(w);
}
END_TEST

/*
 * Packets behind bytes the host refused are appended, not written: the
 * host has said it is full and will say when it has room (Firecracker's
 * send_bytes() writes nothing while tx_buf holds bytes).
 */
START_TEST(test_tx_held_waits_for_room)
{
	struct wire *w = gather_wire();
	const struct virtq *vq = vsock_device_queue(w->dev, VSOCK_QUEUE_TX);
	struct script_conn *sc;
	struct vsock_conn *c;
	uint64_t off = 0;

	c = partial_write_start(w, &sc, &off);
	ck_assert_uint_eq(sc->writes, 1);
	ck_assert_uint_eq(c->tx.len, 3500);
	queue_rws(w, 2, &off);
	vsock_device_kick(w->dev, VSOCK_QUEUE_TX, w->now);
	ck_assert_uint_eq(sc->writes, 1);	/* no try: no room reported */
	ck_assert_uint_eq(c->tx.len, 5500);
	ck_assert(sc->want & VSOCK_EV_WRITE);
	ck_assert_uint_eq(vq->stats.pushed, vq->stats.popped);
	script_consume(&w->sb, sc, 2500, w->now);
	script_consume(&w->sb, sc, 2500, w->now);
	script_consume(&w->sb, sc, 2500, w->now);
	ck_assert_uint_eq(sc->in_total, 8000);
	ck_assert(!sc->in_mismatch);
	ck_assert_uint_eq(c->tx.len, 0);
	ck_assert_uint_eq(c->cr.fwd_cnt, 8000);
	wire_free(w);
}
END_TEST

/*
 * A host that takes part of one packet's write (no gathering): the rest is
 * held and waits for the host's room, with no second try at once, as the
 * gathered write does; it is written when the host reads.
 */
START_TEST(test_tx_partial_write_waits_for_room)
{
	struct wire *w = wire_new();
	struct script_conn *sc;
	struct vsock_conn *c;
	uint64_t off = 0;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	sc->verify_in = true;
	sc->in_limit = 600;
	queue_rws(w, 1, &off);
	c = vsock_device_find(w->dev, HP, GP);
	ck_assert_uint_eq(sc->writes, 1);
	ck_assert_uint_eq(sc->in_total, 600);
	ck_assert_uint_eq(c->tx.len, 400);
	ck_assert(sc->want & VSOCK_EV_WRITE);
	script_consume(&w->sb, sc, 600, w->now);
	ck_assert_uint_eq(sc->writes, 2);
	ck_assert_uint_eq(sc->in_total, 1000);
	ck_assert(!sc->in_mismatch);
	ck_assert_uint_eq(c->tx.len, 0);
	wire_free(w);
}
END_TEST

START_TEST(test_rx_starvation_and_resume)
{
	struct vsock_device_config cfg;
	struct wire *w;
	struct script_conn *sc;
	struct vsock_hdr h, r;
	uint64_t reads;
	int i;

	wire_config(&cfg);
	w = wire_new_cfg(&cfg, 1, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);
	wire_send(w, &h, NULL);			/* RESPONSE takes the buffer */
	sc = script_find(&w->sb, HP, GP);
	script_send_pattern(&w->sb, sc, 100000, w->now);
	reads = sc->reads;
	for (i = 0; i < 100; i++)
		vsock_device_kick(w->dev, VSOCK_QUEUE_TX, w->now);
	ck_assert_uint_eq(sc->reads, reads);	/* nothing polled */
	ck_assert(!(sc->want & VSOCK_EV_READ));
	/* TX keeps working while RX is full (5.10.6.3 deadlock rule). */
	h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP);
	h.len = 5;
	wire_send(w, &h, "hello");
	ck_assert_uint_eq(sc->in_total, 5);
	ck_assert_int_eq(wire_recv(w, &r, NULL, 0), 1);
	ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RESPONSE);
	wire_post_rx(w, 8);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.len, WIRE_RX_PAYLOAD);
	wire_free(w);
}
END_TEST

/*
 * Read interest stays while the device can take the host's data, and is
 * dropped once it cannot: the connection whose turn found no RX buffer
 * at once, another one waiting behind it at its next readable report (a
 * level-triggered loop reports it again and again otherwise). Both read
 * again when the guest posts buffers.
 */
START_TEST(test_rx_wait_parks_read_interest)
{
	struct vsock_device_config cfg;
	struct wire *w;
	struct script_conn *a, *b;
	struct vsock_hdr h, r;
	uint64_t reads;
	unsigned got_a = 0, got_b = 0;

	wire_config(&cfg);
	/* Two for the RESPONSEs, two for a's first 8 KiB. */
	w = wire_new_cfg(&cfg, 4, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);
	wire_send(w, &h, NULL);
	h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP + 1, HP);
	wire_send(w, &h, NULL);
	a = script_find(&w->sb, HP, GP);
	b = script_find(&w->sb, HP, GP + 1);
	ck_assert(a->want & VSOCK_EV_READ);
	script_send_pattern(&w->sb, a, 10000, w->now);
	ck_assert_uint_eq(stats(w)->h2g_packets, 4);
	ck_assert(!(a->want & VSOCK_EV_READ));	/* its turn: no buffer */
	script_send_pattern(&w->sb, b, 10000, w->now);
	ck_assert(b->want & VSOCK_EV_READ);	/* behind a: not known yet */
	reads = b->reads;
	script_send_pattern(&w->sb, b, 0, w->now);	/* reported again */
	ck_assert(!(b->want & VSOCK_EV_READ));
	ck_assert_uint_eq(b->reads, reads);
	wire_post_rx(w, 16);
	while (wire_recv(w, &r, NULL, 0) == 1) {
		if (r.op != VIRTIO_VSOCK_OP_RW)
			continue;
		if (r.dst_port == GP)
			got_a += r.len;
		else
			got_b += r.len;
	}
	ck_assert_uint_eq(got_a, 10000);
	ck_assert_uint_eq(got_b, 10000);
	ck_assert(a->want & VSOCK_EV_READ);	/* drained: polled again */
	ck_assert(b->want & VSOCK_EV_READ);
	wire_free(w);
}
END_TEST

/* A header-only RX buffer while data waits is not host EOF. */
START_TEST(test_header_only_rx_buffer_not_eof)
{
	struct vsock_device_config cfg;
	struct wire *w;
	struct script_conn *sc;
	struct vsock_hdr h, r;

	wire_config(&cfg);
	w = wire_new_cfg(&cfg, 4, 0);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);
	wire_send(w, &h, NULL);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RESPONSE);
	sc = script_find(&w->sb, HP, GP);
	script_send(&w->sb, sc, "data", 4, 0, w->now);
	/* Buffers are returned empty; no SHUTDOWN, no zero-length RW. */
	while (wire_recv(w, &r, NULL, 0))
		ck_abort_msg("unexpected %s", vsock_op_name(r.op));
	ck_assert(!vsock_device_find(w->dev, HP, GP)->host_eof);
	ck_assert_uint_gt(stats(w)->rx_bad_buffers, 0);
	wire_free(w);
}
END_TEST

/* Small RX buffers: one host read of 64 KiB feeds many of them, in order. */
START_TEST(test_rx_batched_read)
{
	struct wire *w = wire_new();
	struct script_conn *sc;
	struct vsock_hdr r;
	static uint8_t data[10000], got[WIRE_RX_PAYLOAD];
	uint32_t off = 0;
	unsigned i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	sc->reads = 0;
	script_send(&w->sb, sc, data, sizeof(data), 0, w->now);
	/* Orderly close right after: what was read still goes first. */
	script_close(&w->sb, sc, false, w->now);
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	while (off < sizeof(data)) {
		ck_assert_int_eq(wire_recv(w, &r, got, sizeof(got)), 1);
		ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RW);
		ck_assert_uint_le(r.len, WIRE_RX_PAYLOAD);
		ck_assert_mem_eq(got, data + off, r.len);
		off += r.len;
	}
	/*
	 * 4096 + 4096 + 1808 bytes from one read; then one finds nothing
	 * yet and one sees EOF. Per-buffer reads would need five.
	 */
	ck_assert_uint_eq(sc->reads, 3);
	r = wire_expect(w, VIRTIO_VSOCK_OP_SHUTDOWN);
	ck_assert_uint_eq(r.flags, VIRTIO_VSOCK_SHUTDOWN_MASK);
	wire_free(w);
}
END_TEST

/* Receives every RW the device has for the guest; returns payload bytes. */
static uint32_t
recv_all_rw(struct wire *w)
{
	static uint8_t got[WIRE_RX_PAYLOAD];
	struct vsock_hdr r;
	uint32_t n = 0;

	while (wire_recv(w, &r, got, sizeof(got)) == 1) {
		ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RW);
		n += r.len;
	}
	return n;
}

/*
 * The scripted backend as the muxer is: it does not say how many bytes
 * are ready (ops.readable NULL), so the device reads for all its credit
 * allows. The batch and scatter paths below are the ones a socket takes.
 */
static struct wire *
wire_new_bytes_unknown(unsigned rx_buffers)
{
	static struct vsock_backend_ops ops;
	struct vsock_device_config cfg;

	ops = script_backend_ops;
	ops.readable = NULL;
	wire_config(&cfg);
	return wire_new_backend(&cfg, &ops, NULL, rx_buffers,
	    WIRE_RX_PAYLOAD);
}

/*
 * The batch buffer of a STREAM read goes back to the device's pool once
 * its bytes are out, and the next batch takes it: no malloc/free of
 * 64 KiB per batch (issue 20: glibc trimmed and regrew its heap).
 */
START_TEST(test_rx_batch_buffer_reused)
{
	struct wire *w;
	struct script_conn *sc;
	static uint8_t data[10000];
	unsigned i;

	/* 8 buffers cannot take 64 KiB: no scatter read, the batch. */
	w = wire_new_bytes_unknown(8);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	for (i = 0; i < 3; i++) {
		script_send(&w->sb, sc, data, sizeof(data), 0, w->now);
		vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
		ck_assert_uint_eq(recv_all_rw(w), sizeof(data));
		ck_assert_ptr_null(vsock_device_find(w->dev, HP, GP)->h2g_buf);
		ck_assert_uint_eq(w->dev->h2g_pool.nfree, 1);
	}
	/* Reads that find nothing borrow the buffer too, and give it back. */
	ck_assert_uint_ge(w->dev->h2g_pool.reused, 2);
	wire_free(w);
}
END_TEST

/* What the tap saw going to the guest, in order. */
struct h2g_seen {
	uint8_t bytes[200000];
	uint32_t len;
	unsigned packets;
};

static void
h2g_tap(void *ctx, const struct vsock_tap_record *rec)
{
	struct h2g_seen *t = ctx;

	if (rec->dir != VSOCK_TAP_HOST_TO_GUEST)
		return;
	t->packets++;
	ck_assert_uint_eq(rec->payload_len, rec->hdr.len);
	ck_assert_uint_le(t->len + rec->payload_len, sizeof(t->bytes));
	memcpy(t->bytes + t->len, rec->payload, rec->payload_len);
	t->len += rec->payload_len;
}

/*
 * A lone STREAM connection with 4 KiB RX buffers posted: one scatter read
 * straight into as many as 64 KiB takes, no batch buffer (issue 20). The
 * packets are the batch's: 4096 bytes each, in order, each tapped with
 * the bytes it carries in guest memory; the buffers the bytes did not
 * reach go back to the ring and carry the next data, none lost.
 */
START_TEST(test_rx_scatter_read)
{
	static struct h2g_seen seen;
	static uint8_t data[70000], got[WIRE_RX_PAYLOAD];
	struct wire *w = wire_new();
	struct script_conn *sc;
	struct vsock_hdr r;
	uint32_t off = 0;
	unsigned i;

	memset(&seen, 0, sizeof(seen));
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 4096);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	vsock_device_set_tap(w->dev, h2g_tap, &seen);
	sc->reads = 0;
	script_send(&w->sb, sc, data, sizeof(data), 0, w->now);
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	for (i = 0; off < sizeof(data); i++) {
		ck_assert_int_eq(wire_recv(w, &r, got, sizeof(got)), 1);
		ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RW);
		ck_assert_uint_eq(r.len, sizeof(data) - off < WIRE_RX_PAYLOAD ?
		    sizeof(data) - off : WIRE_RX_PAYLOAD);
		ck_assert_mem_eq(got, data + off, r.len);
		off += r.len;
	}
	wire_expect_none(w);
	/* 64 KiB, the 4464 left, then nothing: three reads, no batch. */
	ck_assert_uint_eq(sc->reads, 3);
	ck_assert_uint_eq(w->dev->h2g_pool.reused, 0);
	ck_assert_uint_eq(w->dev->h2g_pool.nfree, 0);
	ck_assert_uint_eq(seen.packets, i);
	ck_assert_uint_eq(seen.len, sizeof(data));
	ck_assert_mem_eq(seen.bytes, data, sizeof(data));
	/* Every chain popped ahead and not filled went back. */
	ck_assert_uint_eq(w->dev->vq[VSOCK_QUEUE_RX].stats.popped,
	    w->dev->vq[VSOCK_QUEUE_RX].stats.pushed);
	wire_free(w);
}
END_TEST

/* Each host-to-guest record: its raw header is its decoded one. */
static void
h2g_tap_raw(void *ctx, const struct vsock_tap_record *rec)
{
	struct vsock_hdr d;

	vsock_hdr_decode(rec->raw, &d);
	ck_assert_uint_eq(d.src_cid, rec->hdr.src_cid);
	ck_assert_uint_eq(d.dst_cid, rec->hdr.dst_cid);
	ck_assert_uint_eq(d.src_port, rec->hdr.src_port);
	ck_assert_uint_eq(d.dst_port, rec->hdr.dst_port);
	ck_assert_uint_eq(d.len, rec->hdr.len);
	ck_assert_uint_eq(d.type, rec->hdr.type);
	ck_assert_uint_eq(d.op, rec->hdr.op);
	ck_assert_uint_eq(d.flags, rec->hdr.flags);
	ck_assert_uint_eq(d.buf_alloc, rec->hdr.buf_alloc);
	ck_assert_uint_eq(d.fwd_cnt, rec->hdr.fwd_cnt);
	h2g_tap(ctx, rec);
}

/*
 * A scatter run within the guest's credit (10000 bytes a time, three 4 KiB
 * buffers a run): one sent() for the chains after the first must count
 * what n would: every byte against the credit, the run stopping at it
 * (then one CREDIT_REQUEST), each packet's header the first one's but for
 * len, each tap record carrying its own header, raw and decoded alike.
 */
START_TEST(test_rx_scatter_within_credit)
{
	static struct h2g_seen seen;
	static uint8_t data[30000], got[WIRE_RX_PAYLOAD];
	struct wire *w = wire_new();
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP), r;
	static const uint32_t lens[3] = { 4096, 4096, 1808 };
	struct script_conn *sc;
	struct vsock_conn *c;
	uint32_t off = 0, fwd, run;
	unsigned i;

	memset(&seen, 0, sizeof(seen));
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + i / 4096);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	h.buf_alloc = 10000;
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RESPONSE);
	sc = script_find(&w->sb, HP, GP);
	c = vsock_device_find(w->dev, HP, GP);
	vsock_device_set_tap(w->dev, h2g_tap_raw, &seen);
	script_send(&w->sb, sc, data, sizeof(data), 0, w->now);
	for (run = 0; run < 3; run++) {
		if (run > 0) {
			h = wire_hdr(VIRTIO_VSOCK_OP_CREDIT_UPDATE, GP, HP);
			h.buf_alloc = 10000;
			h.fwd_cnt = 10000 * run;
			wire_send(w, &h, NULL);
		}
		fwd = c->cr.fwd_cnt;
		for (i = 0; i < 3; i++) {
			ck_assert_int_eq(wire_recv(w, &r, got, sizeof(got)), 1);
			ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RW);
			ck_assert_uint_eq(r.len, lens[i]);
			ck_assert_uint_eq(r.flags, 0);
			ck_assert_uint_eq(r.fwd_cnt, fwd);
			ck_assert_uint_eq(r.buf_alloc, c->cr.buf_alloc);
			ck_assert_uint_eq(r.src_port, HP);
			ck_assert_uint_eq(r.dst_port, GP);
			ck_assert_mem_eq(got, data + off, r.len);
			off += r.len;
		}
		ck_assert_uint_eq(c->cr.tx_cnt, 10000 * (run + 1));
		ck_assert_uint_eq(c->h2g_total, 10000 * (run + 1));
		ck_assert_uint_eq(stats(w)->h2g_bytes, 10000 * (run + 1));
		ck_assert_uint_eq(device_peer_credit(w->dev, c), 0);
		/* The application may have more: credit is asked for. */
		wire_expect(w, VIRTIO_VSOCK_OP_CREDIT_REQUEST);
		wire_expect_none(w);
	}
	ck_assert_uint_eq(off, sizeof(data));
	ck_assert_uint_eq(seen.len, sizeof(data));
	ck_assert_mem_eq(seen.bytes, data, sizeof(data));
	/* Scatter reads, no batch buffer. */
	ck_assert_uint_eq(w->dev->h2g_pool.reused, 0);
	ck_assert_uint_eq(w->dev->vq[VSOCK_QUEUE_RX].stats.popped,
	    w->dev->vq[VSOCK_QUEUE_RX].stats.pushed);
	wire_free(w);
}
END_TEST

/*
 * A scripted application that reports VSOCK_READ_DRAINED (replay's): the
 * read that emptied it, filling less than it was given, is the last one,
 * as with the muxer. Without the flag a second read finds nothing.
 */
START_TEST(test_rx_script_reports_drained)
{
	static uint8_t data[100], got[WIRE_RX_PAYLOAD];
	struct script_conn *sc;
	struct vsock_hdr r;
	struct wire *w;
	unsigned i, k;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	for (k = 0; k < 2; k++) {
		w = wire_new();
		w->sb.report_drained = k == 1;
		script_listen(&w->sb, HP, SCRIPT_ACCEPT);
		sc = wire_connect(w, GP, HP);
		sc->reads = 0;
		for (i = 1; i <= 2; i++) {
			script_send(&w->sb, sc, data, sizeof(data), 0, w->now);
			ck_assert_int_eq(wire_recv(w, &r, got, sizeof(got)), 1);
			ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RW);
			ck_assert_uint_eq(r.len, sizeof(data));
			ck_assert_mem_eq(got, data, sizeof(data));
			wire_expect_none(w);
			/* The bytes, then (without the flag) nothing. */
			ck_assert_uint_eq(sc->reads, k == 1 ? i : 2 * i);
		}
		wire_free(w);
	}
}
END_TEST


/*
 * Short host writes: each scatter read pops 16 buffers ahead and fills
 * two. Without giving the other fourteen back the guest's 256 buffers
 * would be gone after 18 rounds and the stream would stall (40 rounds
 * stay within the 256 KiB of credit the guest gave).
 */
START_TEST(test_rx_scatter_gives_back)
{
	static uint8_t data[5000], got[WIRE_RX_PAYLOAD];
	struct wire *w = wire_new_bytes_unknown(64);
	struct script_conn *sc;
	struct vsock_hdr r;
	unsigned round, i;
	uint32_t off;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	for (round = 0; round < 40; round++) {
		for (i = 0; i < sizeof(data); i++)
			data[i] = (uint8_t)(round + i);
		script_send(&w->sb, sc, data, sizeof(data), 0, w->now);
		vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
		for (off = 0; off < sizeof(data); off += r.len) {
			ck_assert_int_eq(wire_recv(w, &r, got, sizeof(got)), 1);
			ck_assert_mem_eq(got, data + off, r.len);
		}
		wire_expect_none(w);
	}
	ck_assert_uint_eq(w->rx_empty, 0);
	ck_assert_uint_eq(w->dev->h2g_pool.reused, 0);
	wire_free(w);
}
END_TEST

/* The largest read the device offered the backend, in bytes. */
static size_t read_offered_max;

static ssize_t
read_offer_seen(void *ctx, struct vsock_conn *c, const struct iovec *iov,
    int iovcnt, uint32_t *flags)
{
	size_t n = 0;
	int i;

	for (i = 0; i < iovcnt; i++)
		n += iov[i].iov_len;
	if (n > read_offered_max)
		read_offered_max = n;
	return script_backend_ops.read(ctx, c, iov, iovcnt, flags);
}

/*
 * A backend that says what is ready (the scripted one, which replay
 * drives with a trace's many short host writes): the device pops only
 * the RX buffers those bytes fill, not 64 KiB of them to give back
 * (issue 20: replay spent 60% of its instructions there). The packets
 * are what the scatter read makes: 100 bytes in one buffer, 5000 over
 * two, every byte in order.
 */
START_TEST(test_rx_ready_bytes_bound_the_read)
{
	static uint8_t data[5000], got[WIRE_RX_PAYLOAD];
	static struct vsock_backend_ops ops;
	struct vsock_device_config cfg;
	struct wire *w;
	struct script_conn *sc;
	struct vsock_hdr r;
	const size_t sizes[] = { 100, 5000, 1 };
	unsigned round, i;
	uint32_t off;

	ops = script_backend_ops;
	ops.read = read_offer_seen;
	wire_config(&cfg);
	w = wire_new_backend(&cfg, &ops, NULL, 64, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	for (round = 0; round < 30; round++) {
		size_t len = sizes[round % 3];

		for (i = 0; i < len; i++)
			data[i] = (uint8_t)(round * 3 + i);
		read_offered_max = 0;
		script_send(&w->sb, sc, data, len, 0, w->now);
		vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
		for (off = 0; off < len; off += r.len) {
			ck_assert_int_eq(wire_recv(w, &r, got, sizeof(got)), 1);
			ck_assert_uint_eq(r.len, len - off < WIRE_RX_PAYLOAD ?
			    len - off : WIRE_RX_PAYLOAD);
			ck_assert_mem_eq(got, data + off, r.len);
		}
		wire_expect_none(w);
		/* One buffer's room when it fits one, else the bytes. */
		ck_assert_uint_eq(read_offered_max,
		    len < WIRE_RX_PAYLOAD ? WIRE_RX_PAYLOAD : len);
	}
	ck_assert_uint_eq(w->dev->vq[VSOCK_QUEUE_RX].stats.popped,
	    w->dev->vq[VSOCK_QUEUE_RX].stats.pushed);
	wire_free(w);
}
END_TEST

/*
 * Sends len bytes from a backend that does not say what is ready (the
 * muxer's socket) to a guest with 64 RX buffers of rx_payload bytes;
 * checks every byte and returns the packets' lengths in lens.
 */
static unsigned
send_bytes_unknown(uint32_t rx_payload, size_t len, uint32_t *lens,
    unsigned max)
{
	static uint8_t data[200000], got[WIRE_RX_PAYLOAD];
	static struct vsock_backend_ops ops;
	struct vsock_device_config cfg;
	struct script_conn *sc;
	struct vsock_hdr r;
	struct wire *w;
	unsigned i, k;
	uint32_t off;

	ck_assert_uint_le(len, sizeof(data));
	for (i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7 + i / 4096);
	ops = script_backend_ops;
	ops.readable = NULL;
	ops.read = read_offer_seen;
	read_offered_max = 0;
	wire_config(&cfg);
	w = wire_new_backend(&cfg, &ops, NULL, 64, rx_payload);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	script_send(&w->sb, sc, data, len, 0, w->now);
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	for (k = 0, off = 0; off < len; off += r.len, k++) {
		ck_assert_int_eq(wire_recv(w, &r, got, sizeof(got)), 1);
		ck_assert_uint_le(r.len, rx_payload);
		ck_assert_mem_eq(got, data + off, r.len);
		ck_assert_uint_lt(k, max);
		lens[k] = r.len;
	}
	wire_expect_none(w);
	ck_assert_uint_eq(w->dev->vq[VSOCK_QUEUE_RX].stats.popped,
	    w->dev->vq[VSOCK_QUEUE_RX].stats.pushed);
	wire_free(w);
	return k;
}

/*
 * A backend that does not say what is ready (the muxer) is offered, in
 * one read, all the RX buffers posted can take within credit (bounded by
 * RX_AHEAD_MAX), not 64 KiB: a host that keeps its socket full costs one
 * recvmsg per 128 KiB instead of two (issue 20). Each buffer is still
 * one packet of at most its room.
 */
START_TEST(test_rx_read_takes_what_buffers_hold)
{
	static uint32_t lens[100];
	unsigned n, i;

	n = send_bytes_unknown(WIRE_RX_PAYLOAD, 200000, lens, 100);
	/* The first chain and RX_AHEAD_MAX more, within 256 KiB of credit. */
	ck_assert_uint_eq(read_offered_max,
	    (RX_AHEAD_MAX + 1) * WIRE_RX_PAYLOAD);
	ck_assert_uint_eq(n, (200000 + WIRE_RX_PAYLOAD - 1) / WIRE_RX_PAYLOAD);
	for (i = 0; i + 1 < n; i++)
		ck_assert_uint_eq(lens[i], WIRE_RX_PAYLOAD);
}
END_TEST

/*
 * A read of more than 64 KiB cuts its packets at every 64 KiB, as reads
 * of 64 KiB one after another would (Linux: virtio_transport_send_pkt_info
 * makes packets of at most VIRTIO_VSOCK_MAX_PKT_BUF_SIZE, which
 * vhost_transport_do_send_pkt splits over the guest's buffers): with
 * 3000-byte buffers, 21 full ones and 2536 bytes, then again.
 */
START_TEST(test_rx_big_read_cuts_at_64k)
{
	static uint32_t lens[100];
	unsigned n, i;

	n = send_bytes_unknown(3000, 2 * 65536, lens, 100);
	ck_assert_uint_gt(read_offered_max, 65536);
	ck_assert_uint_eq(n, 44);
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(lens[i], i % 22 == 21 ? 2536 : 3000);
}
END_TEST

/*
 * Eight connections with a batch each in flight at once: when they are
 * done the pool keeps DEVICE_H2G_SPARE_MAX buffers and frees the rest,
 * whatever number of connections a host or guest makes stream at once.
 */
START_TEST(test_rx_batch_pool_bounded)
{
	struct vsock_device_config cfg;
	struct wire *w;
	struct script_conn *sc[8];
	static uint8_t data[10000];
	uint32_t got = 0;
	unsigned i;

	wire_config(&cfg);
	/* One RX buffer at a time: turns go round-robin, batches overlap. */
	w = wire_new_cfg(&cfg, 1, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	for (i = 0; i < 8; i++)
		sc[i] = wire_connect(w, GP + i, HP);
	for (i = 0; i < 8; i++)
		script_send(&w->sb, sc[i], data, sizeof(data), 0, w->now);
	for (i = 0; got < 8 * sizeof(data) && i < 1000; i++) {
		vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
		got += recv_all_rw(w);
		ck_assert_uint_le(w->dev->h2g_pool.nfree, DEVICE_H2G_SPARE_MAX);
	}
	ck_assert_uint_eq(got, 8 * sizeof(data));
	ck_assert_uint_eq(w->dev->h2g_pool.nfree, DEVICE_H2G_SPARE_MAX);
	wire_free(w);
}
END_TEST

/* --- shutdown and close --- */

/* Host EOF -> SHUTDOWN(SEND) after the data; the guest keeps sending. */
START_TEST(test_half_close_host_side)
{
	struct wire *w = wire_new();
	struct script_conn *sc;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP), r;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	script_send(&w->sb, sc, "bye", 3, 0, w->now);
	script_shutdown_write(&w->sb, sc, w->now);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.len, 3);
	r = wire_expect(w, VIRTIO_VSOCK_OP_SHUTDOWN);
	ck_assert_uint_eq(r.flags, VIRTIO_VSOCK_SHUTDOWN_SEND);
	h.len = 4;
	wire_send(w, &h, "more");
	ck_assert_uint_eq(sc->in_total, 4);
	ck_assert_int_eq(sc->released, 0);
	/* Guest finishes too: both directions done -> RST closes. */
	h = wire_hdr(VIRTIO_VSOCK_OP_SHUTDOWN, GP, HP);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
	wire_send(w, &h, NULL);
	ck_assert(sc->shut_wr);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_int_eq(sc->released, 1 + VSOCK_RELEASE_CLOSED);
	wire_free(w);
}
END_TEST

/* Guest SHUTDOWN(SEND) -> host EOF once held data drained; host still sends. */
START_TEST(test_half_close_guest_side)
{
	struct wire *w = wire_new();
	struct script_conn *sc;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP), r;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	sc->in_limit = 2;
	h.len = 5;
	wire_send(w, &h, "abcde");
	h = wire_hdr(VIRTIO_VSOCK_OP_SHUTDOWN, GP, HP);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
	wire_send(w, &h, NULL);
	ck_assert(!sc->shut_wr);		/* 3 bytes still held */
	script_consume(&w->sb, sc, 100, w->now);
	script_consume(&w->sb, sc, 100, w->now);
	ck_assert(sc->shut_wr);
	ck_assert_mem_eq(sc->in, "abcde", 5);
	/* Data after the guest's SHUTDOWN(SEND) is dropped. */
	h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP);
	h.len = 1;
	wire_send(w, &h, "!");
	ck_assert_uint_eq(sc->in_total, 5);
	ck_assert_uint_eq(stats(w)->tx_invalid_op, 1);
	script_send(&w->sb, sc, "reply", 5, 0, w->now);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.len, 5);
	/* SHUTDOWN flags accumulate: RCV later keeps SEND. */
	h = wire_hdr(VIRTIO_VSOCK_OP_SHUTDOWN, GP, HP);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_RCV;
	wire_send(w, &h, NULL);
	ck_assert(sc->shut_rd);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	wire_free(w);
}
END_TEST

/* Guest close (SHUTDOWN 3) -> RST from the device, backend closed. */
START_TEST(test_clean_close_guest)
{
	struct wire *w = wire_new();
	struct script_conn *sc;
	struct vsock_hdr h;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	h = wire_hdr(VIRTIO_VSOCK_OP_SHUTDOWN, GP, HP);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_MASK;
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_int_eq(sc->released, 1 + VSOCK_RELEASE_CLOSED);
	ck_assert_uint_eq(vsock_device_nconns(w->dev), 0);
	wire_free(w);
}
END_TEST

/* Host close -> data, SHUTDOWN(3); the guest's RST ends it (no reply). */
START_TEST(test_clean_close_host)
{
	struct wire *w = wire_new();
	struct script_conn *sc;
	struct vsock_hdr h, r;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	script_send(&w->sb, sc, "Hi :-)\n", 7, 0, w->now);
	script_close(&w->sb, sc, false, w->now);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.len, 7);
	r = wire_expect(w, VIRTIO_VSOCK_OP_SHUTDOWN);
	ck_assert_uint_eq(r.flags, VIRTIO_VSOCK_SHUTDOWN_MASK);
	ck_assert_int_eq(sc->released, 1 + VSOCK_RELEASE_CLOSED);
	h = wire_hdr(VIRTIO_VSOCK_OP_RST, GP, HP);
	wire_send(w, &h, NULL);
	wire_expect_none(w);
	ck_assert_uint_eq(vsock_device_nconns(w->dev), 0);
	ck_assert_uint_eq(vsock_device_next_deadline(w->dev), VSOCK_TIME_NEVER);
	wire_free(w);
}
END_TEST

/*
 * An orderly host close while a SEQPACKET message to the guest is half
 * sent: the rest of it still goes out, whole, before the next message and
 * the SHUTDOWN. (Fuzzer finding: the close dropped the message in flight,
 * gluing its first fragments to the next message.)
 */
START_TEST(test_seqpacket_host_close_keeps_message)
{
	struct vsock_device_config cfg;
	struct script_conn *sc;
	struct vsock_hdr h, r;
	static uint8_t msg[3000];
	struct wire *w;

	wire_config(&cfg);
	w = wire_new_cfg(&cfg, 2, 1000);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);
	h.type = VIRTIO_VSOCK_TYPE_SEQPACKET;
	wire_send(w, &h, NULL);
	sc = script_find(&w->sb, HP, GP);
	memset(msg, 'a', sizeof(msg));
	script_send(&w->sb, sc, msg, sizeof(msg), 0, w->now);
	script_send(&w->sb, sc, "bb", 2, 0, w->now);
	script_close(&w->sb, sc, false, w->now);
	wire_expect(w, VIRTIO_VSOCK_OP_RESPONSE);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.len, 1000);
	ck_assert_uint_eq(r.flags, 0);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.len, 1000);
	ck_assert_uint_eq(r.flags, 0);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.len, 1000);
	ck_assert_uint_eq(r.flags, VIRTIO_VSOCK_SEQ_EOM);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.len, 2);
	ck_assert_uint_eq(r.flags, VIRTIO_VSOCK_SEQ_EOM);
	wire_expect(w, VIRTIO_VSOCK_OP_SHUTDOWN);
	wire_free(w);
}
END_TEST

/*
 * The guest closes (SHUTDOWN 3) while data it sent waits for a host that
 * does not read. Firecracker arms its kill timer (connection.rs send_pkt(),
 * SHUTDOWN with tx_buf not empty: CONN_SHUTDOWN_TIMEOUT_MS, 2 s) and then
 * RSTs; Linux has no timer (virtio_transport_recv_connected(), SHUTDOWN):
 * the data waits for the application, and the RST comes with its close
 * (virtio_transport_close(), test_linux_rst_at_close_after_guest_shutdown).
 */
START_TEST(test_guest_close_with_data_held)
{
	struct vsock_device_config cfg;
	struct script_conn *sc;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP);
	struct wire *w;

	wire_config(&cfg);
	cfg.profile = _i ? VSOCK_PROFILE_LINUX : VSOCK_PROFILE_FIRECRACKER;
	w = wire_new_cfg(&cfg, 64, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	sc->in_limit = 1;			/* takes one byte, then stalls */
	h.len = 100;
	wire_send(w, &h, NULL);
	h = wire_hdr(VIRTIO_VSOCK_OP_SHUTDOWN, GP, HP);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_MASK;
	wire_send(w, &h, NULL);
	wire_expect_none(w);
	wire_advance(w, 2 * SEC - 1);
	wire_expect_none(w);
	wire_advance(w, 1);
	if (_i == 0) {
		wire_expect(w, VIRTIO_VSOCK_OP_RST);
		ck_assert_int_eq(sc->released, 1 + VSOCK_RELEASE_TIMEOUT);
		ck_assert_uint_eq(stats(w)->timeouts_close, 1);
		ck_assert_uint_eq(stats(w)->data_discarded, 99);
	} else {
		wire_advance(w, 60 * SEC);
		wire_expect_none(w);
		ck_assert_uint_eq(vsock_device_next_deadline(w->dev),
		    VSOCK_TIME_NEVER);
		ck_assert_int_eq(sc->released, 0);
		script_consume(&w->sb, sc, 1, w->now);
		sc->in_limit = 0;
		script_consume(&w->sb, sc, 0, w->now);
		ck_assert_uint_eq(sc->in_total, 100);
		wire_expect(w, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
		wire_expect_none(w);
		script_close(&w->sb, sc, false, w->now);
		wire_expect(w, VIRTIO_VSOCK_OP_RST);
		ck_assert_int_eq(sc->released, 1 + VSOCK_RELEASE_CLOSED);
	}
	ck_assert_uint_eq(vsock_device_nconns(w->dev), 0);
	wire_free(w);
}
END_TEST

/* No RST after our SHUTDOWN(3): RST at the close timeout (2 s / 8 s). */
START_TEST(test_close_timeout)
{
	struct vsock_device_config cfg;
	struct wire *w;
	struct script_conn *sc;
	vsock_time_t timeout = _i ? 8 * SEC : 2 * SEC;

	wire_config(&cfg);
	cfg.profile = _i ? VSOCK_PROFILE_LINUX : VSOCK_PROFILE_FIRECRACKER;
	w = wire_new_cfg(&cfg, 64, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	script_close(&w->sb, sc, false, w->now);
	wire_expect(w, VIRTIO_VSOCK_OP_SHUTDOWN);
	wire_advance(w, timeout - 1);
	wire_expect_none(w);
	wire_advance(w, 1);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(stats(w)->timeouts_close, 1);
	ck_assert_uint_eq(vsock_device_nconns(w->dev), 0);
	wire_free(w);
}
END_TEST

/* Host abort -> RST at once. */
START_TEST(test_host_abort)
{
	struct wire *w = wire_new();
	struct script_conn *sc;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	script_close(&w->sb, sc, true, w->now);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_int_eq(sc->released, 1 + VSOCK_RELEASE_RESET);
	wire_free(w);
}
END_TEST

/* A write error (EPIPE) on the host side resets the guest. */
START_TEST(test_host_write_error_resets)
{
	struct wire *w = wire_new();
	struct script_conn *sc;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP);

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	sc->write_err = -EPIPE;
	h.len = 3;
	wire_send(w, &h, "abc");
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_int_eq(sc->released, 1 + VSOCK_RELEASE_RESET);
	wire_free(w);
}
END_TEST

/*
 * A guest message the host socket refuses as too long (AF_UNIX SEQPACKET:
 * longer than SO_SNDBUF - 32) cannot be delivered whole, and a message is
 * never cut or split: RST, counted so the cause is visible.
 */
START_TEST(test_host_refuses_message_size)
{
	struct wire *w = wire_new();
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);
	struct script_conn *sc;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	h.type = VIRTIO_VSOCK_TYPE_SEQPACKET;
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RESPONSE);
	sc = script_find(&w->sb, HP, GP);
	sc->write_err = -EMSGSIZE;
	h.op = VIRTIO_VSOCK_OP_RW;
	h.flags = VIRTIO_VSOCK_SEQ_EOM;
	h.len = 3;
	wire_send(w, &h, "abc");
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_int_eq(sc->released, 1 + VSOCK_RELEASE_RESET);
	ck_assert_uint_eq(stats(w)->seqpacket_g2h_oversize, 1);
	wire_free(w);
}
END_TEST

/*
 * What a failing backend call means: -EPIPE on a write is the application's
 * shutdown(SHUT_RD), -ECONNRESET its close (AF_UNIX says so for a peer that
 * closed with bytes unread). linux: SHUTDOWN(RCV) / SHUTDOWN(RCV|SEND), as
 * vsock_shutdown and virtio_transport_close send them; firecracker: RST
 * (send_pkt / recv_pkt kill on any error). Anything else: RST.
 */
static const struct {
	bool linux_profile, on_read;
	int err;
	uint16_t op;
	uint32_t flags;
} host_errors[] = {
	{ true, false, -EPIPE, VIRTIO_VSOCK_OP_SHUTDOWN,
	    VIRTIO_VSOCK_SHUTDOWN_RCV },
	{ true, false, -ECONNRESET, VIRTIO_VSOCK_OP_SHUTDOWN,
	    VIRTIO_VSOCK_SHUTDOWN_MASK },
	{ true, true, -ECONNRESET, VIRTIO_VSOCK_OP_SHUTDOWN,
	    VIRTIO_VSOCK_SHUTDOWN_MASK },
	{ true, false, -EIO, VIRTIO_VSOCK_OP_RST, 0 },
	{ true, true, -EIO, VIRTIO_VSOCK_OP_RST, 0 },
	{ false, false, -EPIPE, VIRTIO_VSOCK_OP_RST, 0 },
	{ false, false, -ECONNRESET, VIRTIO_VSOCK_OP_RST, 0 },
	{ false, true, -ECONNRESET, VIRTIO_VSOCK_OP_RST, 0 },
};

START_TEST(test_host_error_meaning)
{
	struct vsock_device_config cfg;
	struct wire *w;
	struct script_conn *sc;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP), r;

	wire_config(&cfg);
	cfg.profile = host_errors[_i].linux_profile ? VSOCK_PROFILE_LINUX :
	    VSOCK_PROFILE_FIRECRACKER;
	w = wire_new_cfg(&cfg, 64, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	if (host_errors[_i].on_read) {
		sc->read_err = host_errors[_i].err;
		script_send(&w->sb, sc, "x", 1, 0, w->now);
	} else {
		sc->write_err = host_errors[_i].err;
		h.len = 3;
		wire_send(w, &h, "abc");
	}
	r = wire_expect(w, host_errors[_i].op);
	ck_assert_uint_eq(r.flags, host_errors[_i].flags);
	wire_expect_none(w);
	/* The application's bytes before the close still reach the guest. */
	if (host_errors[_i].flags == VIRTIO_VSOCK_SHUTDOWN_RCV) {
		script_send(&w->sb, sc, "yz", 2, 0, w->now);
		r = wire_expect(w, VIRTIO_VSOCK_OP_RW);
		ck_assert_uint_eq(r.len, 2);
	}
	wire_free(w);
}
END_TEST

/*
 * linux: a guest that shut down both ways while the host application still
 * had bytes to read is reset when the application closes, not before
 * (virtio_transport_recv_connected, SHUTDOWN: RST only with nothing
 * unread; virtio_transport_close: RST once the peer shut down). Seen in
 * linux61-vhost-host-initiated.pcap: the host reads the last byte, sends a
 * CREDIT_UPDATE, then the RST.
 */
START_TEST(test_linux_rst_at_close_after_guest_shutdown)
{
	struct vsock_device_config cfg;
	struct wire *w;
	struct script_conn *sc;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP), r;

	wire_config(&cfg);
	cfg.profile = VSOCK_PROFILE_LINUX;
	w = wire_new_cfg(&cfg, 64, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	sc->in_gated = true;
	h.len = 3;
	wire_send(w, &h, "abc");
	h = wire_hdr(VIRTIO_VSOCK_OP_SHUTDOWN, GP, HP);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_MASK;
	wire_send(w, &h, NULL);
	wire_expect_none(w);
	script_allow_read(&w->sb, sc, 3, w->now);
	r = wire_expect(w, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	ck_assert_uint_eq(r.fwd_cnt, 3);
	wire_expect_none(w);		/* read everything: still no RST */
	ck_assert(sc->shut_wr && sc->shut_rd);
	script_close(&w->sb, sc, false, w->now);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(r.fwd_cnt, 3);
	ck_assert_uint_eq(vsock_device_nconns(w->dev), 0);
	wire_free(w);
}
END_TEST

/*
 * linux: the application closes with guest bytes unread and nothing owed
 * to the guest: SHUTDOWN(RCV|SEND) reports the fwd_cnt of what it read, as
 * Linux's released socket keeps the rest queued (virtio_transport_close).
 * Only a close that waits for guest room to send the application's last
 * bytes credits the unread back (device_close_stalled; check_gapps has
 * the blocked guest that needs it), and here the guest has room.
 */
START_TEST(test_linux_close_keeps_fwd_cnt)
{
	struct vsock_device_config cfg;
	struct wire *w;
	struct script_conn *sc;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP), r;

	wire_config(&cfg);
	cfg.profile = VSOCK_PROFILE_LINUX;
	w = wire_new_cfg(&cfg, 64, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	sc->in_limit = 1;
	h.len = 3;
	wire_send(w, &h, "abc");
	while (wire_recv(w, &r, NULL, 0))
		;	/* a credit update, per the policy */
	script_send(&w->sb, sc, "xy", 2, 0, w->now);
	script_close(&w->sb, sc, false, w->now);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(r.fwd_cnt, 1);
	r = wire_expect(w, VIRTIO_VSOCK_OP_SHUTDOWN);
	ck_assert_uint_eq(r.flags, VIRTIO_VSOCK_SHUTDOWN_MASK);
	ck_assert_uint_eq(r.fwd_cnt, 1);
	wire_expect_none(w);
	wire_free(w);
}
END_TEST

/* --- SEQPACKET --- */

START_TEST(test_seqpacket_boundaries_and_fragments)
{
	struct wire *w = wire_new();
	struct script_conn *sc;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP), r;
	static uint8_t big[10000], got[WIRE_RX_PAYLOAD];
	unsigned i, off = 0;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	h.type = VIRTIO_VSOCK_TYPE_SEQPACKET;
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RESPONSE);
	sc = script_find(&w->sb, HP, GP);
	/* Host -> guest: 10000 bytes over 4096-byte buffers: 3 fragments. */
	script_send(&w->sb, sc, big, sizeof(big), VIRTIO_VSOCK_SEQ_EOR,
	    w->now);
	script_send(&w->sb, sc, "x", 1, 0, w->now);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(wire_recv(w, &r, got, sizeof(got)), 1);
		ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RW);
		ck_assert_uint_eq(r.type, VIRTIO_VSOCK_TYPE_SEQPACKET);
		ck_assert_mem_eq(got, big + off, r.len);
		off += r.len;
		ck_assert_uint_eq(r.flags, i < 2 ? 0 :
		    VIRTIO_VSOCK_SEQ_EOM | VIRTIO_VSOCK_SEQ_EOR);
	}
	ck_assert_uint_eq(off, sizeof(big));
	ck_assert_int_eq(wire_recv(w, &r, got, sizeof(got)), 1);
	ck_assert_uint_eq(r.len, 1);
	ck_assert_uint_eq(r.flags, VIRTIO_VSOCK_SEQ_EOM);
	/* Guest -> host: fragments are delivered as one message. */
	h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP);
	h.type = VIRTIO_VSOCK_TYPE_SEQPACKET;
	h.len = 3;
	wire_send(w, &h, "abc");
	ck_assert_uint_eq(sc->in_nmsgs, 0);
	h.flags = VIRTIO_VSOCK_SEQ_EOM | VIRTIO_VSOCK_SEQ_EOR;
	h.len = 2;
	wire_send(w, &h, "de");
	h.flags = VIRTIO_VSOCK_SEQ_EOM;
	h.len = 0;
	wire_send(w, &h, NULL);			/* an empty message */
	h.len = 4;
	wire_send(w, &h, "wxyz");
	ck_assert_uint_eq(sc->in_nmsgs, 3);
	ck_assert_uint_eq(sc->in_msg[0].len, 5);
	ck_assert_uint_eq(sc->in_msg[0].flags,
	    VIRTIO_VSOCK_SEQ_EOM | VIRTIO_VSOCK_SEQ_EOR);
	ck_assert_uint_eq(sc->in_msg[1].len, 0);
	ck_assert_uint_eq(sc->in_msg[2].len, 4);
	ck_assert_mem_eq(sc->in, "abcdewxyz", 9);
	wire_free(w);
}
END_TEST

/* A guest SEQPACKET connection to a host application that reads nothing. */
static struct script_conn *
seq_connect_gated(struct wire *w)
{
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);
	struct script_conn *sc;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	h.type = VIRTIO_VSOCK_TYPE_SEQPACKET;
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RESPONSE);
	sc = script_find(&w->sb, HP, GP);
	sc->in_gated = true;
	return sc;
}

/* Sends one guest SEQPACKET message of len bytes of value v, with EOM. */
static void
seq_send(struct wire *w, uint32_t len, uint8_t v)
{
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP);
	uint8_t buf[64];

	ck_assert_uint_le(len, sizeof(buf));
	memset(buf, v, len);
	h.type = VIRTIO_VSOCK_TYPE_SEQPACKET;
	h.flags = VIRTIO_VSOCK_SEQ_EOM;
	h.len = len;
	wire_send(w, &h, buf);
}

/*
 * Linux bounds what a guest may send ahead of a slow reader by bytes
 * (credit: virtio_transport_inc_rx_pkt()), not by messages: 4000 messages
 * of 16 bytes (64000 of 65536 bytes of credit) are all held, then
 * delivered whole and in order. (Once 64 messages ended in RST: 343
 * ten-byte messages, 5% of the credit, reset a conforming guest.)
 */
START_TEST(test_seqpacket_many_small_messages_held)
{
	struct wire *w = wire_new();
	struct script_conn *sc = seq_connect_gated(w);
	unsigned i;

	for (i = 0; i < 4000; i++)
		seq_send(w, 16, (uint8_t)i);
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	wire_expect_none(w);
	ck_assert_uint_eq(vsock_device_nconns(w->dev), 1);
	ck_assert_uint_eq(sc->in_nmsgs, 0);
	script_allow_read(&w->sb, sc, 64000, w->now);
	ck_assert_uint_eq(sc->in_nmsgs, 4000);
	for (i = 0; i < 4000; i++) {
		ck_assert_uint_eq(sc->in_msg[i].len, 16);
		ck_assert_uint_eq(sc->in_msg[i].flags, VIRTIO_VSOCK_SEQ_EOM);
		ck_assert_uint_eq(sc->in[16 * i + 15], (uint8_t)i);
	}
	ck_assert_uint_eq(w->dev->stats.seqpacket_held_max, 0);
	wire_free(w);
}
END_TEST

/*
 * Messages that cost no credit (empty ones) or almost none must not grow
 * memory without bound: the boundaries held never take more memory than
 * the byte buffer (buf_alloc / 8 of them); one more is refused with RST.
 */
START_TEST(test_seqpacket_held_messages_bounded)
{
	struct wire *w = wire_new();
	struct script_conn *sc = seq_connect_gated(w);
	uint32_t max = txbuf_msgs_max(64 * 1024), i;
	struct vsock_conn *c;

	ck_assert_uint_eq(max, 8192);
	seq_send(w, 1, 'a');			/* blocks the others */
	for (i = 1; i < max; i++)
		seq_send(w, 0, 0);
	c = vsock_device_find(w->dev, HP, GP);
	ck_assert_uint_eq(c->tx.nmsgs, max);
	ck_assert_uint_le(c->tx.msg_cap, max);
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	wire_expect_none(w);
	seq_send(w, 0, 0);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(w->dev->stats.seqpacket_held_max, 1);
	ck_assert_int_eq(sc->released, 1 + VSOCK_RELEASE_RESET);
	wire_free(w);
}
END_TEST

/*
 * Fragments of a guest message without its EOM yet cannot be written (a
 * message goes whole): the host socket must not be polled for writing
 * meanwhile, or a level-triggered loop spins while the guest takes its
 * time (found by test_guest_seqpacket_message_up_to_buf_alloc).
 */
START_TEST(test_seqpacket_partial_message_not_polled)
{
	struct wire *w = wire_new();
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);
	struct script_conn *sc;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	h.type = VIRTIO_VSOCK_TYPE_SEQPACKET;
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RESPONSE);
	sc = script_find(&w->sb, HP, GP);
	h.op = VIRTIO_VSOCK_OP_RW;
	h.len = 3;
	wire_send(w, &h, "abc");		/* no EOM */
	ck_assert(!(sc->want & VSOCK_EV_WRITE));
	ck_assert_uint_eq(sc->in_nmsgs, 0);
	h.flags = VIRTIO_VSOCK_SEQ_EOM;
	wire_send(w, &h, "def");
	ck_assert_uint_eq(sc->in_nmsgs, 1);
	ck_assert_uint_eq(sc->in_msg[0].len, 6);
	ck_assert(!(sc->want & VSOCK_EV_WRITE));
	/* A held whole message does want the host writable again. */
	sc->in_allow = sc->in_total;
	sc->in_gated = true;
	wire_send(w, &h, "ghi");
	ck_assert(sc->want & VSOCK_EV_WRITE);
	wire_free(w);
}
END_TEST

/* A host message larger than the guest's buffer is refused, not cut. */
START_TEST(test_seqpacket_oversize_refused)
{
	struct wire *w = wire_new();
	struct script_conn *sc;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);
	static uint8_t big[5000];

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	h.type = VIRTIO_VSOCK_TYPE_SEQPACKET;
	h.buf_alloc = 4096;
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RESPONSE);
	sc = script_find(&w->sb, HP, GP);
	script_send(&w->sb, sc, big, sizeof(big), 0, w->now);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(stats(w)->seqpacket_oversize, 1);
	wire_free(w);
}
END_TEST

/*
 * With the cap, a message larger than our own buffer could never be in
 * flight whole: Linux's virtio_transport_seqpacket_enqueue() refuses
 * len > min(peer_buf_alloc, buf_alloc) (EMSGSIZE); the device refuses it
 * with RST, as any message it cannot deliver, instead of sending the
 * first 4 KiB and stalling.
 */
START_TEST(test_seqpacket_oversize_for_capped_window)
{
	struct vsock_device_config cfg;
	struct script_conn *sc;
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);
	static uint8_t big[5000];
	struct wire *w;

	wire_config(&cfg);
	cfg.profile = VSOCK_PROFILE_LINUX;
	cfg.buf_alloc = 4096;
	w = wire_new_cfg(&cfg, 64, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	h.type = VIRTIO_VSOCK_TYPE_SEQPACKET;
	wire_send(w, &h, NULL);			/* guest buf_alloc 256 KiB */
	wire_expect(w, VIRTIO_VSOCK_OP_RESPONSE);
	sc = script_find(&w->sb, HP, GP);
	script_send(&w->sb, sc, big, 4096, 0, w->now);	/* fits exactly */
	ck_assert_uint_eq(wire_expect(w, VIRTIO_VSOCK_OP_RW).len, 4096);
	h = wire_hdr(VIRTIO_VSOCK_OP_CREDIT_UPDATE, GP, HP);
	h.type = VIRTIO_VSOCK_TYPE_SEQPACKET;
	h.fwd_cnt = 4096;
	wire_send(w, &h, NULL);
	script_send(&w->sb, sc, big, sizeof(big), 0, w->now);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(stats(w)->seqpacket_oversize, 1);
	wire_free(w);
}
END_TEST

/* --- transport reset --- */

/* The guest driver takes the event: reads it, posts the buffer again. */
static void
take_reset_event(struct wire *w)
{
	struct fg_buf b;
	uint32_t len, ev;
	void *tok = fg_ring_get_used(&w->q.ev, &len);

	ck_assert_ptr_nonnull(tok);
	ck_assert_uint_eq(len, VSOCK_EVENT_SIZE);
	b.gpa = w->ev_pool + 4 * ((uintptr_t)tok - 1);
	b.len = 4;
	fg_mem_read(&w->mem, b.gpa, &ev, 4);
	ck_assert_uint_eq(ev, VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	ck_assert_int_ge(fg_ring_add(&w->q.ev, NULL, 0, &b, 1, tok, false), 0);
	vsock_device_kick(w->dev, VSOCK_QUEUE_EVENT, w->now);
}

START_TEST(test_transport_reset)
{
	struct wire *w = wire_new();
	struct script_conn *a, *b;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	a = wire_connect(w, GP, HP);
	b = wire_connect(w, GP + 1, HP);
	vsock_device_transport_reset(w->dev, w->now);
	take_reset_event(w);			/* checks the event */
	wire_expect_none(w);			/* no packets at all */
	ck_assert_uint_eq(vsock_device_nconns(w->dev), 0);
	ck_assert_int_eq(a->released, 1 + VSOCK_RELEASE_DEVICE_RESET);
	ck_assert_int_eq(b->released, 1 + VSOCK_RELEASE_DEVICE_RESET);
	wire_free(w);
}
END_TEST

/*
 * Nothing goes to the guest until it has taken the TRANSPORT_RESET, so a
 * host connect right after a reset cannot overtake the event (Firecracker:
 * process_rx() gated by pending_event_ack). The guest has taken it when it
 * gives an event buffer back, as Linux's driver does once it handled the
 * event (virtio_vsock_event_handle(), then virtio_vsock_event_fill_one()).
 */
START_TEST(test_transport_reset_holds_rx)
{
	struct wire *w = wire_new();
	struct script_conn *a;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	wire_connect(w, GP, HP);
	vsock_device_transport_reset(w->dev, w->now);
	ck_assert_err(script_connect(&w->sb, 52, VIRTIO_VSOCK_TYPE_STREAM,
	    w->now, &a), 0);
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	vsock_device_kick(w->dev, VSOCK_QUEUE_TX, w->now);
	wire_expect_none(w);
	take_reset_event(w);
	wire_expect(w, VIRTIO_VSOCK_OP_REQUEST);
	/* Not held any more: the next connect goes out at once. */
	ck_assert_err(script_connect(&w->sb, 53, VIRTIO_VSOCK_TYPE_STREAM,
	    w->now, &a), 0);
	wire_expect(w, VIRTIO_VSOCK_OP_REQUEST);
	wire_free(w);
}
END_TEST

/*
 * A snapshot restored in another VM: the guest's CID changes. Config
 * space says the new CID, the guest hears TRANSPORT_RESET, connections go
 * without a packet; packets with the old CID are dropped as any wrong CID
 * (vhost_vsock_handle_tx_kick()), and the new one is served. Reserved
 * CIDs are refused and change nothing.
 */
START_TEST(test_transport_reset_new_cid)
{
	struct wire *w = wire_new();
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP), r;
	struct script_conn *a;
	uint8_t space[8];

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	a = wire_connect(w, GP, HP);
	ck_assert_err(vsock_device_transport_reset_cid(w->dev, 2, w->now),
	    -VSE_ERR_BAD_CID);
	ck_assert_uint_eq(vsock_device_nconns(w->dev), 1);
	ck_assert_ptr_null(fg_ring_get_used(&w->q.ev, NULL));
	ck_assert_err(vsock_device_transport_reset_cid(w->dev, 5, w->now), 0);
	vsock_device_get_config(w->dev, space);
	ck_assert_mem_eq(space, "\x05\0\0\0\0\0\0\0", 8);
	ck_assert_int_eq(a->released, 1 + VSOCK_RELEASE_DEVICE_RESET);
	ck_assert_uint_eq(vsock_device_nconns(w->dev), 0);
	take_reset_event(w);
	w->guest_cid = 5;
	wire_send(w, &h, NULL);			/* still from CID 3 */
	wire_expect_none(w);
	ck_assert_uint_eq(stats(w)->tx_dropped_cid, 1);
	h.src_cid = 5;
	wire_send(w, &h, NULL);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RESPONSE);
	ck_assert_uint_eq(r.dst_cid, 5);
	wire_free(w);
}
END_TEST

/*
 * The simulated Linux guest reads the new CID when it takes the event
 * (virtio_vsock_event_handle() -> virtio_vsock_update_guest_cid()), so a
 * host connect made the moment the device was reset reaches its listener
 * and is answered from the new CID.
 */
START_TEST(test_transport_reset_new_cid_guest)
{
	struct grig *g = grig_new();
	struct script_conn *sc;
	int l, fd;

	script_listen(&g->sb, 1234, SCRIPT_ACCEPT);
	l = grig_listen(g, VIRTIO_VSOCK_TYPE_STREAM, 5000, 4);
	fd = grig_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 1234);
	ck_assert_int_ge(l, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_err(vsock_device_transport_reset_cid(g->dev, 7, g->now), 0);
	ck_assert_int_eq(grig_host_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 5000,
	    &sc), 0);
	ck_assert(sc->established);
	ck_assert_int_eq(fg_sock_error(g->vs, fd), ECONNRESET);
	ck_assert_uint_eq(vsock_device_stats(g->dev)->tx_dropped_cid, 0);
	ck_assert_uint_eq(g->trace[(g->npackets - 1) % GRIG_TRACE].hdr.src_cid,
	    7);
	grig_free(g);
}
END_TEST

/*
 * Event buffers the guest got wrong (too short for the 4-byte event, or
 * device-readable: the event queue takes writable buffers, 5.10.6.5) go
 * back unused and counted; the event waits for a good one.
 */
START_TEST(test_transport_reset_bad_event_buffers)
{
	struct wire *w = wire_new();
	struct fg_buf shortb = { w->ev_pool, 2 }, ro = { w->ev_pool + 8, 4 },
	    good = { w->ev_pool + 4, 4 };
	uint32_t len, ev;
	unsigned i;

	for (i = 0; i < 4; i++) {	/* the rig's four good buffers */
		vsock_device_transport_reset(w->dev, w->now);
		ck_assert_ptr_nonnull(fg_ring_get_used(&w->q.ev, &len));
	}
	ck_assert_int_ge(fg_ring_add(&w->q.ev, NULL, 0, &shortb, 1,
	    (void *)10, false), 0);
	ck_assert_int_ge(fg_ring_add(&w->q.ev, &ro, 1, NULL, 0, (void *)11,
	    false), 0);
	vsock_device_transport_reset(w->dev, w->now);
	ck_assert_ptr_eq(fg_ring_get_used(&w->q.ev, &len), (void *)10);
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_eq(fg_ring_get_used(&w->q.ev, &len), (void *)11);
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_null(fg_ring_get_used(&w->q.ev, &len));
	ck_assert_uint_eq(stats(w)->rx_bad_buffers, 2);
	/* A good buffer later: the pending event goes into it. */
	ck_assert_int_ge(fg_ring_add(&w->q.ev, NULL, 0, &good, 1, (void *)12,
	    false), 0);
	vsock_device_kick(w->dev, VSOCK_QUEUE_EVENT, w->now);
	ck_assert_ptr_eq(fg_ring_get_used(&w->q.ev, &len), (void *)12);
	ck_assert_uint_eq(len, 4);
	fg_mem_read(&w->mem, good.gpa, &ev, 4);
	ck_assert_uint_eq(ev, VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	wire_free(w);
}
END_TEST

static Suite *
device_suite(void)
{
	Suite *s = suite_create("device");
	TCase *tc;

	tc = tcase_create("config");
	tcase_add_test(tc, test_reserved_cids_refused);
	tcase_add_test(tc, test_profile_names);
	tcase_add_test(tc, test_features_and_config);
	suite_add_tcase(s, tc);

	tc = tcase_create("rst-rules");
	tcase_add_test(tc, test_rst_unknown_pair);
	tcase_add_test(tc, test_rst_no_listener);
	tcase_add_test(tc, test_rst_unknown_type);
	tcase_add_test(tc, test_rst_seqpacket_not_negotiated);
	tcase_add_test(tc, test_invalid_op_on_known_conn_dropped);
	tcase_add_test(tc, test_wrong_type_on_known_conn_rst);
	tcase_add_test(tc, test_malformed_tx_dropped);
	tcase_add_loop_test(tc, test_tx_chain_longer_than_packet, 0, 2);
	tcase_add_test(tc, test_connection_limit);
	tcase_add_test(tc, test_conn_hot_fields_first);
	tcase_add_test(tc, test_conntab_chains);
	suite_add_tcase(s, tc);

	tc = tcase_create("connect");
	tcase_add_test(tc, test_host_connect_ports_and_response);
	tcase_add_test(tc, test_local_port_skips_ports_in_use);
	tcase_add_test(tc, test_request_timeout);
	tcase_add_test(tc, test_request_timeout_from_send);
	tcase_add_test(tc, test_host_connecting_bad_reply_linux);
	tcase_add_test(tc, test_timers_swept_on_any_kick);
	tcase_add_test(tc, test_unsent_request_response_dropped);
	tcase_add_test(tc, test_unsent_request_ends_silently);
	tcase_add_test(tc, test_guest_connect_pending_backend);
	tcase_add_test(tc, test_guest_connect_backend_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("credit");
	tcase_add_test(tc, test_credit_exact_fit_and_overrun);
	tcase_add_test(tc, test_credit_zero_request_then_resume);
	tcase_add_test(tc, test_credit_zero_linux_waits_for_update);
	tcase_add_test(tc, test_credit_request_not_repeated_on_empty_update);
	tcase_add_test(tc, test_credit_buf_alloc_shrink);
	tcase_add_test(tc, test_host_buf_alloc_change);
	tcase_add_test(tc, test_credit_counters_wrap);
	tcase_add_loop_test(tc, test_credit_cap_in_flight, 0, 2);
	tcase_add_test(tc, test_credit_request_answered);
	tcase_add_test(tc, test_credit_update_policy_firecracker);
	tcase_add_test(tc, test_credit_update_policy_linux);
	tcase_add_test(tc, test_slow_host_backpressure);
	suite_add_tcase(s, tc);

	tc = tcase_create("rx");
	tcase_add_test(tc, test_rx_starvation_and_resume);
	tcase_add_test(tc, test_rx_wait_parks_read_interest);
	tcase_add_test(tc, test_header_only_rx_buffer_not_eof);
	tcase_add_test(tc, test_rx_batched_read);
	tcase_add_test(tc, test_txbuf_storage_reused);
	tcase_add_test(tc, test_tx_gather_one_write);
	tcase_add_test(tc, test_tx_gather_partial_write);
	tcase_add_test(tc, test_tx_held_waits_for_room);
	tcase_add_test(tc, test_tx_partial_write_waits_for_room);
	tcase_add_test(tc, test_rx_batch_buffer_reused);
	tcase_add_test(tc, test_rx_batch_pool_bounded);
	tcase_add_test(tc, test_rx_scatter_read);
	tcase_add_test(tc, test_rx_scatter_within_credit);
	tcase_add_test(tc, test_rx_scatter_gives_back);
	tcase_add_test(tc, test_rx_script_reports_drained);
	tcase_add_test(tc, test_rx_ready_bytes_bound_the_read);
	tcase_add_test(tc, test_rx_read_takes_what_buffers_hold);
	tcase_add_test(tc, test_rx_big_read_cuts_at_64k);
	suite_add_tcase(s, tc);

	tc = tcase_create("shutdown");
	tcase_add_test(tc, test_half_close_host_side);
	tcase_add_test(tc, test_half_close_guest_side);
	tcase_add_test(tc, test_clean_close_guest);
	tcase_add_loop_test(tc, test_guest_close_with_data_held, 0, 2);
	tcase_add_test(tc, test_clean_close_host);
	tcase_add_loop_test(tc, test_close_timeout, 0, 2);
	tcase_add_test(tc, test_seqpacket_host_close_keeps_message);
	tcase_add_loop_test(tc, test_host_error_meaning, 0,
	    (int)(sizeof(host_errors) / sizeof(host_errors[0])));
	tcase_add_test(tc, test_linux_rst_at_close_after_guest_shutdown);
	tcase_add_test(tc, test_linux_close_keeps_fwd_cnt);
	tcase_add_test(tc, test_host_abort);
	tcase_add_test(tc, test_host_write_error_resets);
	tcase_add_test(tc, test_host_refuses_message_size);
	suite_add_tcase(s, tc);

	tc = tcase_create("seqpacket");
	tcase_add_test(tc, test_seqpacket_boundaries_and_fragments);
	tcase_add_test(tc, test_seqpacket_oversize_refused);
	tcase_add_test(tc, test_seqpacket_partial_message_not_polled);
	tcase_add_test(tc, test_seqpacket_many_small_messages_held);
	tcase_add_test(tc, test_seqpacket_held_messages_bounded);
	tcase_add_test(tc, test_seqpacket_oversize_for_capped_window);
	suite_add_tcase(s, tc);

	tc = tcase_create("reset");
	tcase_add_test(tc, test_transport_reset);
	tcase_add_test(tc, test_transport_reset_bad_event_buffers);
	tcase_add_test(tc, test_transport_reset_holds_rx);
	tcase_add_test(tc, test_transport_reset_new_cid);
	tcase_add_test(tc, test_transport_reset_new_cid_guest);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(device_suite)

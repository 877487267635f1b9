/* check_device_event.c - the device's event callback: each kind, who and why, in order, and nothing without it. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "common.h"
#include "device.h"
#include "wire.h"

#define GP	1024		/* guest port */
#define HP	1234		/* host port */
#define SEC	VSOCK_NS_PER_SEC
#define MAXEV	64

/* Every event the device reported, in order. */
struct recorder {
	struct vsock_event ev[MAXEV];
	unsigned n;
};

static struct recorder rec;

/* The callback under test: keeps a copy of each event. */
static void
record(void *ctx, const struct vsock_event *ev)
{
	ck_assert_ptr_eq(ctx, &rec);
	ck_assert_uint_lt(rec.n, MAXEV);
	rec.ev[rec.n++] = *ev;
}

/* A rig whose device reports to rec (profile p). */
static struct wire *
rig(enum vsock_profile p, uint32_t max_conns)
{
	struct vsock_device_config cfg;

	memset(&rec, 0, sizeof(rec));
	wire_config(&cfg);
	cfg.profile = p;
	if (max_conns != 0)
		cfg.max_conns = max_conns;
	cfg.on_event = record;
	cfg.event_ctx = &rec;
	return wire_new_cfg(&cfg, 64, WIRE_RX_PAYLOAD);
}

/* Asserts event i is kind k by who for why, and returns it. */
static const struct vsock_event *
expect(unsigned i, enum vsock_event_kind k, enum vsock_event_who who,
    enum vsock_event_why why)
{
	const struct vsock_event *e;

	ck_assert_msg(i < rec.n, "event %u of %u: missing (%s)", i, rec.n,
	    vsock_event_kind_name(k));
	e = &rec.ev[i];
	ck_assert_msg(e->kind == k && e->who == who && e->why == why,
	    "event %u: %s %s %s, want %s %s %s", i,
	    vsock_event_kind_name(e->kind), vsock_event_who_name(e->who),
	    vsock_event_why_name(e->why), vsock_event_kind_name(k),
	    vsock_event_who_name(who), vsock_event_why_name(why));
	return e;
}

/* A guest session: requested, established, shutdowns, RST, closed. */
START_TEST(test_guest_session)
{
	struct wire *w = rig(VSOCK_PROFILE_FIRECRACKER, 0);
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP);
	struct script_conn *sc;
	const struct vsock_event *e;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	h.len = 3;
	wire_advance(w, 2 * SEC);
	wire_send(w, &h, "abc");
	script_send(&w->sb, sc, "hello", 5, 0, w->now);
	wire_expect(w, VIRTIO_VSOCK_OP_RW);
	h = wire_hdr(VIRTIO_VSOCK_OP_SHUTDOWN, GP, HP);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
	wire_send(w, &h, NULL);
	wire_send(w, &h, NULL);		/* the same flag again: no event */
	wire_advance(w, SEC);
	h = wire_hdr(VIRTIO_VSOCK_OP_RST, GP, HP);
	wire_send(w, &h, NULL);
	e = expect(0, VSOCK_EVENT_REQUESTED, VSOCK_WHO_GUEST, VSOCK_WHY_NONE);
	ck_assert_uint_eq(e->local_port, HP);
	ck_assert_uint_eq(e->peer_port, GP);
	ck_assert_uint_eq(e->type, VIRTIO_VSOCK_TYPE_STREAM);
	ck_assert_uint_eq(e->guest_cid, WIRE_GUEST_CID);
	ck_assert_int_eq(e->from, VSOCK_WHO_GUEST);
	expect(1, VSOCK_EVENT_ESTABLISHED, VSOCK_WHO_HOST, VSOCK_WHY_NONE);
	e = expect(2, VSOCK_EVENT_SHUTDOWN, VSOCK_WHO_GUEST, VSOCK_WHY_NONE);
	ck_assert_uint_eq(e->flags, VIRTIO_VSOCK_SHUTDOWN_SEND);
	expect(3, VSOCK_EVENT_RESET, VSOCK_WHO_GUEST, VSOCK_WHY_PEER);
	e = expect(4, VSOCK_EVENT_CLOSED, VSOCK_WHO_DEVICE, VSOCK_WHY_NONE);
	ck_assert_uint_eq(e->g2h_bytes, 3);
	ck_assert_uint_eq(e->h2g_bytes, 5);
	ck_assert_uint_eq(e->duration, 3 * SEC);
	ck_assert_uint_eq(e->now, w->now);
	ck_assert_uint_eq(rec.n, 5);
	wire_free(w);
}
END_TEST

/* The host side refuses: why comes from its errno; no closed event. */
START_TEST(test_guest_refused_no_listener)
{
	struct wire *w = rig(VSOCK_PROFILE_FIRECRACKER, 0);
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);
	const struct vsock_event *e;

	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	expect(0, VSOCK_EVENT_REQUESTED, VSOCK_WHO_GUEST, VSOCK_WHY_NONE);
	e = expect(1, VSOCK_EVENT_REFUSED, VSOCK_WHO_HOST,
	    VSOCK_WHY_NO_LISTENER);
	ck_assert_int_eq(e->err, 0);
	ck_assert_uint_eq(rec.n, 2);
	wire_free(w);
}
END_TEST

/* A failing connect the device has no name for keeps its errno. */
START_TEST(test_guest_refused_host_error)
{
	struct wire *w = rig(VSOCK_PROFILE_FIRECRACKER, 0);
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);
	struct script_conn *sc;
	const struct vsock_event *e;

	script_listen(&w->sb, HP, SCRIPT_PENDING);
	wire_send(w, &h, NULL);
	sc = script_find(&w->sb, HP, GP);
	script_complete(&w->sb, sc, -EACCES, w->now);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	e = expect(1, VSOCK_EVENT_REFUSED, VSOCK_WHO_HOST,
	    VSOCK_WHY_HOST_ERROR);
	ck_assert_int_eq(e->err, EACCES);
	ck_assert_uint_eq(rec.n, 2);
	wire_free(w);
}
END_TEST

/* The host side never answers: refused by the device's timer. */
START_TEST(test_guest_refused_timeout)
{
	struct wire *w = rig(VSOCK_PROFILE_FIRECRACKER, 0);
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);

	script_listen(&w->sb, HP, SCRIPT_PENDING);
	wire_send(w, &h, NULL);
	wire_advance(w, VSOCK_DEFAULT_REQUEST_TIMEOUT);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	expect(1, VSOCK_EVENT_REFUSED, VSOCK_WHO_DEVICE, VSOCK_WHY_TIMEOUT);
	ck_assert_uint_eq(rec.n, 2);
	wire_free(w);
}
END_TEST

/* Refused before a connection exists: limit, and SEQPACKET not offered. */
START_TEST(test_guest_refused_limit_and_type)
{
	struct wire *w = rig(VSOCK_PROFILE_FIRECRACKER, 1);
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);
	const struct vsock_event *e;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	wire_connect(w, GP, HP);
	h.src_port = GP + 1;
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	e = expect(2, VSOCK_EVENT_REQUESTED, VSOCK_WHO_GUEST, VSOCK_WHY_NONE);
	ck_assert_uint_eq(e->peer_port, GP + 1);
	e = expect(3, VSOCK_EVENT_REFUSED, VSOCK_WHO_DEVICE, VSOCK_WHY_LIMIT);
	ck_assert_uint_eq(e->local_port, HP);
	ck_assert_uint_eq(e->peer_port, GP + 1);
	ck_assert_err(vsock_device_set_features(w->dev,
	    VIRTIO_FEATURE(VIRTIO_F_VERSION_1)), 0);
	h.type = VIRTIO_VSOCK_TYPE_SEQPACKET;
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	expect(5, VSOCK_EVENT_REFUSED, VSOCK_WHO_DEVICE,
	    VSOCK_WHY_WRONG_TYPE);
	ck_assert_uint_eq(rec.n, 6);
	wire_free(w);
}
END_TEST

/* Host connects: accepted, refused by the guest's RST, or unanswered. */
START_TEST(test_host_connects)
{
	struct wire *w = rig(VSOCK_PROFILE_FIRECRACKER, 0);
	struct script_conn *a, *b, *c;
	struct vsock_hdr h;
	const struct vsock_event *e;

	ck_assert_err(script_connect(&w->sb, 52, VIRTIO_VSOCK_TYPE_STREAM,
	    w->now, &a), 0);
	ck_assert_err(script_connect(&w->sb, 53, VIRTIO_VSOCK_TYPE_STREAM,
	    w->now, &b), 0);
	ck_assert_err(script_connect(&w->sb, 54, VIRTIO_VSOCK_TYPE_STREAM,
	    w->now, &c), 0);
	h = wire_hdr(VIRTIO_VSOCK_OP_RESPONSE, 52, 1073741824u);
	wire_send(w, &h, NULL);
	h = wire_hdr(VIRTIO_VSOCK_OP_RST, 53, 1073741825u);
	wire_send(w, &h, NULL);
	e = expect(0, VSOCK_EVENT_REQUESTED, VSOCK_WHO_HOST, VSOCK_WHY_NONE);
	ck_assert_uint_eq(e->local_port, 1073741824u);
	ck_assert_uint_eq(e->peer_port, 52);
	ck_assert_int_eq(e->from, VSOCK_WHO_HOST);
	expect(3, VSOCK_EVENT_ESTABLISHED, VSOCK_WHO_GUEST, VSOCK_WHY_NONE);
	e = expect(4, VSOCK_EVENT_REFUSED, VSOCK_WHO_GUEST,
	    VSOCK_WHY_NO_LISTENER);
	ck_assert_uint_eq(e->peer_port, 53);
	wire_advance(w, VSOCK_DEFAULT_REQUEST_TIMEOUT);
	e = expect(5, VSOCK_EVENT_REFUSED, VSOCK_WHO_DEVICE,
	    VSOCK_WHY_TIMEOUT);
	ck_assert_uint_eq(e->peer_port, 54);
	ck_assert_uint_eq(rec.n, 6);
	wire_free(w);
}
END_TEST

/* A host connect the device cannot start: requested, then refused. */
START_TEST(test_host_connect_refused_by_device)
{
	struct wire *w = rig(VSOCK_PROFILE_FIRECRACKER, 0);
	struct script_conn *a;

	ck_assert_err(vsock_device_set_features(w->dev,
	    VIRTIO_FEATURE(VIRTIO_F_VERSION_1)), 0);
	ck_assert_int_lt(script_connect(&w->sb, 52,
	    VIRTIO_VSOCK_TYPE_SEQPACKET, w->now, &a), 0);
	expect(0, VSOCK_EVENT_REQUESTED, VSOCK_WHO_HOST, VSOCK_WHY_NONE);
	expect(1, VSOCK_EVENT_REFUSED, VSOCK_WHO_DEVICE,
	    VSOCK_WHY_WRONG_TYPE);
	ck_assert_uint_eq(rec.n, 2);
	wire_free(w);
}
END_TEST

/* Linux's close: the host's SHUTDOWN(RCV|SEND) is an event when it goes out. */
START_TEST(test_host_shutdown_flags)
{
	struct wire *w = rig(VSOCK_PROFILE_LINUX, 0);
	struct script_conn *sc;
	struct vsock_hdr h;
	const struct vsock_event *e;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	script_close(&w->sb, sc, false, w->now);
	wire_expect(w, VIRTIO_VSOCK_OP_SHUTDOWN);
	e = expect(2, VSOCK_EVENT_SHUTDOWN, VSOCK_WHO_HOST, VSOCK_WHY_NONE);
	ck_assert_uint_eq(e->flags, VIRTIO_VSOCK_SHUTDOWN_MASK);
	h = wire_hdr(VIRTIO_VSOCK_OP_RST, GP, HP);
	wire_send(w, &h, NULL);
	expect(3, VSOCK_EVENT_RESET, VSOCK_WHO_GUEST, VSOCK_WHY_PEER);
	expect(4, VSOCK_EVENT_CLOSED, VSOCK_WHO_DEVICE, VSOCK_WHY_NONE);
	ck_assert_uint_eq(rec.n, 5);
	wire_free(w);
}
END_TEST

/* Resets the host side sends, each with its reason. */
START_TEST(test_host_resets)
{
	struct wire *w = rig(VSOCK_PROFILE_FIRECRACKER, 0);
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP + 1, HP);
	struct script_conn *sc;
	unsigned i;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	script_close(&w->sb, sc, true, w->now);		/* abort */
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	expect(2, VSOCK_EVENT_RESET, VSOCK_WHO_HOST, VSOCK_WHY_ABORTED);
	expect(3, VSOCK_EVENT_CLOSED, VSOCK_WHO_DEVICE, VSOCK_WHY_NONE);
	w->sb.default_in_limit = 1;	/* the application takes one byte */
	sc = wire_connect(w, GP + 1, HP);
	sc->in_limit = 1;
	h.len = 16 * 1024;
	for (i = 0; i < 4; i++)
		wire_send(w, &h, NULL);
	h.len = 1;
	wire_send(w, &h, NULL);			/* exact fit */
	wire_send(w, &h, NULL);			/* one byte beyond 64 KiB */
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	expect(6, VSOCK_EVENT_RESET, VSOCK_WHO_HOST,
	    VSOCK_WHY_CREDIT_OVERRUN);
	wire_free(w);
}
END_TEST

/* A transport reset: the CID change, then every connection dropped. */
START_TEST(test_transport_reset)
{
	struct wire *w = rig(VSOCK_PROFILE_FIRECRACKER, 0);
	const struct vsock_event *e;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	wire_connect(w, GP, HP);
	ck_assert_err(vsock_device_transport_reset_cid(w->dev, 5, w->now), 0);
	e = expect(2, VSOCK_EVENT_TRANSPORT_RESET, VSOCK_WHO_DEVICE,
	    VSOCK_WHY_NONE);
	ck_assert_uint_eq(e->old_cid, WIRE_GUEST_CID);
	ck_assert_uint_eq(e->new_cid, 5);
	expect(3, VSOCK_EVENT_RESET, VSOCK_WHO_DEVICE,
	    VSOCK_WHY_TRANSPORT_RESET);
	e = expect(4, VSOCK_EVENT_CLOSED, VSOCK_WHO_DEVICE, VSOCK_WHY_NONE);
	ck_assert_uint_eq(e->guest_cid, 5);
	ck_assert_uint_eq(rec.n, 5);
	/* A failed reset changes nothing and says nothing. */
	ck_assert_err(vsock_device_transport_reset_cid(w->dev, 2, w->now),
	    -VSE_ERR_BAD_CID);
	ck_assert_uint_eq(rec.n, 5);
	wire_free(w);
}
END_TEST

/* A connection reset but not yet gone is not reset again by a transport reset. */
START_TEST(test_transport_reset_after_kill)
{
	struct vsock_device_config cfg;
	struct script_conn *sc;
	struct wire *w;

	memset(&rec, 0, sizeof(rec));
	wire_config(&cfg);
	cfg.on_event = record;
	cfg.event_ctx = &rec;
	w = wire_new_cfg(&cfg, 1, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	script_send(&w->sb, sc, "x", 1, 0, w->now);	/* takes the buffer */
	script_close(&w->sb, sc, true, w->now);	/* RST owed, no buffer */
	expect(2, VSOCK_EVENT_RESET, VSOCK_WHO_HOST, VSOCK_WHY_ABORTED);
	ck_assert_uint_eq(rec.n, 3);
	vsock_device_transport_reset(w->dev, w->now);
	expect(3, VSOCK_EVENT_TRANSPORT_RESET, VSOCK_WHO_DEVICE,
	    VSOCK_WHY_NONE);
	expect(4, VSOCK_EVENT_CLOSED, VSOCK_WHO_DEVICE, VSOCK_WHY_NONE);
	ck_assert_uint_eq(rec.n, 5);
	wire_free(w);
}
END_TEST

/* A guest that breaks the TX ring's rules: one event, the error's code. */
START_TEST(test_queue_broken)
{
	struct wire *w = rig(VSOCK_PROFILE_FIRECRACKER, 0);
	const struct vsock_event *e;

	/* avail->idx further ahead than the ring has entries. */
	fg_ring_raw_set_avail_idx(&w->q.tx, (uint16_t)(WIRE_QSIZE + 1));
	vsock_device_kick(w->dev, VSOCK_QUEUE_TX, w->now);
	vsock_device_kick(w->dev, VSOCK_QUEUE_TX, w->now);
	ck_assert(virtq_is_broken(vsock_device_queue(w->dev,
	    VSOCK_QUEUE_TX)));
	e = expect(0, VSOCK_EVENT_QUEUE_BROKEN, VSOCK_WHO_GUEST,
	    VSOCK_WHY_NONE);
	ck_assert_uint_eq(e->queue, VSOCK_QUEUE_TX);
	ck_assert_int_eq(e->error,
	    vsock_device_queue(w->dev, VSOCK_QUEUE_TX)->broken);
	ck_assert_int_lt(e->error, 0);
	ck_assert_uint_eq(rec.n, 1);
	wire_free(w);
}
END_TEST

/* Every kind, who and why has a name; out-of-range values do not crash. */
START_TEST(test_names)
{
	unsigned i;

	for (i = 0; i < VSOCK_EVENT__COUNT; i++)
		ck_assert_str_ne(vsock_event_kind_name(i), "?");
	for (i = 0; i < VSOCK_WHO__COUNT; i++)
		ck_assert_str_ne(vsock_event_who_name(i), "?");
	for (i = 1; i < VSOCK_WHY__COUNT; i++) {
		ck_assert_str_ne(vsock_event_why_name(i), "?");
		ck_assert_str_ne(vsock_event_why_name(i), "");
	}
	ck_assert_str_eq(vsock_event_kind_name(VSOCK_EVENT__COUNT), "?");
	ck_assert_str_eq(vsock_event_who_name((enum vsock_event_who)-1), "?");
	ck_assert_str_eq(vsock_event_why_name(VSOCK_WHY__COUNT), "?");
}
END_TEST

static Suite *
device_event_suite(void)
{
	Suite *s = suite_create("device_event");
	TCase *tc = tcase_create("events");

	tcase_add_test(tc, test_guest_session);
	tcase_add_test(tc, test_guest_refused_no_listener);
	tcase_add_test(tc, test_guest_refused_host_error);
	tcase_add_test(tc, test_guest_refused_timeout);
	tcase_add_test(tc, test_guest_refused_limit_and_type);
	tcase_add_test(tc, test_host_connects);
	tcase_add_test(tc, test_host_connect_refused_by_device);
	tcase_add_test(tc, test_host_shutdown_flags);
	tcase_add_test(tc, test_host_resets);
	tcase_add_test(tc, test_transport_reset);
	tcase_add_test(tc, test_transport_reset_after_kill);
	tcase_add_test(tc, test_queue_broken);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(device_event_suite)

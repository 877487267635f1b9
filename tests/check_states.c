/* check_states.c - the full state x op matrix of doc/connection-states.md. */
#include "config.h"

#include "common.h"
#include "device-int.h"
#include "wire.h"

#define GP	1024
#define HP	1234

enum mstate {
	M_UNKNOWN, M_GUEST_CONNECTING, M_HOST_CONNECTING, M_ESTABLISHED,
	M_HALF_GUEST, M_HALF_HOST, M_CLOSING, M_KILLED, M__COUNT
};

static const char *const mstate_name[M__COUNT] = {
	"unknown", "guest-connecting", "host-connecting", "established",
	"half-closed-guest", "half-closed-host", "closing", "killed",
};

/* The ops tried in every state: the eight defined and one unknown. */
static const uint16_t mops[] = { 0, 1, 2, 3, 4, 5, 6, 7, 99 };
#define NOPS	(sizeof(mops) / sizeof(mops[0]))

#define GONE	0xff	/* the connection no longer exists */
#define NONE	0xffff	/* no packet in reply */

struct expect {
	uint16_t reply;		/* op the device answers with, or NONE */
	uint8_t after;		/* conn_state afterwards, or GONE */
};

#define R_RST		VIRTIO_VSOCK_OP_RST
#define R_RESP		VIRTIO_VSOCK_OP_RESPONSE
#define R_CU		VIRTIO_VSOCK_OP_CREDIT_UPDATE
#define EST		CONN_ESTABLISHED
#define GC		CONN_GUEST_CONNECTING
#define HC		CONN_HOST_CONNECTING
#define CL		CONN_CLOSING

/*
 * Rows: states; columns: INVALID REQUEST RESPONSE RST SHUTDOWN(3) RW(1)
 * CREDIT_UPDATE CREDIT_REQUEST op-99. Keep in step with the table in
 * doc/connection-states.md.
 */
static const struct expect matrix[M__COUNT][NOPS] = {
	[M_UNKNOWN] = {
		{ R_RST, GONE }, { R_RESP, EST }, { R_RST, GONE },
		{ NONE, GONE }, { R_RST, GONE }, { R_RST, GONE },
		{ R_RST, GONE }, { R_RST, GONE }, { R_RST, GONE } },
	[M_GUEST_CONNECTING] = {
		{ NONE, GC }, { NONE, GC }, { NONE, GC }, { NONE, GONE },
		{ NONE, GC }, { NONE, GC }, { NONE, GC }, { NONE, GC },
		{ NONE, GC } },
	[M_HOST_CONNECTING] = {
		{ NONE, HC }, { NONE, HC }, { NONE, EST }, { NONE, GONE },
		{ NONE, HC }, { NONE, HC }, { NONE, HC }, { NONE, HC },
		{ NONE, HC } },
	[M_ESTABLISHED] = {
		{ NONE, EST }, { NONE, EST }, { NONE, EST }, { NONE, GONE },
		{ R_RST, GONE }, { NONE, EST }, { NONE, EST }, { R_CU, EST },
		{ NONE, EST } },
	[M_HALF_GUEST] = {
		{ NONE, EST }, { NONE, EST }, { NONE, EST }, { NONE, GONE },
		{ R_RST, GONE }, { NONE, EST }, { NONE, EST }, { R_CU, EST },
		{ NONE, EST } },
	[M_HALF_HOST] = {
		{ NONE, EST }, { NONE, EST }, { NONE, EST }, { NONE, GONE },
		{ R_RST, GONE }, { NONE, EST }, { NONE, EST }, { R_CU, EST },
		{ NONE, EST } },
	[M_CLOSING] = {
		{ NONE, CL }, { NONE, CL }, { NONE, CL }, { NONE, GONE },
		{ R_RST, GONE }, { NONE, CL }, { NONE, CL }, { NONE, CL },
		{ NONE, CL } },
	/* The RST we owe still goes out, except after the guest's RST. */
	[M_KILLED] = {
		{ R_RST, GONE }, { R_RST, GONE }, { R_RST, GONE },
		{ NONE, GONE }, { R_RST, GONE }, { R_RST, GONE },
		{ R_RST, GONE }, { R_RST, GONE }, { R_RST, GONE } },
};

/* Builds a rig with the pair (GP, *hp) in state st. */
static struct wire *
setup(enum mstate st, uint32_t *hp)
{
	struct vsock_device_config cfg;
	struct script_conn *sc;
	struct vsock_hdr h;
	struct wire *w;

	*hp = HP;
	wire_config(&cfg);
	w = wire_new_cfg(&cfg, st == M_KILLED ? 0 : 64, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, st == M_GUEST_CONNECTING ? SCRIPT_PENDING :
	    SCRIPT_ACCEPT);
	switch (st) {
	case M_UNKNOWN:
		break;
	case M_GUEST_CONNECTING:
	case M_KILLED:
		h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, GP, HP);
		wire_send(w, &h, NULL);
		if (st == M_KILLED) {
			/* No RX buffers: the RST (which replaces the
			 * RESPONSE) must wait. */
			sc = script_find(&w->sb, HP, GP);
			script_close(&w->sb, sc, true, w->now);
		}
		break;
	case M_HOST_CONNECTING:
		ck_assert_err(script_connect(&w->sb, GP,
		    VIRTIO_VSOCK_TYPE_STREAM, w->now, &sc), 0);
		wire_expect(w, VIRTIO_VSOCK_OP_REQUEST);
		*hp = sc->host_port;
		break;
	case M_ESTABLISHED:
		wire_connect(w, GP, HP);
		break;
	case M_HALF_GUEST:
		wire_connect(w, GP, HP);
		h = wire_hdr(VIRTIO_VSOCK_OP_SHUTDOWN, GP, HP);
		h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
		wire_send(w, &h, NULL);
		break;
	case M_HALF_HOST:
		sc = wire_connect(w, GP, HP);
		script_shutdown_write(&w->sb, sc, w->now);
		wire_expect(w, VIRTIO_VSOCK_OP_SHUTDOWN);
		break;
	case M_CLOSING:
		sc = wire_connect(w, GP, HP);
		script_close(&w->sb, sc, false, w->now);
		wire_expect(w, VIRTIO_VSOCK_OP_SHUTDOWN);
		break;
	default:
		ck_abort();
	}
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	wire_expect_none(w);
	return w;
}

START_TEST(test_state_op)
{
	enum mstate st = (enum mstate)(_i / (int)NOPS);
	uint16_t op = mops[_i % NOPS];
	const struct expect *ex = &matrix[st][_i % NOPS];
	struct vsock_conn *c;
	struct vsock_hdr h, r;
	uint32_t hp;
	struct wire *w = setup(st, &hp);
	int got;

	h = wire_hdr(op, GP, hp);
	if (op == VIRTIO_VSOCK_OP_SHUTDOWN)
		h.flags = VIRTIO_VSOCK_SHUTDOWN_MASK;
	if (op == VIRTIO_VSOCK_OP_RW)
		h.len = 1;
	wire_send(w, &h, "x");
	if (st == M_KILLED)
		wire_post_rx(w, 4);
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	got = wire_recv(w, &r, NULL, 0);
	if (ex->reply == NONE) {
		ck_assert_msg(!got, "%s x %s: unexpected %s", mstate_name[st],
		    vsock_op_name(op), vsock_op_name(r.op));
	} else {
		ck_assert_msg(got && r.op == ex->reply,
		    "%s x %s: want %s, got %s", mstate_name[st],
		    vsock_op_name(op), vsock_op_name(ex->reply),
		    got ? vsock_op_name(r.op) : "nothing");
		ck_assert_uint_eq(r.dst_port, GP);
		ck_assert_uint_eq(r.src_port, hp);
	}
	wire_expect_none(w);
	c = vsock_device_find(w->dev, hp, GP);
	if (ex->after == GONE)
		ck_assert_msg(c == NULL, "%s x %s: connection should be gone",
		    mstate_name[st], vsock_op_name(op));
	else
		ck_assert_msg(c != NULL && c->state == ex->after,
		    "%s x %s: want state %d, got %d", mstate_name[st],
		    vsock_op_name(op), ex->after, c ? c->state : -1);
	wire_free(w);
}
END_TEST

static Suite *
states_suite(void)
{
	Suite *s = suite_create("states");
	TCase *tc = tcase_create("matrix");

	tcase_add_loop_test(tc, test_state_op, 0, M__COUNT * (int)NOPS);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(states_suite)

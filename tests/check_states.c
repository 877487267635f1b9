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
	/* Firecracker's LocalClosed ignores all but RST (connection.rs). */
	[M_CLOSING] = {
		{ NONE, CL }, { NONE, CL }, { NONE, CL }, { NONE, GONE },
		{ NONE, CL }, { NONE, CL }, { NONE, CL }, { NONE, CL },
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

/*
 * --- How connections end: the close table of doc/connection-states.md ---
 *
 * Each row starts from an established connection, runs its setup steps
 * (their packets are not checked), then its event steps, and checks every
 * packet the event makes the device send and the state it leaves, once
 * per profile: [0] linux, [1] firecracker.
 */
enum cstep {
	C_END = 0,
	H_CONNECT,	/* (first step) host-initiated: REQUEST out, no answer */
	G_SHUT_SEND,	/* guest SHUTDOWN(SEND) */
	G_SHUT_RCV,	/* guest SHUTDOWN(RCV) */
	G_SHUT_BOTH,	/* guest SHUTDOWN(RCV|SEND) */
	G_RST,		/* guest RST */
	G_RW,		/* guest RW of 3 bytes */
	G_RW_OVER,	/* guest RWs filling our buf_alloc, then one byte more */
	G_CREQ,		/* guest CREDIT_REQUEST */
	G_NO_CREDIT,	/* guest CREDIT_UPDATE with buf_alloc 0 */
	G_CREDIT,	/* guest CREDIT_UPDATE with its usual buf_alloc again */
	H_HOLD,		/* the application holds 1 unread byte, takes no more */
	H_SEND,		/* the application writes 3 bytes */
	H_SHUT_WR,	/* the application shuts down writing (EOF) */
	H_SHUT_RD,	/* ... shuts down reading */
	H_CLOSE,	/* ... closes */
	H_CLOSE_UNREAD,	/* ... closes leaving guest data unread (ECONNRESET) */
	H_ABORT,	/* the backend fails */
	T_CLOSE,	/* the profile's close timeout passes */
};

#define CSTEPS		5
#define COUTS		3
#define SHUT_R		VIRTIO_VSOCK_SHUTDOWN_RCV
#define SHUT_S		VIRTIO_VSOCK_SHUTDOWN_SEND
#define SHUT_RS		VIRTIO_VSOCK_SHUTDOWN_MASK

/* One packet the device sends (op 0 ends the list: it never sends INVALID). */
struct cpkt {
	uint16_t op;
	uint32_t flags;		/* SHUTDOWN's */
};

struct cexpect {
	struct cpkt out[COUTS];
	uint8_t after;		/* conn_state, or GONE */
};

struct crow {
	const char *name;
	uint8_t setup[CSTEPS], event[CSTEPS];	/* enum cstep, C_END-ended */
	struct cexpect ex[2];			/* linux, firecracker */
};

#define P_SHUT(f)	{ VIRTIO_VSOCK_OP_SHUTDOWN, (f) }
#define P_RST		{ VIRTIO_VSOCK_OP_RST, 0 }
#define P_CU		{ VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0 }
#define P_RW		{ VIRTIO_VSOCK_OP_RW, 0 }

/* Keep in step with the close table in doc/connection-states.md. */
static const struct crow close_rows[] = {
	{ "established + host SHUT_WR", { 0 }, { H_SHUT_WR },
	    { { { P_SHUT(SHUT_S) }, EST }, { { P_SHUT(SHUT_S) }, EST } } },
	{ "established + host SHUT_RD", { 0 }, { H_SHUT_RD },
	    { { { P_SHUT(SHUT_R) }, EST }, { { P_RST }, GONE } } },
	{ "established + host close", { 0 }, { H_CLOSE },
	    { { { P_SHUT(SHUT_RS) }, CL }, { { P_SHUT(SHUT_RS) }, CL } } },
	{ "established, data unread + host close", { H_HOLD, G_RW },
	    { H_CLOSE },
	    { { { P_SHUT(SHUT_RS) }, CL }, { { P_RST }, GONE } } },
	{ "established, data unread + host close (ECONNRESET)",
	    { H_HOLD, G_RW }, { H_CLOSE_UNREAD },
	    { { { P_SHUT(SHUT_RS) }, CL }, { { P_RST }, GONE } } },
	/*
	 * The application's last bytes wait for the guest's credit when it
	 * closes: they still go out, and only then the end of its stream.
	 * With ECONNRESET (it left bytes of ours unread, if only the muxer's
	 * "OK <port>\n" line) Firecracker reads the stream until the read
	 * fails (recv_pkt: data, then the error kills): RST after the data,
	 * never before it (serve lost a host->guest transfer's last 24 KiB
	 * to that until 2026-12).
	 */
	{ "its data waiting for credit + host close, credit",
	    { G_NO_CREDIT, H_SEND }, { H_CLOSE, G_CREDIT },
	    { { { P_RW, P_SHUT(SHUT_RS) }, CL },
	    { { P_RW, P_SHUT(SHUT_RS) }, CL } } },
	{ "its data waiting for credit + host close (ECONNRESET), credit",
	    { G_NO_CREDIT, H_SEND }, { H_CLOSE_UNREAD, G_CREDIT },
	    { { { P_RW, P_SHUT(SHUT_RS) }, CL }, { { P_RW, P_RST }, GONE } } },
	{ "host closed, its data waiting for credit + guest RW",
	    { G_NO_CREDIT, H_SEND, H_CLOSE }, { G_RW },
	    { { { P_RW, P_SHUT(SHUT_RS) }, CL }, { { P_RST }, GONE } } },
	{ "established + host abort", { 0 }, { H_ABORT },
	    { { { P_RST }, GONE }, { { P_RST }, GONE } } },
	{ "established + guest SHUTDOWN(SEND)", { 0 }, { G_SHUT_SEND },
	    { { { { 0, 0 } }, EST }, { { { 0, 0 } }, EST } } },
	{ "established + guest SHUTDOWN(RCV)", { 0 }, { G_SHUT_RCV },
	    { { { { 0, 0 } }, EST }, { { { 0, 0 } }, EST } } },
	{ "established + guest SHUTDOWN(RCV|SEND)", { 0 }, { G_SHUT_BOTH },
	    { { { P_RST }, GONE }, { { P_RST }, GONE } } },
	{ "established, data unread + guest SHUTDOWN(RCV|SEND)",
	    { H_HOLD, G_RW }, { G_SHUT_BOTH },
	    { { { { 0, 0 } }, EST }, { { { 0, 0 } }, EST } } },
	{ "guest SHUTDOWN(RCV|SEND) with data unread + host close",
	    { H_HOLD, G_RW, G_SHUT_BOTH }, { H_CLOSE },
	    { { { P_RST }, GONE }, { { P_RST }, GONE } } },
	{ "established + guest RST", { 0 }, { G_RST },
	    { { { { 0, 0 } }, GONE }, { { { 0, 0 } }, GONE } } },
	{ "half-closed-host + guest SHUTDOWN(SEND)", { H_SHUT_WR },
	    { G_SHUT_SEND },
	    { { { { 0, 0 } }, EST }, { { P_RST }, GONE } } },
	{ "half-closed-host + host close", { H_SHUT_WR }, { H_CLOSE },
	    { { { P_SHUT(SHUT_RS) }, CL }, { { P_SHUT(SHUT_RS) }, CL } } },
	{ "both half-closed + host close", { H_SHUT_WR, G_SHUT_SEND },
	    { H_CLOSE },
	    { { { P_SHUT(SHUT_RS) }, CL }, { { { 0, 0 } }, GONE } } },
	{ "half-closed-guest + host SHUT_WR", { G_SHUT_SEND }, { H_SHUT_WR },
	    { { { P_SHUT(SHUT_S) }, EST },
	    { { P_SHUT(SHUT_S), P_RST }, GONE } } },
	{ "guest shut down reading + host close", { G_SHUT_RCV }, { H_CLOSE },
	    { { { P_SHUT(SHUT_RS) }, CL }, { { { 0, 0 } }, EST } } },
	{ "guest shut down reading + host close (ECONNRESET)", { G_SHUT_RCV },
	    { H_CLOSE_UNREAD },
	    { { { P_SHUT(SHUT_RS) }, CL }, { { { 0, 0 } }, EST } } },
	{ "half-closed-guest + host close", { G_SHUT_SEND }, { H_CLOSE },
	    { { { P_SHUT(SHUT_RS) }, CL }, { { P_SHUT(SHUT_RS) }, CL } } },
	{ "host SHUT_RD and SHUT_WR + host close", { H_SHUT_RD, H_SHUT_WR },
	    { H_CLOSE },
	    { { { { 0, 0 } }, CL }, { { { 0, 0 } }, GONE } } },
	{ "closing + guest RST", { H_CLOSE }, { G_RST },
	    { { { { 0, 0 } }, GONE }, { { { 0, 0 } }, GONE } } },
	{ "closing + guest SHUTDOWN(RCV|SEND)", { H_CLOSE }, { G_SHUT_BOTH },
	    { { { P_RST }, GONE }, { { { 0, 0 } }, CL } } },
	{ "closing + guest SHUTDOWN(SEND)", { H_CLOSE }, { G_SHUT_SEND },
	    { { { { 0, 0 } }, CL }, { { { 0, 0 } }, CL } } },
	{ "closing + guest RW", { H_CLOSE }, { G_RW },
	    { { { { 0, 0 } }, CL }, { { { 0, 0 } }, CL } } },
	{ "closing + guest RW, SHUTDOWN(RCV|SEND)", { H_CLOSE, G_RW },
	    { G_SHUT_BOTH },
	    { { { { 0, 0 } }, CL }, { { { 0, 0 } }, CL } } },
	{ "closing, data unread, guest shut down + close timeout",
	    { H_CLOSE, G_RW, G_SHUT_BOTH }, { T_CLOSE },
	    { { { P_RST }, GONE }, { { P_RST }, GONE } } },
	{ "closing + guest RW beyond credit", { H_CLOSE }, { G_RW_OVER },
	    { { { P_RST }, GONE }, { { { 0, 0 } }, CL } } },
	{ "closing + guest CREDIT_REQUEST", { H_CLOSE }, { G_CREQ },
	    { { { P_CU }, CL }, { { { 0, 0 } }, CL } } },
	{ "closing + close timeout", { H_CLOSE }, { T_CLOSE },
	    { { { P_RST }, GONE }, { { P_RST }, GONE } } },
	{ "host-connecting + host close", { H_CONNECT }, { H_CLOSE },
	    { { { { 0, 0 } }, GONE }, { { P_RST }, GONE } } },
};
#define NCLOSE_ROWS	(sizeof(close_rows) / sizeof(close_rows[0]))

/* Sends RWs of 64 KiB until the device's buf_alloc is used, then 1 byte. */
static void
fill_credit(struct wire *w, uint32_t hp)
{
	static uint8_t chunk[VIRTIO_VSOCK_MAX_PKT_BUF_SIZE];
	uint32_t left = vsock_profile_buf_alloc(w->dev->cfg.profile);
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, hp);

	while (left > 0) {
		h.len = left < sizeof(chunk) ? left : sizeof(chunk);
		wire_send(w, &h, chunk);
		left -= h.len;
	}
	h.len = 1;
	wire_send(w, &h, chunk);
}

/* Does one step of a close scenario. */
static void
close_step(struct wire *w, struct script_conn **sc, uint32_t *hp,
    enum cstep st)
{
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_SHUTDOWN, GP, *hp);

	switch (st) {
	case C_END:
		break;
	case H_CONNECT:
		ck_assert_err(script_connect(&w->sb, GP,
		    VIRTIO_VSOCK_TYPE_STREAM, w->now, sc), 0);
		*hp = (*sc)->host_port;
		break;
	case G_SHUT_SEND:
	case G_SHUT_RCV:
	case G_SHUT_BOTH:
		h.flags = st == G_SHUT_SEND ? SHUT_S : st == G_SHUT_RCV ?
		    SHUT_R : SHUT_RS;
		wire_send(w, &h, NULL);
		break;
	case G_RST:
	case G_CREQ:
		h.op = st == G_RST ? VIRTIO_VSOCK_OP_RST :
		    VIRTIO_VSOCK_OP_CREDIT_REQUEST;
		wire_send(w, &h, NULL);
		break;
	case G_RW:
		h.op = VIRTIO_VSOCK_OP_RW;
		h.len = 3;
		wire_send(w, &h, "abc");
		break;
	case G_RW_OVER:
		fill_credit(w, *hp);
		break;
	case G_NO_CREDIT:
	case G_CREDIT:
		h.op = VIRTIO_VSOCK_OP_CREDIT_UPDATE;
		if (st == G_NO_CREDIT)
			h.buf_alloc = 0;
		wire_send(w, &h, NULL);
		break;
	case H_HOLD:
		(*sc)->in_limit = 1;
		break;
	case H_SEND:
		script_send(&w->sb, *sc, "xyz", 3, 0, w->now);
		break;
	case H_SHUT_WR:
		script_shutdown_write(&w->sb, *sc, w->now);
		break;
	case H_SHUT_RD:
		script_shutdown_read(&w->sb, *sc, w->now);
		break;
	case H_CLOSE:
	case H_ABORT:
		script_close(&w->sb, *sc, st == H_ABORT, w->now);
		break;
	case H_CLOSE_UNREAD:
		script_host_event(&w->sb, *sc, VSOCK_HOST_CLOSE_UNREAD, w->now);
		break;
	case T_CLOSE:
		wire_advance(w, vsock_profile_close_timeout(
		    w->dev->cfg.profile));
		break;
	}
}

START_TEST(test_close_rule)
{
	const struct crow *row = &close_rows[_i / 2];
	const struct cexpect *ex = &row->ex[_i % 2];
	struct vsock_device_config cfg;
	struct script_conn *sc = NULL;
	struct vsock_conn *c;
	struct vsock_hdr r;
	uint32_t hp = HP;
	const char *prof = _i % 2 ? "firecracker" : "linux";
	struct wire *w;
	unsigned i;

	wire_config(&cfg);
	cfg.profile = _i % 2 ? VSOCK_PROFILE_FIRECRACKER : VSOCK_PROFILE_LINUX;
	w = wire_new_cfg(&cfg, 64, WIRE_RX_PAYLOAD);
	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	if (row->setup[0] != H_CONNECT)
		sc = wire_connect(w, GP, HP);
	for (i = 0; i < CSTEPS && row->setup[i] != C_END; i++)
		close_step(w, &sc, &hp, row->setup[i]);
	while (wire_recv(w, &r, NULL, 0))
		;	/* the setup's own packets */
	for (i = 0; i < CSTEPS && row->event[i] != C_END; i++)
		close_step(w, &sc, &hp, row->event[i]);
	for (i = 0; i < COUTS && ex->out[i].op != 0; i++) {
		int got = wire_recv(w, &r, NULL, 0);

		ck_assert_msg(got && r.op == ex->out[i].op,
		    "%s (%s): packet %u: want %s, got %s", row->name, prof, i,
		    vsock_op_name(ex->out[i].op),
		    got ? vsock_op_name(r.op) : "nothing");
		if (r.op == VIRTIO_VSOCK_OP_SHUTDOWN)
			ck_assert_msg(r.flags == ex->out[i].flags,
			    "%s (%s): SHUTDOWN flags %u, want %u", row->name,
			    prof, r.flags, ex->out[i].flags);
	}
	ck_assert_msg(!wire_recv(w, &r, NULL, 0), "%s (%s): unexpected %s",
	    row->name, prof, vsock_op_name(r.op));
	c = vsock_device_find(w->dev, hp, GP);
	if (ex->after == GONE)
		ck_assert_msg(c == NULL, "%s (%s): connection should be gone",
		    row->name, prof);
	else
		ck_assert_msg(c != NULL && c->state == ex->after,
		    "%s (%s): want state %d, got %d", row->name, prof,
		    ex->after, c ? c->state : -1);
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
	tc = tcase_create("close");
	tcase_add_loop_test(tc, test_close_rule, 0, 2 * (int)NCLOSE_ROWS);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(states_suite)

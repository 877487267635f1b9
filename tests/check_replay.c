/* check_replay.c - the replay engine on synthetic frames: roles, mapping, inference, verdicts. */
#include "config.h"

#include <string.h>

#include <inttypes.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"
#include "pcap-util.h"
#include "rawguest.h"
#include "replay-int.h"

#define GP	1024
#define HP	1234
#define US	UINT64_C(1000)
#define SEC	VSOCK_NS_PER_SEC

/* A replay under test: engine, guest, and the guest frames it was fed. */
struct tr {
	struct replay *rp;
	struct rawguest g;
	struct replay_options o;
	uint64_t n;			/* frames fed */
	uint32_t fed_dst_port;		/* dst_port of the last guest frame fed */
	uint64_t dropped_ops;		/* guest ops whose RX the test swallowed */
	struct replay_result res;
};

static void
tr_tap(void *ctx, const struct vsock_tap_record *rec)
{
	struct tr *t = ctx;

	if (rec->dir == VSOCK_TAP_GUEST_TO_HOST)
		t->fed_dst_port = rec->hdr.dst_port;
}

static struct tr *
tr_new_opts(const struct replay_options *o, enum vsock_profile p)
{
	struct tr *t = calloc(1, sizeof(*t));

	ck_assert_ptr_nonnull(t);
	t->o = *o;
	t->o.tap = tr_tap;
	t->o.tap_ctx = t;
	ck_assert_err(replay_new(&t->o, p, 0, &rawguest_replay_ops, &t->g,
	    &t->rp), 0);
	return t;
}

static struct tr *
tr_new(void)
{
	struct replay_options o;

	replay_options_defaults(&o);
	return tr_new_opts(&o, VSOCK_PROFILE_LINUX);
}

/*
 * Feeds one frame: at ts (ns), src -> dst, op, flags, payload of len bytes
 * (or none). Direction as the reader decides it: host when src is CID 2.
 */
static int
tr_feed_type(struct tr *t, uint64_t ts, uint64_t scid, uint32_t sp,
    uint64_t dcid, uint32_t dp, uint16_t type, uint16_t op, uint32_t flags,
    const void *payload, uint32_t len, uint32_t buf, uint32_t fwd)
{
	struct vsock_pcap_frame f;

	memset(&f, 0, sizeof(f));
	f.number = ++t->n;
	f.ts_ns = 1000 * SEC + ts;
	f.hdr = (struct vsock_hdr){ .src_cid = scid, .dst_cid = dcid,
	    .src_port = sp, .dst_port = dp, .type = type, .op = op,
	    .flags = flags, .buf_alloc = buf, .fwd_cnt = fwd, .len = len };
	vsock_hdr_encode(&f.hdr, f.raw);
	f.payload = payload;
	f.payload_len = f.tapped_len = len;
	f.to_guest = scid == VMADDR_CID_HOST;
	return replay_feed(t->rp, &f);
}

static int
tr_feed_buf(struct tr *t, uint64_t ts, uint64_t scid, uint32_t sp,
    uint64_t dcid, uint32_t dp, uint16_t op, uint32_t flags,
    const char *payload, uint32_t buf, uint32_t fwd)
{
	return tr_feed_type(t, ts, scid, sp, dcid, dp,
	    VIRTIO_VSOCK_TYPE_STREAM, op, flags, payload,
	    payload != NULL ? (uint32_t)strlen(payload) : 0, buf, fwd);
}

/* The same with buf_alloc 262144, as every packet of a Linux peer. */
static int
tr_feed(struct tr *t, uint64_t ts, uint64_t scid, uint32_t sp, uint64_t dcid,
    uint32_t dp, uint16_t op, uint32_t flags, const char *payload,
    uint32_t fwd)
{
	return tr_feed_buf(t, ts, scid, sp, dcid, dp, op, flags, payload,
	    262144, fwd);
}

/* Guest 3:GP -> host 2:HP, and back. */
#define G(t, ts, op, fl, p, fwd) \
	tr_feed(t, ts, 3, GP, VMADDR_CID_HOST, HP, op, fl, p, fwd)
#define H(t, ts, op, fl, p, fwd) \
	tr_feed(t, ts, VMADDR_CID_HOST, HP, 3, GP, op, fl, p, fwd)

static enum replay_verdict
tr_finish(struct tr *t)
{
	replay_finish(t->rp, &t->res);
	replay_free(t->rp);
	t->rp = NULL;
	return t->res.verdict;
}

/* Finishes, asserts the verdict (and frame), frees. */
static void
tr_expect(struct tr *t, enum replay_verdict v, uint64_t frame)
{
	enum replay_verdict got = tr_finish(t);

	ck_assert_msg(got == v, "verdict %d, want %d: frame %llu %s: %s "
	    "(expected %s, actual %s)", got, v,
	    (unsigned long long)t->res.div.frame, t->res.div.field,
	    t->res.div.what, t->res.div.expected, t->res.div.actual);
	if (v == REPLAY_DIVERGED)
		ck_assert_uint_eq(t->res.div.frame, frame);
	free(t);
}

/* The tcpdump trace's conversation, written out by hand. */
static void
hello(struct tr *t)
{
	G(t, 0, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	H(t, 60 * US, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
	G(t, 1 * SEC, VIRTIO_VSOCK_OP_RW, 0, "Hello\n", 0);
	H(t, 1 * SEC + 100 * US, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 6);
}

START_TEST(test_conversation_passes)
{
	struct tr *t = tr_new();

	hello(t);
	H(t, 2 * SEC, VIRTIO_VSOCK_OP_RW, 0, "Hi :-)\n", 6);
	G(t, 2 * SEC + 10 * US, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 7);
	H(t, 3 * SEC, VIRTIO_VSOCK_OP_SHUTDOWN, 3, NULL, 6);
	G(t, 3 * SEC + 10 * US, VIRTIO_VSOCK_OP_RST, 0, NULL, 7);
	tr_finish(t);
	ck_assert_int_eq(t->res.verdict, REPLAY_PASS);
	ck_assert_uint_eq(t->res.frames, 8);
	ck_assert_uint_eq(t->res.conns, 1);
	ck_assert_uint_eq(t->res.bytes_g2h, 6);
	ck_assert_uint_eq(t->res.bytes_h2g, 7);
	free(t);
}
END_TEST

/* fwd_cnt advances exactly where the trace shows the host reading. */
START_TEST(test_read_where_fwd_cnt_advances)
{
	struct tr *t = tr_new();

	G(t, 0, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	H(t, 1, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
	G(t, 2, VIRTIO_VSOCK_OP_RW, 0, "abcdef", 0);
	/* The application reads 2, then 4: two updates, fwd 2 and 6. */
	H(t, 3, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 2);
	H(t, 4, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 6);
	G(t, 5, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	tr_expect(t, REPLAY_PASS, 0);
}
END_TEST

/* A fwd_cnt above what the guest sent: no device could. */
START_TEST(test_fwd_cnt_beyond_received)
{
	struct tr *t = tr_new();

	G(t, 0, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	H(t, 1, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
	G(t, 2, VIRTIO_VSOCK_OP_RW, 0, "abc", 0);
	ck_assert_int_eq(H(t, 3, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 4),
	    1);
	tr_expect(t, REPLAY_DIVERGED, 4);
}
END_TEST

/* The host's RST to the guest's RST on no connection. */
START_TEST(test_rst_never_answers_rst)
{
	struct tr *t = tr_new();

	G(t, 0, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	H(t, 1, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	tr_expect(t, REPLAY_DIVERGED, 2);
}
END_TEST

/* An RW on no connection is owed one RST (buf_alloc 0, Linux's). */
START_TEST(test_rst_for_unknown_pair)
{
	struct replay_options o;
	struct tr *t;

	replay_options_defaults(&o);
	o.mode = REPLAY_STRICT;
	t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
	G(t, 0, VIRTIO_VSOCK_OP_RW, 0, "x", 0);
	tr_feed_buf(t, 1, VMADDR_CID_HOST, HP, 3, GP, VIRTIO_VSOCK_OP_RST, 0,
	    NULL, 0, 0);
	tr_expect(t, REPLAY_PASS, 0);
	/* ... and that RST with a buffer is not what the device sends. */
	t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
	G(t, 0, VIRTIO_VSOCK_OP_RW, 0, "x", 0);
	H(t, 1, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	tr_expect(t, REPLAY_DIVERGED, 2);
}
END_TEST

/* A trace without the RST the device owes diverges at the next guest frame. */
START_TEST(test_missing_rst)
{
	struct tr *t = tr_new();

	G(t, 0, VIRTIO_VSOCK_OP_RW, 0, "x", 0);
	G(t, 1, VIRTIO_VSOCK_OP_RW, 0, "y", 0);
	tr_expect(t, REPLAY_DIVERGED, 2);
	t = tr_new();
	G(t, 0, VIRTIO_VSOCK_OP_RW, 0, "x", 0);
	tr_finish(t);
	ck_assert_int_eq(t->res.verdict, REPLAY_DIVERGED);
	ck_assert(t->res.div.at_end);
	ck_assert_str_eq(t->res.div.expected, "nothing");
	ck_assert_ptr_nonnull(strstr(t->res.div.actual, " STREAM RST flags 0 "));
	free(t);
}
END_TEST

/* Refused (RST for the REQUEST); strict accepts Linux's buf_alloc 0. */
START_TEST(test_refused)
{
	struct replay_options o;
	struct tr *t;

	replay_options_defaults(&o);
	o.mode = REPLAY_STRICT;
	t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
	G(t, 0, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	H(t, 1, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	tr_expect(t, REPLAY_PASS, 0);
}
END_TEST

/* An RST the device would not send itself: the application aborted. */
START_TEST(test_abort_inferred)
{
	struct tr *t = tr_new();

	hello(t);
	H(t, 2 * SEC, VIRTIO_VSOCK_OP_RST, 0, NULL, 6);
	G(t, 3 * SEC, VIRTIO_VSOCK_OP_RW, 0, "late", 0);
	H(t, 3 * SEC + 1, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	tr_expect(t, REPLAY_PASS, 0);
}
END_TEST

/* A clean close's SHUTDOWN before the final RST may be missing. */
START_TEST(test_closing_order)
{
	struct tr *t = tr_new();

	hello(t);
	G(t, 2 * SEC, VIRTIO_VSOCK_OP_SHUTDOWN, 3, NULL, 0);
	/* Linux answers SHUTDOWN, then RST; the device only RST. */
	H(t, 2 * SEC + 1, VIRTIO_VSOCK_OP_SHUTDOWN, 3, NULL, 6);
	H(t, 2 * SEC + 2, VIRTIO_VSOCK_OP_RST, 0, NULL, 6);
	tr_expect(t, REPLAY_PASS, 0);
}
END_TEST

/*
 * A real Linux guest closes with RST, SHUTDOWN(3), RST in one kick: the
 * device's RST answers the SHUTDOWN on the dead pair, not the last RST.
 * An RST with nothing owed after the guest's RST still diverges.
 */
START_TEST(test_rst_owed_within_a_batch)
{
	struct tr *t = tr_new();

	hello(t);
	G(t, 2 * SEC, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	G(t, 2 * SEC, VIRTIO_VSOCK_OP_SHUTDOWN, 3, NULL, 0);
	G(t, 2 * SEC, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	H(t, 2 * SEC + 1, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	tr_expect(t, REPLAY_PASS, 0);
	/* An RST with no socket behind it (buf_alloc 0) answers the RST. */
	t = tr_new();
	hello(t);
	G(t, 2 * SEC, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	tr_feed_buf(t, 2 * SEC + 1, VMADDR_CID_HOST, HP, 3, GP,
	    VIRTIO_VSOCK_OP_RST, 0, NULL, 0, 0);
	tr_expect(t, REPLAY_DIVERGED, 6);
}
END_TEST

/*
 * Linux's host socket after the guest's RST: its application's
 * shutdown(SHUT_RDWR) still sends SHUTDOWN(RCV|SEND) (vsock_shutdown), the
 * guest's stack answers with an RST of no socket, and the close sends an
 * RST (virtio_transport_close: the peer had shut down). Accepted with a
 * warning, not reproduced; a second RST of the same socket is not.
 */
START_TEST(test_linux_reset_socket_closes)
{
	struct tr *t = tr_new();

	hello(t);
	G(t, 2 * SEC, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	H(t, 2 * SEC + 1, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_MASK,
	    NULL, 6);
	tr_feed_buf(t, 2 * SEC + 2, 3, GP, VMADDR_CID_HOST, HP,
	    VIRTIO_VSOCK_OP_RST, 0, NULL, 0, 0);
	H(t, 2 * SEC + 3, VIRTIO_VSOCK_OP_RST, 0, NULL, 6);
	ck_assert_int_eq(tr_finish(t), REPLAY_PASS);
	ck_assert_uint_eq(t->res.reset_shutdowns, 1);
	ck_assert_uint_eq(t->res.repeated_rsts, 1);
	free(t);
	t = tr_new();
	hello(t);
	G(t, 2 * SEC, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	H(t, 2 * SEC + 1, VIRTIO_VSOCK_OP_RST, 0, NULL, 6);
	H(t, 2 * SEC + 2, VIRTIO_VSOCK_OP_RST, 0, NULL, 6);
	tr_expect(t, REPLAY_DIVERGED, 7);
	/* A pair that never had a connection has no socket to close. */
	t = tr_new();
	G(t, 0, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	H(t, 1, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	tr_expect(t, REPLAY_DIVERGED, 2);
}
END_TEST

/*
 * The host's half-close, then its close: SHUTDOWN(SEND), later
 * SHUTDOWN(RCV|SEND) (virtio_transport_close sends it after the
 * application's own SHUT_WR). Also after both sides' SHUTDOWN(SEND), where
 * Linux does not reset but waits for the application's close.
 */
START_TEST(test_half_close_then_close)
{
	enum replay_mode m;
	struct tr *t;
	struct replay_options o;

	for (m = REPLAY_SEMANTIC; m <= REPLAY_STRICT; m++) {
		replay_options_defaults(&o);
		o.mode = m;
		t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
		hello(t);
		H(t, 2 * SEC, VIRTIO_VSOCK_OP_SHUTDOWN,
		    VIRTIO_VSOCK_SHUTDOWN_SEND, NULL, 6);
		G(t, 3 * SEC, VIRTIO_VSOCK_OP_RW, 0, "more", 0);
		H(t, 3 * SEC + 1, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 10);
		H(t, 3 * SEC + 2, VIRTIO_VSOCK_OP_SHUTDOWN,
		    VIRTIO_VSOCK_SHUTDOWN_MASK, NULL, 10);
		G(t, 4 * SEC, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
		tr_expect(t, REPLAY_PASS, 0);
		t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
		hello(t);
		G(t, 2 * SEC, VIRTIO_VSOCK_OP_SHUTDOWN,
		    VIRTIO_VSOCK_SHUTDOWN_SEND, NULL, 0);
		H(t, 2 * SEC + 1, VIRTIO_VSOCK_OP_SHUTDOWN,
		    VIRTIO_VSOCK_SHUTDOWN_SEND, NULL, 6);
		G(t, 3 * SEC, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0);
		H(t, 3 * SEC + 1, VIRTIO_VSOCK_OP_SHUTDOWN,
		    VIRTIO_VSOCK_SHUTDOWN_MASK, NULL, 6);
		G(t, 3 * SEC + 2, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
		tr_expect(t, REPLAY_PASS, 0);
	}
}
END_TEST

/*
 * Linux over vhost: host data queued before the guest's SHUTDOWN(RCV|SEND)
 * was processed still leaves ahead of the RST that answers it (seen in a
 * real capture, guest-abort-soon over vhost). Accepted with a warning when
 * that RST follows before the next guest frame; data after the guest's
 * full shutdown with no RST behind it still diverges, as does data after a
 * SHUTDOWN(RCV) alone (neg-data-after-shut-rcv.pcap).
 */
START_TEST(test_data_queued_before_guest_shutdown)
{
	struct tr *t = tr_new();

	hello(t);
	G(t, 2 * SEC, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_MASK,
	    NULL, 0);
	H(t, 2 * SEC + 1, VIRTIO_VSOCK_OP_RW, 0, "late", 6);
	H(t, 2 * SEC + 2, VIRTIO_VSOCK_OP_RST, 0, NULL, 6);
	ck_assert_int_eq(tr_finish(t), REPLAY_PASS);
	ck_assert_uint_eq(t->res.queued_rws, 1);
	free(t);
	t = tr_new();
	hello(t);
	G(t, 2 * SEC, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_MASK,
	    NULL, 0);
	H(t, 2 * SEC + 1, VIRTIO_VSOCK_OP_RW, 0, "late", 6);
	G(t, 3 * SEC, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0);
	tr_expect(t, REPLAY_DIVERGED, 6);
}
END_TEST

/* The host application's shutdown(SHUT_RD) alone: SHUTDOWN(RCV). */
START_TEST(test_host_shut_rd)
{
	struct tr *t = tr_new();

	hello(t);
	H(t, 2 * SEC, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_RCV,
	    NULL, 6);
	G(t, 3 * SEC, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0);
	H(t, 3 * SEC + 1, VIRTIO_VSOCK_OP_RW, 0, "still", 6);
	G(t, 4 * SEC, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0);
	tr_expect(t, REPLAY_PASS, 0);
}
END_TEST

/* The host's data after the guest's SHUTDOWN(RCV). */
START_TEST(test_data_after_shutdown_rcv)
{
	struct tr *t = tr_new();

	hello(t);
	G(t, 2 * SEC, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_RCV,
	    NULL, 0);
	H(t, 2 * SEC + 1, VIRTIO_VSOCK_OP_RW, 0, "no", 6);
	tr_expect(t, REPLAY_DIVERGED, 6);
}
END_TEST

/* A host REQUEST times out at exactly 2 s of trace time, not earlier. */
START_TEST(test_request_timeout_on_time)
{
	struct tr *t = tr_new();

	tr_feed(t, 0, VMADDR_CID_HOST, 5555, 3, 6000, VIRTIO_VSOCK_OP_REQUEST,
	    0, NULL, 0);
	tr_feed(t, 2 * SEC, VMADDR_CID_HOST, 5555, 3, 6000,
	    VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	tr_expect(t, REPLAY_PASS, 0);
	t = tr_new();
	tr_feed(t, 0, VMADDR_CID_HOST, 5555, 3, 6000, VIRTIO_VSOCK_OP_REQUEST,
	    0, NULL, 0);
	tr_feed(t, 1900 * US * 1000, VMADDR_CID_HOST, 5555, 3, 6000,
	    VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	tr_expect(t, REPLAY_DIVERGED, 2);
}
END_TEST

/* A host-initiated connection: the trace's port maps to the device's. */
START_TEST(test_host_port_mapped)
{
	struct tr *t = tr_new();

	tr_feed(t, 0, VMADDR_CID_HOST, 5555, 3, 6000, VIRTIO_VSOCK_OP_REQUEST,
	    0, NULL, 0);
	tr_feed(t, 1, 3, 6000, VMADDR_CID_HOST, 5555, VIRTIO_VSOCK_OP_RESPONSE,
	    0, NULL, 0);
	tr_feed(t, 2, VMADDR_CID_HOST, 5555, 3, 6000, VIRTIO_VSOCK_OP_RW, 0,
	    "data", 0);
	/* The RESPONSE was kicked before the host frame was handled. */
	ck_assert_uint_eq(t->fed_dst_port, VSOCK_LOCAL_PORT_FIRST);
	tr_feed(t, 3, 3, 6000, VMADDR_CID_HOST, 5555, VIRTIO_VSOCK_OP_RST, 0,
	    NULL, 4);
	tr_expect(t, REPLAY_PASS, 0);
}
END_TEST

/* Loopback (CID 1 both ways): the first REQUEST's sender is the guest. */
START_TEST(test_loopback_roles)
{
	struct replay_options o;
	struct tr *t = tr_new();

	tr_feed(t, 0, 1, 40000, 1, 9999, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	tr_feed(t, 1, 1, 9999, 1, 40000, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
	tr_feed(t, 2, 1, 40000, 1, 9999, VIRTIO_VSOCK_OP_RW, 0, "hey", 0);
	tr_feed(t, 3, 1, 9999, 1, 40000, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0,
	    NULL, 3);
	ck_assert_uint_eq(t->rp->dev_guest_cid, 3);
	tr_finish(t);
	ck_assert_int_eq(t->res.verdict, REPLAY_PASS);
	ck_assert_uint_eq(t->res.guest_frames, 2);
	free(t);

	/* --host-initiated: the same REQUEST is the host's. */
	replay_options_defaults(&o);
	o.host_initiated = true;
	t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
	tr_feed(t, 0, 1, 40000, 1, 9999, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	tr_feed(t, 1, 1, 9999, 1, 40000, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
	tr_finish(t);
	ck_assert_int_eq(t->res.verdict, REPLAY_PASS);
	ck_assert_uint_eq(t->res.host_frames, 1);
	ck_assert_uint_eq(t->fed_dst_port, VSOCK_LOCAL_PORT_FIRST);
	free(t);
}
END_TEST

/* A split-tap record is counted and said in the report. */
START_TEST(test_split_tap_noted)
{
	struct vsock_pcap_frame f;
	struct tr *t = tr_new();
	char *text;

	hello(t);
	memset(&f, 0, sizeof(f));
	f.number = ++t->n;
	f.ts_ns = 1000 * SEC + 2 * SEC;
	f.hdr = (struct vsock_hdr){ .src_cid = 2, .dst_cid = 3, .src_port = HP,
	    .dst_port = GP, .len = 2, .type = 1, .op = VIRTIO_VSOCK_OP_RW,
	    .buf_alloc = 262144, .fwd_cnt = 6 };
	f.payload = (const uint8_t *)"ok";
	f.payload_len = 2;
	f.tapped_len = 5;
	f.to_guest = f.split_tap = true;
	ck_assert_int_eq(replay_feed(t->rp, &f), 0);
	tr_finish(t);
	ck_assert_int_eq(t->res.verdict, REPLAY_PASS);
	ck_assert_uint_eq(t->res.split_taps, 1);
	text = replay_report("x.pcap", &t->res, REPLAY_FORMAT_TEXT, 1, 1);
	ck_assert_ptr_nonnull(strstr(text, "split tap"));
	free(text);
	free(t);
}
END_TEST

/* Strict mode compares every field; semantic lets credit packets go. */
START_TEST(test_strict_vs_semantic)
{
	struct replay_options o;
	struct tr *t;

	/* firecracker sends no update after 6 bytes: only strict minds. */
	replay_options_defaults(&o);
	t = tr_new_opts(&o, VSOCK_PROFILE_FIRECRACKER);
	hello(t);
	tr_expect(t, REPLAY_PASS, 0);
	o.mode = REPLAY_STRICT;
	t = tr_new_opts(&o, VSOCK_PROFILE_FIRECRACKER);
	hello(t);
	tr_finish(t);
	ck_assert_int_eq(t->res.verdict, REPLAY_DIVERGED);
	/* RESPONSE carries buf_alloc 65536, the trace 262144. */
	ck_assert_uint_eq(t->res.div.frame, 2);
	ck_assert_str_eq(t->res.div.field, "buf_alloc");
	free(t);
}
END_TEST

/* A guest that never returns RX buffers starves the device: diverges. */
static unsigned
starve_drain(void *ctx, vsock_time_t now)
{
	(void)ctx;
	(void)now;
	return 0;
}

START_TEST(test_starved_device_diverges)
{
	struct replay_guest_ops ops = rawguest_replay_ops;
	struct replay_options o;
	struct rawguest g;
	struct replay *rp;
	struct replay_result res;
	struct vsock_pcap_frame f;
	unsigned i;

	/* Up to 256 RESPONSEs fit the posted buffers; the 257th cannot. */
	ops.drain = starve_drain;
	replay_options_defaults(&o);
	ck_assert_err(replay_new(&o, VSOCK_PROFILE_LINUX, 0, &ops, &g, &rp), 0);
	memset(&f, 0, sizeof(f));
	f.hdr = (struct vsock_hdr){ .type = 1, .buf_alloc = 262144 };
	for (i = 0; i < 300; i++) {
		f.ts_ns = i;
		f.number = 2 * i + 1;
		f.hdr.src_cid = 3, f.hdr.dst_cid = 2;
		f.hdr.src_port = 2000 + i, f.hdr.dst_port = HP;
		f.hdr.op = VIRTIO_VSOCK_OP_REQUEST;
		f.to_guest = false;
		if (replay_feed(rp, &f) != 0)
			break;
		f.number++;
		f.hdr.src_cid = 2, f.hdr.dst_cid = 3;
		f.hdr.src_port = HP, f.hdr.dst_port = 2000 + i;
		f.hdr.op = VIRTIO_VSOCK_OP_RESPONSE;
		f.to_guest = true;
		if (replay_feed(rp, &f) != 0)
			break;
	}
	replay_finish(rp, &res);
	replay_free(rp);
	ck_assert_int_eq(res.verdict, REPLAY_DIVERGED);
	ck_assert_uint_eq(res.div.frame, 2 * 256 + 2);
	ck_assert_str_eq(res.div.actual, "nothing");
}
END_TEST

/*
 * The raw guest kicks RX only when the device asked for it (virtio 1.2
 * 2.7.10: avail_event, armed when the device found the ring empty), as
 * Linux's virtqueue_kick_prepare() does: a reposted buffer the device did
 * not wait for costs it no run. A device that ran dry still gets its kick.
 */
START_TEST(test_rawguest_kicks_rx_only_when_asked)
{
	struct vsock_device_config cfg;
	struct script_backend sb;
	struct vsock_device *dev;
	struct script_conn *sc;
	struct rawguest g;
	unsigned i, n, total = 0;
	uint64_t kicks;

	vsock_device_config_defaults(&cfg);
	ck_assert_err(vsock_device_new(&cfg, &script_backend_ops, &sb, &dev,
	    NULL), 0);
	script_init(&sb);
	script_attach(&sb, dev);
	ck_assert_err(rawguest_init(&g, dev, 0, 0), 0);
	/* One REQUEST uses one of 256 buffers: nothing is owed. */
	ck_assert_err(script_connect(&sb, 5000, VIRTIO_VSOCK_TYPE_STREAM, 0,
	    &sc), 0);
	kicks = g.rx_kicks;
	ck_assert_uint_eq(rawguest_drain(&g, 0), 1);
	ck_assert_uint_eq(g.rx_kicks, kicks);
	/* 300 more than the ring holds: the device runs dry and is kicked. */
	for (i = 0; i < 300; i++)
		ck_assert_err(script_connect(&sb, 6000 + i,
		    VIRTIO_VSOCK_TYPE_STREAM, 0, &sc), 0);
	while ((n = rawguest_drain(&g, 0)) > 0)
		total += n;
	ck_assert_uint_eq(total, 300);
	ck_assert_uint_eq(vsock_device_stats(dev)->h2g_packets, 301);
	ck_assert_uint_eq(g.rx_kicks, kicks + 1);
	vsock_device_free(dev);
	script_free(&sb);
	rawguest_destroy(&g);
}
END_TEST

/* One STREAM frame (guest 3:GP, host 2:HP) with payload p, into buf. */
static struct pu_raw
stream_record(uint8_t *buf, bool from_host, uint16_t op, const uint8_t *p,
    uint32_t len, uint32_t fwd_cnt)
{
	struct vsock_hdr h = { .type = VIRTIO_VSOCK_TYPE_STREAM, .op = op,
	    .len = len, .buf_alloc = from_host ? 65536 : 262144,
	    .fwd_cnt = fwd_cnt };
	struct pu_raw r;

	h.src_cid = from_host ? VMADDR_CID_HOST : 3;
	h.dst_cid = from_host ? 3 : VMADDR_CID_HOST;
	h.src_port = from_host ? HP : GP;
	h.dst_port = from_host ? GP : HP;
	r.data = buf;
	r.caplen = r.len = pu_record(buf, &h, p, len);
	return r;
}

#define LA_PAIRS	2100	/* 4202 frames: more than the look-ahead's 4096 */
#define LA_LEN		64

/*
 * Replays (replay_file, through the look-ahead) an echo trace of
 * LA_PAIRS guest RWs, each echoed by the host, every payload its own;
 * the host's echo of pair bad (if below LA_PAIRS) has one byte wrong.
 */
static void
lookahead_echo(uint32_t bad, struct replay_result *res)
{
	static uint8_t rec[2 * LA_PAIRS + 2][VSOCKMON_RECORD_MIN + LA_LEN];
	static struct pu_raw r[2 * LA_PAIRS + 2];
	struct replay_script *s;
	struct replay_options o;
	struct rawguest g;
	uint8_t p[LA_LEN];
	char dir[] = "/tmp/check_replay.XXXXXX", path[64], msg[64];
	uint32_t i, k;
	size_t n = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/lookahead.pcap", dir);
	r[n] = stream_record(rec[n], false, VIRTIO_VSOCK_OP_REQUEST, NULL, 0,
	    0), n++;
	r[n] = stream_record(rec[n], true, VIRTIO_VSOCK_OP_RESPONSE, NULL, 0,
	    0), n++;
	for (i = 0; i < LA_PAIRS; i++) {
		for (k = 0; k < LA_LEN; k++)
			p[k] = (uint8_t)(i * 7 + k);
		r[n] = stream_record(rec[n], false, VIRTIO_VSOCK_OP_RW, p,
		    LA_LEN, i * LA_LEN), n++;
		p[LA_LEN / 2] ^= i == bad ? 0x55 : 0;
		r[n] = stream_record(rec[n], true, VIRTIO_VSOCK_OP_RW, p,
		    LA_LEN, (i + 1) * LA_LEN), n++;
	}
	pu_write_raw(path, 271, r, n);
	ck_assert_err(replay_script_parse("1234 echo\n", &s, msg,
	    sizeof(msg)), 0);
	replay_options_defaults(&o);
	o.script = s;
	memset(&g, 0, sizeof(g));
	replay_file(path, &o, &rawguest_replay_ops, &g, res);
	replay_script_free(s);
	unlink(path);
	rmdir(dir);
}

/*
 * The look-ahead holds a trace's first frames (up to 4096) and grows as it
 * fills; the frames it held and those streamed after it reach the device
 * with their own payloads: an echo of each matches, and one wrong byte in
 * an echo is found where it is, inside the look-ahead or beyond it.
 */
START_TEST(test_lookahead_payloads_kept)
{
	struct replay_result res;

	lookahead_echo(UINT32_MAX, &res);
	ck_assert_msg(res.verdict == REPLAY_PASS, "frame %" PRIu64 " %s: %s",
	    res.div.frame, res.div.field, res.div.what);
	ck_assert_uint_eq(res.frames, 2 * LA_PAIRS + 2);
	ck_assert_uint_eq(res.bytes_g2h, LA_PAIRS * LA_LEN);
	/* The echo is compared when the next guest frame closes the window. */
	lookahead_echo(10, &res);
	ck_assert_int_eq(res.verdict, REPLAY_DIVERGED);
	ck_assert_uint_eq(res.div.frame, 2 + 2 * 10 + 3);
	lookahead_echo(LA_PAIRS - 10, &res);
	ck_assert_int_eq(res.verdict, REPLAY_DIVERGED);
	ck_assert_uint_eq(res.div.frame, 2 + 2 * (LA_PAIRS - 10) + 3);
}
END_TEST

/*
 * The raw guest's buffer pools (here 256 RX buffers of 64 KiB and 8 TX
 * slots of 256 KiB) cost no memory until the device uses them: a short
 * trace must not pay for zeroing 18 MiB of pages that are zero already.
 */
START_TEST(test_rawguest_pools_untouched)
{
	struct vsock_device_config cfg;
	struct script_backend sb;
	struct vsock_device *dev;
	struct rawguest g;
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), len, i, resident = 0;
	uintptr_t start;
	unsigned char *vec;
	uint8_t *p;

	vsock_device_config_defaults(&cfg);
	ck_assert_err(vsock_device_new(&cfg, &script_backend_ops, &sb, &dev,
	    NULL), 0);
	script_init(&sb);
	script_attach(&sb, dev);
	ck_assert_err(rawguest_init(&g, dev, 65536, 0), 0);
	len = (size_t)RAWGUEST_QSIZE * g.rx_buf_len;
	p = fg_mem_ptr(&g.mem, g.rx_pool, len);
	start = (uintptr_t)p & ~(uintptr_t)(ps - 1);
	len += (uintptr_t)p - start;
	vec = malloc(len / ps + 1);
	ck_assert_ptr_nonnull(vec);
	ck_assert_int_eq(mincore((void *)start, len, vec), 0);
	for (i = 0; i < (len + ps - 1) / ps; i++)
		resident += vec[i] & 1;
	/* Huge pages may bring in a few MiB around the rings; not all 16. */
	ck_assert_uint_lt(resident * ps, len / 2);
	free(vec);
	vsock_device_free(dev);
	script_free(&sb);
	rawguest_destroy(&g);
}
END_TEST

/* The same frames twice: the same result and report, byte for byte. */
START_TEST(test_deterministic)
{
	char *r[2];
	int k;

	for (k = 0; k < 2; k++) {
		struct tr *t = tr_new();

		hello(t);
		H(t, 2 * SEC, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 60);
		tr_finish(t);
		r[k] = replay_report("t", &t->res, REPLAY_FORMAT_JSON, 1, 1);
		free(t);
	}
	ck_assert_str_eq(r[0], r[1]);
	ck_assert_ptr_nonnull(strstr(r[0], "\"frame\":5"));
	free(r[0]);
	free(r[1]);
}
END_TEST

/* Echo host script: the application answers; inference stays out. */
START_TEST(test_echo_script)
{
	struct replay_script *s;
	struct replay_options o;
	struct tr *t;
	char msg[128];

	ck_assert_err(replay_script_parse("# echo\n1234 echo\n", &s, msg,
	    sizeof(msg)), 0);
	replay_options_defaults(&o);
	o.script = s;
	t = tr_new_opts(&o, VSOCK_PROFILE_FIRECRACKER);
	G(t, 0, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	H(t, 1, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
	G(t, 2, VIRTIO_VSOCK_OP_RW, 0, "ping", 0);
	H(t, 3, VIRTIO_VSOCK_OP_RW, 0, "ping", 4);
	G(t, 4, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_SEND, NULL, 4);
	H(t, 5, VIRTIO_VSOCK_OP_SHUTDOWN, 3, NULL, 4);
	G(t, 6, VIRTIO_VSOCK_OP_RST, 0, NULL, 4);
	tr_expect(t, REPLAY_PASS, 0);
	/* The echo differs from what the trace shows: the byte diverges. */
	t = tr_new_opts(&o, VSOCK_PROFILE_FIRECRACKER);
	G(t, 0, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	H(t, 1, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
	G(t, 2, VIRTIO_VSOCK_OP_RW, 0, "ping", 0);
	H(t, 3, VIRTIO_VSOCK_OP_RW, 0, "pong", 4);
	tr_expect(t, REPLAY_DIVERGED, 4);
	replay_script_free(s);
}
END_TEST

/*
 * A guest whose RX buffers hold 3732 bytes (Linux 6.1 under vhost-user)
 * gets a 5000-byte SEQPACKET echo as 3732 + 1268 with EOM on the last:
 * the replayed guest must post buffers of that size to see the same.
 */
static void
seqpacket_echo(struct tr *t)
{
	static uint8_t msg[5000];
	uint32_t eom = VIRTIO_VSOCK_SEQ_EOM;
	unsigned i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7);
#define SG(ts, op, fl, p, n, fwd) tr_feed_type(t, ts, 3, GP, \
	VMADDR_CID_HOST, HP, VIRTIO_VSOCK_TYPE_SEQPACKET, op, fl, p, n, \
	262144, fwd)
#define SH(ts, op, fl, p, n, fwd) tr_feed_type(t, ts, VMADDR_CID_HOST, HP, \
	3, GP, VIRTIO_VSOCK_TYPE_SEQPACKET, op, fl, p, n, 65536, fwd)
	SG(0, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0, 0);
	SH(1, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0, 0);
	SG(2, VIRTIO_VSOCK_OP_RW, eom, msg, sizeof(msg), 0);
	SH(3, VIRTIO_VSOCK_OP_RW, 0, msg, 3732, 5000);
	SH(4, VIRTIO_VSOCK_OP_RW, eom, msg + 3732, 1268, 5000);
#undef SG
#undef SH
}

/*
 * The guest stops receiving (SHUTDOWN(RCV|SEND)) while a host SEQPACKET
 * message is half sent: its first fragment is in the trace, its end never
 * comes, so the application's message is unknown. Such a cut message is
 * not held against the device (the guest's stack drops it anyway); the
 * host's RST when its application closes follows (Linux: peer shut down).
 */
START_TEST(test_seqpacket_message_cut_by_guest_close)
{
	static uint8_t msg[244];
	uint32_t eom = VIRTIO_VSOCK_SEQ_EOM;
	struct tr *t = tr_new();

#define SG(ts, op, fl, p, n, fwd) tr_feed_type(t, ts, 3, GP, \
	VMADDR_CID_HOST, HP, VIRTIO_VSOCK_TYPE_SEQPACKET, op, fl, p, n, \
	262144, fwd)
#define SH(ts, op, fl, p, n, fwd) tr_feed_type(t, ts, VMADDR_CID_HOST, HP, \
	3, GP, VIRTIO_VSOCK_TYPE_SEQPACKET, op, fl, p, n, 262144, fwd)
	memset(msg, 'm', sizeof(msg));
	SG(0, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0, 0);
	SH(1, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0, 0);
	SH(2, VIRTIO_VSOCK_OP_RW, eom, msg, 100, 0);
	SH(3, VIRTIO_VSOCK_OP_RW, 0, msg + 100, 144, 0);
	SG(4, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_MASK, NULL, 0,
	    100);
	SH(5, VIRTIO_VSOCK_OP_RST, 0, NULL, 0, 0);
#undef SG
#undef SH
	tr_expect(t, REPLAY_PASS, 0);
}
END_TEST

/*
 * A guest whose buf_alloc is 2048 (linux61-*-guest-bufsize-seqpacket):
 * Linux sends the host's second 2000-byte message as 48 bytes (the credit
 * left, virtio_transport_send_pkt_info() -> virtio_transport_get_credit(),
 * no EOM) before the guest's CREDIT_UPDATE lets the 1952-byte rest (EOM)
 * go. With close, the guest's close cuts it instead.
 */
static void
credit_cut_message(struct tr *t, bool close)
{
	static uint8_t msg[2000];
	uint32_t eom = VIRTIO_VSOCK_SEQ_EOM;

	memset(msg, 'c', sizeof(msg));
#define SG(ts, op, fl, fwd) tr_feed_type(t, ts, 3, GP, VMADDR_CID_HOST, HP, \
	VIRTIO_VSOCK_TYPE_SEQPACKET, op, fl, NULL, 0, 2048, fwd)
#define SH(ts, op, fl, p, n) tr_feed_type(t, ts, VMADDR_CID_HOST, HP, 3, GP, \
	VIRTIO_VSOCK_TYPE_SEQPACKET, op, fl, p, n, 262144, 0)
	SG(0, VIRTIO_VSOCK_OP_REQUEST, 0, 0);
	SH(1 * US, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
	SH(2 * US, VIRTIO_VSOCK_OP_RW, eom, msg, 2000);
	SH(3 * US, VIRTIO_VSOCK_OP_RW, 0, msg, 48);
	if (close) {
		SG(4 * US, VIRTIO_VSOCK_OP_SHUTDOWN,
		    VIRTIO_VSOCK_SHUTDOWN_MASK, 2000);
		SH(5 * US, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	} else {
		SG(4 * US, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 2000);
		SH(5 * US, VIRTIO_VSOCK_OP_RW, eom, msg + 48, 1952);
	}
#undef SG
#undef SH
}

/*
 * The message's head leaves before its EOM is in the trace: the look-ahead
 * (replay-eom.c) hands the application the whole message at the head, so
 * the device sends the same 48 bytes there (it sent nothing: strict
 * diverged at frame 4). Cut by the guest's close instead, the rest is
 * unknown; the head still leaves as Linux sent it.
 */
START_TEST(test_seqpacket_head_before_eom)
{
	struct replay_options o;
	struct tr *t;

	replay_options_defaults(&o);
	o.mode = REPLAY_STRICT;
	t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
	credit_cut_message(t, false);
	tr_expect(t, REPLAY_PASS, 0);
	t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
	credit_cut_message(t, true);
	tr_expect(t, REPLAY_PASS, 0);
	o.mode = REPLAY_SEMANTIC;
	t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
	credit_cut_message(t, true);
	tr_expect(t, REPLAY_PASS, 0);
}
END_TEST

/*
 * The look-ahead is bounded: a message whose end comes more than
 * RP_EOM_AHEAD_FRAMES frames after its head is handed over at its EOM, as
 * without a look-ahead (strict then diverges at the head, frame 4), and
 * what was held is freed.
 */
START_TEST(test_seqpacket_lookahead_bounded)
{
	static uint8_t msg[2000];
	uint32_t eom = VIRTIO_VSOCK_SEQ_EOM;
	struct replay_options o;
	struct tr *t;
	unsigned i;

	replay_options_defaults(&o);
	o.mode = REPLAY_STRICT;
	t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
	memset(msg, 'b', sizeof(msg));
	tr_feed_type(t, 0, 3, GP, VMADDR_CID_HOST, HP,
	    VIRTIO_VSOCK_TYPE_SEQPACKET, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0,
	    2048, 0);
	tr_feed_type(t, 1 * US, VMADDR_CID_HOST, HP, 3, GP,
	    VIRTIO_VSOCK_TYPE_SEQPACKET, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0,
	    262144, 0);
	tr_feed_type(t, 2 * US, VMADDR_CID_HOST, HP, 3, GP,
	    VIRTIO_VSOCK_TYPE_SEQPACKET, VIRTIO_VSOCK_OP_RW, eom, msg, 2000,
	    262144, 0);
	ck_assert_int_eq(tr_feed_type(t, 3 * US, VMADDR_CID_HOST, HP, 3, GP,
	    VIRTIO_VSOCK_TYPE_SEQPACKET, VIRTIO_VSOCK_OP_RW, 0, msg, 48,
	    262144, 0), 0);
	ck_assert_uint_eq(t->rp->ahead.n, 1);		/* held */
	for (i = 0; i < RP_EOM_AHEAD_FRAMES && t->rp->ahead.n > 0; i++)
		tr_feed_type(t, 4 * US, 3, GP, VMADDR_CID_HOST, HP,
		    VIRTIO_VSOCK_TYPE_SEQPACKET,
		    VIRTIO_VSOCK_OP_CREDIT_REQUEST, 0, NULL, 0, 2048, 0);
	ck_assert_uint_eq(t->rp->ahead.n, 0);
	ck_assert_uint_eq(i, RP_EOM_AHEAD_FRAMES - 1);
	tr_feed_type(t, 5 * US, VMADDR_CID_HOST, HP, 3, GP,
	    VIRTIO_VSOCK_TYPE_SEQPACKET, VIRTIO_VSOCK_OP_RW, eom, msg + 48,
	    1952, 262144, 0);
	tr_expect(t, REPLAY_DIVERGED, 4);
}
END_TEST

/*
 * The host application sets SO_VM_SOCKETS_BUFFER_SIZE to 2048 with 4000
 * bytes unread: Linux announces it at once, fwd_cnt 0
 * (virtio_transport_notify_buffer_size(); linux61-*-host-bufsize-stream),
 * then reads. Replay infers the change from the buf_alloc and has the
 * device announce it (it kept 262144: strict diverged at frame 5); a
 * guest RW after the reads fits the new buffer.
 */
START_TEST(test_host_buffer_size_changed)
{
	static char data[2001];
	struct replay_options o;
	struct tr *t;
	int strict;

	memset(data, 'z', 2000);
	replay_options_defaults(&o);
	for (strict = 0; strict < 2; strict++) {
		o.mode = strict ? REPLAY_STRICT : REPLAY_SEMANTIC;
		t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
		G(t, 0, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
		H(t, 1 * US, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
		G(t, 2 * US, VIRTIO_VSOCK_OP_RW, 0, data, 0);
		G(t, 3 * US, VIRTIO_VSOCK_OP_RW, 0, data, 0);
		tr_feed_buf(t, 4 * US, VMADDR_CID_HOST, HP, 3, GP,
		    VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 2048, 0);
		tr_feed_buf(t, 5 * US, VMADDR_CID_HOST, HP, 3, GP,
		    VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 2048, 2000);
		tr_feed_buf(t, 6 * US, VMADDR_CID_HOST, HP, 3, GP,
		    VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 2048, 4000);
		G(t, 7 * US, VIRTIO_VSOCK_OP_RW, 0, data, 0);
		tr_feed_buf(t, 8 * US, VMADDR_CID_HOST, HP, 3, GP,
		    VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 2048, 6000);
		tr_expect(t, REPLAY_PASS, 0);
	}
}
END_TEST

START_TEST(test_guest_rx_buffer_size)
{
	struct replay_script *s;
	struct replay_options o;
	struct tr *t;
	char err[128];

	ck_assert_err(replay_script_parse("1234 echo\n", &s, err,
	    sizeof(err)), 0);
	replay_options_defaults(&o);
	o.mode = REPLAY_STRICT;
	o.script = s;
	ck_assert_uint_eq(o.guest_rx_buf, 0);	/* 0: the default, 4096 */
	t = tr_new_opts(&o, VSOCK_PROFILE_FIRECRACKER);
	seqpacket_echo(t);
	tr_expect(t, REPLAY_DIVERGED, 4);	/* one 5000-byte packet */
	o.guest_rx_buf = 3732;
	t = tr_new_opts(&o, VSOCK_PROFILE_FIRECRACKER);
	seqpacket_echo(t);
	tr_expect(t, REPLAY_PASS, 0);
	replay_script_free(s);
}
END_TEST

/* Writes one SEQPACKET frame (guest 3:GP, host 2:HP) into a pcap record. */
static struct pu_raw
seq_record(uint8_t *buf, bool from_host, uint16_t op, uint32_t flags,
    uint32_t len, uint32_t buf_alloc, uint32_t fwd_cnt)
{
	static uint8_t zero[2048];
	struct vsock_hdr h = { .type = VIRTIO_VSOCK_TYPE_SEQPACKET, .op = op,
	    .flags = flags, .len = len, .buf_alloc = buf_alloc,
	    .fwd_cnt = fwd_cnt };
	struct pu_raw r;

	h.src_cid = from_host ? VMADDR_CID_HOST : 3;
	h.dst_cid = from_host ? 3 : VMADDR_CID_HOST;
	h.src_port = from_host ? HP : GP;
	h.dst_port = from_host ? GP : HP;
	ck_assert_uint_le(len, sizeof(zero));
	r.data = buf;
	r.caplen = r.len = pu_record(buf, &h, zero, len);
	return r;
}

/*
 * Linux 6.1 (linux61-vhost-m-guest-bufsize-seqpacket): the guest shrinks
 * its buf_alloc to 2048, so the host's 2000-byte messages are cut by
 * credit into 2000 (EOM) + 48, 1952 (EOM) + 48 ... The 48-byte fragment is
 * bounded by credit (virtio_transport_send_pkt_info() ->
 * virtio_transport_get_credit()), not by a guest RX buffer: RX buffers
 * already took whole 2000-byte packets, so the inference must not shrink
 * them to 48 (which made the device fragment the first message).
 */
START_TEST(test_rx_buffer_not_inferred_from_credit_cut)
{
	static uint8_t rec[10][VSOCKMON_RECORD_MIN + 2048];
	struct pu_raw r[10];
	struct replay_options o;
	struct replay_result res;
	struct rawguest g;
	const char *path;
	char dir[] = "/tmp/check_replay.XXXXXX";
	char file[64];
	uint32_t eom = VIRTIO_VSOCK_SEQ_EOM;
	size_t n = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/cut.pcap", dir);
	path = file;
	r[n] = seq_record(rec[n], false, VIRTIO_VSOCK_OP_REQUEST, 0, 0,
	    262144, 0), n++;
	r[n] = seq_record(rec[n], true, VIRTIO_VSOCK_OP_RESPONSE, 0, 0,
	    262144, 0), n++;
	r[n] = seq_record(rec[n], true, VIRTIO_VSOCK_OP_RW, eom, 2000,
	    262144, 0), n++;
	r[n] = seq_record(rec[n], true, VIRTIO_VSOCK_OP_RW, eom, 2000,
	    262144, 0), n++;
	r[n] = seq_record(rec[n], false, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 0,
	    2048, 4000), n++;
	r[n] = seq_record(rec[n], true, VIRTIO_VSOCK_OP_RW, eom, 2000,
	    262144, 0), n++;
	r[n] = seq_record(rec[n], true, VIRTIO_VSOCK_OP_RW, 0, 48,
	    262144, 0), n++;
	r[n] = seq_record(rec[n], false, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 0,
	    2048, 6000), n++;
	r[n] = seq_record(rec[n], true, VIRTIO_VSOCK_OP_RW, eom, 1952,
	    262144, 0), n++;
	pu_write_raw(path, 271, r, n);
	replay_options_defaults(&o);
	o.mode = REPLAY_STRICT;
	memset(&g, 0, sizeof(g));
	memset(&res, 0, sizeof(res));
	replay_file(path, &o, &rawguest_replay_ops, &g, &res);
	unlink(path);
	rmdir(dir);
	ck_assert_uint_eq(res.guest_rx_buf, VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE);
	/*
	 * Whole 2000-byte messages match (they were cut at 48 before), and
	 * so does the 48-byte head: the look-ahead (replay-eom.c) gave the
	 * application its message before the EOM showed.
	 */
	ck_assert_msg(res.verdict == REPLAY_PASS,
	    "frame %" PRIu64 " %s: %s", res.div.frame, res.div.field,
	    res.div.what);
}
END_TEST

/*
 * Replays (replay_file, --strict) a SEQPACKET echo whose 5000-byte reply
 * shows the guest's 3732-byte RX buffers (3732 without EOM, then 1268)
 * only after `filler` guest CREDIT_UPDATEs.
 */
static void
late_rx_size(unsigned filler, struct replay_result *res)
{
	static uint8_t rec[4200][VSOCKMON_RECORD_MIN + 64];
	static uint8_t big[3][VSOCKMON_RECORD_MIN + 5000];
	static struct pu_raw r[4200];
	static uint8_t msg[5000];
	struct replay_script *s;
	struct replay_options o;
	struct rawguest g;
	char dir[] = "/tmp/check_replay.XXXXXX", path[64], err[64];
	uint32_t eom = VIRTIO_VSOCK_SEQ_EOM;
	size_t n = 0;
	unsigned i;

	ck_assert_uint_le(filler + 5, 4200);
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/late.pcap", dir);
	r[n] = seq_record(rec[n], false, VIRTIO_VSOCK_OP_REQUEST, 0, 0,
	    262144, 0), n++;
	r[n] = seq_record(rec[n], true, VIRTIO_VSOCK_OP_RESPONSE, 0, 0,
	    65536, 0), n++;
	for (i = 0; i < filler; i++)
		r[n] = seq_record(rec[n], false, VIRTIO_VSOCK_OP_CREDIT_UPDATE,
		    0, 0, 262144, 0), n++;
	r[n] = seq_record(big[0], false, VIRTIO_VSOCK_OP_RW, eom, 0, 262144,
	    0), n++;
	r[n - 1].caplen = r[n - 1].len = pu_record(big[0], &(struct vsock_hdr){
	    3, 2, GP, HP, 5000, VIRTIO_VSOCK_TYPE_SEQPACKET,
	    VIRTIO_VSOCK_OP_RW, eom, 262144, 0 }, msg, 5000);
	r[n].data = big[1];
	r[n].caplen = r[n].len = pu_record(big[1], &(struct vsock_hdr){
	    2, 3, HP, GP, 3732, VIRTIO_VSOCK_TYPE_SEQPACKET,
	    VIRTIO_VSOCK_OP_RW, 0, 65536, 5000 }, msg, 3732), n++;
	r[n].data = big[2];
	r[n].caplen = r[n].len = pu_record(big[2], &(struct vsock_hdr){
	    2, 3, HP, GP, 1268, VIRTIO_VSOCK_TYPE_SEQPACKET,
	    VIRTIO_VSOCK_OP_RW, eom, 65536, 5000 }, msg + 3732, 1268), n++;
	pu_write_raw(path, 271, r, n);
	ck_assert_err(replay_script_parse("1234 echo\n", &s, err,
	    sizeof(err)), 0);
	replay_options_defaults(&o);
	o.mode = REPLAY_STRICT;
	o.script = s;
	memset(&g, 0, sizeof(g));
	replay_file(path, &o, &rawguest_replay_ops, &g, res);
	replay_script_free(s);
	unlink(path);
	rmdir(dir);
}

/*
 * The guest's RX buffer size is learned from the host's packets as they
 * are fed, not from a look-ahead: the same verdict whether the fragment
 * that shows it comes early or after more frames than any look-ahead
 * holds (4096: it diverged there before, the device cutting at 4096).
 */
START_TEST(test_rx_size_learned_late)
{
	static const unsigned filler[] = { 0, 10, 4100 };
	struct replay_result res;
	unsigned k;

	for (k = 0; k < 3; k++) {
		late_rx_size(filler[k], &res);
		ck_assert_msg(res.verdict == REPLAY_PASS, "%u: frame %" PRIu64
		    " %s: %s", filler[k], res.div.frame, res.div.field,
		    res.div.what);
		ck_assert_uint_eq(res.guest_rx_buf, 3732);
		ck_assert(res.rx_inferred);
	}
}
END_TEST

/*
 * Linux 6.1 sends a CREDIT_UPDATE after every SEQPACKET message its
 * application reads, whatever the free space (virtio_transport_seqpacket_
 * do_dequeue() calls virtio_transport_send_credit_update() unconditionally;
 * only STREAM waits for low space or an empty queue). Two messages read one
 * at a time: two updates (linux61-vhost-m-guest-shutwr-soon-seqpacket).
 */
START_TEST(test_seqpacket_update_per_message_read)
{
	static uint8_t msg[2000];
	uint32_t eom = VIRTIO_VSOCK_SEQ_EOM;
	struct replay_options o;
	struct tr *t;

	replay_options_defaults(&o);
	o.mode = REPLAY_STRICT;
	t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
	memset(msg, 's', sizeof(msg));
#define SG(ts, op, fl, p, n, fwd) tr_feed_type(t, ts, 3, GP, \
	VMADDR_CID_HOST, HP, VIRTIO_VSOCK_TYPE_SEQPACKET, op, fl, p, n, \
	262144, fwd)
#define SH(ts, op, fl, p, n, fwd) tr_feed_type(t, ts, VMADDR_CID_HOST, HP, \
	3, GP, VIRTIO_VSOCK_TYPE_SEQPACKET, op, fl, p, n, 262144, fwd)
	SG(0, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0, 0);
	SH(1 * US, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0, 0);
	SG(2 * US, VIRTIO_VSOCK_OP_RW, eom, msg, sizeof(msg), 0);
	SG(3 * US, VIRTIO_VSOCK_OP_RW, eom, msg, sizeof(msg), 0);
	SH(4 * US, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0, 2000);
	SH(5 * US, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0, 4000);
#undef SG
#undef SH
	tr_expect(t, REPLAY_PASS, 0);
}
END_TEST

/*
 * Linux 6.1 tells a guest that used all its credit nothing until the
 * application's reads leave less than 64 KiB free or empty the queue
 * (virtio_transport_stream_do_dequeue(): fwd_cnt_delta && (free_space <
 * VIRTIO_VSOCK_MAX_PKT_BUF_SIZE || low_rx_bytes)): reading 2000 of 262144
 * bytes sends no CREDIT_UPDATE, and the SHUTDOWN(RCV) of the application's
 * shutdown(SHUT_RD) carries fwd_cnt 2000 (linux61-vhost-m-host-shutrd-stream).
 */
START_TEST(test_blocked_guest_not_told_early)
{
	static uint8_t data[2000];
	struct replay_options o;
	struct tr *t;
	uint32_t sent = 0, n;
	uint64_t ts = 2 * US;

	replay_options_defaults(&o);
	o.mode = REPLAY_STRICT;
	t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
	memset(data, 'd', sizeof(data));
	G(t, 0, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	H(t, 1 * US, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
	while (sent < 262144) {
		n = 262144 - sent < sizeof(data) ? 262144 - sent :
		    sizeof(data);
		tr_feed_type(t, ts++, 3, GP, VMADDR_CID_HOST, HP,
		    VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_RW, 0, data, n,
		    262144, 0);
		sent += n;
	}
	H(t, ts + 1 * SEC, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_RCV,
	    NULL, 2000);
	tr_expect(t, REPLAY_PASS, 0);
}
END_TEST

/*
 * Linux 6.1 sends a host SEQPACKET message in packets of at most 64 KiB
 * (virtio_transport_send_pkt_info(): VIRTIO_VSOCK_MAX_PKT_BUF_SIZE), and
 * vhost cuts each packet at the guest's RX buffers (vhost_transport_do_
 * send_pkt()): with 3732-byte buffers a 70000-byte message goes out as 17 x
 * 3732 + 2092 (the first packet's end), then 3732 + 732
 * (linux61-vhost-m-host-bigmsg-seqpacket, frame 20).
 */
START_TEST(test_seqpacket_fragments_end_at_64k_packets)
{
	static uint8_t msg[70000];
	uint32_t eom = VIRTIO_VSOCK_SEQ_EOM, off = 0, n, i;
	struct replay_options o;
	struct tr *t;

	replay_options_defaults(&o);
	o.mode = REPLAY_STRICT;
	o.guest_rx_buf = 3732;
	t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 13);
#define SG(ts, op, fl, p, n, fwd) tr_feed_type(t, ts, 3, GP, \
	VMADDR_CID_HOST, HP, VIRTIO_VSOCK_TYPE_SEQPACKET, op, fl, p, n, \
	262144, fwd)
#define SH(ts, op, fl, p, n, fwd) tr_feed_type(t, ts, VMADDR_CID_HOST, HP, \
	3, GP, VIRTIO_VSOCK_TYPE_SEQPACKET, op, fl, p, n, 262144, fwd)
	SG(0, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0, 0);
	SH(1 * US, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0, 0);
	for (i = 0; off < sizeof(msg); i++) {
		uint32_t pkt_end = off < 65536 ? 65536 : sizeof(msg);

		n = pkt_end - off < 3732 ? pkt_end - off : 3732;
		SH((2 + i) * US, VIRTIO_VSOCK_OP_RW,
		    off + n == sizeof(msg) ? eom : 0, msg + off, n, 0);
		off += n;
	}
#undef SG
#undef SH
	tr_expect(t, REPLAY_PASS, 0);
}
END_TEST

/*
 * A host-side capture with two guests (CIDs 3 and 4) on the same ports:
 * one guest at a time, the other's frames skipped; without --guest-cid the
 * first host frame to the second guest diverges, naming the CID.
 */
static void
two_guests(struct tr *t)
{
	tr_feed(t, 0, 3, GP, VMADDR_CID_HOST, HP, VIRTIO_VSOCK_OP_REQUEST, 0,
	    NULL, 0);
	tr_feed(t, 1, VMADDR_CID_HOST, HP, 3, GP, VIRTIO_VSOCK_OP_RESPONSE, 0,
	    NULL, 0);
	tr_feed(t, 2, 4, GP, VMADDR_CID_HOST, HP, VIRTIO_VSOCK_OP_REQUEST, 0,
	    NULL, 0);
	tr_feed(t, 3, VMADDR_CID_HOST, HP, 4, GP, VIRTIO_VSOCK_OP_RST, 0,
	    NULL, 0);
	tr_feed(t, 4, 3, GP, VMADDR_CID_HOST, HP, VIRTIO_VSOCK_OP_RW, 0,
	    "hi", 0);
	tr_feed(t, 5, VMADDR_CID_HOST, HP, 3, GP,
	    VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 2);
}

START_TEST(test_one_guest_of_several)
{
	struct replay_options o;
	struct tr *t;

	replay_options_defaults(&o);
	ck_assert_uint_eq(o.guest_cid, 0);	/* the first frame's */
	t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
	two_guests(t);
	tr_finish(t);
	ck_assert_int_eq(t->res.verdict, REPLAY_DIVERGED);
	ck_assert_uint_eq(t->res.div.frame, 4);
	ck_assert_str_eq(t->res.div.field, "cid");
	ck_assert_ptr_nonnull(strstr(t->res.div.what, "--guest-cid"));
	free(t);
	/* Guest 3: its 4 frames replay, guest 4's 2 are skipped. */
	o.guest_cid = 3;
	t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
	two_guests(t);
	ck_assert_int_eq(tr_finish(t), REPLAY_PASS);
	ck_assert_uint_eq(t->res.frames, 4);
	ck_assert_uint_eq(t->res.other_guest_frames, 2);
	free(t);
	/* Guest 4: refused; guest 3's 4 frames are skipped. */
	o.guest_cid = 4;
	t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
	two_guests(t);
	ck_assert_int_eq(tr_finish(t), REPLAY_PASS);
	ck_assert_uint_eq(t->res.frames, 2);
	ck_assert_uint_eq(t->res.other_guest_frames, 4);
	free(t);
}
END_TEST

START_TEST(test_script_parse)
{
	struct replay_script *s;
	char msg[128];

	ck_assert_err(replay_script_parse("\n  # nothing\n80 accept\n81 refuse "
	    "# no\n80 echo\n", &s, msg, sizeof(msg)), 0);
	ck_assert_int_eq(replay_script_mode(s, 80), REPLAY_PORT_ECHO);
	ck_assert_int_eq(replay_script_mode(s, 81), REPLAY_PORT_REFUSE);
	ck_assert_int_eq(replay_script_mode(s, 82), REPLAY_PORT_INFER);
	replay_script_free(s);
	ck_assert_err(replay_script_parse("80 accept\n80\n", &s, msg,
	    sizeof(msg)), -VSE_ERR_INVAL);
	ck_assert_str_eq(msg, "line 2: expected \"PORT MODE\" with MODE "
	    "accept, refuse, echo or infer");
	ck_assert_err(replay_script_parse("4294967296 accept\n", &s, msg,
	    sizeof(msg)), -VSE_ERR_INVAL);
	ck_assert_err(replay_script_parse("-1 accept\n", &s, msg, sizeof(msg)),
	    -VSE_ERR_INVAL);
	ck_assert_err(replay_script_parse("1 accept extra\n", &s, msg,
	    sizeof(msg)), -VSE_ERR_INVAL);
}
END_TEST

/* Byte streams match across packet boundaries, whichever side leads. */
START_TEST(test_stream_matcher)
{
	struct rp_stream s = { .lead = -1 };
	struct replay rp;
	enum rp_side lead;
	uint64_t at = 0;

	memset(&rp, 0, sizeof(rp));
	ck_assert_int_eq(rp_stream_push(&rp, &s, RP_TRACE,
	    (const uint8_t *)"hello", 5, &at), 0);
	ck_assert_int_eq(rp_stream_push(&rp, &s, RP_DEVICE,
	    (const uint8_t *)"he", 2, &at), 0);
	ck_assert_uint_eq(rp_stream_pending(&s, &lead), 3);
	ck_assert_int_eq(lead, RP_TRACE);
	/* The device overtakes: its surplus is kept. */
	ck_assert_int_eq(rp_stream_push(&rp, &s, RP_DEVICE,
	    (const uint8_t *)"llo world", 9, &at), 0);
	ck_assert_uint_eq(rp_stream_pending(&s, &lead), 6);
	ck_assert_int_eq(lead, RP_DEVICE);
	ck_assert_int_eq(rp_stream_push(&rp, &s, RP_TRACE,
	    (const uint8_t *)" wXr", 4, &at), 1);
	ck_assert_uint_eq(at, 7);
	/* Matched: the buffer goes back, the totals stay. */
	ck_assert_int_eq(rp_stream_push(&rp, &s, RP_TRACE,
	    (const uint8_t *)" world", 6, &at), 0);
	rp_stream_trim(&s);
	ck_assert_ptr_null(s.buf);
	ck_assert_uint_eq(s.total[RP_TRACE], 11);
	ck_assert(!rp.limited && !rp.nomem);
	rp_stream_free(&s);
}
END_TEST

/* "DIR/MANIFEST": a file a manifest can name (it need not be a trace). */
static const char *
pu_manifest(const char *dir)
{
	static char path[1100];

	snprintf(path, sizeof(path), "%s/MANIFEST", dir);
	return path;
}

/* Exit status: a divergence outranks unusable input, which outranks passing. */
START_TEST(test_totals_gating)
{
	struct replay_totals t;
	char *line;

	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(replay_totals_status(&t), 0);
	replay_totals_add(&t, REPLAY_PASS);
	ck_assert_int_eq(replay_totals_status(&t), 0);
	replay_totals_add(&t, REPLAY_UNUSABLE);
	ck_assert_int_eq(replay_totals_status(&t), 2);
	replay_totals_add(&t, REPLAY_DIVERGED);
	ck_assert_int_eq(replay_totals_status(&t), 1);
	line = replay_totals_report(&t, REPLAY_FORMAT_TEXT);
	ck_assert_str_eq(line, "3 traces: 1 passed, 1 diverged, 1 unusable\n");
	free(line);
}
END_TEST

/* Manifest lines: words, modes, verdicts, frames; errors name the line. */
START_TEST(test_expect_parse)
{
	const struct replay_expectation *x;
	struct replay_expect *e;
	struct replay_result res;
	const char *top = getenv("top_srcdir");
	char msg[256], dir[1024];

	snprintf(dir, sizeof(dir), "%s/testvectors", top != NULL &&
	    *top != '\0' ? top : ".");
	ck_assert_err(replay_expect_parse("# c\n\nMANIFEST strict pass # n\n"
	    "MANIFEST semantic diverged 7\nMANIFEST semantic diverged 9\n"
	    "missing.pcap strict unusable\n", dir, &e, msg, sizeof(msg)), 0);
	/* Found by identity, in the mode asked; a later line wins. */
	ck_assert_ptr_null(replay_expect_find(e, "-", REPLAY_STRICT));
	ck_assert_ptr_null(replay_expect_find(e, "missing.pcap",
	    REPLAY_STRICT));
	ck_assert_ptr_nonnull(x = replay_expect_find(e, pu_manifest(dir),
	    REPLAY_SEMANTIC));
	ck_assert_int_eq(x->verdict, REPLAY_DIVERGED);
	ck_assert_uint_eq(x->frame, 9);
	ck_assert_uint_eq(x->line, 5);
	memset(&res, 0, sizeof(res));
	res.verdict = REPLAY_DIVERGED;
	res.div.frame = 7;
	ck_assert(!replay_expect_met(x, &res));
	res.div.frame = 9;
	ck_assert(replay_expect_met(x, &res));
	ck_assert_ptr_nonnull(x = replay_expect_find(e, pu_manifest(dir),
	    REPLAY_STRICT));
	ck_assert_int_eq(x->verdict, REPLAY_PASS);
	ck_assert(!replay_expect_met(x, &res));
	replay_expect_free(e);
	/* Malformed lines. */
	ck_assert_err(replay_expect_parse("t.pcap strict\n", dir, &e, msg,
	    sizeof(msg)), -VSE_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(msg, "line 1:"));
	ck_assert_err(replay_expect_parse("\nt.pcap loose pass\n", dir, &e,
	    msg, sizeof(msg)), -VSE_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(msg, "line 2:"));
	ck_assert_err(replay_expect_parse("t.pcap strict pass 3\n", dir, &e,
	    msg, sizeof(msg)), -VSE_ERR_INVAL);
	ck_assert_err(replay_expect_parse("t.pcap strict diverged 0\n", dir,
	    &e, msg, sizeof(msg)), -VSE_ERR_INVAL);
	ck_assert_err(replay_expect_parse("t.pcap strict diverged 1x\n", dir,
	    &e, msg, sizeof(msg)), -VSE_ERR_INVAL);
	ck_assert_err(replay_expect_parse("t.pcap strict diverged 1 2\n", dir,
	    &e, msg, sizeof(msg)), -VSE_ERR_INVAL);
	ck_assert_ptr_null(e);
}
END_TEST

/* --- memory: bounded by what is live, not by the trace's length --- */

/* One short Linux connection on guest port gp: open, 4 bytes, read, close. */
static void
churn_one(struct tr *t, uint32_t gp, uint64_t *ts)
{
	ck_assert_int_eq(tr_feed(t, (*ts)++, 3, gp, VMADDR_CID_HOST, HP,
	    VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0), 0);
	ck_assert_int_eq(tr_feed(t, (*ts)++, VMADDR_CID_HOST, HP, 3, gp,
	    VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0), 0);
	ck_assert_int_eq(tr_feed(t, (*ts)++, 3, gp, VMADDR_CID_HOST, HP,
	    VIRTIO_VSOCK_OP_RW, 0, "abcd", 0), 0);
	ck_assert_int_eq(tr_feed(t, (*ts)++, VMADDR_CID_HOST, HP, 3, gp,
	    VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 4), 0);
	ck_assert_int_eq(tr_feed(t, (*ts)++, 3, gp, VMADDR_CID_HOST, HP,
	    VIRTIO_VSOCK_OP_SHUTDOWN, 3, NULL, 0), 0);
	ck_assert_int_eq(tr_feed(t, (*ts)++, VMADDR_CID_HOST, HP, 3, gp,
	    VIRTIO_VSOCK_OP_RST, 0, NULL, 4), 0);
}

/* Connections per phase: well past the closed pairs replay remembers. */
#define CHURN_PHASE	4096

/*
 * Many connections, one after another, each on a port of its own (as a
 * Linux guest picks them): the heap's peak over connections 3N..4N is no
 * higher than over N..2N. Before, every pair and its host application end
 * stayed to the end: ~10 KB a connection, 2.5 GB for a 4-million-frame trace.
 */
START_TEST(test_memory_flat_over_many_connections)
{
	struct replay_options o;
	struct tr *t;
	size_t peak[2] = { 0, 0 }, h;
	uint64_t ts = 0;
	uint32_t i;

	replay_options_defaults(&o);
	o.mode = REPLAY_STRICT;
	t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
	for (i = 0; i < 4 * CHURN_PHASE; i++) {
		churn_one(t, 100000 + i, &ts);
		h = heap_in_use();
		if (i / CHURN_PHASE == 1 && h > peak[0])
			peak[0] = h;
		if (i / CHURN_PHASE == 3 && h > peak[1])
			peak[1] = h;
	}
	ck_assert_msg(peak[1] <= peak[0] + 16384, "heap peak %zu bytes over "
	    "connections %u..%u, %zu over %u..%u", peak[0], CHURN_PHASE,
	    2 * CHURN_PHASE, peak[1], 3 * CHURN_PHASE, 4 * CHURN_PHASE);
	tr_finish(t);
	ck_assert_int_eq(t->res.verdict, REPLAY_PASS);
	ck_assert_uint_eq(t->res.conns, 4 * CHURN_PHASE);
	free(t);
}
END_TEST

/*
 * Ports used again, as a long trace wraps them: soon after their close (the
 * pair is still remembered) and long after (it was forgotten, and is new
 * again). Both replay as the first time: no false verdict either way.
 */
START_TEST(test_pairs_reused_soon_and_late)
{
	struct tr *t = tr_new();
	uint64_t ts = 0;
	uint32_t i;

	for (i = 0; i < 2 * CHURN_PHASE; i++)
		churn_one(t, 100000 + i % 500, &ts);
	for (i = 0; i < 2 * CHURN_PHASE; i++)
		churn_one(t, 200000 + i % 1500, &ts);
	tr_expect(t, REPLAY_PASS, 0);
}
END_TEST

/* An open connection and n host CREDIT_UPDATEs with no guest frame between. */
static void
long_window(struct tr *t, uint32_t n, size_t *heap_half, size_t *heap_end)
{
	uint32_t i;

	G(t, 0, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	H(t, 1, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
	for (i = 0; i < n; i++) {
		if (H(t, 2 + i, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0) != 0)
			break;
		if (i == n / 2)
			*heap_half = heap_in_use();
	}
	*heap_end = heap_in_use();
}

/*
 * One window of 100,000 host packets: semantic mode holds only the events
 * it compares (none here), so the heap stays flat; strict mode holds every
 * packet up to its limit, then calls the trace unusable, naming the limit.
 */
START_TEST(test_memory_one_long_window)
{
	struct replay_options o;
	size_t half = 0, end = 0;
	struct tr *t = tr_new();

	long_window(t, 100000, &half, &end);
	ck_assert_msg(end <= half + 16384, "heap %zu bytes half-way, %zu at "
	    "the end", half, end);
	tr_expect(t, REPLAY_PASS, 0);

	replay_options_defaults(&o);
	o.mode = REPLAY_STRICT;
	t = tr_new_opts(&o, VSOCK_PROFILE_LINUX);
	long_window(t, 100000, &half, &end);
	ck_assert_int_eq(tr_finish(t), REPLAY_UNUSABLE);
	ck_assert_msg(strstr(t->res.error, "frame 65537: more than 65536 "
	    "packets") != NULL, "%s", t->res.error);
	ck_assert_uint_lt(t->res.frames, 65540);
	free(t);
}
END_TEST

/*
 * The guest pours data in one instant (no host frame, so one window) into a
 * connection whose host never reads: the device resets it, which only the
 * window's end would show. Replay holds at most 16 MiB of one direction's
 * bytes unmatched, then calls the trace unusable, naming the limit.
 */
START_TEST(test_memory_bytes_held_bounded)
{
	static uint8_t chunk[65536];
	struct tr *t = tr_new();
	size_t before;
	uint32_t i;
	int e = 0;

	G(t, 0, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	H(t, 1, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
	before = heap_in_use();
	for (i = 0; i < 400 && e == 0; i++)
		e = tr_feed_type(t, 2, 3, GP, VMADDR_CID_HOST, HP,
		    VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_RW, 0, chunk,
		    sizeof(chunk), 262144, 0);
	ck_assert_msg(heap_in_use() < before + (20u << 20), "%zu bytes more",
	    heap_in_use() - before);
	ck_assert_int_eq(tr_finish(t), REPLAY_UNUSABLE);
	ck_assert_msg(strstr(t->res.error, "16 MiB") != NULL, "%s",
	    t->res.error);
	free(t);
}
END_TEST

static Suite *
replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("replay");

	tcase_add_test(tc, test_conversation_passes);
	tcase_add_test(tc, test_read_where_fwd_cnt_advances);
	tcase_add_test(tc, test_fwd_cnt_beyond_received);
	tcase_add_test(tc, test_rst_never_answers_rst);
	tcase_add_test(tc, test_rst_for_unknown_pair);
	tcase_add_test(tc, test_missing_rst);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_abort_inferred);
	tcase_add_test(tc, test_closing_order);
	tcase_add_test(tc, test_rst_owed_within_a_batch);
	tcase_add_test(tc, test_linux_reset_socket_closes);
	tcase_add_test(tc, test_half_close_then_close);
	tcase_add_test(tc, test_host_shut_rd);
	tcase_add_test(tc, test_data_queued_before_guest_shutdown);
	tcase_add_test(tc, test_data_after_shutdown_rcv);
	tcase_add_test(tc, test_request_timeout_on_time);
	tcase_add_test(tc, test_host_port_mapped);
	tcase_add_test(tc, test_loopback_roles);
	tcase_add_test(tc, test_split_tap_noted);
	tcase_add_test(tc, test_strict_vs_semantic);
	tcase_add_test(tc, test_starved_device_diverges);
	tcase_add_test(tc, test_rawguest_kicks_rx_only_when_asked);
	tcase_add_test(tc, test_rawguest_pools_untouched);
	tcase_add_test(tc, test_lookahead_payloads_kept);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_echo_script);
	tcase_add_test(tc, test_guest_rx_buffer_size);
	tcase_add_test(tc, test_rx_buffer_not_inferred_from_credit_cut);
	tcase_add_test(tc, test_rx_size_learned_late);
	tcase_add_test(tc, test_seqpacket_update_per_message_read);
	tcase_add_test(tc, test_blocked_guest_not_told_early);
	tcase_add_test(tc, test_seqpacket_fragments_end_at_64k_packets);
	tcase_add_test(tc, test_seqpacket_message_cut_by_guest_close);
	tcase_add_test(tc, test_seqpacket_head_before_eom);
	tcase_add_test(tc, test_seqpacket_lookahead_bounded);
	tcase_add_test(tc, test_host_buffer_size_changed);
	tcase_add_test(tc, test_one_guest_of_several);
	tcase_add_test(tc, test_script_parse);
	tcase_add_test(tc, test_stream_matcher);
	tcase_add_test(tc, test_totals_gating);
	tcase_add_test(tc, test_expect_parse);
	suite_add_tcase(s, tc);

	tc = tcase_create("memory");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_memory_flat_over_many_connections);
	tcase_add_test(tc, test_pairs_reused_soon_and_late);
	tcase_add_test(tc, test_memory_one_long_window);
	tcase_add_test(tc, test_memory_bytes_held_bounded);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(replay_suite)

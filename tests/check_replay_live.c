/* check_replay_live.c - live replay's comparator, both sides: a bundled trace against synthetic device packets, packetisation and close sequences free, bytes and steps exact. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "live-trace-int.h"	/* white box: the trace's stream */

/* path of a file in testvectors/ of the source tree. */
static const char *
vector(const char *name)
{
	static char path[1024];
	const char *src = getenv("top_srcdir");

	snprintf(path, sizeof(path), "%s/testvectors/%s",
	    src != NULL ? src : ".", name);
	return path;
}

/*
 * emu-echo.pcap loaded and its guest REQUEST (frame 1) fed, so the
 * device's packets on 2:1234 > 3:1024 are compared from here on.
 */
static struct live_trace *
echo_trace(void)
{
	struct replay_result res;
	struct live_trace *lt = NULL;
	uint8_t hdr[VSOCK_HDR_SIZE];
	const uint8_t *p;
	uint32_t n;

	ck_assert_int_eq(live_trace_load(vector("emu-echo.pcap"), LIVE_PROG_HOST, &lt, &res),
	    0);
	ck_assert(live_frame_is_fed(lt, 0));
	live_guest_frame(lt, 0, hdr, &p, &n);
	return lt;
}

/* The device sends op (flags, payload) from host 2:1234 to guest 3:1024. */
static void
dev(struct live_trace *lt, uint16_t op, uint32_t flags, const uint8_t *p,
    uint32_t n)
{
	struct vsock_tap_record r;

	memset(&r, 0, sizeof(r));
	r.dir = VSOCK_TAP_HOST_TO_GUEST;
	r.hdr = (struct vsock_hdr){ .src_cid = 2, .dst_cid = 3,
	    .src_port = 1234, .dst_port = 1024, .len = n,
	    .type = VIRTIO_VSOCK_TYPE_STREAM, .op = op, .flags = flags,
	    .buf_alloc = 65536 };
	vsock_hdr_encode(&r.hdr, r.raw);
	r.payload = p;
	r.payload_len = n;
	live_on_tap(lt, &r);
}

/* The answer and the whole echoed stream (21 bytes), one byte a packet. */
static void
answer_all(struct live_trace *lt)
{
	const struct live_conn *c = &lt->c[0];
	uint64_t i;

	dev(lt, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
	ck_assert_uint_eq(c->stream_len, 21);
	for (i = 0; i < c->stream_len; i++)
		dev(lt, VIRTIO_VSOCK_OP_RW, 0, c->stream + i, 1);
	ck_assert_msg(!live_diverged(lt), "%s", lt->div.what);
}

/* Packets do not count, bytes do: 21 one-byte RWs match three of 7. */
START_TEST(test_stream_coalesced)
{
	struct live_trace *lt = echo_trace();

	answer_all(lt);
	ck_assert(live_frame_done(lt, 9));		/* frame 10: RW */
	ck_assert(!live_frame_done(lt, 12));	/* frame 13: close */
	live_trace_free(lt);
}
END_TEST

/* The trace's SHUTDOWN(SEND), RST: the device's SEND then RST matches. */
START_TEST(test_close_as_send_then_rst)
{
	struct live_trace *lt = echo_trace();

	answer_all(lt);
	dev(lt, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_SEND, NULL, 0);
	ck_assert(!live_frame_done(lt, 12));	/* the step goes on */
	dev(lt, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	ck_assert_msg(!live_diverged(lt), "%s", lt->div.what);
	ck_assert(live_frame_done(lt, 12));
	ck_assert(live_frame_done(lt, 13));
	live_trace_free(lt);
}
END_TEST

/* ... and so does one SHUTDOWN(RCV|SEND): the RST after it is the device's. */
START_TEST(test_close_as_one_shutdown)
{
	struct live_trace *lt = echo_trace();

	answer_all(lt);
	dev(lt, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_MASK, NULL, 0);
	ck_assert(live_frame_done(lt, 13));
	dev(lt, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);	/* changes nothing */
	ck_assert_msg(!live_diverged(lt), "%s", lt->div.what);
	live_trace_free(lt);
}
END_TEST

/* A close before the stream is complete names the close and both counts. */
START_TEST(test_early_close)
{
	struct live_trace *lt = echo_trace();
	const struct live_conn *c = &lt->c[0];

	dev(lt, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
	dev(lt, VIRTIO_VSOCK_OP_RW, 0, c->stream, 20);
	dev(lt, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_MASK, NULL, 0);
	ck_assert(live_diverged(lt));
	ck_assert_uint_eq(lt->div.frame, 13);
	ck_assert_str_eq(lt->div.field, "payload");
	ck_assert_str_eq(lt->div.what, "the host sent SHUTDOWN flags RCV|SEND "
	    "after 20 bytes of the host->guest stream, the trace's host after "
	    "21");
	live_trace_free(lt);
}
END_TEST

/* A wrong byte: the frame holding it, its offset, both values. */
START_TEST(test_wrong_byte)
{
	struct live_trace *lt = echo_trace();
	uint8_t b[21];

	memcpy(b, lt->c[0].stream, sizeof(b));
	b[15] ^= 0x20;
	dev(lt, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
	dev(lt, VIRTIO_VSOCK_OP_RW, 0, b, sizeof(b));
	ck_assert(live_diverged(lt));
	ck_assert_uint_eq(lt->div.frame, 10);	/* bytes 14..21 */
	ck_assert_msg(strstr(lt->div.what, "at offset 15 of the host->guest "
	    "stream") != NULL, "%s", lt->div.what);
	live_trace_free(lt);
}
END_TEST

/* More bytes than the trace's stream, and data after its close. */
START_TEST(test_bytes_beyond_the_trace)
{
	struct live_trace *lt = echo_trace();
	static const uint8_t x = 'x';

	answer_all(lt);
	dev(lt, VIRTIO_VSOCK_OP_RW, 0, &x, 1);
	ck_assert(live_diverged(lt));
	ck_assert_uint_eq(lt->div.frame, 13);
	ck_assert_str_eq(lt->div.field, "op");
	ck_assert_msg(strstr(lt->div.what, "where the trace's host sent "
	    "SHUTDOWN flags SEND, RST") != NULL, "%s", lt->div.what);
	live_trace_free(lt);
}
END_TEST

/* A reset where the trace's host only shut down: not the same step. */
START_TEST(test_bare_rst_where_trace_shut_down)
{
	struct replay_result res;
	struct live_trace *lt = NULL;
	struct vsock_tap_record r;
	uint8_t hdr[VSOCK_HDR_SIZE];
	const uint8_t *p;
	uint32_t n;

	/* Frame 16 is the host's SHUTDOWN(RCV|SEND), no RST with it. */
	ck_assert_int_eq(live_trace_load(vector("linux61-vhost-echo.pcap"), LIVE_PROG_HOST,
	    &lt, &res), 0);
	live_guest_frame(lt, 0, hdr, &p, &n);
	memset(&r, 0, sizeof(r));
	r.dir = VSOCK_TAP_HOST_TO_GUEST;
	r.hdr = lt->f[1].hdr;			/* the RESPONSE */
	live_on_tap(lt, &r);
	r.hdr.op = VIRTIO_VSOCK_OP_RW;
	r.payload = lt->c[0].stream;
	r.payload_len = r.hdr.len = (uint32_t)lt->c[0].stream_len;
	live_on_tap(lt, &r);
	ck_assert_msg(!live_diverged(lt), "%s", lt->div.what);
	r.hdr.op = VIRTIO_VSOCK_OP_RST;
	r.payload_len = r.hdr.len = 0;
	live_on_tap(lt, &r);
	ck_assert(live_diverged(lt));
	ck_assert_uint_eq(lt->div.frame, 16);
	ck_assert_str_eq(lt->div.what, "the host sent RST where the trace's "
	    "host sent SHUTDOWN flags RCV|SEND");
	live_trace_free(lt);
}
END_TEST

/* A packet on ports no trace connection uses (or not yet started). */
START_TEST(test_unknown_ports)
{
	struct replay_result res;
	struct live_trace *lt = NULL;

	ck_assert_int_eq(live_trace_load(vector("emu-echo.pcap"), LIVE_PROG_HOST, &lt, &res),
	    0);
	dev(lt, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);	/* REQUEST not fed */
	ck_assert(live_diverged(lt));
	ck_assert_uint_eq(lt->div.frame, 1);
	ck_assert_msg(strstr(lt->div.what, "on no connection of the trace") !=
	    NULL, "%s", lt->div.what);
	live_trace_free(lt);
}
END_TEST

/* A silent program: the frame owed, what it is, how long we waited. */
START_TEST(test_timeout_names_the_frame)
{
	struct live_trace *lt = echo_trace();

	dev(lt, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
	live_timed_out(lt, 3, 1500);
	ck_assert_uint_eq(lt->div.frame, 4);
	ck_assert_str_eq(lt->div.field, "timeout");
	ck_assert_str_eq(lt->div.what, "the program sent nothing for 1500 ms, "
	    "the trace expects RW 7 bytes at frame 4 (stream bytes 0 to 7, 0 "
	    "came)");
	live_trace_free(lt);
}
END_TEST

/* --- --guest: the program is the guest; its packets are compared --- */

/* emu-echo.pcap with the guest's side under test. */
static struct live_trace *
guest_trace(void)
{
	struct replay_result res;
	struct live_trace *lt = NULL;

	ck_assert_int_eq(live_trace_load(vector("emu-echo.pcap"),
	    LIVE_PROG_GUEST, &lt, &res), 0);
	return lt;
}

/*
 * The simulated guest sends op (flags, payload) from its ephemeral port
 * 3:40000 (the trace's guest had 1024) to host 2:1234.
 */
static void
guest(struct live_trace *lt, enum vsock_tap_dir dir, uint16_t op,
    uint32_t flags, const uint8_t *p, uint32_t n)
{
	struct vsock_tap_record r;

	memset(&r, 0, sizeof(r));
	r.dir = dir;
	r.hdr = (struct vsock_hdr){ .src_cid = 3, .dst_cid = 2,
	    .src_port = 40000, .dst_port = 1234, .len = n,
	    .type = VIRTIO_VSOCK_TYPE_STREAM, .op = op, .flags = flags,
	    .buf_alloc = 262144 };
	if (dir == VSOCK_TAP_HOST_TO_GUEST) {
		r.hdr.src_cid = 2;
		r.hdr.dst_cid = 3;
		r.hdr.src_port = 1234;
		r.hdr.dst_port = 40000;
	}
	vsock_hdr_encode(&r.hdr, r.raw);
	r.payload = p;
	r.payload_len = n;
	live_on_tap(lt, &r);
}

/*
 * The guest's frames are awaited, the host's fed; the guest's REQUEST
 * teaches its port; its 21 bytes one a packet and its SHUTDOWN(SEND)
 * match; what the device sends the guest is not the program's, not
 * compared.
 */
START_TEST(test_guest_side_stream)
{
	struct live_trace *lt = guest_trace();
	const struct live_conn *c = &lt->c[0];
	uint8_t junk[3] = { 1, 2, 3 };
	uint64_t i;

	ck_assert(!live_frame_is_fed(lt, 0));	/* frame 1: guest REQUEST */
	ck_assert(live_frame_is_fed(lt, 1));	/* frame 2: host RESPONSE */
	ck_assert_uint_eq(live_listen_port(lt, 1), 0);
	guest(lt, VSOCK_TAP_GUEST_TO_HOST, VIRTIO_VSOCK_OP_REQUEST, 0, NULL,
	    0);
	ck_assert(live_frame_done(lt, 0));
	ck_assert_uint_eq(c->dev_gport, 40000);
	guest(lt, VSOCK_TAP_HOST_TO_GUEST, VIRTIO_VSOCK_OP_RW, 0, junk, 3);
	ck_assert_uint_eq(c->stream_len, 21);
	for (i = 0; i < c->stream_len; i++)
		guest(lt, VSOCK_TAP_GUEST_TO_HOST, VIRTIO_VSOCK_OP_RW, 0,
		    c->stream + i, 1);
	ck_assert(live_frame_done(lt, 8));	/* frame 9: the last RW */
	ck_assert(!live_frame_done(lt, 11));	/* frame 12: SHUTDOWN SEND */
	guest(lt, VSOCK_TAP_GUEST_TO_HOST, VIRTIO_VSOCK_OP_SHUTDOWN,
	    VIRTIO_VSOCK_SHUTDOWN_SEND, NULL, 0);
	ck_assert(live_frame_done(lt, 11));
	ck_assert_msg(!live_diverged(lt), "%s", lt->div.what);
	live_trace_free(lt);
}
END_TEST

/* A wrong byte: the guest->host stream's offset, the frame, trace's ports. */
START_TEST(test_guest_side_wrong_byte)
{
	struct live_trace *lt = guest_trace();
	uint8_t b[11];
	char x[8];

	guest(lt, VSOCK_TAP_GUEST_TO_HOST, VIRTIO_VSOCK_OP_REQUEST, 0, NULL,
	    0);
	memcpy(b, lt->c[0].stream, sizeof(b));
	b[10] ^= 0x20;
	guest(lt, VSOCK_TAP_GUEST_TO_HOST, VIRTIO_VSOCK_OP_RW, 0, b,
	    sizeof(b));
	ck_assert(live_diverged(lt));
	ck_assert_uint_eq(lt->div.frame, 6);	/* stream bytes 7 to 14 */
	ck_assert_str_eq(lt->div.field, "payload");
	ck_assert_msg(strstr(lt->div.what, "the guest sent byte ") != NULL &&
	    strstr(lt->div.what, " at offset 10 of the guest->host stream, "
	    "the trace has ") != NULL, "%s", lt->div.what);
	ck_assert_str_eq(lt->div.conn, "guest 3:1024 <-> host 2:1234");
	snprintf(x, sizeof(x), "0x%02x", b[10]);
	ck_assert_str_eq(lt->div.actual, x);
	live_trace_free(lt);
}
END_TEST

/* A close before the last byte: the guest's step comes too early. */
START_TEST(test_guest_side_early_close)
{
	struct live_trace *lt = guest_trace();

	guest(lt, VSOCK_TAP_GUEST_TO_HOST, VIRTIO_VSOCK_OP_REQUEST, 0, NULL,
	    0);
	guest(lt, VSOCK_TAP_GUEST_TO_HOST, VIRTIO_VSOCK_OP_RW, 0,
	    lt->c[0].stream, 20);
	guest(lt, VSOCK_TAP_GUEST_TO_HOST, VIRTIO_VSOCK_OP_SHUTDOWN,
	    VIRTIO_VSOCK_SHUTDOWN_SEND, NULL, 0);
	ck_assert(live_diverged(lt));
	ck_assert_uint_eq(lt->div.frame, 12);
	ck_assert_str_eq(lt->div.what, "the guest sent SHUTDOWN flags SEND "
	    "after 20 bytes of the guest->host stream, the trace's guest "
	    "after 21");
	live_trace_free(lt);
}
END_TEST

/*
 * The host's REQUEST waits for the program's listener where the trace's
 * guest accepted it; with --host nothing is fed that way.
 */
START_TEST(test_guest_listen_port)
{
	struct replay_result res;
	struct live_trace *lt = NULL;

	ck_assert_int_eq(live_trace_load(vector("emu-host-connect.pcap"),
	    LIVE_PROG_GUEST, &lt, &res), 0);
	ck_assert(live_frame_is_fed(lt, 0));
	ck_assert_uint_eq(live_listen_port(lt, 0), 5000);
	ck_assert_uint_eq(live_listen_port(lt, 1), 0);
	live_trace_free(lt);
	ck_assert_int_eq(live_trace_load(vector("emu-host-connect.pcap"),
	    LIVE_PROG_HOST, &lt, &res), 0);
	ck_assert(!live_frame_is_fed(lt, 0));
	ck_assert_uint_eq(live_listen_port(lt, 0), 0);
	live_trace_free(lt);
}
END_TEST

/*
 * --guest, SEQPACKET: the host application wrote each message whole; the
 * device cut frame 10's 4095 bytes into RX buffers of 3732 and 363. The
 * fragment plays nothing, the EOM frame the whole message.
 */
START_TEST(test_guest_seqpacket_message_whole)
{
	struct replay_result res;
	struct live_trace *lt = NULL;
	const struct live_frame *frag, *eom;

	ck_assert_int_eq(live_trace_load(vector("qemu-vhu-seqpacket.pcap.gz"),
	    LIVE_PROG_GUEST, &lt, &res), 0);
	frag = &lt->f[9];
	eom = &lt->f[10];
	ck_assert(frag->fed && eom->fed);
	ck_assert(frag->msg_part);
	ck_assert(!eom->msg_part);
	ck_assert_uint_eq(frag->hdr.len, 3732);
	ck_assert_uint_eq(eom->hdr.len, 363);
	ck_assert_uint_eq(eom->len, 4095);
	/* The guest's message of frame 9 is what the host sent back. */
	ck_assert_mem_eq(lt->fpay + eom->payload, lt->c[0].stream + 108,
	    4095);
	live_trace_free(lt);
}
END_TEST

static Suite *
replay_live_suite(void)
{
	Suite *s = suite_create("replay_live");
	TCase *tc = tcase_create("compare");

	tcase_add_test(tc, test_stream_coalesced);
	tcase_add_test(tc, test_close_as_send_then_rst);
	tcase_add_test(tc, test_close_as_one_shutdown);
	tcase_add_test(tc, test_early_close);
	tcase_add_test(tc, test_wrong_byte);
	tcase_add_test(tc, test_bytes_beyond_the_trace);
	tcase_add_test(tc, test_bare_rst_where_trace_shut_down);
	tcase_add_test(tc, test_unknown_ports);
	tcase_add_test(tc, test_timeout_names_the_frame);
	tcase_add_test(tc, test_guest_side_stream);
	tcase_add_test(tc, test_guest_side_wrong_byte);
	tcase_add_test(tc, test_guest_side_early_close);
	tcase_add_test(tc, test_guest_listen_port);
	tcase_add_test(tc, test_guest_seqpacket_message_whole);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(replay_live_suite)

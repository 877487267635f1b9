/* check_replay_cut.c - headers-only captures (records cut by the snaplen) and the long transfers they hold: 2^32 wraps, Linux's credit rule. */
#include "config.h"

#include <string.h>

#include <inttypes.h>
#include <stdlib.h>

#include "byteorder.h"
#include "common.h"
#include "error.h"
#include "pcap-util.h"
#include "rawguest.h"
#include "replay.h"

#define GP	1024
#define HP	1234
#define PKT	VIRTIO_VSOCK_MAX_PKT_BUF_SIZE
#define SNAP	VSOCKMON_RECORD_MIN	/* tcpdump -s 76: headers only */

/* --- a capture file, written record by record --- */

#define CAP_MAX	64

/* Records of a synthetic Linux capture, guest 3:GP and host 2:HP. */
struct cap {
	uint8_t rec[CAP_MAX][VSOCKMON_RECORD_MIN + 16];
	struct pu_raw raw[CAP_MAX];
	size_t n;
};

/*
 * Adds a record: op of len payload bytes, of which only kept are in the
 * capture (the rest cut by the snapshot length: the pcap len says len).
 */
static void
cap_add(struct cap *c, bool from_host, uint16_t op, uint32_t flags,
    uint32_t len, uint32_t kept, uint32_t fwd_cnt)
{
	struct vsock_hdr h = { .type = VIRTIO_VSOCK_TYPE_STREAM, .op = op,
	    .flags = flags, .len = len, .buf_alloc = 262144,
	    .fwd_cnt = fwd_cnt };
	uint8_t pay[16];
	uint32_t i;

	ck_assert_uint_lt(c->n, CAP_MAX);
	ck_assert_uint_le(kept, sizeof(pay));
	for (i = 0; i < kept; i++)
		pay[i] = (uint8_t)('a' + i);
	h.src_cid = from_host ? VMADDR_CID_HOST : 3;
	h.dst_cid = from_host ? 3 : VMADDR_CID_HOST;
	h.src_port = from_host ? HP : GP;
	h.dst_port = from_host ? GP : HP;
	c->raw[c->n].data = c->rec[c->n];
	c->raw[c->n].caplen = pu_record(c->rec[c->n], &h, pay, kept);
	c->raw[c->n].len = VSOCKMON_RECORD_MIN + len;
	c->n++;
}

/* Writes c and replays it in mode through the raw guest, as vsockemu does. */
static void
cap_replay(const struct cap *c, enum replay_mode mode,
    struct replay_result *res)
{
	const char *path = pu_tmp("cut.pcap");
	struct replay_options o;
	struct rawguest g;

	pu_write_raw(path, LINKTYPE_VSOCK, c->raw, c->n);
	replay_options_defaults(&o);
	o.mode = mode;
	memset(&g, 0, sizeof(g));
	replay_file(path, &o, &rawguest_replay_ops, &g, res);
}

/*
 * A Linux connection whose data records hold headers only: four 64 KiB
 * guest RWs, the host reads them, a guest RW with its first 16 bytes
 * captured, a host RW of 1000 bytes none of which were, and a clean close.
 */
static void
cut_conversation(struct cap *c, uint32_t host_fwd)
{
	int i;

	c->n = 0;
	cap_add(c, false, VIRTIO_VSOCK_OP_REQUEST, 0, 0, 0, 0);
	cap_add(c, true, VIRTIO_VSOCK_OP_RESPONSE, 0, 0, 0, 0);
	for (i = 0; i < 4; i++)
		cap_add(c, false, VIRTIO_VSOCK_OP_RW, 0, PKT, 0, 0);
	cap_add(c, true, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 0, 0, host_fwd);
	cap_add(c, false, VIRTIO_VSOCK_OP_RW, 0, 4096, 16, 0);
	cap_add(c, true, VIRTIO_VSOCK_OP_RW, 0, 1000, 0, 4 * PKT);
	cap_add(c, false, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 0, 0, 1000);
	cap_add(c, true, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 0, 0,
	    4 * PKT + 4096);
	cap_add(c, false, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_MASK,
	    0, 0, 1000);
	cap_add(c, true, VIRTIO_VSOCK_OP_RST, 0, 0, 0, 4 * PKT + 4096);
}

/*
 * Such a capture replays: the device gets packets of the recorded lengths,
 * what the captured bytes were not is filler, and the report counts the
 * bytes it could not compare. Before: UNUSABLE at frame 3.
 */
START_TEST(test_cut_capture_passes)
{
	static struct cap c;
	struct replay_result res;

	cut_conversation(&c, 4 * PKT);
	cap_replay(&c, REPLAY_SEMANTIC, &res);
	ck_assert_msg(res.verdict == REPLAY_PASS, "%s frame %" PRIu64 " %s: "
	    "%s", res.error, res.div.frame, res.div.field, res.div.what);
	ck_assert_uint_eq(res.frames, c.n);
	ck_assert_uint_eq(res.bytes_g2h, 4 * PKT + 4096);
	ck_assert_uint_eq(res.bytes_h2g, 1000);
	ck_assert_uint_eq(res.cut_records, 6);
	ck_assert_uint_eq(res.cut_bytes, 4 * PKT + 4096 - 16 + 1000);
	ck_assert_uint_eq(res.cut_snaplen, SNAP + 16);
}
END_TEST

/* Lengths and credit are still checked: a fwd_cnt past the data diverges. */
START_TEST(test_cut_capture_still_checked)
{
	static struct cap c;
	struct replay_result res;
	char *text;

	cut_conversation(&c, 4 * PKT + 1);
	cap_replay(&c, REPLAY_SEMANTIC, &res);
	ck_assert_int_eq(res.verdict, REPLAY_DIVERGED);
	ck_assert_uint_eq(res.div.frame, 7);
	ck_assert_str_eq(res.div.field, "fwd_cnt");
	/* The report says plainly what was not compared. */
	text = replay_report("cut.pcap", &res, REPLAY_FORMAT_TEXT, 1, 1);
	ck_assert_msg(strstr(text, "note: 262144 of 262144 bytes not "
	    "compared: 4 records cut at snaplen 76") != NULL, "%s", text);
	free(text);
	text = replay_report("cut.pcap", &res, REPLAY_FORMAT_JSON, 1, 1);
	ck_assert_msg(strstr(text, ",\"cut\":{\"records\":4,\"snaplen\":76,"
	    "\"bytes_not_compared\":262144}") != NULL, "%s", text);
	free(text);
}
END_TEST

/*
 * Hostile cuts: a record cut inside its headers, and one claiming a len
 * no packet has, are unusable, naming the frame; nothing is made up.
 */
START_TEST(test_cut_capture_hostile)
{
	static struct cap c;
	struct replay_result res;

	cut_conversation(&c, 4 * PKT);
	c.raw[2].caplen = SNAP - 16;
	cap_replay(&c, REPLAY_SEMANTIC, &res);
	ck_assert_int_eq(res.verdict, REPLAY_UNUSABLE);
	ck_assert_msg(strstr(res.error, ": frame 3: record of 60 bytes is "
	    "shorter than") != NULL, "%s", res.error);

	cut_conversation(&c, 4 * PKT);
	vse_put_le32(c.rec[2] + VSOCKMON_HDR_SIZE + VSOCK_HDR_OFF_LEN,
	    UINT32_MAX - SNAP);
	c.raw[2].len = UINT32_MAX;
	cap_replay(&c, REPLAY_SEMANTIC, &res);
	ck_assert_int_eq(res.verdict, REPLAY_UNUSABLE);
	ck_assert_msg(strstr(res.error, ": frame 3: record cut to 76 of its "
	    "4294967295 bytes") != NULL, "%s", res.error);
}
END_TEST

/* --- the engine fed directly --- */

/* A replay of guest 3:GP and host 2:HP fed frame by frame. */
struct tr {
	struct replay *rp;
	struct rawguest g;
	uint64_t n, ts;
};

static void
tr_init(struct tr *t, enum replay_mode mode, uint32_t guest_rx_buf)
{
	struct replay_options o;

	memset(t, 0, sizeof(*t));
	replay_options_defaults(&o);
	o.mode = mode;
	o.guest_rx_buf = guest_rx_buf;
	ck_assert_err(replay_new(&o, VSOCK_PROFILE_LINUX, 0,
	    &rawguest_replay_ops, &t->g, &t->rp), 0);
}

/* One frame, time moving on 1 us each; payload NULL: cut, none kept. */
static int
tr_feed(struct tr *t, bool from_host, uint16_t op, uint32_t flags,
    const uint8_t *payload, uint32_t len, uint32_t fwd_cnt)
{
	struct vsock_pcap_frame f;

	memset(&f, 0, sizeof(f));
	f.number = ++t->n;
	f.ts_ns = 1000 * VSOCK_NS_PER_SEC + 1000 * t->ts++;
	f.hdr = (struct vsock_hdr){ .type = VIRTIO_VSOCK_TYPE_STREAM,
	    .op = op, .flags = flags, .len = len, .buf_alloc = 262144,
	    .fwd_cnt = fwd_cnt };
	f.hdr.src_cid = from_host ? VMADDR_CID_HOST : 3;
	f.hdr.dst_cid = from_host ? 3 : VMADDR_CID_HOST;
	f.hdr.src_port = from_host ? HP : GP;
	f.hdr.dst_port = from_host ? GP : HP;
	vsock_hdr_encode(&f.hdr, f.raw);
	f.to_guest = from_host;
	f.payload = payload;
	f.payload_len = f.tapped_len = payload != NULL ? len : 0;
	f.cut = payload == NULL && len > 0;
	f.cap_len = SNAP + f.tapped_len;
	f.orig_len = SNAP + len;
	return replay_feed(t->rp, &f);
}

static void
tr_open(struct tr *t)
{
	ck_assert_err(tr_feed(t, false, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0, 0),
	    0);
	ck_assert_err(tr_feed(t, true, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0, 0),
	    0);
}

static enum replay_verdict
tr_finish(struct tr *t, struct replay_result *res)
{
	replay_finish(t->rp, res);
	replay_free(t->rp);
	t->rp = NULL;
	return res->verdict;
}

/*
 * A library caller may feed a cut frame too; one longer than a packet is
 * refused, not made up.
 */
START_TEST(test_cut_frame_len_bounded)
{
	struct replay_result res;
	struct tr t;

	tr_init(&t, REPLAY_SEMANTIC, 0);
	tr_open(&t);
	ck_assert_err(tr_feed(&t, false, VIRTIO_VSOCK_OP_RW, 0, NULL, PKT + 1,
	    0), -VSE_ERR_INVAL);
	ck_assert_err(tr_feed(&t, false, VIRTIO_VSOCK_OP_RW, 0, NULL,
	    UINT32_MAX, 0), -VSE_ERR_INVAL);
	ck_assert_err(tr_feed(&t, false, VIRTIO_VSOCK_OP_RW, 0, NULL, PKT, 0),
	    0);
	(void)tr_finish(&t, &res);
	ck_assert_uint_eq(res.cut_records, 1);
}
END_TEST

/*
 * 76 bytes of capture stand for 64 KiB of replay: a stream of cut RWs the
 * host never reads must cost bounded memory and end soon (the device
 * resets the overrun, or replay stops at its 16 MiB hold limit), never
 * grow with the bytes claimed (here 64 MiB).
 */
START_TEST(test_cut_flood_bounded)
{
	struct replay_result res;
	struct tr t;
	size_t before;
	uint32_t i;
	int e = 0;

	tr_init(&t, REPLAY_SEMANTIC, 0);
	tr_open(&t);
	before = heap_in_use();
	for (i = 0; i < 1024 && e == 0; i++)
		e = tr_feed(&t, false, VIRTIO_VSOCK_OP_RW, 0, NULL, PKT, 0);
	ck_assert_msg(heap_in_use() < before + (20u << 20), "%zu bytes more",
	    heap_in_use() - before);
	ck_assert_int_ne(tr_finish(&t, &res), REPLAY_PASS);
	ck_assert_uint_lt(res.cut_records, 1024);
}
END_TEST

/*
 * A transfer longer than 4 GiB, both ways: the guest's and the host's
 * fwd_cnt wrap past 2^32 (Linux's u32 counters; the engine's totals are
 * 64-bit, its credit arithmetic modulo 2^32, as the device's). Headers
 * only, as the wrap captures are: 76 bytes stand for 64 KiB.
 */
#define WRAP_PKTS	(65536 + 64)	/* 2^32 + 4 MiB in 64 KiB packets */
#define WRAP_OFF	1000		/* so that a packet straddles 2^32 */

/*
 * A first RW of WRAP_OFF bytes, read: a later packet crosses 2^32 inside,
 * and the reader's counter is behind the sender's at that moment (reads
 * come after every fourth packet, two packets out of step with 2^32).
 */
static void
wrap_offset(struct tr *t, bool from_host)
{
	ck_assert_err(tr_feed(t, from_host, VIRTIO_VSOCK_OP_RW, 0, NULL,
	    WRAP_OFF, 0), 0);
	ck_assert_err(tr_feed(t, !from_host, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0,
	    NULL, 0, WRAP_OFF), 0);
}

START_TEST(test_fwd_cnt_wraps_both_ways)
{
	struct replay_result res;
	struct tr t;
	uint64_t sent;
	uint32_t i;

	/* Guest -> host: four packets fill the host's 256 KiB, it reads. */
	tr_init(&t, REPLAY_SEMANTIC, 0);
	tr_open(&t);
	wrap_offset(&t, false);
	for (i = 0, sent = WRAP_OFF; i < WRAP_PKTS; i++) {
		ck_assert_err(tr_feed(&t, false, VIRTIO_VSOCK_OP_RW, 0, NULL,
		    PKT, 0), 0);
		sent += PKT;
		if (i % 4 == 1)
			ck_assert_err(tr_feed(&t, true,
			    VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0,
			    (uint32_t)sent), 0);
	}
	ck_assert_msg(tr_finish(&t, &res) == REPLAY_PASS, "frame %" PRIu64
	    " %s: %s (%s, %s)", res.div.frame, res.div.field, res.div.what,
	    res.div.expected, res.div.actual);
	ck_assert_uint_eq(res.bytes_g2h, (uint64_t)WRAP_PKTS * PKT + WRAP_OFF);
	ck_assert_uint_gt(res.bytes_g2h, UINT32_MAX);

	/* Host -> guest, into 64 KiB RX buffers: the guest's fwd_cnt wraps. */
	tr_init(&t, REPLAY_SEMANTIC, PKT);
	tr_open(&t);
	wrap_offset(&t, true);
	for (i = 0, sent = WRAP_OFF; i < WRAP_PKTS; i++) {
		ck_assert_err(tr_feed(&t, true, VIRTIO_VSOCK_OP_RW, 0, NULL,
		    PKT, 0), 0);
		sent += PKT;
		if (i % 4 == 1)
			ck_assert_err(tr_feed(&t, false,
			    VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0,
			    (uint32_t)sent), 0);
	}
	ck_assert_msg(tr_finish(&t, &res) == REPLAY_PASS, "frame %" PRIu64
	    " %s: %s (%s, %s)", res.div.frame, res.div.field, res.div.what,
	    res.div.expected, res.div.actual);
	ck_assert_uint_eq(res.bytes_h2g, (uint64_t)WRAP_PKTS * PKT + WRAP_OFF);
	ck_assert_uint_eq(res.cut_bytes, res.bytes_h2g);
}
END_TEST

/*
 * Linux's 6.1 receiver (virtio_transport_stream_do_dequeue()) tells the
 * sender about room only when its free space is below one packet or its
 * queue runs dry. A capture shows the update of a read made while the
 * next packets were still on their way (vsock_loopback_work, vhost's
 * worker: the tap records them when sent): here the host reads one of four
 * queued 64 KiB packets and updates, and the guest sends into that room.
 * Replayed, the four are queued when the application reads: Linux would not
 * update then, so neither need the device, and a guest blocked meanwhile is
 * Linux's behaviour, not a device's fault. Before: "the device leaves the
 * guest blocked" at frame 8.
 */
START_TEST(test_linux_blocked_guest_waits_for_reads)
{
	static uint8_t data[PKT];
	struct replay_result res;
	struct tr t;
	int i;

	memset(data, 'w', sizeof(data));
	tr_init(&t, REPLAY_SEMANTIC, 0);
	tr_open(&t);
	for (i = 0; i < 4; i++)
		tr_feed(&t, false, VIRTIO_VSOCK_OP_RW, 0, data, PKT, 0);
	tr_feed(&t, true, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0, PKT);
	tr_feed(&t, false, VIRTIO_VSOCK_OP_RW, 0, data, PKT, 0);
	tr_feed(&t, true, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0, 5 * PKT);
	tr_feed(&t, false, VIRTIO_VSOCK_OP_SHUTDOWN,
	    VIRTIO_VSOCK_SHUTDOWN_MASK, NULL, 0, 0);
	tr_feed(&t, true, VIRTIO_VSOCK_OP_RST, 0, NULL, 0, 5 * PKT);
	ck_assert_msg(tr_finish(&t, &res) == REPLAY_PASS, "frame %" PRIu64
	    " %s: %s", res.div.frame, res.div.field, res.div.what);

}
END_TEST

static Suite *
replay_cut_suite(void)
{
	Suite *s = suite_create("replay_cut");
	TCase *tc = tcase_create("cut");

	pu_tmpdir_init();
	tcase_add_test(tc, test_cut_capture_passes);
	tcase_add_test(tc, test_cut_capture_still_checked);
	tcase_add_test(tc, test_cut_capture_hostile);
	tcase_add_test(tc, test_cut_frame_len_bounded);
	tcase_add_test(tc, test_cut_flood_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("credit");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_fwd_cnt_wraps_both_ways);
	tcase_add_test(tc, test_linux_blocked_guest_waits_for_reads);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(replay_cut_suite)

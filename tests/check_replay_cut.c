/* check_replay_cut.c - headers-only captures (records cut by the snaplen) and the long transfers they hold: 2^32 wraps, Linux's credit rule. */
#include "config.h"

#include <string.h>

#include <inttypes.h>
#include <stdlib.h>

#include "common.h"
#include "error.h"
#include "rawguest.h"
#include "replay.h"

#define GP	1024
#define HP	1234
#define PKT	VIRTIO_VSOCK_MAX_PKT_BUF_SIZE
#define SNAP	VSOCKMON_RECORD_MIN	/* tcpdump -s 76: headers only */

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
	TCase *tc = tcase_create("credit");

	tcase_add_test(tc, test_linux_blocked_guest_waits_for_reads);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(replay_cut_suite)

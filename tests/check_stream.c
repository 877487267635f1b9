/* check_stream.c - 1 GiB through the device each way, byte-exact, credit respected. */
#include "config.h"

#include <stdlib.h>

#include "common.h"
#include "device-int.h"
#include "wire.h"

#define GP	1024
#define HP	1234

/* VSE_STREAM_BYTES overrides the size (default 1 GiB). */
static uint64_t
stream_bytes(void)
{
	const char *s = getenv("VSE_STREAM_BYTES");

	return s != NULL ? strtoull(s, NULL, 0) : UINT64_C(1) << 30;
}

static struct wire *
big_rig(void)
{
	struct vsock_device_config cfg;

	wire_config(&cfg);
	/* 64 RX buffers of 64 KiB: the largest packet fits one buffer. */
	return wire_new_cfg(&cfg, 64, 65536);
}

/* Guest -> host: the guest sends only within the credit the device grants. */
START_TEST(test_stream_guest_to_host)
{
	static uint8_t payload[65536];
	struct wire *w = big_rig();
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_RW, GP, HP), r;
	uint64_t total = stream_bytes(), sent = 0;
	uint32_t peer_buf = 0, peer_fwd = 0, credit, n;
	struct script_conn *sc;
	int progress;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	w->sb.default_keep_in = false;
	sc = wire_connect(w, GP, HP);
	sc->verify_in = true;
	peer_buf = 64 * 1024;
	while (sent < total) {
		progress = 0;
		credit = peer_buf - (uint32_t)((uint32_t)sent - peer_fwd);
		n = credit < sizeof(payload) ? credit : sizeof(payload);
		if (n > total - sent)
			n = (uint32_t)(total - sent);
		if (n > 0) {
			script_pattern_fill(sent, payload, n);
			h.len = n;
			wire_send(w, &h, payload);
			sent += n;
			progress = 1;
		}
		vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
		while (wire_recv(w, &r, NULL, 0)) {
			ck_assert_uint_ne(r.op, VIRTIO_VSOCK_OP_RST);
			peer_buf = r.buf_alloc;
			peer_fwd = r.fwd_cnt;
			progress = 1;
		}
		ck_assert_msg(progress, "stalled at %llu bytes",
		    (unsigned long long)sent);
	}
	ck_assert_uint_eq(sc->in_total, total);
	ck_assert(!sc->in_mismatch);
	ck_assert_uint_eq(vsock_device_stats(w->dev)->rst_credit_overrun, 0);
	wire_free(w);
}
END_TEST

/* Host -> guest: the device never exceeds the credit the guest grants. */
START_TEST(test_stream_host_to_guest)
{
	static uint8_t payload[65536];
	struct wire *w = big_rig();
	struct vsock_hdr h, r;
	uint64_t total = stream_bytes(), got = 0, reported = 0;
	struct script_conn *sc;
	int progress;

	script_listen(&w->sb, HP, SCRIPT_ACCEPT);
	sc = wire_connect(w, GP, HP);
	script_send_pattern(&w->sb, sc, total, w->now);
	while (got < total) {
		progress = 0;
		vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
		while (wire_recv(w, &r, payload, sizeof(payload))) {
			progress = 1;
			if (r.op == VIRTIO_VSOCK_OP_CREDIT_REQUEST) {
				reported = got - 1;	/* answer below */
				continue;
			}
			ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RW);
			/* Never beyond buf_alloc - (tx_cnt - fwd_cnt). */
			ck_assert_uint_le(got + r.len - reported, 256 * 1024);
			ck_assert_msg(script_pattern_check(got, payload, r.len),
			    "bytes differ at %llu", (unsigned long long)got);
			got += r.len;
		}
		if (got != reported) {
			h = wire_hdr(VIRTIO_VSOCK_OP_CREDIT_UPDATE, GP, HP);
			h.fwd_cnt = (uint32_t)got;
			wire_send(w, &h, NULL);
			reported = got;
		}
		ck_assert_msg(progress, "stalled at %llu bytes",
		    (unsigned long long)got);
	}
	ck_assert_uint_eq(vsock_device_find(w->dev, HP, GP)->cr.tx_cnt,
	    (uint32_t)total);
	wire_free(w);
}
END_TEST

static Suite *
stream_suite(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("1GiB");

	tcase_add_test(tc, test_stream_guest_to_host);
	tcase_add_test(tc, test_stream_host_to_guest);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(stream_suite)

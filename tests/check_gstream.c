/* check_gstream.c - 1 GiB each way through guest stack + device + scripted host, byte-exact, per TX layout. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "common.h"
#include "grig.h"

#define HPORT		1234
#define CHUNK		(256 * 1024)	/* the guest application's buffer */

/* VSE_STREAM_BYTES overrides the size (default 1 GiB), as check_stream. */
static uint64_t
stream_bytes(void)
{
	const char *s = getenv("VSE_STREAM_BYTES");

	return s != NULL ? strtoull(s, NULL, 0) : UINT64_C(1) << 30;
}

/*
 * The split and frags layouts cost more descriptors per packet, not new
 * arithmetic: a sixteenth of the bytes (64 MiB by default) keeps the
 * sanitizer build quick while still crossing many credit windows.
 */
static uint64_t
layout_bytes(enum fg_tx_layout layout)
{
	uint64_t n = stream_bytes();

	return layout == FG_TX_LINEAR ? n : (n + 15) / 16;
}

/* A rig whose guest sends in layout; its socket connected to HPORT. */
static struct grig *
stream_rig(enum fg_tx_layout layout, bool indirect, enum vsock_profile p,
    uint32_t rx_buf_size, int *fd, struct script_conn **sc)
{
	struct grig_config c;
	struct grig *g;

	grig_config_defaults(&c);
	c.profile = p;
	c.tx_layout = layout;
	c.tx_indirect = indirect;
	c.rx_buf_size = rx_buf_size;
	g = grig_new_cfg(&c);
	script_listen(&g->sb, HPORT, SCRIPT_ACCEPT);
	/* The host application checks the pattern and keeps nothing. */
	g->sb.default_keep_in = false;
	*fd = grig_connect(g, VIRTIO_VSOCK_TYPE_STREAM, HPORT);
	ck_assert_int_eq(fg_sock_state(g->vs, *fd), FG_SS_CONNECTED);
	*sc = grig_host_end(g, *fd);
	(*sc)->verify_in = true;
	return g;
}

/*
 * Guest to host: the guest application writes the pattern through
 * non-blocking sends, settling only when the credit or the TX queue is
 * exhausted. A send that stays blocked across a settle is a stall.
 */
static void
guest_to_host(enum fg_tx_layout layout, bool indirect, enum vsock_profile p)
{
	static uint8_t buf[CHUNK];
	uint64_t total = layout_bytes(layout), sent = 0, win = 0;
	struct script_conn *sc;
	bool stalled = false;
	size_t want;
	ssize_t n;
	int fd;
	struct grig *g = stream_rig(layout, indirect, p,
	    VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE, &fd, &sc);

	script_pattern_fill(0, buf, CHUNK);
	while (sent < total) {
		if (sent == win + CHUNK) {
			win = sent;
			script_pattern_fill(win, buf, CHUNK);
		}
		want = (size_t)(win + CHUNK - sent);
		if (want > total - sent)
			want = (size_t)(total - sent);
		n = fg_sock_send(g->vs, fd, buf + (sent - win), want, 0);
		if (n > 0) {
			sent += (uint64_t)n;
			stalled = false;
			continue;
		}
		ck_assert_int_eq(n, -EAGAIN);
		ck_assert_msg(!stalled, "stalled at %llu of %llu bytes",
		    (unsigned long long)sent, (unsigned long long)total);
		grig_settle(g, g->now);
		stalled = true;
	}
	grig_settle(g, g->now);
	ck_assert_uint_eq(sc->in_total, total);
	ck_assert_msg(!sc->in_mismatch, "the host received other bytes");
	ck_assert_uint_eq(vsock_device_stats(g->dev)->rst_credit_overrun, 0);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->tx_bytes, total);
	/*
	 * Credit comes back in whole packets, so every RW is a full 64 KiB
	 * one: a device that leaks a byte of credit shows up as runts.
	 */
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->tx_pkts[VIRTIO_VSOCK_OP_RW],
	    (total + VIRTIO_VSOCK_MAX_PKT_BUF_SIZE - 1) /
	    VIRTIO_VSOCK_MAX_PKT_BUF_SIZE);
	grig_free(g);
}

/*
 * Host to guest: the host writes the pattern, the guest reads and checks;
 * the guest posts RX buffers of rx_buf_size bytes.
 */
static void
host_to_guest(enum fg_tx_layout layout, bool indirect, enum vsock_profile p,
    uint32_t rx_buf_size)
{
	static uint8_t buf[CHUNK];
	uint64_t total = layout_bytes(layout), got = 0;
	struct script_conn *sc;
	bool stalled = false;
	ssize_t n;
	int fd;
	struct grig *g = stream_rig(layout, indirect, p, rx_buf_size, &fd,
	    &sc);

	script_send_pattern(&g->sb, sc, total, g->now);
	while (got < total) {
		n = fg_sock_recv(g->vs, fd, buf, sizeof(buf), NULL);
		if (n > 0) {
			ck_assert_msg(script_pattern_check(got, buf, (size_t)n),
			    "bytes differ in [%llu, +%zd)",
			    (unsigned long long)got, n);
			got += (uint64_t)n;
			stalled = false;
			continue;
		}
		ck_assert_int_eq(n, -EAGAIN);
		ck_assert_msg(!stalled, "stalled at %llu of %llu bytes",
		    (unsigned long long)got, (unsigned long long)total);
		grig_settle(g, g->now);
		stalled = true;
	}
	ck_assert_uint_eq(sc->out_pattern_left, 0);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->rx_bytes, total);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->rx_overrun, 0);
	/* Likewise every RX buffer is filled: no byte of credit leaks. */
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->rx_pkts[VIRTIO_VSOCK_OP_RW],
	    (total + rx_buf_size - 1) / rx_buf_size);
	grig_free(g);
}

/* Linear TX, the Firecracker profile (64 KiB device buffer). */
START_TEST(test_linear_guest_to_host)
{
	guest_to_host(FG_TX_LINEAR, false, VSOCK_PROFILE_FIRECRACKER);
}
END_TEST

START_TEST(test_linear_host_to_guest)
{
	host_to_guest(FG_TX_LINEAR, false, VSOCK_PROFILE_FIRECRACKER,
	    VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE);
}
END_TEST

/* Header and payload in two descriptors, the Linux profile. */
START_TEST(test_split_guest_to_host)
{
	guest_to_host(FG_TX_SPLIT, false, VSOCK_PROFILE_LINUX);
}
END_TEST

START_TEST(test_split_host_to_guest)
{
	host_to_guest(FG_TX_SPLIT, false, VSOCK_PROFILE_LINUX,
	    VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE);
}
END_TEST

/* Payload in 4 KiB pieces through indirect tables, both profiles. */
START_TEST(test_frags_guest_to_host)
{
	guest_to_host(FG_TX_FRAGS, true, VSOCK_PROFILE_FIRECRACKER);
	guest_to_host(FG_TX_FRAGS, false, VSOCK_PROFILE_LINUX);
}
END_TEST

START_TEST(test_frags_host_to_guest)
{
	host_to_guest(FG_TX_FRAGS, true, VSOCK_PROFILE_LINUX,
	    VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE);
}
END_TEST

/*
 * 64 KiB RX buffers (a guest with big buffers, as with mergeable ones):
 * one full-size packet per buffer, the whole stream.
 */
START_TEST(test_big_rx_buffers_host_to_guest)
{
	host_to_guest(FG_TX_LINEAR, false, VSOCK_PROFILE_LINUX,
	    VIRTIO_VSOCK_MAX_PKT_BUF_SIZE);
}
END_TEST

static Suite *
gstream_suite(void)
{
	Suite *s = suite_create("gstream");
	TCase *tc = tcase_create("1GiB");

	tcase_add_test(tc, test_linear_guest_to_host);
	tcase_add_test(tc, test_linear_host_to_guest);
	tcase_add_test(tc, test_split_guest_to_host);
	tcase_add_test(tc, test_split_host_to_guest);
	tcase_add_test(tc, test_frags_guest_to_host);
	tcase_add_test(tc, test_frags_host_to_guest);
	tcase_add_test(tc, test_big_rx_buffers_host_to_guest);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(gstream_suite)

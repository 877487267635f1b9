/* check_pools.c - the bounded buffer pools of the data path: reuse, and caps no peer can push past. */
#include "config.h"

#include <errno.h>

#include "blockpool.h"
#include "common.h"
#include "grig.h"

#define HPORT		1234

/* --- blockpool itself --- */

/* A buffer put back is the next one handed out: no malloc in between. */
START_TEST(test_blockpool_reuses)
{
	struct blockpool bp;
	void *a, *b;

	blockpool_init(&bp, 4096, 2);
	a = blockpool_get(&bp);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(bp.reused, 0);
	blockpool_put(&bp, a);
	ck_assert_uint_eq(bp.nfree, 1);
	b = blockpool_get(&bp);
	ck_assert_ptr_eq(a, b);
	ck_assert_uint_eq(bp.reused, 1);
	ck_assert_uint_eq(bp.nfree, 0);
	blockpool_put(&bp, b);
	blockpool_put(&bp, NULL);	/* ignored */
	ck_assert_uint_eq(bp.nfree, 1);
	blockpool_destroy(&bp);
	ck_assert_uint_eq(bp.nfree, 0);
}
END_TEST

/* More buffers put back than the cap: the rest are freed (ASan: no leak). */
START_TEST(test_blockpool_cap)
{
	struct blockpool bp;
	void *b[100];
	unsigned i;

	blockpool_init(&bp, 64, 8);
	for (i = 0; i < 100; i++)
		ck_assert_ptr_nonnull(b[i] = blockpool_get(&bp));
	for (i = 0; i < 100; i++) {
		blockpool_put(&bp, b[i]);
		ck_assert_uint_le(bp.nfree, 8);
	}
	ck_assert_uint_eq(bp.nfree, 8);
	blockpool_destroy(&bp);
}
END_TEST

/* Only sizes that fill more than half a block are pooled, both edges. */
START_TEST(test_blockpool_fits)
{
	struct blockpool bp;

	blockpool_init(&bp, 4096, 1);
	ck_assert(!blockpool_fits(&bp, 1));
	ck_assert(!blockpool_fits(&bp, 2048));
	ck_assert(blockpool_fits(&bp, 2049));
	ck_assert(blockpool_fits(&bp, 4096));
	ck_assert(!blockpool_fits(&bp, 4097));
	blockpool_destroy(&bp);
	/* A block smaller than its link word still holds the link. */
	blockpool_init(&bp, 1, 1);
	ck_assert_uint_ge(bp.size, sizeof(void *));
	blockpool_put(&bp, blockpool_get(&bp));
	blockpool_destroy(&bp);
}
END_TEST

/* --- the guest stack's receive packets --- */

/* Reads everything queued on fd (STREAM); returns the bytes. */
static size_t
drain(struct grig *g, int fd)
{
	static uint8_t buf[65536];
	size_t got = 0;
	ssize_t n;

	while ((n = fg_sock_recv(g->vs, fd, buf, sizeof(buf), NULL)) > 0)
		got += (size_t)n;
	ck_assert_int_eq(n, -EAGAIN);
	return got;
}

/*
 * A host->guest stream of 1 MiB through 4 KiB RX buffers, read as it
 * comes: every packet stays in its RX buffer until read (no copy), as
 * Linux queues the skb; no packet needs the pool.
 */
START_TEST(test_guest_rx_buffers_loaned)
{
	struct grig *g = grig_new();
	const struct blockpool *pool = fg_vsock_rxpool(g->vs);
	struct script_conn *sc;
	size_t got = 0;
	unsigned rounds;
	int fd;

	script_listen(&g->sb, HPORT, SCRIPT_ACCEPT);
	fd = grig_connect(g, VIRTIO_VSOCK_TYPE_STREAM, HPORT);
	sc = grig_host_end(g, fd);
	script_send_pattern(&g->sb, sc, 1u << 20, g->now);
	for (rounds = 0; got < (1u << 20) && rounds < 1000; rounds++) {
		grig_settle(g, g->now);
		got += drain(g, fd);
	}
	ck_assert_uint_eq(got, 1u << 20);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->rx_loaned, 256);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->rx_copied, 0);
	ck_assert_uint_eq(pool->nfree, 0);
	grig_free(g);
}
END_TEST

/*
 * A guest whose applications never read: eight sockets fill their
 * 256 KiB buffers (512 packets held). At most half the RX buffers stay on
 * loan, so a ninth socket still receives; the rest are copies. When they
 * are finally read (or closed) the spare list keeps FG_RXPOOL_BYTES'
 * worth and frees the rest.
 */
START_TEST(test_guest_rx_pool_bounded)
{
	struct grig_config c;
	struct grig *g;
	const struct blockpool *pool;
	size_t held = 0;
	int fd[8], fd9;
	unsigned i;

	grig_config_defaults(&c);
	g = grig_new_cfg(&c);
	pool = fg_vsock_rxpool(g->vs);
	script_listen(&g->sb, HPORT, SCRIPT_ACCEPT);
	for (i = 0; i < 8; i++) {
		fd[i] = grig_connect(g, VIRTIO_VSOCK_TYPE_STREAM, HPORT);
		script_send_pattern(&g->sb, grig_host_end(g, fd[i]),
		    2 * FG_DEFAULT_BUF_ALLOC, g->now);
	}
	grig_settle(g, g->now);
	/* Credit stopped the host at each socket's buffer; nothing spare yet. */
	ck_assert_uint_eq(pool->nfree, 0);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->rx_overrun, 0);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->rx_loaned, c.qsize / 2);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->rx_copied,
	    8 * FG_DEFAULT_BUF_ALLOC / 4096 - c.qsize / 2);
	/* The RX queue is not starved: another socket still receives. */
	fd9 = grig_connect(g, VIRTIO_VSOCK_TYPE_STREAM, HPORT);
	script_send(&g->sb, grig_host_end(g, fd9), "ninth", 5, 0, g->now);
	grig_settle(g, g->now);
	ck_assert_uint_eq(drain(g, fd9), 5);
	for (i = 0; i < 8; i++) {
		held += drain(g, fd[i]);
		ck_assert_uint_le(pool->nfree, pool->max_free);
	}
	ck_assert_uint_eq(held, 8 * FG_DEFAULT_BUF_ALLOC);
	ck_assert_uint_eq(pool->nfree, pool->max_free);
	ck_assert_uint_le((uint64_t)pool->nfree * pool->size,
	    FG_RXPOOL_BYTES + pool->size);
	for (i = 0; i < 8; i++)
		fg_sock_close(g->vs, fd[i], g->now);
	grig_settle(g, g->now);
	ck_assert_uint_le(pool->nfree, pool->max_free);
	grig_free(g);
}
END_TEST

/* --- the guest stack's TX packets --- */

/*
 * With a TX slot free, a send goes straight into guest memory (one copy,
 * as Linux's skb): nothing is copied to wait. With every slot taken the
 * packets wait as copies, and everything still arrives in order.
 */
START_TEST(test_guest_tx_direct_to_slot)
{
	struct grig_config c;
	struct grig *g;
	struct script_conn *sc;
	static uint8_t buf[65536];
	uint64_t sent = 0;
	unsigned i;
	int fd;

	grig_config_defaults(&c);
	c.tx_slots = 4;
	g = grig_new_cfg(&c);
	script_listen(&g->sb, HPORT, SCRIPT_ACCEPT);
	g->sb.default_keep_in = false;
	fd = grig_connect(g, VIRTIO_VSOCK_TYPE_STREAM, HPORT);
	sc = grig_host_end(g, fd);
	sc->verify_in = true;
	script_pattern_fill(0, buf, sizeof(buf));
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, sizeof(buf), 0),
	    (ssize_t)sizeof(buf));
	sent += sizeof(buf);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->tx_waited, 0);
	grig_settle(g, g->now);
	/* Four slots, eight 4 KiB sends before the device runs: four wait. */
	for (i = 0; i < 8; i++) {
		script_pattern_fill(sent, buf, 4096);
		ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 4096, 0), 4096);
		sent += 4096;
	}
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->tx_waited, 4);
	grig_settle(g, g->now);
	ck_assert_uint_eq(sc->in_total, sent);
	ck_assert_msg(!sc->in_mismatch, "the host received other bytes");
	grig_free(g);
}
END_TEST

static Suite *
pools_suite(void)
{
	Suite *s = suite_create("pools");
	TCase *tc = tcase_create("pools");

	tcase_add_test(tc, test_blockpool_reuses);
	tcase_add_test(tc, test_blockpool_cap);
	tcase_add_test(tc, test_blockpool_fits);
	tcase_add_test(tc, test_guest_rx_buffers_loaned);
	tcase_add_test(tc, test_guest_rx_pool_bounded);
	tcase_add_test(tc, test_guest_tx_direct_to_slot);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(pools_suite)

/* check_credit.c - credit arithmetic and update policies at their boundaries; the txbuf ring. */
#include "config.h"

#include <string.h>

#include "common.h"
#include "credit.h"
#include "txbuf.h"

START_TEST(test_rx_fits_boundaries)
{
	struct vsock_credit cr = { .buf_alloc = 1000, .rx_limit = 1000 };

	ck_assert(credit_rx_fits(&cr, 1000));
	ck_assert(!credit_rx_fits(&cr, 1001));
	cr.rx_cnt = 600;
	cr.fwd_cnt = 100;			/* 500 queued */
	ck_assert(credit_rx_fits(&cr, 500));
	ck_assert(!credit_rx_fits(&cr, 501));
	ck_assert(!credit_rx_fits(&cr, UINT32_MAX));	/* no 32-bit wrap */
	/* Across the 2^32 wrap of both counters. */
	cr.rx_cnt = 100;
	cr.fwd_cnt = UINT32_MAX - 399;		/* 500 queued */
	ck_assert_uint_eq(credit_rx_queued(&cr), 500);
	ck_assert(credit_rx_fits(&cr, 500));
	ck_assert(!credit_rx_fits(&cr, 501));
	/* Shrunk by the application: what the guest had been told counts. */
	cr.buf_alloc = 100;
	ck_assert(credit_rx_fits(&cr, 500));
	ck_assert(!credit_rx_fits(&cr, 501));
}
END_TEST

START_TEST(test_peer_avail)
{
	struct vsock_credit cr = { .peer_buf_alloc = 1000 };

	ck_assert_uint_eq(credit_peer_avail(&cr, UINT32_MAX), 1000);
	cr.tx_cnt = 400;
	ck_assert_uint_eq(credit_peer_avail(&cr, UINT32_MAX), 600);
	cr.peer_fwd_cnt = 400;
	ck_assert_uint_eq(credit_peer_avail(&cr, UINT32_MAX), 1000);
	/* Shrink below what is in flight: 0, never ~4 GiB. */
	cr.peer_fwd_cnt = 0;
	cr.peer_buf_alloc = 300;
	ck_assert_uint_eq(credit_peer_avail(&cr, UINT32_MAX), 0);
	cr.peer_buf_alloc = 400;		/* exactly in flight */
	ck_assert_uint_eq(credit_peer_avail(&cr, UINT32_MAX), 0);
	cr.peer_buf_alloc = 401;
	ck_assert_uint_eq(credit_peer_avail(&cr, UINT32_MAX), 1);
	/* A fwd_cnt ahead of what we sent is a lie: 0. */
	cr.peer_fwd_cnt = 401;
	ck_assert_uint_eq(credit_peer_avail(&cr, UINT32_MAX), 0);
	/* Wrap: tx_cnt past 2^32, peer_fwd_cnt just below. */
	cr.tx_cnt = 50;
	cr.peer_fwd_cnt = UINT32_MAX - 49;	/* 100 in flight */
	cr.peer_buf_alloc = 1000;
	ck_assert_uint_eq(credit_peer_avail(&cr, UINT32_MAX), 900);
	/*
	 * Capped at our own buffer: what is in flight counts against the
	 * cap (Linux's virtio_transport_tx_buf_alloc()), so the cap bounds
	 * bytes in flight, not each grant.
	 */
	cr.peer_buf_alloc = UINT32_MAX;
	ck_assert_uint_eq(credit_peer_avail(&cr, 65536), 65436);
	ck_assert_uint_eq(credit_peer_avail(&cr, 100), 0);
	ck_assert_uint_eq(credit_peer_avail(&cr, 101), 1);
	ck_assert_uint_eq(credit_peer_avail(&cr, UINT32_MAX),
	    UINT32_MAX - 100);
	/* A peer buffer below the cap is the bound, as before. */
	cr.peer_buf_alloc = 1000;
	ck_assert_uint_eq(credit_peer_avail(&cr, 65536), 900);
}
END_TEST

START_TEST(test_guest_view_and_reported)
{
	struct vsock_credit cr = { .buf_alloc = 1000 };

	credit_reported(&cr);
	ck_assert_uint_eq(credit_guest_view(&cr), 1000);
	cr.rx_cnt = 1000;
	cr.fwd_cnt = 1000;
	ck_assert_uint_eq(credit_guest_view(&cr), 0);	/* not told yet */
	credit_reported(&cr);
	ck_assert_uint_eq(credit_guest_view(&cr), 1000);
	credit_peer_update(&cr, 77, 66);
	ck_assert_uint_eq(cr.peer_buf_alloc, 77);
	ck_assert_uint_eq(cr.peer_fwd_cnt, 66);
}
END_TEST

START_TEST(test_update_policy_firecracker)
{
	struct vsock_credit cr = { .buf_alloc = 65536 };

	credit_reported(&cr);
	ck_assert(!credit_update_due(&cr, VSOCK_CREDIT_FIRECRACKER));
	cr.rx_cnt = 61440;
	cr.fwd_cnt = 61440;			/* exactly 64 KiB - 4 KiB */
	ck_assert(!credit_update_due(&cr, VSOCK_CREDIT_FIRECRACKER));
	cr.rx_cnt = cr.fwd_cnt = 61441;
	ck_assert(credit_update_due(&cr, VSOCK_CREDIT_FIRECRACKER));
	/* A blocked guest (view 0) is told as soon as anything is freed. */
	cr.fwd_cnt = cr.rx_cnt = 0;
	credit_reported(&cr);
	cr.rx_cnt = 65536;
	ck_assert_uint_eq(credit_guest_view(&cr), 0);
	ck_assert(!credit_update_due(&cr, VSOCK_CREDIT_FIRECRACKER));
	cr.fwd_cnt = 1;
	ck_assert(credit_update_due(&cr, VSOCK_CREDIT_FIRECRACKER));
	/* A changed buf_alloc is news even with nothing forwarded. */
	credit_reported(&cr);
	cr.buf_alloc = 4096;
	ck_assert(credit_update_due(&cr, VSOCK_CREDIT_FIRECRACKER));
}
END_TEST

START_TEST(test_update_policy_linux)
{
	struct vsock_credit cr = { .buf_alloc = 262144 };

	credit_reported(&cr);
	cr.rx_cnt = 10;
	cr.fwd_cnt = 5;				/* queue not empty, space ok */
	ck_assert(!credit_update_due(&cr, VSOCK_CREDIT_LINUX));
	cr.fwd_cnt = 10;			/* queue empty */
	ck_assert(credit_update_due(&cr, VSOCK_CREDIT_LINUX));
	cr.rx_cnt = 262144 - 65536 + 1;
	cr.fwd_cnt = 262144 - 65536;		/* free space exactly 64 KiB */
	ck_assert(!credit_update_due(&cr, VSOCK_CREDIT_LINUX));
	cr.rx_cnt++;
	cr.fwd_cnt++;				/* free space < 64 KiB */
	ck_assert(credit_update_due(&cr, VSOCK_CREDIT_LINUX));
}
END_TEST

START_TEST(test_txbuf_ring)
{
	struct txbuf tb;
	struct iovec iov[2];
	uint8_t *a, *b;
	uint32_t first;
	char out[16];

	memset(&tb, 0, sizeof(tb));
	ck_assert(txbuf_empty(&tb));
	a = txbuf_reserve(&tb, 8, 6, &b, &first);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(first, 6);
	memcpy(a, "abcdef", 6);
	ck_assert_ptr_null(txbuf_reserve(&tb, 8, 3, &b, &first)); /* full */
	txbuf_consume(&tb, 4);
	a = txbuf_reserve(&tb, 8, 5, &b, &first);	/* wraps */
	ck_assert_uint_eq(first, 2);
	memcpy(a, "gh", 2);
	memcpy(b, "ijk", 3);
	ck_assert_int_eq(txbuf_peek(&tb, 100, iov), 2);
	memcpy(out, iov[0].iov_base, iov[0].iov_len);
	memcpy(out + iov[0].iov_len, iov[1].iov_base, iov[1].iov_len);
	ck_assert_mem_eq(out, "efghijk", 7);
	ck_assert_int_eq(txbuf_peek(&tb, 3, iov), 1);
	ck_assert_uint_eq(iov[0].iov_len, 3);
	txbuf_consume(&tb, 7);
	ck_assert_ptr_null(tb.buf);		/* empty: freed */
	ck_assert_int_eq(txbuf_peek(&tb, 3, iov), 0);
	/* Messages, including an empty one, and the boundary limit. */
	ck_assert(txbuf_end_msg(&tb, 8, 1));
	ck_assert_uint_eq(txbuf_first_msg(&tb)->len, 0);
	a = txbuf_reserve(&tb, 8, 2, &b, &first);
	ck_assert(txbuf_end_msg(&tb, 8, 3));
	txbuf_pop_msg(&tb);
	ck_assert_uint_eq(txbuf_first_msg(&tb)->len, 2);
	ck_assert_uint_eq(txbuf_first_msg(&tb)->flags, 3);
	txbuf_consume(&tb, 2);
	txbuf_pop_msg(&tb);
	ck_assert(txbuf_empty(&tb));
	ck_assert_ptr_null(tb.buf);
	/* Empty messages need no byte ring; the table stops at its bound. */
	for (first = 0; first < TXBUF_MSGS_MIN; first++)
		ck_assert(txbuf_end_msg(&tb, 8, 1));
	ck_assert_ptr_null(tb.buf);
	ck_assert(!txbuf_end_msg(&tb, 8, 1));
	ck_assert_uint_eq(tb.nmsgs, TXBUF_MSGS_MIN);
	txbuf_free(&tb);
}
END_TEST

/*
 * With a pool of cap-byte blocks the ring's storage is borrowed and given
 * back (on empty and on txbuf_free), the pool pointer surviving both; a
 * ring of another size never touches the pool.
 */
START_TEST(test_txbuf_pooled_storage)
{
	struct blockpool pool;
	struct txbuf tb;
	uint8_t *a, *b, *ring;
	uint32_t first;

	blockpool_init(&pool, 64, 1);
	memset(&tb, 0, sizeof(tb));
	tb.pool = &pool;
	ring = txbuf_reserve(&tb, 64, 10, &b, &first);
	ck_assert_ptr_nonnull(ring);
	txbuf_consume(&tb, 10);
	ck_assert_ptr_null(tb.buf);
	ck_assert_ptr_eq(tb.pool, &pool);
	ck_assert_uint_eq(pool.nfree, 1);
	a = txbuf_reserve(&tb, 64, 10, &b, &first);
	ck_assert_ptr_eq(a, ring);
	ck_assert_uint_eq(pool.reused, 1);
	txbuf_free(&tb);
	ck_assert_ptr_eq(tb.pool, &pool);
	ck_assert_uint_eq(pool.nfree, 1);
	/* Another size: malloc'd and freed, the pool untouched. */
	ck_assert_ptr_nonnull(txbuf_reserve(&tb, 32, 10, &b, &first));
	ck_assert_uint_eq(pool.nfree, 1);
	txbuf_free(&tb);
	ck_assert_uint_eq(pool.nfree, 1);
	blockpool_destroy(&pool);
}
END_TEST

/* The boundary table grows by doubling, in order across its wrap, to its bound. */
START_TEST(test_txbuf_msgs_grow_and_bound)
{
	uint32_t cap = 8 * 1024, max = txbuf_msgs_max(cap), i, first;
	struct txbuf tb;
	uint8_t *a, *b;

	ck_assert_uint_eq(txbuf_msgs_max(0), TXBUF_MSGS_MIN);
	ck_assert_uint_eq(txbuf_msgs_max(8 * TXBUF_MSGS_MIN + 7),
	    TXBUF_MSGS_MIN);
	ck_assert_uint_eq(txbuf_msgs_max(8 * TXBUF_MSGS_MIN + 8),
	    TXBUF_MSGS_MIN + 1);
	ck_assert_uint_eq(max, 1024);
	ck_assert_uint_eq(txbuf_msgs_max(UINT32_MAX), UINT32_MAX / 8);
	memset(&tb, 0, sizeof(tb));
	/* Wrap the first table: 40 in, 30 out, then grow past 64. */
	for (i = 0; i < 40; i++) {
		ck_assert_ptr_nonnull(txbuf_reserve(&tb, cap, 1, &b, &first));
		ck_assert(txbuf_end_msg(&tb, cap, i));
	}
	for (i = 0; i < 30; i++) {
		txbuf_consume(&tb, 1);
		txbuf_pop_msg(&tb);
	}
	for (i = 40; i < max + 30; i++) {
		a = txbuf_reserve(&tb, cap, 1, &b, &first);
		ck_assert_ptr_nonnull(a);
		ck_assert(txbuf_end_msg(&tb, cap, i));
	}
	ck_assert_uint_eq(tb.nmsgs, max);
	ck_assert_uint_eq(tb.msg_cap, max);
	ck_assert(!txbuf_end_msg(&tb, cap, 0));
	ck_assert_uint_eq(tb.nmsgs, max);
	for (i = 30; i < max + 30; i++) {
		ck_assert_uint_eq(txbuf_first_msg(&tb)->flags, i);
		ck_assert_uint_eq(txbuf_first_msg(&tb)->len, 1);
		txbuf_consume(&tb, 1);
		txbuf_pop_msg(&tb);
	}
	ck_assert(txbuf_empty(&tb));
	ck_assert_ptr_null(tb.msg);		/* idle: nothing kept */
	ck_assert_ptr_null(tb.buf);
	txbuf_free(&tb);
}
END_TEST

static Suite *
credit_suite(void)
{
	Suite *s = suite_create("credit");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_rx_fits_boundaries);
	tcase_add_test(tc, test_peer_avail);
	tcase_add_test(tc, test_guest_view_and_reported);
	tcase_add_test(tc, test_update_policy_firecracker);
	tcase_add_test(tc, test_update_policy_linux);
	tcase_add_test(tc, test_txbuf_ring);
	tcase_add_test(tc, test_txbuf_pooled_storage);
	tcase_add_test(tc, test_txbuf_msgs_grow_and_bound);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(credit_suite)

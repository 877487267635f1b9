/* check_ladder.c - the ladder model behind `dump --html` and `replay --html`: grouping, folding, bounds, credit, escaping. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ladder-html.h"
#include "ladder.h"
#include "vsock-proto.h"

/* A frame between guest 3:1024 and host 2:1234 (to_guest: the host's). */
static struct vsock_pcap_frame
frame(uint64_t n, bool to_guest, uint16_t op, uint32_t len)
{
	static const uint8_t zeros[65536];
	struct vsock_pcap_frame f;

	memset(&f, 0, sizeof(f));
	f.number = n;
	f.ts_ns = 1000000000ull + n * 1000;
	f.to_guest = to_guest;
	f.hdr.src_cid = to_guest ? 2 : 3;
	f.hdr.dst_cid = to_guest ? 3 : 2;
	f.hdr.src_port = to_guest ? 1234 : 1024;
	f.hdr.dst_port = to_guest ? 1024 : 1234;
	f.hdr.type = VIRTIO_VSOCK_TYPE_STREAM;
	f.hdr.op = op;
	f.hdr.len = op == VIRTIO_VSOCK_OP_RW ? len : 0;
	f.hdr.buf_alloc = 262144;
	f.payload = zeros;
	f.payload_len = f.hdr.len;
	return f;
}

static void
add(struct ladder *l, uint64_t n, bool to_guest, uint16_t op, uint32_t len)
{
	struct vsock_pcap_frame f = frame(n, to_guest, op, len);

	ck_assert_int_eq(ladder_add(l, &f), 0);
}

/* Adds REQUEST and RESPONSE as frames 1 and 2. */
static void
open_conn(struct ladder *l)
{
	add(l, 1, false, VIRTIO_VSOCK_OP_REQUEST, 0);
	add(l, 2, true, VIRTIO_VSOCK_OP_RESPONSE, 0);
}

/* How many of c's rows are folded / of a kind. */
static unsigned
count_folded(const struct ladder_conn *c)
{
	unsigned i, n = 0;

	for (i = 0; i < c->nrows; i++)
		n += c->rows[i].folded;
	return n;
}

START_TEST(test_one_connection_guest_left)
{
	struct ladder l;

	ladder_init(&l);
	open_conn(&l);
	add(&l, 3, false, VIRTIO_VSOCK_OP_RW, 6);
	add(&l, 4, true, VIRTIO_VSOCK_OP_SHUTDOWN, 0);
	ladder_finish(&l);
	ck_assert_uint_eq(l.nconns, 1);
	ck_assert_uint_eq(l.head->nrows, 4);
	ck_assert(l.head->left_is_guest);
	ck_assert_uint_eq(l.head->left_cid, 3);
	ck_assert_uint_eq(l.head->right_port, 1234);
	ck_assert(l.head->rows[0].from_left);	/* the guest's REQUEST */
	ck_assert(!l.head->rows[1].from_left);
	ck_assert_uint_eq(l.head->bytes[0], 6);
	ck_assert_uint_eq(l.head->rows[2].ts_ns, 2000);
	ladder_free(&l);
}
END_TEST

/*
 * A REQUEST on the same ports begins a new connection; a SHUTDOWN after
 * an RST (Linux's, from a socket already reset) stays with its own.
 */
START_TEST(test_request_starts_anew_rst_does_not)
{
	struct ladder l;

	ladder_init(&l);
	open_conn(&l);
	add(&l, 3, false, VIRTIO_VSOCK_OP_RST, 0);
	add(&l, 4, true, VIRTIO_VSOCK_OP_SHUTDOWN, 0);
	add(&l, 5, false, VIRTIO_VSOCK_OP_REQUEST, 0);
	add(&l, 6, true, VIRTIO_VSOCK_OP_RST, 0);
	ladder_finish(&l);
	ck_assert_uint_eq(l.nconns, 2);
	ck_assert_uint_eq(l.head->nrows, 4);
	ck_assert_uint_eq(l.head->next->nrows, 2);
	ck_assert_uint_eq(l.head->next->rows[0].frame, 5);
	ladder_free(&l);
}
END_TEST

/* Loopback: both ends CID 1; the first sender takes the left lane. */
START_TEST(test_loopback_first_sender_left)
{
	struct vsock_pcap_frame f = frame(1, true, VIRTIO_VSOCK_OP_REQUEST, 0);
	struct ladder l;

	f.hdr.src_cid = f.hdr.dst_cid = 1;
	ladder_init(&l);
	ck_assert_int_eq(ladder_add(&l, &f), 0);
	ck_assert(!l.head->left_is_guest);
	ck_assert_uint_eq(l.head->left_port, 1234);
	ladder_free(&l);
}
END_TEST

/* A run of LADDER_RUN_FOLD_MIN data packets shows whole. */
START_TEST(test_short_run_shows_whole)
{
	struct ladder l;
	uint64_t n = 3;
	unsigned i;

	ladder_init(&l);
	open_conn(&l);
	for (i = 0; i < LADDER_RUN_FOLD_MIN; i++, n++)
		add(&l, n, i % 2, i % 2 ? VIRTIO_VSOCK_OP_CREDIT_UPDATE :
		    VIRTIO_VSOCK_OP_RW, 100);
	ladder_finish(&l);
	ck_assert_uint_eq(l.head->nrows, 2 + LADDER_RUN_FOLD_MIN);
	ck_assert_uint_eq(count_folded(l.head), 0);
	ladder_free(&l);
}
END_TEST

/* One more: the first rows show, the middle folds, the last rows show. */
START_TEST(test_longer_run_folds_middle)
{
	struct ladder l;
	uint64_t n = 3;
	unsigned i, len = LADDER_RUN_FOLD_MIN + 1;

	ladder_init(&l);
	open_conn(&l);
	for (i = 0; i < len; i++, n++)
		add(&l, n, false, VIRTIO_VSOCK_OP_RW, 100);
	add(&l, n, false, VIRTIO_VSOCK_OP_SHUTDOWN, 0);
	ladder_finish(&l);
	ck_assert_uint_eq(l.head->nrows, 2 + len + 1);
	ck_assert_uint_eq(count_folded(l.head),
	    len - LADDER_RUN_SHOW - LADDER_RUN_TAIL);
	ck_assert(!l.head->rows[2 + LADDER_RUN_SHOW - 1].folded);
	ck_assert(l.head->rows[2 + LADDER_RUN_SHOW].folded);
	ck_assert(!l.head->rows[2 + len - 1].folded);	/* the run's last */
	ladder_free(&l);
}
END_TEST

/*
 * A very long run keeps LADDER_RUN_SHOW + LADDER_RUN_KEEP rows, counts the
 * rest in one OMITTED row (frames and bytes) and keeps its last rows.
 */
START_TEST(test_very_long_run_is_bounded)
{
	struct ladder l;
	const struct ladder_row *o;
	uint64_t n = 3;
	unsigned i, len = 10000;
	unsigned left_out = len - LADDER_RUN_SHOW - LADDER_RUN_KEEP -
	    LADDER_RUN_TAIL;

	ladder_init(&l);
	open_conn(&l);
	for (i = 0; i < len; i++, n++)
		add(&l, n, false, VIRTIO_VSOCK_OP_RW, 10);
	add(&l, n, true, VIRTIO_VSOCK_OP_SHUTDOWN, 0);
	ladder_finish(&l);
	ck_assert_uint_eq(l.head->nrows, 2 + LADDER_RUN_SHOW +
	    LADDER_RUN_KEEP + 1 + LADDER_RUN_TAIL + 1);
	o = &l.head->rows[2 + LADDER_RUN_SHOW + LADDER_RUN_KEEP];
	ck_assert_int_eq(o->kind, LADDER_ROW_OMITTED);
	ck_assert_uint_eq(o->omitted_frames, left_out);
	ck_assert_uint_eq(o->omitted_bytes[0], 10ull * left_out);
	ck_assert_uint_eq(o->omitted_bytes[1], 0);
	ck_assert_uint_eq(o->frame, 3 + LADDER_RUN_SHOW + LADDER_RUN_KEEP);
	ck_assert_uint_eq(o[1].frame, 3 + len - LADDER_RUN_TAIL);
	ck_assert(!o[1].folded);
	ck_assert_uint_eq(l.head->frames, 2 + len + 1);
	ck_assert_uint_eq(l.head->bytes[0], 10ull * len);
	ladder_free(&l);
}
END_TEST

/* The marked frame (replay's divergence) shows even inside a long run. */
START_TEST(test_marked_frame_never_folds)
{
	struct ladder l;
	uint64_t n = 3, mark = 3 + 500;
	unsigned i, found = 0;

	ladder_init(&l);
	ladder_mark(&l, mark, LADDER_MARK_DIVERGED);
	open_conn(&l);
	for (i = 0; i < 1000; i++, n++)
		add(&l, n, false, VIRTIO_VSOCK_OP_RW, 10);
	ladder_finish(&l);
	for (i = 0; i < l.head->nrows; i++)
		if (l.head->rows[i].kind == LADDER_ROW_PACKET &&
		    l.head->rows[i].frame == mark) {
			found++;
			ck_assert(!l.head->rows[i].folded);
			ck_assert_uint_eq(l.head->rows[i].marks,
			    LADDER_MARK_DIVERGED);
		}
	ck_assert_uint_eq(found, 1);
	ladder_free(&l);
}
END_TEST

/* More connections than LADDER_MAX_CONNS: the rest are counted. */
START_TEST(test_connections_bounded)
{
	struct vsock_pcap_frame f;
	struct ladder l;
	unsigned i;

	ladder_init(&l);
	for (i = 0; i < LADDER_MAX_CONNS + 44; i++) {
		f = frame(i + 1, false, VIRTIO_VSOCK_OP_REQUEST, 0);
		f.hdr.src_port = 2000 + i;
		ck_assert_int_eq(ladder_add(&l, &f), 0);
	}
	ladder_finish(&l);
	ck_assert_uint_eq(l.nconns, LADDER_MAX_CONNS);
	ck_assert_uint_eq(l.undrawn_frames, 44);
	ck_assert_uint_eq(l.frames, LADDER_MAX_CONNS + 44);
	ladder_free(&l);
}
END_TEST

/* Rows past LADDER_MAX_ROWS in a trace are counted, not kept. */
START_TEST(test_rows_bounded)
{
	struct ladder l;
	uint64_t n = 3;
	unsigned i;

	ladder_init(&l);
	open_conn(&l);
	for (i = 0; i < LADDER_MAX_ROWS; i++, n++)	/* never a data run */
		add(&l, n, i % 2, VIRTIO_VSOCK_OP_SHUTDOWN, 0);
	ladder_finish(&l);
	ck_assert_uint_eq(l.nrows, LADDER_MAX_ROWS);
	ck_assert_uint_eq(l.undrawn_frames, 2);
	ladder_free(&l);
}
END_TEST

/*
 * The bar: the sender's buf_alloc less what its peer sent that its
 * fwd_cnt does not count; none when the numbers make no sense.
 */
START_TEST(test_credit_free)
{
	struct vsock_pcap_frame f;
	struct ladder l;

	ladder_init(&l);
	open_conn(&l);
	add(&l, 3, false, VIRTIO_VSOCK_OP_RW, 100);
	f = frame(4, true, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0);
	f.hdr.buf_alloc = 1000;
	f.hdr.fwd_cnt = 40;
	ck_assert_int_eq(ladder_add(&l, &f), 0);
	f = frame(5, true, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0);
	f.hdr.buf_alloc = 1000;
	f.hdr.fwd_cnt = 500;		/* counts more than was ever sent */
	ck_assert_int_eq(ladder_add(&l, &f), 0);
	ladder_finish(&l);
	ck_assert(l.head->rows[3].credit_known);
	ck_assert_uint_eq(l.head->rows[3].credit_free, 940);
	ck_assert(!l.head->rows[4].credit_known);
	ladder_free(&l);
}
END_TEST

/* A capture whose time runs back: the row says so. */
START_TEST(test_backwards_time)
{
	struct vsock_pcap_frame f;
	struct ladder l;

	ladder_init(&l);
	open_conn(&l);
	f = frame(3, false, VIRTIO_VSOCK_OP_RW, 1);
	f.ts_ns = 1000000000ull - 5000;
	ck_assert_int_eq(ladder_add(&l, &f), 0);
	ladder_finish(&l);
	ck_assert(l.head->rows[2].backwards);
	ck_assert_uint_eq(l.head->rows[2].ts_ns, 6000);
	ladder_free(&l);
}
END_TEST

/* Writes through fn into a string (caller frees). */
static char *
render(void (*fn)(FILE *, const void *, size_t), const void *p, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	fn(f, p, n);
	fclose(f);
	return buf;
}

static void
put_str(FILE *f, const void *p, size_t n)
{
	(void)n;
	html_put(f, p);
}

static void
put_bytes(FILE *f, const void *p, size_t n)
{
	html_put_bytes(f, p, n);
}

START_TEST(test_html_put_escapes)
{
	char *s = render(put_str, "<a href='x'>\"&\x01</a>", 0);

	ck_assert_str_eq(s, "&lt;a href=&#39;x&#39;&gt;&quot;&amp;\\x01"
	    "&lt;/a&gt;");
	free(s);
}
END_TEST

START_TEST(test_html_put_bytes_escapes)
{
	static const uint8_t p[] = "<script>\\\n\r\t\x00\xff\x7f";
	char *s = render(put_bytes, p, sizeof(p) - 1);

	ck_assert_str_eq(s, "&lt;script&gt;\\\\\\n\\r\\t\\x00\\xff\\x7f");
	free(s);
}
END_TEST

START_TEST(test_read_file_missing)
{
	struct ladder l;
	char err[256];

	ladder_init(&l);
	ck_assert_int_eq(ladder_read_file(&l, "/nonexistent.pcap", err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent.pcap"));
	ladder_free(&l);
}
END_TEST

static Suite *
ladder_suite(void)
{
	Suite *s = suite_create("ladder");
	TCase *tc = tcase_create("model");

	tcase_add_test(tc, test_one_connection_guest_left);
	tcase_add_test(tc, test_request_starts_anew_rst_does_not);
	tcase_add_test(tc, test_loopback_first_sender_left);
	tcase_add_test(tc, test_short_run_shows_whole);
	tcase_add_test(tc, test_longer_run_folds_middle);
	tcase_add_test(tc, test_very_long_run_is_bounded);
	tcase_add_test(tc, test_marked_frame_never_folds);
	tcase_add_test(tc, test_connections_bounded);
	tcase_add_test(tc, test_rows_bounded);
	tcase_add_test(tc, test_credit_free);
	tcase_add_test(tc, test_backwards_time);
	suite_add_tcase(s, tc);
	tc = tcase_create("escaping");
	tcase_add_test(tc, test_html_put_escapes);
	tcase_add_test(tc, test_html_put_bytes_escapes);
	tcase_add_test(tc, test_read_file_missing);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ladder_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* check_pcap.c - vsockmon captures: header codec, writer round trip, hostile files, split taps. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "byteorder.h"
#include "common.h"
#include "flight.h"
#include "pcap-reader.h"
#include "pcap-util.h"
#include "pcap-writer.h"
#include "vsockmon.h"
#include "wire.h"

/* Frame 1 of tcpdump-vsock-1.pcapng: the vsockmon header of guest REQUEST. */
static const uint8_t vector_mon1[VSOCKMON_HDR_SIZE] = {
	0x03, 0, 0, 0, 0, 0, 0, 0,	0x02, 0, 0, 0, 0, 0, 0, 0,
	0x00, 0x04, 0, 0,		0xd2, 0x04, 0, 0,
	0x01, 0x00,	0x02, 0x00,	0x2c, 0x00,	0x00, 0x00,
};

START_TEST(test_mon_decode_known)
{
	struct vsockmon_hdr m;
	uint8_t back[VSOCKMON_HDR_SIZE];

	vsockmon_hdr_decode(vector_mon1, &m);
	ck_assert_uint_eq(m.src_cid, 3);
	ck_assert_uint_eq(m.dst_cid, 2);
	ck_assert_uint_eq(m.src_port, 1024);
	ck_assert_uint_eq(m.dst_port, 1234);
	ck_assert_uint_eq(m.op, VSOCKMON_OP_CONNECT);
	ck_assert_uint_eq(m.transport, VSOCKMON_TRANSPORT_VIRTIO);
	ck_assert_uint_eq(m.len, VSOCK_HDR_SIZE);
	ck_assert_uint_eq(m.reserved, 0);
	vsockmon_hdr_encode(&m, back);
	ck_assert_mem_eq(back, vector_mon1, sizeof(back));
}
END_TEST

START_TEST(test_mon_fields_little_endian)
{
	struct vsockmon_hdr m = {
		UINT64_C(0x0102030405060708), UINT64_C(0x1112131415161718),
		0x21222324, 0x31323334, 0x4142, 0x5152, 0x6162, 0x7172,
	}, back;
	uint8_t raw[VSOCKMON_HDR_SIZE];

	vsockmon_hdr_encode(&m, raw);
	ck_assert_uint_eq(raw[VSOCKMON_OFF_SRC_CID], 0x08);
	ck_assert_uint_eq(raw[VSOCKMON_OFF_DST_CID + 7], 0x11);
	ck_assert_uint_eq(raw[VSOCKMON_OFF_SRC_PORT], 0x24);
	ck_assert_uint_eq(raw[VSOCKMON_OFF_DST_PORT + 3], 0x31);
	ck_assert_uint_eq(raw[VSOCKMON_OFF_OP], 0x42);
	ck_assert_uint_eq(raw[VSOCKMON_OFF_TRANSPORT + 1], 0x51);
	ck_assert_uint_eq(raw[VSOCKMON_OFF_LEN], 0x62);
	ck_assert_uint_eq(raw[VSOCKMON_OFF_RESERVED + 1], 0x71);
	vsockmon_hdr_decode(raw, &back);
	ck_assert_mem_eq(&back, &m, sizeof(m));
}
END_TEST

START_TEST(test_mon_op_mapping)
{
	/* Linux virtio_transport_build_skb's switch, op by op. */
	static const uint16_t want[] = {
		[VIRTIO_VSOCK_OP_INVALID] = VSOCKMON_OP_UNKNOWN,
		[VIRTIO_VSOCK_OP_REQUEST] = VSOCKMON_OP_CONNECT,
		[VIRTIO_VSOCK_OP_RESPONSE] = VSOCKMON_OP_CONNECT,
		[VIRTIO_VSOCK_OP_RST] = VSOCKMON_OP_DISCONNECT,
		[VIRTIO_VSOCK_OP_SHUTDOWN] = VSOCKMON_OP_DISCONNECT,
		[VIRTIO_VSOCK_OP_RW] = VSOCKMON_OP_PAYLOAD,
		[VIRTIO_VSOCK_OP_CREDIT_UPDATE] = VSOCKMON_OP_CONTROL,
		[VIRTIO_VSOCK_OP_CREDIT_REQUEST] = VSOCKMON_OP_CONTROL,
	};
	unsigned op;

	for (op = 0; op <= VIRTIO_VSOCK_OP__MAX; op++)
		ck_assert_uint_eq(vsockmon_op_from_virtio(op), want[op]);
	ck_assert_uint_eq(vsockmon_op_from_virtio(8), VSOCKMON_OP_UNKNOWN);
	ck_assert_uint_eq(vsockmon_op_from_virtio(0xffff), VSOCKMON_OP_UNKNOWN);
	ck_assert_str_eq(vsockmon_op_name(VSOCKMON_OP_CONTROL), "CONTROL");
	ck_assert_str_eq(vsockmon_op_name(VSOCKMON_OP_UNKNOWN), "UNKNOWN");
	ck_assert_ptr_null(vsockmon_op_name(5));
}
END_TEST

START_TEST(test_mon_from_virtio)
{
	struct vsock_hdr h = { 2, 3, 1234, 1024, 7, 1, VIRTIO_VSOCK_OP_SHUTDOWN,
	    3, 262144, 12 };
	struct vsockmon_hdr m;

	vsockmon_hdr_from_virtio(&h, VSOCKMON_EMU_MARK, &m);
	ck_assert_uint_eq(m.src_cid, 2);
	ck_assert_uint_eq(m.dst_cid, 3);
	ck_assert_uint_eq(m.src_port, 1234);
	ck_assert_uint_eq(m.dst_port, 1024);
	ck_assert_uint_eq(m.op, VSOCKMON_OP_DISCONNECT);
	ck_assert_uint_eq(m.transport, VSOCKMON_TRANSPORT_VIRTIO);
	ck_assert_uint_eq(m.len, 44);
	ck_assert_uint_eq(m.reserved, VSOCKMON_EMU_MARK);
}
END_TEST

/* Asserts every field of two decoded virtio headers is equal. */
static void
hdr_eq(const struct vsock_hdr *a, const struct vsock_hdr *b, size_t i)
{
	ck_assert_msg(a->src_cid == b->src_cid && a->dst_cid == b->dst_cid &&
	    a->src_port == b->src_port && a->dst_port == b->dst_port &&
	    a->len == b->len && a->type == b->type && a->op == b->op &&
	    a->flags == b->flags && a->buf_alloc == b->buf_alloc &&
	    a->fwd_cnt == b->fwd_cnt, "record %zu: headers differ", i);
}

#define RT_MAX	256

/* The round-trip set: every op both ways on both types, RW 0..64 KiB, drops. */
static size_t
roundtrip_set(struct pu_rec *r)
{
	static const uint32_t sizes[] = { 0, 1, 6, 4095, 4096, 65535, 65536 };
	uint64_t now = UINT64_C(1700000000) * VSOCK_NS_PER_SEC;
	size_t n = 0, s;
	unsigned dir, type, op;

	for (dir = 0; dir < 2; dir++)
	for (type = 1; type <= 2; type++)
	for (op = 0; op <= VIRTIO_VSOCK_OP__MAX; op++) {
		size_t nsizes = op == VIRTIO_VSOCK_OP_RW ? 7 : 1;
		uint32_t flags = op == VIRTIO_VSOCK_OP_SHUTDOWN ? 3 :
		    op == VIRTIO_VSOCK_OP_RW && type == 2 ? 3 : 0;

		for (s = 0; s < nsizes; s++) {
			now += 1234567000;	/* whole microseconds */
			pu_rec_make(&r[n], (enum vsock_tap_dir)dir, type, op,
			    flags, sizes[s], now, (unsigned)n);
			n++;
		}
	}
	/* Dropped: the guest's len lies (100 claimed, 10 carried). */
	pu_rec_make(&r[n], VSOCK_TAP_GUEST_TO_HOST, 1, VIRTIO_VSOCK_OP_RW, 0,
	    10, now += 1000, 77);
	r[n].rec.dropped = true;
	r[n].rec.hdr.len = 100;
	pu_rec_reencode(&r[n++]);
	/* Dropped: the guest forges the host's CID; direction must survive. */
	pu_rec_make(&r[n], VSOCK_TAP_GUEST_TO_HOST, 1, VIRTIO_VSOCK_OP_REQUEST,
	    0, 0, now += 1000, 78);
	r[n].rec.dropped = true;
	r[n].rec.hdr.src_cid = VMADDR_CID_HOST;
	r[n].rec.hdr.dst_cid = 7;
	pu_rec_reencode(&r[n++]);
	/* Sub-microsecond time is cut, never rounded up. */
	pu_rec_make(&r[n], VSOCK_TAP_HOST_TO_GUEST, 1,
	    VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 0, now + 999, 79);
	n++;
	ck_assert_uint_le(n, RT_MAX);
	return n;
}

/* Asserts frame f is record r read back. */
static void
frame_is(const struct vsock_pcap_frame *f, const struct vsock_tap_record *r,
    size_t i)
{
	ck_assert_uint_eq(f->number, i + 1);
	ck_assert_uint_eq(f->ts_ns, r->now / 1000 * 1000);
	ck_assert_mem_eq(f->raw, r->raw, VSOCK_HDR_SIZE);
	hdr_eq(&f->hdr, &r->hdr, i);
	ck_assert_uint_eq(f->payload_len, r->payload_len);
	ck_assert_uint_eq(f->tapped_len, r->payload_len);
	if (r->payload_len > 0)
		ck_assert_mem_eq(f->payload, r->payload, r->payload_len);
	ck_assert_int_eq(f->to_guest, r->dir == VSOCK_TAP_HOST_TO_GUEST);
	ck_assert(f->dir_marked);
	ck_assert_int_eq(f->dropped, r->dropped);
	ck_assert(!f->split_tap);
	ck_assert_uint_eq(f->mon.src_cid, r->hdr.src_cid);
	ck_assert_uint_eq(f->mon.dst_port, r->hdr.dst_port);
	ck_assert_uint_eq(f->mon.op, vsockmon_op_from_virtio(r->hdr.op));
	ck_assert_uint_eq(f->mon.transport, VSOCKMON_TRANSPORT_VIRTIO);
	ck_assert_uint_eq(f->mon.len, VSOCK_HDR_SIZE);
}

START_TEST(test_writer_roundtrip)
{
	static struct pu_rec r[RT_MAX];
	struct vsock_pcap_writer *w;
	struct vsock_pcap_reader *rd;
	struct vsock_pcap_frame f;
	const char *path = pu_tmp("rt.pcap");
	char msg[256];
	size_t n = roundtrip_set(r), i;

	ck_assert_err(vsock_pcap_writer_open(path, &w, msg, sizeof(msg)), 0);
	for (i = 0; i < n; i++)
		vsock_pcap_writer_tap(w, &r[i].rec);
	ck_assert_uint_eq(vsock_pcap_writer_count(w), n);
	ck_assert_err(vsock_pcap_writer_close(w), 0);

	ck_assert_err(vsock_pcap_reader_open(path, 0, &rd, msg, sizeof(msg)), 0);
	for (i = 0; i < n; i++) {
		ck_assert_msg(vsock_pcap_reader_next(rd, &f, msg,
		    sizeof(msg)) == 1, "record %zu: %s", i, msg);
		frame_is(&f, &r[i].rec, i);
	}
	ck_assert_err(vsock_pcap_reader_next(rd, &f, msg, sizeof(msg)), 0);
	vsock_pcap_reader_close(rd);
	for (i = 0; i < n; i++)
		pu_rec_free(&r[i]);
}
END_TEST

START_TEST(test_writer_snaplen_cut)
{
	struct vsock_pcap_writer *w;
	struct pu_rec r;
	struct pu_result res;
	struct vsock_pcap_reader *rd;
	struct vsock_pcap_frame f;
	const char *path = pu_tmp("cut.pcap");
	char msg[256];

	/* A dropped 300000-byte "packet": kept, cut at the snaplen. */
	pu_rec_make(&r, VSOCK_TAP_GUEST_TO_HOST, 1, VIRTIO_VSOCK_OP_RW, 0,
	    300000, 5000, 1);
	r.rec.dropped = true;
	ck_assert_err(vsock_pcap_writer_open(path, &w, msg, sizeof(msg)), 0);
	ck_assert_err(vsock_pcap_writer_write(w, &r.rec), 0);
	ck_assert_err(vsock_pcap_writer_close(w), 0);
	ck_assert_err(vsock_pcap_reader_open(path, 0, &rd, msg, sizeof(msg)), 0);
	ck_assert_int_eq(vsock_pcap_reader_next(rd, &f, msg, sizeof(msg)), 1);
	ck_assert(f.dropped);
	ck_assert_uint_eq(f.orig_len, VSOCKMON_RECORD_MIN + 300000);
	ck_assert_uint_eq(f.tapped_len, VSOCK_PCAP_SNAPLEN - VSOCKMON_RECORD_MIN);
	ck_assert_mem_eq(f.payload, r.buf, f.tapped_len);
	vsock_pcap_reader_close(rd);

	/* The same cut on a packet the device did not drop is a lie. */
	r.rec.dropped = false;
	ck_assert_err(vsock_pcap_writer_open(path, &w, msg, sizeof(msg)), 0);
	ck_assert_err(vsock_pcap_writer_write(w, &r.rec), 0);
	ck_assert_err(vsock_pcap_writer_close(w), 0);
	pu_read_all(path, 0, &res);
	ck_assert_err(res.err, -VSE_ERR_PCAP_CAPLEN);
	pu_rec_free(&r);
}
END_TEST

START_TEST(test_writer_flushes_each_record)
{
	struct vsock_pcap_writer *w;
	struct pu_rec r;
	struct pu_result res;
	const char *path = pu_tmp("killed.pcap");
	char msg[256];
	unsigned i;

	/* Read while the writer is still open: as after a kill -9. */
	ck_assert_err(vsock_pcap_writer_open(path, &w, msg, sizeof(msg)), 0);
	for (i = 0; i < 3; i++) {
		pu_rec_make(&r, VSOCK_TAP_GUEST_TO_HOST, 1, VIRTIO_VSOCK_OP_RW,
		    0, 100, 1000 * i, i);
		ck_assert_err(vsock_pcap_writer_write(w, &r.rec), 0);
		pu_rec_free(&r);
		pu_read_all(path, 0, &res);
		ck_assert_msg(res.open_err == 0 && res.err == 0 &&
		    res.frames == i + 1, "after %u records: %" PRIu64
		    " frames, %s", i + 1, res.frames, res.msg);
	}
	ck_assert_err(vsock_pcap_writer_close(w), 0);
}
END_TEST

START_TEST(test_writer_open_error)
{
	struct vsock_pcap_writer *w = (void *)1;
	char msg[256];

	ck_assert_err(vsock_pcap_writer_open("/nonexistent-dir/x.pcap", &w,
	    msg, sizeof(msg)), -VSE_ERR_PCAP_OPEN);
	ck_assert_ptr_null(w);
	ck_assert_msg(strstr(msg, "/nonexistent-dir/x.pcap") != NULL, "%s", msg);
	ck_assert_msg(strchr(msg, '\n') == NULL, "one line: %s", msg);
	ck_assert_err(vsock_pcap_writer_open("", &w, msg, sizeof(msg)),
	    -VSE_ERR_PCAP_OPEN);
	ck_assert_err(vsock_pcap_writer_open(NULL, &w, NULL, 0),
	    -VSE_ERR_INVAL);
	ck_assert_err(vsock_pcap_writer_close(NULL), 0);
}
END_TEST

START_TEST(test_writer_write_error_sticky)
{
	struct vsock_pcap_writer *w;
	struct pu_rec r;
	const char *why;
	char msg[256];

	/* /dev/full: every write fails with ENOSPC, found at the flush. */
	ck_assert_err(vsock_pcap_writer_open("/dev/full", &w, msg, sizeof(msg)),
	    0);
	pu_rec_make(&r, VSOCK_TAP_GUEST_TO_HOST, 1, VIRTIO_VSOCK_OP_RW, 0, 10,
	    0, 1);
	ck_assert_err(vsock_pcap_writer_write(w, &r.rec), -VSE_ERR_PCAP_WRITE);
	ck_assert_err(vsock_pcap_writer_error(w, &why), -VSE_ERR_PCAP_WRITE);
	ck_assert_msg(strstr(why, "/dev/full") != NULL, "%s", why);
	vsock_pcap_writer_tap(w, &r.rec);
	ck_assert_err(vsock_pcap_writer_write(w, &r.rec), -VSE_ERR_PCAP_WRITE);
	ck_assert_uint_eq(vsock_pcap_writer_count(w), 0);
	ck_assert_err(vsock_pcap_writer_close(w), -VSE_ERR_PCAP_WRITE);
	pu_rec_free(&r);
}
END_TEST

/*
 * A pipe whose reader has gone (`serve --pcap - | head`): with SIGPIPE
 * ignored, as vsockemu does, the write fails, stays failed, and says why.
 */
START_TEST(test_writer_reader_gone)
{
	struct vsock_pcap_writer *w;
	struct pu_rec r;
	const char *why;
	char path[32], msg[256];
	int p[2];

	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(pipe(p), 0);
	close(p[0]);
	snprintf(path, sizeof(path), "/dev/fd/%d", p[1]);
	ck_assert_err(vsock_pcap_writer_open(path, &w, msg, sizeof(msg)), 0);
	pu_rec_make(&r, VSOCK_TAP_GUEST_TO_HOST, 1, VIRTIO_VSOCK_OP_RW, 0, 10,
	    0, 1);
	ck_assert_err(vsock_pcap_writer_write(w, &r.rec), -VSE_ERR_PCAP_WRITE);
	ck_assert_err(vsock_pcap_writer_error(w, &why), -VSE_ERR_PCAP_WRITE);
	ck_assert_msg(strstr(why, "reader closed the pipe after 0 records") !=
	    NULL, "%s", why);
	ck_assert_err(vsock_pcap_writer_write(w, &r.rec), -VSE_ERR_PCAP_WRITE);
	ck_assert_err(vsock_pcap_writer_close(w), -VSE_ERR_PCAP_WRITE);
	close(p[1]);
	pu_rec_free(&r);
}
END_TEST

START_TEST(test_writer_stdout)
{
	struct vsock_pcap_writer *w;
	struct pu_rec r;
	struct pu_result res;
	const char *path = pu_tmp("stdout.pcap");
	char msg[256];
	int saved, fd;

	/* Point fd 1 at a file for the test, restoring it (CK_FORK=no) after. */
	fflush(stdout);
	ck_assert_int_ge(saved = dup(STDOUT_FILENO), 0);
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644), 0);
	ck_assert_int_eq(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
	close(fd);
	ck_assert_err(vsock_pcap_writer_open("-", &w, msg, sizeof(msg)), 0);
	pu_rec_make(&r, VSOCK_TAP_HOST_TO_GUEST, 1, VIRTIO_VSOCK_OP_RW, 0, 6,
	    1000, 1);
	ck_assert_err(vsock_pcap_writer_write(w, &r.rec), 0);
	ck_assert_err(vsock_pcap_writer_close(w), 0);
	/* The caller's stdout survives the writer's close. */
	ck_assert_int_ne(fcntl(STDOUT_FILENO, F_GETFD), -1);
	ck_assert_int_eq(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	close(saved);
	pu_read_all(path, 0, &res);
	ck_assert_msg(res.err == 0 && res.frames == 1, "%s", res.msg);
	pu_rec_free(&r);
}
END_TEST

START_TEST(test_vector_frames)
{
	/* The frame list of testvectors/README.md, field by field. */
	static const struct {
		uint16_t op;
		int to_guest;
		uint32_t len, flags, fwd_cnt;
		const char *payload;
	} want[10] = {
		{ VIRTIO_VSOCK_OP_REQUEST, 0, 0, 0, 0, NULL },
		{ VIRTIO_VSOCK_OP_RESPONSE, 1, 0, 0, 0, NULL },
		{ VIRTIO_VSOCK_OP_RW, 0, 6, 0, 0, "Hello\n" },
		{ VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1, 0, 0, 6, NULL },
		{ VIRTIO_VSOCK_OP_RW, 0, 6, 0, 0, "World\n" },
		{ VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1, 0, 0, 12, NULL },
		{ VIRTIO_VSOCK_OP_RW, 1, 7, 0, 12, "Hi :-)\n" },
		{ VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 0, 0, 7, NULL },
		{ VIRTIO_VSOCK_OP_SHUTDOWN, 1, 0, 3, 12, NULL },
		{ VIRTIO_VSOCK_OP_RST, 0, 0, 0, 7, NULL },
	};
	struct vsock_pcap_reader *rd;
	struct vsock_pcap_frame f;
	char msg[256];
	uint64_t first = 0;
	unsigned i;

	ck_assert_err(vsock_pcap_reader_open(pu_vector("tcpdump-vsock-1.pcapng"),
	    0, &rd, msg, sizeof(msg)), 0);
	for (i = 0; i < 10; i++) {
		ck_assert_msg(vsock_pcap_reader_next(rd, &f, msg,
		    sizeof(msg)) == 1, "%s", msg);
		ck_assert_uint_eq(f.number, i + 1);
		if (i == 0)
			first = f.ts_ns;
		ck_assert_uint_eq(f.hdr.op, want[i].op);
		ck_assert_int_eq(f.to_guest, want[i].to_guest);
		ck_assert(!f.dir_marked && !f.dropped && !f.split_tap);
		ck_assert_uint_eq(f.hdr.src_cid, want[i].to_guest ? 2 : 3);
		ck_assert_uint_eq(f.hdr.dst_cid, want[i].to_guest ? 3 : 2);
		ck_assert_uint_eq(f.hdr.src_port, want[i].to_guest ? 1234 : 1024);
		ck_assert_uint_eq(f.hdr.dst_port, want[i].to_guest ? 1024 : 1234);
		ck_assert_uint_eq(f.hdr.type, VIRTIO_VSOCK_TYPE_STREAM);
		ck_assert_uint_eq(f.hdr.len, want[i].len);
		ck_assert_uint_eq(f.hdr.flags, want[i].flags);
		ck_assert_uint_eq(f.hdr.buf_alloc, 262144);
		ck_assert_uint_eq(f.hdr.fwd_cnt, want[i].fwd_cnt);
		ck_assert_uint_eq(f.payload_len, want[i].len);
		if (want[i].payload != NULL)
			ck_assert_mem_eq(f.payload, want[i].payload,
			    want[i].len);
	}
	/* Nanoseconds survive: frame 10 is 6.115325205 s after frame 1. */
	ck_assert_uint_eq(f.ts_ns - first, UINT64_C(6115325205));
	ck_assert_uint_eq(first, UINT64_C(1499949071261679299));
	ck_assert_err(vsock_pcap_reader_next(rd, &f, msg, sizeof(msg)), 0);
	vsock_pcap_reader_close(rd);
}
END_TEST

/*
 * Ends of the blocks (pcapng) or records (pcap) of buf; returns how many.
 * ends[0] is where the file header ends and frames begin.
 */
static size_t
record_ends(const uint8_t *buf, size_t len, int ng, size_t *ends, size_t max)
{
	size_t off, n = 0;

	if (!ng) {
		ends[n++] = off = 24;
		while (off + 16 <= len && n < max) {
			off += 16 + vse_get_le32(buf + off + 8);
			ends[n++] = off;
		}
		return n;
	}
	/* pcapng: SHB and IDB, then one EPB per frame, then statistics. */
	off = vse_get_le32(buf + 4);
	off += vse_get_le32(buf + off + 4);
	ends[n++] = off;
	while (off + 8 <= len && n < max) {
		off += vse_get_le32(buf + off + 4);
		ends[n++] = off;
	}
	return n;
}

/* Cuts path at every offset; each cut reads clean to a boundary or fails cleanly. */
static void
truncate_everywhere(const char *src, int ng, uint64_t nframes)
{
	size_t len, cut, ends[64], nends, k;
	uint8_t *buf = pu_read_file(src, &len);
	const char *path = pu_tmp(ng ? "cut.pcapng" : "cut.pcap");
	struct pu_result res;

	nends = record_ends(buf, len, ng, ends, 64);
	ck_assert_uint_eq(ends[nends - 1], len);
	for (cut = 0; cut < len; cut++) {
		uint64_t whole = 0;
		int boundary = 0;
		char where[32];

		pu_write_file(path, buf, cut);
		pu_read_all(path, 0, &res);
		if (cut < ends[0]) {
			ck_assert_msg(res.open_err == -VSE_ERR_PCAP_FORMAT,
			    "cut %zu: %s", cut, res.msg);
			ck_assert_msg(strstr(res.msg, path) != NULL, "%s",
			    res.msg);
			continue;
		}
		for (k = 1; k < nends; k++)
			if (ends[k] <= cut && whole < nframes)
				whole++;
		for (k = 0; k < nends; k++)
			boundary |= ends[k] == cut;
		ck_assert_msg(res.open_err == 0, "cut %zu: %s", cut, res.msg);
		ck_assert_msg(res.frames == whole, "cut %zu: %" PRIu64
		    " frames, want %" PRIu64, cut, res.frames, whole);
		if (boundary) {
			ck_assert_msg(res.err == 0, "cut %zu: %s", cut, res.msg);
			continue;
		}
		ck_assert_err(res.err, -VSE_ERR_PCAP_DAMAGED);
		snprintf(where, sizeof(where), ": frame %" PRIu64 ":",
		    whole + 1);
		ck_assert_msg(strstr(res.msg, path) != NULL &&
		    strstr(res.msg, where) != NULL, "cut %zu: %s", cut,
		    res.msg);
	}
	free(buf);
}

START_TEST(test_truncated_vector)
{
	truncate_everywhere(pu_vector("tcpdump-vsock-1.pcapng"), 1, 10);
}
END_TEST

START_TEST(test_truncated_own_pcap)
{
	struct vsock_pcap_writer *w;
	struct pu_rec r;
	const char *path = pu_tmp("own.pcap");
	char msg[256];
	unsigned i;

	ck_assert_err(vsock_pcap_writer_open(path, &w, msg, sizeof(msg)), 0);
	for (i = 0; i < 5; i++) {
		pu_rec_make(&r, (enum vsock_tap_dir)(i & 1), 1,
		    VIRTIO_VSOCK_OP_RW, 0, i * 3, 1000 * i, i);
		ck_assert_err(vsock_pcap_writer_write(w, &r.rec), 0);
		pu_rec_free(&r);
	}
	ck_assert_err(vsock_pcap_writer_close(w), 0);
	truncate_everywhere(path, 0, 5);
}
END_TEST

START_TEST(test_not_a_capture)
{
	static const char text[] = "this is not a capture file at all\n";
	struct pu_result res;
	const char *path = pu_tmp("text.pcap");

	pu_write_file(path, text, sizeof(text) - 1);
	pu_read_all(path, 0, &res);
	ck_assert_err(res.open_err, -VSE_ERR_PCAP_FORMAT);
	ck_assert_msg(strstr(res.msg, path) != NULL, "%s", res.msg);

	path = pu_tmp("empty.pcap");
	pu_write_file(path, "", 0);
	pu_read_all(path, 0, &res);
	ck_assert_err(res.open_err, -VSE_ERR_PCAP_FORMAT);
	ck_assert_msg(strstr(res.msg, path) != NULL, "%s", res.msg);

	pu_read_all(pu_tmp("does-not-exist.pcap"), 0, &res);
	ck_assert_err(res.open_err, -VSE_ERR_PCAP_FORMAT);
	ck_assert_msg(strstr(res.msg, "does-not-exist.pcap") != NULL, "%s",
	    res.msg);
}
END_TEST

START_TEST(test_bad_linktype)
{
	static uint8_t rec[VSOCKMON_RECORD_MIN];
	struct vsock_hdr h = { 3, 2, 1024, 1234, 0, 1, 1, 0, 0, 0 };
	struct pu_raw raw = { rec, 0, 0 };
	struct pu_result res;
	const char *path = pu_tmp("ether.pcap");

	raw.caplen = raw.len = pu_record(rec, &h, NULL, 0);
	pu_write_raw(path, DLT_EN10MB, &raw, 1);
	pu_read_all(path, 0, &res);
	ck_assert_err(res.open_err, -VSE_ERR_PCAP_LINKTYPE);
	ck_assert_msg(strstr(res.msg, path) != NULL &&
	    strstr(res.msg, "271") != NULL, "%s", res.msg);
}
END_TEST

/* Descriptors this process holds (entries of /proc/self/fd). */
static unsigned
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* A child writes all of src into a pipe; returns the read end. */
static int
pipe_from(const char *src, pid_t *child)
{
	size_t len, off = 0;
	uint8_t *buf = pu_read_file(src, &len);
	ssize_t n;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	*child = fork();
	ck_assert_int_ge(*child, 0);
	if (*child == 0) {
		close(p[0]);
		while (off < len && (n = write(p[1], buf + off,
		    len - off)) > 0)
			off += (size_t)n;
		_exit(off == len ? 0 : 1);
	}
	close(p[1]);
	free(buf);
	return p[0];
}

/* Reads src through a pipe, as /dev/fd/N or as "-": the same frames as the file. */
static void
read_through_pipe(const char *src, bool as_stdin)
{
	struct pu_result direct, piped;
	char path[64];
	unsigned fds;
	pid_t child;
	int fd, status;

	pu_read_all(src, 0, &direct);
	ck_assert_msg(direct.open_err == 0 && direct.err == 0, "%s", direct.msg);
	fd = pipe_from(src, &child);
	if (as_stdin) {
		ck_assert_int_eq(dup2(fd, STDIN_FILENO), STDIN_FILENO);
		close(fd);
		snprintf(path, sizeof(path), "-");
	} else {
		snprintf(path, sizeof(path), "/dev/fd/%d", fd);
	}
	fds = count_fds();
	pu_read_all(path, 0, &piped);
	ck_assert_uint_eq(count_fds(), fds);	/* the reader closed its dup */
	ck_assert_msg(piped.open_err == 0 && piped.err == 0, "%s: %s", src,
	    piped.msg);
	ck_assert_uint_eq(piped.frames, direct.frames);
	if (as_stdin) {
		/* Standard input stays open for the next pipe(2). */
		fd = open("/dev/null", O_RDONLY);
		ck_assert_int_eq(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	}
	close(fd);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
}

/* Pipes are read once: plain pcap, pcapng and gzip, by name and as "-". */
START_TEST(test_reads_a_pipe)
{
	static const char *const vectors[] = {
		"emu-echo.pcap", "tcpdump-vsock-1.pcapng",
		"linux61-vhost-bulk-h2g.pcap.gz", "qemu-vhu-seqpacket.pcap.gz",
	};
	size_t i;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		read_through_pipe(pu_vector(vectors[i]), false);
		read_through_pipe(pu_vector(vectors[i]), true);
	}
}
END_TEST

/* How often needle occurs in hay. */
static unsigned
occurrences(const char *hay, const char *needle)
{
	unsigned n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* An open error: one line, the path once, our words (want), none of libpcap's. */
static void
expect_open_error(const char *path, int err, const char *want)
{
	struct pu_result res;

	pu_read_all(path, 0, &res);
	ck_assert_err(res.open_err, err);
	ck_assert_msg(occurrences(res.msg, path) == 1, "%s", res.msg);
	ck_assert_msg(strstr(res.msg, want) != NULL, "want \"%s\": %s", want,
	    res.msg);
	ck_assert_msg(strstr(res.msg, "dump file") == NULL &&
	    strstr(res.msg, "file format") == NULL &&
	    strstr(res.msg, "file header bytes") == NULL, "libpcap's words: %s",
	    res.msg);
	ck_assert_msg(strchr(res.msg, '\n') == NULL, "one line: %s", res.msg);
}

START_TEST(test_open_errors_in_our_words)
{
	static const uint8_t gz_junk[] = { 0x1f, 0x8b, 0x08, 0, 1, 2, 3, 4, 5,
	    6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	size_t len;
	uint8_t *buf = pu_read_file(pu_vector("emu-echo.pcap"), &len);
	unsigned fds = count_fds();
	const char *path;

	path = pu_tmp("empty.pcap");
	pu_write_file(path, "", 0);
	expect_open_error(path, -VSE_ERR_PCAP_FORMAT, "empty");
	path = pu_tmp("text.pcap");
	pu_write_file(path, "# not a capture\n", 16);
	expect_open_error(path, -VSE_ERR_PCAP_FORMAT,
	    "not a pcap or pcapng capture");
	path = pu_tmp("short.pcap");
	pu_write_file(path, buf, 10);
	expect_open_error(path, -VSE_ERR_PCAP_FORMAT, "file header");
	path = pu_tmp("junk.pcap.gz");
	pu_write_file(path, gz_junk, sizeof(gz_junk));
	expect_open_error(path, -VSE_ERR_PCAP_FORMAT, "gzip");
	expect_open_error(pu_tmp("does-not-exist.pcap"), -VSE_ERR_PCAP_FORMAT,
	    "No such file");
	path = pu_tmp("");
	expect_open_error(path, -VSE_ERR_PCAP_FORMAT, "directory");
	ck_assert_uint_eq(count_fds(), fds);	/* every failed open closed */
	free(buf);
}
END_TEST

/* A record cut short: the path once, the frame, and our words. */
START_TEST(test_record_errors_in_our_words)
{
	struct pu_result res;
	size_t len;
	uint8_t *buf = pu_read_file(pu_vector("emu-echo.pcap"), &len);
	const char *path = pu_tmp("cut.pcap");

	pu_write_file(path, buf, 24 + 16 + 76 + 16 + 20);
	pu_read_all(path, 0, &res);
	ck_assert_err(res.err, -VSE_ERR_PCAP_DAMAGED);
	ck_assert_msg(occurrences(res.msg, path) == 1, "%s", res.msg);
	ck_assert_msg(strstr(res.msg, ": frame 2: ") != NULL &&
	    strstr(res.msg, "ends inside") != NULL, "%s", res.msg);
	ck_assert_msg(strstr(res.msg, "dump file") == NULL, "%s", res.msg);
	free(buf);
}
END_TEST

/* One lie told in frame 2 of a capture, and the error it must draw. */
struct lie {
	const char *name;
	int want;
	uint32_t payload, len_field;	/* bytes carried, hdr.len */
	int to_guest;
	uint16_t op;
	int edit;			/* what else to break */
	uint32_t caplen_cut, len_extra;	/* pcap record header lies */
};

enum { EDIT_NONE, EDIT_TRANS_LEN, EDIT_TRANSPORT, EDIT_MON_CID, EDIT_MON_OP };

static const struct lie lies[] = {
	{ "trans_len 43", -VSE_ERR_PCAP_TRANS_LEN, 0, 0, 0, 1, EDIT_TRANS_LEN,
	    0, 0 },
	{ "transport NO_INFO", -VSE_ERR_PCAP_TRANSPORT, 0, 0, 0, 1,
	    EDIT_TRANSPORT, 0, 0 },
	{ "hdr.len > payload", -VSE_ERR_PCAP_PAYLOAD_LEN, 6, 10, 0, 5,
	    EDIT_NONE, 0, 0 },
	{ "hdr.len > payload to guest", -VSE_ERR_PCAP_PAYLOAD_LEN, 6, 10, 1,
	    5, EDIT_NONE, 0, 0 },
	{ "hdr.len < payload guest->host", -VSE_ERR_PCAP_PAYLOAD_LEN, 6, 2,
	    0, 5, EDIT_NONE, 0, 0 },
	{ "payload on a host->guest CREDIT_UPDATE", -VSE_ERR_PCAP_PAYLOAD_LEN,
	    6, 0, 1, 6, EDIT_NONE, 0, 0 },
	{ "record of 75 bytes", -VSE_ERR_PCAP_SHORT, 0, 0, 0, 1, EDIT_NONE,
	    1, 0 },
	{ "record of 0 bytes", -VSE_ERR_PCAP_SHORT, 0, 0, 0, 1, EDIT_NONE,
	    76, 0 },
	{ "caplen < len", -VSE_ERR_PCAP_CAPLEN, 6, 6, 0, 5, EDIT_NONE, 0, 4 },
	{ "vsockmon src_cid disagrees", -VSE_ERR_PCAP_MISMATCH, 0, 0, 0, 1,
	    EDIT_MON_CID, 0, 0 },
	{ "vsockmon op disagrees", -VSE_ERR_PCAP_MISMATCH, 0, 0, 0, 1,
	    EDIT_MON_OP, 0, 0 },
};

/* Builds frame 2 of a lie into rec; returns its pcap record header. */
static struct pu_raw
lie_record(const struct lie *l, uint8_t *rec)
{
	static const uint8_t pay[16] = "Hello\nWorld\n";
	struct vsock_hdr h = { 3, 2, 1024, 1234, l->len_field, 1, l->op, 0,
	    262144, 0 };
	struct pu_raw raw = { rec, 0, 0 };

	if (l->to_guest) {
		h.src_cid = 2, h.dst_cid = 3;
		h.src_port = 1234, h.dst_port = 1024;
	}
	raw.caplen = pu_record(rec, &h, pay, l->payload);
	if (l->edit == EDIT_TRANS_LEN)
		vse_put_le16(rec + VSOCKMON_OFF_LEN, 43);
	if (l->edit == EDIT_TRANSPORT)
		vse_put_le16(rec + VSOCKMON_OFF_TRANSPORT, 1);
	if (l->edit == EDIT_MON_CID)
		vse_put_le64(rec + VSOCKMON_OFF_SRC_CID, 4);
	if (l->edit == EDIT_MON_OP)
		vse_put_le16(rec + VSOCKMON_OFF_OP, VSOCKMON_OP_PAYLOAD);
	raw.caplen -= l->caplen_cut;
	raw.len = raw.caplen + l->len_extra;
	return raw;
}

START_TEST(test_lying_lengths)
{
	const struct lie *l = &lies[_i];
	static uint8_t good[VSOCKMON_RECORD_MIN], bad[VSOCKMON_RECORD_MIN + 16];
	struct vsock_hdr h = { 3, 2, 1024, 1234, 0, 1, 1, 0, 262144, 0 };
	struct pu_raw raw[2];
	struct pu_result res;
	const char *path = pu_tmp("lie.pcap");

	raw[0].data = good;
	raw[0].caplen = raw[0].len = pu_record(good, &h, NULL, 0);
	raw[1] = lie_record(l, bad);
	pu_write_raw(path, DLT_VSOCK, raw, 2);
	pu_read_all(path, 0, &res);
	ck_assert_msg(res.open_err == 0, "%s: %s", l->name, res.msg);
	ck_assert_msg(res.frames == 1 && res.err == l->want,
	    "%s: %" PRIu64 " frames, error %s (%s)", l->name, res.frames,
	    vse_errname(res.err), res.msg);
	ck_assert_msg(strstr(res.msg, path) != NULL &&
	    strstr(res.msg, ": frame 2:") != NULL, "%s: %s", l->name, res.msg);
	/* The split-tap option forgives none of these. */
	pu_read_all(path, VSOCK_PCAP_TRIM_SPLIT, &res);
	ck_assert_msg(res.err == l->want, "%s with TRIM_SPLIT: %s", l->name,
	    vse_errname(res.err));
}
END_TEST

/* Stores v big-endian at p. */
static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* Rewrites a little-endian classic pcap file in big-endian order, in place. */
static void
to_big_endian(uint8_t *b, size_t len)
{
	size_t off = 24, i;
	uint32_t caplen;

	for (i = 0; i < 24; i += i < 8 && i >= 4 ? 2 : 4) {
		if (i >= 4 && i < 8) {
			uint8_t t = b[i];

			b[i] = b[i + 1], b[i + 1] = t;
		} else {
			put_be32(b + i, vse_get_le32(b + i));
		}
	}
	while (off + 16 <= len) {
		caplen = vse_get_le32(b + off + 8);
		for (i = 0; i < 16; i += 4)
			put_be32(b + off + i, vse_get_le32(b + off + i));
		off += 16 + caplen;
	}
}

/*
 * Classic pcap 2.4 records are read without pcap_next_ex, in chunks: every
 * record must come out as libpcap hands it over (time stamp, lengths,
 * bytes), in both byte orders, in micro- and nanoseconds, across chunk
 * boundaries (3,000 records of up to 2 KiB: over 3 MiB), and with a
 * caplen above the file's snaplen cut to it as libpcap cuts it.
 */
START_TEST(test_native_records_as_libpcap_reads_them)
{
	static uint8_t rec[3000][VSOCKMON_RECORD_MIN + 2048];
	static struct pu_raw raw[3000];
	static const uint8_t zero[2048];
	const char *path = pu_tmp("native.pcap");
	char err[PCAP_ERRBUF_SIZE], msg[256];
	unsigned i, variant;
	size_t len;
	uint8_t *b;

	for (i = 0; i < 3000; i++) {
		uint32_t n = (i * 37) % 2048;
		struct vsock_hdr h = { 3, 2, 1024, 1234, n, 1,
		    VIRTIO_VSOCK_OP_RW, 0, 262144, 0 };

		raw[i].data = rec[i];
		raw[i].caplen = raw[i].len = pu_record(rec[i], &h, zero, n);
	}
	pu_write_raw(path, DLT_VSOCK, raw, 3000);
	b = pu_read_file(path, &len);
	for (variant = 0; variant < 4; variant++) {
		struct vsock_pcap_reader *rd;
		struct vsock_pcap_frame f;
		struct pcap_pkthdr *ph;
		const u_char *data;
		pcap_t *p;
		uint8_t *v = malloc(len);

		ck_assert_ptr_nonnull(v);
		memcpy(v, b, len);
		/* Stamps with odd microseconds; 1: nanoseconds; 2: snaplen 500. */
		for (i = 0; i < 3000; i++) {
			size_t off = 24;
			unsigned k;

			for (k = 0; k < i; k++)
				off += 16 + raw[k].caplen;
			vse_put_le32(v + off + 4, i * 999 + 1);
		}
		if (variant == 1)
			vse_put_le32(v, 0xa1b23c4d);
		if (variant == 2)
			vse_put_le32(v + 16, 500);
		if (variant == 3)
			to_big_endian(v, len);
		pu_write_file(path, v, len);
		free(v);
		ck_assert_err(vsock_pcap_reader_open(path, 0, &rd, msg,
		    sizeof(msg)), 0);
		p = pcap_open_offline_with_tstamp_precision(path,
		    PCAP_TSTAMP_PRECISION_NANO, err);
		ck_assert_msg(p != NULL, "%s", err);
		for (i = 0; pcap_next_ex(p, &ph, &data) == 1; i++) {
			int e = vsock_pcap_reader_next(rd, &f, msg, sizeof(msg));

			if (variant == 2 && ph->caplen < ph->len) {
				/* Cut by the snaplen: the same error, once. */
				ck_assert_err(e, -VSE_ERR_PCAP_CAPLEN);
				break;
			}
			ck_assert_msg(e == 1, "variant %u record %u: %s",
			    variant, i, msg);
			ck_assert_uint_eq(f.ts_ns, (uint64_t)ph->ts.tv_sec *
			    1000000000u + (uint64_t)ph->ts.tv_usec);
			ck_assert_uint_eq(f.cap_len, ph->caplen);
			ck_assert_uint_eq(f.orig_len, ph->len);
			ck_assert_int_eq(memcmp(f.raw, data +
			    VSOCKMON_HDR_SIZE, VSOCK_HDR_SIZE), 0);
		}
		if (variant != 2) {
			ck_assert_uint_eq(i, 3000);
			ck_assert_int_eq(vsock_pcap_reader_next(rd, &f, msg,
			    sizeof(msg)), 0);
		}
		pcap_close(p);
		vsock_pcap_reader_close(rd);
	}
	free(b);
}
END_TEST

START_TEST(test_error_is_sticky)
{
	static uint8_t bad[VSOCKMON_RECORD_MIN + 16];
	struct pu_raw raw = lie_record(&lies[2], bad);
	struct vsock_pcap_reader *rd;
	struct vsock_pcap_frame f;
	const char *path = pu_tmp("sticky.pcap");
	char msg[256];

	pu_write_raw(path, DLT_VSOCK, &raw, 1);
	ck_assert_err(vsock_pcap_reader_open(path, 0, &rd, msg, sizeof(msg)), 0);
	ck_assert_err(vsock_pcap_reader_next(rd, &f, msg, sizeof(msg)),
	    -VSE_ERR_PCAP_PAYLOAD_LEN);
	ck_assert_msg(strstr(msg, "len 10") != NULL &&
	    strstr(msg, "6 payload bytes") != NULL, "%s", msg);
	msg[0] = '\0';
	ck_assert_err(vsock_pcap_reader_next(rd, &f, msg, sizeof(msg)),
	    -VSE_ERR_PCAP_PAYLOAD_LEN);
	ck_assert_msg(strstr(msg, ": frame 1:") != NULL, "%s", msg);
	vsock_pcap_reader_close(rd);
	vsock_pcap_reader_close(NULL);
}
END_TEST

START_TEST(test_parse_bounds)
{
	static uint8_t rec[VSOCKMON_RECORD_MIN + 8];
	struct vsock_hdr h = { 3, 2, 1024, 1234, 8, 1, 5, 0, 262144, 0 };
	struct vsock_pcap_frame f;
	uint32_t n = pu_record(rec, &h, (const uint8_t *)"12345678", 8), c;
	uint8_t *exact;

	/* Every length short of the headers, each in its own exact buffer. */
	for (c = 0; c < VSOCKMON_RECORD_MIN; c++) {
		exact = malloc(c > 0 ? c : 1);
		memcpy(exact, rec, c);
		ck_assert_err(vsock_pcap_parse_record(exact, c, c, 0, &f),
		    -VSE_ERR_PCAP_SHORT);
		free(exact);
	}
	for (c = VSOCKMON_RECORD_MIN; c <= n; c++) {
		exact = malloc(c);
		memcpy(exact, rec, c);
		ck_assert_err(vsock_pcap_parse_record(exact, c, c, 0, &f),
		    c == n ? 0 : -VSE_ERR_PCAP_PAYLOAD_LEN);
		/* Claimed longer than captured: the cut is found first. */
		ck_assert_err(vsock_pcap_parse_record(exact, c, UINT32_MAX, 0,
		    &f), -VSE_ERR_PCAP_CAPLEN);
		free(exact);
	}
	ck_assert_err(vsock_pcap_parse_record(NULL, 0, 0, 0, &f),
	    -VSE_ERR_PCAP_SHORT);
	/* A claimed len of 4 GiB against 8 bytes carried. */
	vse_put_le32(rec + VSOCKMON_HDR_SIZE + VSOCK_HDR_OFF_LEN, UINT32_MAX);
	ck_assert_err(vsock_pcap_parse_record(rec, n, n, 0, &f),
	    -VSE_ERR_PCAP_PAYLOAD_LEN);
}
END_TEST

/* A kernel-style capture of one host->guest RW: len 4, 10 payload bytes. */
static const char *
split_capture(uint16_t src_cid)
{
	static uint8_t rec[VSOCKMON_RECORD_MIN + 10];
	struct vsock_hdr h = { src_cid, 3, 1234, 1024, 4, 1, 5, 0, 262144, 0 };
	struct pu_raw raw = { rec, 0, 0 };
	const char *path = pu_tmp("split.pcap");

	raw.caplen = raw.len = pu_record(rec, &h, (const uint8_t *)"0123456789",
	    10);
	pu_write_raw(path, DLT_VSOCK, &raw, 1);
	return path;
}

START_TEST(test_split_tap)
{
	struct vsock_pcap_reader *rd;
	struct vsock_pcap_frame f;
	struct pu_result res;
	const char *path = split_capture(VMADDR_CID_HOST);
	char msg[256];

	ck_assert_err(vsock_pcap_reader_open(path, 0, &rd, msg, sizeof(msg)), 0);
	ck_assert_int_eq(vsock_pcap_reader_next(rd, &f, msg, sizeof(msg)), 1);
	ck_assert(f.split_tap && f.to_guest);
	ck_assert_uint_eq(f.hdr.len, 4);
	ck_assert_uint_eq(f.payload_len, 10);
	ck_assert_uint_eq(f.tapped_len, 10);
	vsock_pcap_reader_close(rd);

	ck_assert_err(vsock_pcap_reader_open(path, VSOCK_PCAP_TRIM_SPLIT, &rd,
	    msg, sizeof(msg)), 0);
	ck_assert_int_eq(vsock_pcap_reader_next(rd, &f, msg, sizeof(msg)), 1);
	ck_assert(f.split_tap);
	ck_assert_uint_eq(f.payload_len, 4);
	ck_assert_uint_eq(f.tapped_len, 10);
	ck_assert_mem_eq(f.payload, "0123", 4);
	ck_assert_int_eq(vsock_pcap_reader_next(rd, &f, msg, sizeof(msg)), 0);
	vsock_pcap_reader_close(rd);

	/* The same excess from the guest side is no known bug: refused. */
	path = split_capture(PU_GUEST_CID);
	pu_read_all(path, VSOCK_PCAP_TRIM_SPLIT, &res);
	ck_assert_err(res.err, -VSE_ERR_PCAP_PAYLOAD_LEN);
}
END_TEST

/*
 * A record cut by the snapshot length (tcpdump -s 76): with
 * VSOCK_PCAP_ACCEPT_CUT it is a frame flagged cut, holding what was
 * captured; without, the cut is refused as ever.
 */
static int
parse_cut(const struct vsock_hdr *h, uint32_t caplen, uint32_t orig_len,
    unsigned flags, struct vsock_pcap_frame *f)
{
	static uint8_t rec[VSOCKMON_RECORD_MIN + 64];
	static uint8_t pay[64];
	uint8_t *exact;
	int e;

	memset(pay, 'p', sizeof(pay));
	ck_assert_uint_le(caplen, sizeof(rec));
	(void)pu_record(rec, h, pay, caplen > VSOCKMON_RECORD_MIN ?
	    caplen - VSOCKMON_RECORD_MIN : 0);
	/* In its own exact buffer: ASan sees any read past caplen. */
	exact = malloc(caplen > 0 ? caplen : 1);
	memcpy(exact, rec, caplen);
	e = vsock_pcap_parse_record(exact, caplen, orig_len, flags, f);
	free(exact);
	f->payload = NULL;		/* freed */
	return e;
}

START_TEST(test_cut_record_accepted)
{
	struct vsock_hdr h = { 3, 2, 1024, 1234, 65536, 1, 5, 0, 262144, 0 };
	struct vsock_pcap_frame f;
	uint32_t full = VSOCKMON_RECORD_MIN + 65536;

	/* Headers only, as the wrap captures are: refused without the flag. */
	ck_assert_err(parse_cut(&h, VSOCKMON_RECORD_MIN, full, 0, &f),
	    -VSE_ERR_PCAP_CAPLEN);
	ck_assert_err(parse_cut(&h, VSOCKMON_RECORD_MIN, full,
	    VSOCK_PCAP_TRIM_SPLIT, &f), -VSE_ERR_PCAP_CAPLEN);
	ck_assert_err(parse_cut(&h, VSOCKMON_RECORD_MIN, full,
	    VSOCK_PCAP_ACCEPT_CUT, &f), 0);
	ck_assert(f.cut && !f.split_tap && !f.to_guest);
	ck_assert_uint_eq(f.hdr.len, 65536);
	ck_assert_uint_eq(f.payload_len, 0);
	ck_assert_uint_eq(f.tapped_len, 0);
	ck_assert_uint_eq(f.cap_len, VSOCKMON_RECORD_MIN);
	ck_assert_uint_eq(f.orig_len, full);
	/* Part of the payload captured: kept, still cut. */
	ck_assert_err(parse_cut(&h, VSOCKMON_RECORD_MIN + 16, full,
	    VSOCK_PCAP_ACCEPT_CUT | VSOCK_PCAP_TRIM_SPLIT, &f), 0);
	ck_assert(f.cut);
	ck_assert_uint_eq(f.payload_len, 16);
	/* A whole record is not cut. */
	h.len = 16;
	ck_assert_err(parse_cut(&h, VSOCKMON_RECORD_MIN + 16,
	    VSOCKMON_RECORD_MIN + 16, VSOCK_PCAP_ACCEPT_CUT, &f), 0);
	ck_assert(!f.cut);
	/* Linux 6.1's split tap, cut: inside len, or after it. */
	h = (struct vsock_hdr){ 2, 3, 1234, 1024, 4096, 1, 5, 0, 262144, 0 };
	ck_assert_err(parse_cut(&h, VSOCKMON_RECORD_MIN,
	    VSOCKMON_RECORD_MIN + 8192, VSOCK_PCAP_ACCEPT_CUT, &f), 0);
	ck_assert(f.cut && f.to_guest && !f.split_tap);
	h.len = 10;
	ck_assert_err(parse_cut(&h, VSOCKMON_RECORD_MIN + 64,
	    VSOCKMON_RECORD_MIN + 8192, VSOCK_PCAP_ACCEPT_CUT |
	    VSOCK_PCAP_TRIM_SPLIT, &f), 0);
	ck_assert(!f.cut && f.split_tap);
	ck_assert_uint_eq(f.payload_len, 10);
}
END_TEST

/*
 * What the flag still refuses: a cut inside the headers, lengths that
 * disagree, and a len no packet can have (so no reader of a 76-byte record
 * is asked to make up 4 GiB).
 */
START_TEST(test_cut_record_refused)
{
	struct vsock_hdr h = { 3, 2, 1024, 1234, 4096, 1, 5, 0, 262144, 0 };
	struct vsock_pcap_frame f;
	unsigned fl = VSOCK_PCAP_ACCEPT_CUT | VSOCK_PCAP_TRIM_SPLIT;
	uint32_t c;

	for (c = 0; c < VSOCKMON_RECORD_MIN; c++)
		ck_assert_err(parse_cut(&h, c, VSOCKMON_RECORD_MIN + 4096, fl,
		    &f), -VSE_ERR_PCAP_SHORT);
	/* The pcap len says more, or less, than the header's len. */
	ck_assert_err(parse_cut(&h, VSOCKMON_RECORD_MIN,
	    VSOCKMON_RECORD_MIN + 4097, fl, &f), -VSE_ERR_PCAP_CAPLEN);
	ck_assert_err(parse_cut(&h, VSOCKMON_RECORD_MIN,
	    VSOCKMON_RECORD_MIN + 4095, fl, &f), -VSE_ERR_PCAP_CAPLEN);
	ck_assert_err(parse_cut(&h, VSOCKMON_RECORD_MIN, UINT32_MAX, fl, &f),
	    -VSE_ERR_PCAP_CAPLEN);
	/* More than one packet's payload. */
	h.len = VIRTIO_VSOCK_MAX_PKT_BUF_SIZE + 1;
	ck_assert_err(parse_cut(&h, VSOCKMON_RECORD_MIN,
	    VSOCKMON_RECORD_MIN + h.len, fl, &f), -VSE_ERR_PCAP_CAPLEN);
	h.len = UINT32_MAX - VSOCKMON_RECORD_MIN;
	ck_assert_err(parse_cut(&h, VSOCKMON_RECORD_MIN, UINT32_MAX, fl, &f),
	    -VSE_ERR_PCAP_CAPLEN);
	/* The split tap's excess only from the host, only on an RW. */
	h = (struct vsock_hdr){ 2, 3, 1234, 1024, 4096, 1, 6, 0, 262144, 0 };
	ck_assert_err(parse_cut(&h, VSOCKMON_RECORD_MIN,
	    VSOCKMON_RECORD_MIN + 8192, fl, &f), -VSE_ERR_PCAP_CAPLEN);
}
END_TEST

/* A whole file of them: frame 2 cut, read to its end only with the flag. */
START_TEST(test_cut_capture_read)
{
	static uint8_t rec[2][VSOCKMON_RECORD_MIN];
	struct vsock_hdr h = { 3, 2, 1024, 1234, 0, 1, 1, 0, 262144, 0 };
	struct pu_raw raw[2];
	struct pu_result res;
	const char *path = pu_tmp("cut.pcap");

	raw[0].data = rec[0];
	raw[0].caplen = raw[0].len = pu_record(rec[0], &h, NULL, 0);
	h.op = VIRTIO_VSOCK_OP_RW;
	h.len = 65536;
	raw[1].data = rec[1];
	raw[1].caplen = pu_record(rec[1], &h, NULL, 0);
	raw[1].len = VSOCKMON_RECORD_MIN + 65536;
	pu_write_raw(path, DLT_VSOCK, raw, 2);
	pu_read_all(path, VSOCK_PCAP_TRIM_SPLIT, &res);
	ck_assert_err(res.err, -VSE_ERR_PCAP_CAPLEN);
	ck_assert_msg(strstr(res.msg, ": frame 2: record cut to 76 of its "
	    "65612 bytes") != NULL, "%s", res.msg);
	pu_read_all(path, VSOCK_PCAP_TRIM_SPLIT | VSOCK_PCAP_ACCEPT_CUT, &res);
	ck_assert_msg(res.err == 0 && res.frames == 2, "%s", res.msg);
}
END_TEST

/* --- the test rigs' flight recorder (tests/flight.c) --- */

#define FAKE_RUNNER	4242L

/* Frames in the capture at path, the first two ops in ops[]. */
static unsigned
frames_in(const char *path, uint16_t ops[2])
{
	struct vsock_pcap_reader *rd;
	struct vsock_pcap_frame f;
	char msg[256];
	unsigned n = 0;
	int rc;

	ck_assert_msg(vsock_pcap_reader_open(path, 0, &rd, msg,
	    sizeof(msg)) == 0, "%s", msg);
	while ((rc = vsock_pcap_reader_next(rd, &f, msg, sizeof(msg))) == 1) {
		if (n < 2)
			ops[n] = f.hdr.op;
		n++;
	}
	ck_assert_msg(rc == 0, "%s", msg);	/* a sound file to its end */
	vsock_pcap_reader_close(rd);
	return n;
}

/*
 * A wire rig's test in a child that exits as Check's does on a failed
 * assertion (_exit, no teardown) or after freeing its rig.
 */
static pid_t
child_test(const char *dir, bool finish)
{
	struct wire *w;
	struct vsock_hdr h;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid > 0)
		return pid;
	setenv("VSE_FLIGHT_DIR", dir, 1);
	flight_runner = FAKE_RUNNER;
	w = wire_new();
	h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, 1024, 9999);	/* no listener */
	wire_send(w, &h, NULL);
	wire_expect(w, VIRTIO_VSOCK_OP_RST);
	if (finish)
		wire_free(w);
	_exit(finish ? 0 : 1);
}

START_TEST(test_flight_kept_when_test_dies)
{
	char dir[] = "/tmp/vse-flight-XXXXXX", path[256], cmd[300];
	uint16_t ops[2];
	pid_t pid;
	int st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	pid = child_test(dir, false);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(flight_collect(dir, FAKE_RUNNER + 1), 0); /* not ours */
	ck_assert_int_eq(flight_collect(dir, FAKE_RUNNER), 1);
	snprintf(path, sizeof(path), "%s/%s-%ld.pcap", dir, tcase_name(),
	    (long)pid);
	ck_assert_uint_eq(frames_in(path, ops), 2);
	ck_assert_uint_eq(ops[0], VIRTIO_VSOCK_OP_REQUEST);
	ck_assert_uint_eq(ops[1], VIRTIO_VSOCK_OP_RST);
	/* Collected once: the ring is gone. */
	ck_assert_int_eq(flight_collect(dir, FAKE_RUNNER), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_flight_dropped_when_test_finishes)
{
	char dir[] = "/tmp/vse-flight-XXXXXX";
	pid_t pid;
	int st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	pid = child_test(dir, true);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(flight_collect(dir, FAKE_RUNNER), 0);
	ck_assert_int_eq(rmdir(dir), 0);	/* nothing left in it */
}
END_TEST

/* More packets than slots: the last FLIGHT_SLOTS, oldest first. */
START_TEST(test_flight_keeps_the_last)
{
	char dir[] = "/tmp/vse-flight-XXXXXX", path[256];
	struct vsock_pcap_reader *rd;
	struct vsock_pcap_frame f;
	struct flight *fl;
	struct pu_rec r;
	char msg[256];
	unsigned i, n = FLIGHT_SLOTS + 72;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	fl = flight_open_in(dir, FAKE_RUNNER, "wrap");
	ck_assert_ptr_nonnull(fl);
	for (i = 0; i < n; i++) {
		pu_rec_make(&r, VSOCK_TAP_GUEST_TO_HOST, 1, VIRTIO_VSOCK_OP_RW,
		    0, i % 7, (uint64_t)i * 1000, i);
		flight_tap(fl, &r.rec);
		pu_rec_free(&r);
	}
	ck_assert_int_eq(flight_collect(dir, FAKE_RUNNER), 1);
	flight_close(fl);
	snprintf(path, sizeof(path), "%s/wrap-%ld.pcap", dir, (long)getpid());
	ck_assert_err(vsock_pcap_reader_open(path, 0, &rd, msg, sizeof(msg)), 0);
	for (i = n - FLIGHT_SLOTS; i < n; i++) {
		ck_assert_int_eq(vsock_pcap_reader_next(rd, &f, msg,
		    sizeof(msg)), 1);
		ck_assert_uint_eq(f.hdr.len, i % 7);
		ck_assert_uint_eq(f.ts_ns, (uint64_t)i * 1000);
	}
	ck_assert_int_eq(vsock_pcap_reader_next(rd, &f, msg, sizeof(msg)), 0);
	vsock_pcap_reader_close(rd);
	unlink(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static Suite *
pcap_suite(void)
{
	Suite *s = suite_create("pcap");
	TCase *tc;

	pu_tmpdir_init();
	tc = tcase_create("vsockmon");
	tcase_add_test(tc, test_mon_decode_known);
	tcase_add_test(tc, test_mon_fields_little_endian);
	tcase_add_test(tc, test_mon_op_mapping);
	tcase_add_test(tc, test_mon_from_virtio);
	suite_add_tcase(s, tc);

	tc = tcase_create("writer");
	tcase_add_test(tc, test_writer_roundtrip);
	tcase_add_test(tc, test_writer_snaplen_cut);
	tcase_add_test(tc, test_writer_flushes_each_record);
	tcase_add_test(tc, test_writer_open_error);
	tcase_add_test(tc, test_writer_write_error_sticky);
	tcase_add_test(tc, test_writer_reader_gone);
	tcase_add_test(tc, test_writer_stdout);
	suite_add_tcase(s, tc);

	tc = tcase_create("reader");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_vector_frames);
	tcase_add_test(tc, test_truncated_vector);
	tcase_add_test(tc, test_truncated_own_pcap);
	tcase_add_test(tc, test_not_a_capture);
	tcase_add_test(tc, test_bad_linktype);
	tcase_add_test(tc, test_reads_a_pipe);
	tcase_add_test(tc, test_open_errors_in_our_words);
	tcase_add_test(tc, test_record_errors_in_our_words);
	tcase_add_loop_test(tc, test_lying_lengths, 0,
	    sizeof(lies) / sizeof(lies[0]));
	tcase_add_test(tc, test_error_is_sticky);
	tcase_add_test(tc, test_native_records_as_libpcap_reads_them);
	tcase_add_test(tc, test_parse_bounds);
	tcase_add_test(tc, test_split_tap);
	tcase_add_test(tc, test_cut_record_accepted);
	tcase_add_test(tc, test_cut_record_refused);
	tcase_add_test(tc, test_cut_capture_read);
	suite_add_tcase(s, tc);

	tc = tcase_create("flight");
	tcase_add_test(tc, test_flight_kept_when_test_dies);
	tcase_add_test(tc, test_flight_dropped_when_test_finishes);
	tcase_add_test(tc, test_flight_keeps_the_last);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(pcap_suite)

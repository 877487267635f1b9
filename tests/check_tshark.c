/* check_tshark.c - Wireshark's vsock dissector reads what the writer wrote, field for field. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "pcap-util.h"
#include "pcap-writer.h"

/*
 * The field names are tshark 4.0's (`tshark -G fields | grep vsock`): the
 * af_vsockmon_hdr is vsock.*, the virtio header vsock.virtio.* (its ports
 * spelled "src_prot"/"dst_prot"), the payload vsock.payload.
 */
static const char *const fields[] = {
	"frame.time_epoch", "vsock.src_cid", "vsock.dst_cid", "vsock.src_port",
	"vsock.dst_port", "vsock.op", "vsock.trans", "vsock.trans_len",
	"vsock.virtio.src_cid", "vsock.virtio.dst_cid", "vsock.virtio.src_prot",
	"vsock.virtio.dst_prot", "vsock.virtio.len", "vsock.virtio.type",
	"vsock.virtio.op", "vsock.virtio.flags", "vsock.virtio.buf_alloc",
	"vsock.virtio.fwd_cnt", "vsock.payload",
};

#define NRECS	40

/* The line tshark must print for r: the fields above, tab-separated. */
static void
expected_line(const struct vsock_tap_record *r, char *buf, size_t len)
{
	const struct vsock_hdr *h = &r->hdr;
	size_t off;
	uint32_t i;

	off = (size_t)snprintf(buf, len, "%" PRIu64 ".%06" PRIu64 "000\t"
	    "%" PRIu64 "\t%" PRIu64 "\t%" PRIu32 "\t%" PRIu32 "\t%u\t2\t44\t"
	    "%" PRIu64 "\t%" PRIu64 "\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu32
	    "\t%u\t%u\t0x%08" PRIx32 "\t%" PRIu32 "\t%" PRIu32 "\t",
	    r->now / VSOCK_NS_PER_SEC, r->now % VSOCK_NS_PER_SEC / 1000,
	    h->src_cid, h->dst_cid, h->src_port, h->dst_port,
	    vsockmon_op_from_virtio(h->op), h->src_cid, h->dst_cid,
	    h->src_port, h->dst_port, h->len, h->type, h->op, h->flags,
	    h->buf_alloc, h->fwd_cnt);
	for (i = 0; i < r->payload_len && off + 3 < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%02x",
		    r->payload[i]);
}

/* Runs tshark over path into a malloc'd buffer of its whole output. */
static char *
run_tshark(const char *path)
{
	char cmd[2048], *out = NULL;
	size_t off, n, size = 0;
	unsigned i;
	FILE *p;

	off = (size_t)snprintf(cmd, sizeof(cmd), "LC_ALL=C tshark -n -r '%s' "
	    "-T fields -E separator=/t -E occurrence=f", path);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		off += (size_t)snprintf(cmd + off, sizeof(cmd) - off, " -e %s",
		    fields[i]);
	snprintf(cmd + off, sizeof(cmd) - off, " 2>/dev/null");
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	for (off = 0;; off += n) {
		if (off + 65536 > size) {
			size = size * 2 + 65536;
			out = realloc(out, size + 1);
			ck_assert_ptr_nonnull(out);
		}
		if ((n = fread(out + off, 1, size - off, p)) == 0)
			break;
	}
	out[off] = '\0';
	ck_assert_int_eq(pclose(p), 0);
	return out;
}

START_TEST(test_tshark_reads_writer_output)
{
	static struct pu_rec r[NRECS];
	static char want[2 * 70000 + 512];
	static const uint32_t sizes[] = { 0, 1, 6, 1000, 65536 };
	struct vsock_pcap_writer *w;
	const char *path = pu_tmp("tshark.pcap");
	char msg[256], *out, *line, *save = NULL;
	uint64_t now = UINT64_C(1700000000) * VSOCK_NS_PER_SEC;
	unsigned i;

	ck_assert_err(vsock_pcap_writer_open(path, &w, msg, sizeof(msg)), 0);
	for (i = 0; i < NRECS; i++) {
		uint16_t op = (uint16_t)(1 + i % 7), type = (uint16_t)(1 + i / 20);
		uint32_t len = op == VIRTIO_VSOCK_OP_RW ? sizes[i / 7 % 5] : 0;

		now += 1234567891;	/* ns part is cut to 567 us */
		pu_rec_make(&r[i], (enum vsock_tap_dir)(i & 1), type, op,
		    op == VIRTIO_VSOCK_OP_SHUTDOWN ? 3 : 0, len, now, i);
		ck_assert_err(vsock_pcap_writer_write(w, &r[i].rec), 0);
	}
	ck_assert_err(vsock_pcap_writer_close(w), 0);
	out = run_tshark(path);
	for (i = 0; i < NRECS; i++) {
		line = strtok_r(i == 0 ? out : NULL, "\n", &save);
		ck_assert_msg(line != NULL, "tshark printed %u lines", i);
		expected_line(&r[i].rec, want, sizeof(want));
		ck_assert_msg(strcmp(line, want) == 0,
		    "frame %u:\n tshark: %.300s\n wrote:  %.300s", i + 1, line,
		    want);
		pu_rec_free(&r[i]);
	}
	ck_assert_ptr_null(strtok_r(NULL, "\n", &save));
	free(out);
}
END_TEST

/* Is there an executable tshark on PATH? */
static int
have_tshark(void)
{
	const char *path = getenv("PATH");
	char dir[4096], file[4200];
	size_t n;

	while (path != NULL && *path != '\0') {
		n = strcspn(path, ":");
		snprintf(dir, sizeof(dir), "%.*s", (int)n, path);
		snprintf(file, sizeof(file), "%s/tshark", n > 0 ? dir : ".");
		if (access(file, X_OK) == 0)
			return 1;
		path += n + (path[n] == ':');
	}
	return 0;
}

static Suite *
tshark_suite(void)
{
	Suite *s = suite_create("tshark");
	TCase *tc = tcase_create("crosscheck");

	pu_tmpdir_init();
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_tshark_reads_writer_output);
	suite_add_tcase(s, tc);
	return s;
}

/* Without tshark the cross-check cannot run: SKIP (77), never PASS. */
int
main(void)
{
	if (!have_tshark()) {
		printf("SKIP: tshark not found on PATH\n");
		return 77;
	}
	return run_suite(tshark_suite());
}

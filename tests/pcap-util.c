/* pcap-util.c - capture fixtures for the pcap suites. */
#include "config.h"

#include <check.h>
#include <ftw.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcap-util.h"

static char pu_dir[256];
static pid_t pu_owner;

/* nftw callback: removes one entry of the temp tree. */
static int
pu_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes the temp dir, but only in the process that made it (Check forks). */
static void
pu_tmpdir_cleanup(void)
{
	if (pu_dir[0] != '\0' && getpid() == pu_owner)
		nftw(pu_dir, pu_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* One temp dir per test program, made before Check forks. */
void
pu_tmpdir_init(void)
{
	const char *base = getenv("TMPDIR");

	if (pu_dir[0] != '\0')
		return;
	snprintf(pu_dir, sizeof(pu_dir), "%s/vse-pcap-XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	if (mkdtemp(pu_dir) == NULL) {
		perror("mkdtemp");
		exit(99);	/* automake: a hard error, not a failure */
	}
	pu_owner = getpid();
	atexit(pu_tmpdir_cleanup);
}

/* A path in the temp dir; four rotating buffers let a call use several. */
const char *
pu_tmp(const char *name)
{
	static char buf[4][512];
	static unsigned slot;
	char *p = buf[slot++ % 4];

	snprintf(p, 512, "%s/%s", pu_dir, name);
	return p;
}

/* A test vector in the source tree (distcheck: a read-only srcdir). */
const char *
pu_vector(const char *name)
{
	static char buf[1024];
	const char *top = getenv("top_srcdir");

	snprintf(buf, sizeof(buf), "%s/testvectors/%s",
	    top != NULL && *top != '\0' ? top : ".", name);
	return buf;
}

/* A tap record as the device would report it, payload patterned by seed. */
void
pu_rec_make(struct pu_rec *r, enum vsock_tap_dir dir, uint16_t type,
    uint16_t op, uint32_t flags, uint32_t payload_len, uint64_t now,
    unsigned seed)
{
	struct vsock_hdr *h = &r->rec.hdr;
	bool to_guest = dir == VSOCK_TAP_HOST_TO_GUEST;
	uint32_t i;

	memset(r, 0, sizeof(*r));
	r->buf = malloc(payload_len > 0 ? payload_len : 1);
	ck_assert_ptr_nonnull(r->buf);
	for (i = 0; i < payload_len; i++)
		r->buf[i] = (uint8_t)(i * 7 + seed);
	r->rec.dir = dir;
	r->rec.now = now;
	h->src_cid = to_guest ? VMADDR_CID_HOST : PU_GUEST_CID;
	h->dst_cid = to_guest ? PU_GUEST_CID : VMADDR_CID_HOST;
	h->src_port = to_guest ? 1234 : 1024;
	h->dst_port = to_guest ? 1024 : 1234;
	h->len = payload_len;
	h->type = type;
	h->op = op;
	h->flags = flags;
	h->buf_alloc = 262144 + seed;
	h->fwd_cnt = seed * 1000;
	vsock_hdr_encode(h, r->rec.raw);
	r->rec.payload = r->buf;
	r->rec.payload_len = payload_len;
}

/* Keeps raw in step with a hand-edited hdr. */
void
pu_rec_reencode(struct pu_rec *r)
{
	vsock_hdr_encode(&r->rec.hdr, r->rec.raw);
}

/* Releases a record's payload. */
void
pu_rec_free(struct pu_rec *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* A kernel-style record: vsockmon header, virtio header, payload. */
uint32_t
pu_record(uint8_t *out, const struct vsock_hdr *h, const uint8_t *payload,
    uint32_t n)
{
	struct vsockmon_hdr m;

	vsockmon_hdr_from_virtio(h, 0, &m);
	vsockmon_hdr_encode(&m, out);
	vsock_hdr_encode(h, out + VSOCKMON_HDR_SIZE);
	if (n > 0)
		memcpy(out + VSOCKMON_RECORD_MIN, payload, n);
	return VSOCKMON_RECORD_MIN + n;
}

/* Writes records with any link type and any caplen/len, lies included. */
void
pu_write_raw(const char *path, int dlt, const struct pu_raw *recs, size_t n)
{
	pcap_t *p = pcap_open_dead(dlt, 262144);
	pcap_dumper_t *d;
	size_t i;

	ck_assert_ptr_nonnull(p);
	d = pcap_dump_open(p, path);
	ck_assert_msg(d != NULL, "pcap_dump_open %s: %s", path, pcap_geterr(p));
	for (i = 0; i < n; i++) {
		struct pcap_pkthdr ph;

		memset(&ph, 0, sizeof(ph));
		ph.ts.tv_sec = 1000 + (time_t)i;
		ph.caplen = recs[i].caplen;
		ph.len = recs[i].len;
		pcap_dump((u_char *)d, &ph, recs[i].data);
	}
	pcap_dump_close(d);
	pcap_close(p);
}

/* Writes bytes to a file, asserting every step. */
void
pu_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Slurps a whole file. */
uint8_t *
pu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Reads a capture to its end or first error, counting frames. */
void
pu_read_all(const char *path, unsigned flags, struct pu_result *res)
{
	struct vsock_pcap_reader *r;
	struct vsock_pcap_frame f;
	int e;

	memset(res, 0, sizeof(*res));
	res->open_err = vsock_pcap_reader_open(path, flags, &r, res->msg,
	    sizeof(res->msg));
	if (res->open_err < 0)
		return;
	while ((e = vsock_pcap_reader_next(r, &f, res->msg,
	    sizeof(res->msg))) == 1)
		res->frames++;
	res->err = e;
	vsock_pcap_reader_close(r);
}

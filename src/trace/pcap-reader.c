/* pcap-reader.c - read LINKTYPE_VSOCK captures through libpcap, one validated frame at a time. */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>
#include <zlib.h>

#include "error.h"
#include "pcap-reader.h"

struct vsock_pcap_reader {
	pcap_t *p;
	char *path;		/* for messages */
	unsigned flags;
	uint64_t frames;	/* frames returned so far */
	int err;		/* sticky: once broken, always broken */
	char errmsg[512];
};

/* Copies the reader's sticky message out, if the caller gave room. */
static void
reader_msg(const struct vsock_pcap_reader *r, char *msg, size_t msglen)
{
	if (msg != NULL && msglen > 0)
		snprintf(msg, msglen, "%s", r->errmsg);
}

/* Makes err sticky with "PATH: frame N: why" and hands it out. */
static int
reader_fail(struct vsock_pcap_reader *r, int err, const char *why,
    char *msg, size_t msglen)
{
	r->err = err;
	snprintf(r->errmsg, sizeof(r->errmsg), "%s: frame %" PRIu64 ": %s",
	    r->path, r->frames + 1, why);
	reader_msg(r, msg, msglen);
	return err;
}

/* Frees a reader in any state of construction. */
void
vsock_pcap_reader_close(struct vsock_pcap_reader *r)
{
	if (r == NULL)
		return;
	if (r->p != NULL)
		pcap_close(r->p);
	free(r->path);
	free(r);
}

/* Checks the capture's link type; anything but 271 is someone else's file. */
static int
reader_check_linktype(struct vsock_pcap_reader *r, char *msg, size_t msglen)
{
	int dlt = pcap_datalink(r->p);
	const char *name = pcap_datalink_val_to_name(dlt);

	if (dlt == DLT_VSOCK)
		return 0;
	if (msg != NULL && msglen > 0)
		snprintf(msg, msglen, "%s: link type %d (%s), not "
		    "LINKTYPE_VSOCK (%d): not a vsockmon capture", r->path,
		    dlt, name != NULL ? name : "unknown", LINKTYPE_VSOCK);
	return -VSE_ERR_PCAP_LINKTYPE;
}

/* zlib's reader behind a stdio stream, for libpcap. */
static ssize_t
gz_cookie_read(void *cookie, char *buf, size_t size)
{
	int n = gzread(cookie, buf, size > INT_MAX ? INT_MAX : (unsigned)size);

	return n < 0 ? -1 : n;
}

static int
gz_cookie_close(void *cookie)
{
	return gzclose(cookie) == Z_OK ? 0 : -1;
}

/*
 * Opens path for libpcap; a gzip-compressed capture (1f 8b) is read through
 * zlib, so bulk traces can be stored compressed with their full payload.
 */
static pcap_t *
open_maybe_gzip(const char *path, char *errbuf)
{
	static const cookie_io_functions_t gz_io = {
		.read = gz_cookie_read, .close = gz_cookie_close,
	};
	unsigned char magic[2];
	FILE *f = fopen(path, "rb"), *z;
	gzFile gz;
	pcap_t *p;

	if (f == NULL || fread(magic, 1, 2, f) != 2 || magic[0] != 0x1f ||
	    magic[1] != 0x8b) {
		if (f != NULL)
			fclose(f);
		return pcap_open_offline_with_tstamp_precision(path,
		    PCAP_TSTAMP_PRECISION_NANO, errbuf);
	}
	fclose(f);
	if ((gz = gzopen(path, "rb")) == NULL ||
	    (z = fopencookie(gz, "r", gz_io)) == NULL) {
		if (gz != NULL)
			gzclose(gz);
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "cannot read gzip data");
		return NULL;
	}
	p = pcap_fopen_offline_with_tstamp_precision(z,
	    PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (p == NULL)
		fclose(z);	/* libpcap closes it only on success */
	return p;
}

/*
 * libpcap checks the file header and, for pcapng, reads up to the first
 * interface description; we ask for nanoseconds so pcapng's are kept.
 */
int
vsock_pcap_reader_open(const char *path, unsigned flags,
    struct vsock_pcap_reader **out, char *msg, size_t msglen)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct vsock_pcap_reader *r;
	int e;

	if (out != NULL)
		*out = NULL;
	if (path == NULL || out == NULL)
		return -VSE_ERR_INVAL;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->path = strdup(path)) == NULL) {
		free(r);
		return -VSE_ERR_NOMEM;
	}
	r->flags = flags;
	r->p = open_maybe_gzip(path, errbuf);
	if (r->p == NULL) {
		if (msg != NULL && msglen > 0)
			snprintf(msg, msglen, "%s: not a readable pcap or "
			    "pcapng capture: %s", path, errbuf);
		vsock_pcap_reader_close(r);
		return -VSE_ERR_PCAP_FORMAT;
	}
	if ((e = reader_check_linktype(r, msg, msglen)) < 0) {
		vsock_pcap_reader_close(r);
		return e;
	}
	*out = r;
	return 0;
}

/* One record from libpcap, validated; the frame number counts good ones. */
int
vsock_pcap_reader_next(struct vsock_pcap_reader *r,
    struct vsock_pcap_frame *f, char *msg, size_t msglen)
{
	struct pcap_pkthdr *ph;
	const u_char *data;
	char why[384];
	int e;

	if (r->err != 0) {
		reader_msg(r, msg, msglen);
		return r->err;
	}
	e = pcap_next_ex(r->p, &ph, &data);
	if (e == PCAP_ERROR_BREAK)
		return 0;
	if (e != 1) {
		snprintf(why, sizeof(why), "unreadable record: %s",
		    pcap_geterr(r->p));
		return reader_fail(r, -VSE_ERR_PCAP_DAMAGED, why, msg, msglen);
	}
	e = vsock_pcap_parse_record(data, ph->caplen, ph->len, r->flags, f);
	if (e < 0) {
		vsock_pcap_describe(e, f, why, sizeof(why));
		return reader_fail(r, e, why, msg, msglen);
	}
	f->number = ++r->frames;
	/* Unsigned: a hostile negative or huge time wraps, never overflows. */
	f->ts_ns = (uint64_t)ph->ts.tv_sec * UINT64_C(1000000000) +
	    (uint64_t)ph->ts.tv_usec;
	return 1;
}

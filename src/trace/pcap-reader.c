/* pcap-reader.c - read LINKTYPE_VSOCK captures through libpcap, one validated frame at a time. */
#include "config.h"

#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "error.h"
#include "pcap-input.h"
#include "pcap-reader.h"

/*
 * Classic pcap records are read by us rather than by pcap_next_ex (which
 * copies each record twice through stdio): through this buffer, in chunks,
 * each record handed out where it lies. It holds the largest record.
 */
#define NATIVE_BUF	(512 * 1024)
#define NATIVE_HDR	16		/* a classic pcap record header */
#define MAX_CAPLEN	262144		/* libpcap's MAXIMUM_SNAPLEN */

struct vsock_pcap_reader {
	pcap_t *p;
	struct pcap_input *in;	/* owned by p's stream once p is open */
	char *path;		/* for messages */
	unsigned flags;
	uint64_t frames;	/* frames returned so far */
	int err;		/* sticky: once broken, always broken */
	char errmsg[512];
	/* Classic pcap 2.4 read natively (see native_next). */
	uint8_t *buf;		/* NULL: libpcap reads the records */
	size_t off, len;	/* unread bytes are buf[off .. len) */
	bool swapped, nsec;	/* other byte order; nanosecond stamps */
	bool direct;		/* records read past stdio (native_setup) */
	uint32_t snaplen;	/* the file's, as libpcap adjusted it */
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
		pcap_close(r->p);	/* closes the stream, which frees in */
	else
		pcap_input_free(r->in);
	free(r->buf);
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

/* The capture formats libpcap reads, told apart by their first bytes. */
enum reader_format {
	READER_NOT_A_CAPTURE = 0,
	READER_PCAP,
	READER_PCAPNG,
};

/* Classic pcap's magic (micro- or nanoseconds) in either byte order, or pcapng's. */
static enum reader_format
reader_magic(const uint8_t *b, size_t n)
{
	uint32_t le;

	if (n < 4)
		return READER_NOT_A_CAPTURE;
	le = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
	if (le == 0xa1b2c3d4 || le == 0xd4c3b2a1 || le == 0xa1b23c4d ||
	    le == 0x4d3cb2a1)
		return READER_PCAP;
	if (le == 0x0a0d0d0a)
		return READER_PCAPNG;
	return READER_NOT_A_CAPTURE;
}

/*
 * Judges the peeked first bytes before libpcap does, so that the common
 * mistakes get an answer in our words. Returns the format, or
 * READER_NOT_A_CAPTURE with why filled in.
 */
static enum reader_format
reader_sniff(const struct pcap_input *in, char *why, size_t len)
{
	size_t n, i, off;
	const uint8_t *b = pcap_input_head(in, &n);
	enum reader_format fmt = reader_magic(b, n);
	const char *gz = pcap_input_compressed(in) ? "gzip data holding " : "";

	if (n == 0) {
		snprintf(why, len, "%sno bytes at all: an empty file is not a "
		    "pcap or pcapng capture", gz);
	} else if (fmt == READER_NOT_A_CAPTURE) {
		off = (size_t)snprintf(why, len, "%snot a pcap or pcapng "
		    "capture (it begins", gz);
		for (i = 0; i < n && i < 4 && off < len; i++)
			off += (size_t)snprintf(why + off, len - off, " %02x",
			    b[i]);
		if (off < len)
			snprintf(why + off, len - off, ")");
	} else if (fmt == READER_PCAP && n < PCAP_INPUT_HEAD) {
		snprintf(why, len, "the data ends inside the pcap file header "
		    "(%zu of its %d bytes)", n, PCAP_INPUT_HEAD);
		fmt = READER_NOT_A_CAPTURE;
	}
	return fmt;
}

/*
 * libpcap refused what looked like a capture: why, in our words. Its own
 * message is only asked whether the data ran out ("truncated").
 */
static void
reader_open_failure(const struct pcap_input *in, enum reader_format fmt,
    const char *errbuf, char *why, size_t len)
{
	const char *what = fmt == READER_PCAP ? "pcap file header" :
	    "pcapng section header and interface description";

	if (pcap_input_state(in) > PCAP_INPUT_ENDED)
		pcap_input_describe(in, why, len);
	else if (strstr(errbuf, "truncated") != NULL)
		snprintf(why, len, "the data ends inside the %s", what);
	else
		snprintf(why, len, "a damaged %s, or a version vsockemu "
		    "cannot read", what);
}

/* Opens the input once and hands it to libpcap; 0 or an error with why. */
static int
reader_open_input(struct vsock_pcap_reader *r, const char *path, char *why,
    size_t len)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	enum reader_format fmt;
	FILE *f;

	if (pcap_input_open(path, &r->in, why, len) < 0)
		return -VSE_ERR_PCAP_FORMAT;
	if ((fmt = reader_sniff(r->in, why, len)) == READER_NOT_A_CAPTURE)
		return -VSE_ERR_PCAP_FORMAT;
	if ((f = pcap_input_stream(r->in)) == NULL)
		return -VSE_ERR_NOMEM;
	r->p = pcap_fopen_offline_with_tstamp_precision(f,
	    PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (r->p == NULL) {
		reader_open_failure(r->in, fmt, errbuf, why, len);
		fclose(f);	/* libpcap closes it only on success */
		r->in = NULL;	/* freed with the stream */
		return -VSE_ERR_PCAP_FORMAT;
	}
	return 0;
}

/* A 32-bit field of the file at b, in the file's byte order. */
static uint32_t
file32(const struct vsock_pcap_reader *r, const uint8_t *b)
{
	uint32_t v;

	/* One load, not four bytes shifted: four fields of every record. */
	memcpy(&v, b, sizeof(v));
	return r->swapped ? be32toh(v) : le32toh(v);
}

/*
 * A classic pcap file of version 2.4 (what every writer since 1998 makes)
 * has its records read by native_next once libpcap has accepted its header;
 * anything else stays with libpcap (older versions may swap caplen and len).
 * Without memory for the buffer libpcap reads them too.
 */
static void
native_setup(struct vsock_pcap_reader *r)
{
	size_t n;
	const uint8_t *b = pcap_input_head(r->in, &n);
	uint32_t magic = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
	    (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	uint16_t major, minor;

	if (n < PCAP_INPUT_HEAD || reader_magic(b, n) != READER_PCAP)
		return;
	r->swapped = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
	r->nsec = magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
	major = r->swapped ? (uint16_t)(b[4] << 8 | b[5]) :
	    (uint16_t)(b[5] << 8 | b[4]);
	minor = r->swapped ? (uint16_t)(b[6] << 8 | b[7]) :
	    (uint16_t)(b[7] << 8 | b[6]);
	if (major != 2 || minor != 4 || pcap_snapshot(r->p) <= 0)
		return;
	r->snaplen = (uint32_t)pcap_snapshot(r->p);
	r->buf = malloc(NATIVE_BUF);
	/*
	 * libpcap read the 24-byte file header through the stream and nothing
	 * more (sf-pcap.c: the magic, then the rest of the header). When that
	 * is all the stream was ever given (its first read got the peeked
	 * header alone), stdio holds no byte: the records can be read past it,
	 * straight into buf, which saves copying every byte through stdio's
	 * buffer in 8 KiB steps (about a fifth of reading a record). Not for
	 * gzip data: a damaged stream makes zlib drop all that the failing
	 * gzread had decompressed, so the frame that reports the damage
	 * depends on how much each read asks for, and stays stdio's.
	 */
	r->direct = !pcap_input_compressed(r->in) &&
	    pcap_input_delivered(r->in) == PCAP_INPUT_HEAD;
}

/*
 * Makes want bytes (at most NATIVE_BUF) readable at buf + off, moving what
 * is left to the front and reading on from libpcap's stream, which stands
 * just after the file header. Returns the bytes readable, fewer only at
 * the end of the data or on an error.
 */
static size_t
native_refill(struct vsock_pcap_reader *r, size_t want)
{
	FILE *f = pcap_file(r->p);
	ssize_t got;
	size_t n;

	memmove(r->buf, r->buf + r->off, r->len - r->off);
	r->len -= r->off;
	r->off = 0;
	if (r->direct) {
		/*
		 * All the room at once: zlib's pass-through reads a request of
		 * twice its 64 KiB buffer or more straight into ours, once it
		 * has handed out what its buffer still held (gz_read). Once
		 * ended or failed, never again (stdio's EOF is sticky).
		 */
		while (r->len < want && pcap_input_state(r->in) ==
		    PCAP_INPUT_OK && (got = pcap_input_read(r->in,
		    r->buf + r->len, NATIVE_BUF - r->len)) > 0)
			r->len += (size_t)got;
		return r->len;
	}
	while (r->len < want && (n = fread(r->buf + r->len, 1,
	    NATIVE_BUF - r->len, f)) > 0)
		r->len += n;
	return r->len;
}

/* Did reading the data fail (not merely end)? */
static bool
native_failed(struct vsock_pcap_reader *r)
{
	/* The stream's error flag is set exactly when a read returned -1. */
	return r->direct ? pcap_input_state(r->in) > PCAP_INPUT_ENDED :
	    ferror(pcap_file(r->p)) != 0;
}

/* native_refill's quick answer: mostly the record is in the buffer already. */
static inline size_t
native_fill(struct vsock_pcap_reader *r, size_t want)
{
	return r->len - r->off >= want ? r->len - r->off :
	    native_refill(r, want);
}

/*
 * The next classic pcap record, by the rules of libpcap's
 * pcap_next_packet() (sf-pcap.c): 1 with ph and data set (data stays valid
 * until the next call), 0 at the end of the data between records, -1 with
 * *cut set when the data ends inside a record. A caplen above 262144 is
 * damaged; one above the file's snaplen is cut to it, the rest skipped.
 * Time stamps are signed 32-bit fields; microseconds are scaled to
 * nanoseconds, as libpcap does for PCAP_TSTAMP_PRECISION_NANO.
 */
static int
native_next(struct vsock_pcap_reader *r, struct pcap_pkthdr *ph,
    const u_char **data, bool *cut)
{
	size_t have = native_fill(r, NATIVE_HDR);
	const uint8_t *h = r->buf + r->off;

	*cut = have > 0;
	if (have < NATIVE_HDR)
		return have == 0 && !native_failed(r) ? 0 : -1;
	ph->ts.tv_sec = (int32_t)file32(r, h);
	ph->ts.tv_usec = (int32_t)file32(r, h + 4);
	if (!r->nsec)
		ph->ts.tv_usec *= 1000;
	ph->caplen = file32(r, h + 8);
	ph->len = file32(r, h + 12);
	*cut = false;
	if (ph->caplen > MAX_CAPLEN)
		return -1;
	*cut = true;
	if (native_fill(r, NATIVE_HDR + ph->caplen) < NATIVE_HDR + ph->caplen)
		return -1;
	*data = r->buf + r->off + NATIVE_HDR;
	r->off += NATIVE_HDR + ph->caplen;
	if (ph->caplen > r->snaplen)
		ph->caplen = r->snaplen;
	return 1;
}

/*
 * The input is read exactly once, so pipes work; libpcap checks the file
 * header and, for pcapng, reads up to the first interface description; we
 * ask for nanoseconds so pcapng's are kept.
 */
int
vsock_pcap_reader_open(const char *path, unsigned flags,
    struct vsock_pcap_reader **out, char *msg, size_t msglen)
{
	struct vsock_pcap_reader *r;
	char why[384];
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
	if ((e = reader_open_input(r, path, why, sizeof(why))) < 0 ||
	    (e = reader_check_linktype(r, msg, msglen)) < 0) {
		if (e != -VSE_ERR_PCAP_LINKTYPE && msg != NULL && msglen > 0)
			snprintf(msg, msglen, "%s: %s", path,
			    e == -VSE_ERR_NOMEM ? "out of memory" : why);
		vsock_pcap_reader_close(r);
		return e;
	}
	native_setup(r);
	*out = r;
	return 0;
}

/* A record could not be read (cut: the data ended in it): why, in our words. */
static void
reader_record_failure(const struct vsock_pcap_reader *r, bool cut, char *why,
    size_t len)
{
	if (pcap_input_state(r->in) > PCAP_INPUT_ENDED)
		pcap_input_describe(r->in, why, len);
	else if (cut)
		snprintf(why, len, "the data ends inside this record (a cut "
		    "capture)");
	else
		snprintf(why, len, "a damaged record (impossible lengths or "
		    "a malformed block)");
}

/* One record from libpcap, validated; the frame number counts good ones. */
int
vsock_pcap_reader_next(struct vsock_pcap_reader *r,
    struct vsock_pcap_frame *f, char *msg, size_t msglen)
{
	struct pcap_pkthdr *ph, nh;
	const u_char *data;
	char why[384];
	bool cut;
	int e;

	if (r->err != 0) {
		reader_msg(r, msg, msglen);
		return r->err;
	}
	if (r->buf != NULL) {
		ph = &nh;
		e = native_next(r, ph, &data, &cut);
	} else {
		e = pcap_next_ex(r->p, &ph, &data);
		if (e == PCAP_ERROR_BREAK)
			e = 0;
		cut = e < 0 &&
		    strstr(pcap_geterr(r->p), "truncated") != NULL;
	}
	if (e == 0)
		return 0;
	if (e != 1) {
		reader_record_failure(r, cut, why, sizeof(why));
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

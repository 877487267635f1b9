/* pcap-writer.c - write tapped packets as LINKTYPE_VSOCK records through libpcap. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "error.h"
#include "pcap-writer.h"
#include "vsockmon.h"

struct vsock_pcap_writer {
	pcap_t *dead;			/* link type and snaplen for the dumper */
	pcap_dumper_t *d;
	char *path;
	uint64_t count;
	int err;			/* sticky */
	char errmsg[512];
	uint8_t rec[VSOCK_PCAP_SNAPLEN]; /* one record, assembled */
};

/* Writes "path: why" into msg when the caller gave room. */
static void
writer_msg(char *msg, size_t msglen, const char *path, const char *why)
{
	if (msg != NULL && msglen > 0)
		snprintf(msg, msglen, "%s: %s", path, why);
}

/* Frees a writer in any state of construction, without flushing. */
static void
writer_free(struct vsock_pcap_writer *w)
{
	if (w->dead != NULL)
		pcap_close(w->dead);
	free(w->path);
	free(w);
}

/*
 * "-" is a duplicate of stdout: pcap_dump_close() fcloses its FILE, and the
 * caller's stdout must outlive the writer.
 */
static pcap_dumper_t *
writer_dump_open(struct vsock_pcap_writer *w, const char *path)
{
	pcap_dumper_t *d;
	FILE *f;
	int fd;

	if (strcmp(path, "-") != 0)
		return pcap_dump_open(w->dead, path);
	fflush(stdout);
	if ((fd = dup(STDOUT_FILENO)) < 0)
		return NULL;
	if ((f = fdopen(fd, "wb")) == NULL) {
		close(fd);
		return NULL;
	}
	if ((d = pcap_dump_fopen(w->dead, f)) == NULL)
		fclose(f);
	return d;
}

/* Opens the dead handle (no capture, just a link type) and the dumper. */
int
vsock_pcap_writer_open(const char *path, struct vsock_pcap_writer **out,
    char *msg, size_t msglen)
{
	struct vsock_pcap_writer *w;
	char why[PCAP_ERRBUF_SIZE + 64];

	if (out != NULL)
		*out = NULL;
	if (path == NULL || out == NULL)
		return -VSE_ERR_INVAL;
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->path = strdup(path)) == NULL ||
	    (w->dead = pcap_open_dead(DLT_VSOCK, VSOCK_PCAP_SNAPLEN)) == NULL) {
		if (w != NULL)
			writer_free(w);
		return -VSE_ERR_NOMEM;
	}
	errno = 0;
	if (*path == '\0' || (w->d = writer_dump_open(w, path)) == NULL) {
		snprintf(why, sizeof(why), "cannot create capture file: %s",
		    *path == '\0' ? "empty file name" : errno != 0 ?
		    strerror(errno) : pcap_geterr(w->dead));
		writer_msg(msg, msglen, path, why);
		writer_free(w);
		return -VSE_ERR_PCAP_OPEN;
	}
	*out = w;
	return 0;
}

/*
 * Makes a write error sticky, with the system's reason. EPIPE is no fault
 * of the disk: whoever read the capture (`| wireshark -k -i -`, `| head`)
 * has gone, and the message says so (the program ignores SIGPIPE).
 */
static int
writer_fail(struct vsock_pcap_writer *w, int errnum)
{
	char why[256];

	if (errnum == EPIPE)
		snprintf(why, sizeof(why), "the capture's reader closed the "
		    "pipe after %llu record%s", (unsigned long long)w->count,
		    w->count == 1 ? "" : "s");
	else
		snprintf(why, sizeof(why), "writing capture record %llu "
		    "failed: %s", (unsigned long long)w->count + 1,
		    errnum != 0 ? strerror(errnum) : "I/O error");
	writer_msg(w->errmsg, sizeof(w->errmsg), w->path, why);
	w->err = -VSE_ERR_PCAP_WRITE;
	return w->err;
}

/* Lays out vsockmon header, raw virtio header and payload; returns caplen. */
static uint32_t
writer_assemble(struct vsock_pcap_writer *w,
    const struct vsock_tap_record *rec)
{
	struct vsockmon_hdr m;
	struct vsock_hdr h;
	uint16_t mark = VSOCKMON_EMU_MARK;
	uint32_t n = rec->payload_len;

	if (rec->dir == VSOCK_TAP_HOST_TO_GUEST)
		mark |= VSOCKMON_EMU_TO_GUEST;
	if (rec->dropped)
		mark |= VSOCKMON_EMU_DROPPED;
	/* From raw, not rec->hdr: the two headers must describe one packet. */
	vsock_hdr_decode(rec->raw, &h);
	vsockmon_hdr_from_virtio(&h, mark, &m);
	vsockmon_hdr_encode(&m, w->rec);
	memcpy(w->rec + VSOCKMON_HDR_SIZE, rec->raw, VSOCK_HDR_SIZE);
	if (n > VSOCK_PCAP_SNAPLEN - VSOCKMON_RECORD_MIN)
		n = VSOCK_PCAP_SNAPLEN - VSOCKMON_RECORD_MIN;
	if (n > 0)
		memcpy(w->rec + VSOCKMON_RECORD_MIN, rec->payload, n);
	return VSOCKMON_RECORD_MIN + n;
}

/*
 * pcap_dump() reports nothing; the flush after each record both bounds
 * what a kill can lose and is where a full disk shows up.
 */
int
vsock_pcap_writer_write(struct vsock_pcap_writer *w,
    const struct vsock_tap_record *rec)
{
	struct pcap_pkthdr ph;
	uint64_t whole;

	if (w->err != 0)
		return w->err;
	memset(&ph, 0, sizeof(ph));
	ph.caplen = writer_assemble(w, rec);
	whole = (uint64_t)VSOCKMON_RECORD_MIN + rec->payload_len;
	ph.len = whole > UINT32_MAX ? UINT32_MAX : (uint32_t)whole;
	ph.ts.tv_sec = (time_t)(rec->now / VSOCK_NS_PER_SEC);
	ph.ts.tv_usec = (suseconds_t)(rec->now % VSOCK_NS_PER_SEC / 1000);
	errno = 0;
	pcap_dump((u_char *)w->d, &ph, w->rec);
	if (pcap_dump_flush(w->d) != 0 || ferror(pcap_dump_file(w->d)))
		return writer_fail(w, errno);
	w->count++;
	return 0;
}

/* The tap hook: errors stay in the writer for vsock_pcap_writer_error(). */
void
vsock_pcap_writer_tap(void *ctx, const struct vsock_tap_record *rec)
{
	(void)vsock_pcap_writer_write(ctx, rec);
}

/* The sticky error and its reason. */
int
vsock_pcap_writer_error(const struct vsock_pcap_writer *w, const char **msg)
{
	if (msg != NULL)
		*msg = w->errmsg;
	return w->err;
}

/* Records written and flushed. */
uint64_t
vsock_pcap_writer_count(const struct vsock_pcap_writer *w)
{
	return w->count;
}

/* Closes the file (a last flush and fclose, whose failure counts too). */
int
vsock_pcap_writer_close(struct vsock_pcap_writer *w)
{
	FILE *f;
	int err;

	if (w == NULL)
		return 0;
	err = w->err;
	f = pcap_dump_file(w->d);
	if (err == 0 && (fflush(f) != 0 || ferror(f)))
		err = writer_fail(w, errno);
	/* pcap_dump_close() fcloses and hides the result: flushed above. */
	pcap_dump_close(w->d);
	writer_free(w);
	return err;
}

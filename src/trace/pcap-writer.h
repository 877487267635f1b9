/* pcap-writer.h - record every packet the device taps into a LINKTYPE_VSOCK pcap file. */
#ifndef VSE_PCAP_WRITER_H
#define VSE_PCAP_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "tap-record.h"

struct vsock_pcap_writer;

/*
 * Largest record written, as dumpcap's default: room for the 76 bytes of
 * headers and a 64 KiB payload (VIRTIO_VSOCK_MAX_PKT_BUF_SIZE) with margin.
 * A longer (necessarily malformed) packet is cut here, its pcap len kept.
 */
#define VSOCK_PCAP_SNAPLEN		262144

/*
 * Creates path (truncating it) as a classic pcap file, microsecond
 * timestamps, link type 271. "-" writes to a duplicate of standard output,
 * so closing the writer leaves the caller's stdout open. On failure returns
 * -VSE_ERR_PCAP_OPEN (or -VSE_ERR_NOMEM) and puts a one-line reason naming
 * path in msg (msglen bytes, may be 0).
 */
int vsock_pcap_writer_open(const char *path, struct vsock_pcap_writer **out,
    char *msg, size_t msglen);

/*
 * Appends one record: the kernel-style af_vsockmon_hdr (with vsockemu's
 * direction/dropped mark in the reserved bytes), rec->raw exactly as it was
 * on the ring, and rec->payload_len payload bytes. The timestamp is rec->now
 * (nanoseconds since an epoch the caller chose) cut to microseconds. The file
 * is flushed after each record so a killed process leaves a readable
 * capture. Returns 0, or -VSE_ERR_PCAP_WRITE; the first error is sticky and
 * later records are not written. A pipe whose reader has gone is such an
 * error (EPIPE, named in the message) when the caller ignores SIGPIPE, as
 * vsockemu does; otherwise the signal comes first.
 */
int vsock_pcap_writer_write(struct vsock_pcap_writer *w,
    const struct vsock_tap_record *rec);

/* The same as a vsock_tap_fn: ctx is the writer; errors stay sticky. */
void vsock_pcap_writer_tap(void *ctx, const struct vsock_tap_record *rec);

/* 0 or the sticky error; *msg (if msg) gets its one-line reason or "". */
int vsock_pcap_writer_error(const struct vsock_pcap_writer *w,
    const char **msg);

/* Records written so far. */
uint64_t vsock_pcap_writer_count(const struct vsock_pcap_writer *w);

/*
 * Flushes, closes and frees w (NULL is allowed). Returns 0 or the sticky
 * error, or -VSE_ERR_PCAP_WRITE if the final close failed.
 */
int vsock_pcap_writer_close(struct vsock_pcap_writer *w);

#endif

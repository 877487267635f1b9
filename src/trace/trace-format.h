/* trace-format.h - one way to print a vsock header: dump, replay and its reports share it. */
#ifndef VSOCKEMU_TRACE_FORMAT_H
#define VSOCKEMU_TRACE_FORMAT_H

#include <stddef.h>

#include "pkt.h"

/* Long enough for any header trace_format_hdr prints. */
#define TRACE_FORMAT_HDR_LEN 192

/*
 * The name of flag bit (0..31) in h where virtio 1.2 5.10.6 names it
 * (SHUTDOWN: RCV, SEND; SEQPACKET RW: EOM, EOR), or NULL.
 */
const char *trace_flag_name(const struct vsock_hdr *h, unsigned bit);

/* h's flags: names joined by '|', other bits in hex ("0x10"); "0": none. */
void trace_format_flags(const struct vsock_hdr *h, char *buf, size_t len);

/* h's type: "STREAM", "SEQPACKET" or "unknown N". */
void trace_format_type(const struct vsock_hdr *h, char *buf, size_t len);

/*
 * h as one line without a newline:
 * "3:1024 > 2:1234 STREAM RW flags 0 len 6 buf_alloc 262144 fwd_cnt 0".
 */
void trace_format_hdr(const struct vsock_hdr *h, char *buf, size_t len);

#endif

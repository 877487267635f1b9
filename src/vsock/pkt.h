/* pkt.h - the virtio_vsock_hdr codec: one decode from a copy, one encode. */
#ifndef VSE_PKT_H
#define VSE_PKT_H

#include <stdbool.h>
#include <stdint.h>

#include "vsock-proto.h"

/* A decoded header, in host byte order. */
struct vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
};

/* Decodes the 44 little-endian bytes at raw (a local copy, never guest RAM). */
void vsock_hdr_decode(const uint8_t raw[VSOCK_HDR_SIZE], struct vsock_hdr *h);

/* Encodes h as 44 little-endian bytes. */
void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t raw[VSOCK_HDR_SIZE]);

/* "REQUEST", "RW", ... or "OP_<n>" in a static buffer for unknown values. */
const char *vsock_op_name(uint16_t op);

/* "STREAM", "SEQPACKET" or NULL. */
const char *vsock_type_name(uint16_t type);

static inline bool
vsock_type_known(uint16_t type)
{
	return type == VIRTIO_VSOCK_TYPE_STREAM ||
	    type == VIRTIO_VSOCK_TYPE_SEQPACKET;
}

#endif

/* vsockmon.h - the af_vsockmon_hdr of LINKTYPE_VSOCK captures (Linux uapi vsockmon.h). */
#ifndef VSE_VSOCKMON_H
#define VSE_VSOCKMON_H

#include <stdint.h>

#include "pkt.h"

/*
 * A LINKTYPE_VSOCK (271, DLT_VSOCK) record is this 32-byte header, then the
 * transport header (the 44-byte virtio_vsock_hdr for transport VIRTIO), then
 * the payload. tcpdump.org's link-type page omits the 2 reserved bytes; the
 * kernel, Wireshark and tcpdump all use 32.
 */
#define LINKTYPE_VSOCK			271
#define VSOCKMON_HDR_SIZE		32
#define VSOCKMON_RECORD_MIN		(VSOCKMON_HDR_SIZE + VSOCK_HDR_SIZE)

#define VSOCKMON_OFF_SRC_CID		0
#define VSOCKMON_OFF_DST_CID		8
#define VSOCKMON_OFF_SRC_PORT		16
#define VSOCKMON_OFF_DST_PORT		20
#define VSOCKMON_OFF_OP			24
#define VSOCKMON_OFF_TRANSPORT		26
#define VSOCKMON_OFF_LEN		28
#define VSOCKMON_OFF_RESERVED		30

/* enum af_vsockmon_op */
#define VSOCKMON_OP_UNKNOWN		0
#define VSOCKMON_OP_CONNECT		1
#define VSOCKMON_OP_DISCONNECT		2
#define VSOCKMON_OP_CONTROL		3
#define VSOCKMON_OP_PAYLOAD		4

/* enum af_vsockmon_transport */
#define VSOCKMON_TRANSPORT_UNKNOWN	0
#define VSOCKMON_TRANSPORT_NO_INFO	1
#define VSOCKMON_TRANSPORT_VIRTIO	2

/*
 * vsockemu's use of the 2 reserved bytes, read as a little-endian 16-bit
 * value. The kernel always writes zero, so a record without VSOCKMON_EMU_MARK
 * carries no claim; with it, the other bits say what the address fields
 * cannot: which way the packet went (a guest may forge src_cid 2) and that
 * the device dropped it (its lengths may lie). See doc/trace-format.md.
 */
#define VSOCKMON_EMU_MARK		0x8000
#define VSOCKMON_EMU_TO_GUEST		0x0001
#define VSOCKMON_EMU_DROPPED		0x0002

/* A decoded af_vsockmon_hdr, in host byte order. */
struct vsockmon_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint16_t op;			/* VSOCKMON_OP_* */
	uint16_t transport;		/* VSOCKMON_TRANSPORT_* */
	uint16_t len;			/* transport header length: 44 */
	uint16_t reserved;		/* VSOCKMON_EMU_* or 0 */
};

/* Decodes the 32 little-endian bytes at raw. */
void vsockmon_hdr_decode(const uint8_t raw[VSOCKMON_HDR_SIZE],
    struct vsockmon_hdr *m);

/* Encodes m as 32 little-endian bytes. */
void vsockmon_hdr_encode(const struct vsockmon_hdr *m,
    uint8_t raw[VSOCKMON_HDR_SIZE]);

/* The vsockmon op the kernel files a virtio op under (VSOCKMON_OP_*). */
uint16_t vsockmon_op_from_virtio(uint16_t virtio_op);

/* "CONNECT", "DISCONNECT", "CONTROL", "PAYLOAD", "UNKNOWN" or NULL. */
const char *vsockmon_op_name(uint16_t op);

/*
 * Fills m the way the kernel's virtio tap does for header h: addresses
 * copied, op mapped, transport VIRTIO, len 44; reserved is set to `mark`.
 */
void vsockmon_hdr_from_virtio(const struct vsock_hdr *h, uint16_t mark,
    struct vsockmon_hdr *m);

#endif

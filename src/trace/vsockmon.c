/* vsockmon.c - encode and decode the af_vsockmon_hdr, and file virtio ops under vsockmon ops. */
#include "config.h"

#include <stddef.h>

#include "byteorder.h"
#include "vsockmon.h"

/* Reads the 32-byte header field by field; raw needs no alignment. */
void
vsockmon_hdr_decode(const uint8_t raw[VSOCKMON_HDR_SIZE],
    struct vsockmon_hdr *m)
{
	m->src_cid = vse_get_le64(raw + VSOCKMON_OFF_SRC_CID);
	m->dst_cid = vse_get_le64(raw + VSOCKMON_OFF_DST_CID);
	m->src_port = vse_get_le32(raw + VSOCKMON_OFF_SRC_PORT);
	m->dst_port = vse_get_le32(raw + VSOCKMON_OFF_DST_PORT);
	m->op = vse_get_le16(raw + VSOCKMON_OFF_OP);
	m->transport = vse_get_le16(raw + VSOCKMON_OFF_TRANSPORT);
	m->len = vse_get_le16(raw + VSOCKMON_OFF_LEN);
	m->reserved = vse_get_le16(raw + VSOCKMON_OFF_RESERVED);
}

/* Writes the 32-byte header, reserved bytes included. */
void
vsockmon_hdr_encode(const struct vsockmon_hdr *m,
    uint8_t raw[VSOCKMON_HDR_SIZE])
{
	vse_put_le64(raw + VSOCKMON_OFF_SRC_CID, m->src_cid);
	vse_put_le64(raw + VSOCKMON_OFF_DST_CID, m->dst_cid);
	vse_put_le32(raw + VSOCKMON_OFF_SRC_PORT, m->src_port);
	vse_put_le32(raw + VSOCKMON_OFF_DST_PORT, m->dst_port);
	vse_put_le16(raw + VSOCKMON_OFF_OP, m->op);
	vse_put_le16(raw + VSOCKMON_OFF_TRANSPORT, m->transport);
	vse_put_le16(raw + VSOCKMON_OFF_LEN, m->len);
	vse_put_le16(raw + VSOCKMON_OFF_RESERVED, m->reserved);
}

/* As Linux's virtio_transport_build_skb files each op; the rest is UNKNOWN. */
uint16_t
vsockmon_op_from_virtio(uint16_t virtio_op)
{
	switch (virtio_op) {
	case VIRTIO_VSOCK_OP_REQUEST:
	case VIRTIO_VSOCK_OP_RESPONSE:
		return VSOCKMON_OP_CONNECT;
	case VIRTIO_VSOCK_OP_RST:
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		return VSOCKMON_OP_DISCONNECT;
	case VIRTIO_VSOCK_OP_RW:
		return VSOCKMON_OP_PAYLOAD;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		return VSOCKMON_OP_CONTROL;
	default:
		return VSOCKMON_OP_UNKNOWN;
	}
}

/* The enum af_vsockmon_op name of op, or NULL. */
const char *
vsockmon_op_name(uint16_t op)
{
	static const char *const names[] = {
		[VSOCKMON_OP_UNKNOWN] = "UNKNOWN",
		[VSOCKMON_OP_CONNECT] = "CONNECT",
		[VSOCKMON_OP_DISCONNECT] = "DISCONNECT",
		[VSOCKMON_OP_CONTROL] = "CONTROL",
		[VSOCKMON_OP_PAYLOAD] = "PAYLOAD",
	};

	return op < sizeof(names) / sizeof(names[0]) ? names[op] : NULL;
}

/* The header the kernel's tap would put before h (drivers/vhost/vsock.c). */
void
vsockmon_hdr_from_virtio(const struct vsock_hdr *h, uint16_t mark,
    struct vsockmon_hdr *m)
{
	m->src_cid = h->src_cid;
	m->dst_cid = h->dst_cid;
	m->src_port = h->src_port;
	m->dst_port = h->dst_port;
	m->op = vsockmon_op_from_virtio(h->op);
	m->transport = VSOCKMON_TRANSPORT_VIRTIO;
	m->len = VSOCK_HDR_SIZE;
	m->reserved = mark;
}

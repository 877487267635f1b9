/* pkt.c - encode and decode virtio_vsock_hdr (virtio 1.2, 5.10.6). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "pkt.h"

void
vsock_hdr_decode(const uint8_t raw[VSOCK_HDR_SIZE], struct vsock_hdr *h)
{
	h->src_cid = vse_get_le64(raw + VSOCK_HDR_OFF_SRC_CID);
	h->dst_cid = vse_get_le64(raw + VSOCK_HDR_OFF_DST_CID);
	h->src_port = vse_get_le32(raw + VSOCK_HDR_OFF_SRC_PORT);
	h->dst_port = vse_get_le32(raw + VSOCK_HDR_OFF_DST_PORT);
	h->len = vse_get_le32(raw + VSOCK_HDR_OFF_LEN);
	h->type = vse_get_le16(raw + VSOCK_HDR_OFF_TYPE);
	h->op = vse_get_le16(raw + VSOCK_HDR_OFF_OP);
	h->flags = vse_get_le32(raw + VSOCK_HDR_OFF_FLAGS);
	h->buf_alloc = vse_get_le32(raw + VSOCK_HDR_OFF_BUF_ALLOC);
	h->fwd_cnt = vse_get_le32(raw + VSOCK_HDR_OFF_FWD_CNT);
}

void
vsock_hdr_encode(const struct vsock_hdr *h, uint8_t raw[VSOCK_HDR_SIZE])
{
	vse_put_le64(raw + VSOCK_HDR_OFF_SRC_CID, h->src_cid);
	vse_put_le64(raw + VSOCK_HDR_OFF_DST_CID, h->dst_cid);
	vse_put_le32(raw + VSOCK_HDR_OFF_SRC_PORT, h->src_port);
	vse_put_le32(raw + VSOCK_HDR_OFF_DST_PORT, h->dst_port);
	vse_put_le32(raw + VSOCK_HDR_OFF_LEN, h->len);
	vse_put_le16(raw + VSOCK_HDR_OFF_TYPE, h->type);
	vse_put_le16(raw + VSOCK_HDR_OFF_OP, h->op);
	vse_put_le32(raw + VSOCK_HDR_OFF_FLAGS, h->flags);
	vse_put_le32(raw + VSOCK_HDR_OFF_BUF_ALLOC, h->buf_alloc);
	vse_put_le32(raw + VSOCK_HDR_OFF_FWD_CNT, h->fwd_cnt);
}

static const char *const op_names[] = {
	[VIRTIO_VSOCK_OP_INVALID] = "INVALID",
	[VIRTIO_VSOCK_OP_REQUEST] = "REQUEST",
	[VIRTIO_VSOCK_OP_RESPONSE] = "RESPONSE",
	[VIRTIO_VSOCK_OP_RST] = "RST",
	[VIRTIO_VSOCK_OP_SHUTDOWN] = "SHUTDOWN",
	[VIRTIO_VSOCK_OP_RW] = "RW",
	[VIRTIO_VSOCK_OP_CREDIT_UPDATE] = "CREDIT_UPDATE",
	[VIRTIO_VSOCK_OP_CREDIT_REQUEST] = "CREDIT_REQUEST",
};

const char *
vsock_op_name(uint16_t op)
{
	static _Thread_local char buf[16];

	if (op <= VIRTIO_VSOCK_OP__MAX)
		return op_names[op];
	snprintf(buf, sizeof(buf), "OP_%u", op);
	return buf;
}

const char *
vsock_type_name(uint16_t type)
{
	switch (type) {
	case VIRTIO_VSOCK_TYPE_STREAM:
		return "STREAM";
	case VIRTIO_VSOCK_TYPE_SEQPACKET:
		return "SEQPACKET";
	default:
		return NULL;
	}
}

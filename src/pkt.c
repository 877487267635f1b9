/* pkt.c - encode and decode virtio_vsock_hdr (virtio 1.2, 5.10.6). */
#include "config.h"

#include <endian.h>
#include <stdio.h>
#include <string.h>

#include "pkt.h"

static uint16_t
get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static void
put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static void
put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void
put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

void
vsock_hdr_decode(const uint8_t raw[VSOCK_HDR_SIZE], struct vsock_hdr *h)
{
	h->src_cid = get64(raw + VSOCK_HDR_OFF_SRC_CID);
	h->dst_cid = get64(raw + VSOCK_HDR_OFF_DST_CID);
	h->src_port = get32(raw + VSOCK_HDR_OFF_SRC_PORT);
	h->dst_port = get32(raw + VSOCK_HDR_OFF_DST_PORT);
	h->len = get32(raw + VSOCK_HDR_OFF_LEN);
	h->type = get16(raw + VSOCK_HDR_OFF_TYPE);
	h->op = get16(raw + VSOCK_HDR_OFF_OP);
	h->flags = get32(raw + VSOCK_HDR_OFF_FLAGS);
	h->buf_alloc = get32(raw + VSOCK_HDR_OFF_BUF_ALLOC);
	h->fwd_cnt = get32(raw + VSOCK_HDR_OFF_FWD_CNT);
}

void
vsock_hdr_encode(const struct vsock_hdr *h, uint8_t raw[VSOCK_HDR_SIZE])
{
	put64(raw + VSOCK_HDR_OFF_SRC_CID, h->src_cid);
	put64(raw + VSOCK_HDR_OFF_DST_CID, h->dst_cid);
	put32(raw + VSOCK_HDR_OFF_SRC_PORT, h->src_port);
	put32(raw + VSOCK_HDR_OFF_DST_PORT, h->dst_port);
	put32(raw + VSOCK_HDR_OFF_LEN, h->len);
	put16(raw + VSOCK_HDR_OFF_TYPE, h->type);
	put16(raw + VSOCK_HDR_OFF_OP, h->op);
	put32(raw + VSOCK_HDR_OFF_FLAGS, h->flags);
	put32(raw + VSOCK_HDR_OFF_BUF_ALLOC, h->buf_alloc);
	put32(raw + VSOCK_HDR_OFF_FWD_CNT, h->fwd_cnt);
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

/* vsock-proto.h - virtio-vsock wire constants (virtio 1.2 section 5.10, Linux uapi virtio_vsock.h). */
#ifndef VSE_VSOCK_PROTO_H
#define VSE_VSOCK_PROTO_H

#include <stdint.h>

/* 5.10.1 Device ID. */
#define VIRTIO_ID_VSOCK			19

/* 5.10.2 Virtqueues. */
#define VSOCK_QUEUE_RX			0
#define VSOCK_QUEUE_TX			1
#define VSOCK_QUEUE_EVENT		2
#define VSOCK_NUM_QUEUES		3

/* 5.10.3 Feature bits. */
#define VIRTIO_VSOCK_F_STREAM		0
#define VIRTIO_VSOCK_F_SEQPACKET	1
#define VIRTIO_VSOCK_F_NO_IMPLIED_STREAM 2

/* Well-known CIDs (Linux uapi vm_sockets.h); 0, 1, 2 and -1 are reserved. */
#define VMADDR_CID_HYPERVISOR		0
#define VMADDR_CID_LOCAL		1
#define VMADDR_CID_HOST			2
#define VMADDR_CID_ANY			UINT32_C(0xffffffff)

/* 5.10.6 Device Operation: the 44-byte header, all fields little-endian. */
#define VSOCK_HDR_SIZE			44
#define VSOCK_HDR_OFF_SRC_CID		0
#define VSOCK_HDR_OFF_DST_CID		8
#define VSOCK_HDR_OFF_SRC_PORT		16
#define VSOCK_HDR_OFF_DST_PORT		20
#define VSOCK_HDR_OFF_LEN		24
#define VSOCK_HDR_OFF_TYPE		28
#define VSOCK_HDR_OFF_OP		30
#define VSOCK_HDR_OFF_FLAGS		32
#define VSOCK_HDR_OFF_BUF_ALLOC		36
#define VSOCK_HDR_OFF_FWD_CNT		40

/* Socket types. */
#define VIRTIO_VSOCK_TYPE_STREAM	1
#define VIRTIO_VSOCK_TYPE_SEQPACKET	2

/* Operations. */
#define VIRTIO_VSOCK_OP_INVALID		0
#define VIRTIO_VSOCK_OP_REQUEST		1
#define VIRTIO_VSOCK_OP_RESPONSE	2
#define VIRTIO_VSOCK_OP_RST		3
#define VIRTIO_VSOCK_OP_SHUTDOWN	4
#define VIRTIO_VSOCK_OP_RW		5
#define VIRTIO_VSOCK_OP_CREDIT_UPDATE	6
#define VIRTIO_VSOCK_OP_CREDIT_REQUEST	7
#define VIRTIO_VSOCK_OP__MAX		7

/* SHUTDOWN flags. */
#define VIRTIO_VSOCK_SHUTDOWN_RCV	1
#define VIRTIO_VSOCK_SHUTDOWN_SEND	2
#define VIRTIO_VSOCK_SHUTDOWN_MASK	3

/* RW flags on SEQPACKET. */
#define VIRTIO_VSOCK_SEQ_EOM		1
#define VIRTIO_VSOCK_SEQ_EOR		2

/* Event queue (5.10.6.5). */
#define VIRTIO_VSOCK_EVENT_TRANSPORT_RESET 0
#define VSOCK_EVENT_SIZE		4

/* Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE: the largest payload of one packet. */
#define VIRTIO_VSOCK_MAX_PKT_BUF_SIZE	(64 * 1024)

/* Linux's default receive buffer size, the payload part of one RX buffer. */
#define VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE (4 * 1024)

#endif

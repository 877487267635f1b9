/* virtio-ring.h - split virtqueue layout and feature bits (virtio 1.2, 2.7 and 6). */
#ifndef VSE_VIRTIO_RING_H
#define VSE_VIRTIO_RING_H

#include <stdint.h>

/* Feature bits (virtio 1.2 section 6, "Reserved Feature Bits"). */
#define VIRTIO_RING_F_INDIRECT_DESC	28
#define VIRTIO_RING_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32

#define VIRTIO_FEATURE(bit)		(UINT64_C(1) << (bit))

/* 2.7.5 The Virtqueue Descriptor Table. */
#define VIRTQ_DESC_F_NEXT		1
#define VIRTQ_DESC_F_WRITE		2
#define VIRTQ_DESC_F_INDIRECT		4

/* 2.7.6 The Virtqueue Available Ring. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1

/* 2.7.8 The Virtqueue Used Ring. */
#define VIRTQ_USED_F_NO_NOTIFY		1

/* 2.7: "Queue Size ... maximum Queue Size value is 32768". */
#define VIRTQ_MAX_SIZE			32768

/* 2.7 alignment requirements of the three parts. */
#define VIRTQ_DESC_ALIGN		16
#define VIRTQ_AVAIL_ALIGN		2
#define VIRTQ_USED_ALIGN		4

/* All fields little-endian in guest memory (virtio 1.x). */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc is 16 bytes");
_Static_assert(sizeof(struct virtq_used_elem) == 8, "used elem is 8 bytes");

/*
 * Byte offsets inside the avail and used rings. Rings are addressed by
 * offset, not through structs with flexible arrays, so the trailing
 * used_event / avail_event words (present with VIRTIO_RING_F_EVENT_IDX)
 * are just another offset.
 */
#define VIRTQ_AVAIL_FLAGS		0
#define VIRTQ_AVAIL_IDX			2
#define VIRTQ_AVAIL_RING(i)		(4 + 2 * (uint64_t)(i))
#define VIRTQ_AVAIL_USED_EVENT(num)	VIRTQ_AVAIL_RING(num)
#define VIRTQ_USED_FLAGS		0
#define VIRTQ_USED_IDX			2
#define VIRTQ_USED_RING(i)		(4 + 8 * (uint64_t)(i))
#define VIRTQ_USED_AVAIL_EVENT(num)	VIRTQ_USED_RING(num)

/* Sizes of the three parts, including the event words. */
static inline uint64_t
virtq_desc_bytes(uint32_t num)
{
	return 16 * (uint64_t)num;
}

static inline uint64_t
virtq_avail_bytes(uint32_t num)
{
	return 6 + 2 * (uint64_t)num;
}

static inline uint64_t
virtq_used_bytes(uint32_t num)
{
	return 6 + 8 * (uint64_t)num;
}

/*
 * 2.7.7.2 / 2.7.10: with VIRTIO_RING_F_EVENT_IDX the other side wants a
 * notification when its event index lies in [old, new), computed modulo 2^16
 * so that it survives the free-running index wrapping.
 */
static inline int
virtq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

static inline int
virtq_size_valid(uint32_t num)
{
	return num != 0 && num <= VIRTQ_MAX_SIZE && (num & (num - 1)) == 0;
}

#endif

/* virtq.h - device side of a split virtqueue: the one chain walker, used ring, notifications. */
#ifndef VSE_VIRTQ_H
#define VSE_VIRTQ_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "guestmem.h"
#include "virtio-ring.h"

/*
 * Most buffers one chain may carry: Linux vhost's UIO_MAXIOV. Linux's driver
 * uses at most MAX_SKB_FRAGS + 2 per vsock packet, far below it.
 */
#define VIRTQ_CHAIN_MAX_SEGS	1024

/*
 * Most popped chains virtq_rewind can give back at once: a device popping
 * ahead (one scatter read over several RX chains) needs no more.
 */
#define VIRTQ_REWIND_MAX	64

/*
 * One guest buffer of a chain, already checked to be guest memory. hva is
 * where pop's bounds check found it when it lies in one region (NULL when
 * it spans two): the chain's users need not translate it again. It is only
 * trusted while the queue keeps the setup the chain was popped under
 * (virtq_seg_hva): a new memory table always comes with a new setup.
 */
struct virtq_seg {
	uint64_t gpa;
	uint32_t len;
	uint8_t *hva;
};

/*
 * A popped chain: the device-readable buffers first (seg[0..nread)), then
 * the device-writable ones (seg[nread..nseg)). Zero-length buffers are
 * validated but not listed.
 */
struct virtq_chain {
	uint64_t setup_id;	/* the queue's setup_id when popped */
	uint16_t head;
	uint16_t nseg;
	uint16_t nread;
	uint32_t read_len;	/* sum of readable lengths, < 2^32 */
	uint32_t write_len;	/* sum of writable lengths, < 2^32 */
	struct virtq_seg seg[VIRTQ_CHAIN_MAX_SEGS];
};

struct virtq_stats {
	uint64_t popped;
	uint64_t pushed;
	uint64_t notifies;	/* times virtq_should_notify said yes */
};

/*
 * Device-side state of one queue. Zero-initialised means "not set up".
 * Once a guest breaks a rule the queue is broken (QEMU libvhost-user's
 * sticky state): every later call fails with VSE_ERR_VQ_BROKEN without
 * touching guest memory, until virtq_reset().
 */
struct virtq {
	const struct guestmem *mem;
	/*
	 * Unique per virtq_setup (0: not set up): a chain popped under
	 * another setup, i.e. maybe another memory table, never uses the
	 * host addresses its pop found.
	 */
	uint64_t setup_id;
	uint32_t num;			/* queue size; 0 when not set up */
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;			/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	uint8_t *desc;			/* mapped parts, bounds checked at setup */
	uint8_t *avail;
	uint8_t *used;
	uint16_t last_avail_idx;	/* next avail entry to pop */
	uint16_t shadow_avail_idx;	/* last avail->idx read from the guest */
	uint16_t used_idx;		/* our copy of used->idx */
	uint16_t signalled_used;	/* used_idx at the last notify decision */
	bool signalled_used_valid;
	bool used_since_signal;		/* pushed since the last decision */
	/*
	 * Notifications were enabled with avail idx at armed_idx, the ring
	 * found empty after (virtq_pop_or_arm): an empty pop at that index
	 * need not store the same word and fence again.
	 */
	bool armed;
	uint16_t armed_idx;
	/*
	 * The last `rewindable` chains popped, none pushed since: the ones
	 * virtq_rewind may give back. Their heads, by avail index modulo
	 * VIRTQ_REWIND_MAX, tell a push of one of them.
	 */
	uint16_t rewindable;
	uint16_t popped_heads[VIRTQ_REWIND_MAX];
	int broken;			/* 0, or the -VSE_ERR_* that broke it */
	struct virtq_stats stats;
};

/*
 * Sets the queue up over guest memory mem (which must outlive it) with the
 * given negotiated features. Checks the size (power of two <= 32768), the
 * alignments of the three parts (16/2/4, virtio 2.7) and that each part lies
 * in one guest memory region, host pointer alignment included.
 */
int virtq_setup(struct virtq *vq, const struct guestmem *mem, uint32_t num,
    uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
    uint64_t features);

/*
 * Sets the indices a resumed queue starts from (vhost-user SET_VRING_BASE);
 * reads used->idx from the ring. Does nothing on a broken queue.
 */
void virtq_set_base(struct virtq *vq, uint16_t last_avail_idx);

/* Forgets all state; the queue is not set up any more. */
void virtq_reset(struct virtq *vq);

static inline bool
virtq_is_broken(const struct virtq *vq)
{
	return vq->broken != 0;
}

static inline bool
virtq_is_ready(const struct virtq *vq)
{
	return vq->num != 0 && vq->broken == 0;
}

/*
 * The host address of segment i of chain (popped from vq), or NULL when it
 * must be translated again (it spans regions) or may not be used at all (the
 * queue is broken or reset, or set up again since the pop). The segment's
 * bytes [hva, hva + len) were checked at pop to be one region's.
 */
static inline uint8_t *
virtq_seg_hva(const struct virtq *vq, const struct virtq_chain *chain,
    unsigned i)
{
	if (vq->broken != 0 || chain->setup_id != vq->setup_id ||
	    vq->setup_id == 0)
		return NULL;
	return chain->seg[i].hva;
}

/*
 * The chain's device-writable part as one host range: its address, or NULL
 * when that part is not one segment in one region (or virtq_seg_hva says
 * no). The shape of every RX buffer Linux and Firecracker post.
 */
static inline uint8_t *
virtq_chain_flat_writable(const struct virtq *vq,
    const struct virtq_chain *chain)
{
	if (chain->nseg != chain->nread + 1)
		return NULL;
	return virtq_seg_hva(vq, chain, chain->nread);
}

/*
 * Bytes [off, off + len) of the chain's readable (or writable) part as one
 * host range when they lie in one segment pop found in one region: a
 * pointer into guest memory, valid while virtq_seg_hva says so. NULL when
 * they do not (they span segments or regions, or the queue is broken,
 * reset or set up again): the caller copies instead. len > 0. The bytes
 * are the guest's: they may change under the caller between two reads.
 */
static inline uint8_t *
virtq_chain_span(const struct virtq *vq, const struct virtq_chain *chain,
    bool writable, uint32_t off, uint32_t len)
{
	unsigned i = writable ? chain->nread : 0;
	unsigned last = writable ? chain->nseg : chain->nread;
	uint8_t *h;

	while (i < last && off >= chain->seg[i].len)
		off -= chain->seg[i++].len;
	if (i == last || len > chain->seg[i].len - off ||
	    (h = virtq_seg_hva(vq, chain, i)) == NULL)
		return NULL;
	return h + off;
}

/* virtq_chain_span for a reader: the bytes are the guest's, never ours. */
static inline const uint8_t *
virtq_chain_view(const struct virtq *vq, const struct virtq_chain *chain,
    bool writable, uint32_t off, uint32_t len)
{
	return virtq_chain_span(vq, chain, writable, off, len);
}

/*
 * A 16-bit ring word the driver writes, read with acquire (2.7.13.3: what
 * it covers is read after it); the one reader of avail idx, here for the
 * inline virtq_pop_or_arm below and for virtq_avail.
 */
static inline uint16_t
ring_load16_acquire(const uint8_t *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)(const void *)p,
	    __ATOMIC_ACQUIRE));
}

/*
 * Pops the next available chain into *chain. Returns 1 when a chain was
 * popped, 0 when none is available, or a negative error; any guest error
 * also breaks the queue. Every descriptor is read from guest memory exactly
 * once, walks are bounded by the table size, and each rule has its own
 * error code (doc/threat-model.md).
 */
int virtq_pop(struct virtq *vq, struct virtq_chain *chain);

/* virtq_pop_or_arm past its first look (below). */
int virtq_pop_or_arm_full(struct virtq *vq, struct virtq_chain *chain);

/*
 * virtq_pop, but when the ring is empty it first asks the driver for a
 * kick and then looks once more: a chain published just before the
 * request was visible would otherwise wait for a kick that never comes
 * (2.7.10). The usual way for a device to drain a queue.
 *
 * Its commonest answer inline: a queue still armed at the avail idx its
 * last empty pop read, and the driver's idx still there, is empty, and
 * the full path would only store the same shadow idx again (virtq_avail)
 * and return 0. The device's TX run asks after every host event, when the
 * guest has mostly sent nothing. idx is read once, with acquire, as
 * virtq_avail reads it.
 */
static inline int
virtq_pop_or_arm(struct virtq *vq, struct virtq_chain *chain)
{
	if (vq->armed && vq->num != 0 && vq->broken == 0 &&
	    vq->last_avail_idx == vq->shadow_avail_idx &&
	    vq->armed_idx == vq->shadow_avail_idx &&
	    ring_load16_acquire(vq->avail + VIRTQ_AVAIL_IDX) ==
	    vq->shadow_avail_idx)
		return 0;
	return virtq_pop_or_arm_full(vq, chain);
}

/* Number of chains the driver has made available: >= 0, or -error (breaks). */
int virtq_avail(struct virtq *vq);

/*
 * Gives the last n popped chains back so that they are popped again next,
 * in the same order (QEMU's virtqueue_rewind()). Only chains not pushed
 * since, at most VIRTQ_REWIND_MAX, each only once: a chain pushed ends
 * what may be given back at the ones popped after it. Else -VSE_ERR_INVAL
 * and nothing changes (VSE_ERR_VQ_BROKEN / _NOT_READY on a broken or
 * unset queue). n == 0 does nothing.
 */
int virtq_rewind(struct virtq *vq, unsigned n);

/* virtq_rewind(vq, 1): gives the last popped chain back. */
int virtq_unpop(struct virtq *vq);

/*
 * Returns chain head id with len bytes written to the used ring and makes it
 * visible to the driver (release ordering after the element).
 */
int virtq_push(struct virtq *vq, uint16_t id, uint32_t len);

/* One chain given back: its head id and the bytes written into it. */
struct virtq_done {
	uint16_t id;
	uint32_t len;
};

/*
 * Returns n chains at once, in order, as n virtq_push calls would, but
 * makes them visible with one used->idx store (Linux vhost's
 * vhost_add_used_n). Stops at the first invalid id: the ones before it
 * are pushed and -VSE_ERR_USED_ID is returned.
 */
int virtq_push_n(struct virtq *vq, const struct virtq_done *e,
    unsigned n);

/*
 * After pushes: must the driver be interrupted? Honours
 * VIRTQ_AVAIL_F_NO_INTERRUPT, or used_event with VIRTIO_RING_F_EVENT_IDX.
 */
bool virtq_should_notify(struct virtq *vq);

/*
 * True when virtq_should_notify would say no and change nothing: nothing
 * used since its last decision, which it took at this used idx. Devices
 * ask after every run, mostly of queues that used nothing.
 */
static inline bool
virtq_notify_settled(const struct virtq *vq)
{
	return !vq->used_since_signal && vq->signalled_used_valid &&
	    vq->signalled_used == vq->used_idx;
}

/*
 * Asks the driver to kick (enable) or not to bother (disable) when it adds
 * buffers. After enabling, callers must look at virtq_avail() again: a
 * buffer added just before the flag was seen does not kick.
 */
void virtq_set_notification(struct virtq *vq, bool enable);

/*
 * virtq_chain_read and the rest past their first look: copies between
 * bytes [off, off + len) of the chain's readable (writable) part and buf,
 * segment by segment, translating a segment that spans regions again.
 */
int virtq_chain_copy(const struct virtq *vq, const struct virtq_chain *chain,
    bool writable, uint32_t off, uint8_t *buf, uint32_t len, bool to_guest);

/*
 * Maps bytes [off, off + len) of the chain's writable (or readable) part
 * onto at most max host iovecs, split at region borders, for zero-copy
 * socket I/O. Returns the iovec count and stores the bytes covered in
 * *mapped (less than len when max iovecs did not suffice).
 */
int virtq_chain_iov_full(const struct virtq *vq,
    const struct virtq_chain *chain, bool writable, uint32_t off, uint32_t len,
    struct iovec *iov, int max, uint32_t *mapped);

/*
 * Inline, its commonest case: the bytes in one segment pop mapped (a
 * packet's payload, an RX buffer), one iovec and no loop.
 */
static inline int
virtq_chain_iov(const struct virtq *vq, const struct virtq_chain *chain,
    bool writable, uint32_t off, uint32_t len, struct iovec *iov, int max,
    uint32_t *mapped)
{
	uint8_t *h;

	if (len > 0 && max > 0 &&
	    (h = virtq_chain_span(vq, chain, writable, off, len)) != NULL) {
		iov[0] = (struct iovec){ h, len };
		*mapped = len;
		return 1;
	}
	return virtq_chain_iov_full(vq, chain, writable, off, len, iov, max,
	    mapped);
}

/*
 * Copies bytes [off, off + len) of the chain's readable part into dst.
 * Fails with VSE_ERR_VQ_BROKEN / VSE_ERR_VQ_NOT_READY once the queue is
 * broken or reset, even for a chain popped before; VSE_ERR_INVAL when the
 * part is shorter.
 *
 * Inline, its commonest case: a packet header in the chain's first
 * buffer, one memcpy of a length the compiler knows (every TX and RX
 * packet copies one). virtq_chain_span has checked what chain_copy would.
 */
static inline int
virtq_chain_read(const struct virtq *vq, const struct virtq_chain *chain,
    uint32_t off, void *dst, uint32_t len)
{
	const uint8_t *h;

	if (len > 0 && (h = virtq_chain_span(vq, chain, false, off, len)) !=
	    NULL) {
		memcpy(dst, h, len);
		return 0;
	}
	return virtq_chain_copy(vq, chain, false, off, dst, len, false);
}

/* Copies bytes [off, off + len) of the chain's writable part into dst. */
static inline int
virtq_chain_read_writable(const struct virtq *vq,
    const struct virtq_chain *chain, uint32_t off, void *dst, uint32_t len)
{
	return virtq_chain_copy(vq, chain, true, off, dst, len, false);
}

/* Copies src into bytes [off, off + len) of the writable part; same rules. */
static inline int
virtq_chain_write(const struct virtq *vq, const struct virtq_chain *chain,
    uint32_t off, const void *src, uint32_t len)
{
	uint8_t *h;

	if (len > 0 && (h = virtq_chain_span(vq, chain, true, off, len)) !=
	    NULL) {
		memcpy(h, src, len);
		return 0;
	}
	return virtq_chain_copy(vq, chain, true, off, (uint8_t *)src, len,
	    true);
}

#endif

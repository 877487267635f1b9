/* ring.c - driver side of a split virtqueue in fake-guest memory. */
#include "config.h"

#include <endian.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ring.h"

static inline uint16_t
load16(const uint8_t *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)(const void *)p,
	    __ATOMIC_RELAXED));
}

static inline uint32_t
load32(const uint8_t *p)
{
	return le32toh(__atomic_load_n((const uint32_t *)(const void *)p,
	    __ATOMIC_RELAXED));
}

/*
 * The indexes that publish memory are a release store (avail idx) and an
 * acquire load (used idx), which ThreadSanitizer follows, unlike a fence
 * beside a relaxed access (src/virtio/virtq.c, the device's half).
 */
static inline uint16_t
load16_acquire(const uint8_t *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)(const void *)p,
	    __ATOMIC_ACQUIRE));
}

static inline void
store16_release(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)(void *)p, htole16(v), __ATOMIC_RELEASE);
}

static inline void
store16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)(void *)p, htole16(v), __ATOMIC_RELAXED);
}

int
fg_ring_init(struct fg_ring *r, struct fg_mem *mem, uint32_t num,
    uint64_t features)
{
	uint32_t i;

	memset(r, 0, sizeof(*r));
	if (!virtq_size_valid(num))
		return -VSE_ERR_VQ_SIZE;
	r->mem = mem;
	r->num = num;
	r->event_idx = (features & VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX)) != 0;
	r->indirect =
	    (features & VIRTIO_FEATURE(VIRTIO_RING_F_INDIRECT_DESC)) != 0;
	r->desc_gpa = fg_mem_alloc(mem, virtq_desc_bytes(num), VIRTQ_DESC_ALIGN);
	r->avail_gpa = fg_mem_alloc(mem, virtq_avail_bytes(num),
	    VIRTQ_AVAIL_ALIGN);
	r->used_gpa = fg_mem_alloc(mem, virtq_used_bytes(num), VIRTQ_USED_ALIGN);
	r->slot = calloc(num, sizeof(*r->slot));
	r->next_free = calloc(num, sizeof(*r->next_free));
	r->writable_len = calloc(num, sizeof(*r->writable_len));
	if (r->desc_gpa == FG_GPA_NONE || r->avail_gpa == FG_GPA_NONE ||
	    r->used_gpa == FG_GPA_NONE || r->slot == NULL ||
	    r->next_free == NULL || r->writable_len == NULL) {
		fg_ring_destroy(r);
		return -VSE_ERR_NOMEM;
	}
	r->desc = fg_mem_ptr(mem, r->desc_gpa, virtq_desc_bytes(num));
	r->avail = fg_mem_ptr(mem, r->avail_gpa, virtq_avail_bytes(num));
	r->used = fg_mem_ptr(mem, r->used_gpa, virtq_used_bytes(num));
	for (i = 0; i < num; i++) {
		r->next_free[i] = (uint16_t)(i + 1);
		r->slot[i].indirect = FG_GPA_NONE;
	}
	r->num_free = num;
	return 0;
}

void
fg_ring_destroy(struct fg_ring *r)
{
	free(r->slot);
	free(r->next_free);
	free(r->writable_len);
	memset(r, 0, sizeof(*r));
}

/* Writes one descriptor in little-endian into a table at host pointer t. */
static void
put_desc(uint8_t *t, uint32_t i, uint64_t addr, uint32_t len, uint16_t flags,
    uint16_t next)
{
	struct virtq_desc d = {
		.addr = htole64(addr),
		.len = htole32(len),
		.flags = htole16(flags),
		.next = htole16(next),
	};

	memcpy(t + 16 * (uint64_t)i, &d, sizeof(d));
}

/* Fills the n = nout + nin descriptors of an indirect table. */
static void
fill_indirect(uint8_t *t, const struct fg_buf *out, unsigned nout,
    const struct fg_buf *in, unsigned nin)
{
	unsigned i, n = nout + nin;

	for (i = 0; i < n; i++) {
		const struct fg_buf *b = i < nout ? &out[i] : &in[i - nout];
		uint16_t flags = (i < nout ? 0 : VIRTQ_DESC_F_WRITE) |
		    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);

		put_desc(t, i, b->gpa, b->len, flags, (uint16_t)(i + 1));
	}
}

/*
 * Makes head visible to the device: entry, then (release) the index.
 * Inline: a handful of stores that every add and repost makes.
 */
static inline void
publish(struct fg_ring *r, uint16_t head)
{
	store16(r->avail + VIRTQ_AVAIL_RING(r->avail_idx & (r->num - 1)), head);
	r->avail_idx++;
	/* 2.7.13.2: descriptors, buffers and ring entry before idx. */
	store16_release(r->avail + VIRTQ_AVAIL_IDX, r->avail_idx);
}

int
fg_ring_add(struct fg_ring *r, const struct fg_buf *out, unsigned nout,
    const struct fg_buf *in, unsigned nin, void *token, bool use_indirect)
{
	unsigned i, n = nout + nin, ndesc;
	uint16_t head, idx;
	uint32_t wlen = 0;
	struct fg_ring_slot *s;

	if (n == 0 || token == NULL)
		return -VSE_ERR_INVAL;
	use_indirect = use_indirect && r->indirect && n > 1;
	if (use_indirect && n > FG_RING_INDIRECT_MAX)
		return -VSE_ERR_INVAL;
	ndesc = use_indirect ? 1 : n;
	if (ndesc > r->num_free)
		return -VSE_ERR_NOMEM;
	for (i = 0; i < nin; i++)
		wlen += in[i].len;

	head = r->free_head;
	s = &r->slot[head];
	if (use_indirect) {
		if (s->indirect == FG_GPA_NONE) {
			s->indirect = fg_mem_alloc(r->mem,
			    16 * FG_RING_INDIRECT_MAX, VIRTQ_DESC_ALIGN);
			if (s->indirect == FG_GPA_NONE)
				return -VSE_ERR_NOMEM;
			/* Mapped once: the table is this head's for good. */
			s->indirect_hva = fg_mem_ptr(r->mem, s->indirect,
			    16 * FG_RING_INDIRECT_MAX);
		}
		fill_indirect(s->indirect_hva, out, nout, in, nin);
		put_desc(r->desc, head, s->indirect, 16 * n,
		    VIRTQ_DESC_F_INDIRECT, 0);
		r->free_head = r->next_free[head];
	} else {
		idx = head;
		for (i = 0; i < n; i++) {
			const struct fg_buf *b = i < nout ? &out[i] :
			    &in[i - nout];
			uint16_t flags = i < nout ? 0 : VIRTQ_DESC_F_WRITE;
			uint16_t nx = r->next_free[idx];

			if (i + 1 < n)
				flags |= VIRTQ_DESC_F_NEXT;
			put_desc(r->desc, idx, b->gpa, b->len, flags,
			    i + 1 < n ? nx : 0);
			idx = nx;
		}
		r->free_head = idx;
	}
	r->num_free -= ndesc;
	s->token = token;
	s->ndesc = (uint16_t)ndesc;
	r->writable_len[head] = wlen;
	publish(r, head);
	r->stats.added++;
	return head;
}

bool
fg_ring_kick_needed(struct fg_ring *r)
{
	uint16_t old = r->kicked_avail_idx, new = r->avail_idx;
	bool kick;

	/* The idx store must be visible before we read the device's word. */
	atomic_thread_fence(memory_order_seq_cst);
	r->kicked_avail_idx = new;
	if (old == new)
		return false;
	if (r->event_idx)
		kick = virtq_need_event(load16(r->used +
		    VIRTQ_USED_AVAIL_EVENT(r->num)), new, old);
	else
		kick = !(load16(r->used + VIRTQ_USED_FLAGS) &
		    VIRTQ_USED_F_NO_NOTIFY);
	if (kick)
		r->stats.kicks++;
	return kick;
}

uint16_t
fg_ring_used_pending(const struct fg_ring *r)
{
	/* 2.7.14: what idx covers (elements, written buffers) is read after. */
	return (uint16_t)(load16_acquire(r->used + VIRTQ_USED_IDX) -
	    r->last_used_idx);
}

/* Returns the descriptors of head's chain to the free list. */
static void
free_chain(struct fg_ring *r, uint16_t head)
{
	struct fg_ring_slot *s = &r->slot[head];
	uint16_t idx = head;
	unsigned i;

	/*
	 * A direct chain took consecutive free-list entries from head, and
	 * next_free of in-use entries is untouched: follow our own links, not
	 * the table in guest memory.
	 */
	for (i = 1; i < s->ndesc; i++)
		idx = r->next_free[idx];
	r->next_free[idx] = r->free_head;
	r->free_head = head;
	r->num_free += s->ndesc;
	s->token = NULL;
	s->ndesc = 0;
}

/*
 * Takes the next used element off the ring after checking the device's
 * answer; the chain stays the caller's (id in *id). NULL when nothing is
 * used or the device broke the protocol (r->device_error says how).
 */
static void *
take_used(struct fg_ring *r, uint32_t *len, uint16_t *id_out)
{
	uint16_t pending = fg_ring_used_pending(r);
	const uint8_t *elem;
	uint32_t id, ulen;

	if (pending == 0 && r->event_idx) {
		/*
		 * used_event (stored at the last reap) must be visible before
		 * this second look at used idx, or a device on another thread
		 * that pushed meanwhile may read the old used_event and not
		 * interrupt: Linux's virtqueue_enable_cb_prepare() then
		 * virtio_mb() and virtqueue_poll(). The device's half is
		 * virtq_should_notify's fence.
		 */
		atomic_thread_fence(memory_order_seq_cst);
		pending = fg_ring_used_pending(r);
	}
	if (pending == 0)
		return NULL;
	if (pending > r->num) {
		r->device_error = "used idx moved more than the queue size";
		return NULL;
	}
	/* 2.7.14: the element is read after idx (used_pending's acquire). */
	elem = r->used + VIRTQ_USED_RING(r->last_used_idx & (r->num - 1));
	id = load32(elem);
	ulen = load32(elem + 4);
	if (id >= r->num || r->slot[id].token == NULL || r->slot[id].kept) {
		r->device_error = "used id was never made available";
		return NULL;
	}
	if (ulen > r->writable_len[id]) {
		r->device_error = "used length exceeds the writable buffers";
		return NULL;
	}
	r->last_used_idx++;
	if (r->event_idx)
		store16(r->avail + VIRTQ_AVAIL_USED_EVENT(r->num),
		    r->last_used_idx);
	r->stats.reaped++;
	if (len != NULL)
		*len = ulen;
	*id_out = (uint16_t)id;
	return r->slot[id].token;
}

void *
fg_ring_get_used(struct fg_ring *r, uint32_t *len)
{
	uint16_t id;
	void *token = take_used(r, len, &id);

	if (token != NULL)
		free_chain(r, id);
	return token;
}

void *
fg_ring_get_used_keep(struct fg_ring *r, uint32_t *len, uint16_t *head)
{
	void *token = take_used(r, len, head);

	/* No longer the device's: a second used element for it is an error. */
	if (token != NULL)
		r->slot[*head].kept = true;
	return token;
}

int
fg_ring_repost(struct fg_ring *r, uint16_t head)
{
	if (head >= r->num || !r->slot[head].kept)
		return -VSE_ERR_INVAL;
	r->slot[head].kept = false;
	publish(r, head);
	r->stats.added++;
	return 0;
}

unsigned
fg_ring_recycle(struct fg_ring *r, unsigned max)
{
	unsigned n;
	uint16_t head;

	/*
	 * fg_ring_get_used_keep then fg_ring_repost, without the kept mark
	 * between them: nothing can see the chain in that moment, and
	 * take_used checked head against the queue size.
	 */
	for (n = 0; n < max && take_used(r, NULL, &head) != NULL; n++) {
		publish(r, head);
		r->stats.added++;
	}
	return n;
}

void
fg_ring_set_interrupts(struct fg_ring *r, bool enable)
{
	if (r->event_idx) {
		if (enable)
			store16(r->avail + VIRTQ_AVAIL_USED_EVENT(r->num),
			    r->last_used_idx);
	} else {
		store16(r->avail + VIRTQ_AVAIL_FLAGS,
		    enable ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
	atomic_thread_fence(memory_order_seq_cst);
}

void
fg_ring_raw_desc(struct fg_ring *r, uint32_t i, uint64_t addr, uint32_t len,
    uint16_t flags, uint16_t next)
{
	if (i < r->num)
		put_desc(r->desc, i, addr, len, flags, next);
}

void
fg_ring_raw_publish(struct fg_ring *r, uint16_t head)
{
	publish(r, head);
}

void
fg_ring_raw_set_avail_idx(struct fg_ring *r, uint16_t idx)
{
	r->avail_idx = idx;
	store16_release(r->avail + VIRTQ_AVAIL_IDX, idx);
}

/* virtq.c - device side of a split virtqueue (virtio 1.2 section 2.7), hostile-guest safe. */
#include "config.h"

#include <endian.h>
#include <stdatomic.h>
#include <string.h>

#include "error.h"
#include "virtq.h"

/*
 * Ring words are shared with a driver that may run concurrently (another
 * thread, process or vCPU). Each access is a single atomic so it is
 * neither torn nor cached by the compiler. The two indexes that publish
 * memory are an acquire load (avail idx: 2.7.13.3) and a release store
 * (used idx: 2.7.8.2), which ThreadSanitizer follows (it does not follow
 * a fence beside a relaxed access: serve --guest-thread is checked under
 * it); the other words are relaxed, ordered by the seq_cst fences of
 * 2.7.10 where notification suppression needs them. Setup guarantees
 * these addresses are naturally aligned.
 */
static inline uint16_t
ring_load16(const uint8_t *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)(const void *)p,
	    __ATOMIC_RELAXED));
}

static inline void
ring_store16_release(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)(void *)p, htole16(v), __ATOMIC_RELEASE);
}

static inline void
ring_store16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)(void *)p, htole16(v), __ATOMIC_RELAXED);
}

static inline void
ring_store32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)(void *)p, htole32(v), __ATOMIC_RELAXED);
}

/* Maps one ring part, which must be aligned and inside one region. */
static int
map_part(const struct guestmem *mem, uint64_t gpa, uint64_t len,
    uint64_t align, uint8_t **out)
{
	uint8_t *p;
	int e;

	if (gpa % align != 0)
		return -VSE_ERR_VQ_ALIGN;
	p = guestmem_map(mem, gpa, len, &e);
	if (p == NULL)
		return -VSE_ERR_VQ_RING_ADDR;
	/* A region whose hva and gpa disagree on alignment is refused too. */
	if ((uintptr_t)p % align != 0)
		return -VSE_ERR_VQ_ALIGN;
	*out = p;
	return 0;
}

/* Setups so far, process-wide: each queue setup takes the next as its id. */
static uint64_t virtq_setups;

int
virtq_setup(struct virtq *vq, const struct guestmem *mem, uint32_t num,
    uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
    uint64_t features)
{
	bool event_idx = (features & VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX)) != 0;
	uint64_t avail_len, used_len;
	uint8_t *desc, *avail, *used;
	int e;

	virtq_reset(vq);
	if (!virtq_size_valid(num))
		return -VSE_ERR_VQ_SIZE;
	/* Without EVENT_IDX the trailing event words need not exist. */
	avail_len = virtq_avail_bytes(num) - (event_idx ? 0 : 2);
	used_len = virtq_used_bytes(num) - (event_idx ? 0 : 2);
	if ((e = map_part(mem, desc_gpa, virtq_desc_bytes(num),
	    VIRTQ_DESC_ALIGN, &desc)) < 0 ||
	    (e = map_part(mem, avail_gpa, avail_len, VIRTQ_AVAIL_ALIGN,
	    &avail)) < 0 ||
	    (e = map_part(mem, used_gpa, used_len, VIRTQ_USED_ALIGN,
	    &used)) < 0)
		return e;

	vq->mem = mem;
	vq->setup_id = __atomic_add_fetch(&virtq_setups, 1, __ATOMIC_RELAXED);
	vq->num = num;
	vq->event_idx = event_idx;
	vq->indirect =
	    (features & VIRTIO_FEATURE(VIRTIO_RING_F_INDIRECT_DESC)) != 0;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	return 0;
}

void
virtq_set_base(struct virtq *vq, uint16_t last_avail_idx)
{
	/* A broken queue stays broken and away from guest memory. */
	if (vq->broken)
		return;
	vq->last_avail_idx = last_avail_idx;
	vq->shadow_avail_idx = last_avail_idx;
	/* The used ring already says where the previous owner stopped. */
	if (vq->num != 0)
		vq->used_idx = ring_load16(vq->used + VIRTQ_USED_IDX);
	vq->signalled_used = vq->used_idx;
	vq->signalled_used_valid = false;
	/* Chains popped before belong to the old base: none goes back. */
	vq->rewindable = 0;
	vq->armed = false;
}

void
virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

/* Marks the queue broken for good and passes the error on. */
static int
virtq_break(struct virtq *vq, int err)
{
	if (vq->broken == 0)
		vq->broken = err;
	return err;
}

int
virtq_avail(struct virtq *vq)
{
	uint16_t pending;

	if (vq->num == 0)
		return -VSE_ERR_VQ_NOT_READY;
	if (vq->broken)
		return -VSE_ERR_VQ_BROKEN;
	/* 2.7.13.3: the entries and chains it covers are read after it. */
	vq->shadow_avail_idx = ring_load16_acquire(vq->avail + VIRTQ_AVAIL_IDX);
	pending = (uint16_t)(vq->shadow_avail_idx - vq->last_avail_idx);
	/* 2.7.13.3: the driver can never have more than num chains out. */
	if (pending > vq->num)
		return virtq_break(vq, -VSE_ERR_AVAIL_IDX);
	return pending;
}

/* Reads descriptor i of the direct table, or of an indirect table at tbl. */
static int
read_desc(const struct virtq *vq, uint64_t tbl, const uint8_t *tbl_hva,
    bool indirect, uint32_t i, struct virtq_desc *d)
{
	int e;

	if (!indirect) {
		memcpy(d, vq->desc + 16 * (uint64_t)i, sizeof(*d));
	} else if (tbl_hva != NULL) {
		/* A table in one region, mapped once; each entry read once. */
		memcpy(d, tbl_hva + 16 * (uint64_t)i, sizeof(*d));
	} else {
		/* The table was range-checked whole; read each entry once. */
		e = guestmem_read(vq->mem, tbl + 16 * (uint64_t)i, d,
		    sizeof(*d));
		if (e < 0)
			return -VSE_ERR_DESC_UNMAPPED;
	}
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
	return 0;
}

/*
 * Checks an indirect descriptor d found in a direct chain. *hva is the
 * table's host address when it lies in one region (a Linux guest's
 * always does: one kmalloc'd table), else NULL and read entry by entry.
 */
static int
check_indirect(const struct virtq *vq, const struct virtq_desc *d,
    const uint8_t **hva)
{
	int e;

	if (!vq->indirect)
		return -VSE_ERR_INDIRECT_NOT_NEGOTIATED;
	/* 2.7.5.3.1: INDIRECT and NEXT together are forbidden. */
	if (d->flags & VIRTQ_DESC_F_NEXT)
		return -VSE_ERR_INDIRECT_NEXT;
	if (d->len == 0)
		return -VSE_ERR_INDIRECT_EMPTY;
	if (d->len % sizeof(struct virtq_desc) != 0)
		return -VSE_ERR_INDIRECT_LEN;
	/* 2.7.5.3.1: no chain may be longer than the queue size. */
	if (d->len / sizeof(struct virtq_desc) > vq->num)
		return -VSE_ERR_INDIRECT_TOO_BIG;
	/* Inside one region: mapped whole, so checked whole (no wrap). */
	if ((*hva = guestmem_map_fast(vq->mem, d->addr, d->len)) != NULL)
		return 0;
	e = guestmem_check(vq->mem, d->addr, d->len);
	if (e == -VSE_ERR_MEM_OVERFLOW)
		return -VSE_ERR_DESC_OVERFLOW;
	if (e < 0)
		return -VSE_ERR_DESC_UNMAPPED;
	return 0;
}

/* Appends buffer d to the chain, enforcing order, bounds and totals. */
static int
add_seg(const struct virtq *vq, struct virtq_chain *c,
    const struct virtq_desc *d, bool *seen_write)
{
	bool writable = (d->flags & VIRTQ_DESC_F_WRITE) != 0;
	uint8_t *hva;
	int e = 0;

	/* 2.7.4.2: all device-readable buffers precede the writable ones. */
	if (!writable && *seen_write)
		return -VSE_ERR_READ_AFTER_WRITE;
	*seen_write |= writable;
	if (d->len == 0)
		return 0;
	/*
	 * guestmem_check's verdict, and the host address when the buffer
	 * lies in one region: a buffer across adjacent regions is accepted
	 * (MEM_SPLIT) and translated piecewise when used.
	 */
	hva = guestmem_map_fast(vq->mem, d->addr, d->len);
	if (hva == NULL)
		hva = guestmem_map(vq->mem, d->addr, d->len, &e);
	if (hva == NULL && e == -VSE_ERR_MEM_OVERFLOW)
		return -VSE_ERR_DESC_OVERFLOW;
	if (hva == NULL && e != -VSE_ERR_MEM_SPLIT)
		return -VSE_ERR_DESC_UNMAPPED;
	if (writable) {
		if (d->len > UINT32_MAX - c->write_len)
			return -VSE_ERR_CHAIN_TOO_LONG;
		c->write_len += d->len;
	} else {
		if (d->len > UINT32_MAX - c->read_len)
			return -VSE_ERR_CHAIN_TOO_LONG;
		c->read_len += d->len;
	}
	if (c->nseg == VIRTQ_CHAIN_MAX_SEGS)
		return -VSE_ERR_TOO_MANY_SEGS;
	c->seg[c->nseg].gpa = d->addr;
	c->seg[c->nseg].len = d->len;
	c->seg[c->nseg].hva = hva;
	c->nseg++;
	if (!writable)
		c->nread = c->nseg;
	return 0;
}

/*
 * The one chain walker. Follows head through the direct table and at most
 * one indirect table. Every loop is bounded by the size of the table it
 * walks: a chain that visits more descriptors than its table holds must
 * revisit one, i.e. loops.
 */
static int
walk_chain(const struct virtq *vq, uint16_t head, struct virtq_chain *c)
{
	struct virtq_desc d;
	const uint8_t *tbl_hva = NULL;
	uint64_t tbl = 0;
	uint32_t i = head, size = vq->num, count = 0;
	bool in_indirect = false, seen_write = false;
	int e;

	c->setup_id = vq->setup_id;
	c->head = head;
	c->nseg = c->nread = 0;
	c->read_len = c->write_len = 0;
	for (;;) {
		if (++count > size)
			return -VSE_ERR_CHAIN_LOOP;
		if ((e = read_desc(vq, tbl, tbl_hva, in_indirect, i, &d)) < 0)
			return e;
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (in_indirect)
				return -VSE_ERR_INDIRECT_NESTED;
			if ((e = check_indirect(vq, &d, &tbl_hva)) < 0)
				return e;
			/* 2.7.5.3.2: the device ignores WRITE here. */
			in_indirect = true;
			tbl = d.addr;
			size = d.len / sizeof(struct virtq_desc);
			i = 0;
			count = 0;
			continue;
		}
		if ((e = add_seg(vq, c, &d, &seen_write)) < 0)
			return e;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
		if (i >= size)
			return -VSE_ERR_NEXT_RANGE;
	}
}

int
virtq_pop(struct virtq *vq, struct virtq_chain *chain)
{
	uint16_t head;
	int e;

	if (vq->num == 0)
		return -VSE_ERR_VQ_NOT_READY;
	if (vq->broken)
		return -VSE_ERR_VQ_BROKEN;
	if (vq->last_avail_idx == vq->shadow_avail_idx) {
		e = virtq_avail(vq);
		if (e <= 0)
			return e;
	}
	/* 2.7.13.3: the entry is read after idx (virtq_avail's acquire). */
	head = ring_load16(vq->avail +
	    VIRTQ_AVAIL_RING(vq->last_avail_idx & (vq->num - 1)));
	if (head >= vq->num)
		return virtq_break(vq, -VSE_ERR_HEAD_RANGE);
	e = walk_chain(vq, head, chain);
	if (e < 0)
		return virtq_break(vq, e);
	vq->popped_heads[vq->last_avail_idx % VIRTQ_REWIND_MAX] = head;
	vq->last_avail_idx++;
	vq->stats.popped++;
	if (vq->rewindable < VIRTQ_REWIND_MAX)
		vq->rewindable++;
	return 1;
}

int
virtq_pop_or_arm_full(struct virtq *vq, struct virtq_chain *chain)
{
	int r = virtq_pop(vq, chain);

	if (r != 0)
		return r;
	/*
	 * Still armed at the index just read (nothing published since the
	 * last empty pop): the driver's next publish already notifies, so
	 * storing the same word, fencing and reading idx again would find
	 * what this pop found. Every tx run on a host event comes here.
	 */
	if (vq->armed && vq->armed_idx == vq->shadow_avail_idx)
		return 0;
	virtq_set_notification(vq, true);
	/* This pop's own first look, after the fence: idx again. */
	r = virtq_avail(vq);
	if (r > 0)
		r = virtq_pop(vq, chain);
	if (r == 0) {
		vq->armed = true;
		vq->armed_idx = vq->shadow_avail_idx;
	}
	return r;
}

int
virtq_rewind(struct virtq *vq, unsigned n)
{
	if (vq->num == 0)
		return -VSE_ERR_VQ_NOT_READY;
	if (vq->broken)
		return -VSE_ERR_VQ_BROKEN;
	/*
	 * Rewinding past what was popped would put last_avail_idx behind
	 * the driver's window (a full ring then looks like the guest's
	 * avail-idx error), and rewinding a pushed chain would hand out a
	 * head the driver may already have reused.
	 */
	if (n > vq->rewindable)
		return -VSE_ERR_INVAL;
	vq->rewindable = (uint16_t)(vq->rewindable - n);
	vq->last_avail_idx = (uint16_t)(vq->last_avail_idx - n);
	vq->stats.popped -= n;
	return 0;
}

int
virtq_unpop(struct virtq *vq)
{
	return virtq_rewind(vq, 1);
}

/*
 * A push of id ends what may be rewound at the chains popped after it.
 * The newest pop with that head counts (a guest may publish a head
 * twice): the fewest chains stay rewindable.
 */
static void
rewind_forget(struct virtq *vq, uint16_t id)
{
	uint16_t j;

	for (j = 0; j < vq->rewindable; j++) {
		if (vq->popped_heads[(uint16_t)(vq->last_avail_idx - 1 - j) %
		    VIRTQ_REWIND_MAX] == id) {
			vq->rewindable = j;
			return;
		}
	}
}

int
virtq_push(struct virtq *vq, uint16_t id, uint32_t len)
{
	uint8_t *elem;

	if (vq->num == 0)
		return -VSE_ERR_VQ_NOT_READY;
	if (vq->broken)
		return -VSE_ERR_VQ_BROKEN;
	if (id >= vq->num)
		return -VSE_ERR_USED_ID;
	elem = vq->used + VIRTQ_USED_RING(vq->used_idx & (vq->num - 1));
	rewind_forget(vq, id);
	ring_store32(elem, id);
	ring_store32(elem + 4, len);
	vq->used_idx++;
	/* 2.7.8.2: the element (and the data written) before the index. */
	ring_store16_release(vq->used + VIRTQ_USED_IDX, vq->used_idx);
	vq->used_since_signal = true;
	/*
	 * 2^16 pushes without a decision bring used_idx back onto
	 * signalled_used: the [old, new) event window no longer says what
	 * was crossed, so forget it and notify next time (as Linux vhost).
	 */
	if (vq->used_idx == vq->signalled_used)
		vq->signalled_used_valid = false;
	vq->stats.pushed++;
	return 0;
}

int
virtq_push_n(struct virtq *vq, const struct virtq_done *e, unsigned n)
{
	unsigned k, m;

	if (vq->num == 0)
		return -VSE_ERR_VQ_NOT_READY;
	if (vq->broken)
		return -VSE_ERR_VQ_BROKEN;
	/* The elements before the first bad id go, as with virtq_push. */
	for (m = 0; m < n && e[m].id < vq->num; m++)
		;
	for (k = 0; k < m; k++) {
		uint8_t *elem = vq->used +
		    VIRTQ_USED_RING(vq->used_idx & (vq->num - 1));

		ring_store32(elem, e[k].id);
		ring_store32(elem + 4, e[k].len);
		vq->used_idx++;
		/* As virtq_push: a lap of pushes forgets the event window. */
		if (vq->used_idx == vq->signalled_used)
			vq->signalled_used_valid = false;
	}
	/*
	 * What m rewind_forget calls leave is the least of what each would
	 * (the pops and their heads do not change meanwhile), whatever the
	 * order: newest first, the first call usually ends the window and
	 * the others look at nothing.
	 */
	for (k = m; k-- > 0;)
		rewind_forget(vq, e[k].id);
	if (m > 0) {
		/* 2.7.8.2: the elements (and data written) before the index. */
		ring_store16_release(vq->used + VIRTQ_USED_IDX, vq->used_idx);
		vq->used_since_signal = true;
		vq->stats.pushed += m;
	}
	return m < n ? -VSE_ERR_USED_ID : 0;
}

bool
virtq_should_notify(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, new = vq->used_idx;
	bool valid = vq->signalled_used_valid, notify;

	if (vq->num == 0 || vq->broken)
		return false;
	vq->signalled_used = new;
	vq->signalled_used_valid = true;
	/* Not old == new: 2^16 pushes would look like none. */
	if (!vq->used_since_signal)
		return false;	/* nothing used since the last decision */
	/*
	 * 2.7.10: the used idx store must be visible before we read the
	 * driver's suppression word, or both sides can miss each other
	 * (no word is read when nothing was used: no fence needed).
	 */
	atomic_thread_fence(memory_order_seq_cst);
	vq->used_since_signal = false;
	if (!vq->event_idx)
		notify = !(ring_load16(vq->avail + VIRTQ_AVAIL_FLAGS) &
		    VIRTQ_AVAIL_F_NO_INTERRUPT);
	else
		notify = !valid || virtq_need_event(ring_load16(vq->avail +
		    VIRTQ_AVAIL_USED_EVENT(vq->num)), new, old);
	if (notify)
		vq->stats.notifies++;
	return notify;
}

void
virtq_set_notification(struct virtq *vq, bool enable)
{
	if (vq->num == 0 || vq->broken)
		return;
	vq->armed = false;	/* virtq_pop_or_arm says when it holds */
	if (vq->event_idx) {
		/* 2.7.10: kick me once you publish past what I have seen. */
		if (enable)
			ring_store16(vq->used + VIRTQ_USED_AVAIL_EVENT(vq->num),
			    vq->shadow_avail_idx);
	} else {
		ring_store16(vq->used + VIRTQ_USED_FLAGS,
		    enable ? 0 : VIRTQ_USED_F_NO_NOTIFY);
	}
	/* The caller re-reads avail idx next; order it after our store. */
	if (enable)
		atomic_thread_fence(memory_order_seq_cst);
}

/* Copies between a chain's segments [first, last) and a host buffer. */
static int
chain_copy(const struct virtq *vq, const struct virtq_chain *c,
    unsigned first, unsigned last, uint32_t off, uint8_t *buf, uint32_t len,
    bool to_guest)
{
	unsigned i;
	uint32_t chunk;
	uint8_t *h;
	int e;

	/*
	 * A chain popped before the queue broke (or was reset) is no way
	 * back into guest memory; after a reset vq->mem is NULL as well.
	 */
	if (vq->num == 0)
		return -VSE_ERR_VQ_NOT_READY;
	if (vq->broken)
		return -VSE_ERR_VQ_BROKEN;
	for (i = first; i < last && len > 0; i++) {
		const struct virtq_seg *s = &c->seg[i];

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		chunk = s->len - off < len ? s->len - off : len;
		if ((h = virtq_seg_hva(vq, c, i)) != NULL) {
			/* Checked at pop, under this very setup. */
			if (to_guest)
				memcpy(h + off, buf, chunk);
			else
				memcpy(buf, h + off, chunk);
			e = 0;
		} else {
			e = to_guest ?
		    guestmem_write(vq->mem, s->gpa + off, buf, chunk) :
			    guestmem_read(vq->mem, s->gpa + off, buf, chunk);
		}
		if (e < 0)
			return e;
		buf += chunk;
		len -= chunk;
		off = 0;
	}
	return len == 0 ? 0 : -VSE_ERR_INVAL;
}

int
virtq_chain_copy(const struct virtq *vq, const struct virtq_chain *chain,
    bool writable, uint32_t off, uint8_t *buf, uint32_t len, bool to_guest)
{
	return writable ?
	    chain_copy(vq, chain, chain->nread, chain->nseg, off, buf, len,
	    to_guest) :
	    chain_copy(vq, chain, 0, chain->nread, off, buf, len, to_guest);
}

int
virtq_chain_iov_full(const struct virtq *vq, const struct virtq_chain *chain,
    bool writable, uint32_t off, uint32_t len, struct iovec *iov, int max,
    uint32_t *mapped)
{
	unsigned i = writable ? chain->nread : 0;
	unsigned last = writable ? chain->nseg : chain->nread;
	uint8_t *h;
	int n = 0;

	*mapped = 0;
	/* As for chain copies: no way back into memory of a dead queue. */
	if (vq->num == 0 || vq->broken)
		return 0;
	for (; i < last && len > 0; i++) {
		uint64_t gpa = chain->seg[i].gpa, avail;
		uint32_t seg = chain->seg[i].len;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		gpa += off;
		seg -= off;
		if (seg > len)
			seg = len;
		len -= seg;
		if ((h = virtq_seg_hva(vq, chain, i)) != NULL) {
			/* One region, checked at pop under this setup. */
			if (n == max)
				return n;
			iov[n++] = (struct iovec){ h + off, seg };
			*mapped += seg;
			off = 0;
			continue;
		}
		off = 0;
		while (seg > 0) {
			void *p = guestmem_map_partial(vq->mem, gpa, seg,
			    &avail);

			if (p == NULL || n == max)
				return n;
			iov[n++] = (struct iovec){ p, avail };
			gpa += avail;
			seg -= (uint32_t)avail;
			*mapped += (uint32_t)avail;
		}
	}
	return n;
}

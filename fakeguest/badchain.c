/* badchain.c - the adversarial chain builder behind the walker tests and the fuzzer. */
#include "config.h"

#include <endian.h>

#include "badchain.h"
#include "error.h"
#include "virtq.h"

#define GIB (UINT64_C(1) << 30)

static const struct fg_bad_info infos[FG_BAD__COUNT] = {
	[FG_BAD_AVAIL_IDX] = { "avail-idx", -VSE_ERR_AVAIL_IDX, 1, -1, 0 },
	[FG_BAD_HEAD_RANGE] = { "head-range", -VSE_ERR_HEAD_RANGE, 1, -1, 0 },
	[FG_BAD_NEXT_RANGE] = { "next-range", -VSE_ERR_NEXT_RANGE, 1, -1, 0 },
	[FG_BAD_LOOP] = { "loop", -VSE_ERR_CHAIN_LOOP, 2, -1, 0 },
	[FG_BAD_SELF_LOOP] = { "self-loop", -VSE_ERR_CHAIN_LOOP, 1, -1, 0 },
	[FG_BAD_INDIRECT_NOT_NEGOTIATED] = { "indirect-not-negotiated",
	    -VSE_ERR_INDIRECT_NOT_NEGOTIATED, 2, 0, 0 },
	[FG_BAD_INDIRECT_EMPTY] = { "indirect-empty",
	    -VSE_ERR_INDIRECT_EMPTY, 1, 1, 0 },
	[FG_BAD_INDIRECT_LEN] = { "indirect-len", -VSE_ERR_INDIRECT_LEN, 2, 1,
	    0 },
	[FG_BAD_INDIRECT_TOO_BIG] = { "indirect-too-big",
	    -VSE_ERR_INDIRECT_TOO_BIG, 1, 1, 0 },
	[FG_BAD_INDIRECT_NESTED] = { "indirect-nested",
	    -VSE_ERR_INDIRECT_NESTED, 2, 1, 0 },
	[FG_BAD_INDIRECT_NEXT] = { "indirect-next", -VSE_ERR_INDIRECT_NEXT, 2,
	    1, 0 },
	[FG_BAD_INDIRECT_NEXT_RANGE] = { "indirect-next-range",
	    -VSE_ERR_NEXT_RANGE, 2, 1, 0 },
	[FG_BAD_INDIRECT_LOOP] = { "indirect-loop", -VSE_ERR_CHAIN_LOOP, 2, 1,
	    0 },
	[FG_BAD_INDIRECT_UNMAPPED] = { "indirect-unmapped",
	    -VSE_ERR_DESC_UNMAPPED, 1, 1, 0 },
	[FG_BAD_INDIRECT_OVERFLOW] = { "indirect-overflow",
	    -VSE_ERR_DESC_OVERFLOW, 1, 1, 0 },
	[FG_BAD_READ_AFTER_WRITE] = { "read-after-write",
	    -VSE_ERR_READ_AFTER_WRITE, 2, -1, 0 },
	[FG_BAD_READ_AFTER_EMPTY_WRITE] = { "read-after-empty-write",
	    -VSE_ERR_READ_AFTER_WRITE, 2, -1, 0 },
	[FG_BAD_DESC_OVERFLOW] = { "desc-overflow", -VSE_ERR_DESC_OVERFLOW, 1,
	    -1, 0 },
	[FG_BAD_DESC_UNMAPPED] = { "desc-unmapped", -VSE_ERR_DESC_UNMAPPED, 1,
	    -1, 0 },
	[FG_BAD_DESC_PAST_END] = { "desc-past-end", -VSE_ERR_DESC_UNMAPPED, 1,
	    -1, 0 },
	[FG_BAD_READ_TOO_LONG] = { "read-too-long", -VSE_ERR_CHAIN_TOO_LONG,
	    2, -1, 3 * GIB },
	[FG_BAD_WRITE_TOO_LONG] = { "write-too-long", -VSE_ERR_CHAIN_TOO_LONG,
	    2, -1, 3 * GIB },
	[FG_BAD_TOO_MANY_SEGS] = { "too-many-segs", -VSE_ERR_TOO_MANY_SEGS,
	    2 * VIRTQ_CHAIN_MAX_SEGS, -1, 0 },
};

const struct fg_bad_info *
fg_bad_info(enum fg_bad kind)
{
	return (unsigned)kind < FG_BAD__COUNT ? &infos[kind] : NULL;
}

/* Can r express this case? */
static int
ring_fits(const struct fg_ring *r, const struct fg_bad_info *in)
{
	if (r->num < in->min_queue)
		return 0;
	if (in->indirect >= 0 && (int)r->indirect != in->indirect)
		return 0;
	return r->mem->region[0].size >= in->min_region;
}

/* A guest address no region covers: below the first region or past the last. */
static uint64_t
hole_gpa(const struct fg_mem *m)
{
	const struct fg_mem_region *last = &m->region[m->nregions - 1];

	if (m->region[0].gpa >= 4096)
		return m->region[0].gpa - 4096;
	return last->gpa + last->size;
}

/* Writes an indirect table of n entries and returns its address. */
static uint64_t
table(struct fg_ring *r, const struct virtq_desc *d, unsigned n)
{
	uint64_t gpa = fg_mem_alloc(r->mem, 16 * (uint64_t)n, VIRTQ_DESC_ALIGN);
	uint8_t *t;
	unsigned i;

	if (gpa == FG_GPA_NONE)
		return gpa;
	t = fg_mem_ptr(r->mem, gpa, 16 * (uint64_t)n);
	for (i = 0; i < n; i++) {
		struct virtq_desc le = {
			.addr = htole64(d[i].addr), .len = htole32(d[i].len),
			.flags = htole16(d[i].flags), .next = htole16(d[i].next),
		};
		__builtin_memcpy(t + 16 * i, &le, 16);
	}
	return gpa;
}

/* Publishes a chain of n raw descriptors at indices 0..n-1 (head 0). */
static void
raw_chain(struct fg_ring *r, const struct virtq_desc *d, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		fg_ring_raw_desc(r, i, d[i].addr, d[i].len, d[i].flags,
		    d[i].next);
	fg_ring_raw_publish(r, 0);
}

/* Cases whose malformation is inside an indirect table. */
static int
publish_indirect(struct fg_ring *r, enum fg_bad kind, uint64_t buf)
{
	struct virtq_desc d[2] = {
		{ buf, 8, VIRTQ_DESC_F_NEXT, 1 },
		{ buf + 8, 8, VIRTQ_DESC_F_WRITE, 0 },
	};
	struct virtq_desc head = { FG_GPA_NONE, 32, VIRTQ_DESC_F_INDIRECT, 0 };
	struct virtq_desc *big;
	unsigned i;

	switch (kind) {
	case FG_BAD_INDIRECT_NOT_NEGOTIATED:
		break;
	case FG_BAD_INDIRECT_EMPTY:
		head.len = 0;
		break;
	case FG_BAD_INDIRECT_LEN:
		head.len = 24;
		break;
	case FG_BAD_INDIRECT_NESTED:
		d[0].flags |= VIRTQ_DESC_F_INDIRECT;
		break;
	case FG_BAD_INDIRECT_NEXT:
		head.flags |= VIRTQ_DESC_F_NEXT;
		head.next = 0;
		break;
	case FG_BAD_INDIRECT_NEXT_RANGE:
		d[1].flags |= VIRTQ_DESC_F_NEXT;
		d[1].next = 2;
		break;
	case FG_BAD_INDIRECT_LOOP:
		d[1].flags = VIRTQ_DESC_F_NEXT;
		d[1].next = 0;
		break;
	case FG_BAD_INDIRECT_UNMAPPED:
		head.addr = hole_gpa(r->mem);
		break;
	case FG_BAD_INDIRECT_OVERFLOW:
		head.addr = UINT64_MAX - 15;
		head.len = 32;
		break;
	case FG_BAD_INDIRECT_TOO_BIG:
		head.len = 16 * (r->num + 1);
		head.addr = fg_mem_alloc(r->mem, head.len, VIRTQ_DESC_ALIGN);
		if (head.addr == FG_GPA_NONE)
			return -VSE_ERR_NOMEM;
		big = fg_mem_ptr(r->mem, head.addr, head.len);
		for (i = 0; i <= r->num; i++)
			big[i] = (struct virtq_desc){ htole64(buf), htole32(1),
			    0, 0 };
		raw_chain(r, &head, 1);
		return 0;
	default:
		return -VSE_ERR_INVAL;
	}
	if (head.addr == FG_GPA_NONE) {
		head.addr = table(r, d, 2);
		if (head.addr == FG_GPA_NONE)
			return -VSE_ERR_NOMEM;
	}
	raw_chain(r, &head, 1);
	return 0;
}

int
fg_bad_publish(struct fg_ring *r, enum fg_bad kind)
{
	const struct fg_bad_info *in = fg_bad_info(kind);
	uint64_t buf, big = 0xC0000000u;
	const struct fg_mem_region *r0;
	struct virtq_desc d[2] = {
		{ 0, 8, VIRTQ_DESC_F_NEXT, 1 },
		{ 0, 8, VIRTQ_DESC_F_WRITE, 0 },
	};
	unsigned i;

	if (in == NULL || !ring_fits(r, in))
		return -VSE_ERR_INVAL;
	r0 = &r->mem->region[0];
	buf = fg_mem_alloc(r->mem, 4096, 16);
	if (buf == FG_GPA_NONE)
		return -VSE_ERR_NOMEM;
	d[0].addr = buf;
	d[1].addr = buf + 8;

	switch (kind) {
	case FG_BAD_AVAIL_IDX:
		fg_ring_raw_set_avail_idx(r, (uint16_t)(r->avail_idx +
		    r->num + 1));
		return 0;
	case FG_BAD_HEAD_RANGE:
		fg_ring_raw_publish(r, (uint16_t)r->num);
		return 0;
	case FG_BAD_NEXT_RANGE:
		d[0].next = (uint16_t)r->num;
		raw_chain(r, d, 1);
		return 0;
	case FG_BAD_LOOP:
		d[1].flags = VIRTQ_DESC_F_NEXT;
		d[1].next = 0;
		raw_chain(r, d, 2);
		return 0;
	case FG_BAD_SELF_LOOP:
		d[0].next = 0;
		raw_chain(r, d, 1);
		return 0;
	case FG_BAD_READ_AFTER_WRITE:
		d[0].flags |= VIRTQ_DESC_F_WRITE;
		d[1].flags = 0;
		raw_chain(r, d, 2);
		return 0;
	case FG_BAD_READ_AFTER_EMPTY_WRITE:
		d[0].flags |= VIRTQ_DESC_F_WRITE;
		d[0].len = 0;
		d[1].flags = 0;
		raw_chain(r, d, 2);
		return 0;
	case FG_BAD_DESC_OVERFLOW:
		d[0].addr = UINT64_MAX - 3;
		raw_chain(r, d, 2);
		return 0;
	case FG_BAD_DESC_UNMAPPED:
		d[0].addr = hole_gpa(r->mem);
		raw_chain(r, d, 2);
		return 0;
	case FG_BAD_DESC_PAST_END:
		d[0].addr = r0->gpa + r0->size - 7;
		raw_chain(r, d, 2);
		return 0;
	case FG_BAD_READ_TOO_LONG:
	case FG_BAD_WRITE_TOO_LONG:
		/* Both buffers alias the same untouched NORESERVE bytes. */
		for (i = 0; i < 2; i++) {
			d[i].addr = r0->gpa;
			d[i].len = (uint32_t)big;
			d[i].flags = kind == FG_BAD_WRITE_TOO_LONG ?
			    VIRTQ_DESC_F_WRITE : 0;
		}
		d[0].flags |= VIRTQ_DESC_F_NEXT;
		raw_chain(r, d, 2);
		return 0;
	case FG_BAD_TOO_MANY_SEGS:
		for (i = 0; i <= VIRTQ_CHAIN_MAX_SEGS; i++)
			fg_ring_raw_desc(r, i, buf, 1,
			    i < VIRTQ_CHAIN_MAX_SEGS ? VIRTQ_DESC_F_NEXT : 0,
			    (uint16_t)(i + 1));
		fg_ring_raw_publish(r, 0);
		return 0;
	default:
		return publish_indirect(r, kind, buf);
	}
}

/* check_virtq.c - the device-side chain walker against well-formed and hostile rings. */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "badchain.h"
#include "common.h"

#define MIB (UINT64_C(1) << 20)

/*
 * One test per walker rule: the adversarial builder fabricates the case, the
 * walker must refuse it with that rule's own error, the queue must become
 * broken, and afterwards nothing may touch guest memory (it is sealed, so a
 * touch faults and fails the test).
 */
START_TEST(test_walker_rule)
{
	const struct fg_bad_info *in = fg_bad_info((enum fg_bad)_i);
	uint64_t features = FEAT(VIRTIO_F_VERSION_1) |
	    FEAT(VIRTIO_RING_F_EVENT_IDX);
	uint32_t qsize = in->min_queue < 8 ? 8 : in->min_queue;
	struct rig *rg;

	if (in->indirect != 0)
		features |= FEAT(VIRTIO_RING_F_INDIRECT_DESC);
	rg = rig_new(qsize, features, in->min_region + 4 * MIB);
	/* Something pushed, so that a notify decision would read the ring. */
	ck_assert_err(virtq_push(&rg->vq, 0, 0), 0);
	ck_assert_err(fg_bad_publish(&rg->ring, (enum fg_bad)_i), 0);
	ck_assert_msg(virtq_pop(&rg->vq, &rg->chain) == in->expected,
	    "case %s: want %s", in->name, vse_errname(in->expected));
	ck_assert(virtq_is_broken(&rg->vq));
	ck_assert_err(rg->vq.broken, in->expected);

	rig_seal_memory(rg);
	ck_assert_err(virtq_pop(&rg->vq, &rg->chain), -VSE_ERR_VQ_BROKEN);
	ck_assert_err(virtq_avail(&rg->vq), -VSE_ERR_VQ_BROKEN);
	ck_assert_err(virtq_push(&rg->vq, 0, 0), -VSE_ERR_VQ_BROKEN);
	ck_assert(!virtq_should_notify(&rg->vq));
	virtq_set_notification(&rg->vq, true);
	virtq_set_base(&rg->vq, 0);	/* would read used->idx */
	ck_assert(!virtq_is_ready(&rg->vq));
	/* Only a reset clears it. */
	virtq_reset(&rg->vq);
	ck_assert(!virtq_is_broken(&rg->vq));
	ck_assert_err(virtq_pop(&rg->vq, &rg->chain), -VSE_ERR_VQ_NOT_READY);
	rig_free(rg);
}
END_TEST

/* The builder refuses a ring that cannot express a case. */
START_TEST(test_builder_checks_ring)
{
	struct rig *rg = rig_new(8, FEAT(VIRTIO_F_VERSION_1), MIB);

	ck_assert_err(fg_bad_publish(&rg->ring, FG_BAD_INDIRECT_EMPTY),
	    -VSE_ERR_INVAL);
	ck_assert_err(fg_bad_publish(&rg->ring, FG_BAD_TOO_MANY_SEGS),
	    -VSE_ERR_INVAL);
	ck_assert_err(fg_bad_publish(&rg->ring, FG_BAD_READ_TOO_LONG),
	    -VSE_ERR_INVAL);
	ck_assert_err(fg_bad_publish(&rg->ring, FG_BAD__COUNT), -VSE_ERR_INVAL);
	ck_assert_ptr_null(fg_bad_info(FG_BAD__COUNT));
	rig_free(rg);
}
END_TEST

START_TEST(test_setup_checks)
{
	struct fg_mem mem;
	struct virtq vq;
	uint64_t base;

	ck_assert_err(fg_mem_init_simple(&mem, MIB), 0);
	base = mem.region[0].gpa;
	ck_assert_err(virtq_setup(&vq, &mem.gm, 0, base, base, base, 0),
	    -VSE_ERR_VQ_SIZE);
	ck_assert_err(virtq_setup(&vq, &mem.gm, 24, base, base, base, 0),
	    -VSE_ERR_VQ_SIZE);
	ck_assert_err(virtq_setup(&vq, &mem.gm, 65536, base, base, base, 0),
	    -VSE_ERR_VQ_SIZE);
	ck_assert_err(virtq_setup(&vq, &mem.gm, 8, base + 8, base + 0x1000,
	    base + 0x2000, 0), -VSE_ERR_VQ_ALIGN);
	ck_assert_err(virtq_setup(&vq, &mem.gm, 8, base, base + 0x1001,
	    base + 0x2000, 0), -VSE_ERR_VQ_ALIGN);
	ck_assert_err(virtq_setup(&vq, &mem.gm, 8, base, base + 0x1000,
	    base + 0x2002, 0), -VSE_ERR_VQ_ALIGN);
	ck_assert_err(virtq_setup(&vq, &mem.gm, 8, 0x1000, base + 0x1000,
	    base + 0x2000, 0), -VSE_ERR_VQ_RING_ADDR);
	/* The used ring may not run off the end of memory. */
	ck_assert_err(virtq_setup(&vq, &mem.gm, 8, base, base + 0x1000,
	    base + MIB - 64, 0), -VSE_ERR_VQ_RING_ADDR);
	/* ...and with EVENT_IDX it needs two more bytes for avail_event. */
	ck_assert_err(virtq_setup(&vq, &mem.gm, 8, base, base + 0x1000,
	    base + MIB - 68, 0), 0);
	ck_assert_err(virtq_setup(&vq, &mem.gm, 8, base, base + 0x1000,
	    base + MIB - 68, FEAT(VIRTIO_RING_F_EVENT_IDX)),
	    -VSE_ERR_VQ_RING_ADDR);
	/* Same for the avail ring and its used_event word. */
	ck_assert_err(virtq_setup(&vq, &mem.gm, 8, base, base + MIB - 20,
	    base + 0x2000, 0), 0);
	ck_assert_err(virtq_setup(&vq, &mem.gm, 8, base, base + MIB - 20,
	    base + 0x2000, FEAT(VIRTIO_RING_F_EVENT_IDX)),
	    -VSE_ERR_VQ_RING_ADDR);
	ck_assert_err(virtq_setup(&vq, &mem.gm, 32768, base, base + 0x80000,
	    base + 0x90000, 0), 0);
	ck_assert_err(virtq_push(&vq, 32768 - 1, 0), 0);
	ck_assert_err(virtq_push(&vq, 32768, 0), -VSE_ERR_USED_ID);
	virtq_reset(&vq);
	ck_assert_err(virtq_push(&vq, 0, 0), -VSE_ERR_VQ_NOT_READY);
	ck_assert_err(virtq_avail(&vq), -VSE_ERR_VQ_NOT_READY);
	fg_mem_destroy(&mem);
}
END_TEST

/*
 * Guest and host addresses are checked for alignment separately: a region
 * whose host mapping is not aligned like its guest address can make either
 * one misaligned while the other is fine.
 */
START_TEST(test_setup_alignment_guest_and_host)
{
	static _Alignas(64) uint8_t ram[8192];
	struct guestmem gm;
	struct virtq vq;

	/* gpa misaligned, host pointer aligned. */
	guestmem_init(&gm);
	ck_assert_err(guestmem_add_region(&gm, 0x10008, 4096, ram), 0);
	ck_assert_err(virtq_setup(&vq, &gm, 8, 0x10008, 0x10400, 0x10800, 0),
	    -VSE_ERR_VQ_ALIGN);
	ck_assert_err(virtq_setup(&vq, &gm, 8, 0x10010, 0x10401, 0x10800, 0),
	    -VSE_ERR_VQ_ALIGN);
	ck_assert_err(virtq_setup(&vq, &gm, 8, 0x10010, 0x10400, 0x1080a, 0),
	    -VSE_ERR_VQ_ALIGN);
	/* gpa aligned, host pointer misaligned. */
	guestmem_init(&gm);
	ck_assert_err(guestmem_add_region(&gm, 0x10000, 4096, ram + 2), 0);
	ck_assert_err(virtq_setup(&vq, &gm, 8, 0x10000, 0x10400, 0x10800, 0),
	    -VSE_ERR_VQ_ALIGN);
	guestmem_init(&gm);
	ck_assert_err(guestmem_add_region(&gm, 0x10000, 4096, ram + 16), 0);
	ck_assert_err(virtq_setup(&vq, &gm, 8, 0x10000, 0x10400, 0x10800, 0),
	    0);
}
END_TEST

/* Direct and indirect chains arrive with their buffers in order. */
START_TEST(test_wellformed_chain)
{
	struct rig *rg = rig_new(16, F_ALL, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 4096, 16);
	struct fg_buf out[2] = { { b, 44 }, { b + 100, 200 } };
	struct fg_buf in[2] = { { b + 1000, 10 }, { b + 2000, 20 } };
	int indirect = _i, head;
	uint8_t bytes[244], got[244];
	unsigned i;

	for (i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)i;
	fg_mem_write(&rg->mem, b, bytes, 44);
	fg_mem_write(&rg->mem, b + 100, bytes + 44, 200);
	head = fg_ring_add(&rg->ring, out, 2, in, 2, rg, indirect);
	ck_assert_int_ge(head, 0);
	ck_assert_int_eq(virtq_avail(&rg->vq), 1);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(rg->chain.head, head);
	ck_assert_int_eq(rg->chain.nseg, 4);
	ck_assert_int_eq(rg->chain.nread, 2);
	ck_assert_uint_eq(rg->chain.read_len, 244);
	ck_assert_uint_eq(rg->chain.write_len, 30);
	ck_assert_uint_eq(rg->chain.seg[3].gpa, b + 2000);
	/* A read across the seam of two buffers, and one past the end. */
	ck_assert_err(virtq_chain_read(&rg->vq, &rg->chain, 0, got, 244), 0);
	ck_assert_mem_eq(got, bytes, 244);
	ck_assert_err(virtq_chain_read(&rg->vq, &rg->chain, 40, got, 10), 0);
	ck_assert_mem_eq(got, bytes + 40, 10);
	ck_assert_err(virtq_chain_read(&rg->vq, &rg->chain, 200, got, 45),
	    -VSE_ERR_INVAL);
	/*
	 * The view in place: a range inside one buffer, to its last byte;
	 * none across the seam or past the end, readable or writable.
	 */
	ck_assert_ptr_eq(virtq_chain_view(&rg->vq, &rg->chain, false, 0, 44),
	    fg_mem_ptr(&rg->mem, b, 44));
	ck_assert_ptr_eq(virtq_chain_view(&rg->vq, &rg->chain, false, 44,
	    200), fg_mem_ptr(&rg->mem, b + 100, 200));
	ck_assert_ptr_eq(virtq_chain_view(&rg->vq, &rg->chain, false, 243, 1),
	    fg_mem_ptr(&rg->mem, b + 299, 1));
	ck_assert_ptr_null(virtq_chain_view(&rg->vq, &rg->chain, false, 40,
	    10));
	ck_assert_ptr_null(virtq_chain_view(&rg->vq, &rg->chain, false, 44,
	    201));
	ck_assert_ptr_null(virtq_chain_view(&rg->vq, &rg->chain, false, 244,
	    1));
	ck_assert_ptr_eq(virtq_chain_view(&rg->vq, &rg->chain, true, 12, 18),
	    fg_mem_ptr(&rg->mem, b + 2002, 18));
	ck_assert_ptr_null(virtq_chain_view(&rg->vq, &rg->chain, true, 5, 6));
	ck_assert_ptr_null(virtq_chain_view(&rg->vq, &rg->chain, true, 30,
	    1));
	ck_assert_err(virtq_chain_write(&rg->vq, &rg->chain, 5, bytes, 25), 0);
	fg_mem_read(&rg->mem, b + 1005, got, 5);
	ck_assert_mem_eq(got, bytes, 5);
	fg_mem_read(&rg->mem, b + 2000, got, 20);
	ck_assert_mem_eq(got, bytes + 5, 20);
	ck_assert_err(virtq_chain_write(&rg->vq, &rg->chain, 0, bytes, 31),
	    -VSE_ERR_INVAL);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 0);
	ck_assert_err(virtq_push(&rg->vq, (uint16_t)head, 30), 0);
	ck_assert_ptr_eq(fg_ring_get_used(&rg->ring, NULL), rg);
	ck_assert_ptr_null(rg->ring.device_error);
	rig_free(rg);
}
END_TEST

/*
 * A chain popped before the guest broke the queue is not a way back into
 * guest memory: copies fail once the queue is broken (memory sealed to
 * prove it), and after a reset they fail instead of following a NULL
 * memory table.
 */
START_TEST(test_chain_copy_after_break)
{
	struct rig *rg = rig_new(8, F_ALL, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);
	struct fg_buf out = { b, 8 }, in = { b + 8, 8 };
	struct virtq_chain *bad = malloc(sizeof(*bad));
	uint8_t buf[8] = { 0 };

	ck_assert_int_ge(fg_ring_add(&rg->ring, &out, 1, &in, 1, rg, false),
	    0);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_err(virtq_chain_read(&rg->vq, &rg->chain, 0, buf, 8), 0);
	ck_assert_err(fg_bad_publish(&rg->ring, FG_BAD_HEAD_RANGE), 0);
	ck_assert_ptr_nonnull(bad);
	ck_assert_err(virtq_pop(&rg->vq, bad), -VSE_ERR_HEAD_RANGE);
	free(bad);
	rig_seal_memory(rg);
	ck_assert_err(virtq_chain_read(&rg->vq, &rg->chain, 0, buf, 8),
	    -VSE_ERR_VQ_BROKEN);
	ck_assert_ptr_null(virtq_chain_view(&rg->vq, &rg->chain, false, 0,
	    8));
	ck_assert_err(virtq_chain_write(&rg->vq, &rg->chain, 0, buf, 8),
	    -VSE_ERR_VQ_BROKEN);
	{
		struct iovec iov[2];
		uint32_t mapped = 1;

		/* The zero-copy mapper refuses it too: no pointer escapes. */
		ck_assert_int_eq(virtq_chain_iov(&rg->vq, &rg->chain, false, 0,
		    8, iov, 2, &mapped), 0);
		ck_assert_uint_eq(mapped, 0);
	}
	virtq_reset(&rg->vq);
	ck_assert_err(virtq_chain_read(&rg->vq, &rg->chain, 0, buf, 8),
	    -VSE_ERR_VQ_NOT_READY);
	ck_assert_err(virtq_chain_write(&rg->vq, &rg->chain, 0, buf, 8),
	    -VSE_ERR_VQ_NOT_READY);
	rig_free(rg);
}
END_TEST

/*
 * A chain keeps the host addresses pop's bounds check found, but only for
 * the setup it was popped under: after a reset and a setup over another
 * memory table (vhost-user SET_MEM_TABLE stops and restarts the rings),
 * the same guest addresses lead into the new table, as when every access
 * translated again, and the flat view is refused.
 */
START_TEST(test_chain_hva_needs_same_setup)
{
	struct rig *rg = rig_new(8, F_ALL, MIB);
	uint64_t base = rg->mem.region[0].gpa;
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);
	struct fg_buf in = { b, 64 };
	uint8_t *other = calloc(1, MIB), *flat, got[8];
	struct guestmem gm2;
	struct iovec iov[2];
	uint32_t mapped;

	ck_assert_ptr_nonnull(other);
	ck_assert_int_ge(fg_ring_add(&rg->ring, NULL, 0, &in, 1, rg, false),
	    0);
	ck_assert_int_ge(fg_ring_add(&rg->ring, NULL, 0, &in, 1, rg, false),
	    0);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	flat = virtq_chain_flat_writable(&rg->vq, &rg->chain);
	ck_assert_ptr_eq(flat, fg_mem_ptr(&rg->mem, b, 64));
	ck_assert_int_eq(virtq_chain_iov(&rg->vq, &rg->chain, true, 4, 8,
	    iov, 2, &mapped), 1);
	ck_assert_ptr_eq(iov[0].iov_base, flat + 4);

	/* The same bytes (the rings too) at other host addresses. */
	memcpy(other, fg_mem_ptr(&rg->mem, base, MIB), MIB);
	memset(other + (b - base), 0, 64);
	guestmem_init(&gm2);
	ck_assert_err(guestmem_add_region(&gm2, base, MIB, other), 0);
	virtq_reset(&rg->vq);
	ck_assert_err(virtq_setup(&rg->vq, &gm2, 8, rg->ring.desc_gpa,
	    rg->ring.avail_gpa, rg->ring.used_gpa, F_ALL), 0);
	ck_assert_ptr_null(virtq_chain_flat_writable(&rg->vq, &rg->chain));
	ck_assert_err(virtq_chain_write(&rg->vq, &rg->chain, 0, "newtable",
	    8), 0);
	ck_assert_mem_eq(other + (b - base), "newtable", 8);
	memset(got, 0, sizeof(got));
	ck_assert_mem_eq(flat, got, 8);	/* the old mapping untouched */
	ck_assert_int_eq(virtq_chain_iov(&rg->vq, &rg->chain, true, 4, 8,
	    iov, 2, &mapped), 1);
	ck_assert_ptr_eq(iov[0].iov_base, other + (b - base) + 4);
	/* A chain popped now uses the new table's addresses. */
	virtq_set_base(&rg->vq, 1);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_ptr_eq(virtq_chain_flat_writable(&rg->vq, &rg->chain),
	    other + (b - base));
	virtq_reset(&rg->vq);
	free(other);
	rig_free(rg);
}
END_TEST

/* A buffer across two adjacent regions is accepted but has no flat view. */
START_TEST(test_chain_flat_needs_one_region)
{
	struct fg_mem_spec spec[2] = { { 0x100000, MIB }, { 0x200000, MIB } };
	struct fg_mem mem;
	struct fg_ring ring;
	struct virtq vq;
	struct virtq_chain *ch = malloc(sizeof(*ch));
	struct fg_buf in = { 0x200000 - 16, 64 };
	uint8_t bytes[64];
	struct iovec iov[4];
	uint32_t mapped;

	ck_assert_ptr_nonnull(ch);
	ck_assert_err(fg_mem_init(&mem, spec, 2, 0), 0);
	ck_assert_err(fg_ring_init(&ring, &mem, 8, F_ALL), 0);
	ck_assert_err(virtq_setup(&vq, &mem.gm, 8, ring.desc_gpa,
	    ring.avail_gpa, ring.used_gpa, F_ALL), 0);
	ck_assert_int_ge(fg_ring_add(&ring, NULL, 0, &in, 1, &vq, false), 0);
	ck_assert_int_eq(virtq_pop(&vq, ch), 1);
	ck_assert_ptr_null(virtq_chain_flat_writable(&vq, ch));
	ck_assert_ptr_null(virtq_chain_view(&vq, ch, true, 0, 64));
	ck_assert_ptr_null(virtq_chain_view(&vq, ch, true, 8, 16));
	ck_assert_int_eq(virtq_chain_iov(&vq, ch, true, 0, 64, iov, 4,
	    &mapped), 2);
	ck_assert_uint_eq(mapped, 64);
	ck_assert_uint_eq(iov[0].iov_len, 16);
	memset(bytes, 0x5a, sizeof(bytes));
	ck_assert_err(virtq_chain_write(&vq, ch, 0, bytes, 64), 0);
	ck_assert_mem_eq(fg_mem_ptr(&mem, 0x200000, 48), bytes, 48);
	free(ch);
	fg_ring_destroy(&ring);
	fg_mem_destroy(&mem);
}
END_TEST

/*
 * add_seg asks guestmem_map, not guestmem_check, and keeps what it found:
 * the verdict must be guestmem_check's for every buffer (inside a region,
 * to its last byte, across adjacent regions, on into a hole, past a
 * region's end, in a hole, wrapping, empty), and the kept address is
 * guestmem_map's: NULL only for a buffer across regions, which is copied
 * and mapped piecewise. Regions A and B are adjacent in guest space (not
 * in host space: fg_mem puts a guard page between); C lies after a hole.
 */
static const struct {
	uint64_t gpa;
	uint32_t len;
	int expected;		/* virtq_pop's result */
	bool split;		/* accepted, across A and B */
} seg_case[] = {
	{ 0x1ff000, 4096, 1, false },			/* A's last page */
	{ 0x1ffff0, 16, 1, false },			/* A's last bytes */
	{ 0x1ffff0, 17, 1, true },			/* one byte into B */
	{ 0x1ffff0, 16 + 0x100000, 1, true },	/* to B's last byte */
	{ 0x1ffff0, 17 + 0x100000, -VSE_ERR_DESC_UNMAPPED, false },
	{ 0x2fffff, 2, -VSE_ERR_DESC_UNMAPPED, false },	/* B to the hole */
	{ 0x300000, 1, -VSE_ERR_DESC_UNMAPPED, false },	/* in the hole */
	{ 0x400000, 0x100000, 1, false },		/* all of C */
	{ 0x400000, 0x100001, -VSE_ERR_DESC_UNMAPPED, false },
	{ 0x100000, UINT32_MAX, -VSE_ERR_DESC_UNMAPPED, false },
	{ UINT64_MAX, 2, -VSE_ERR_DESC_OVERFLOW, false },
	{ UINT64_MAX - 15, 16, -VSE_ERR_DESC_UNMAPPED, false },
	{ 0x300000, 0, 1, false },	/* empty, in the hole: not listed */
};

START_TEST(test_add_seg_verdicts)
{
	struct fg_mem_spec spec[3] = { { 0x100000, MIB }, { 0x200000, MIB },
	    { 0x400000, MIB } };
	uint64_t gpa = seg_case[_i].gpa;
	uint32_t len = seg_case[_i].len;
	struct virtq_chain *ch = malloc(sizeof(*ch));
	struct fg_mem mem;
	struct fg_ring ring;
	struct virtq vq;
	struct iovec iov[4];
	uint8_t bytes[17], got[17];
	uint32_t mapped, n;
	int e, want;
	void *hva;

	ck_assert_ptr_nonnull(ch);
	ck_assert_err(fg_mem_init(&mem, spec, 3, 0), 0);
	ck_assert_err(fg_ring_init(&ring, &mem, 8, F_ALL), 0);
	ck_assert_err(virtq_setup(&vq, &mem.gm, 8, ring.desc_gpa,
	    ring.avail_gpa, ring.used_gpa, F_ALL), 0);
	/* What guestmem_check says, in the walker's words. */
	e = guestmem_check(&mem.gm, gpa, len);
	want = e == 0 ? 1 : e == -VSE_ERR_MEM_OVERFLOW ?
	    -VSE_ERR_DESC_OVERFLOW : -VSE_ERR_DESC_UNMAPPED;
	ck_assert_int_eq(want, seg_case[_i].expected);
	fg_ring_raw_desc(&ring, 0, gpa, len, VIRTQ_DESC_F_WRITE, 0);
	fg_ring_raw_publish(&ring, 0);
	ck_assert_int_eq(virtq_pop(&vq, ch), want);
	if (want == 1 && len == 0) {
		ck_assert_uint_eq(ch->nseg, 0);
		ck_assert_ptr_null(virtq_chain_flat_writable(&vq, ch));
	} else if (want == 1) {
		hva = guestmem_map(&mem.gm, gpa, len, NULL);
		ck_assert_uint_eq(ch->nseg, 1);
		ck_assert_ptr_eq(ch->seg[0].hva, hva);
		ck_assert_ptr_eq(virtq_chain_flat_writable(&vq, ch), hva);
		ck_assert(seg_case[_i].split == (hva == NULL));
		/* Mapped whole either way: one piece, or one per region. */
		ck_assert_int_eq(virtq_chain_iov(&vq, ch, true, 0, len, iov, 4,
		    &mapped), hva != NULL ? 1 : 2);
		ck_assert_uint_eq(mapped, len);
		/* The last bytes (A's 16 and B's first) in and out. */
		n = len < sizeof(bytes) ? len : sizeof(bytes);
		memset(bytes, 0xa5, sizeof(bytes));
		bytes[0] = (uint8_t)_i;
		ck_assert_err(virtq_chain_write(&vq, ch, len - n, bytes, n), 0);
		fg_mem_read(&mem, gpa + len - n, got, n);
		ck_assert_mem_eq(got, bytes, n);
		memset(got, 0, sizeof(got));
		ck_assert_err(virtq_chain_read_writable(&vq, ch, len - n, got,
		    n), 0);
		ck_assert_mem_eq(got, bytes, n);
	} else {
		ck_assert(virtq_is_broken(&vq));
	}
	free(ch);
	fg_ring_destroy(&ring);
	fg_mem_destroy(&mem);
}
END_TEST

/*
 * virtq_push_n is n virtq_push calls with one index store: the same used
 * ring, index, counters and what may still be rewound (pushed out of pop
 * order too); a bad id stops it after the elements before it.
 */
START_TEST(test_push_n_as_pushes)
{
	struct rig *ra = rig_new(8, F_ALL, MIB), *rb = rig_new(8, F_ALL, MIB);
	struct fg_buf ina = { fg_mem_alloc(&ra->mem, 64, 16), 64 };
	struct fg_buf inb = { fg_mem_alloc(&rb->mem, 64, 16), 64 };
	struct virtq_done d[3];
	uint16_t head[6];
	int i, k;

	for (i = 0; i < 6; i++) {
		ck_assert_int_ge(fg_ring_add(&ra->ring, NULL, 0, &ina, 1, ra,
		    false), 0);
		ck_assert_int_ge(fg_ring_add(&rb->ring, NULL, 0, &inb, 1, rb,
		    false), 0);
		ck_assert_int_eq(virtq_pop(&ra->vq, &ra->chain), 1);
		ck_assert_int_eq(virtq_pop(&rb->vq, &rb->chain), 1);
		head[i] = ra->chain.head;
	}
	/* Popped 0..5; push 1, 3, 2 (5 and 4 stay rewindable). */
	for (k = 0; k < 3; k++) {
		i = k == 0 ? 1 : k == 1 ? 3 : 2;
		d[k] = (struct virtq_done){ head[i], (uint32_t)(10 + i) };
		ck_assert_err(virtq_push(&rb->vq, head[i], 10 + i), 0);
	}
	ck_assert_err(virtq_push_n(&ra->vq, d, 3), 0);
	ck_assert_uint_eq(ra->vq.used_idx, rb->vq.used_idx);
	ck_assert_uint_eq(ra->vq.rewindable, rb->vq.rewindable);
	ck_assert_uint_eq(ra->vq.rewindable, 2);
	ck_assert_uint_eq(ra->vq.stats.pushed, 3);
	ck_assert(ra->vq.used_since_signal);
	ck_assert_mem_eq(ra->ring.used, rb->ring.used,
	    virtq_used_bytes(8));
	ck_assert_err(virtq_push_n(&ra->vq, d, 0), 0);
	ck_assert_uint_eq(ra->vq.stats.pushed, 3);
	/* 0 then a bad id then 4: only 0 goes. */
	d[0] = (struct virtq_done){ head[0], 1 };
	d[1] = (struct virtq_done){ 8, 1 };
	d[2] = (struct virtq_done){ head[4], 1 };
	ck_assert_err(virtq_push_n(&ra->vq, d, 3), -VSE_ERR_USED_ID);
	ck_assert_uint_eq(ra->vq.used_idx, 4);
	ck_assert_uint_eq(ra->vq.stats.pushed, 4);
	ck_assert_err(virtq_push_n(&ra->vq, d + 1, 2), -VSE_ERR_USED_ID);
	ck_assert_uint_eq(ra->vq.used_idx, 4);
	for (i = 0; i < 4; i++)
		ck_assert_ptr_eq(fg_ring_get_used(&ra->ring, NULL), ra);
	ck_assert_ptr_null(ra->ring.device_error);
	rig_free(ra);
	rig_free(rb);
}
END_TEST

/* Zero-length buffers are validated but not listed. */
START_TEST(test_zero_length_buffers_skipped)
{
	struct rig *rg = rig_new(8, F_ALL, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);

	fg_ring_raw_desc(&rg->ring, 0, b, 0, VIRTQ_DESC_F_NEXT, 1);
	fg_ring_raw_desc(&rg->ring, 1, b, 8, VIRTQ_DESC_F_NEXT, 2);
	fg_ring_raw_desc(&rg->ring, 2, 0, 0, VIRTQ_DESC_F_WRITE, 0);
	fg_ring_raw_publish(&rg->ring, 0);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(rg->chain.nseg, 1);
	ck_assert_uint_eq(rg->chain.read_len, 8);
	ck_assert_uint_eq(rg->chain.write_len, 0);
	rig_free(rg);
}
END_TEST

/* The largest legal chains: 32768-entry queue, and exactly the seg limit. */
START_TEST(test_chain_limits_exact)
{
	struct rig *rg = rig_new(2048, F_ALL, 4 * MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);
	unsigned i;

	for (i = 0; i < VIRTQ_CHAIN_MAX_SEGS; i++)
		fg_ring_raw_desc(&rg->ring, i, b, 1,
		    i + 1 < VIRTQ_CHAIN_MAX_SEGS ? VIRTQ_DESC_F_NEXT : 0,
		    (uint16_t)(i + 1));
	fg_ring_raw_publish(&rg->ring, 0);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(rg->chain.nseg, VIRTQ_CHAIN_MAX_SEGS);
	rig_free(rg);
}
END_TEST

/*
 * A chain exactly as long as the queue is legal (2.7.5.3.1 only forbids
 * longer ones): directly (_i == 0), and as a full indirect table (_i == 1).
 */
START_TEST(test_chain_exactly_queue_size)
{
	struct rig *rg = rig_new(8, F_ALL, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);
	struct fg_buf out[8];
	unsigned i;

	for (i = 0; i < 8; i++) {
		out[i].gpa = b + i;
		out[i].len = 1;
	}
	ck_assert_int_ge(fg_ring_add(&rg->ring, out, 8, NULL, 0, rg, _i), 0);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(rg->chain.nseg, 8);
	ck_assert_uint_eq(rg->chain.read_len, 8);
	rig_free(rg);
}
END_TEST

/*
 * An indirect table across two adjacent regions is guest memory like any
 * other: its entries are read where each lies (the walker maps a table
 * in one region once and reads the others entry by entry, one read each).
 */
START_TEST(test_indirect_table_across_regions)
{
	struct fg_mem_spec spec[2] = { { 0x100000, MIB }, { 0x200000, MIB } };
	struct virtq_desc d[2] = {
		{ htole64(0x100100), htole32(44), htole16(VIRTQ_DESC_F_NEXT),
		    htole16(1) },
		{ htole64(0x200100), htole32(100), 0, 0 },
	};
	struct fg_mem mem;
	struct fg_ring ring;
	struct virtq vq;
	struct virtq_chain *ch = malloc(sizeof(*ch));
	uint64_t tbl = 0x200000 - 16;

	ck_assert_ptr_nonnull(ch);
	ck_assert_err(fg_mem_init(&mem, spec, 2, 0), 0);
	ck_assert_err(fg_ring_init(&ring, &mem, 8, F_ALL), 0);
	ck_assert_err(virtq_setup(&vq, &mem.gm, 8, ring.desc_gpa,
	    ring.avail_gpa, ring.used_gpa, F_ALL), 0);
	fg_mem_write(&mem, tbl, d, sizeof(d));
	fg_ring_raw_desc(&ring, 0, tbl, sizeof(d), VIRTQ_DESC_F_INDIRECT, 0);
	fg_ring_raw_publish(&ring, 0);
	ck_assert_int_eq(virtq_pop(&vq, ch), 1);
	ck_assert_int_eq(ch->nseg, 2);
	ck_assert_uint_eq(ch->seg[0].gpa, 0x100100);
	ck_assert_uint_eq(ch->seg[0].len, 44);
	ck_assert_uint_eq(ch->seg[1].gpa, 0x200100);
	ck_assert_uint_eq(ch->read_len, 144);
	free(ch);
	fg_ring_destroy(&ring);
	fg_mem_destroy(&mem);
}
END_TEST

/*
 * An indirect table is checked whole before it is used: one whose second
 * entry lies past the end of guest memory is refused even though the chain
 * it holds ends at its first entry.
 */
START_TEST(test_indirect_table_partly_unmapped)
{
	struct rig *rg = rig_new(8, F_ALL, MIB);
	const struct fg_mem_region *r0 = &rg->mem.region[0];
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);
	uint64_t tbl = r0->gpa + r0->size - 16;
	struct virtq_desc d = { htole64(b), htole32(8), 0, 0 };

	fg_mem_write(&rg->mem, tbl, &d, sizeof(d));
	fg_ring_raw_desc(&rg->ring, 0, tbl, 32, VIRTQ_DESC_F_INDIRECT, 0);
	fg_ring_raw_publish(&rg->ring, 0);
	ck_assert_err(virtq_pop(&rg->vq, &rg->chain), -VSE_ERR_DESC_UNMAPPED);
	ck_assert(virtq_is_broken(&rg->vq));
	rig_free(rg);
}
END_TEST

/*
 * Two decisions where implementations differ (doc/threat-model.md). An
 * INDIRECT descriptor with NEXT set, which 2.7.5.3.1 forbids the driver,
 * breaks the queue even when NEXT leads to a good descriptor: vhost would
 * follow it after the table (vhost_get_vq_desc()), QEMU's virtqueue_pop()
 * would ignore it, so no driver may count on either. An indirect table is
 * bounded by the queue size (2.7.5.3.1: no chain longer), by its length,
 * not by the entries its chain uses; vhost allows 65,536 entries
 * (get_indirect()). _i: 0 INDIRECT+NEXT, 1 table of num + 1 entries,
 * 2 table of exactly num entries (accepted).
 */
START_TEST(test_indirect_decisions)
{
	static const int want[] = { -VSE_ERR_INDIRECT_NEXT,
	    -VSE_ERR_INDIRECT_TOO_BIG, 1 };
	struct rig *rg = rig_new(8, F_ALL, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);
	uint64_t tbl = fg_mem_alloc(&rg->mem, 16 * 9, 16);
	struct virtq_desc d = { htole64(b), htole32(8), 0, 0 };
	uint32_t entries = _i == 1 ? 9 : 8;

	fg_mem_write(&rg->mem, tbl, &d, sizeof(d));	/* one entry used */
	fg_ring_raw_desc(&rg->ring, 0, tbl, 16 * entries,
	    VIRTQ_DESC_F_INDIRECT | (_i == 0 ? VIRTQ_DESC_F_NEXT : 0), 1);
	fg_ring_raw_desc(&rg->ring, 1, b + 8, 8, 0, 0);
	fg_ring_raw_publish(&rg->ring, 0);
	ck_assert_err(virtq_pop(&rg->vq, &rg->chain), want[_i]);
	ck_assert(virtq_is_broken(&rg->vq) == (_i != 2));
	if (_i == 2) {
		ck_assert_int_eq(rg->chain.nseg, 1);
		ck_assert_uint_eq(rg->chain.read_len, 8);
	}
	rig_free(rg);
}
END_TEST

/*
 * Totals of exactly 2^32 - 1 bytes are legal on both sides (_i == 0
 * readable, _i == 1 writable); badchain's cases prove 2^32 is refused.
 * The buffers alias untouched MAP_NORESERVE memory.
 */
START_TEST(test_chain_total_exact)
{
	struct rig *rg = rig_new(8, F_ALL, 3 * 1024 * MIB + 4 * MIB);
	uint64_t base = rg->mem.region[0].gpa;
	uint16_t w = _i ? VIRTQ_DESC_F_WRITE : 0;

	fg_ring_raw_desc(&rg->ring, 0, base, 0xC0000000u,
	    w | VIRTQ_DESC_F_NEXT, 1);
	fg_ring_raw_desc(&rg->ring, 1, base, 0x3FFFFFFFu, w, 0);
	fg_ring_raw_publish(&rg->ring, 0);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_uint_eq(_i ? rg->chain.write_len : rg->chain.read_len,
	    UINT32_MAX);
	rig_free(rg);
}
END_TEST

/* Indices are free-running u16s: 70000 chains wrap them. */
START_TEST(test_index_wrap)
{
	struct rig *rg = rig_new(4, F_ALL, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);
	struct fg_buf buf = { b, 16 };
	unsigned long i;
	uint32_t len;

	for (i = 0; i < 70000; i++) {
		ck_assert_int_ge(fg_ring_add(&rg->ring, &buf, 1, NULL, 0, rg,
		    false), 0);
		ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
		ck_assert_err(virtq_push(&rg->vq, rg->chain.head, 0), 0);
		ck_assert_ptr_eq(fg_ring_get_used(&rg->ring, &len), rg);
	}
	ck_assert_uint_eq(rg->vq.last_avail_idx, (uint16_t)70000);
	ck_assert_uint_eq(rg->vq.stats.popped, 70000);
	rig_free(rg);
}
END_TEST

/*
 * A receive buffer kept and reposted goes back as it was: on a full ring
 * (no free descriptor to add one with), round and round past the index
 * wrap, the device pops each head with its buffer unchanged; a used
 * element naming a kept chain, or a repost of one not kept, is refused.
 */
/*
 * fg_ring_recycle: at most max used chains go back to the device as they
 * were (the same buffers, in the order used), nothing when none is used,
 * and a device's protocol error stops it.
 */
START_TEST(test_ring_recycle)
{
	struct rig *rg = rig_new(4, F_ALL, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 4 * 64, 16);
	uint16_t first[3], head;
	unsigned long i;

	for (i = 0; i < 4; i++) {
		struct fg_buf buf = { b + 64 * i, 64 };

		ck_assert_int_ge(fg_ring_add(&rg->ring, NULL, 0, &buf, 1,
		    (void *)(uintptr_t)(i + 1), false), 0);
	}
	ck_assert_uint_eq(fg_ring_recycle(&rg->ring, 4), 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
		first[i] = rg->chain.head;
		ck_assert_err(virtq_push(&rg->vq, first[i], 10), 0);
	}
	ck_assert_uint_eq(fg_ring_recycle(&rg->ring, 2), 2);
	ck_assert_uint_eq(fg_ring_used_pending(&rg->ring), 1);
	ck_assert_uint_eq(fg_ring_recycle(&rg->ring, 4), 1);
	ck_assert_uint_eq(fg_ring_used_pending(&rg->ring), 0);
	ck_assert_uint_eq(rg->ring.num_free, 0);
	/* The fourth chain, then the three again in the order they came. */
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_uint_eq(rg->chain.seg[0].gpa, b + 64 * 3);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
		ck_assert_uint_eq(rg->chain.head, first[i]);
		ck_assert_uint_eq(rg->chain.seg[0].gpa, b + 64 * i);
		ck_assert_uint_eq(rg->chain.write_len, 64);
	}
	ck_assert_ptr_null(rg->ring.device_error);
	/*
	 * The device uses a chain the driver holds (kept, not given back):
	 * recycling stops there, before the good one behind it.
	 */
	ck_assert_err(virtq_push(&rg->vq, first[0], 0), 0);
	ck_assert_ptr_nonnull(fg_ring_get_used_keep(&rg->ring, NULL, &head));
	ck_assert_uint_eq(head, first[0]);
	ck_assert_err(virtq_push(&rg->vq, first[0], 0), 0);
	ck_assert_err(virtq_push(&rg->vq, first[1], 0), 0);
	ck_assert_uint_eq(fg_ring_recycle(&rg->ring, 4), 0);
	ck_assert_ptr_nonnull(rg->ring.device_error);
	rig_free(rg);
}
END_TEST

START_TEST(test_repost_kept_chain)
{
	struct rig *rg = rig_new(4, F_ALL, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 4 * 64, 16);
	uint16_t head, used;
	uint32_t len;
	unsigned long i;
	int h[4];

	for (i = 0; i < 4; i++) {
		struct fg_buf buf = { b + 64 * i, 64 };

		h[i] = fg_ring_add(&rg->ring, NULL, 0, &buf, 1,
		    (void *)(uintptr_t)(i + 1), false);
		ck_assert_int_ge(h[i], 0);
	}
	ck_assert_uint_eq(rg->ring.num_free, 0);
	ck_assert_int_eq(fg_ring_repost(&rg->ring, (uint16_t)h[0]),
	    -VSE_ERR_INVAL);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	for (i = 0; i < 70000; i++) {
		used = rg->chain.head;
		ck_assert_err(virtq_push(&rg->vq, used, 10), 0);
		ck_assert_ptr_eq(fg_ring_get_used_keep(&rg->ring, &len, &head),
		    (void *)(uintptr_t)(i % 4 + 1));
		ck_assert_uint_eq(len, 10);
		ck_assert_uint_eq(head, used);
		ck_assert_uint_eq(rg->chain.seg[0].gpa, b + 64 * (i % 4));
		ck_assert_err(fg_ring_repost(&rg->ring, head), 0);
		ck_assert_int_eq(fg_ring_repost(&rg->ring, head),
		    -VSE_ERR_INVAL);
		ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
		ck_assert_uint_eq(rg->chain.write_len, 64);
	}
	ck_assert_uint_eq(rg->ring.num_free, 0);
	ck_assert_ptr_null(rg->ring.device_error);
	/* A kept chain is the driver's: the device may not use it again. */
	ck_assert_err(virtq_push(&rg->vq, rg->chain.head, 0), 0);
	ck_assert_ptr_nonnull(fg_ring_get_used_keep(&rg->ring, NULL, &head));
	ck_assert_err(virtq_push(&rg->vq, head, 0), 0);
	ck_assert_ptr_null(fg_ring_get_used(&rg->ring, NULL));
	ck_assert_ptr_nonnull(rg->ring.device_error);
	rig_free(rg);
}
END_TEST

/*
 * A queue resumed with virtq_set_base (vhost-user SET_VRING_BASE) picks up
 * where the previous device stopped: avail from the given index, used from
 * the ring's own idx, and its first notification decision is not skipped.
 */
START_TEST(test_set_base_resume)
{
	struct rig *rg = rig_new(8, F_ALL, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);
	struct fg_buf buf = { b, 16 };
	uint8_t *used_event = rg->ring.avail + VIRTQ_AVAIL_USED_EVENT(8);
	int i, head;

	for (i = 0; i < 3; i++) {
		ck_assert_int_ge(fg_ring_add(&rg->ring, NULL, 0, &buf, 1, rg,
		    false), 0);
		ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
		ck_assert_err(virtq_push(&rg->vq, rg->chain.head, 0), 0);
		ck_assert_ptr_eq(fg_ring_get_used(&rg->ring, NULL), rg);
	}
	/* A new device instance over the same rings. */
	ck_assert_err(virtq_setup(&rg->vq, &rg->mem.gm, 8, rg->ring.desc_gpa,
	    rg->ring.avail_gpa, rg->ring.used_gpa, F_ALL), 0);
	virtq_set_base(&rg->vq, 3);
	ck_assert_uint_eq(rg->vq.used_idx, 3);
	/* Pop first: it must read avail idx itself, not trust a stale one. */
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 0);
	ck_assert_int_eq(virtq_avail(&rg->vq), 0);
	head = fg_ring_add(&rg->ring, NULL, 0, &buf, 1, rg, false);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(rg->chain.head, head);
	ck_assert_err(virtq_push(&rg->vq, rg->chain.head, 4), 0);
	/* The driver asks for used idx 100, but the resumed device cannot
	 * know what its predecessor signalled: it notifies once. */
	*(uint16_t *)(void *)used_event = htole16(100);
	ck_assert(virtq_should_notify(&rg->vq));
	ck_assert_ptr_eq(fg_ring_get_used(&rg->ring, NULL), rg);
	ck_assert_ptr_null(rg->ring.device_error);
	rig_free(rg);
}
END_TEST

/* An avail idx exactly num ahead is legal; num + 1 is not (both sides). */
START_TEST(test_avail_distance_boundary)
{
	struct rig *rg = rig_new(8, F_ALL, MIB);

	fg_ring_raw_set_avail_idx(&rg->ring, 8);
	ck_assert_int_eq(virtq_avail(&rg->vq), 8);
	fg_ring_raw_set_avail_idx(&rg->ring, 9);
	ck_assert_err(virtq_avail(&rg->vq), -VSE_ERR_AVAIL_IDX);
	ck_assert(virtq_is_broken(&rg->vq));
	rig_free(rg);
}
END_TEST

/* Draining asks for a kick, and a chain that raced the request is seen. */
START_TEST(test_pop_or_arm)
{
	struct rig *rg = rig_new(8, F_ALL, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);
	struct fg_buf buf = { b, 16 };

	ck_assert_int_eq(virtq_pop_or_arm(&rg->vq, &rg->chain), 0);
	/* avail_event now names the next index: the driver's add kicks. */
	fg_ring_add(&rg->ring, &buf, 1, NULL, 0, rg, false);
	ck_assert(fg_ring_kick_needed(&rg->ring));
	ck_assert_int_eq(virtq_pop_or_arm(&rg->vq, &rg->chain), 1);
	/* A second add without draining to empty: no kick was asked for. */
	fg_ring_add(&rg->ring, &buf, 1, NULL, 0, rg, false);
	ck_assert(!fg_ring_kick_needed(&rg->ring));
	ck_assert_int_eq(virtq_pop_or_arm(&rg->vq, &rg->chain), 1);
	rig_free(rg);
}
END_TEST

/*
 * An empty pop still armed at the same avail idx stores nothing again; it
 * must still leave the driver asked to kick (_i: without and with
 * EVENT_IDX): after the device turned notifications off in between, after
 * chains came and went, and after a whole lap of 2^16 chains brought avail
 * idx back to where it was armed.
 */
START_TEST(test_pop_or_arm_stays_armed)
{
	uint64_t f = FEAT(VIRTIO_F_VERSION_1) |
	    (_i ? FEAT(VIRTIO_RING_F_EVENT_IDX) : 0);
	struct rig *rg = rig_new(8, f, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);
	struct fg_buf buf = { b, 16 };
	unsigned long i;

	ck_assert_int_eq(virtq_pop_or_arm(&rg->vq, &rg->chain), 0);
	ck_assert_int_eq(virtq_pop_or_arm(&rg->vq, &rg->chain), 0);
	virtq_set_notification(&rg->vq, false);
	ck_assert_int_eq(virtq_pop_or_arm(&rg->vq, &rg->chain), 0);
	fg_ring_add(&rg->ring, &buf, 1, NULL, 0, rg, false);
	ck_assert(fg_ring_kick_needed(&rg->ring));
	ck_assert_int_eq(virtq_pop_or_arm(&rg->vq, &rg->chain), 1);
	ck_assert_err(virtq_push(&rg->vq, rg->chain.head, 0), 0);
	ck_assert_ptr_eq(fg_ring_get_used(&rg->ring, NULL), rg);
	ck_assert_int_eq(virtq_pop_or_arm(&rg->vq, &rg->chain), 0);
	ck_assert_int_eq(virtq_pop_or_arm(&rg->vq, &rg->chain), 0);
	fg_ring_add(&rg->ring, &buf, 1, NULL, 0, rg, false);
	ck_assert(fg_ring_kick_needed(&rg->ring));
	/* A lap: never empty at a pop until avail idx is back at 1. */
	for (i = 0; i < 65536; i++) {
		if (i > 0)
			fg_ring_add(&rg->ring, &buf, 1, NULL, 0, rg, false);
		ck_assert_int_eq(virtq_pop_or_arm(&rg->vq, &rg->chain), 1);
		ck_assert_err(virtq_push(&rg->vq, rg->chain.head, 0), 0);
		ck_assert_ptr_eq(fg_ring_get_used(&rg->ring, NULL), rg);
	}
	(void)fg_ring_kick_needed(&rg->ring);
	ck_assert_uint_eq(rg->vq.last_avail_idx, 1);
	ck_assert(rg->vq.armed && rg->vq.armed_idx == 1);
	ck_assert_int_eq(virtq_pop_or_arm(&rg->vq, &rg->chain), 0);
	fg_ring_add(&rg->ring, &buf, 1, NULL, 0, rg, false);
	ck_assert(fg_ring_kick_needed(&rg->ring));
	ck_assert_int_eq(virtq_pop_or_arm(&rg->vq, &rg->chain), 1);
	ck_assert_ptr_null(rg->ring.device_error);
	rig_free(rg);
}
END_TEST

START_TEST(test_unpop)
{
	struct rig *rg = rig_new(8, F_ALL, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);
	struct fg_buf buf = { b, 16 };
	int head = fg_ring_add(&rg->ring, NULL, 0, &buf, 1, rg, false);

	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_err(virtq_unpop(&rg->vq), 0);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(rg->chain.head, head);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 0);
	rig_free(rg);
}
END_TEST

/*
 * virtq_unpop gives back only a chain that was popped and not yet pushed.
 * A stray unpop must neither rewind last_avail_idx behind what the driver
 * published (which a full ring then reports as the guest's avail-idx
 * error) nor hand out a chain the device already returned.
 */
START_TEST(test_unpop_misuse)
{
	struct rig *rg = rig_new(8, F_ALL, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);
	struct fg_buf buf = { b, 16 };
	int head[8], i;

	for (i = 0; i < 8; i++)
		head[i] = fg_ring_add(&rg->ring, NULL, 0, &buf, 1, rg, false);
	ck_assert_int_eq(virtq_avail(&rg->vq), 8);
	ck_assert_err(virtq_unpop(&rg->vq), -VSE_ERR_INVAL); /* none popped */
	ck_assert_int_eq(virtq_avail(&rg->vq), 8);
	ck_assert(!virtq_is_broken(&rg->vq));
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(rg->chain.head, head[0]);
	ck_assert_err(virtq_push(&rg->vq, rg->chain.head, 0), 0);
	/* head[0] was already pushed. */
	ck_assert_err(virtq_unpop(&rg->vq), -VSE_ERR_INVAL);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(rg->chain.head, head[1]);
	/* Pop two, push the first: the second may be given back, once. */
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(rg->chain.head, head[2]);
	ck_assert_err(virtq_push(&rg->vq, (uint16_t)head[1], 0), 0);
	ck_assert_err(virtq_unpop(&rg->vq), 0);
	ck_assert_err(virtq_unpop(&rg->vq), -VSE_ERR_INVAL);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(rg->chain.head, head[2]);
	/* A broken or reset queue gives nothing back. */
	ck_assert_err(fg_bad_publish(&rg->ring, FG_BAD_AVAIL_IDX), 0);
	ck_assert_err(virtq_avail(&rg->vq), -VSE_ERR_AVAIL_IDX);
	ck_assert_err(virtq_unpop(&rg->vq), -VSE_ERR_VQ_BROKEN);
	virtq_reset(&rg->vq);
	ck_assert_err(virtq_unpop(&rg->vq), -VSE_ERR_VQ_NOT_READY);
	rig_free(rg);
}
END_TEST

/*
 * virtq_rewind gives the last n popped chains back, popped again in the
 * same order (QEMU's virtqueue_rewind()): a device that popped ahead for
 * one scatter read returns the chains the host's bytes did not reach.
 */
START_TEST(test_rewind)
{
	struct rig *rg = rig_new(8, F_ALL, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);
	struct fg_buf buf = { b, 16 };
	int head[5], i;

	for (i = 0; i < 5; i++)
		head[i] = fg_ring_add(&rg->ring, NULL, 0, &buf, 1, rg, false);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_err(virtq_rewind(&rg->vq, 0), 0);
	ck_assert_err(virtq_rewind(&rg->vq, 3), 0);
	ck_assert_uint_eq(rg->vq.stats.popped, 1);
	ck_assert_int_eq(virtq_avail(&rg->vq), 4);
	for (i = 1; i < 5; i++) {
		ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
		ck_assert_int_eq(rg->chain.head, head[i]);
	}
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 0);
	ck_assert_uint_eq(rg->vq.stats.popped, 5);
	ck_assert(!virtq_is_broken(&rg->vq));
	rig_free(rg);
}
END_TEST

/*
 * Nothing popped, pushed or from before a new base goes back, nor more
 * than VIRTQ_REWIND_MAX: -VSE_ERR_INVAL and nothing changes. A push ends
 * what may be rewound at the chains popped after it; with a head the guest
 * published twice, the newest pop of it counts.
 */
START_TEST(test_rewind_misuse)
{
	struct rig *rg = rig_new(128, F_ALL, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);
	struct fg_buf buf = { b, 16 };
	int head[VIRTQ_REWIND_MAX + 2], i;

	for (i = 0; i < 4; i++)
		head[i] = fg_ring_add(&rg->ring, NULL, 0, &buf, 1, rg, false);
	ck_assert_err(virtq_rewind(&rg->vq, 1), -VSE_ERR_INVAL);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	/* More than popped: refused, and the three stay popped. */
	ck_assert_err(virtq_rewind(&rg->vq, 4), -VSE_ERR_INVAL);
	ck_assert_int_eq(virtq_avail(&rg->vq), 1);
	/* head[1] pushed: only head[2], popped after it, may go back. */
	ck_assert_err(virtq_push(&rg->vq, (uint16_t)head[1], 0), 0);
	ck_assert_err(virtq_rewind(&rg->vq, 2), -VSE_ERR_INVAL);
	ck_assert_err(virtq_rewind(&rg->vq, 1), 0);
	ck_assert_err(virtq_rewind(&rg->vq, 1), -VSE_ERR_INVAL);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(rg->chain.head, head[2]);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(rg->chain.head, head[3]);
	/* A head published twice: pushing it ends both pops' way back. */
	fg_ring_raw_publish(&rg->ring, (uint16_t)head[3]);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(rg->chain.head, head[3]);
	ck_assert_err(virtq_push(&rg->vq, (uint16_t)head[3], 0), 0);
	ck_assert_err(virtq_rewind(&rg->vq, 1), -VSE_ERR_INVAL);
	/* A new base forgets what was popped before it. */
	head[0] = fg_ring_add(&rg->ring, NULL, 0, &buf, 1, rg, false);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	virtq_set_base(&rg->vq, rg->vq.last_avail_idx);
	ck_assert_err(virtq_rewind(&rg->vq, 1), -VSE_ERR_INVAL);
	/* At most VIRTQ_REWIND_MAX, the newest ones. */
	for (i = 0; i < VIRTQ_REWIND_MAX + 1; i++)
		head[i] = fg_ring_add(&rg->ring, NULL, 0, &buf, 1, rg, false);
	for (i = 0; i < VIRTQ_REWIND_MAX + 1; i++)
		ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_err(virtq_rewind(&rg->vq, VIRTQ_REWIND_MAX + 1),
	    -VSE_ERR_INVAL);
	ck_assert_err(virtq_rewind(&rg->vq, VIRTQ_REWIND_MAX), 0);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(rg->chain.head, head[1]);
	ck_assert(!virtq_is_broken(&rg->vq));
	/* A broken or reset queue gives nothing back. */
	ck_assert_err(fg_bad_publish(&rg->ring, FG_BAD_AVAIL_IDX), 0);
	ck_assert_err(virtq_avail(&rg->vq), -VSE_ERR_AVAIL_IDX);
	ck_assert_err(virtq_rewind(&rg->vq, 1), -VSE_ERR_VQ_BROKEN);
	ck_assert_err(virtq_rewind(&rg->vq, 0), -VSE_ERR_VQ_BROKEN);
	virtq_reset(&rg->vq);
	ck_assert_err(virtq_rewind(&rg->vq, 1), -VSE_ERR_VQ_NOT_READY);
	rig_free(rg);
}
END_TEST

/*
 * EVENT_IDX: rewound chains are the device's to pop again without a kick
 * (avail_event stays where arming put it, so the driver's next add still
 * kicks), and a rewind is no use of a buffer: no interrupt.
 */
START_TEST(test_rewind_event_idx)
{
	struct rig *rg = rig_new(8, F_ALL, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);
	struct fg_buf buf = { b, 16 };
	uint8_t *avail_event = rg->vq.used + VIRTQ_USED_AVAIL_EVENT(8);
	uint8_t *used_event = rg->ring.avail + VIRTQ_AVAIL_USED_EVENT(8);
	int head[3], i;

	/* One push and a decision: the next decision needs a new push. */
	head[0] = fg_ring_add(&rg->ring, NULL, 0, &buf, 1, rg, false);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_err(virtq_push(&rg->vq, rg->chain.head, 0), 0);
	ck_assert(virtq_should_notify(&rg->vq));
	for (i = 0; i < 2; i++)
		head[i] = fg_ring_add(&rg->ring, NULL, 0, &buf, 1, rg, false);
	(void)fg_ring_kick_needed(&rg->ring);
	ck_assert_int_eq(virtq_pop_or_arm(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(virtq_pop_or_arm(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(virtq_pop_or_arm(&rg->vq, &rg->chain), 0);
	ck_assert_uint_eq(le16toh(*(uint16_t *)(void *)avail_event), 3);
	ck_assert_err(virtq_rewind(&rg->vq, 2), 0);
	ck_assert(!virtq_should_notify(&rg->vq));
	ck_assert_uint_eq(le16toh(*(uint16_t *)(void *)avail_event), 3);
	ck_assert_int_eq(virtq_avail(&rg->vq), 2);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(virtq_pop_or_arm(&rg->vq, &rg->chain), 1);
		ck_assert_int_eq(rg->chain.head, head[i]);
	}
	ck_assert_int_eq(virtq_pop_or_arm(&rg->vq, &rg->chain), 0);
	/* The driver's next add crosses avail_event 3: it kicks. */
	head[2] = fg_ring_add(&rg->ring, NULL, 0, &buf, 1, rg, false);
	ck_assert(fg_ring_kick_needed(&rg->ring));
	ck_assert_int_eq(virtq_pop_or_arm(&rg->vq, &rg->chain), 1);
	ck_assert_int_eq(rg->chain.head, head[2]);
	/* The driver wants to hear of used idx 2: the first real use. */
	*(uint16_t *)(void *)used_event = htole16(1);
	ck_assert_err(virtq_push(&rg->vq, rg->chain.head, 0), 0);
	ck_assert(virtq_should_notify(&rg->vq));
	rig_free(rg);
}
END_TEST

/* Without EVENT_IDX: NO_INTERRUPT and NO_NOTIFY flags, both directions. */
START_TEST(test_notify_flags)
{
	uint64_t f = FEAT(VIRTIO_F_VERSION_1);
	struct rig *rg = rig_new(8, f, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);
	struct fg_buf buf = { b, 16 };

	ck_assert(!virtq_should_notify(&rg->vq)); /* nothing pushed yet */
	fg_ring_add(&rg->ring, &buf, 1, NULL, 0, rg, false);
	ck_assert(fg_ring_kick_needed(&rg->ring));
	ck_assert(!fg_ring_kick_needed(&rg->ring));	/* nothing new */
	virtq_set_notification(&rg->vq, false);
	fg_ring_add(&rg->ring, &buf, 1, NULL, 0, rg, false);
	ck_assert(!fg_ring_kick_needed(&rg->ring));
	virtq_set_notification(&rg->vq, true);
	fg_ring_add(&rg->ring, &buf, 1, NULL, 0, rg, false);
	ck_assert(fg_ring_kick_needed(&rg->ring));

	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	virtq_push(&rg->vq, rg->chain.head, 0);
	ck_assert(virtq_should_notify(&rg->vq));
	ck_assert(!virtq_should_notify(&rg->vq));	/* already told */
	fg_ring_set_interrupts(&rg->ring, false);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	virtq_push(&rg->vq, rg->chain.head, 0);
	ck_assert(!virtq_should_notify(&rg->vq));
	fg_ring_set_interrupts(&rg->ring, true);
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	virtq_push(&rg->vq, rg->chain.head, 0);
	ck_assert(virtq_should_notify(&rg->vq));
	ck_assert_uint_eq(rg->vq.stats.notifies, 2);
	rig_free(rg);
}
END_TEST

/* EVENT_IDX: used_event / avail_event with the wrap-safe need-event rule. */
START_TEST(test_event_idx)
{
	struct rig *rg = rig_new(8, F_ALL, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);
	struct fg_buf buf = { b, 16 };
	uint8_t *used_event = rg->ring.avail + VIRTQ_AVAIL_USED_EVENT(8);
	int i;

	/* First push after setup always notifies (no previous decision). */
	fg_ring_add(&rg->ring, &buf, 1, NULL, 0, rg, false);
	virtq_pop(&rg->vq, &rg->chain);
	virtq_push(&rg->vq, rg->chain.head, 0);
	ck_assert(virtq_should_notify(&rg->vq));
	/* Driver asks to be told only once used idx passes 3. */
	*(uint16_t *)(void *)used_event = htole16(3);
	for (i = 0; i < 2; i++) {
		fg_ring_add(&rg->ring, &buf, 1, NULL, 0, rg, false);
		virtq_pop(&rg->vq, &rg->chain);
		virtq_push(&rg->vq, rg->chain.head, 0);
		ck_assert(!virtq_should_notify(&rg->vq));	/* idx 2, 3 */
	}
	fg_ring_add(&rg->ring, &buf, 1, NULL, 0, rg, false);
	virtq_pop(&rg->vq, &rg->chain);
	virtq_push(&rg->vq, rg->chain.head, 0);
	ck_assert(virtq_should_notify(&rg->vq));		/* idx 4 > 3 */

	/* Device side: the four adds so far passed avail_event 0: one kick. */
	ck_assert(fg_ring_kick_needed(&rg->ring));
	ck_assert(!fg_ring_kick_needed(&rg->ring)); /* nothing new */
	virtq_set_notification(&rg->vq, true);	/* avail_event = 4 */
	fg_ring_add(&rg->ring, &buf, 1, NULL, 0, rg, false);	/* idx 5 */
	ck_assert(fg_ring_kick_needed(&rg->ring));
	fg_ring_add(&rg->ring, &buf, 1, NULL, 0, rg, false);	/* idx 6 */
	ck_assert(!fg_ring_kick_needed(&rg->ring));

	/* used_event is still 3: used idx 5 does not cross it again. */
	ck_assert_int_eq(virtq_pop(&rg->vq, &rg->chain), 1);
	ck_assert_err(virtq_push(&rg->vq, rg->chain.head, 0), 0);
	ck_assert(!virtq_should_notify(&rg->vq));
	rig_free(rg);
}
END_TEST

/*
 * A device that pushes 2^16 elements between two notification decisions
 * brings used idx back to where the last decision saw it. That is not
 * "nothing new": without EVENT_IDX (_i == 0) flags 0 means the driver must
 * be told; with it (_i == 1) the [old, new) window is meaningless, so the
 * device must notify as Linux vhost does after a lap.
 */
START_TEST(test_notify_after_used_lap)
{
	uint64_t f = FEAT(VIRTIO_F_VERSION_1) |
	    (_i ? FEAT(VIRTIO_RING_F_EVENT_IDX) : 0);
	struct rig *rg = rig_new(8, f, MIB);
	uint8_t *used_event = rg->ring.avail + VIRTQ_AVAIL_USED_EVENT(8);
	unsigned long i;

	ck_assert_err(virtq_push(&rg->vq, 0, 0), 0);
	ck_assert(virtq_should_notify(&rg->vq));
	if (_i)	/* the event lies inside the lap: wanted */
		*(uint16_t *)(void *)used_event = htole16(10);
	for (i = 0; i < 65536; i++)
		ck_assert_err(virtq_push(&rg->vq, 0, 0), 0);
	ck_assert(virtq_should_notify(&rg->vq));
	ck_assert(!virtq_should_notify(&rg->vq));
	rig_free(rg);
}
END_TEST

/* The need-event arithmetic itself, across the 2^16 wrap. */
START_TEST(test_need_event_wrap)
{
	ck_assert(virtq_need_event(0xffff, 0, 0xfffe));
	ck_assert(virtq_need_event(0xfffe, 1, 0xfffe));
	ck_assert(!virtq_need_event(1, 1, 0xfffe));
	ck_assert(virtq_need_event(0, 1, 0));
	ck_assert(!virtq_need_event(1, 1, 0));
	ck_assert(!virtq_need_event(5, 5, 5));
}
END_TEST

/* The device reports its own misbehaviour to the driver's checks. */
START_TEST(test_driver_checks_device)
{
	struct rig *rg = rig_new(8, F_ALL, MIB);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16);
	struct fg_buf buf = { b, 16 };
	int head = fg_ring_add(&rg->ring, NULL, 0, &buf, 1, rg, false);

	virtq_pop(&rg->vq, &rg->chain);
	virtq_push(&rg->vq, (uint16_t)head, 17);	/* one byte too many */
	ck_assert_ptr_null(fg_ring_get_used(&rg->ring, NULL));
	ck_assert_ptr_nonnull(rg->ring.device_error);
	rig_free(rg);
}
END_TEST

/*
 * The driver in another thread: with only the fences of virtq.c and ring.c
 * between them, every chain's bytes must arrive intact. The outcome does
 * not depend on scheduling; each side only waits for the other's progress.
 */
#define THREAD_CHAINS 200000

struct thread_ctx {
	struct rig *rg;
	uint64_t buf[4];
};

static void *
driver_thread(void *arg)
{
	struct thread_ctx *t = arg;
	unsigned long sent = 0, reaped = 0;
	uint32_t len;

	while (reaped < THREAD_CHAINS) {
		if (sent < THREAD_CHAINS && t->rg->ring.num_free > 0) {
			struct fg_buf b = { t->buf[sent % 4], 8 };
			uint64_t v = sent;

			fg_mem_write(&t->rg->mem, b.gpa, &v, 8);
			fg_ring_add(&t->rg->ring, &b, 1, NULL, 0,
			    (void *)(uintptr_t)(sent % 4 + 1), false);
			sent++;
		} else if (fg_ring_get_used(&t->rg->ring, &len) != NULL) {
			reaped++;
		} else {
			sched_yield();
		}
	}
	return NULL;
}

START_TEST(test_two_threads)
{
	struct thread_ctx t;
	pthread_t th;
	unsigned long got = 0;
	uint64_t v;
	int i, r;

	t.rg = rig_new(4, F_ALL, MIB);
	for (i = 0; i < 4; i++)
		t.buf[i] = fg_mem_alloc(&t.rg->mem, 64, 64);
	ck_assert_int_eq(pthread_create(&th, NULL, driver_thread, &t), 0);
	while (got < THREAD_CHAINS) {
		r = virtq_pop(&t.rg->vq, &t.rg->chain);
		ck_assert_int_ge(r, 0);
		if (r == 0) {
			sched_yield();
			continue;
		}
		ck_assert_err(virtq_chain_read(&t.rg->vq, &t.rg->chain, 0, &v,
		    8), 0);
		ck_assert_uint_eq(v, got);
		got++;
		ck_assert_err(virtq_push(&t.rg->vq, t.rg->chain.head, 0), 0);
	}
	pthread_join(th, NULL);
	ck_assert_ptr_null(t.rg->ring.device_error);
	rig_free(t.rg);
}
END_TEST

static Suite *
virtq_suite(void)
{
	Suite *s = suite_create("virtq");
	TCase *rules = tcase_create("walker-rules");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(rules, test_walker_rule, 0, FG_BAD__COUNT);
	tcase_add_test(rules, test_builder_checks_ring);
	tcase_set_timeout(rules, 30);
	suite_add_tcase(s, rules);

	tcase_add_test(tc, test_setup_checks);
	tcase_add_test(tc, test_setup_alignment_guest_and_host);
	tcase_add_loop_test(tc, test_wellformed_chain, 0, 2);
	tcase_add_test(tc, test_zero_length_buffers_skipped);
	tcase_add_test(tc, test_chain_copy_after_break);
	tcase_add_test(tc, test_chain_hva_needs_same_setup);
	tcase_add_test(tc, test_chain_flat_needs_one_region);
	tcase_add_test(tc, test_indirect_table_across_regions);
	tcase_add_test(tc, test_push_n_as_pushes);
	tcase_add_loop_test(tc, test_add_seg_verdicts, 0,
	    (int)(sizeof(seg_case) / sizeof(seg_case[0])));
	tcase_add_test(tc, test_chain_limits_exact);
	tcase_add_loop_test(tc, test_chain_exactly_queue_size, 0, 2);
	tcase_add_test(tc, test_indirect_table_partly_unmapped);
	tcase_add_loop_test(tc, test_indirect_decisions, 0, 3);
	tcase_add_loop_test(tc, test_chain_total_exact, 0, 2);
	tcase_add_test(tc, test_index_wrap);
	tcase_add_test(tc, test_avail_distance_boundary);
	tcase_add_test(tc, test_set_base_resume);
	tcase_add_test(tc, test_unpop);
	tcase_add_test(tc, test_repost_kept_chain);
	tcase_add_test(tc, test_ring_recycle);
	tcase_add_test(tc, test_pop_or_arm);
	tcase_add_loop_test(tc, test_pop_or_arm_stays_armed, 0, 2);
	tcase_add_test(tc, test_unpop_misuse);
	tcase_add_test(tc, test_rewind);
	tcase_add_test(tc, test_rewind_misuse);
	tcase_add_test(tc, test_rewind_event_idx);
	tcase_add_test(tc, test_notify_flags);
	tcase_add_test(tc, test_event_idx);
	tcase_add_test(tc, test_need_event_wrap);
	tcase_add_loop_test(tc, test_notify_after_used_lap, 0, 2);
	tcase_add_test(tc, test_driver_checks_device);
	tcase_add_test(tc, test_two_threads);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(virtq_suite)

/* check_guestmem.c - guest memory translation: bounds, wrap, overlap, splits. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "common.h"
#include "guestmem.h"

static uint8_t ram_a[4096], ram_b[4096], ram_c[4096];

/* Regions A [0x1000, 0x2000) and B [0x2000, 0x3000) adjacent; C after a hole. */
static void
three_regions(struct guestmem *gm)
{
	guestmem_init(gm);
	ck_assert_err(guestmem_add_region(gm, 0x2000, 4096, ram_b), 0);
	ck_assert_err(guestmem_add_region(gm, 0x1000, 4096, ram_a), 0);
	ck_assert_err(guestmem_add_region(gm, 0x8000, 4096, ram_c), 0);
}

START_TEST(test_add_refuses_bad_regions)
{
	struct guestmem gm;
	static uint8_t r[16];
	unsigned i;

	three_regions(&gm);
	ck_assert_uint_eq(gm.region[0].gpa, 0x1000);	/* kept sorted */
	ck_assert_err(guestmem_add_region(&gm, 0x5000, 0, r), -VSE_ERR_INVAL);
	ck_assert_err(guestmem_add_region(&gm, 0x5000, 16, NULL),
	    -VSE_ERR_INVAL);
	ck_assert_err(guestmem_add_region(&gm, UINT64_MAX - 7, 16, r),
	    -VSE_ERR_MEM_OVERFLOW);
	/* Overlap on each side, inside, and enclosing. */
	ck_assert_err(guestmem_add_region(&gm, 0x0ff0, 0x20, r),
	    -VSE_ERR_MEM_OVERLAP);
	ck_assert_err(guestmem_add_region(&gm, 0x2ff0, 0x20, r),
	    -VSE_ERR_MEM_OVERLAP);
	ck_assert_err(guestmem_add_region(&gm, 0x8100, 0x10, r),
	    -VSE_ERR_MEM_OVERLAP);
	ck_assert_err(guestmem_add_region(&gm, 0x0, 0x10000, r),
	    -VSE_ERR_MEM_OVERLAP);
	/* One shared byte overlaps: the old last byte as the new first... */
	ck_assert_err(guestmem_add_region(&gm, 0x2fff, 0x10, r),
	    -VSE_ERR_MEM_OVERLAP);
	/* ...and the new region's last byte on the old region's first. */
	ck_assert_err(guestmem_add_region(&gm, 0x0ff1, 0x10, r),
	    -VSE_ERR_MEM_OVERLAP);
	/* Exactly touching is not overlapping. */
	ck_assert_err(guestmem_add_region(&gm, 0x3000, 16, r), 0);
	ck_assert_err(guestmem_add_region(&gm, 0x0ff0, 16, r), 0);
	/* A region ending at the very top of the address space is fine. */
	ck_assert_err(guestmem_add_region(&gm, UINT64_MAX - 15, 16, r), 0);
	for (i = gm.nregions; i < GUESTMEM_MAX_REGIONS; i++)
		ck_assert_err(guestmem_add_region(&gm, 0x100000 * (i + 1), 16,
		    r), 0);
	ck_assert_err(guestmem_add_region(&gm, 0x900000, 16, r),
	    -VSE_ERR_MEM_TOO_MANY);
}
END_TEST

START_TEST(test_map_bounds)
{
	struct guestmem gm;
	int e = 0;

	three_regions(&gm);
	ck_assert_ptr_eq(guestmem_map(&gm, 0x1000, 4096, &e), ram_a);
	ck_assert_ptr_eq(guestmem_map(&gm, 0x1fff, 1, &e), ram_a + 4095);
	ck_assert_ptr_eq(guestmem_map(&gm, 0x1800, 0, &e), ram_a + 0x800);
	/* One byte too far runs into B: adjacent, so a split, not a hole. */
	ck_assert_ptr_null(guestmem_map(&gm, 0x1001, 4096, &e));
	ck_assert_err(e, -VSE_ERR_MEM_SPLIT);
	/* Past the end of B is a hole. */
	ck_assert_ptr_null(guestmem_map(&gm, 0x2ff0, 0x20, &e));
	ck_assert_err(e, -VSE_ERR_MEM_UNMAPPED);
	ck_assert_ptr_null(guestmem_map(&gm, 0x0, 1, &e));
	ck_assert_err(e, -VSE_ERR_MEM_UNMAPPED);
	ck_assert_ptr_null(guestmem_map(&gm, 0x3000, 0, &e));
	ck_assert_err(e, -VSE_ERR_MEM_UNMAPPED);
	/* gpa + len wrapping past 2^64 is refused before any lookup. */
	ck_assert_ptr_null(guestmem_map(&gm, 0x1000, UINT64_MAX, &e));
	ck_assert_err(e, -VSE_ERR_MEM_OVERFLOW);
	ck_assert_ptr_null(guestmem_map(&gm, UINT64_MAX, 2, &e));
	ck_assert_err(e, -VSE_ERR_MEM_OVERFLOW);
	/* A NULL err pointer is allowed. */
	ck_assert_ptr_null(guestmem_map(&gm, 0x0, 1, NULL));
}
END_TEST

START_TEST(test_check_ranges)
{
	struct guestmem gm;

	three_regions(&gm);
	ck_assert_err(guestmem_check(&gm, 0x1000, 8192), 0);	/* A + B */
	ck_assert_err(guestmem_check(&gm, 0x1000, 8193),
	    -VSE_ERR_MEM_UNMAPPED);
	ck_assert_err(guestmem_check(&gm, 0x2fff, 0x5002),
	    -VSE_ERR_MEM_UNMAPPED);	/* spans the hole up to C */
	ck_assert_err(guestmem_check(&gm, 0, 0), 0);
	ck_assert_err(guestmem_check(&gm, UINT64_MAX - 1, 4),
	    -VSE_ERR_MEM_OVERFLOW);
	ck_assert_err(guestmem_check(&gm, 0x8000, UINT64_MAX - 0x7fff),
	    -VSE_ERR_MEM_UNMAPPED);
}
END_TEST

START_TEST(test_copy_splits_adjacent_regions)
{
	struct guestmem gm;
	uint8_t src[64], dst[64];
	unsigned i;

	three_regions(&gm);
	for (i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i + 1);
	ck_assert_err(guestmem_write(&gm, 0x2000 - 20, src, sizeof(src)), 0);
	ck_assert_mem_eq(ram_a + 4096 - 20, src, 20);
	ck_assert_mem_eq(ram_b, src + 20, 44);
	memset(dst, 0, sizeof(dst));
	ck_assert_err(guestmem_read(&gm, 0x2000 - 20, dst, sizeof(dst)), 0);
	ck_assert_mem_eq(dst, src, sizeof(src));
}
END_TEST

START_TEST(test_copy_refuses_holes_whole)
{
	struct guestmem gm;
	uint8_t src[64], before[64];

	three_regions(&gm);
	memset(src, 0xaa, sizeof(src));
	memcpy(before, ram_b + 4096 - 32, 32);
	/* Starts in B, runs into the hole: nothing may be written. */
	ck_assert_err(guestmem_write(&gm, 0x3000 - 32, src, sizeof(src)),
	    -VSE_ERR_MEM_UNMAPPED);
	ck_assert_mem_eq(ram_b + 4096 - 32, before, 32);
	ck_assert_err(guestmem_read(&gm, 0x3000 - 32, src, sizeof(src)),
	    -VSE_ERR_MEM_UNMAPPED);
	ck_assert_err(guestmem_read(&gm, UINT64_MAX - 2, src, 8),
	    -VSE_ERR_MEM_OVERFLOW);
	ck_assert_err(guestmem_read(&gm, 0x1000, src, 0), 0);
}
END_TEST

/* -VSE_ERR_* and -errno never share a number, and each is named as itself. */
START_TEST(test_error_spaces_disjoint)
{
	int e;

	ck_assert_str_eq(vse_errname(-EBADF), "EBADF");
	ck_assert_str_eq(vse_errname(-ECONNRESET), "ECONNRESET");
	ck_assert_str_eq(vse_strerror(-EPIPE), strerror(EPIPE));
	ck_assert_str_eq(vse_errname(-VSE_ERR_VQ_ALIGN), "VSE_ERR_VQ_ALIGN");
	ck_assert_str_eq(vse_errname(VSE_OK), "VSE_OK");
	ck_assert_int_gt(VSE_ERR_NOMEM, 4095);	/* Linux's MAX_ERRNO */
	for (e = 1; e < 4096; e++)
		ck_assert_msg(strncmp(vse_errname(-e), "VSE_", 4) != 0,
		    "errno %d named %s", e, vse_errname(-e));
	for (e = VSE_ERR_NOMEM; e < VSE_ERR__COUNT; e++)
		ck_assert_msg(strncmp(vse_errname(-e), "VSE_ERR_", 8) == 0,
		    "code %d named %s", e, vse_errname(-e));
	ck_assert_str_eq(vse_errname(-VSE_ERR__COUNT), "VSE_ERR_UNKNOWN");
}
END_TEST

static Suite *
guestmem_suite(void)
{
	Suite *s = suite_create("guestmem");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_add_refuses_bad_regions);
	tcase_add_test(tc, test_map_bounds);
	tcase_add_test(tc, test_check_ranges);
	tcase_add_test(tc, test_copy_splits_adjacent_regions);
	tcase_add_test(tc, test_copy_refuses_holes_whole);
	tcase_add_test(tc, test_error_spaces_disjoint);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(guestmem_suite)

/* common.c - fixtures shared by the Check suites. */
#include "config.h"

#include <sys/mman.h>
#include <unistd.h>

#include "common.h"
#include "flight.h"

struct rig *
rig_new(uint32_t qsize, uint64_t features, uint64_t mem_size)
{
	struct rig *rg = calloc(1, sizeof(*rg));

	ck_assert_ptr_nonnull(rg);
	ck_assert_err(fg_mem_init_simple(&rg->mem, mem_size), 0);
	ck_assert_err(fg_ring_init(&rg->ring, &rg->mem, qsize, features), 0);
	ck_assert_err(virtq_setup(&rg->vq, &rg->mem.gm, qsize,
	    rg->ring.desc_gpa, rg->ring.avail_gpa, rg->ring.used_gpa,
	    features), 0);
	return rg;
}

void
rig_free(struct rig *rg)
{
	fg_ring_destroy(&rg->ring);
	fg_mem_destroy(&rg->mem);
	free(rg);
}

void
rig_seal_memory(struct rig *rg)
{
	ck_assert_int_eq(mprotect(rg->mem.reservation,
	    rg->mem.reservation_len, PROT_NONE), 0);
}

int
run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	flight_runner = (long)getpid();
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* What the failed tests' devices last saw, as pcaps. */
	flight_collect(NULL, flight_runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* common.c - fixtures shared by the Check suites. */
#include "config.h"

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define CHECK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHECK_ASAN 1
#endif
#endif
#ifdef CHECK_ASAN
/* ASan's runtime has it; gcc 12 ships no <sanitizer/allocator_interface.h>. */
size_t __sanitizer_get_current_allocated_bytes(void);
#else
#include <malloc.h>
#endif

#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "flight-int.h"

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

/*
 * Turns the flight rings this runner's tests left into pcaps with
 * flight-pcap, the program beside the suite: the converter links libpcap,
 * the core suites do not.
 */
static void
collect_flight_rings(long runner)
{
	char self[PATH_MAX], tool[PATH_MAX + 16], pid[32];
	char *argv[] = { tool, (char *)flight_dir(), pid, NULL };
	ssize_t n;
	pid_t child;
	char *slash;
	int status;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	snprintf(tool, sizeof(tool), "%s/flight-pcap", self);
	snprintf(pid, sizeof(pid), "%ld", runner);
	if (posix_spawn(&child, tool, NULL, NULL, argv, environ) != 0) {
		fprintf(stderr, "flight recorder: cannot run %s; rings of "
		    "failed tests stay in %s as flight-%ld-*.ring\n", tool,
		    flight_dir(), runner);
		return;
	}
	waitpid(child, &status, 0);
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
	collect_flight_rings(flight_runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Heap bytes in use now: ASan's count under the sanitizers, glibc's otherwise. */
size_t
heap_in_use(void)
{
#ifdef CHECK_ASAN
	return __sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 m = mallinfo2();

	return m.uordblks + m.hblkhd;
#endif
}

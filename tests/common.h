/* common.h - fixtures shared by the Check suites. */
#ifndef VSE_TESTS_COMMON_H
#define VSE_TESTS_COMMON_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "error.h"
#include "mem.h"
#include "ring.h"
#include "virtq.h"

#define FEAT(bit)	VIRTIO_FEATURE(bit)
#define F_ALL		(FEAT(VIRTIO_F_VERSION_1) | \
	FEAT(VIRTIO_RING_F_EVENT_IDX) | FEAT(VIRTIO_RING_F_INDIRECT_DESC))

/* Asserts that a call returned the expected error, naming both on failure. */
#define ck_assert_err(got, want) do {					\
	int got_ = (got), want_ = (want);				\
	ck_assert_msg(got_ == want_, "%s: got %d (%s), want %d (%s)",	\
	    #got, got_, vse_errname(got_), want_, vse_errname(want_));	\
} while (0)

/* A fake guest ring and the device's view of it, over one memory. */
struct rig {
	struct fg_mem mem;
	struct fg_ring ring;
	struct virtq vq;
	struct virtq_chain chain;
};

/* Sets up memory (one region of mem_size at 1 MiB), a ring and the device. */
struct rig *rig_new(uint32_t qsize, uint64_t features, uint64_t mem_size);
void rig_free(struct rig *rg);

/* Makes all of the rig's guest memory inaccessible: any touch faults. */
void rig_seal_memory(struct rig *rg);

/* Runs suite s, returning the process exit status (for main). */
int run_suite(Suite *s);
/* Heap bytes in use now (ASan's count under the sanitizers, else glibc's). */
size_t heap_in_use(void);

#define VSE_CHECK_MAIN(suite_fn)					\
	int main(void) { return run_suite(suite_fn()); }

#endif

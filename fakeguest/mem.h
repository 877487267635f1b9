/* mem.h - the fake guest's RAM: mmap'd regions at chosen guest-physical addresses. */
#ifndef FG_MEM_H
#define FG_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guestmem.h"

/* fg_mem_alloc's failure value: no guest address is all ones and aligned. */
#define FG_GPA_NONE	UINT64_MAX

/* Where one region of guest RAM sits and how large it is. */
struct fg_mem_spec {
	uint64_t gpa;
	uint64_t size;		/* rounded up to the page size */
};

enum {
	FG_MEM_MEMFD = 1 << 0,	/* back regions with memfds (shareable) */
};

struct fg_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
	uint64_t brk;		/* bytes handed out by fg_mem_alloc */
	int fd;			/* memfd, or -1 */
};

/*
 * Guest RAM. Every region is its own mapping inside one reservation, with a
 * PROT_NONE guard page before and after it, so a device that runs off a
 * region's end faults at once instead of reading a neighbour. Mappings use
 * MAP_NORESERVE: a multi-GiB region costs nothing until touched, which lets
 * tests build chains whose lengths overflow 32 bits.
 */
struct fg_mem {
	struct guestmem gm;	/* what the device is given */
	unsigned nregions;
	struct fg_mem_region region[GUESTMEM_MAX_REGIONS];
	uint8_t *reservation;
	size_t reservation_len;
};

/* Maps n regions (flags: FG_MEM_*). Returns 0 or -VSE_ERR_*. */
int fg_mem_init(struct fg_mem *m, const struct fg_mem_spec *spec, unsigned n,
    unsigned flags);

/* One region of size bytes at guest-physical 1 MiB. */
int fg_mem_init_simple(struct fg_mem *m, uint64_t size);

/* Unmaps everything. */
void fg_mem_destroy(struct fg_mem *m);

/*
 * Hands out size bytes aligned to align (a power of two) from the first
 * region with room, zeroed; FG_GPA_NONE when none has room.
 */
uint64_t fg_mem_alloc(struct fg_mem *m, uint64_t size, uint64_t align);

/* Same, from region index ri only. */
uint64_t fg_mem_alloc_in(struct fg_mem *m, unsigned ri, uint64_t size,
    uint64_t align);

/*
 * Like fg_mem_alloc, without writing the bytes, so their pages cost nothing
 * until used: a fresh mapping is zero and no byte is handed out twice, so
 * they are zero unless the driver wrote where it had not allocated. For
 * large buffer pools (the raw guest's RX and TX buffers).
 */
uint64_t fg_mem_alloc_untouched(struct fg_mem *m, uint64_t size,
    uint64_t align);

/*
 * The driver's own view of its memory: a pointer to [gpa, gpa + len), which
 * must lie in one region. The driver trusts itself: misuse aborts.
 */
void *fg_mem_ptr(const struct fg_mem *m, uint64_t gpa, uint64_t len);

/* Copy helpers for the driver side, split across regions like the device. */
void fg_mem_write(const struct fg_mem *m, uint64_t gpa, const void *src,
    size_t len);
void fg_mem_read(const struct fg_mem *m, uint64_t gpa, void *dst, size_t len);

#endif

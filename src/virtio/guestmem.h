/* guestmem.h - the guest-physical to host-virtual translation every guest access goes through. */
#ifndef VSE_GUESTMEM_H
#define VSE_GUESTMEM_H

#include <stddef.h>
#include <stdint.h>

/* vhost-user's baseline region count (VHOST_MEMORY_BASELINE_NREGIONS). */
#define GUESTMEM_MAX_REGIONS 8

struct guestmem_region {
	uint64_t gpa;		/* first guest-physical address */
	uint64_t size;		/* bytes; never 0, gpa + size never wraps */
	uint8_t *hva;		/* where those bytes are mapped in this process */
};

/*
 * A table of guest memory regions, sorted by gpa, never overlapping.
 *
 * Policy for a range that crosses from one region into the next (decided
 * here, documented in doc/threat-model.md):
 *  - byte copies (guestmem_read/guestmem_write) are split across regions
 *    that are adjacent in guest-physical space, as Linux vhost and QEMU do
 *    for buffers; a hole anywhere in the range refuses the whole copy before
 *    a single byte moves;
 *  - a direct pointer (guestmem_map) is only ever handed out for a range
 *    inside one region, so no caller can run off the end of a mapping.
 */
struct guestmem {
	unsigned nregions;
	struct guestmem_region region[GUESTMEM_MAX_REGIONS];
};

/* Empties the table. */
void guestmem_init(struct guestmem *gm);

/*
 * Adds [gpa, gpa + size) backed by hva. Refuses a zero size, a range that
 * wraps, an overlap with an existing region and a full table.
 */
int guestmem_add_region(struct guestmem *gm, uint64_t gpa, uint64_t size,
    void *hva);

/*
 * Returns a host pointer to [gpa, gpa + len) when the whole range lies in one
 * region, else NULL with *err (if not NULL) set to the reason. len 0 maps to
 * a valid pointer only when gpa itself is inside a region.
 */
void *guestmem_map(const struct guestmem *gm, uint64_t gpa, uint64_t len,
    int *err);

/*
 * guestmem_map's commonest answer, inline: the host pointer when [gpa, gpa +
 * len) lies in one region (len > 0), else NULL and guestmem_map tells why.
 * No sum wraps: off < size, and len <= size - off keeps the range inside a
 * region that does not wrap. Every buffer of every chain popped maps here.
 */
static inline uint8_t *
guestmem_map_fast(const struct guestmem *gm, uint64_t gpa, uint64_t len)
{
	unsigned i;

	for (i = 0; i < gm->nregions; i++) {
		const struct guestmem_region *r = &gm->region[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return len <= r->size - (gpa - r->gpa) ?
			    r->hva + (gpa - r->gpa) : NULL;
	}
	return NULL;
}

/*
 * Returns a host pointer to the start of [gpa, gpa + len) and stores in
 * *avail how many of its bytes (1..len) are contiguous there; NULL when gpa
 * is not guest memory or len is 0. For building iovecs over a range that
 * guestmem_check() accepted.
 */
void *guestmem_map_partial(const struct guestmem *gm, uint64_t gpa,
    uint64_t len, uint64_t *avail);

/* Checks that every byte of [gpa, gpa + len) is guest memory: 0 or -error. */
int guestmem_check(const struct guestmem *gm, uint64_t gpa, uint64_t len);

/* Copies len bytes out of guest memory; nothing is copied on error. */
int guestmem_read(const struct guestmem *gm, uint64_t gpa, void *dst,
    size_t len);

/* Copies len bytes into guest memory; nothing is copied on error. */
int guestmem_write(const struct guestmem *gm, uint64_t gpa, const void *src,
    size_t len);

#endif

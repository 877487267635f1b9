/* guestmem.c - overflow-safe translation of guest-physical ranges. */
#include "config.h"

#include <string.h>

#include "error.h"
#include "guestmem.h"

void
guestmem_init(struct guestmem *gm)
{
	memset(gm, 0, sizeof(*gm));
}

/* Does [gpa, gpa + len) wrap? len is at least 1 here. */
static int
range_wraps(uint64_t gpa, uint64_t len)
{
	return len - 1 > UINT64_MAX - gpa;
}

int
guestmem_add_region(struct guestmem *gm, uint64_t gpa, uint64_t size,
    void *hva)
{
	unsigned i, at;

	if (size == 0 || hva == NULL)
		return -VSE_ERR_INVAL;
	if (range_wraps(gpa, size))
		return -VSE_ERR_MEM_OVERFLOW;
	if (gm->nregions == GUESTMEM_MAX_REGIONS)
		return -VSE_ERR_MEM_TOO_MANY;

	at = gm->nregions;
	for (i = 0; i < gm->nregions; i++) {
		const struct guestmem_region *r = &gm->region[i];

		/* Inclusive last bytes: no sum here can wrap. */
		if (gpa <= r->gpa + (r->size - 1) && r->gpa <= gpa + (size - 1))
			return -VSE_ERR_MEM_OVERLAP;
		if (at == gm->nregions && gpa < r->gpa)
			at = i;
	}
	memmove(&gm->region[at + 1], &gm->region[at],
	    (gm->nregions - at) * sizeof(gm->region[0]));
	gm->region[at].gpa = gpa;
	gm->region[at].size = size;
	gm->region[at].hva = hva;
	gm->nregions++;
	return 0;
}

/* The region holding gpa, or NULL. At most GUESTMEM_MAX_REGIONS steps. */
static const struct guestmem_region *
region_of(const struct guestmem *gm, uint64_t gpa)
{
	unsigned i;

	for (i = 0; i < gm->nregions; i++) {
		const struct guestmem_region *r = &gm->region[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

void *
guestmem_map(const struct guestmem *gm, uint64_t gpa, uint64_t len, int *err)
{
	const struct guestmem_region *r;
	uint64_t off;
	int e;

	if (len > 0 && range_wraps(gpa, len)) {
		e = -VSE_ERR_MEM_OVERFLOW;
		goto fail;
	}
	r = region_of(gm, gpa);
	if (r == NULL) {
		e = -VSE_ERR_MEM_UNMAPPED;
		goto fail;
	}
	off = gpa - r->gpa;
	if (len > r->size - off) {
		/* Tell a hole from a neighbour so callers can explain. */
		e = guestmem_check(gm, gpa, len) == 0 ?
		    -VSE_ERR_MEM_SPLIT : -VSE_ERR_MEM_UNMAPPED;
		goto fail;
	}
	return r->hva + off;
fail:
	if (err != NULL)
		*err = e;
	return NULL;
}

void *
guestmem_map_partial(const struct guestmem *gm, uint64_t gpa, uint64_t len,
    uint64_t *avail)
{
	const struct guestmem_region *r = region_of(gm, gpa);
	uint64_t off;

	if (r == NULL || len == 0)
		return NULL;
	off = gpa - r->gpa;
	*avail = r->size - off < len ? r->size - off : len;
	return r->hva + off;
}

int
guestmem_check(const struct guestmem *gm, uint64_t gpa, uint64_t len)
{
	const struct guestmem_region *r;
	uint64_t avail;
	unsigned steps;

	if (len == 0)
		return 0;
	if (range_wraps(gpa, len))
		return -VSE_ERR_MEM_OVERFLOW;
	/* Each step consumes one region, so the walk is bounded. */
	for (steps = 0; steps <= GUESTMEM_MAX_REGIONS; steps++) {
		r = region_of(gm, gpa);
		if (r == NULL)
			return -VSE_ERR_MEM_UNMAPPED;
		avail = r->size - (gpa - r->gpa);
		if (len <= avail)
			return 0;
		len -= avail;
		gpa += avail;
	}
	return -VSE_ERR_MEM_UNMAPPED;
}

/* Copies between guest and host, split at region borders; checks first. */
static int
guestmem_copy(const struct guestmem *gm, uint64_t gpa, void *host,
    size_t len, int to_guest)
{
	const struct guestmem_region *r;
	uint8_t *h = host;
	uint64_t off, chunk;
	int e;

	/* Fast path: the whole range in one region (nearly every buffer). */
	r = region_of(gm, gpa);
	if (r != NULL && len <= r->size - (gpa - r->gpa)) {
		off = gpa - r->gpa;
		if (to_guest)
			memcpy(r->hva + off, h, len);
		else
			memcpy(h, r->hva + off, len);
		return 0;
	}
	e = guestmem_check(gm, gpa, len);
	if (e < 0)
		return e;
	while (len > 0) {
		r = region_of(gm, gpa);
		off = gpa - r->gpa;
		chunk = r->size - off < len ? r->size - off : len;
		if (to_guest)
			memcpy(r->hva + off, h, chunk);
		else
			memcpy(h, r->hva + off, chunk);
		h += chunk;
		gpa += chunk;
		len -= chunk;
	}
	return 0;
}

int
guestmem_read(const struct guestmem *gm, uint64_t gpa, void *dst, size_t len)
{
	return guestmem_copy(gm, gpa, dst, len, 0);
}

int
guestmem_write(const struct guestmem *gm, uint64_t gpa, const void *src,
    size_t len)
{
	return guestmem_copy(gm, gpa, (void *)src, len, 1);
}

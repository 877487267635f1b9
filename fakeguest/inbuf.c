/* inbuf.c - posted device-writable buffers for the RX and event queues. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "inbuf.h"

/* Allocates the pool; the buffers are never returned to fg_mem. */
int
fg_inbuf_init(struct fg_inbuf *ib, struct fg_ring *r, uint32_t count,
    uint32_t size)
{
	uint32_t i;

	memset(ib, 0, sizeof(*ib));
	ib->ring = r;
	ib->size = size;
	ib->gpa = calloc(count, sizeof(*ib->gpa));
	ib->free = calloc(count, sizeof(*ib->free));
	ib->hva = calloc(count, sizeof(*ib->hva));
	if (count == 0 || ib->gpa == NULL || ib->free == NULL ||
	    ib->hva == NULL) {
		fg_inbuf_destroy(ib);
		return -VSE_ERR_NOMEM;
	}
	for (i = 0; i < count; i++) {
		/* 8-byte alignment, as a kmalloc'd skb head would have. */
		ib->gpa[i] = fg_mem_alloc(r->mem, size, 8);
		if (ib->gpa[i] == FG_GPA_NONE) {
			fg_inbuf_destroy(ib);
			return -VSE_ERR_NOMEM;
		}
		/* fg_mem_alloc gives each buffer from one region. */
		ib->hva[i] = fg_mem_ptr(r->mem, ib->gpa[i], size);
		ib->free[count - 1 - i] = i;
	}
	ib->count = ib->nfree = count;
	return 0;
}

/* Frees the host-side bookkeeping. */
void
fg_inbuf_destroy(struct fg_inbuf *ib)
{
	free(ib->gpa);
	free(ib->free);
	free(ib->hva);
	memset(ib, 0, sizeof(*ib));
}

/* Posts free buffers; the token is the buffer's index + 1 (never NULL). */
uint32_t
fg_inbuf_fill(struct fg_inbuf *ib)
{
	struct fg_buf b;
	uint32_t n = 0, i;

	while (ib->nfree > 0 && ib->ring->num_free > 0) {
		i = ib->free[ib->nfree - 1];
		b.gpa = ib->gpa[i];
		b.len = ib->size;
		if (fg_ring_add(ib->ring, NULL, 0, &b, 1,
		    (void *)(uintptr_t)(i + 1), false) < 0)
			break;
		ib->nfree--;
		ib->posted++;
		n++;
	}
	return n;
}

/*
 * Takes the next used buffer back into the pool: its index in *i and its
 * used length in *len. 0 when nothing is used.
 */
static int
take_used(struct fg_inbuf *ib, uint32_t *i, uint32_t *len)
{
	void *tok;

	/* fg_ring_get_used checks the id and that ulen <= our buffer. */
	tok = fg_ring_get_used(ib->ring, len);
	if (tok == NULL)
		return 0;
	*i = (uint32_t)((uintptr_t)tok - 1);
	ib->free[ib->nfree++] = *i;
	ib->posted--;
	return 1;
}

/* Reaps one used buffer into dst and recycles it. */
int
fg_inbuf_reap(struct fg_inbuf *ib, void *dst, uint32_t cap, uint32_t *len)
{
	uint32_t i;

	if (!take_used(ib, &i, len))
		return 0;
	fg_mem_read(ib->ring->mem, ib->gpa[i], dst, *len < cap ? *len : cap);
	return 1;
}

/* Reaps one used buffer in place; the caller recycles or loans it. */
int
fg_inbuf_reap_slot(struct fg_inbuf *ib, uint32_t *slot, const uint8_t **data,
    uint32_t *len)
{
	void *tok = fg_ring_get_used(ib->ring, len);

	if (tok == NULL)
		return 0;
	*slot = (uint32_t)((uintptr_t)tok - 1);
	ib->posted--;
	/* *len <= the buffer's size: fg_ring_get_used checked it. */
	*data = ib->hva[*slot];
	return 1;
}

/* Back to the free stack, for the next fill. */
void
fg_inbuf_recycle(struct fg_inbuf *ib, uint32_t slot, bool was_loaned)
{
	if (was_loaned)
		ib->loaned--;
	ib->free[ib->nfree++] = slot;
}

/* Half the pool at most stays with readers. */
bool
fg_inbuf_may_loan(const struct fg_inbuf *ib)
{
	return ib->loaned < ib->count / 2;
}

/* Counts a reaped buffer as kept by a reader. */
void
fg_inbuf_loan(struct fg_inbuf *ib)
{
	ib->loaned++;
}

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
	if (count == 0 || ib->gpa == NULL || ib->free == NULL) {
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

/* Reaps one used buffer into dst and recycles it. */
int
fg_inbuf_reap(struct fg_inbuf *ib, void *dst, uint32_t cap, uint32_t *len)
{
	void *tok;
	uint32_t ulen, i;

	/* fg_ring_get_used checks the id and that ulen <= our buffer. */
	tok = fg_ring_get_used(ib->ring, &ulen);
	if (tok == NULL)
		return 0;
	i = (uint32_t)((uintptr_t)tok - 1);
	fg_mem_read(ib->ring->mem, ib->gpa[i], dst, ulen < cap ? ulen : cap);
	ib->free[ib->nfree++] = i;
	ib->posted--;
	*len = ulen;
	return 1;
}

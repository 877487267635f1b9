/* blockpool.c - a bounded free list of equal-sized buffers. */
#include "config.h"

#include <stdlib.h>

#include "blockpool.h"

/* A spare buffer's first word links it to the next spare. */
struct blockpool_link {
	struct blockpool_link *next;
};

/* An empty pool; nothing is allocated until the first get. */
void
blockpool_init(struct blockpool *bp, size_t size, uint32_t max_free)
{
	bp->spare = NULL;
	bp->nfree = 0;
	bp->max_free = max_free;
	bp->size = size < sizeof(struct blockpool_link) ?
	    sizeof(struct blockpool_link) : size;
	bp->reused = 0;
}

/* A spare if any (counted as reused), else malloc. */
void *
blockpool_get(struct blockpool *bp)
{
	struct blockpool_link *l = bp->spare;

	if (l == NULL)
		return malloc(bp->size);
	bp->spare = l->next;
	bp->nfree--;
	bp->reused++;
	return l;
}

/* Onto the spare list below the cap, else free. */
void
blockpool_put(struct blockpool *bp, void *buf)
{
	struct blockpool_link *l = buf;

	if (l == NULL)
		return;
	if (bp->nfree >= bp->max_free) {
		free(l);
		return;
	}
	l->next = bp->spare;
	bp->spare = l;
	bp->nfree++;
}

/* Frees the spares. */
void
blockpool_destroy(struct blockpool *bp)
{
	struct blockpool_link *l;

	while ((l = bp->spare) != NULL) {
		bp->spare = l->next;
		free(l);
	}
	bp->nfree = 0;
}

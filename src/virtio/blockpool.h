/* blockpool.h - a bounded free list of equal-sized buffers: reuse instead of malloc/free per packet. */
#ifndef VSE_BLOCKPOOL_H
#define VSE_BLOCKPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Buffers of `size` bytes handed out and taken back. Freeing a 4 KiB or
 * 64 KiB buffer per packet made glibc trim the heap (free -> systrim ->
 * brk, then page faults to grow it again): issue 20 measured half of
 * host->guest CPU there. The pool keeps at most max_free spare buffers;
 * more are freed, so what it holds is bounded whatever a peer does.
 */
struct blockpool {
	void *spare;		/* free buffers, linked through their first word */
	uint32_t nfree;		/* buffers on the spare list */
	uint32_t max_free;	/* the cap on nfree */
	size_t size;		/* bytes of every buffer */
	uint64_t reused;	/* gets served from the spare list */
};

/* An empty pool of size-byte buffers (size >= sizeof(void *)) keeping <= max_free spares. */
void blockpool_init(struct blockpool *bp, size_t size, uint32_t max_free);

/* A buffer of bp->size bytes: a spare if any, else a new one; NULL when out of memory. */
void *blockpool_get(struct blockpool *bp);

/* Takes back a buffer from blockpool_get (NULL is ignored); frees it if the spare list is full. */
void blockpool_put(struct blockpool *bp, void *buf);

/* Frees every spare buffer (buffers handed out stay the caller's). */
void blockpool_destroy(struct blockpool *bp);

/*
 * Should a buffer for n bytes come from this pool? Only when it fills more
 * than half a block: a pooled block for a 1-byte packet would multiply the
 * memory a peer can pin by sending small packets.
 */
static inline bool
blockpool_fits(const struct blockpool *bp, size_t n)
{
	return n > bp->size / 2 && n <= bp->size;
}

#endif

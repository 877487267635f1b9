/* badchain.h - fabricates every malformed chain the device's walker must refuse. */
#ifndef FG_BADCHAIN_H
#define FG_BADCHAIN_H

#include <stdint.h>

#include "ring.h"

/* One case per walker rule of doc/threat-model.md. */
enum fg_bad {
	FG_BAD_AVAIL_IDX,		/* avail idx jumps num + 1 ahead */
	FG_BAD_HEAD_RANGE,		/* head == queue size */
	FG_BAD_NEXT_RANGE,		/* next == queue size */
	FG_BAD_LOOP,			/* 0 -> 1 -> 0 */
	FG_BAD_SELF_LOOP,		/* 0 -> 0 */
	FG_BAD_INDIRECT_NOT_NEGOTIATED,	/* valid table, feature off */
	FG_BAD_INDIRECT_EMPTY,		/* table length 0 */
	FG_BAD_INDIRECT_LEN,		/* table length 24 */
	FG_BAD_INDIRECT_TOO_BIG,	/* table of num + 1 entries */
	FG_BAD_INDIRECT_NESTED,		/* INDIRECT inside the table */
	FG_BAD_INDIRECT_NEXT,		/* INDIRECT | NEXT */
	FG_BAD_INDIRECT_NEXT_RANGE,	/* next past the table's end */
	FG_BAD_INDIRECT_LOOP,		/* loop inside the table */
	FG_BAD_INDIRECT_UNMAPPED,	/* table outside guest memory */
	FG_BAD_INDIRECT_OVERFLOW,	/* table address + length wraps */
	FG_BAD_READ_AFTER_WRITE,	/* writable, then readable */
	FG_BAD_READ_AFTER_EMPTY_WRITE,	/* zero-length writable, then readable */
	FG_BAD_DESC_OVERFLOW,		/* addr + len wraps */
	FG_BAD_DESC_UNMAPPED,		/* buffer in a hole */
	FG_BAD_DESC_PAST_END,		/* buffer runs one byte past the region */
	FG_BAD_READ_TOO_LONG,		/* readable total > 2^32 - 1 */
	FG_BAD_WRITE_TOO_LONG,		/* writable total > 2^32 - 1 */
	FG_BAD_TOO_MANY_SEGS,		/* VIRTQ_CHAIN_MAX_SEGS + 1 buffers */
	FG_BAD__COUNT
};

/* What a case needs from the ring and memory, and what it must provoke. */
struct fg_bad_info {
	const char *name;
	int expected;		/* the -VSE_ERR_* the walker must return */
	uint32_t min_queue;	/* smallest queue size that can express it */
	int indirect;		/* 1 needs the feature, 0 needs it off, -1 any */
	uint64_t min_region;	/* bytes the first region must have */
};

const struct fg_bad_info *fg_bad_info(enum fg_bad kind);

/*
 * Writes the malformed chain of that kind into r's memory and publishes it.
 * Returns 0, or -VSE_ERR_INVAL when r does not meet fg_bad_info's needs.
 */
int fg_bad_publish(struct fg_ring *r, enum fg_bad kind);

#endif

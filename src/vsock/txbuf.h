/* txbuf.h - guest-to-host bytes the host application has not taken yet. */
#ifndef VSE_TXBUF_H
#define VSE_TXBUF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "blockpool.h"

/* One complete SEQPACKET message held in the ring. */
struct txbuf_msg {
	uint32_t len;
	uint32_t flags;		/* VIRTIO_VSOCK_SEQ_EOM / _EOR */
};

/* Boundaries a table starts with, and the least any buffer may hold. */
#define TXBUF_MSGS_MIN	64

/*
 * A byte ring allocated only when the host cannot keep up (an idle
 * connection holds no buffer), never larger than the buf_alloc we
 * advertised: credit bounds what the guest may send ahead of the host.
 * For SEQPACKET it also remembers where complete messages end, in a table
 * that grows by doubling up to txbuf_msgs_max(cap) entries; bytes after
 * the last boundary are a message still being received.
 *
 * The ring's storage comes from pool when one is set and its blocks are
 * cap bytes (the device shares one among its connections), so a host
 * that keeps falling behind and catching up does not make the allocator
 * map and unmap buf_alloc bytes each time. It survives txbuf_free and
 * the release of an empty ring.
 */
struct txbuf {
	/*
	 * First: what a control packet asks (device_want: anything for the
	 * host to write?). struct vsock_conn puts them in its hot line.
	 */
	uint32_t len;		/* bytes held */
	uint32_t nmsgs;		/* complete messages in msg */
	struct blockpool *pool;	/* where buf comes from, or NULL: malloc */
	uint8_t *buf;
	uint32_t cap;
	uint32_t head;		/* offset of the first byte */
	uint32_t msg_cap;	/* entries allocated in msg */
	uint32_t msg_head;
	struct txbuf_msg *msg;	/* a ring of msg_cap boundaries, or NULL */
	uint32_t msg_bytes;	/* bytes in complete messages */
};

/*
 * Most complete messages a buffer of cap bytes holds. Linux bounds what a
 * guest sends ahead of a slow reader by bytes (credit), not by messages;
 * so do we, and a message of 8 bytes or more can never reach this bound
 * within credit. Only messages that cost (almost) no credit can, and they
 * must not grow memory without end: the table never outgrows the bytes.
 */
uint32_t txbuf_msgs_max(uint32_t cap);

/* Returns a pointer to len bytes appended at the tail (allocating up to cap), or NULL. */
uint8_t *txbuf_reserve(struct txbuf *tb, uint32_t cap, uint32_t len,
    uint8_t **second, uint32_t *first_len);

/* Fills iov (2 entries) with up to max bytes from the head; returns count. */
int txbuf_peek(const struct txbuf *tb, uint32_t max, struct iovec iov[2]);

/* Drops n bytes from the head; frees the ring once it is empty. */
void txbuf_consume(struct txbuf *tb, uint32_t n);

/*
 * Marks the bytes after the last boundary as a complete message, growing
 * the boundary table as needed. False (nothing changed) when
 * txbuf_msgs_max(cap) messages are held already, or on allocation failure.
 */
bool txbuf_end_msg(struct txbuf *tb, uint32_t cap, uint32_t flags);

/* The first complete message, if any. */
const struct txbuf_msg *txbuf_first_msg(const struct txbuf *tb);

/* Removes the first complete message (its bytes must have been consumed). */
void txbuf_pop_msg(struct txbuf *tb);

void txbuf_free(struct txbuf *tb);

static inline bool
txbuf_empty(const struct txbuf *tb)
{
	return tb->len == 0 && tb->nmsgs == 0;
}

#endif

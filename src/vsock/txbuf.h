/* txbuf.h - guest-to-host bytes the host application has not taken yet. */
#ifndef VSE_TXBUF_H
#define VSE_TXBUF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

/* Most complete SEQPACKET messages one connection may hold back. */
#define TXBUF_MAX_MSGS	64

/* One complete SEQPACKET message held in the ring. */
struct txbuf_msg {
	uint32_t len;
	uint32_t flags;		/* VIRTIO_VSOCK_SEQ_EOM / _EOR */
};

/*
 * A byte ring allocated only when the host cannot keep up (an idle
 * connection holds no buffer), never larger than the buf_alloc we
 * advertised: credit bounds what the guest may send ahead of the host.
 * For SEQPACKET it also remembers where complete messages end; bytes after
 * the last boundary are a message still being received.
 */
struct txbuf {
	uint8_t *buf;
	uint32_t cap;
	uint32_t head;		/* offset of the first byte */
	uint32_t len;		/* bytes held */
	struct txbuf_msg *msg;	/* TXBUF_MAX_MSGS, in the same allocation */
	uint32_t msg_head, nmsgs;
	uint32_t msg_bytes;	/* bytes in complete messages */
};

/* Returns a pointer to len bytes appended at the tail (allocating up to cap), or NULL. */
uint8_t *txbuf_reserve(struct txbuf *tb, uint32_t cap, uint32_t len,
    uint8_t **second, uint32_t *first_len);

/* Fills iov (2 entries) with up to max bytes from the head; returns count. */
int txbuf_peek(const struct txbuf *tb, uint32_t max, struct iovec iov[2]);

/* Drops n bytes from the head; frees the ring once it is empty. */
void txbuf_consume(struct txbuf *tb, uint32_t n);

/*
 * Marks the bytes after the last boundary as a complete message (allocating
 * the ring, up to cap, for a message of no bytes). False when the boundary
 * table is full.
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

/* txbuf.c - a lazily allocated byte ring with SEQPACKET message boundaries. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "txbuf.h"

uint32_t
txbuf_msgs_max(uint32_t cap)
{
	uint32_t n = cap / (uint32_t)sizeof(struct txbuf_msg);

	return n > TXBUF_MSGS_MIN ? n : TXBUF_MSGS_MIN;
}

/* cap bytes of ring: the pool's block when it has the size, else malloc. */
static uint8_t *
storage_get(struct txbuf *tb, uint32_t cap)
{
	if (tb->pool != NULL && tb->pool->size == cap)
		return blockpool_get(tb->pool);
	return malloc(cap);
}

/* Frees the ring and the boundary table; the pool stays. */
static void
release(struct txbuf *tb)
{
	struct blockpool *pool = tb->pool;

	if (pool != NULL && pool->size == tb->cap)
		blockpool_put(pool, tb->buf);
	else
		free(tb->buf);
	free(tb->msg);
	memset(tb, 0, sizeof(*tb));
	tb->pool = pool;
}

uint8_t *
txbuf_reserve(struct txbuf *tb, uint32_t cap, uint32_t len, uint8_t **second,
    uint32_t *first_len)
{
	uint32_t tail, room;

	if (tb->buf == NULL) {
		if (cap == 0 || (tb->buf = storage_get(tb, cap)) == NULL)
			return NULL;
		tb->cap = cap;
		tb->head = 0;
	}
	if (len > tb->cap - tb->len)
		return NULL;
	tail = (tb->head + tb->len) % tb->cap;
	room = tb->cap - tail;
	*first_len = len < room ? len : room;
	*second = tb->buf;
	tb->len += len;
	return tb->buf + tail;
}

int
txbuf_peek(const struct txbuf *tb, uint32_t max, struct iovec iov[2])
{
	uint32_t n = tb->len < max ? tb->len : max, first;

	if (n == 0)
		return 0;
	first = tb->cap - tb->head;
	if (first >= n) {
		iov[0] = (struct iovec){ tb->buf + tb->head, n };
		return 1;
	}
	iov[0] = (struct iovec){ tb->buf + tb->head, first };
	iov[1] = (struct iovec){ tb->buf, n - first };
	return 2;
}

/* An idle connection keeps no buffer: releases both once nothing is held. */
static void
release_if_empty(struct txbuf *tb)
{
	if (tb->len != 0 || tb->nmsgs != 0)
		return;
	release(tb);
}

void
txbuf_consume(struct txbuf *tb, uint32_t n)
{
	if (n > tb->len)
		n = tb->len;
	tb->len -= n;
	tb->head = tb->len == 0 ? 0 : (tb->head + n) % tb->cap;
	release_if_empty(tb);
}

/* Doubles the boundary table (up to max), keeping the held ones in order. */
static bool
grow_msgs(struct txbuf *tb, uint32_t max)
{
	uint32_t ncap = tb->msg_cap == 0 ? TXBUF_MSGS_MIN : tb->msg_cap * 2;
	struct txbuf_msg *m;
	uint32_t i;

	if (ncap > max)
		ncap = max;
	if (ncap <= tb->msg_cap ||
	    (m = malloc((size_t)ncap * sizeof(*m))) == NULL)
		return false;
	for (i = 0; i < tb->nmsgs; i++)
		m[i] = tb->msg[(tb->msg_head + i) % tb->msg_cap];
	free(tb->msg);
	tb->msg = m;
	tb->msg_cap = ncap;
	tb->msg_head = 0;
	return true;
}

bool
txbuf_end_msg(struct txbuf *tb, uint32_t cap, uint32_t flags)
{
	struct txbuf_msg *m;

	if (tb->nmsgs == tb->msg_cap && !grow_msgs(tb, txbuf_msgs_max(cap)))
		return false;
	m = &tb->msg[(tb->msg_head + tb->nmsgs) % tb->msg_cap];
	m->len = tb->len - tb->msg_bytes;
	m->flags = flags;
	tb->msg_bytes += m->len;
	tb->nmsgs++;
	return true;
}

const struct txbuf_msg *
txbuf_first_msg(const struct txbuf *tb)
{
	return tb->nmsgs > 0 ? &tb->msg[tb->msg_head] : NULL;
}

void
txbuf_pop_msg(struct txbuf *tb)
{
	if (tb->nmsgs == 0)
		return;
	tb->msg_bytes -= tb->msg[tb->msg_head].len;
	tb->msg_head = (tb->msg_head + 1) % tb->msg_cap;
	tb->nmsgs--;
	release_if_empty(tb);
}

void
txbuf_free(struct txbuf *tb)
{
	release(tb);
}

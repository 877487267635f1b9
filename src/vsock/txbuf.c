/* txbuf.c - a lazily allocated byte ring with SEQPACKET message boundaries. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "txbuf.h"

uint8_t *
txbuf_reserve(struct txbuf *tb, uint32_t cap, uint32_t len, uint8_t **second,
    uint32_t *first_len)
{
	uint32_t tail, room;

	if (tb->buf == NULL) {
		/* Bytes, then the boundary array at an 8-byte aligned offset. */
		size_t bytes = ((size_t)cap + 7) & ~(size_t)7;

		if (cap == 0 || (tb->buf = malloc(bytes +
		    TXBUF_MAX_MSGS * sizeof(struct txbuf_msg))) == NULL)
			return NULL;
		tb->msg = (struct txbuf_msg *)(void *)(tb->buf + bytes);
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

void
txbuf_consume(struct txbuf *tb, uint32_t n)
{
	if (n > tb->len)
		n = tb->len;
	tb->len -= n;
	tb->head = tb->len == 0 ? 0 : (tb->head + n) % tb->cap;
	if (tb->len == 0 && tb->nmsgs == 0) {
		/* An idle connection keeps no buffer. */
		free(tb->buf);
		tb->buf = NULL;
		tb->msg = NULL;
		tb->cap = 0;
		tb->msg_head = 0;
	}
}

bool
txbuf_end_msg(struct txbuf *tb, uint32_t cap, uint32_t flags)
{
	struct txbuf_msg *m;
	uint8_t *second;
	uint32_t first_len;

	if (tb->msg == NULL &&
	    txbuf_reserve(tb, cap, 0, &second, &first_len) == NULL)
		return false;
	if (tb->nmsgs == TXBUF_MAX_MSGS)
		return false;
	m = &tb->msg[(tb->msg_head + tb->nmsgs) % TXBUF_MAX_MSGS];
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
	tb->msg_head = (tb->msg_head + 1) % TXBUF_MAX_MSGS;
	tb->nmsgs--;
	if (tb->len == 0 && tb->nmsgs == 0)
		txbuf_consume(tb, 0);
}

void
txbuf_free(struct txbuf *tb)
{
	free(tb->buf);
	memset(tb, 0, sizeof(*tb));
}

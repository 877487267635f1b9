/* txq.c - TX buffers and descriptor layouts of the guest stack (Linux virtio_transport_send_pkt_work). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "txq.h"

/* Payload bytes of the largest piece: 64 KiB unless split in frags. */
static uint32_t
piece_max(const struct fg_txq *q)
{
	return q->layout == FG_TX_FRAGS ? q->frag_size :
	    VIRTIO_VSOCK_MAX_PKT_BUF_SIZE;
}

/* Descriptors for a packet of len payload bytes. */
uint32_t
fg_txq_nbufs(const struct fg_txq *q, uint32_t len)
{
	uint32_t pm = piece_max(q);

	if (q->layout == FG_TX_LINEAR)
		return 1;
	/* Linux posts no descriptor for an empty payload. */
	return 1 + (len + pm - 1) / pm;
}

/* Offset of payload piece k inside a slot (the header sits at 0). */
static uint64_t
piece_off(const struct fg_txq *q, uint32_t k)
{
	if (q->layout == FG_TX_LINEAR || q->layout == FG_TX_SKB)
		return VSOCK_HDR_SIZE;
	return FG_TX_GAP + (uint64_t)k * (piece_max(q) + FG_TX_GAP);
}

/* Bytes one slot needs: the header and every piece of a 64 KiB payload. */
static uint32_t
slot_bytes(const struct fg_txq *q)
{
	uint32_t pieces = fg_txq_nbufs(q, VIRTIO_VSOCK_MAX_PKT_BUF_SIZE) - 1;

	if (q->layout == FG_TX_LINEAR)
		return VSOCK_HDR_SIZE + VIRTIO_VSOCK_MAX_PKT_BUF_SIZE;
	return (uint32_t)piece_off(q, pieces - 1) + piece_max(q);
}

/* Checks the knobs: the largest packet must fit the ring or a table. */
static int
check_layout(const struct fg_txq *q)
{
	uint32_t most;

	if (q->layout > FG_TX_SKB)
		return -VSE_ERR_INVAL;
	if (q->layout == FG_TX_FRAGS && (q->frag_size == 0 ||
	    q->frag_size > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE))
		return -VSE_ERR_INVAL;
	/* fg_txq_flush builds a packet's buffers in a table of this size. */
	most = fg_txq_nbufs(q, VIRTIO_VSOCK_MAX_PKT_BUF_SIZE);
	if (most > FG_RING_INDIRECT_MAX)
		return -VSE_ERR_INVAL;
	if (q->indirect)
		return 0;
	return most <= q->ring->num ? 0 : -VSE_ERR_INVAL;
}

/* Sets the queue up and poisons every slot once. */
int
fg_txq_init(struct fg_txq *q, struct fg_ring *r, enum fg_tx_layout layout,
    uint32_t frag_size, bool indirect, uint32_t nslots, uint32_t pending_max)
{
	uint32_t i;
	int e;

	memset(q, 0, sizeof(*q));
	TAILQ_INIT(&q->pending);
	blockpool_init(&q->pool, sizeof(struct fg_pkt) +
	    VIRTIO_VSOCK_MAX_PKT_BUF_SIZE, FG_TXPOOL_MAX);
	q->ring = r;
	q->layout = layout;
	q->frag_size = frag_size;
	q->indirect = indirect && r->indirect;
	q->pending_max = pending_max;
	if ((e = check_layout(q)) < 0 || nslots == 0)
		return e < 0 ? e : -VSE_ERR_INVAL;
	q->slot_size = slot_bytes(q);
	q->slot_gpa = calloc(nslots, sizeof(*q->slot_gpa));
	q->free = calloc(nslots, sizeof(*q->free));
	if (q->slot_gpa == NULL || q->free == NULL)
		goto nomem;
	for (i = 0; i < nslots; i++) {
		/* Where an skb head starts (FG_TX_ALIGN). */
		q->slot_gpa[i] = fg_mem_alloc(r->mem, q->slot_size,
		    FG_TX_ALIGN);
		if (q->slot_gpa[i] == FG_GPA_NONE)
			goto nomem;
		/* Poison shows a device reading between our buffers. */
		memset(fg_mem_ptr(r->mem, q->slot_gpa[i], q->slot_size),
		    FG_TX_POISON, q->slot_size);
		q->free[nslots - 1 - i] = i;
	}
	q->nslots = q->nfree = nslots;
	return 0;
nomem:
	fg_txq_destroy(q);
	return -VSE_ERR_NOMEM;
}

/* Gives a packet back: big ones to the pool, for the next send. */
static void
pkt_release(struct fg_txq *q, struct fg_pkt *p)
{
	if (blockpool_fits(&q->pool, sizeof(*p) + p->hdr.len))
		blockpool_put(&q->pool, p);
	else
		free(p);
}

/* Drops pending packets and frees the bookkeeping. */
void
fg_txq_destroy(struct fg_txq *q)
{
	struct fg_pkt *p;

	while ((p = TAILQ_FIRST(&q->pending)) != NULL) {
		TAILQ_REMOVE(&q->pending, p, entry);
		pkt_release(q, p);
	}
	blockpool_destroy(&q->pool);
	free(q->slot_gpa);
	free(q->free);
	memset(q, 0, sizeof(*q));
	TAILQ_INIT(&q->pending);
}

static uint32_t fill_slot(const struct fg_txq *q, uint32_t s,
    const struct vsock_hdr *h, const uint8_t *payload, struct fg_buf *b);

/*
 * Writes the packet straight into a free slot and onto the ring, as Linux
 * builds the skb the device reads (one copy: the application's bytes into
 * guest memory). False when no slot or no descriptors are free.
 */
static bool
place_direct(struct fg_txq *q, const struct vsock_hdr *h,
    const uint8_t *payload)
{
	struct fg_buf b[FG_RING_INDIRECT_MAX];
	uint32_t s, n;

	if (q->nfree == 0)
		return false;
	s = q->free[q->nfree - 1];
	n = fill_slot(q, s, h, payload, b);
	if (fg_ring_add(q->ring, b, n, NULL, 0, (void *)(uintptr_t)(s + 1),
	    q->indirect) < 0)
		return false;
	q->nfree--;
	return true;
}

/* Places a packet on the ring, or copies it onto the pending list. */
int
fg_txq_queue(struct fg_txq *q, const struct vsock_hdr *h, const void *payload)
{
	struct fg_pkt *p;

	if (h->len > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE)
		return -VSE_ERR_INVAL;
	/* Only when nothing waits: packets keep their order. */
	if (q->npending == 0 && place_direct(q, h, payload))
		return 1;
	p = blockpool_fits(&q->pool, sizeof(*p) + h->len) ?
	    blockpool_get(&q->pool) : malloc(sizeof(*p) + h->len);
	if (p == NULL)
		return -VSE_ERR_NOMEM;
	p->hdr = *h;
	if (h->len > 0)
		memcpy(p->data, payload, h->len);
	TAILQ_INSERT_TAIL(&q->pending, p, entry);
	q->npending++;
	return 0;
}

/* Writes h and its payload into slot s and describes its buffers in b; returns the count. */
static uint32_t
fill_slot(const struct fg_txq *q, uint32_t s, const struct vsock_hdr *h,
    const uint8_t *payload, struct fg_buf *b)
{
	uint8_t raw[VSOCK_HDR_SIZE];
	uint32_t n = fg_txq_nbufs(q, h->len), k, off = 0, chunk;
	uint64_t base = q->slot_gpa[s];

	vsock_hdr_encode(h, raw);
	fg_mem_write(q->ring->mem, base, raw, sizeof(raw));
	b[0].gpa = base;
	b[0].len = VSOCK_HDR_SIZE;
	for (k = 0; off < h->len; k++) {
		chunk = h->len - off;
		if (chunk > piece_max(q))
			chunk = piece_max(q);
		fg_mem_write(q->ring->mem, base + piece_off(q, k),
		    payload + off, chunk);
		if (q->layout == FG_TX_LINEAR)
			b[0].len += chunk;
		else {
			b[k + 1].gpa = base + piece_off(q, k);
			b[k + 1].len = chunk;
		}
		off += chunk;
	}
	return n;
}

/* Places pending packets in FIFO order until a slot or descriptors run out. */
uint32_t
fg_txq_flush(struct fg_txq *q)
{
	struct fg_buf b[FG_RING_INDIRECT_MAX];
	struct fg_pkt *p;
	uint32_t placed = 0, s, n;
	int e;

	while ((p = TAILQ_FIRST(&q->pending)) != NULL && q->nfree > 0) {
		s = q->free[q->nfree - 1];
		n = fill_slot(q, s, &p->hdr, p->data, b);
		e = fg_ring_add(q->ring, b, n, NULL, 0,
		    (void *)(uintptr_t)(s + 1), q->indirect);
		if (e < 0)
			break;	/* ring full: try again after a reap */
		q->nfree--;
		TAILQ_REMOVE(&q->pending, p, entry);
		q->npending--;
		pkt_release(q, p);
		placed++;
	}
	return placed;
}

/* Returns used TX buffers to the pool. */
uint32_t
fg_txq_reap(struct fg_txq *q)
{
	uint32_t n = 0, len;
	void *tok;

	while ((tok = fg_ring_get_used(q->ring, &len)) != NULL) {
		q->free[q->nfree++] = (uint32_t)((uintptr_t)tok - 1);
		n++;
	}
	return n;
}

/* txq.h - the guest's TX side: packet buffers in guest memory, descriptor layouts, a pending list. */
#ifndef FG_TXQ_H
#define FG_TXQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "blockpool.h"
#include "pkt.h"
#include "ring.h"

/* How one packet is laid out in descriptors (all device-readable). */
enum fg_tx_layout {
	FG_TX_LINEAR = 0,	/* header and payload in one descriptor */
	FG_TX_SPLIT,		/* header, then the payload in one descriptor */
	FG_TX_FRAGS,		/* header, then the payload in frag_size pieces */
	/*
	 * Header, then the payload right behind it in a second descriptor:
	 * Linux's skb (virtio_vsock_alloc_skb reserves the header's room,
	 * virtio_transport_send_pkt_work adds head and data as two entries).
	 */
	FG_TX_SKB,
};

/* Gap left between the buffers of one packet, filled with FG_TX_POISON. */
#define FG_TX_GAP	64
/*
 * Alignment of every TX slot in guest memory: a cache line, where a
 * kmalloc'd skb head starts (a 64 KiB one starts a page).
 */
#define FG_TX_ALIGN	64
#define FG_TX_POISON	0xa5

/* A packet built by the stack and not yet on the ring. */
struct fg_pkt {
	TAILQ_ENTRY(fg_pkt) entry;
	struct vsock_hdr hdr;
	uint8_t data[];		/* hdr.len bytes */
};
TAILQ_HEAD(fg_pkt_list, fg_pkt);

/* Spare 64 KiB packets kept for reuse (bounded: 1 MiB). */
#define FG_TXPOOL_MAX	16

struct fg_txq {
	struct fg_ring *ring;
	enum fg_tx_layout layout;
	uint32_t frag_size;	/* piece size of FG_TX_FRAGS */
	bool indirect;		/* put multi-descriptor chains in a table */
	uint32_t slot_size;
	uint32_t nslots;
	uint64_t *slot_gpa;
	uint32_t *free;		/* stack of unused slots */
	uint32_t nfree;
	struct fg_pkt_list pending;
	uint32_t npending;
	uint32_t pending_max;	/* fg_txq_congested beyond this */
	struct blockpool pool;	/* spare fg_pkts of (almost) 64 KiB */
};

/*
 * Carves nslots packet buffers (header + 64 KiB each) out of r's memory.
 * Refuses (-VSE_ERR_INVAL) a layout whose largest packet could never fit
 * the ring or an indirect table.
 */
int fg_txq_init(struct fg_txq *q, struct fg_ring *r, enum fg_tx_layout layout,
    uint32_t frag_size, bool indirect, uint32_t nslots, uint32_t pending_max);

/* Frees pending packets and the bookkeeping. */
void fg_txq_destroy(struct fg_txq *q);

/*
 * Sends header h and its h->len payload bytes: straight into a free TX
 * slot and onto the ring when nothing is pending (returns 1: kick), else
 * a copy goes onto the pending list (returns 0); -VSE_ERR_* on failure.
 */
int fg_txq_queue(struct fg_txq *q, const struct vsock_hdr *h,
    const void *payload);

/* Are pending_max packets or more waiting for the ring? */
static inline bool
fg_txq_congested(const struct fg_txq *q)
{
	return q->npending >= q->pending_max;
}

/* Moves pending packets onto the ring while buffers and descriptors last. */
uint32_t fg_txq_flush(struct fg_txq *q);

/* Takes back the buffers the device has used; returns how many. */
uint32_t fg_txq_reap(struct fg_txq *q);

/* Descriptors a packet with len payload bytes takes in this layout. */
uint32_t fg_txq_nbufs(const struct fg_txq *q, uint32_t len);

#endif

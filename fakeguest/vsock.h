/* vsock.h - the simulated Linux guest vsock stack: three rings, RX refill, TX, events, validation. */
#ifndef FG_VSOCK_H
#define FG_VSOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "blockpool.h"
#include "mem.h"
#include "ring.h"
#include "txq.h"
#include "vsock-proto.h"

struct fg_vsock;

/* Injected time, nanoseconds; the stack never reads a clock. */
#define FG_NS_PER_SEC		UINT64_C(1000000000)
#define FG_TIME_NEVER		UINT64_MAX
/* Linux's VSOCK_DEFAULT_CONNECT_TIMEOUT and VSOCK_CLOSE_TIMEOUT. */
#define FG_CONNECT_TIMEOUT	(2 * FG_NS_PER_SEC)
#define FG_CLOSE_TIMEOUT	(8 * FG_NS_PER_SEC)
/*
 * Payload bytes of one RX buffer as Debian's 6.1.192 posts it
 * (virtio_vsock_rx_fill): the whole buffer, header included, is
 * VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE = SKB_WITH_OVERHEAD(1024 * 4), 4096
 * less the 320-byte skb_shared_info on x86-64, so that an skb fits one
 * page; 3776 less the 44-byte header. Upstream kernels before that
 * change post 4096 payload bytes (VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE here).
 */
#define FG_LINUX_RX_BUF_SIZE	(4096 - 320 - VSOCK_HDR_SIZE)
/* Linux's VSOCK_DEFAULT_BUFFER_SIZE: every socket's initial buf_alloc. */
#define FG_DEFAULT_BUF_ALLOC	(256 * 1024)
/*
 * Most bytes of spare receive packets the stack keeps for reuse, whatever
 * the host sends and whether or not applications read (blockpool.h).
 */
#define FG_RXPOOL_BYTES		(1024 * 1024)

/* The stack wants the device notified about queue q (VSOCK_QUEUE_*). */
typedef void (*fg_vsock_kick_fn)(void *ctx, unsigned q);

/* The driver reads the device's 8-byte config space (guest_cid, LE). */
typedef void (*fg_vsock_config_fn)(void *ctx, uint8_t cfg[8]);

struct fg_vsock_config {
	uint64_t guest_cid;
	/*
	 * Negotiated features: VIRTIO_F_VERSION_1, VIRTIO_RING_F_EVENT_IDX,
	 * VIRTIO_RING_F_INDIRECT_DESC and VIRTIO_VSOCK_F_SEQPACKET.
	 */
	uint64_t features;
	uint32_t qsize[VSOCK_NUM_QUEUES];
	uint32_t rx_buf_size;		/* payload bytes per RX buffer */
	enum fg_tx_layout tx_layout;
	uint32_t tx_frag_size;		/* piece size of FG_TX_FRAGS */
	bool tx_indirect;		/* when negotiated, chains go indirect */
	uint32_t tx_slots;		/* TX packet buffers in guest memory */
	uint32_t tx_pending_max;	/* queued packets before back-pressure */
	unsigned max_socks;		/* socket table size (handles) */
	fg_vsock_kick_fn kick;
	void *kick_ctx;
	/* Re-read on TRANSPORT_RESET; NULL: the CID never changes. */
	fg_vsock_config_fn read_config;
	void *config_ctx;
};

/* Counters the tests assert on; never reset by the stack. */
struct fg_vsock_stats {
	uint64_t tx_pkts[VIRTIO_VSOCK_OP__MAX + 1];	/* by op */
	uint64_t rx_pkts[VIRTIO_VSOCK_OP__MAX + 1];	/* valid, by op */
	uint64_t tx_bytes, rx_bytes;			/* RW payload */
	uint64_t tx_waited;		/* packets copied to wait for a TX slot */
	uint64_t rx_loaned;		/* RW kept in its RX buffer (no copy) */
	uint64_t rx_copied;		/* RW copied out: the loan cap was hit */
	uint64_t rx_overrun;		/* RW beyond our credit, dropped */
	uint64_t rx_invalid_op;		/* op not valid for the state, dropped */
	uint64_t rx_throttled;		/* polls that left RX for later */
	uint64_t rx_refills;		/* RX refill rounds */
	uint64_t violations;		/* device protocol violations */
	uint64_t events;		/* valid events received */
	uint64_t transport_resets;
};

/*
 * Debian 12's guest (6.1.192): CID 3, 128-entry queues, RX buffers of
 * FG_LINUX_RX_BUF_SIZE payload bytes, TX as the skb lays it out (FG_TX_SKB,
 * two entries in an indirect table), EVENT_IDX.
 */
void fg_vsock_config_defaults(struct fg_vsock_config *c);

/*
 * Builds the stack in mem (which must outlive it): the three rings, RX and
 * event buffers, TX buffers. Nothing is posted until fg_vsock_start.
 * Returns 0 or -VSE_ERR_INVAL / -VSE_ERR_NOMEM.
 */
int fg_vsock_new(struct fg_mem *mem, const struct fg_vsock_config *c,
    struct fg_vsock **out);

/* Frees the stack (the guest memory it carved stays with mem). */
void fg_vsock_free(struct fg_vsock *vs);

/* The driver side of queue q, for setting a device up over it (and kicks). */
const struct fg_ring *fg_vsock_ring(const struct fg_vsock *vs, unsigned q);

/* DRIVER_OK: posts every RX and event buffer and kicks both queues. */
void fg_vsock_start(struct fg_vsock *vs);

/*
 * The interrupt handler: retires used TX buffers and sends what was
 * waiting, handles events, receives RX packets (refilling below half, as
 * Linux does), then runs the connect and close timers due at now.
 */
void fg_vsock_poll(struct fg_vsock *vs, uint64_t now);

/* When a timer next needs fg_vsock_poll (FG_TIME_NEVER: none). */
uint64_t fg_vsock_next_deadline(const struct fg_vsock *vs);

/* Our CID changed (re-read from config space after a transport reset). */
void fg_vsock_set_cid(struct fg_vsock *vs, uint64_t cid);

const struct fg_vsock_stats *fg_vsock_stats(const struct fg_vsock *vs);

/* The spare receive packets kept for reuse (bounded: FG_RXPOOL_BYTES). */
const struct blockpool *fg_vsock_rxpool(const struct fg_vsock *vs);

/*
 * The first violation by the device (ours or one fg_ring found while
 * reaping), or NULL. stats.violations counts ours.
 */
const char *fg_vsock_violation(const struct fg_vsock *vs);

/*
 * Sockets the stack holds: open handles, children waiting to be accepted
 * and closed sockets still lingering (what a leak would make grow).
 */
unsigned fg_vsock_socket_count(const struct fg_vsock *vs);

/* Packets waiting for room on the TX ring. */
uint32_t fg_vsock_tx_pending(const struct fg_vsock *vs);

#endif

/* device-int.h - private structures shared by the device's source files. */
#ifndef VSE_DEVICE_INT_H
#define VSE_DEVICE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "blockpool.h"
#include "credit.h"
#include "device.h"
#include "txbuf.h"
#include "virtq.h"

/*
 * Connection states (doc/connection-states.md has the full state x op
 * table). Half-closed states are ESTABLISHED with shutdown flags set:
 * peer_shut (what the guest declared) and local_shut (what we declared).
 */
enum conn_state {
	CONN_GUEST_CONNECTING,	/* guest REQUEST seen, backend connecting */
	CONN_HOST_CONNECTING,	/* our REQUEST out, waiting for RESPONSE */
	CONN_ESTABLISHED,
	CONN_CLOSING,		/* application closed, its last SHUTDOWN out:
				 * awaiting the guest's RST or the timeout */
	CONN_KILLED,		/* RST queued; removed once it is sent */
};

/*
 * Control packets a connection owes the guest. They leave in this order,
 * which is the output priority: RST > RESPONSE > REQUEST > RW > SHUTDOWN >
 * CREDIT_UPDATE > CREDIT_REQUEST. SHUTDOWN follows data so that the guest
 * sees every byte before the end of stream.
 */
#define PEND_RST		(1u << 0)
#define PEND_RESPONSE		(1u << 1)
#define PEND_REQUEST		(1u << 2)
#define PEND_SHUTDOWN		(1u << 3)
#define PEND_CREDIT_UPDATE	(1u << 4)
#define PEND_CREDIT_REQUEST	(1u << 5)

/* Links of one intrusive list a connection can be on. */
struct conn_link {
	struct vsock_conn *prev, *next;
};

/* Timer lists: every timer of a kind has the same duration, so FIFO = sorted. */
enum conn_timer {
	TIMER_NONE = 0,
	TIMER_REQUEST,
	TIMER_CLOSE,
	TIMER__COUNT
};

/*
 * A connection. The device reads it on every packet, so what a packet
 * touches comes first: a control packet reads only the first
 * CONN_HOT_BYTES (the held data pointer, the credit, the type and state
 * bytes, and the txbuf's len and nmsgs, which struct txbuf puts first and
 * this struct at the line's end); an RW goes on into the txbuf. The ports
 * are not there: the table keeps them in its slots (conntab.c). With
 * 10,000 connections none of it is in cache and each line touched is a
 * miss (doc/performance.md, conn10k): a control packet read four lines of
 * it, then two or three; now the one line, or two where malloc's 16-byte
 * alignment splits it. Allocating on a line (aligned_alloc) measured worse
 * in order: glibc's memalign left 384 bytes between connections and the
 * prefetcher lost the stream.
 */
struct vsock_conn {
	/* --- the first CONN_HOT_BYTES: what a control packet reads --- */
	/*
	 * Host data read ahead of the guest's RX buffers, handed out in
	 * fragments: one whole SEQPACKET message (read_message) or a STREAM
	 * batch (read_stream_batch). h2g_flags go on the last fragment
	 * (EOM, EOR; 0 for a stream). NULL when nothing is held; every
	 * packet asks (device_conn_has_rx).
	 */
	uint8_t *h2g_buf;
	struct vsock_credit cr;
	/*
	 * VIRTIO_VSOCK_TYPE_*: a le16 on the wire, but only STREAM (1) and
	 * SEQPACKET (2) make connections (device_new_conn refuses more), and
	 * the byte saved keeps rx_parked in the hot line.
	 */
	uint8_t type;
	uint8_t state;			/* enum conn_state */
	uint8_t pending;		/* PEND_* */
	uint8_t peer_shut;		/* SHUTDOWN flags from the guest */
	uint8_t local_shut;		/* the application's shutdown()s */
	uint8_t want;			/* VSOCK_EV_* last told to the backend */
	bool host_readable;		/* backend may have data or EOF */
	bool host_eof;			/* backend read returned 0 */
	bool credit_requested;		/* our CREDIT_REQUEST is unanswered */
	bool on_rxq;
	bool backend_gone;		/* release() was called (device_want) */
	/*
	 * host_readable, and the device could not take the data when last
	 * told (no RX buffer; a second readable report while it waited):
	 * read interest is dropped until the host side is drained
	 * (device_want reads it with backend_gone).
	 */
	bool rx_parked;
	/* --- data: len and nmsgs end the hot line (device_want) --- */
	struct txbuf tx;
	/* --- the rest: ports, closing, timers, lists, accounting --- */
	uint32_t local_port;		/* host side */
	uint32_t peer_port;		/* guest side */
	uint32_t h2g_len, h2g_off, h2g_flags;
	uint32_t h2g_pkt_left;		/* of the current 64 KiB packet (SEQPACKET) */
	uint8_t timer;			/* enum conn_timer */
	uint8_t shut_owed;		/* flags of the SHUTDOWN owed (PEND_) */
	uint8_t sent_shut;		/* flags of the SHUTDOWNs sent */
	bool host_closing;		/* application closed: EOF ends it all */
	bool host_close_reset;		/* ... leaving our bytes unread: under
					 * Firecracker's rules its EOF is an RST */
	bool close_owed;		/* CLOSING once the owed SHUTDOWN is out */
	bool backend_shut_wr;		/* shutdown(SHUT_WR) was passed on */
	bool credited_unread;		/* guest bytes credited back while a close
					 * waited for guest room: unread by
					 * Linux's rules all the same */
	bool host_initiated;		/* the host asked (events say "from") */
	bool was_established;		/* a closed event is owed at the end */
	vsock_time_t deadline;
	vsock_time_t opened_at;		/* requested: closed events' duration */
	uint64_t g2h_total, h2g_total;	/* payload each way, for closed */
	struct conn_link rxq_link;
	struct conn_link timer_link;
	struct vsock_conn *port_next;	/* hash chain by local port */
	void *backend_data;
	struct vsock_device *dev;
};

/* A cache line: what every packet reads of its connection. */
#define CONN_HOT_BYTES	64


/* An RST owed for a pair no connection exists for (bounded queue). */
struct orphan_rst {
	uint32_t local_port, peer_port;
	uint16_t type;
};

/* Intrusive doubly-linked FIFO of connections. */
struct conn_list {
	struct vsock_conn *head, *tail;
};

/*
 * One slot of the table by (local, peer): the key beside the pointer, so
 * a lookup reads one cache line of slots (four to a line) and no
 * connection but the one it finds. c == NULL: empty.
 */
struct conntab_slot {
	uint32_t local, peer;
	struct vsock_conn *c;
};

struct conntab {
	struct conntab_slot *slot;	/* by (local, peer): linear probing */
	uint32_t nslots;		/* power of two; count <= 3/4 of it */
	uint32_t count;
	struct vsock_conn **port;	/* chains by local port */
	uint32_t nport;			/* power of two */
	uint64_t seed;
};

/*
 * Consecutive RW packets of one STREAM connection popped in one TX run,
 * held (not yet used) until one host write takes them all (device-tx.c,
 * tx_gather_*). Only for a backend with write_gathers.
 */
#define TX_GATHER_IOV	64
#define TX_GATHER_PKTS	64
struct tx_gather {
	struct vsock_conn *c;		/* NULL: nothing held */
	uint32_t len;			/* payload bytes in iov */
	int iovcnt;
	uint16_t nheads;
	uint16_t head[TX_GATHER_PKTS];	/* the held chains, in pop order */
	struct iovec iov[TX_GATHER_IOV];
};

/*
 * RX chains popped ahead of the one being filled, so that one scatter read
 * of the host's STREAM bytes lands straight in several guest buffers
 * (device-rx.c, rx_scatter). Header and payload areas are mapped once when
 * popped; the heads are pushed, each with its own header, right after the
 * chain the read began in.
 */
#define RX_AHEAD_MAX	32	/* chains one read may fill: 64 KiB / 2 KiB */
#define RX_IOV_MAX	64	/* host iovecs of one read */
#define RX_HDR_IOV_MAX	4	/* a header split over more is not worth it */

struct rx_ahead_chain {
	uint16_t head;
	uint8_t nhdr;		/* iovecs of its 44-byte header slot */
	uint8_t npay;		/* its payload iovecs in rx_ahead.iov */
	uint16_t pay;		/* index of the first of them */
	uint32_t room;		/* payload it can take */
	uint32_t len;		/* payload that landed in it */
	struct iovec hdr[RX_HDR_IOV_MAX];
};

struct rx_ahead {
	struct virtq_chain chain;	/* scratch for the chains popped ahead */
	unsigned n;			/* filled, waiting for their headers */
	struct rx_ahead_chain c[RX_AHEAD_MAX];
	struct iovec iov[RX_IOV_MAX];
	/* the first chain and the ones after it, pushed at once */
	struct virtq_done used[RX_AHEAD_MAX + 1];
};

struct vsock_device {
	struct vsock_device_config cfg;
	const struct vsock_backend_ops *be;
	void *be_ctx;
	uint64_t features;		/* acknowledged by the driver */
	bool seqpacket;			/* negotiated */
	/* cfg.profile's rules, copied: read on every packet, one load less */
	struct vsock_profile_rules rules;
	struct virtq vq[VSOCK_NUM_QUEUES];
	struct virtq_chain chain;	/* scratch for one popped chain */
	struct rx_ahead ahead;		/* device-rx.c's scatter read */
	struct conntab tab;
	struct conn_list rxq;		/* connections owing the guest output */
	struct conn_list timers[TIMER__COUNT];
	struct orphan_rst *orphans;
	uint32_t orphan_head, norphans;
	uint32_t next_local_port;
	bool tx_more;			/* TX budget ran out with chains left */
	bool tx_held;			/* the chain just run is in gather */
	struct tx_gather gather;
	bool reset_event_pending;	/* TRANSPORT_RESET not posted yet */
	bool reset_ack_pending;		/* posted, the guest has not taken it */
	uint16_t reset_ack_avail;	/* event buffers left when posted */
	bool in_run;			/* re-entrancy guard for backend calls */
	uint8_t broken_told;		/* queues whose breakage was reported */
	vsock_time_t now;
	vsock_tap_fn tap;
	void *tap_ctx;
	vsock_notify_fn notify;
	void *notify_ctx;
	/* max(buf_alloc, 64 KiB): the most payload one packet can carry */
	uint32_t payload_max;
	uint8_t *tap_copy;		/* a packet's payload for the tap */
	uint8_t *seq_staging;		/* a host SEQPACKET message read whole
					 * (read_message); on first use */
	struct blockpool h2g_pool;	/* spare 64 KiB STREAM batch buffers */
	struct blockpool txbuf_pool;	/* spare buf_alloc-byte txbuf rings */
	struct vsock_device_stats stats;
	vsock_route_fn route;		/* packets for other CIDs; NULL: drop */
	void *route_ctx;
	struct relay_pkt *relay_head, *relay_tail;	/* from siblings */
	size_t relay_bytes;		/* <= VSOCK_RELAY_MAX_BYTES */
};

/* conntab.c */
/*
 * The table's seed when vsock_device_config.hash_seed is 0: fixed and
 * public, so runs are reproducible.
 */
#define VSOCK_DEVICE_PUBLIC_SEED	UINT64_C(0x9e3779b97f4a7c15)

int conntab_init(struct conntab *t, uint64_t seed);
void conntab_free(struct conntab *t);
struct vsock_conn *conntab_find(const struct conntab *t, uint32_t local,
    uint32_t peer);
bool conntab_port_used(const struct conntab *t, uint32_t local);
/* Slots a lookup of (local, peer) reads (tests: the cost is bounded). */
uint32_t conntab_probes(const struct conntab *t, uint32_t local,
    uint32_t peer);
int conntab_insert(struct conntab *t, struct vsock_conn *c);
void conntab_remove(struct conntab *t, struct vsock_conn *c);

/* conn-list.c: link_off is offsetof(struct vsock_conn, <link>) */
void conn_list_append(struct conn_list *l, struct vsock_conn *c,
    size_t link_off);
void conn_list_unlink(struct conn_list *l, struct vsock_conn *c,
    size_t link_off);
#define RXQ_LINK	offsetof(struct vsock_conn, rxq_link)
#define TIMER_LINK	offsetof(struct vsock_conn, timer_link)

/* device.c: shared helpers */
void device_schedule(struct vsock_device *dev, struct vsock_conn *c);
void device_set_timer(struct vsock_device *dev, struct vsock_conn *c,
    enum conn_timer kind);
/*
 * Ends c with an RST; frees c at once (no packet) when it is a host connect
 * whose REQUEST has not gone out yet.
 */
void device_kill(struct vsock_device *dev, struct vsock_conn *c,
    enum vsock_release why);
void device_destroy_conn(struct vsock_device *dev, struct vsock_conn *c);
void device_discard_tx(struct vsock_device *dev, struct vsock_conn *c,
    bool credit_back);
void device_release_backend(struct vsock_device *dev, struct vsock_conn *c,
    enum vsock_release why);
void device_want(struct vsock_device *dev, struct vsock_conn *c);
void device_queue_orphan_rst(struct vsock_device *dev,
    const struct vsock_hdr *h);
struct vsock_conn *device_new_conn(struct vsock_device *dev, uint32_t local,
    uint32_t peer, uint16_t type);
/* h is raw decoded (the caller has it: no second decode per packet). */
void device_tap(struct vsock_device *dev, enum vsock_tap_dir dir,
    bool dropped, const uint8_t raw[VSOCK_HDR_SIZE], const struct vsock_hdr *h,
    const uint8_t *payload, uint32_t payload_len);

/*
 * device-event.c: events for cfg.on_event. Call through DEVICE_EVENT* so a
 * device without a callback pays one branch and builds nothing.
 */
void device_event_emit(struct vsock_device *dev, const struct vsock_conn *c,
    enum vsock_event_kind kind, enum vsock_event_who who,
    enum vsock_event_why why, uint32_t detail);
void device_event_emit_pair(struct vsock_device *dev,
    enum vsock_event_kind kind, enum vsock_event_who who,
    enum vsock_event_why why, uint32_t local, uint32_t peer, uint16_t type);
void device_event_transport_reset(struct vsock_device *dev, uint64_t old_cid);
void device_event_check_queues(struct vsock_device *dev);
enum vsock_event_why device_refusal_why(int err);
#define DEVICE_EVENT(dev, c, kind, who, why, detail) do {		\
	if ((dev)->cfg.on_event != NULL)				\
		device_event_emit((dev), (c), (kind), (who), (why),	\
		    (detail));						\
} while (0)
#define DEVICE_EVENT_PAIR(dev, kind, who, why, local, peer, type) do {	\
	if ((dev)->cfg.on_event != NULL)				\
		device_event_emit_pair((dev), (kind), (who), (why),	\
		    (local), (peer), (type));				\
} while (0)
/* The connection ended with an RST: says who and why (device_kill_for). */
void device_kill_for(struct vsock_device *dev, struct vsock_conn *c,
    enum vsock_release release, enum vsock_event_why why);
/* c is established (state, closed event owed, the event). */
void device_established(struct vsock_device *dev, struct vsock_conn *c);
/* The host side refused a guest connect with -errno err: RST. */
void device_refuse(struct vsock_device *dev, struct vsock_conn *c, int err);

/* device-tx.c: guest -> host */
void device_tx_run(struct vsock_device *dev);
/* Guest bytes consumed (written, or dropped): fwd_cnt, maybe an update. */
void device_delivered(struct vsock_device *dev, struct vsock_conn *c,
    uint32_t n);
/* Writes the RW packets device-tx.c holds for one host write (if any). */
void device_tx_gather_flush(struct vsock_device *dev);
void device_flush_to_host(struct vsock_device *dev, struct vsock_conn *c);

/* device-close.c: how connections end, per profile */
bool device_has_unread(const struct vsock_conn *c);
bool device_host_reads_no_more(const struct vsock_conn *c);
void device_host_event(struct vsock_device *dev, struct vsock_conn *c,
    enum vsock_host_event ev);
void device_host_eof(struct vsock_device *dev, struct vsock_conn *c);
void device_host_error(struct vsock_device *dev, struct vsock_conn *c,
    ssize_t err, bool reading);
void device_guest_shutdown(struct vsock_device *dev, struct vsock_conn *c,
    uint32_t flags);
/* A guest RW for an application that reads no more (it closed / shut RD). */
void device_rw_unread(struct vsock_device *dev, struct vsock_conn *c,
    uint32_t len);
/* A close waits for guest room to send the application's last bytes. */
void device_close_stalled(struct vsock_device *dev, struct vsock_conn *c);
void device_closing_op(struct vsock_device *dev, struct vsock_conn *c,
    const struct vsock_hdr *h);
void device_shut_host_write(struct vsock_device *dev, struct vsock_conn *c);
void device_shutdown_sent(struct vsock_device *dev, struct vsock_conn *c);
void device_check_done(struct vsock_device *dev, struct vsock_conn *c);

/* device-relay.c: sibling VMs */
void device_relay_out(struct vsock_device *dev,
    const uint8_t raw[VSOCK_HDR_SIZE], const struct vsock_hdr *h,
    const uint8_t *payload);
/* Is a relayed packet waiting for an RX buffer? (Every RX run asks.) */
static inline bool
device_relay_pending(const struct vsock_device *dev)
{
	return dev->relay_head != NULL;
}
uint32_t device_relay_fill(struct vsock_device *dev,
    const struct virtq_chain *ch);
void device_relay_flush(struct vsock_device *dev);

/* device-rx.c: host -> guest */
void device_rx_run(struct vsock_device *dev);
/*
 * Spare STREAM batch buffers a device keeps: one per connection streaming
 * at once covers the common case; past it buffers go back to malloc.
 */
#define DEVICE_H2G_SPARE_MAX	4
/*
 * Spare txbuf rings (buf_alloc bytes each) a device keeps: two, and never
 * more than 1 MiB (none when buf_alloc is larger).
 */
#define DEVICE_TXBUF_SPARE_MAX		2
#define DEVICE_TXBUF_SPARE_BYTES	(1024 * 1024)
void device_h2g_release(struct vsock_device *dev, struct vsock_conn *c);
/* Writes header h (payload already in place) and taps it: used length. */
uint32_t device_emit(struct vsock_device *dev, const struct virtq_chain *ch,
    const struct vsock_hdr *h);
bool device_conn_has_rx(const struct vsock_device *dev,
    const struct vsock_conn *c);

/*
 * Bytes c may send the guest now, under the profile's cap rule. Inline:
 * asked on every guest packet and every scheduling decision.
 */
static inline uint32_t
device_peer_credit(const struct vsock_device *dev, const struct vsock_conn *c)
{
	return credit_peer_avail(&c->cr, dev->rules.credit_cap_own_buf ?
	    c->cr.buf_alloc : UINT32_MAX);
}

#endif

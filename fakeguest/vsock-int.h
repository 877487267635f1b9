/* vsock-int.h - private structures of the guest stack, shared by vsock.c, sock.c and sock-proto.c. */
#ifndef FG_VSOCK_INT_H
#define FG_VSOCK_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "faults.h"
#include "inbuf.h"
#include "pkt.h"
#include "sock.h"
#include "txq.h"
#include "vsock.h"

/* One port's fault (faults.h); port 0 with FG_FAULT_NONE: a free slot. */
struct fg_fault_entry {
	uint32_t port;
	enum fg_port_fault fault;
	uint64_t delay_ns;
};

/* Received payload waiting for recv (Linux: an skb on vvs->rx_queue). */
struct fg_rxpkt {
	TAILQ_ENTRY(fg_rxpkt) entry;
	uint32_t len;
	uint32_t off;		/* bytes already read */
	uint32_t flags;		/* VIRTIO_VSOCK_SEQ_* */
	int64_t slot;		/* RX buffer on loan holding data, or -1 */
	const uint8_t *data;	/* the payload: in that buffer, or own */
	uint8_t own[];		/* a copy, when no buffer could be kept */
};
TAILQ_HEAD(fg_rxpkt_list, fg_rxpkt);

/* One socket: af_vsock's vsock_sock and virtio_vsock_sock in one. */
struct fg_sock {
	bool used;
	bool released;		/* the application closed it; lingering */
	bool listed;		/* packets find it by address pair */
	bool done;		/* Linux SOCK_DONE: the peer is finished */
	bool bound;		/* holds local_port against other binds */
	bool held;		/* child whose RESPONSE a delay fault holds
				 * until deadline (faults.c) */
	uint16_t type;
	enum fg_sock_state state;
	int err;
	uint32_t local_port;
	uint64_t peer_cid;
	uint32_t peer_port;
	uint32_t shutdown, peer_shutdown;
	int backlog;
	int parent;		/* listener while in its accept queue, else -1 */
	uint64_t accept_seq;	/* FIFO order in that queue */
	uint32_t accept_queued;	/* listener: children waiting */
	fg_sock_gate_fn gate;	/* listener: may refuse a REQUEST */
	void *gate_ctx;
	uint64_t deadline;	/* connect or close timer, or FG_TIME_NEVER */
	uint32_t buf_alloc, rcvlowat;
	uint32_t rx_bytes, buf_used, msg_count;
	uint32_t fwd_cnt, last_fwd_cnt;
	uint32_t tx_cnt, peer_buf_alloc, peer_fwd_cnt;
	struct fg_rxpkt_list rxq;
};

struct fg_vsock {
	struct fg_mem *mem;
	struct fg_vsock_config cfg;
	uint64_t cid;
	bool seqpacket;		/* VIRTIO_VSOCK_F_SEQPACKET negotiated */
	struct fg_ring ring[VSOCK_NUM_QUEUES];
	struct fg_inbuf rx;
	struct fg_inbuf ev;
	struct fg_txq tx;
	struct blockpool rxpool;	/* spare fg_rxpkts of a full RX buffer */
	int64_t rx_slot;	/* RX buffer being handled, until loaned; -1 */
	/*
	 * One packet header per RX buffer, for the packet that keeps it on
	 * loan (a buffer is on one loan at most): no malloc per packet.
	 */
	uint8_t *rx_loan_pkts;
	struct fg_sock *sock;
	unsigned nsock;
	uint32_t next_port;	/* next ephemeral port to try */
	uint64_t accept_seq;
	struct fg_vsock_stats stats;
	const char *violation;
	uint64_t now;		/* the last fg_vsock_poll's time */
	/*
	 * No used socket's deadline is earlier (fg_sock_arm lowers it, a
	 * timer scan sets it): a poll before it scans no socket.
	 */
	uint64_t timer_min;
	bool rx_paused;		/* fg_fault_pause_rx: post no RX buffers */
	struct fg_fault_entry faults[FG_FAULT_PORTS_MAX];
};

/* vsock.c */
void fg_vsock_violate(struct fg_vsock *vs, const char *why);
void fg_vsock_xmit(struct fg_vsock *vs, const struct vsock_hdr *h,
    const void *payload);
void fg_vsock_reset_no_sock(struct fg_vsock *vs, const struct vsock_hdr *in);

/* sock.c */
struct fg_sock *fg_sock_get(struct fg_vsock *vs, int fd);
int fg_sock_alloc(struct fg_vsock *vs, uint16_t type);
void fg_sock_free(struct fg_vsock *vs, struct fg_sock *s);
struct fg_rxpkt *fg_rxpkt_new(struct fg_vsock *vs, uint32_t len,
    const uint8_t *payload);
void fg_rxpkt_free(struct fg_vsock *vs, struct fg_rxpkt *p);

/* sock-proto.c: packets of one socket, timers, reset. */
struct fg_sock *fg_sock_lookup(struct fg_vsock *vs, const struct vsock_hdr *h);
void fg_sock_recv_pkt(struct fg_vsock *vs, struct fg_sock *s,
    const struct vsock_hdr *h, const uint8_t *payload);
void fg_sock_send_ctl(struct fg_vsock *vs, struct fg_sock *s, uint16_t op,
    uint32_t flags);
void fg_sock_send_rw(struct fg_vsock *vs, struct fg_sock *s,
    const uint8_t *buf, uint32_t len, uint32_t flags);
bool fg_sock_has_data(const struct fg_sock *s);
uint32_t fg_sock_tx_buf_size(const struct fg_sock *s);
uint32_t fg_sock_credit(const struct fg_sock *s);
void fg_sock_do_close(struct fg_vsock *vs, struct fg_sock *s);
void fg_sock_run_timers(struct fg_vsock *vs, uint64_t now);
void fg_sock_arm(struct fg_vsock *vs, struct fg_sock *s, uint64_t deadline);
uint64_t fg_sock_next_deadline(const struct fg_vsock *vs);
void fg_sock_transport_reset(struct fg_vsock *vs);

/* faults.c: the hooks of the faults a test or serve --control injects. */
bool fg_fault_refuses(const struct fg_vsock *vs, uint32_t port);
bool fg_fault_hold(struct fg_vsock *vs, struct fg_sock *child);
void fg_fault_release_held(struct fg_vsock *vs, struct fg_sock *s);

#endif

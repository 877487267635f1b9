/* live-trace-int.h - what the live trace's loader and its comparator share. */
#ifndef VSE_LIVE_TRACE_INT_H
#define VSE_LIVE_TRACE_INT_H

#include "live-trace.h"

/* A pair table: (host port, guest port) -> connection, open addressing. */
#define LIVE_PAIR_SLOTS		(2 * LIVE_MAX_CONNS)

struct live_pairs {
	uint64_t key[LIVE_PAIR_SLOTS];
	uint32_t val[LIVE_PAIR_SLOTS];	/* connection index + 1; 0 empty */
};

/* One frame of the trace. */
struct live_frame {
	uint64_t number, ts_ns;
	struct vsock_hdr hdr;
	uint8_t raw[VSOCK_HDR_SIZE];
	bool guest;			/* fed; else awaited from the program */
	uint32_t conn;
	uint64_t payload;		/* guest: offset in the payload pool */
	uint32_t len;			/* payload bytes recorded */
	uint64_t off_end;		/* host RW: the stream's offset after it */
	uint32_t step;			/* host lifecycle frame: ordinal + 1 */
};

/*
 * The host's lifecycle on a connection as a set of what it has done: a
 * SHUTDOWN adds its flags, an RST is a full shutdown and a reset.
 */
#define LIVE_SHUT_RCV		0x01	/* VIRTIO_VSOCK_SHUTDOWN_RCV */
#define LIVE_SHUT_SEND		0x02	/* VIRTIO_VSOCK_SHUTDOWN_SEND */
#define LIVE_REQUEST		0x04
#define LIVE_RESPONSE		0x08
#define LIVE_RESET		0x10
#define LIVE_ODD_FLAGS		0x20	/* SHUTDOWN flags beyond RCV|SEND */

#define LIVE_CLOSED		(LIVE_SHUT_RCV | LIVE_SHUT_SEND)

/*
 * One step of the trace's host lifecycle: its lifecycle frames with no
 * guest frame and no host byte between them, which a device may send as
 * one packet or several, depending on when it saw the program act (a
 * shutdown(SHUT_WR) and a close() in a row: SHUTDOWN(SEND) then RST, or
 * one SHUTDOWN(RCV|SEND)). An RST after a SHUTDOWN is how a device ends
 * a closed connection, not something the program did: it is allowed,
 * not needed.
 */
struct live_step {
	unsigned need;			/* LIVE_* the program must reach */
	unsigned allow;			/* LIVE_* it may reach */
	uint64_t off;			/* host->guest bytes sent before it */
	uint64_t frame, last_frame;	/* its first and last frame (index) */
};

/* One connection of the trace: what its host sent, what the program did. */
struct live_conn {
	uint64_t host_cid, guest_cid;	/* the trace's */
	uint32_t host_port, guest_port;	/* the trace's */
	uint32_t dev_port;		/* the device's host port */
	bool host_initiated;		/* its first frame is the host's REQUEST */
	bool started;			/* the device's packets on it count */
	uint8_t *h2g;			/* the trace's host->guest stream */
	uint64_t h2g_len, h2g_cap;
	struct live_step *st;
	uint32_t nst;
	uint64_t stcap;
	bool guest_since_step;		/* a guest frame since the last step */
	uint64_t *eom;			/* SEQPACKET: where each message ends */
	uint64_t neom, eomcap;
	uint64_t eom_matched;		/* messages the program ended there */
	uint64_t got;			/* stream bytes the program sent */
	unsigned state;			/* LIVE_* the program reached */
	uint32_t matched;		/* steps the program reached */
	uint64_t last_frame;		/* index of its last frame */
};

struct live_trace {
	struct live_frame *f;
	uint64_t nf, fcap;
	uint8_t *gpay;			/* the guest frames' payloads */
	uint64_t gpay_len, gpay_cap;
	struct live_conn *c;
	uint32_t nc;
	uint64_t ccap;
	struct live_pairs trace_pairs;	/* the trace's ports */
	struct live_pairs dev_pairs;	/* the device's ports, once started */
	uint64_t guest_cid;		/* the trace's; 0 until seen */
	bool seqpacket;
	uint32_t host_buf_alloc;
	uint64_t bytes, bytes_g2h, bytes_h2g;
	uint64_t first_ts;
	uint64_t last_fed;		/* index of the last guest frame fed */
	bool diverged;
	struct replay_divergence div;
};

/* The connection on (host port, guest port) in p, or NULL. */
struct live_conn *live_pairs_find(struct live_trace *lt,
    const struct live_pairs *p, uint32_t host_port, uint32_t guest_port);

/* What a lifecycle packet h does to the host's LIVE_* set. */
unsigned live_bits(const struct vsock_hdr *h);

/* Makes (host port, guest port) lead to connection ci in p. */
void live_pairs_set(struct live_pairs *p, uint32_t host_port,
    uint32_t guest_port, uint32_t ci);

#endif

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
	bool host;			/* the trace's host sent it */
	bool fed;			/* the peer's: fed; else the program's */
	bool msg_part;			/* fed SEQPACKET RW before its EOM: the
					   EOM frame carries the whole message */
	uint32_t conn;
	uint64_t payload;		/* guest: offset in the payload pool */
	uint32_t len;			/* payload bytes recorded */
	uint64_t off_end;		/* program's RW: the stream's offset after it */
	uint32_t step;			/* program's lifecycle frame: ordinal + 1 */
};

/*
 * The program's side's lifecycle on a connection as a set of what it has done: a
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
 * One step of the lifecycle of the trace's program side (its host with
 * --host, its guest with --guest): its lifecycle frames with no fed frame
 * and no byte of its stream between them, which a device may send as
 * one packet or several, depending on when it saw the program act (a
 * shutdown(SHUT_WR) and a close() in a row: SHUTDOWN(SEND) then RST, or
 * one SHUTDOWN(RCV|SEND)). An RST after a SHUTDOWN is how a device ends
 * a closed connection, not something the program did: it is allowed,
 * not needed.
 */
struct live_step {
	unsigned need;			/* LIVE_* the program must reach */
	unsigned allow;			/* LIVE_* it may reach */
	uint64_t off;			/* stream bytes sent before it */
	uint64_t frame, last_frame;	/* its first and last frame (index) */
};

/*
 * One connection of the trace: what its program side sent, what the
 * program did. The device's ports are the trace's but for the one the
 * device or the simulated guest picked: the host's of a host-initiated
 * connection (a device's local port), the guest's of one the guest
 * program made (the guest stack's ephemeral port).
 */
struct live_conn {
	uint64_t host_cid, guest_cid;	/* the trace's */
	uint32_t host_port, guest_port;	/* the trace's */
	uint32_t dev_hport, dev_gport;	/* the device's */
	bool host_initiated;		/* its first frame is the host's REQUEST */
	bool prog_initiated;		/* ... the program's side's REQUEST */
	bool prog_accepted;		/* its side answered the peer's REQUEST */
	bool started;			/* the device's packets on it count */
	uint8_t *stream;		/* the trace's stream of the program's side */
	uint64_t stream_len, stream_cap;
	struct live_step *st;
	uint32_t nst;
	uint64_t stcap;
	bool fed_since_step;		/* a fed frame since the last step */
	uint64_t *eom;			/* SEQPACKET: where each message ends */
	uint64_t neom, eomcap;
	uint64_t eom_matched;		/* messages the program ended there */
	uint64_t got;			/* stream bytes the program sent */
	uint8_t *msg;			/* fed SEQPACKET message being read */
	uint64_t msg_len, msg_cap;	/* (the load's: held until its EOM) */
	unsigned state;			/* LIVE_* the program reached */
	uint32_t matched;		/* steps the program reached */
	uint64_t last_frame;		/* index of its last frame */
};

struct live_trace {
	enum live_side side;		/* whose side the program is */
	const char *who, *peer;		/* "host", "guest", or the reverse */
	const char *dir;		/* its stream: "host->guest" or reverse */
	struct live_frame *f;
	uint64_t nf, fcap;
	uint64_t nprog;			/* frames of the program's side */
	uint8_t *fpay;			/* the fed frames' payloads */
	uint64_t fpay_len, fpay_cap;
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
	uint64_t last_fed;		/* index of the last frame fed */
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

/* Connection c is under way: the device's packets on its ports count. */
void live_conn_start(struct live_trace *lt, struct live_conn *c);

#endif

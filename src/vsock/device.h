/* device.h - the virtio-vsock device model: queues, connections, credit, RST rules. */
#ifndef VSE_DEVICE_H
#define VSE_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "credit-policy.h"
#include "device-event.h"
#include "guestmem.h"
#include "pkt.h"
#include "tap-record.h"
#include "vsock-time.h"

struct vsock_device;
struct vsock_conn;

/*
 * Which implementation the device reproduces; struct vsock_profile_rules
 * spells out what that decides.
 */
enum vsock_profile {
	/*
	 * Firecracker's vsock device (csm/connection.rs, unix/muxer.rs): 64
	 * KiB; update once more than 64 KiB - 4 KiB forwarded unreported.
	 */
	VSOCK_PROFILE_FIRECRACKER = 0,
	/*
	 * Linux 6.1's vhost-vsock host (Debian 6.1.192 source): 256 KiB;
	 * update when free space < 64 KiB or the queue empties.
	 */
	VSOCK_PROFILE_LINUX,
};

/* Whose close and reset rules (src/device-close.c, doc/connection-states.md). */
enum vsock_close_rules {
	VSOCK_CLOSE_FIRECRACKER = 0,	/* csm/connection.rs, unix/muxer.rs */
	VSOCK_CLOSE_LINUX,		/* virtio_transport_common.c, af_vsock.c */
};

/*
 * The rules a profile selects, each taken from the code of the
 * implementation it names (src/device-profile.c cites the function). A new
 * profile, or a kernel version that changed a rule, is one more row there.
 */
struct vsock_profile_rules {
	const char *name;		/* --profile NAME, reports, JSON */
	uint32_t buf_alloc;		/* our receive buffer, by default */
	vsock_time_t close_timeout;	/* our SHUTDOWN(3) left unanswered */
	enum vsock_credit_policy update_policy;	/* unsolicited CREDIT_UPDATE */
	bool credit_request;		/* out of the guest's credit: ask for it */
	bool credit_cap_own_buf;	/* in flight <= min(peer's, our buffer) */
	bool connecting_reply_resets;	/* our REQUEST answered wrongly: RST */
	bool peer_close_timer;		/* guest closed, host not reading: RST
					 * after close_timeout */
	uint32_t tx_chain_max;		/* longest TX chain taken; 0: any */
	enum vsock_close_rules close_rules;	/* how connections end */
	bool host_backlog_waits;	/* a guest connect finding the host
					 * listener's accept queue full waits
					 * (else RST at once); the muxer's */
};

#define VSOCK_DEFAULT_MAX_CONNS		1023	/* Firecracker's */
#define VSOCK_DEFAULT_REQUEST_TIMEOUT	(2 * VSOCK_NS_PER_SEC)
/* First local port of host-initiated connections (Firecracker: 1 << 30). */
#define VSOCK_LOCAL_PORT_FIRST		(UINT32_C(1) << 30)
#define VSOCK_LOCAL_PORT_END		(UINT32_C(1) << 31)

struct vsock_device_config {
	uint64_t guest_cid;
	uint32_t max_conns;		/* beyond it a guest REQUEST gets RST */
	enum vsock_profile profile;
	bool seqpacket;			/* offer VIRTIO_VSOCK_F_SEQPACKET */
	uint32_t buf_alloc;		/* 0: the profile's */
	vsock_time_t request_timeout;	/* host-initiated REQUEST unanswered */
	vsock_time_t close_timeout;	/* 0: the profile's (2 s / 8 s) */
	uint32_t tx_budget;		/* TX packets per run before yielding */
	uint32_t orphan_max;		/* queued RSTs for unknown pairs */
	/*
	 * Mixed into the connection table's hash. 0: a fixed, public seed,
	 * so tests, replay and the fuzzer place connections the same way
	 * every run. A device that serves a guest it does not trust should
	 * pass a random one (serve and vhost-user do): a guest that knows the
	 * seed can choose ports whose pairs share one slot (conntab.c).
	 */
	uint64_t hash_seed;
	/*
	 * Told of every connection change and device event
	 * (device-event.h, doc/events.md); NULL: nothing is built.
	 */
	vsock_event_fn on_event;
	void *event_ctx;
};

/* The device wants the guest interrupted for queue q. */
typedef void (*vsock_notify_fn)(void *ctx, unsigned q);

/* Counters; every drop the spec allows is counted, never silent. */
struct vsock_device_stats {
	/*
	 * By direction, not by queue name: g2h came in on the TX queue,
	 * h2g went out on the RX queue (the credit code's tx_cnt counts the
	 * h2g bytes too, under Linux's name).
	 */
	uint64_t g2h_packets, h2g_packets;
	uint64_t g2h_bytes, h2g_bytes;		/* payload */
	uint64_t tx_dropped_writable;		/* TX chain with writable part */
	uint64_t tx_dropped_short;		/* < 44 bytes */
	uint64_t tx_dropped_len;		/* len > 64 KiB or > chain */
	uint64_t tx_dropped_cid;		/* wrong src or dst CID */
	uint64_t tx_invalid_op;			/* op invalid for the state */
	uint64_t rst_sent, rst_unknown_type, rst_unknown_conn;
	uint64_t rst_wrong_type;		/* type not the connection's */
	uint64_t rst_credit_overrun, rst_conn_limit;
	uint64_t rx_bad_buffers;		/* RX chain unusable */
	uint64_t orphan_dropped;		/* orphan RST queue full */
	uint64_t timeouts_request, timeouts_close;
	uint64_t credit_updates_sent, credit_requests_sent;
	uint64_t seqpacket_oversize;
	uint64_t seqpacket_held_max;		/* too many guest messages held */
	uint64_t seqpacket_g2h_oversize;	/* host socket refused a message */
	uint64_t data_discarded;		/* bytes dropped on reset */
	uint64_t conns_opened, conns_closed;
	uint64_t relay_out;			/* guest packets to a sibling */
	uint64_t relay_in;			/* sibling packets queued */
	uint64_t relay_refused;			/* no sibling: RST */
	uint64_t relay_dropped;			/* relay queue full */
};

/* Fills c with the defaults (CID 3, 1023 connections, firecracker, 2 s). */
void vsock_device_config_defaults(struct vsock_device_config *c);

/* The rules of profile p, or NULL for a profile that does not exist. */
const struct vsock_profile_rules *vsock_profile_rules(enum vsock_profile p);

/* The profile's name ("linux"), or NULL for one that does not exist. */
const char *vsock_profile_name(enum vsock_profile p);

/* The profile called name (exactly): 0, or -VSE_ERR_INVAL for none. */
int vsock_profile_parse(const char *name, enum vsock_profile *out);

/* The rules dev follows: its profile's row (device-profile.c). */
const struct vsock_profile_rules *vsock_device_rules(
    const struct vsock_device *dev);

/* The buf_alloc and close timeout a profile implies. */
uint32_t vsock_profile_buf_alloc(enum vsock_profile p);
vsock_time_t vsock_profile_close_timeout(enum vsock_profile p);

/* Is cid usable as a guest CID? (3 to 2^32-2: Linux's vhost_vsock_set_cid().) */
bool vsock_cid_valid(uint64_t cid);

/*
 * Creates a device. Fails with -VSE_ERR_INVAL (and *why set to a sentence)
 * on a reserved guest CID or a nonsensical configuration. The backend ops
 * and ctx must outlive the device.
 */
int vsock_device_new(const struct vsock_device_config *cfg,
    const struct vsock_backend_ops *be, void *be_ctx,
    struct vsock_device **out, const char **why);

/* Releases every connection (backend release DEVICE_RESET) and frees. */
void vsock_device_free(struct vsock_device *dev);

void vsock_device_set_tap(struct vsock_device *dev, vsock_tap_fn fn,
    void *ctx);
void vsock_device_set_notify(struct vsock_device *dev, vsock_notify_fn fn,
    void *ctx);

/* --- virtio transport side --- */

/* Feature bits the device offers (virtio 1.2 5.10.3). */
uint64_t vsock_device_features(const struct vsock_device *dev);

/* The driver's acknowledged features; refuses bits that were not offered. */
int vsock_device_set_features(struct vsock_device *dev, uint64_t acked);

/* The 8-byte config space: guest_cid, little-endian (5.10.4). */
void vsock_device_get_config(const struct vsock_device *dev, uint8_t cfg[8]);

/* Sets queue q (VSOCK_QUEUE_*) up over guest memory (must outlive it). */
int vsock_device_set_queue(struct vsock_device *dev, unsigned q,
    const struct guestmem *mem, uint32_t num, uint64_t desc_gpa,
    uint64_t avail_gpa, uint64_t used_gpa);

/*
 * vhost-user's ring lifecycle: start queue q at avail index base
 * (SET_VRING_BASE), or stop it and report where the next pop would have
 * started (GET_VRING_BASE). A stopped queue is not processed.
 */
int vsock_device_queue_base(struct vsock_device *dev, unsigned q,
    uint16_t base);
int vsock_device_queue_stop(struct vsock_device *dev, unsigned q,
    uint16_t *last_avail);

/* The device side of virtq q, for inspection (stats, broken state). */
const struct virtq *vsock_device_queue(const struct vsock_device *dev,
    unsigned q);

/*
 * The guest notified queue q. Processes what is available and everything it
 * unblocks, within the per-run budget. Time only moves forward.
 */
void vsock_device_kick(struct vsock_device *dev, unsigned q, vsock_time_t now);

/*
 * Runs timers due at `now` and any work left by a budget; call whenever
 * vsock_device_next_deadline() has passed.
 */
void vsock_device_run(struct vsock_device *dev, vsock_time_t now);

/* When the device next needs vsock_device_run (VSOCK_TIME_NEVER: never). */
vsock_time_t vsock_device_next_deadline(const struct vsock_device *dev);

/*
 * Device reset/restore: posts VIRTIO_VSOCK_EVENT_TRANSPORT_RESET on the
 * event queue (as soon as the guest has an event buffer) and drops every
 * connection without sending a packet (5.10.6.6). Nothing goes to the
 * guest until it has taken the event (it gives the event buffer back),
 * as Firecracker holds RX: a host connect cannot overtake the reset. No
 * hold when the event queue is not set up.
 */
void vsock_device_transport_reset(struct vsock_device *dev, vsock_time_t now);

/*
 * The same, and the guest's CID becomes guest_cid (a snapshot restored
 * into another VM): config space says it from now on, and guest packets
 * with the old CID are dropped. -VSE_ERR_BAD_CID (nothing done) for a
 * reserved CID.
 */
int vsock_device_transport_reset_cid(struct vsock_device *dev,
    uint64_t guest_cid, vsock_time_t now);

/* --- host side: what the backend reports --- */

/*
 * The host connects to guest port `port`: the device allocates a local port
 * (round-robin in [2^30, 2^31), skipping ports in use) and sends REQUEST.
 * Returns 0 and the connection, or -VSE_ERR_* (limit reached, no port, bad
 * type). The outcome arrives through established() or release().
 */
int vsock_device_host_connect(struct vsock_device *dev, uint32_t port,
    uint16_t type, void *backend_data, vsock_time_t now,
    struct vsock_conn **out);

/* An -EINPROGRESS connect finished: err 0 connected, else -errno. */
void vsock_device_host_connected(struct vsock_device *dev,
    struct vsock_conn *c, int err, vsock_time_t now);

/* The host side of c may be read (data or EOF) / written again. */
void vsock_device_host_readable(struct vsock_device *dev,
    struct vsock_conn *c, vsock_time_t now);
void vsock_device_host_writable(struct vsock_device *dev,
    struct vsock_conn *c, vsock_time_t now);

/*
 * The host application did `ev` to its end of c (enum vsock_host_event,
 * backend.h). What the guest sees follows the profile's close rules:
 * Linux answers a close with SHUTDOWN(RCV|SEND) after the application's
 * last data (RST when the guest had shut down both ways), Firecracker
 * resets on SHUT_RD and on CLOSE_UNREAD. A host half-close is not an
 * event: it is the read() that returns 0, after the data.
 */
void vsock_device_host_event(struct vsock_device *dev, struct vsock_conn *c,
    enum vsock_host_event ev, vsock_time_t now);

/*
 * Linux's VSOCK_DEFAULT_BUFFER_MIN_SIZE (af_vsock.c): the smallest buffer
 * an application's SO_VM_SOCKETS_BUFFER_SIZE gets.
 */
#define VSOCK_BUF_ALLOC_MIN	128

/*
 * The host application resized its receive buffer on c (Linux:
 * setsockopt(SO_VM_SOCKETS_BUFFER_SIZE)): buf_alloc, clamped to
 * [VSOCK_BUF_ALLOC_MIN, the device's buf_alloc], is what c advertises from
 * now on; when it changed, an established connection announces it with a
 * CREDIT_UPDATE, as Linux does (virtio_transport_notify_buffer_size()).
 * Less than the bytes held is allowed: the guest has no credit until the
 * application reads. Returns the buf_alloc now advertised.
 */
uint32_t vsock_device_host_set_buf_alloc(struct vsock_device *dev,
    struct vsock_conn *c, uint32_t buf_alloc, vsock_time_t now);

/* --- sibling VMs (device-relay.c) --- */

/* Most bytes of sibling packets one device holds for its guest. */
#define VSOCK_RELAY_MAX_BYTES	(4u << 20)

/*
 * A valid guest packet addressed to a CID other than the host's, whole:
 * the router hands it to the sibling VM with that CID
 * (vsock_device_relay_in) and returns 0, or returns nonzero when there is
 * none it may reach (no such CID, no shared group, its queue full): the
 * guest then gets an RST from that CID. Called from inside the device's
 * entry points; it may call into other devices, not into this one.
 */
typedef int (*vsock_route_fn)(void *ctx, const uint8_t raw[VSOCK_HDR_SIZE],
    const uint8_t *payload, uint32_t len, vsock_time_t now);

/*
 * Routes guest packets for other CIDs through fn (vhost-device-vsock's
 * sibling forwarding). Without a router they are dropped and counted
 * (tx_dropped_cid), as Linux's vhost_vsock_handle_tx_kick() does.
 */
void vsock_device_set_router(struct vsock_device *dev, vsock_route_fn fn,
    void *ctx);

/*
 * A sibling's packet for this device's guest: header raw as the sibling's
 * guest wrote it (dst_cid must be ours), len payload bytes. Copied into
 * a queue bounded by VSOCK_RELAY_MAX_BYTES and sent to the guest as RX
 * buffers allow (split to fit them). -VSE_ERR_RELAY_FULL when full,
 * -VSE_ERR_INVAL for a packet not for us.
 */
int vsock_device_relay_in(struct vsock_device *dev,
    const uint8_t raw[VSOCK_HDR_SIZE], const uint8_t *payload, uint32_t len,
    vsock_time_t now);

/* --- connections --- */

void vsock_conn_set_backend_data(struct vsock_conn *c, void *data);
void *vsock_conn_backend_data(const struct vsock_conn *c);
uint32_t vsock_conn_local_port(const struct vsock_conn *c);	/* host side */
uint32_t vsock_conn_peer_port(const struct vsock_conn *c);	/* guest side */
uint16_t vsock_conn_type(const struct vsock_conn *c);
/*
 * The largest buffer we advertised on c: no guest message on it is
 * longer (the application may have shrunk it since).
 */
uint32_t vsock_conn_buf_alloc(const struct vsock_conn *c);

/* Finds the connection (host port, guest port), or NULL. */
struct vsock_conn *vsock_device_find(const struct vsock_device *dev,
    uint32_t local_port, uint32_t peer_port);

unsigned vsock_device_nconns(const struct vsock_device *dev);
const struct vsock_device_stats *vsock_device_stats(
    const struct vsock_device *dev);

#endif

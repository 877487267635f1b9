/* device-event.h - what the device reports as connections change: kinds, who, why, one callback. */
#ifndef VSE_DEVICE_EVENT_H
#define VSE_DEVICE_EVENT_H

#include <stdint.h>

#include "vsock-time.h"

/* What happened (doc/events.md has one section per kind). */
enum vsock_event_kind {
	VSOCK_EVENT_REQUESTED = 0,	/* a REQUEST: who asked, ports, type */
	VSOCK_EVENT_ESTABLISHED,	/* both ends connected */
	VSOCK_EVENT_REFUSED,		/* the connect failed: why */
	VSOCK_EVENT_SHUTDOWN,		/* who shut down, flags (RCV|SEND) */
	VSOCK_EVENT_RESET,		/* an RST ended it: who, why */
	VSOCK_EVENT_CLOSED,		/* gone: bytes each way, duration */
	VSOCK_EVENT_TRANSPORT_RESET,	/* device event: old and new CID */
	VSOCK_EVENT_QUEUE_BROKEN,	/* device event: queue, -VSE_ERR_* */
	VSOCK_EVENT__COUNT
};

/* Which side did it. */
enum vsock_event_who {
	VSOCK_WHO_GUEST = 0,
	VSOCK_WHO_HOST,
	VSOCK_WHO_DEVICE,		/* the device's own rule or timer */
	VSOCK_WHO__COUNT
};

/* Why a connect was refused or a connection reset. */
enum vsock_event_why {
	VSOCK_WHY_NONE = 0,
	VSOCK_WHY_NO_LISTENER,		/* nobody listens on that port */
	VSOCK_WHY_LIMIT,		/* connection limit reached */
	VSOCK_WHY_TIMEOUT,		/* REQUEST or close unanswered */
	VSOCK_WHY_WRONG_TYPE,		/* SEQPACKET not negotiated / type */
	VSOCK_WHY_PATH_TOO_LONG,	/* host socket path over sun_path */
	VSOCK_WHY_HOST_ERROR,		/* the host side failed: err has errno */
	VSOCK_WHY_PROTOCOL,		/* a reply the state does not allow */
	VSOCK_WHY_CREDIT_OVERRUN,	/* the guest sent beyond our buffer */
	VSOCK_WHY_MESSAGE_TOO_LONG,	/* the host socket refused a message */
	VSOCK_WHY_PEER,			/* the other side sent RST */
	VSOCK_WHY_CLOSED,		/* orderly end by the close rules */
	VSOCK_WHY_ABORTED,		/* the host application failed or
					 * closed with data unread */
	VSOCK_WHY_TRANSPORT_RESET,	/* dropped by a transport reset */
	VSOCK_WHY_NO_MEMORY,
	VSOCK_WHY__COUNT
};

/*
 * One event. Fields that do not apply to the kind are 0. Ports are as the
 * device names them: local_port is the host side, peer_port the guest's.
 */
struct vsock_event {
	enum vsock_event_kind kind;
	enum vsock_event_who who;	/* requested: the initiator */
	enum vsock_event_who from;	/* the connection's initiator */
	enum vsock_event_why why;
	int err;			/* errno behind VSOCK_WHY_HOST_ERROR */
	uint64_t guest_cid;
	uint32_t local_port, peer_port;
	uint16_t type;			/* VIRTIO_VSOCK_TYPE_* */
	uint32_t flags;			/* shutdown: VIRTIO_VSOCK_SHUTDOWN_* */
	uint64_t g2h_bytes, h2g_bytes;	/* closed: payload each way */
	vsock_time_t duration;		/* closed: since requested, ns */
	uint64_t old_cid, new_cid;	/* transport reset */
	unsigned queue;			/* queue broken: VSOCK_QUEUE_* */
	int error;			/* queue broken: the -VSE_ERR_* code */
	vsock_time_t now;		/* the device's clock */
};

/*
 * Called as it happens, from inside the device's entry points: it must not
 * call back into the device. The event is valid only during the call.
 */
typedef void (*vsock_event_fn)(void *ctx, const struct vsock_event *ev);

/* Stable names for logs: "refused", "guest", "no-listener"; "?" if unknown. */
const char *vsock_event_kind_name(enum vsock_event_kind k);
const char *vsock_event_who_name(enum vsock_event_who w);
const char *vsock_event_why_name(enum vsock_event_why w);

#endif

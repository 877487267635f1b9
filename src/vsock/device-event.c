/* device-event.c - the device's connection and device events: names, and building each event once. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "device-int.h"

static const char *const kind_names[VSOCK_EVENT__COUNT] = {
	[VSOCK_EVENT_REQUESTED] = "requested",
	[VSOCK_EVENT_ESTABLISHED] = "established",
	[VSOCK_EVENT_REFUSED] = "refused",
	[VSOCK_EVENT_SHUTDOWN] = "shutdown",
	[VSOCK_EVENT_RESET] = "reset",
	[VSOCK_EVENT_CLOSED] = "closed",
	[VSOCK_EVENT_TRANSPORT_RESET] = "transport-reset",
	[VSOCK_EVENT_QUEUE_BROKEN] = "queue-broken",
};

static const char *const who_names[VSOCK_WHO__COUNT] = {
	[VSOCK_WHO_GUEST] = "guest",
	[VSOCK_WHO_HOST] = "host",
	[VSOCK_WHO_DEVICE] = "device",
};

static const char *const why_names[VSOCK_WHY__COUNT] = {
	[VSOCK_WHY_NONE] = "",
	[VSOCK_WHY_NO_LISTENER] = "no-listener",
	[VSOCK_WHY_LIMIT] = "limit",
	[VSOCK_WHY_TIMEOUT] = "timeout",
	[VSOCK_WHY_WRONG_TYPE] = "wrong-type",
	[VSOCK_WHY_PATH_TOO_LONG] = "path-too-long",
	[VSOCK_WHY_HOST_ERROR] = "host-error",
	[VSOCK_WHY_PROTOCOL] = "protocol",
	[VSOCK_WHY_CREDIT_OVERRUN] = "credit-overrun",
	[VSOCK_WHY_MESSAGE_TOO_LONG] = "message-too-long",
	[VSOCK_WHY_PEER] = "peer-reset",
	[VSOCK_WHY_CLOSED] = "closed",
	[VSOCK_WHY_ABORTED] = "aborted",
	[VSOCK_WHY_TRANSPORT_RESET] = "transport-reset",
	[VSOCK_WHY_NO_MEMORY] = "no-memory",
};

const char *
vsock_event_kind_name(enum vsock_event_kind k)
{
	return (unsigned)k < VSOCK_EVENT__COUNT ? kind_names[k] : "?";
}

const char *
vsock_event_who_name(enum vsock_event_who w)
{
	return (unsigned)w < VSOCK_WHO__COUNT ? who_names[w] : "?";
}

const char *
vsock_event_why_name(enum vsock_event_why w)
{
	return (unsigned)w < VSOCK_WHY__COUNT ? why_names[w] : "?";
}

/* An event with the device's fields filled in; the rest 0. */
static void
event_init(const struct vsock_device *dev, struct vsock_event *ev,
    enum vsock_event_kind kind)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->guest_cid = dev->cfg.guest_cid;
	ev->now = dev->now;
}

void
device_event_emit_pair(struct vsock_device *dev, enum vsock_event_kind kind,
    enum vsock_event_who who, enum vsock_event_why why, uint32_t local,
    uint32_t peer, uint16_t type)
{
	struct vsock_event ev;

	event_init(dev, &ev, kind);
	ev.who = who;
	ev.from = who;
	ev.why = why;
	ev.local_port = local;
	ev.peer_port = peer;
	ev.type = type;
	dev->cfg.on_event(dev->cfg.event_ctx, &ev);
}

void
device_event_emit(struct vsock_device *dev, const struct vsock_conn *c,
    enum vsock_event_kind kind, enum vsock_event_who who,
    enum vsock_event_why why, uint32_t detail)
{
	struct vsock_event ev;

	event_init(dev, &ev, kind);
	ev.who = who;
	ev.from = c->host_initiated ? VSOCK_WHO_HOST : VSOCK_WHO_GUEST;
	ev.why = why;
	ev.local_port = c->local_port;
	ev.peer_port = c->peer_port;
	ev.type = c->type;
	if (why == VSOCK_WHY_HOST_ERROR)
		ev.err = (int)detail;
	if (kind == VSOCK_EVENT_SHUTDOWN)
		ev.flags = detail;
	if (kind == VSOCK_EVENT_CLOSED) {
		ev.g2h_bytes = c->g2h_total;
		ev.h2g_bytes = c->h2g_total;
		ev.duration = dev->now - c->opened_at;
	}
	dev->cfg.on_event(dev->cfg.event_ctx, &ev);
}

/*
 * Why the host side refused a guest connect, from the -errno its connect
 * returned: nothing at the path (ENOENT) or nothing accepting there
 * (ECONNREFUSED) is Linux's ECONNRESET for a port with no listener.
 */
enum vsock_event_why
device_refusal_why(int err)
{
	switch (err) {
	case -ENOENT:
	case -ECONNREFUSED:
		return VSOCK_WHY_NO_LISTENER;
	case -ENAMETOOLONG:
		return VSOCK_WHY_PATH_TOO_LONG;
	case -EMFILE:
	case -ENFILE:
	case -EAGAIN:
		return VSOCK_WHY_LIMIT;
	default:
		return VSOCK_WHY_HOST_ERROR;
	}
}

void
device_event_transport_reset(struct vsock_device *dev, uint64_t old_cid)
{
	struct vsock_event ev;

	event_init(dev, &ev, VSOCK_EVENT_TRANSPORT_RESET);
	ev.who = VSOCK_WHO_DEVICE;
	ev.from = VSOCK_WHO_DEVICE;
	ev.old_cid = old_cid;
	ev.new_cid = dev->cfg.guest_cid;
	dev->cfg.on_event(dev->cfg.event_ctx, &ev);
}

void
device_event_check_queues(struct vsock_device *dev)
{
	struct vsock_event ev;
	unsigned q;

	for (q = 0; q < VSOCK_NUM_QUEUES; q++) {
		if (!virtq_is_broken(&dev->vq[q]) ||
		    (dev->broken_told & (1u << q)))
			continue;
		/* Once per breakage: a queue set up again may break again. */
		dev->broken_told |= (uint8_t)(1u << q);
		event_init(dev, &ev, VSOCK_EVENT_QUEUE_BROKEN);
		ev.who = VSOCK_WHO_GUEST;
		ev.from = VSOCK_WHO_GUEST;
		ev.queue = q;
		ev.error = dev->vq[q].broken;
		dev->cfg.on_event(dev->cfg.event_ctx, &ev);
	}
}

/* event-log.c - connection and device events as JSON Lines (--log) and human one-liners (-v); schema in doc/events.md. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "event-log.h"
#include "json-escape.h"
#include "vsock-proto.h"

/* Room kept at the end of a line for ',"truncated":true}' and '\n'. */
#define LINE_TAIL	32

struct event_log {
	struct event_log_config cfg;
	FILE *f;			/* NULL: no --log, or it failed */
	bool own_f;			/* ours to close (not stderr) */
	uint64_t t0;			/* the clock at open: "t" counts from it */
};

int
event_log_open(const struct event_log_config *c, struct event_log **out,
    char *err, size_t errlen)
{
	struct event_log *l = calloc(1, sizeof(*l));

	*out = NULL;
	if (l == NULL) {
		snprintf(err, errlen, "cannot allocate the event log");
		return -1;
	}
	l->cfg = *c;
	l->t0 = c->clock();
	if (c->path != NULL && strcmp(c->path, "-") == 0) {
		l->f = stderr;
	} else if (c->path != NULL) {
		/* Close-on-exec: the log is not a child's business. */
		int fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0644);

		if (fd < 0 || (l->f = fdopen(fd, "w")) == NULL) {
			snprintf(err, errlen, "--log %s: %s", c->path,
			    strerror(errno));
			if (fd >= 0)
				close(fd);
			free(l);
			return -1;
		}
		l->own_f = true;
	}
	*out = l;
	return 0;
}

void
event_log_close(struct event_log *l)
{
	if (l == NULL)
		return;
	if (l->own_f)
		fclose(l->f);
	else if (l->f != NULL)
		fflush(l->f);
	free(l);
}

bool
event_log_active(const struct event_log *l)
{
	return l != NULL && (l->f != NULL || l->cfg.human);
}

/* Appends fmt to e if it fits before the tail's room, else marks it cut. */
static void
line_add(struct event_line *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
line_add(struct event_line *e, const char *fmt, ...)
{
	char piece[EVENT_STR_MAX + 64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(piece, sizeof(piece), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(piece) ||
	    e->len + (size_t)n > sizeof(e->buf) - LINE_TAIL) {
		e->cut = true;
		return;
	}
	memcpy(e->buf + e->len, piece, (size_t)n);
	e->len += (size_t)n;
}

/* Seconds with microseconds, from ns. */
static void
secs(char *out, size_t cap, uint64_t ns)
{
	snprintf(out, cap, "%llu.%06llu",
	    (unsigned long long)(ns / VSOCK_NS_PER_SEC),
	    (unsigned long long)(ns % VSOCK_NS_PER_SEC / 1000));
}

void
event_line_begin(const struct event_log *l, struct event_line *e,
    const char *ev, uint64_t now)
{
	char t[32];

	e->len = 0;
	e->cut = false;
	secs(t, sizeof(t), now > l->t0 ? now - l->t0 : 0);
	line_add(e, "{\"v\":%d,\"t\":%s,\"ev\":\"%s\"", EVENT_LOG_VERSION, t,
	    ev);
}

void
event_line_str(struct event_line *e, const char *key, const char *val,
    size_t len)
{
	char esc[EVENT_STR_MAX];

	json_escape(esc, sizeof(esc), val, len, NULL);
	line_add(e, ",\"%s\":\"%s\"", key, esc);
}

void
event_line_u64(struct event_line *e, const char *key, uint64_t v)
{
	line_add(e, ",\"%s\":%llu", key, (unsigned long long)v);
}

void
event_line_secs(struct event_line *e, const char *key, uint64_t ns)
{
	char t[32];

	secs(t, sizeof(t), ns);
	line_add(e, ",\"%s\":%s", key, t);
}

/* A constant name as a string field. */
static void
line_name(struct event_line *e, const char *key, const char *name)
{
	event_line_str(e, key, name, strlen(name));
}

void
event_log_emit(struct event_log *l, struct event_line *e, const char *human)
{
	if (e->cut) {
		memcpy(e->buf + e->len, ",\"truncated\":true", 17);
		e->len += 17;
	}
	e->buf[e->len++] = '}';
	e->buf[e->len++] = '\n';
	if (l->f != NULL) {
		/* A line at a time, so a reader (tail -f, a test) sees it whole. */
		if (fwrite(e->buf, 1, e->len, l->f) != e->len ||
		    fflush(l->f) != 0) {
			fprintf(stderr, "vsockemu %s: event log: %s; no more "
			    "events written\n", l->cfg.cmd, strerror(errno));
			if (l->own_f)
				fclose(l->f);
			l->f = NULL;
			l->own_f = false;
		}
	}
	if (l->cfg.human && human != NULL)
		fprintf(stderr, "vsockemu %s: %s\n", l->cfg.cmd, human);
}

/* --- the device's events --- */

static const char *
type_name(uint16_t type)
{
	return type == VIRTIO_VSOCK_TYPE_SEQPACKET ? "seqpacket" : "stream";
}

static const char *
queue_name(unsigned q)
{
	static const char *const names[] = { "rx", "tx", "event" };

	return q < 3 ? names[q] : "?";
}

/* SHUTDOWN flags by name: "RCV", "SEND", "RCV|SEND". */
static const char *
flags_name(uint32_t flags)
{
	switch (flags & VIRTIO_VSOCK_SHUTDOWN_MASK) {
	case VIRTIO_VSOCK_SHUTDOWN_RCV:
		return "RCV";
	case VIRTIO_VSOCK_SHUTDOWN_SEND:
		return "SEND";
	case VIRTIO_VSOCK_SHUTDOWN_MASK:
		return "RCV|SEND";
	default:
		return "";
	}
}

/* A reason as words for a one-liner: "no-listener" -> "no listener". */
static void
why_words(char *out, size_t cap, enum vsock_event_why why)
{
	char *p;

	snprintf(out, cap, "%s", vsock_event_why_name(why));
	for (p = out; *p != '\0'; p++)
		if (*p == '-')
			*p = ' ';
}

/* "host 1073741824 -> guest 52" / "guest 1024 -> host 1234". */
static void
pair_words(char *out, size_t cap, const struct vsock_event *ev)
{
	if (ev->from == VSOCK_WHO_HOST && ev->local_port == 0)
		snprintf(out, cap, "host -> guest %u", ev->peer_port);
	else if (ev->from == VSOCK_WHO_HOST)
		snprintf(out, cap, "host %u -> guest %u", ev->local_port,
		    ev->peer_port);
	else
		snprintf(out, cap, "guest %u -> host %u", ev->peer_port,
		    ev->local_port);
}

/* A guest connect's host socket path, UDS_PORT, when the reason is about it. */
static bool
refused_path(const struct event_log *l, const struct vsock_event *ev,
    char *out, size_t cap)
{
	if (l->cfg.uds == NULL || ev->from != VSOCK_WHO_GUEST ||
	    (ev->why != VSOCK_WHY_NO_LISTENER &&
	    ev->why != VSOCK_WHY_PATH_TOO_LONG &&
	    ev->why != VSOCK_WHY_HOST_ERROR))
		return false;
	snprintf(out, cap, "%s_%u", l->cfg.uds, ev->local_port);
	return true;
}

/* Fields and one-liner of refused. */
static void
add_refused(const struct event_log *l, struct event_line *e,
    const struct vsock_event *ev, char *what, size_t cap)
{
	char words[48], path[EVENT_STR_MAX], shown[EVENT_STR_MAX];
	bool has_path = refused_path(l, ev, path, sizeof(path));

	line_name(e, "why", vsock_event_why_name(ev->why));
	why_words(words, sizeof(words), ev->why);
	if (ev->why == VSOCK_WHY_HOST_ERROR) {
		event_line_u64(e, "errno", (uint64_t)ev->err);
		line_name(e, "error", strerror(ev->err));
		snprintf(words, sizeof(words), "%s", strerror(ev->err));
	}
	if (!has_path) {
		snprintf(what, cap, "refused (%s)", words);
		return;
	}
	event_line_str(e, "path", path, strlen(path));
	json_escape(shown, sizeof(shown), path, strlen(path), NULL);
	snprintf(what, cap, "refused (%s%s\"%s\")", words,
	    ev->why == VSOCK_WHY_NO_LISTENER ? " at " : ": ", shown);
}

/* The fields of ev's kind, and what the one-liner says after the pair. */
static void
add_kind(const struct event_log *l, struct event_line *e,
    const struct vsock_event *ev, char *what, size_t cap)
{
	char words[48], t[32];

	switch (ev->kind) {
	case VSOCK_EVENT_REQUESTED:
		snprintf(what, cap, "requested (%s)", type_name(ev->type));
		break;
	case VSOCK_EVENT_ESTABLISHED:
		snprintf(what, cap, "established");
		break;
	case VSOCK_EVENT_REFUSED:
		add_refused(l, e, ev, what, cap);
		break;
	case VSOCK_EVENT_SHUTDOWN:
		line_name(e, "flags", flags_name(ev->flags));
		snprintf(what, cap, "shutdown by %s (%s)",
		    vsock_event_who_name(ev->who), flags_name(ev->flags));
		break;
	case VSOCK_EVENT_RESET:
		line_name(e, "why", vsock_event_why_name(ev->why));
		why_words(words, sizeof(words), ev->why);
		snprintf(what, cap, "reset by %s (%s)",
		    vsock_event_who_name(ev->who), words);
		break;
	case VSOCK_EVENT_CLOSED:
		event_line_u64(e, "bytes_to_host", ev->g2h_bytes);
		event_line_u64(e, "bytes_to_guest", ev->h2g_bytes);
		event_line_secs(e, "duration", ev->duration);
		secs(t, sizeof(t), ev->duration);
		snprintf(what, cap, "closed (%llu bytes to host, %llu to "
		    "guest, %s s)", (unsigned long long)ev->g2h_bytes,
		    (unsigned long long)ev->h2g_bytes, t);
		break;
	default:
		snprintf(what, cap, "?");
		break;
	}
}

/* transport-reset and queue-broken: the device's own events. */
static void
device_only(struct event_log *l, struct event_line *e,
    const struct vsock_event *ev)
{
	char human[160];

	if (ev->kind == VSOCK_EVENT_TRANSPORT_RESET) {
		event_line_u64(e, "old_cid", ev->old_cid);
		event_line_u64(e, "new_cid", ev->new_cid);
		snprintf(human, sizeof(human), "transport reset (guest CID "
		    "%llu -> %llu): every connection dropped",
		    (unsigned long long)ev->old_cid,
		    (unsigned long long)ev->new_cid);
	} else {
		line_name(e, "queue", queue_name(ev->queue));
		line_name(e, "why", vse_errname(ev->error));
		snprintf(human, sizeof(human), "%s queue broken (%s): %s",
		    queue_name(ev->queue), vse_errname(ev->error),
		    vse_strerror(ev->error));
	}
	event_log_emit(l, e, human);
}

void
event_log_device(void *ctx, const struct vsock_event *ev)
{
	struct event_log *l = ctx;
	struct event_line e;
	char pair[64], what[EVENT_STR_MAX + 64], human[EVENT_STR_MAX + 160];

	event_line_begin(l, &e, vsock_event_kind_name(ev->kind), ev->now);
	if (ev->kind == VSOCK_EVENT_TRANSPORT_RESET ||
	    ev->kind == VSOCK_EVENT_QUEUE_BROKEN) {
		device_only(l, &e, ev);
		return;
	}
	line_name(&e, "from", vsock_event_who_name(ev->from));
	line_name(&e, "who", vsock_event_who_name(ev->who));
	event_line_u64(&e, "cid", ev->guest_cid);
	event_line_u64(&e, "host_port", ev->local_port);
	event_line_u64(&e, "guest_port", ev->peer_port);
	line_name(&e, "type", type_name(ev->type));
	add_kind(l, &e, ev, what, sizeof(what));
	pair_words(pair, sizeof(pair), ev);
	snprintf(human, sizeof(human), "%s: %s", pair, what);
	event_log_emit(l, &e, human);
}

/* --- the muxer's --- */

void
event_log_hook_muxer(struct event_log *l, struct muxer_config *mc)
{
	if (!event_log_active(l))
		return;
	mc->refused = event_log_muxer_refused;
	mc->refused_ctx = l;
}

void
event_log_muxer_refused(void *ctx, enum muxer_refusal why, const char *line,
    size_t len, vsock_time_t now)
{
	static const char *const names[] = {
		[MUXER_BAD_LINE] = "bad-line",
		[MUXER_LINE_TIMEOUT] = "line-timeout",
		[MUXER_NO_DEVICE] = "no-device",
	};
	struct event_log *l = ctx;
	struct event_line e;
	char shown[EVENT_STR_MAX], human[EVENT_STR_MAX + 96];
	const char *name = (unsigned)why < 3 ? names[why] : "?";

	event_line_begin(l, &e, "refused", now);
	line_name(&e, "from", "host");
	line_name(&e, "who", "device");
	line_name(&e, "why", name);
	event_line_str(&e, "line", line, len);
	json_escape(shown, sizeof(shown), line, len, NULL);
	snprintf(human, sizeof(human), "host client: refused (%s\"%s\")",
	    why == MUXER_BAD_LINE ? "bad CONNECT line " :
	    why == MUXER_LINE_TIMEOUT ? "no complete CONNECT line in time, "
	    "got " : "no guest now, line ", shown);
	event_log_emit(l, &e, human);
}

/* event-log.h - the event log: connection and device events as JSON Lines (--log) and one-liners (-v). */
#ifndef VSOCKEMU_EVENT_LOG_H
#define VSOCKEMU_EVENT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend-muxer.h"
#include "device.h"

/* The longest line written, newline included (doc/events.md). */
#define EVENT_LINE_MAX		1024
/* The most a string field takes, escaped; longer ones are cut. */
#define EVENT_STR_MAX		256
/* The schema version, "v" on every line. */
#define EVENT_LOG_VERSION	1

struct event_log;

struct event_log_config {
	const char *cmd;		/* "serve": one-liners say "vsockemu serve: " */
	const char *path;		/* --log FILE; "-" is stderr; NULL: none */
	bool human;			/* -v: one-liners on stderr */
	const char *uds;		/* main socket: guest connects go to UDS_P */
	uint64_t (*clock)(void);	/* the loop's clock (loop_now) */
};

/*
 * Opens the log (creates or truncates path). Returns 0, or -1 with one
 * line in err. A log with neither a path nor human is valid and says
 * nothing.
 */
int event_log_open(const struct event_log_config *c, struct event_log **out,
    char *err, size_t errlen);

/* Flushes and closes (not stderr); NULL is fine. */
void event_log_close(struct event_log *l);

/* Does the log write anything (so the device need not build events)? */
bool event_log_active(const struct event_log *l);

/* The device's callback (vsock_event_fn); ctx is the event_log. */
void event_log_device(void *ctx, const struct vsock_event *ev);

/* The muxer's refused hook (muxer_refused_fn); ctx is the event_log. */
void event_log_muxer_refused(void *ctx, enum muxer_refusal why,
    const char *line, size_t len, vsock_time_t now);

/* Points mc's refused hook at l when l writes anything. */
void event_log_hook_muxer(struct event_log *l, struct muxer_config *mc);

/*
 * One event built field by field, for program code (vhost-user's
 * front-ends, a control socket): begin, add fields, emit. Fields that do
 * not fit the line are left out and the line says "truncated": true.
 */
struct event_line {
	char buf[EVENT_LINE_MAX];
	size_t len;
	bool cut;
};

void event_line_begin(const struct event_log *l, struct event_line *e,
    const char *ev, uint64_t now);
/* A string field from untrusted bytes (escaped, at most EVENT_STR_MAX). */
void event_line_str(struct event_line *e, const char *key, const char *val,
    size_t len);
void event_line_u64(struct event_line *e, const char *key, uint64_t v);
/* A duration in ns as seconds with microseconds ("1.500000"). */
void event_line_secs(struct event_line *e, const char *key, uint64_t ns);

/* Ends e and writes it; human (may be NULL) is the -v one-liner. */
void event_log_emit(struct event_log *l, struct event_line *e,
    const char *human);

#endif

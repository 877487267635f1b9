/* backend-muxer.h - the Firecracker / Cloud Hypervisor compatible AF_UNIX host side. */
#ifndef VSE_BACKEND_MUXER_H
#define VSE_BACKEND_MUXER_H

#include <stdbool.h>
#include <stddef.h>

#include "backend.h"
#include "device.h"

struct muxer;

/* The muxer's one-line reports (the library never prints); msg ends there. */
typedef void (*muxer_log_fn)(void *ctx, const char *msg);

/* Why a host client was closed before it reached the device. */
enum muxer_refusal {
	MUXER_BAD_LINE = 0,		/* not "CONNECT <port>\n" (or EOF first) */
	MUXER_LINE_TIMEOUT,		/* the line did not finish in time */
	MUXER_NO_DEVICE,		/* no guest now (vhost-user between
					 * front-ends) */
};

/*
 * A host client turned away at now: why, and the bytes it sent of its
 * line (the client's, untrusted: any bytes, not terminated), len at most
 * CONNECT_LINE_MAX.
 */
typedef void (*muxer_refused_fn)(void *ctx, enum muxer_refusal why,
    const char *line, size_t len, vsock_time_t now);

struct muxer_config {
	const char *uds_path;		/* main host socket, e.g. "./v.sock" */
	vsock_time_t line_timeout;	/* CONNECT line must finish (5 s) */
	unsigned max_pending;		/* unfinished CONNECT lines held (64);
					 * more wait in the listen backlog */
	bool seqpacket;			/* also listen on UDS_PATH.seqpacket
					 * for SOCK_SEQPACKET host clients */
	muxer_log_fn log;		/* NULL: say nothing */
	void *log_ctx;
	muxer_refused_fn refused;	/* NULL: not told */
	void *refused_ctx;
};

struct muxer_stats {
	uint64_t accepted;		/* host sockets on the main socket */
	uint64_t bad_lines;		/* closed: malformed CONNECT line */
	uint64_t line_timeouts;		/* closed: line not finished in time */
	uint64_t pending_deferred;	/* times the cap left clients queued */
	uint64_t host_connects;		/* valid CONNECT lines */
	uint64_t no_device;		/* closed: CONNECT with no device */
	uint64_t guest_connects;	/* guest connections to PATH_PORT */
	uint64_t guest_refused;
	uint64_t guest_backlog_waits;	/* guest connects that found PATH_port's
					 * queue full and waited (firecracker
					 * profile) */
	uint64_t accept_backoffs;	/* accept failed (EMFILE...): paused */
};

/*
 * The loop must watch fd for events (VSOCK_EV_READ / _WRITE), or stop
 * watching it (events 0; the muxer calls this before closing an fd).
 */
typedef void (*muxer_watch_fn)(void *ctx, int fd, unsigned events);

void muxer_config_defaults(struct muxer_config *c);

/*
 * Binds and listens on cfg->uds_path (SOCK_STREAM, Firecracker's protocol)
 * and, with cfg->seqpacket, on UDS_PATH.seqpacket (SOCK_SEQPACKET: the
 * CONNECT line and the OK line are one message each, then every message
 * is one guest SEQPACKET message). A live socket there (something accepts
 * connections) is an error; a stale one is replaced; any other file is
 * left alone and is an error. On failure err gets one line and the
 * code says whose fault: -VSE_ERR_INVAL (path too long), _PATH_TAKEN,
 * _NOMEM, or _SYSTEM with errno as the failed system call left it.
 */
int muxer_new(const struct muxer_config *cfg, muxer_watch_fn watch,
    void *watch_ctx, struct muxer **out, char *err, size_t errlen);

/*
 * The device the muxer reports host events to (set before any event).
 * NULL detaches it (free the device first: that releases its connections);
 * CONNECT lines are then closed without a reply, as for a refused port.
 */
void muxer_attach(struct muxer *m, struct vsock_device *dev);

extern const struct vsock_backend_ops muxer_backend_ops;

/* An event on one of the fds the muxer asked to be watched. */
void muxer_handle(struct muxer *m, int fd, unsigned events, vsock_time_t now);

/* When muxer_run must next be called (VSOCK_TIME_NEVER: never). */
vsock_time_t muxer_next_deadline(const struct muxer *m);

/*
 * Closes host sockets whose CONNECT line timed out by now, accepts again
 * once a pause for lack of fds is over, and retries guest connects that
 * wait for room in their listener's accept queue.
 */
void muxer_run(struct muxer *m, vsock_time_t now);

const struct muxer_stats *muxer_stats(const struct muxer *m);
int muxer_listen_fd(const struct muxer *m);

/* UDS_PATH.seqpacket, or NULL without cfg->seqpacket. */
const char *muxer_seqpacket_path(const struct muxer *m);

/*
 * Closes the listening sockets and every unfinished host socket and
 * removes the socket files. Free the device first: it releases the
 * connections.
 */
void muxer_free(struct muxer *m);

#endif

/* guest-apps.h - the programs that run inside the simulated guest of `serve`. */
#ifndef VSOCKEMU_GUEST_APPS_H
#define VSOCKEMU_GUEST_APPS_H

#include <stdbool.h>
#include <stdint.h>

#include "loop.h"
#include "vsock.h"

/* What listens inside the guest on a port (--guest PORT=SERVICE). */
enum gapp_service {
	GAPP_ECHO,		/* sends back what it receives */
	GAPP_DISCARD,		/* reads and drops */
	GAPP_SOURCE,		/* sends `bytes` of a fixed pattern, closes */
	GAPP_UNIX,		/* bridges to a local AF_UNIX server */
};

struct gapp_listen_spec {
	uint32_t port;
	uint16_t type;		/* VIRTIO_VSOCK_TYPE_*; 0: gapps_new's */
	enum gapp_service service;
	uint64_t bytes;		/* GAPP_SOURCE */
	const char *path;	/* GAPP_UNIX */
};

/* --guest-connect LOCALPATH=PORT: local clients become guest clients. */
struct gapp_connect_spec {
	const char *path;
	uint32_t port;
	uint16_t type;		/* VIRTIO_VSOCK_TYPE_*; 0: gapps_new's */
};

struct gapps;

/*
 * Starts the guest side: a listening guest socket per spec, and a local
 * AF_UNIX listener per connect spec (registered with the loop), each of
 * its spec's type (type where a spec names none); a SEQPACKET service's
 * unix: bridge and local sockets are SOCK_SEQPACKET. err gets one line on
 * failure.
 */
int gapps_new(struct fg_vsock *vs, struct loop *loop,
    const struct gapp_listen_spec *ls, unsigned nls,
    const struct gapp_connect_spec *cs, unsigned ncs, uint16_t type,
    struct gapps **out, char *err, size_t errlen);

/*
 * Lets every guest application make progress (accept, read, write, close)
 * at now. Returns true when anything moved.
 */
bool gapps_run(struct gapps *g, uint64_t now);

/* Applications running (one per guest connection a service holds). */
unsigned gapps_count(const struct gapps *g);

/*
 * Where the services say what the operator should know (a unix: service
 * that takes no connections, once per service and reason); NULL: nowhere.
 */
void gapps_set_log(struct gapps *g, void (*log)(void *ctx, const char *msg),
    void *ctx);

/* Closes every socket and removes the local listener files. */
void gapps_free(struct gapps *g, uint64_t now);

/* How a run --guest program's socket is set up (NULL: all defaults). */
struct gapp_sock_opts {
	bool framed;		/* SEQPACKET: seq-frame.h's EOR byte locally */
	uint32_t buf_alloc;	/* SO_VM_SOCKETS_BUFFER_SIZE; 0: default */
	bool tell_peer;		/* listener: "PEER <cid> <port>\n" first */
};

/*
 * run --guest: the guest listens on port (of type) and bridges each
 * connection it accepts to the AF_UNIX listener path, as unix:PATH does;
 * o's buffer size is the listener's (its connections inherit it, as
 * Linux's children do), o->framed puts the EOR byte on each message.
 * Returns a handle for gapps_unlisten, or -errno (-EADDRINUSE...).
 */
int gapps_listen_unix(struct gapps *g, uint32_t port, uint16_t type,
    const char *path, const struct gapp_sock_opts *o);

/*
 * run --guest's bind: 0 if a guest socket could bind port now, else
 * -errno (-EADDRINUSE: Linux's __vsock_bind_connectible() finds it taken
 * by a listener or a connection of either type). Nothing is held.
 */
int gapps_port_check(struct gapps *g, uint32_t port, uint64_t now);

/* Stops a gapps_listen_unix listener (Linux: close of a listening socket). */
void gapps_unlisten(struct gapps *g, int handle, uint64_t now);

/*
 * run --guest: a guest connection to cid:port bridged to the local socket
 * hfd (taken over), which first gets "OK <guest local port>\n" once the
 * connection is established or "ERR <errno>\n" when it fails; the guest
 * socket advertises o's buffer size, o->framed puts the EOR byte on each
 * later message.
 */
int gapps_connect_fd(struct gapps *g, int hfd, uint64_t cid, uint32_t port,
    uint16_t type, const struct gapp_sock_opts *o, uint64_t now);

/*
 * run --guest: SO_VM_SOCKETS_BUFFER_SIZE set on a connected socket. The
 * guest connection from local port to cid:port (a bridged connect or an
 * accepted one) advertises size from now on, announced at once when it
 * changed (Linux: virtio_transport_notify_buffer_size()). 0, or
 * -ENOTCONN when no bridged connection has those addresses.
 */
int gapps_set_buf_alloc(struct gapps *g, uint32_t local_port, uint64_t cid,
    uint32_t port, uint32_t size, uint64_t now);

/*
 * run --guest: SO_VM_SOCKETS_BUFFER_SIZE set on a gapps_listen_unix
 * listener: connections it accepts from now on advertise size. 0, or
 * -EBADF when handle is no live listener.
 */
int gapps_listen_set_buf_alloc(struct gapps *g, int handle, uint32_t size);

/* Parses "echo", "discard", "source:BYTES", "unix:PATH". */
int gapp_parse_service(const char *s, struct gapp_listen_spec *spec);

#endif

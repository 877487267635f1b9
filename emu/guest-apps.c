/* guest-apps.c - echo, discard, source and AF_UNIX bridges inside the simulated guest. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend-script.h"
#include "bridge-gate.h"
#include "seq-frame.h"
#include "uds-path.h"
#include "guest-apps.h"
#include "sock.h"

/* Listen backlog of guest services (Linux's somaxconn default). */
#define GAPP_BACKLOG	4096

/* Bytes one direction of an application holds in flight. */
#define GAPP_BUF	(64 * 1024)

/* One direction of data: filled by one side, drained by the other. */
struct gbuf {
	uint8_t data[GAPP_BUF];
	size_t off, len;
	bool eof;		/* the source side ended */
	bool shut;		/* the end was passed on */
	bool dead;		/* the sink refused (EPIPE): data dropped */
	bool eor;		/* SEQPACKET: the message held ends a record */
};

/* One guest connection and what it does. */
struct gapp {
	int gfd;			/* guest socket */
	enum gapp_service service;
	uint64_t left;			/* GAPP_SOURCE: bytes still to send */
	uint64_t sent;
	bool send_failed;		/* GAPP_SOURCE: the peer reads no more */
	int hfd;			/* GAPP_UNIX / connect: local socket */
	unsigned watching;		/* VSOCK_EV_* asked for hfd */
	struct gbuf g2h;		/* guest -> local (or echo back) */
	struct gbuf h2g;		/* local -> guest */
	bool closed;
	bool announce;			/* run --guest connect: OK/ERR line owed */
	bool local_shut_rd;		/* the peer's SHUTDOWN(RCV) passed on */
	bool framed;			/* hfd's messages carry seq-frame.h's byte */
	struct gapp *next;
};

struct glisten {
	int gfd;			/* -1: a free slot (run --guest listener gone) */
	struct gapp_listen_spec spec;
	char *owned_path;		/* run --guest: spec.path, ours to free */
	struct bridge_gate *gate;	/* unix: connects before accepting */
	bool framed;			/* run --guest: bridges opted in to EOR */
	bool tell_peer;			/* run --guest: a PEER line first */
};

struct gconnect {
	int lfd;			/* local AF_UNIX listener */
	struct gapp_connect_spec spec;
	char path[108];
};

struct gapps {
	struct fg_vsock *vs;
	struct loop *loop;
	struct glisten *ls;
	unsigned nls, cap_ls;
	struct gconnect *cs;
	unsigned ncs;
	struct gapp *apps;
	bool local_events;		/* a local fd became ready */
	struct bridge_log log;		/* the gates say refusals here */
};

int
gapp_parse_service(const char *s, struct gapp_listen_spec *spec)
{
	char *end;

	if (strcmp(s, "echo") == 0) {
		spec->service = GAPP_ECHO;
	} else if (strcmp(s, "discard") == 0) {
		spec->service = GAPP_DISCARD;
	} else if (strncmp(s, "source:", 7) == 0) {
		spec->service = GAPP_SOURCE;
		errno = 0;
		spec->bytes = strtoull(s + 7, &end, 10);
		if (s[7] == '\0' || *end != '\0' || errno != 0 || s[7] == '-')
			return -1;
	} else if (strncmp(s, "unix:", 5) == 0 && s[5] != '\0') {
		spec->service = GAPP_UNIX;
		spec->path = s + 5;
	} else {
		return -1;
	}
	return 0;
}

/* A local fd is ready: note it; gapps_run does the work. */
static void
on_local(void *ctx, int fd, unsigned events, uint64_t now)
{
	struct gapps *g = ctx;

	(void)fd;
	(void)events;
	(void)now;
	g->local_events = true;
}

/* The AF_UNIX socket type that carries a vsock type's bytes or messages. */
static int
unix_type(uint16_t type)
{
	return type == VIRTIO_VSOCK_TYPE_SEQPACKET ? SOCK_SEQPACKET :
	    SOCK_STREAM;
}

/* Adds an application for guest socket gfd. */
static struct gapp *
add_app(struct gapps *g, int gfd, enum gapp_service service, int hfd)
{
	struct gapp *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->gfd = gfd;
	a->service = service;
	a->hfd = hfd;
	a->next = g->apps;
	g->apps = a;
	if (hfd >= 0)
		loop_watch(g->loop, hfd, VSOCK_EV_READ | VSOCK_EV_WRITE, on_local, g);
	a->watching = VSOCK_EV_READ | VSOCK_EV_WRITE;
	return a;
}

/*
 * Watches the local fd only for what can make progress: READ while there
 * is room for its data, WRITE while data waits for it. Level-triggered
 * epoll would otherwise report a writable socket forever.
 */
static void
update_watch(struct gapps *g, struct gapp *a)
{
	unsigned ev = 0;

	if (a->hfd < 0)
		return;
	if (a->h2g.len == 0 && !a->h2g.eof && !a->h2g.dead)
		ev |= VSOCK_EV_READ;
	if (a->g2h.len > 0)
		ev |= VSOCK_EV_WRITE;
	if (ev != a->watching) {
		loop_watch(g->loop, a->hfd, ev, on_local, g);
		a->watching = ev;
	}
}

/*
 * A unix: listener connects to its service when a REQUEST comes and
 * accepts only if that worked: a missing or busy service makes the guest
 * refuse, as a guest whose application does not listen (issue 18).
 */
static int
gate_listener(struct gapps *g, struct glisten *l)
{
	if (l->spec.service != GAPP_UNIX)
		return 0;
	l->gate = bridge_gate_new(l->spec.path, unix_type(l->spec.type),
	    l->spec.port, &g->log);
	if (l->gate == NULL)
		return -ENOMEM;
	return fg_sock_set_gate(g->vs, l->gfd, bridge_gate_ask, l->gate);
}

int
gapps_new(struct fg_vsock *vs, struct loop *loop,
    const struct gapp_listen_spec *ls, unsigned nls,
    const struct gapp_connect_spec *cs, unsigned ncs, uint16_t type,
    struct gapps **out, char *err, size_t errlen)
{
	struct gapps *g = calloc(1, sizeof(*g));
	unsigned i;
	int fd;

	*out = NULL;
	if (g == NULL)
		return -ENOMEM;
	g->vs = vs;
	g->loop = loop;
	g->cap_ls = nls ? nls : 1;
	g->ls = calloc(g->cap_ls, sizeof(*g->ls));
	g->cs = calloc(ncs ? ncs : 1, sizeof(*g->cs));
	if (g->ls == NULL || g->cs == NULL)
		goto fail;
	for (i = 0; i < nls; i++) {
		g->ls[g->nls].spec = ls[i];
		if (ls[i].type == 0)
			g->ls[g->nls].spec.type = type;
		fd = fg_sock_open(vs, g->ls[g->nls].spec.type);
		/*
		 * Linux's default somaxconn: one interrupt can deliver
		 * hundreds of REQUESTs before the application accepts.
		 */
		if (fd < 0 || fg_sock_bind(vs, fd, ls[i].port) < 0 ||
		    fg_sock_listen(vs, fd, GAPP_BACKLOG) < 0) {
			snprintf(err, errlen, "guest port %u: cannot listen "
			    "(used twice?)", ls[i].port);
			goto fail;
		}
		g->ls[g->nls].gfd = fd;
		if (gate_listener(g, &g->ls[g->nls++]) < 0) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	for (i = 0; i < ncs; i++) {
		struct gconnect *gc = &g->cs[g->ncs];
		char why[320];

		gc->spec = cs[i];
		if (cs[i].type == 0)
			gc->spec.type = type;
		if ((fd = uds_listen(cs[i].path, unix_type(gc->spec.type), 128,
		    why, sizeof(why))) < 0) {
			snprintf(err, errlen, "--guest-connect: %s", why);
			goto fail;
		}
		gc->lfd = fd;
		strcpy(gc->path, cs[i].path);
		g->ncs++;
		loop_watch(loop, fd, VSOCK_EV_READ, on_local, g);
	}
	*out = g;
	return 0;
fail:
	gapps_free(g, 0);
	return -EINVAL;
}

/* b got n bytes from a read (n <= 0: end or error, both the end). */
static bool
gbuf_took(struct gbuf *b, ssize_t n)
{
	if (n <= 0) {
		b->eof = true;
	} else {
		b->off = 0;
		b->len = (size_t)n;
	}
	return true;
}

/* Fills b from the guest socket; true if anything happened. */
static bool
fill_from_guest(struct gapps *g, struct gapp *a, struct gbuf *b)
{
	int flags = 0;
	ssize_t n;

	if (b->eof || b->dead || b->len > 0)
		return false;
	n = fg_sock_recv(g->vs, a->gfd, b->data, sizeof(b->data), &flags);
	if (n == -EAGAIN)
		return false;
	b->eor = (flags & MSG_EOR) != 0;
	return gbuf_took(b, n);
}

/* Has everything in b gone where it was going (or been dropped)? */
static bool
gbuf_done(const struct gbuf *b)
{
	return (b->eof && b->len == 0) || b->dead;
}

/*
 * Drains b into the guest socket; true if anything happened. Any error but
 * -EAGAIN means nothing will ever be taken (Linux send(2): EPIPE once the
 * peer shut down receiving or reset, ENOTCONN after a transport reset), so
 * the data is dropped and the direction marked dead, as a program whose
 * write failed gives up on it.
 */
static bool
drain_to_guest(struct gapps *g, struct gapp *a, struct gbuf *b)
{
	bool moved = false;
	ssize_t n;

	while (b->len > 0) {
		n = fg_sock_send(g->vs, a->gfd, b->data + b->off, b->len,
		    b->eor ? MSG_EOR : 0);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			b->len = 0;
			b->dead = true;
			return true;
		}
		b->off += (size_t)n;
		b->len -= (size_t)n;
		moved = true;
	}
	return moved;
}

/* The service closes its guest socket (Linux close(2): virtio_transport_close). */
static bool
close_guest(struct gapps *g, struct gapp *a, uint64_t now)
{
	if (a->closed)
		return false;
	fg_sock_close(g->vs, a->gfd, now);
	a->closed = true;
	return true;
}

/* One message of a framed local socket, its EOR into b (seq-frame.h). */
static ssize_t
recv_framed(struct gapp *a, struct gbuf *b)
{
	struct iovec iov = { b->data, sizeof(b->data) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	return seq_frame_recvmsg(a->hfd, &m, MSG_DONTWAIT, &b->eor, recvmsg);
}

/* Sends b's message to a framed local socket, with its EOR. */
static ssize_t
send_framed(struct gapp *a, struct gbuf *b)
{
	struct iovec iov = { b->data + b->off, b->len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	return seq_frame_sendmsg(a->hfd, &m, MSG_DONTWAIT | MSG_NOSIGNAL,
	    b->eor, sendmsg);
}

/* Fills b from the local socket. */
static bool
fill_from_local(struct gapp *a, struct gbuf *b)
{
	ssize_t n;

	if (b->eof || b->dead || b->len > 0)
		return false;
	n = a->framed ? recv_framed(a, b) :
	    recv(a->hfd, b->data, sizeof(b->data), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == ENOTCONN))
		return false;
	return gbuf_took(b, n);
}

/* Drains b into the local socket. */
static bool
drain_to_local(struct gapp *a, struct gbuf *b)
{
	bool moved = false;
	ssize_t n;

	while (b->len > 0) {
		n = a->framed ? send_framed(a, b) : send(a->hfd,
		    b->data + b->off, b->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != ENOTCONN) {
				b->len = 0;	/* reader gone: drop */
				b->dead = true;
			}
			break;
		}
		b->off += (size_t)n;
		b->len -= (size_t)n;
		moved = true;
	}
	if (b->len == 0 && b->eof && !b->shut) {
		shutdown(a->hfd, SHUT_WR);
		b->shut = true;
		moved = true;
	}
	return moved;
}

/*
 * Echo as the classic loop `while ((n = read()) > 0) write(n); close()`:
 * it closes once the peer's data ended and all of it went back, or at once
 * when the peer stopped reading (the write failed). close() itself tells
 * the peer (SHUTDOWN, or RST if the peer is gone), so no shutdown() first:
 * that would put a SHUTDOWN after the RST of a reset connection.
 */
static bool
step_echo(struct gapps *g, struct gapp *a, uint64_t now)
{
	bool moved = fill_from_guest(g, a, &a->g2h);

	moved |= drain_to_guest(g, a, &a->g2h);
	if (gbuf_done(&a->g2h))
		moved |= close_guest(g, a, now);
	return moved;
}

/* Discard reads until end of stream or an error, then closes. */
static bool
step_discard(struct gapps *g, struct gapp *a, uint64_t now)
{
	uint8_t chunk[GAPP_BUF];
	bool moved = false;
	ssize_t n;

	while ((n = fg_sock_recv(g->vs, a->gfd, chunk, sizeof(chunk),
	    NULL)) > 0)
		moved = true;
	if (n != -EAGAIN)
		moved |= close_guest(g, a, now);
	return moved;
}

/* Source sends its bytes, then closes; a failed send ends it early. */
static bool
step_source(struct gapps *g, struct gapp *a, uint64_t now)
{
	uint8_t chunk[GAPP_BUF];
	bool moved = false;
	ssize_t n;

	while (a->left > 0 && !a->send_failed) {
		size_t k = a->left < sizeof(chunk) ? (size_t)a->left :
		    sizeof(chunk);

		script_pattern_fill(a->sent, chunk, k);
		n = fg_sock_send(g->vs, a->gfd, chunk, k, 0);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			a->send_failed = true;	/* EPIPE: nobody reads */
			break;
		}
		a->sent += (uint64_t)n;
		a->left -= (uint64_t)n;
		moved = true;
	}
	if (a->left == 0 || a->send_failed)
		moved |= close_guest(g, a, now);
	return moved;
}

/*
 * Did the local program close (or shut down both ways), not just SHUT_WR?
 * AF_UNIX reports POLLHUP only then. Its close is passed on as Linux's
 * close() of a vsock socket: the guest socket is closed, which sends
 * SHUTDOWN with RCV and SEND and lingers (vsock_close() ->
 * virtio_transport_close()), so the peer's writes fail with EPIPE as they
 * would, and the peer's RST then ends the socket without a reply.
 */
static bool
local_closed(const struct gapp *a)
{
	struct pollfd p = { .fd = a->hfd, .events = 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
}

/*
 * Ends the bridge as socat would: a failed write either way (EPIPE: that
 * side reads no more) closes both sockets; once both directions are over
 * it closes, which tells the guest's peer; a local EOF while the guest
 * side still runs goes on as a half-close, shutdown(SHUT_WR), unless the
 * peer reads no more (a write would fail with EPIPE: it shut down
 * receiving, or reset): there is nobody to tell, and a SHUTDOWN after the
 * connection's RST would be noise.
 */
static bool
bridge_pass_ends(struct gapps *g, struct gapp *a, uint64_t now)
{
	if (a->g2h.dead || a->h2g.dead ||
	    (gbuf_done(&a->g2h) && gbuf_done(&a->h2g)))
		return close_guest(g, a, now);
	if (a->h2g.eof && a->h2g.len == 0 && !a->h2g.shut) {
		a->h2g.shut = true;
		/*
		 * A close, not a shutdown(SHUT_RDWR) and a close later: that
		 * would answer the peer's RST with one (virtio_transport_close()
		 * on a socket whose peer already shut down both ways).
		 */
		if (local_closed(a))
			return close_guest(g, a, now);
		/* A zero-length send checks, as Linux's sendmsg does. */
		if (fg_sock_send(g->vs, a->gfd, NULL, 0, 0) != -EPIPE)
			fg_sock_shutdown(g->vs, a->gfd, SHUT_WR);
		return true;
	}
	return false;
}

/*
 * Tells a run --guest client how its connect ended, before any data: "OK
 * <guest local port>" once established, "ERR <errno>" when it failed
 * (refused: ECONNRESET, timed out: ETIMEDOUT), as vsock_connect() returns.
 * The line is the first bytes (or message) on a fresh socket: it fits.
 */
static bool
announce(struct gapps *g, struct gapp *a, int error)
{
	struct fg_sock_info info;
	char line[48];
	int n;

	a->announce = false;
	if (error != 0 || fg_sock_info(g->vs, a->gfd, &info) < 0)
		n = snprintf(line, sizeof(line), "ERR %d\n",
		    error ? error : ECONNRESET);
	else
		n = snprintf(line, sizeof(line), "OK %u\n", info.local_port);
	(void)!send(a->hfd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	return true;
}

/*
 * The guest's peer reads no more (SHUTDOWN with RCV: it closed or shut
 * down receiving): the local program's writes must now fail with EPIPE,
 * as Linux's vsock_connectible_sendmsg() fails them once peer_shutdown
 * has RCV_SHUTDOWN. shutdown(SHUT_RD) of our end makes AF_UNIX fail them;
 * it comes before the SHUT_WR of the same SHUTDOWN, so a program woken by
 * POLLRDHUP already sees EPIPE.
 */
static bool
pass_peer_shut_rcv(struct gapps *g, struct gapp *a)
{
	struct fg_sock_info info;

	if (a->local_shut_rd || fg_sock_info(g->vs, a->gfd, &info) < 0 ||
	    !(info.peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_RCV))
		return false;
	shutdown(a->hfd, SHUT_RD);
	a->local_shut_rd = true;
	return true;
}

/* A unix: bridge (or a --guest-connect client): both directions, then close. */
static bool
step_bridge(struct gapps *g, struct gapp *a, uint64_t now)
{
	bool moved = false;

	if (fg_sock_state(g->vs, a->gfd) == FG_SS_CONNECTING)
		return false;	/* --guest-connect: not accepted yet */
	if (a->announce) {
		int st = fg_sock_state(g->vs, a->gfd);

		if (st != FG_SS_CONNECTED && st != FG_SS_CLOSING)
			return false;	/* failed: reap() sends the ERR */
		moved |= announce(g, a, 0);
	}
	moved |= pass_peer_shut_rcv(g, a);
	moved |= fill_from_guest(g, a, &a->g2h);
	moved |= drain_to_local(a, &a->g2h);
	moved |= fill_from_local(a, &a->h2g);
	moved |= drain_to_guest(g, a, &a->h2g);
	moved |= bridge_pass_ends(g, a, now);
	update_watch(g, a);
	return moved;
}

/* One step of one application; true when it made progress. */
static bool
step(struct gapps *g, struct gapp *a, uint64_t now)
{
	if (a->closed)
		return false;
	switch (a->service) {
	case GAPP_ECHO:
		return step_echo(g, a, now);
	case GAPP_DISCARD:
		return step_discard(g, a, now);
	case GAPP_SOURCE:
		return step_source(g, a, now);
	case GAPP_UNIX:
		return step_bridge(g, a, now);
	}
	return false;
}

/* The service socket the gate made for accepted guest socket gfd, or -1. */
static int
take_service_socket(struct gapps *g, struct glisten *l, int gfd)
{
	struct fg_sock_info info;

	if (l->gate == NULL || fg_sock_info(g->vs, gfd, &info) < 0)
		return -1;
	return bridge_gate_take(l->gate, info.peer_cid, info.peer_port);
}

/*
 * run --guest: tells the program's accept() who connected, as the first
 * line on the bridge's local socket (Linux: the accepted socket's
 * remote_addr, which the Firecracker convention never carries).
 */
static void
tell_peer(struct gapps *g, int gfd, int hfd)
{
	struct fg_sock_info info;
	char line[48];
	int n;

	if (fg_sock_info(g->vs, gfd, &info) < 0)
		return;
	n = snprintf(line, sizeof(line), "PEER %llu %u\n",
	    (unsigned long long)info.peer_cid, info.peer_port);
	(void)!send(hfd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Accepts guest connections on every listener. */
static bool
accept_guest(struct gapps *g, uint64_t now)
{
	bool moved = false;
	unsigned i;
	int fd, hfd;

	for (i = 0; i < g->nls; i++) {
		const struct gapp_listen_spec *s = &g->ls[i].spec;

		if (g->ls[i].gfd < 0)
			continue;
		while ((fd = fg_sock_accept(g->vs, g->ls[i].gfd)) >= 0) {
			struct gapp *a;

			moved = true;
			hfd = -1;
			if (s->service == GAPP_UNIX &&
			    (hfd = take_service_socket(g, &g->ls[i], fd)) < 0) {
				/* Nobody to bridge to: close the guest side. */
				fg_sock_close(g->vs, fd, now);
				continue;
			}
			if (g->ls[i].tell_peer)
				tell_peer(g, fd, hfd);
			a = add_app(g, fd, s->service, hfd);
			if (a != NULL) {
				a->left = s->bytes;
				a->framed = g->ls[i].framed;
			}
		}
		/* The queue is empty: what the gate still holds is stale. */
		if (g->ls[i].gate != NULL)
			bridge_gate_flush(g->ls[i].gate);
	}
	return moved;
}

/* Local clients of --guest-connect become guest connections. */
static bool
accept_local(struct gapps *g, uint64_t now)
{
	bool moved = false;
	unsigned i;
	int hfd, gfd;

	for (i = 0; i < g->ncs; i++) {
		while ((hfd = accept4(g->cs[i].lfd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
			moved = true;
			gfd = fg_sock_open(g->vs, g->cs[i].spec.type);
			if (gfd < 0 || (fg_sock_connect(g->vs, gfd,
			    VMADDR_CID_HOST, g->cs[i].spec.port, now) < 0 &&
			    fg_sock_error(g->vs, gfd) != 0)) {
				close(hfd);
				continue;
			}
			add_app(g, gfd, GAPP_UNIX, hfd);
		}
	}
	return moved;
}

/*
 * Frees applications that closed their guest socket, and those whose
 * connection ended without them (refused, timed out, transport reset):
 * they close it now, as a program seeing the error would.
 */
static void
reap(struct gapps *g, uint64_t now)
{
	struct gapp **pp = &g->apps, *a;

	while ((a = *pp) != NULL) {
		int st = fg_sock_state(g->vs, a->gfd);

		if (a->closed || st == FG_SS_CLOSED || st < 0) {
			if (a->announce && a->hfd >= 0)
				announce(g, a, fg_sock_error(g->vs, a->gfd));
			close_guest(g, a, now);
			if (a->hfd >= 0) {
				loop_watch(g->loop, a->hfd, 0, NULL, NULL);
				close(a->hfd);
			}
			*pp = a->next;
			free(a);
			continue;
		}
		pp = &a->next;
	}
}

bool
gapps_run(struct gapps *g, uint64_t now)
{
	bool moved = g->local_events;
	struct gapp *a;

	g->local_events = false;
	moved |= accept_guest(g, now);
	moved |= accept_local(g, now);
	for (a = g->apps; a != NULL; a = a->next)
		moved |= step(g, a, now);
	reap(g, now);
	return moved;
}

void
gapps_set_log(struct gapps *g, void (*log)(void *ctx, const char *msg),
    void *ctx)
{
	g->log.fn = log;
	g->log.ctx = ctx;
}

unsigned
gapps_count(const struct gapps *g)
{
	const struct gapp *a;
	unsigned n = 0;

	for (a = g->apps; a != NULL; a = a->next)
		n++;
	return n;
}

void
gapps_free(struct gapps *g, uint64_t now)
{
	struct gapp *a, *next;
	unsigned i;

	if (g == NULL)
		return;
	for (a = g->apps; a != NULL; a = next) {
		next = a->next;
		if (a->hfd >= 0) {
			loop_watch(g->loop, a->hfd, 0, NULL, NULL);
			close(a->hfd);
		}
		free(a);
	}
	for (i = 0; i < g->ncs; i++) {
		loop_watch(g->loop, g->cs[i].lfd, 0, NULL, NULL);
		close(g->cs[i].lfd);
		unlink(g->cs[i].path);
	}
	for (i = 0; i < g->nls; i++) {
		free(g->ls[i].owned_path);
		bridge_gate_free(g->ls[i].gate);
	}
	(void)now;
	free(g->ls);
	free(g->cs);
	free(g);
}

/* A free listener slot, growing the table; NULL when out of memory. */
static struct glisten *
listen_slot(struct gapps *g)
{
	struct glisten *l;
	unsigned i;

	for (i = 0; i < g->nls; i++)
		if (g->ls[i].gfd < 0 && g->ls[i].owned_path == NULL)
			return &g->ls[i];
	if (g->nls == g->cap_ls) {
		l = realloc(g->ls, 2 * g->cap_ls * sizeof(*l));
		if (l == NULL)
			return NULL;
		g->ls = l;
		g->cap_ls *= 2;
	}
	l = &g->ls[g->nls++];
	memset(l, 0, sizeof(*l));
	l->gfd = -1;
	return l;
}

/*
 * A guest socket of type for a run --guest program, with its buffer size
 * (Linux: SO_VM_SOCKETS_BUFFER_SIZE -> virtio_transport_notify_buffer_size
 * sets the buf_alloc it advertises); fd or -errno.
 */
static int
open_program_sock(struct gapps *g, uint16_t type,
    const struct gapp_sock_opts *o)
{
	int fd = fg_sock_open(g->vs, type), e;

	if (fd >= 0 && o != NULL && o->buf_alloc != 0 &&
	    (e = fg_sock_set_buf_alloc(g->vs, fd, o->buf_alloc)) < 0) {
		fg_sock_close(g->vs, fd, 0);
		return e;
	}
	return fd;
}

int
gapps_listen_unix(struct gapps *g, uint32_t port, uint16_t type,
    const char *path, const struct gapp_sock_opts *o)
{
	struct glisten *l = listen_slot(g);
	int fd, e;

	if (l == NULL || (l->owned_path = strdup(path)) == NULL)
		return -ENOMEM;
	fd = open_program_sock(g, type, o);
	if (fd < 0) {
		free(l->owned_path);
		l->owned_path = NULL;
		return fd;
	}
	if ((e = fg_sock_bind(g->vs, fd, port)) < 0 ||
	    (e = fg_sock_listen(g->vs, fd, GAPP_BACKLOG)) < 0) {
		fg_sock_close(g->vs, fd, 0);
		free(l->owned_path);
		l->owned_path = NULL;
		return e;
	}
	memset(&l->spec, 0, sizeof(l->spec));
	l->spec.port = port;
	l->spec.type = type;
	l->spec.service = GAPP_UNIX;
	l->spec.path = l->owned_path;
	l->gfd = fd;
	if ((e = gate_listener(g, l)) < 0) {
		gapps_unlisten(g, (int)(l - g->ls), 0);
		return e;
	}
	l->framed = o != NULL && o->framed &&
	    type == VIRTIO_VSOCK_TYPE_SEQPACKET;
	l->tell_peer = o != NULL && o->tell_peer;
	return (int)(l - g->ls);
}

int
gapps_port_check(struct gapps *g, uint32_t port, uint64_t now)
{
	int fd = fg_sock_open(g->vs, VIRTIO_VSOCK_TYPE_STREAM), e;

	if (fd < 0)
		return fd;
	e = fg_sock_bind(g->vs, fd, port);
	fg_sock_close(g->vs, fd, now);
	return e;
}

void
gapps_unlisten(struct gapps *g, int handle, uint64_t now)
{
	struct glisten *l;

	if (handle < 0 || (unsigned)handle >= g->nls)
		return;
	l = &g->ls[handle];
	if (l->gfd >= 0)
		fg_sock_close(g->vs, l->gfd, now);
	l->gfd = -1;
	free(l->owned_path);
	l->owned_path = NULL;
	bridge_gate_free(l->gate);
	l->gate = NULL;
}

/* The fake guest's accept copies the listener's buf_alloc (sock-proto.c). */
int
gapps_listen_set_buf_alloc(struct gapps *g, int handle, uint32_t size)
{
	struct glisten *l;

	if (handle < 0 || (unsigned)handle >= g->nls)
		return -EBADF;
	l = &g->ls[handle];
	if (l->gfd < 0 || l->owned_path == NULL)
		return -EBADF;
	return fg_sock_set_buf_alloc(g->vs, l->gfd, size);
}

int
gapps_connect_fd(struct gapps *g, int hfd, uint64_t cid, uint32_t port,
    uint16_t type, const struct gapp_sock_opts *o, uint64_t now)
{
	struct gapp *a;
	int gfd = open_program_sock(g, type, o), e;

	if (gfd < 0)
		return gfd;
	e = fg_sock_connect(g->vs, gfd, cid, port, now);
	if (e < 0 && fg_sock_error(g->vs, gfd) == 0 && e != -EINPROGRESS) {
		fg_sock_close(g->vs, gfd, now);
		return e;
	}
	a = add_app(g, gfd, GAPP_UNIX, hfd);
	if (a == NULL) {
		fg_sock_close(g->vs, gfd, now);
		return -ENOMEM;
	}
	a->announce = true;
	a->framed = o != NULL && o->framed &&
	    type == VIRTIO_VSOCK_TYPE_SEQPACKET;
	return 0;
}

/*
 * Linux finds a connected socket by its addresses
 * (vsock_find_connected_socket()); connected ports are unique in the
 * guest across STREAM and SEQPACKET, so the first match is the one.
 */
int
gapps_set_buf_alloc(struct gapps *g, uint32_t local_port, uint64_t cid,
    uint32_t port, uint32_t size, uint64_t now)
{
	struct fg_sock_info in;
	struct gapp *a;

	(void)now;
	for (a = g->apps; a != NULL; a = a->next) {
		if (a->closed || a->hfd < 0 ||
		    fg_sock_info(g->vs, a->gfd, &in) < 0)
			continue;
		if (in.local_port == local_port && in.peer_cid == cid &&
		    in.peer_port == port && (in.state == FG_SS_CONNECTED ||
		    in.state == FG_SS_CONNECTING))
			return fg_sock_set_buf_alloc(g->vs, a->gfd, size);
	}
	return -ENOTCONN;
}

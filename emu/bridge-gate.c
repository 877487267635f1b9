/* bridge-gate.c - a unix: bridge connects to its service when the guest is asked, so the guest refuses when the service does. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bridge-gate.h"

/*
 * Connections waiting for accept at most: the guest listener's backlog
 * (4096, Linux's somaxconn) plus the one Linux lets past it. A gate
 * holding that many refuses, as the guest would.
 */
#define BRIDGE_MAX_PENDING	4097

/* A service socket made for a REQUEST, until its connection is accepted. */
struct bridge_pending {
	uint64_t cid;
	uint32_t port;
	int fd;
};

struct bridge_gate {
	const char *path;
	int sotype;
	uint32_t port;			/* the guest port, for messages */
	const struct bridge_log *log;
	int said;			/* errno last said, 0: working */
	struct bridge_pending *p;
	unsigned n, cap;
};

int
bridge_connect(const char *path, int sotype)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, sotype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/*
	 * AF_UNIX connects at once (unix_stream_connect): it succeeds, or
	 * fails with ENOENT (no file), ECONNREFUSED (not a listening socket)
	 * or EAGAIN (the backlog is full; a blocking connect would wait).
	 * EINPROGRESS never comes, so anything but success refuses.
	 */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

struct bridge_gate *
bridge_gate_new(const char *path, int sotype, uint32_t port,
    const struct bridge_log *log)
{
	struct bridge_gate *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->path = path;
	b->sotype = sotype;
	b->port = port;
	b->log = log;
	return b;
}

/* Why error e makes the guest refuse, in the operator's words. */
static const char *
refusal_why(int e)
{
	switch (e) {
	case ENOENT:
		return "no such socket";
	case ECONNREFUSED:
		return "connection refused: nothing listens there";
	case EAGAIN:
		return "its listen backlog is full: not accepting now";
	case EPROTOTYPE:
		return "a socket of the other type (stream / seqpacket)";
	case EMSGSIZE:
		return "too many connections waiting for accept";
	default:
		return strerror(e);
	}
}

/*
 * Says a change of the service's state once: the first refusal for a
 * reason (not one per connection), and that it accepts again after one.
 */
static void
say_state(struct bridge_gate *b, int e)
{
	char msg[300];

	if (e == b->said)
		return;
	if (b->log->fn != NULL) {
		if (e != 0)
			snprintf(msg, sizeof(msg), "guest port %u refuses "
			    "connections: unix:%s: %s", b->port, b->path,
			    refusal_why(e));
		else
			snprintf(msg, sizeof(msg), "guest port %u accepts "
			    "connections again: unix:%s", b->port, b->path);
		b->log->fn(b->log->ctx, msg);
	}
	b->said = e;
}

/* Keeps fd for the peer's connection; -1 when no room is left. */
static int
keep(struct bridge_gate *b, uint64_t cid, uint32_t port, int fd)
{
	struct bridge_pending *p;
	unsigned cap;

	if (b->n == BRIDGE_MAX_PENDING)
		return -1;
	if (b->n == b->cap) {
		cap = b->cap ? 2 * b->cap : 8;
		if (cap > BRIDGE_MAX_PENDING)
			cap = BRIDGE_MAX_PENDING;
		p = realloc(b->p, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	b->p[b->n].cid = cid;
	b->p[b->n].port = port;
	b->p[b->n].fd = fd;
	b->n++;
	return 0;
}

bool
bridge_gate_ask(void *ctx, uint64_t peer_cid, uint32_t peer_port)
{
	struct bridge_gate *b = ctx;
	int fd = bridge_connect(b->path, b->sotype);

	if (fd >= 0 && keep(b, peer_cid, peer_port, fd) < 0) {
		close(fd);
		fd = -EMSGSIZE;
	}
	say_state(b, fd < 0 ? -fd : 0);
	return fd >= 0;
}

int
bridge_gate_take(struct bridge_gate *b, uint64_t peer_cid,
    uint32_t peer_port)
{
	unsigned i;
	int fd;

	for (i = 0; i < b->n; i++) {
		if (b->p[i].cid != peer_cid || b->p[i].port != peer_port)
			continue;
		fd = b->p[i].fd;
		b->p[i] = b->p[--b->n];
		return fd;
	}
	return -1;
}

void
bridge_gate_flush(struct bridge_gate *b)
{
	while (b->n > 0)
		close(b->p[--b->n].fd);
}

void
bridge_gate_free(struct bridge_gate *b)
{
	if (b == NULL)
		return;
	bridge_gate_flush(b);
	free(b->p);
	free(b);
}

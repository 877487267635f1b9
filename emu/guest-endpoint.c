/* guest-endpoint.c - serve's UDS.guest: a run --guest program's connect/listen become guest sockets. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "guest-endpoint.h"
#include "seq-frame.h"
#include "uds-path.h"
#include "vsock.h"

/* Clients still owing their first line; more are turned away. */
#define GEP_MAX_CLIENTS	1024
/* Longest request line (a LISTEN carries an AF_UNIX path). */
#define GEP_LINE	256
/*
 * Largest buffer a program may ask its guest socket to advertise: what
 * the guest may then queue for a program that does not read is bounded
 * by it, so a local client cannot make serve hold gigabytes.
 */
#define GEP_BUF_MAX	(64u * 1024 * 1024)

/* A client: before its line, or a LISTEN's control link after it. */
struct gep_client {
	int fd;
	uint16_t type;			/* VIRTIO_VSOCK_TYPE_* of its endpoint */
	char line[GEP_LINE];
	size_t len;
	int listen_handle;		/* >= 0: a LISTEN's control link */
	struct gep_client *next;
};

/* One listening endpoint: UDS.guest or UDS.guest.seqpacket. */
struct gep_end {
	int fd;
	uint16_t type;
	char path[108];
};

struct gep {
	struct loop *loop;
	struct gapps *apps;
	struct gep_end ends[2];
	unsigned nends;
	struct gep_client *clients;
	unsigned nclients;
};

static void on_client(void *ctx, int fd, unsigned events, uint64_t now);

/* Closes and forgets client c (a LISTEN's listener goes with it). */
static void
drop_client(struct gep *e, struct gep_client *c, uint64_t now, bool close_fd)
{
	struct gep_client **pp;

	for (pp = &e->clients; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->listen_handle >= 0)
		gapps_unlisten(e->apps, c->listen_handle, now);
	loop_watch(e->loop, c->fd, 0, NULL, NULL);
	if (close_fd)
		close(c->fd);
	e->nclients--;
	free(c);
}

/* Sends a short reply line; a client that cannot take it is dropped. */
static void
reply(int fd, int error)
{
	char line[32];
	int n = error ? snprintf(line, sizeof(line), "ERR %d\n", error) :
	    snprintf(line, sizeof(line), "OK\n");

	(void)!send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Parses a decimal number below limit. */
static int
parse_num(const char *s, unsigned long long limit, unsigned long long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || *v > limit)
		return -1;
	return 0;
}

/*
 * One option word of a request: "eor" (SEQPACKET only: seq-frame.h's EOR
 * byte) or "buf=N" (SO_VM_SOCKETS_BUFFER_SIZE, N from 1 below 2^32,
 * clamped to GEP_BUF_MAX), each once. -1 for anything else.
 */
static int
parse_opt(const char *w, uint16_t type, struct gapp_sock_opts *o)
{
	unsigned long long v;

	if (strcmp(w, SEQ_FRAME_OPTIN) == 0 && !o->framed &&
	    type == VIRTIO_VSOCK_TYPE_SEQPACKET) {
		o->framed = true;
		return 0;
	}
	if (strncmp(w, "buf=", 4) == 0 && o->buf_alloc == 0 &&
	    parse_num(w + 4, UINT32_MAX, &v) == 0 && v > 0) {
		o->buf_alloc = v > GEP_BUF_MAX ? GEP_BUF_MAX : (uint32_t)v;
		return 0;
	}
	return -1;
}

/*
 * "CONNECT <cid> <port> [eor] [buf=N]": the bridge takes the client's
 * fd, its guest socket set up by the options (parse_opt).
 */
static void
do_connect(struct gep *e, struct gep_client *c, char *args, uint64_t now)
{
	char *cid = strtok(args, " "), *port = strtok(NULL, " "), *w;
	struct gapp_sock_opts o = { 0 };
	unsigned long long vc, vp;
	uint16_t type = c->type;
	int fd = c->fd, r;
	bool bad = cid == NULL || port == NULL;

	while (!bad && (w = strtok(NULL, " ")) != NULL)
		bad = parse_opt(w, type, &o) < 0;
	if (bad || parse_num(cid, UINT32_MAX, &vc) < 0 ||
	    parse_num(port, UINT32_MAX, &vp) < 0) {
		drop_client(e, c, now, true);
		return;
	}
	drop_client(e, c, now, false);
	r = gapps_connect_fd(e->apps, fd, vc, (uint32_t)vp, type, &o, now);
	if (r < 0) {
		reply(fd, -r);
		close(fd);
	}
}

/*
 * "LISTEN <port> stream|seqpacket|seqpacket-eor [buf=N] [peer] <path>":
 * the client stays as its link; seqpacket-eor bridges opt in to
 * seq-frame.h's EOR byte, buf=N is the listener's buffer size
 * (parse_opt), which its connections inherit; with peer each bridged
 * connection starts with "PEER <cid> <port>\n" for the program's accept.
 */
static void
do_listen(struct gep *e, struct gep_client *c, char *args, uint64_t now)
{
	char *port = strtok(args, " "), *type = strtok(NULL, " ");
	char *path = strtok(NULL, "");
	struct gapp_sock_opts o = { 0 };
	unsigned long long vp;
	uint16_t t;
	int h;

	while (path != NULL && (strncmp(path, "buf=", 4) == 0 ||
	    strncmp(path, "peer ", 5) == 0)) {
		char *opt = strtok(path, " ");

		path = strtok(NULL, "");
		if (strcmp(opt, "peer") == 0 && !o.tell_peer)
			o.tell_peer = true;
		else if (strcmp(opt, "peer") == 0 ||
		    parse_opt(opt, VIRTIO_VSOCK_TYPE_STREAM, &o) < 0)
			path = NULL;	/* refused below */
	}
	if (port == NULL || type == NULL || path == NULL ||
	    parse_num(port, UINT32_MAX - 1, &vp) < 0 ||
	    (strcmp(type, "stream") != 0 && strcmp(type, "seqpacket") != 0 &&
	    strcmp(type, "seqpacket-" SEQ_FRAME_OPTIN) != 0) ||
	    strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		drop_client(e, c, now, true);
		return;
	}
	t = type[0] == 's' && type[1] == 'e' ? VIRTIO_VSOCK_TYPE_SEQPACKET :
	    VIRTIO_VSOCK_TYPE_STREAM;
	o.framed = strchr(type, '-') != NULL;
	h = gapps_listen_unix(e->apps, (uint32_t)vp, t, path, &o);
	reply(c->fd, h < 0 ? -h : 0);
	if (h < 0) {
		drop_client(e, c, now, true);
		return;
	}
	c->listen_handle = h;
	c->len = 0;		/* the link's own lines start here */
}

/* "BIND <port>": is the port free in the guest now? "OK" or "ERR 98". */
static void
do_bind(struct gep *e, struct gep_client *c, char *args, uint64_t now)
{
	unsigned long long vp;
	int r;

	if (parse_num(args, UINT32_MAX - 1, &vp) == 0) {
		r = gapps_port_check(e->apps, (uint32_t)vp, now);
		reply(c->fd, r < 0 ? -r : 0);
	}
	drop_client(e, c, now, true);
}

/*
 * "SETBUF <local port> <cid> <port> buf=N": SO_VM_SOCKETS_BUFFER_SIZE set
 * on a connected socket (Linux: vsock_update_buffer_size() ->
 * virtio_transport_notify_buffer_size()); the connection is named by its
 * addresses, the size clamped as at connect (parse_opt). "OK" once the
 * guest socket advertises it, "ERR 107" (ENOTCONN) for no such connection.
 */
static void
do_setbuf(struct gep *e, struct gep_client *c, char *args, uint64_t now)
{
	char *lport = strtok(args, " "), *cid = strtok(NULL, " ");
	char *port = strtok(NULL, " "), *w = strtok(NULL, " ");
	struct gapp_sock_opts o = { 0 };
	unsigned long long vl, vc, vp;
	int r;

	if (lport != NULL && cid != NULL && port != NULL && w != NULL &&
	    strtok(NULL, " ") == NULL &&
	    parse_num(lport, UINT32_MAX, &vl) == 0 &&
	    parse_num(cid, UINT32_MAX, &vc) == 0 &&
	    parse_num(port, UINT32_MAX, &vp) == 0 &&
	    strncmp(w, "buf=", 4) == 0 && parse_opt(w, c->type, &o) == 0) {
		r = gapps_set_buf_alloc(e->apps, (uint32_t)vl, vc, (uint32_t)vp,
		    o.buf_alloc, now);
		reply(c->fd, r < 0 ? -r : 0);
	}
	drop_client(e, c, now, true);
}

/* A complete request line from c. */
static void
handle_line(struct gep *e, struct gep_client *c, uint64_t now)
{
	c->line[c->len - 1] = '\0';
	if (strncmp(c->line, "CONNECT ", 8) == 0)
		do_connect(e, c, c->line + 8, now);
	else if (strncmp(c->line, "LISTEN ", 7) == 0 &&
	    c->type == VIRTIO_VSOCK_TYPE_STREAM)
		do_listen(e, c, c->line + 7, now);
	else if (strncmp(c->line, "BIND ", 5) == 0 &&
	    c->type == VIRTIO_VSOCK_TYPE_STREAM)
		do_bind(e, c, c->line + 5, now);
	else if (strncmp(c->line, "SETBUF ", 7) == 0 &&
	    c->type == VIRTIO_VSOCK_TYPE_STREAM)
		do_setbuf(e, c, c->line + 7, now);
	else
		drop_client(e, c, now, true);
}

/*
 * n more bytes on a LISTEN's link: each "SETBUF buf=N" line is
 * SO_VM_SOCKETS_BUFFER_SIZE set on the program's listener (Linux:
 * vsock_update_buffer_size() stores it for the children to come),
 * answered "OK". Anything else is ignored; a line too long for the
 * buffer is thrown away, so the link never holds more than GEP_LINE.
 */
static void
link_lines(struct gep *e, struct gep_client *c, size_t n)
{
	char *nl;

	c->len += n;
	while ((nl = memchr(c->line, '\n', c->len)) != NULL) {
		struct gapp_sock_opts o = { 0 };
		size_t used = (size_t)(nl - c->line) + 1;

		*nl = '\0';
		if (strncmp(c->line, "SETBUF ", 7) == 0 &&
		    parse_opt(c->line + 7, VIRTIO_VSOCK_TYPE_STREAM, &o) == 0 &&
		    o.buf_alloc != 0)
			reply(c->fd, -gapps_listen_set_buf_alloc(e->apps,
			    c->listen_handle, o.buf_alloc));
		memmove(c->line, c->line + used, c->len - used);
		c->len -= used;
	}
	if (c->len == sizeof(c->line))
		c->len = 0;
}

/*
 * A client's fd is readable: its request (a stream may deliver it in
 * pieces; nothing follows it until the reply), or, on a LISTEN's link,
 * the end of the program's listener.
 */
static void
on_client(void *ctx, int fd, unsigned events, uint64_t now)
{
	struct gep *e = ctx;
	struct gep_client *c;
	ssize_t n;

	(void)events;
	for (c = e->clients; c != NULL && c->fd != fd; c = c->next)
		;
	if (c == NULL)
		return;
	if (c->listen_handle >= 0) {
		n = recv(fd, c->line + c->len, sizeof(c->line) - c->len,
		    MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			drop_client(e, c, now, true);
		else if (n > 0)
			link_lines(e, c, (size_t)n);
		return;
	}
	n = recv(fd, c->line + c->len, sizeof(c->line) - c->len,
	    MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		drop_client(e, c, now, true);
		return;
	}
	c->len += (size_t)n;
	if (c->line[c->len - 1] == '\n' &&
	    memchr(c->line, '\n', c->len) == c->line + c->len - 1)
		handle_line(e, c, now);
	else if (c->len == sizeof(c->line) || memchr(c->line, '\n', c->len))
		drop_client(e, c, now, true);	/* too long, or more than a line */
}

/* A new client on an endpoint. */
static void
on_accept(void *ctx, int fd, unsigned events, uint64_t now)
{
	struct gep *e = ctx;
	struct gep_client *c;
	unsigned i;
	int cfd;

	(void)events;
	(void)now;
	for (i = 0; i < e->nends && e->ends[i].fd != fd; i++)
		;
	if (i == e->nends)
		return;
	while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) >= 0) {
		if (e->nclients >= GEP_MAX_CLIENTS ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			close(cfd);
			continue;
		}
		c->fd = cfd;
		c->type = e->ends[i].type;
		c->listen_handle = -1;
		c->next = e->clients;
		e->clients = c;
		e->nclients++;
		loop_watch(e->loop, cfd, VSOCK_EV_READ, on_client, e);
	}
}

/* Listens on path with an AF_UNIX socket of type. */
static int
open_end(struct gep *e, const char *path, uint16_t type, char *err,
    size_t errlen)
{
	struct gep_end *end = &e->ends[e->nends];
	int fd;

	if ((fd = uds_listen(path, type == VIRTIO_VSOCK_TYPE_SEQPACKET ?
	    SOCK_SEQPACKET : SOCK_STREAM, 128, err, errlen)) < 0)
		return -1;
	end->fd = fd;
	end->type = type;
	strcpy(end->path, path);
	e->nends++;
	loop_watch(e->loop, fd, VSOCK_EV_READ, on_accept, e);
	return 0;
}

int
gep_new(struct loop *loop, const char *uds, struct gapps *apps,
    bool seqpacket, struct gep **out, char *err, size_t errlen)
{
	struct gep *e = calloc(1, sizeof(*e));
	char path[160];

	*out = NULL;
	if (e == NULL)
		return -1;
	e->loop = loop;
	e->apps = apps;
	snprintf(path, sizeof(path), "%s.guest", uds);
	if (open_end(e, path, VIRTIO_VSOCK_TYPE_STREAM, err, errlen) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s.guest.seqpacket", uds);
	if (seqpacket && open_end(e, path, VIRTIO_VSOCK_TYPE_SEQPACKET, err,
	    errlen) < 0)
		goto fail;
	*out = e;
	return 0;
fail:
	gep_free(e, 0);
	return -1;
}

void
gep_free(struct gep *e, uint64_t now)
{
	unsigned i;

	if (e == NULL)
		return;
	while (e->clients != NULL)
		drop_client(e, e->clients, now, true);
	for (i = 0; i < e->nends; i++) {
		loop_watch(e->loop, e->ends[i].fd, 0, NULL, NULL);
		close(e->ends[i].fd);
		unlink(e->ends[i].path);
	}
	free(e);
}

/* vsp-connect.c - connect() and listen() of AF_VSOCK sockets, host role and guest role. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "peer-line.h"
#include "seq-frame.h"
#include "vsp.h"

/*
 * Milliseconds of SO_VM_SOCKETS_CONNECT_TIMEOUT, rounded up as Linux
 * rounds microseconds up to jiffies (a zero timeout was made the 2 s
 * default when it was set); at most an hour.
 */
static int
tv_ms(const struct timeval *tv)
{
	long long ms = (long long)tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000;

	if (ms <= 0)
		return 1;
	return ms > 3600000 ? 3600000 : (int)ms;
}

/* Waits for fd readable until deadline (-1: forever); 0, or -1 ETIMEDOUT. */
static int
wait_readable(int fd, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r, left;

	for (;;) {
		left = deadline < 0 ? -1 : (int)(deadline - vsp_now_ms());
		if (deadline >= 0 && left < 0)
			left = 0;
		r = poll(&p, 1, left);
		if (r > 0)
			return 0;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}

/*
 * Takes the reply bytes there are now, without blocking: byte by byte on
 * a stream (nothing after the line may be taken from the program), one
 * message on SEQPACKET; *n counts what line holds. Returns the line's
 * length without "\n" once it is whole, -2 while more is to come, -1
 * with errno: EOF or a reset is ECONNRESET, as Linux's vsock_connect()
 * reports a connection reset while connecting; no "\n" within len, EPROTO.
 */
static int
take_reply(int fd, int type, char *line, size_t len, size_t *n)
{
	ssize_t r;

	for (;;) {
		if (type == SOCK_SEQPACKET)
			r = vsp_real_recv(fd, line, len - 1, MSG_DONTWAIT);
		else
			r = vsp_real_recv(fd, line + *n, 1, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return -2;
		if (r <= 0) {
			errno = ECONNRESET;
			return -1;
		}
		*n = type == SOCK_SEQPACKET ? (size_t)r : *n + (size_t)r;
		if (line[*n - 1] == '\n')
			break;
		if (type == SOCK_SEQPACKET || *n == len - 1) {
			errno = EPROTO;
			return -1;
		}
	}
	line[*n - 1] = '\0';
	return (int)(*n - 1);
}

/* Reads one reply line (see take_reply) within timeout_ms; -1 errno. */
int
vsp_read_line(int fd, int type, char *line, size_t len, int timeout_ms)
{
	long long deadline = timeout_ms < 0 ? -1 : vsp_now_ms() + timeout_ms;
	size_t n = 0;
	int r;

	do {
		if (wait_readable(fd, deadline) < 0)
			return -1;
	} while ((r = take_reply(fd, type, line, len, &n)) == -2);
	return r;
}

/* Writes all of buf (a short control line) to fd. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t r;

	while (len > 0) {
		r = send(fd, buf, len, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			poll(&p, 1, 1000);
			continue;
		}
		if (r <= 0)
			return -1;
		buf += r;
		len -= (size_t)r;
	}
	return 0;
}

/* AF_UNIX address of path; -1 ENAMETOOLONG. */
static int
unix_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

/*
 * Connects fd to vsockemu's socket at path, blocking even for a
 * non-blocking fd (AF_UNIX connects at once or refuses). No vsockemu there
 * is ECONNREFUSED, as a real socket with nobody behind it.
 */
static int
unix_connect_path(int fd, const char *path)
{
	struct sockaddr_un sa;

	if (unix_addr(&sa, path) < 0)
		return -1;
	while (vsp_real_connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			poll(&p, 1, 10);
			continue;
		}
		if (errno == ENOENT)
			errno = ECONNREFUSED;
		return -1;
	}
	return 0;
}

/* "OK <port>" or "ERR <errno>" from vsockemu: 0 with *port, or -1 errno. */
static int
parse_reply(const char *line, uint32_t *port)
{
	unsigned long v;
	char *end;

	if (strncmp(line, "OK", 2) == 0) {
		*port = VMADDR_PORT_ANY;
		if (line[2] == ' ') {
			v = strtoul(line + 3, &end, 10);
			if (*end == '\0' && v <= UINT32_MAX)
				*port = (uint32_t)v;
		}
		return 0;
	}
	if (strncmp(line, "ERR ", 4) == 0) {
		v = strtoul(line + 4, &end, 10);
		errno = (*end == '\0' && v > 0 && v < 4096) ? (int)v :
		    ECONNRESET;
		return -1;
	}
	errno = EPROTO;
	return -1;
}

/* The path of vsockemu's socket for our role and type. */
static void
endpoint_path(char *path, size_t len, int type)
{
	snprintf(path, len, "%s%s%s", vsp_cfg.uds,
	    vsp_cfg.role == VSP_ROLE_GUEST ? ".guest" : "",
	    type == SOCK_SEQPACKET ? ".seqpacket" : "");
}

/*
 * Guest role: " buf=N" when the program changed SO_VM_SOCKETS_BUFFER_SIZE,
 * so its guest socket advertises that buf_alloc (Linux:
 * virtio_transport_notify_buffer_size()); "" for the default.
 */
static const char *
buf_opt(const struct vsp_sock *s, char *out, size_t len)
{
	uint64_t v = s->buf_size > UINT32_MAX ? UINT32_MAX : s->buf_size;

	out[0] = '\0';
	if (v != VSP_DEFAULT_BUF && v > 0)
		snprintf(out, len, " buf=%llu", (unsigned long long)v);
	return out;
}

/* " eor" for a SEQPACKET socket's request line, else "". */
static const char *
optin(int type)
{
	return type == SOCK_SEQPACKET ? " " SEQ_FRAME_OPTIN : "";
}

/*
 * The AF_UNIX socket is spent: a fresh one, same flags, lets the program
 * retry. The program's epoll registrations went with the old file; they
 * are made again on the new one.
 */
static void
reset_carrier(int fd, struct vsp_sock *s)
{
	int flags = fcntl(fd, F_GETFL), fdflags = fcntl(fd, F_GETFD);
	int nfd = socket(AF_UNIX, s->type | SOCK_CLOEXEC, 0);

	if (nfd >= 0) {
		vsp_real_dup3(nfd, fd, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0);
		vsp_real_close(nfd);
		fcntl(fd, F_SETFL, flags);
	}
	vsp_epoll_restore(fd, s);
}

/* The connect succeeded: s talks to its peer from local port port. */
static void
connected(int fd, struct vsp_sock *s, uint32_t port)
{
	s->state = VSP_CONNECTED;
	s->peer.svm_family = AF_VSOCK;
	s->local.svm_cid = vsp_local_cid();
	s->local.svm_port = port;
	s->bound = true;
	vsp_epoll_restore(fd, s);
}

int
vsp_connect_progress(int fd, struct vsp_sock *s)
{
	uint32_t port;
	int r;

	if (s->state != VSP_CONNECTING)
		return s->state == VSP_CONNECTED ? 1 : -1;
	r = take_reply(fd, s->type, s->reply, sizeof(s->reply),
	    &s->reply_len);
	if (r == -2) {
		/*
		 * Linux: vsock_connect() with O_NONBLOCK schedules
		 * vsock_connect_timeout() after SO_VM_SOCKETS_CONNECT_TIMEOUT:
		 * still no answer then is sk_err ETIMEDOUT.
		 */
		if (vsp_now_ms() < s->deadline)
			return 0;
		errno = ETIMEDOUT;
	} else if (r >= 0 && parse_reply(s->reply, &port) == 0) {
		connected(fd, s, port);
		return 1;
	}
	/* Linux: sk_err from the RST (or the timeout), the socket unconnected. */
	s->so_error = errno;
	s->state = VSP_OPEN;
	reset_carrier(fd, s);
	return -1;
}

/*
 * connect() again while a non-blocking one runs. Linux's vsock_connect():
 * EALREADY while SS_CONNECTING, EISCONN once connected; a failure is
 * reported here once (its SO_ERROR taken), then the socket may retry.
 */
static int
connect_again(int fd, struct vsp_sock *s)
{
	int r = vsp_connect_progress(fd, s);

	if (r >= 0) {
		errno = r == 0 ? EALREADY : EISCONN;
		return -1;
	}
	errno = s->so_error;
	s->so_error = 0;
	return -1;
}

/*
 * Host role: Firecracker's "CONNECT P" on UDS, its "OK local_port" taken.
 * Guest role: "CONNECT CID P" on UDS.guest, answered once the simulated
 * guest's connection is established or failed ("ERR errno"). A
 * non-blocking socket sends the line and returns EINPROGRESS, as Linux's
 * vsock_connect() with O_NONBLOCK; poll, SO_ERROR or the next call take
 * the answer (vsp_connect_progress).
 */
int
vsp_connect(int fd, struct vsp_sock *s, const struct sockaddr_vm *to)
{
	char path[160], line[80], buf[24];
	uint32_t port;
	int n;

	if (s->state == VSP_CONNECTING)
		return connect_again(fd, s);
	if (s->state == VSP_CONNECTED) {
		errno = EISCONN;	/* Linux: vsock_connect(), SS_CONNECTED */
		return -1;
	}
	if (s->state == VSP_LISTENING) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * Linux: vhost_transport_send_pkt() finds no guest with that CID and
	 * the connect fails with ENODEV.
	 */
	if (vsp_cfg.role == VSP_ROLE_HOST && to->svm_cid != vsp_cfg.guest_cid) {
		errno = ENODEV;
		return -1;
	}
	endpoint_path(path, sizeof(path), s->type);
	if (unix_connect_path(fd, path) < 0)
		return -1;
	/* SEQPACKET opts in to the EOR byte (seq-frame.h): MSG_EOR carried. */
	if (vsp_cfg.role == VSP_ROLE_HOST)
		n = snprintf(line, sizeof(line), "CONNECT %u%s\n",
		    to->svm_port, optin(s->type));
	else
		n = snprintf(line, sizeof(line), "CONNECT %u %u%s%s\n",
		    to->svm_cid, to->svm_port, optin(s->type),
		    buf_opt(s, buf, sizeof(buf)));
	s->peer = *to;
	if (write_all(fd, line, (size_t)n) < 0)
		goto fail;
	if (fcntl(fd, F_GETFL) & O_NONBLOCK) {
		s->state = VSP_CONNECTING;
		s->reply_len = 0;
		s->deadline = vsp_now_ms() + tv_ms(&s->connect_timeout);
		vsp_epoll_hold(fd, s);
		errno = EINPROGRESS;
		return -1;
	}
	if (vsp_read_line(fd, s->type, line, sizeof(line),
	    tv_ms(&s->connect_timeout)) < 0 || parse_reply(line, &port) < 0)
		goto fail;
	connected(fd, s, port);
	return 0;
fail:
	n = errno;
	reset_carrier(fd, s);
	errno = n;
	return -1;
}

/* Is there a live listener at path? (A stale file is replaced, as serve does.) */
static bool
path_live(const char *path)
{
	struct sockaddr_un sa;
	int fd, r;

	if (unix_addr(&sa, path) < 0 || access(path, F_OK) < 0)
		return false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	r = vsp_real_connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r < 0 && errno == EPROTOTYPE) {
		vsp_real_close(fd);
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		r = vsp_real_connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	vsp_real_close(fd);
	return r == 0;
}

/*
 * Binds fd's AF_UNIX socket to path (a stale file replaced) and listens;
 * EADDRINUSE when in_use.
 */
static int
unix_listen(int fd, const char *path, bool in_use, int backlog)
{
	struct sockaddr_un sa;

	if (unix_addr(&sa, path) < 0)
		return -1;
	if (in_use) {
		errno = EADDRINUSE;	/* Linux: __vsock_bind_connectible() */
		return -1;
	}
	unlink(path);
	if (vsp_real_bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    vsp_real_listen(fd, backlog) < 0)
		return -1;
	return 0;
}

/*
 * Host role: the listener files serve's muxer takes the guest's
 * connections to port from, Firecracker's UDS_P and the opt-ins (EOR byte,
 * PEER line; seq-frame.h, peer-line.h). A live one holds the port for
 * both connectible types, as Linux binds both in one table.
 */
static const char *const host_suffixes[] = {
	"", "." SEQ_FRAME_OPTIN, "." PEER_LINE_OPTIN,
	"." SEQ_FRAME_OPTIN "." PEER_LINE_OPTIN,
};

static bool
host_port_live(uint32_t port)
{
	char path[192];
	size_t i;

	for (i = 0; i < sizeof(host_suffixes) / sizeof(host_suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s_%u%s", vsp_cfg.uds, port,
		    host_suffixes[i]);
		if (path_live(path))
			return true;
	}
	return false;
}

/*
 * Guest role: one request line on UDS.guest, answered "OK" or "ERR errno"
 * within 10 s. Returns the control link (the caller closes it), or -1
 * with errno: the "ERR", or why serve could not be asked.
 */
static int
guest_request(const char *req, size_t len)
{
	char path[160], line[64];
	uint32_t port;
	int ctl, e;

	endpoint_path(path, sizeof(path), SOCK_STREAM);
	ctl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ctl < 0)
		return -1;
	if (unix_connect_path(ctl, path) < 0 || write_all(ctl, req, len) < 0 ||
	    vsp_read_line(ctl, SOCK_STREAM, line, sizeof(line), 10000) < 0 ||
	    parse_reply(line, &port) < 0) {
		e = errno;
		vsp_real_close(ctl);
		errno = e;
		return -1;
	}
	return ctl;
}

/* Guest role: asks serve to listen on the port and bridge to our file. */
static int
guest_listen_ctl(struct vsp_sock *s)
{
	char line[256], buf[24];
	int n;

	/* "peer": each connection starts with its peer, for accept(). */
	n = snprintf(line, sizeof(line), "LISTEN %u %s%s peer %s\n",
	    s->local.svm_port, s->type == SOCK_SEQPACKET ?
	    "seqpacket-" SEQ_FRAME_OPTIN : "stream",
	    buf_opt(s, buf, sizeof(buf)), s->path);
	if ((s->ctl_fd = guest_request(line, (size_t)n)) < 0)
		return -1;
	return 0;
}

/*
 * A listener's new size goes over its LISTEN link ("SETBUF buf=N"),
 * answered before any connection accepted after it (Linux:
 * __vsock_create() copies the listener's buffer_size to each child).
 * Only the fd that owns the link can say it (a dup's copy cannot).
 */
static int
listener_set_buf(const struct vsp_sock *s, const char *setbuf)
{
	char line[64], reply[64];
	uint32_t port;
	int n;

	if (s->ctl_fd < 0)
		return -1;
	n = snprintf(line, sizeof(line), "SETBUF %s", strstr(setbuf, "buf="));
	if (write_all(s->ctl_fd, line, (size_t)n) < 0 ||
	    vsp_read_line(s->ctl_fd, SOCK_STREAM, reply, sizeof(reply),
	    10000) < 0 || parse_reply(reply, &port) < 0)
		return -1;
	return 0;
}

/*
 * The connection is named by its addresses, as Linux finds it
 * (vsock_find_connected_socket()); serve answers once the guest socket
 * advertises the size (virtio_transport_notify_buffer_size()).
 */
int
vsp_guest_set_buf(const struct vsp_sock *s)
{
	char line[96];
	int n, ctl;

	if (s->buf_size == 0)
		return 0;	/* serve takes no buf=0: the socket keeps its size */
	n = snprintf(line, sizeof(line), "SETBUF %u %u %u buf=%llu\n",
	    s->local.svm_port, s->peer.svm_cid, s->peer.svm_port,
	    (unsigned long long)(s->buf_size > UINT32_MAX ? UINT32_MAX :
	    s->buf_size));
	if (s->state == VSP_LISTENING)
		return listener_set_buf(s, line);
	if ((ctl = guest_request(line, (size_t)n)) < 0)
		return -1;
	vsp_real_close(ctl);
	return 0;
}

/*
 * bind(P)'s EADDRINUSE, as Linux's __vsock_bind_connectible() gives it:
 * in the host role a live listener at UDS_P (or UDS_P.eor) holds P; in
 * the guest role serve's "BIND P" asks the simulated guest. Only a port
 * known to be taken fails; nothing is reserved (listen claims the port
 * and checks again).
 */
int
vsp_bind_check(uint32_t port)
{
	char line[32];
	int n, ctl;

	if (vsp_cfg.role == VSP_ROLE_HOST) {
		if (host_port_live(port)) {
			errno = EADDRINUSE;
			return -1;
		}
		return 0;
	}
	n = snprintf(line, sizeof(line), "BIND %u\n", port);
	ctl = guest_request(line, (size_t)n);
	if (ctl >= 0)
		vsp_real_close(ctl);
	else if (errno == EADDRINUSE)
		return -1;
	return 0;
}

/*
 * Host role: a listener at UDS_P, where serve's muxer takes guest
 * connections to host port P (Firecracker's convention). Guest role: a
 * private listener that serve bridges each accepted guest connection to.
 */
int
vsp_listen(int fd, struct vsp_sock *s, int backlog)
{
	char path[256];
	bool in_use;
	int n;

	if (s->state == VSP_LISTENING)
		return vsp_real_listen(fd, backlog);
	if (s->state != VSP_OPEN) {
		errno = EINVAL;	/* Linux: vsock_listen(), not SS_UNCONNECTED */
		return -1;
	}
	vsp_auto_bind(s);
	/*
	 * A listener at UDS_P.peer tells serve's muxer it takes the PEER line
	 * (peer-line.h), for accept()'s address; at UDS_P.eor.peer, a
	 * SEQPACKET one takes the EOR byte too (seq-frame.h). The muxer tries
	 * those paths before Firecracker's UDS_P.
	 */
	if (vsp_cfg.role == VSP_ROLE_HOST)
		n = snprintf(path, sizeof(path), "%s_%u%s." PEER_LINE_OPTIN,
		    vsp_cfg.uds, s->local.svm_port, s->type == SOCK_SEQPACKET ?
		    "." SEQ_FRAME_OPTIN : "");
	else
		n = snprintf(path, sizeof(path), "%s/l%u-%d-%d",
		    vsp_cfg.run_dir[0] ? vsp_cfg.run_dir : "/tmp",
		    s->local.svm_port, (int)getpid(), fd);
	if (n < 0 || (size_t)n >= sizeof(s->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(s->path, path, (size_t)n + 1);
	in_use = vsp_cfg.role == VSP_ROLE_HOST ?
	    host_port_live(s->local.svm_port) : path_live(s->path);
	if (unix_listen(fd, s->path, in_use, backlog) < 0) {
		s->path[0] = '\0';
		return -1;
	}
	if (vsp_cfg.role == VSP_ROLE_GUEST && guest_listen_ctl(s) < 0) {
		int e = errno;

		unlink(s->path);
		s->path[0] = '\0';
		errno = e;
		return -1;
	}
	s->state = VSP_LISTENING;
	return 0;
}

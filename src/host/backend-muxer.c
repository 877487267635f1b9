/* backend-muxer.c - AF_UNIX host sockets bridged to vsock connections (Firecracker's protocol). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend-muxer.h"
#include "connect-line.h"
#include "error.h"
#include "seq-frame.h"
#include "peer-line.h"
#include "uds-path.h"

enum mx_kind {
	MX_LISTENER,		/* the main socket, or PATH.seqpacket */
	MX_LINE,		/* host socket still sending its CONNECT line */
	MX_HOST,		/* host-initiated connection */
	MX_GUEST,		/* guest-initiated connection to PATH_PORT */
};

/* One fd the muxer owns. */
struct mx_entry {
	int fd;
	enum mx_kind kind;
	uint16_t type;			/* VIRTIO_VSOCK_TYPE_*: the socket's */
	struct vsock_conn *conn;	/* MX_HOST, MX_GUEST */
	char line[CONNECT_LINE_MAX];	/* MX_LINE: bytes so far */
	size_t line_len;
	vsock_time_t deadline;		/* MX_LINE; MX_GUEST: next retry */
	struct mx_entry *prev, *next;	/* MX_LINE: FIFO by deadline;
					 * MX_GUEST: the retry list */
	char ok[PEER_LINE_MAX];		/* "OK <port>\n" (MX_HOST) or MX_GUEST's
					 * "PEER <cid> <port>\n" left to send */
	size_t ok_len, ok_off;
	bool connecting;		/* MX_GUEST: connect() in progress */
	bool retrying;			/* MX_GUEST: on the retry list */
	uint32_t port;			/* MX_GUEST: the guest's dst port */
	const char *sfx;		/* MX_GUEST: PATH_port's suffix */
	vsock_time_t retry_gap;		/* MX_GUEST: until the next retry */
	bool hup;			/* peer hung up: no longer watched */
	bool eor;			/* SEQPACKET: opted in to seq-frame.h */
	unsigned dev_want;		/* VSOCK_EV_* from the device */
	unsigned watching;		/* VSOCK_EV_* last asked of the loop */
};

/* Where host clients connect: the main socket, then PATH.seqpacket. */
struct mx_listener {
	struct mx_entry e;		/* kind MX_LISTENER; fd -1: none */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool created;			/* we bound it, so we remove it */
};

enum { MX_MAIN, MX_SEQPACKET, MX_NLISTENERS };

#define SEQPACKET_SUFFIX	".seqpacket"

/*
 * How long the main socket goes unwatched after accept failed for lack of
 * fds, unless one of ours is closed first: tmux's server_accept() waits a
 * second, nginx's ngx_event_accept() accept_mutex_delay (500 ms).
 */
#define MUXER_ACCEPT_PAUSE	VSOCK_NS_PER_SEC

/*
 * A guest connect that found PATH_port's accept queue full is retried
 * after 1 ms, the wait doubling to 50 ms: AF_UNIX tells a connecting socket
 * nothing when the queue drains (unix_wait_for_peer() sleeps on the
 * listener's peer_wait, which no fd of ours can watch), so a timer stands
 * in for Firecracker's blocking connect. The cap bounds the delay after
 * the application accepts and, with at most max_conns pending, the cost:
 * 20 failed connects a second each.
 */
#define MUXER_RETRY_FIRST	(VSOCK_NS_PER_SEC / 1000)
#define MUXER_RETRY_MAX		(VSOCK_NS_PER_SEC / 20)

struct muxer {
	struct muxer_config cfg;
	char *path;			/* the main socket's: ls[MX_MAIN].path */
	struct vsock_device *dev;
	muxer_watch_fn watch;
	void *watch_ctx;
	struct mx_listener ls[MX_NLISTENERS];
	struct mx_entry **by_fd;	/* fd -> entry */
	int nfds;
	struct mx_entry *line_head, *line_tail;
	unsigned nlines;
	struct mx_entry *retry_head, *retry_tail;	/* by deadline */
	vsock_time_t accept_resume;	/* paused until; NEVER: not paused */
	bool pause_logged;		/* since the backlog was last drained */
	struct muxer_stats stats;
};

void
muxer_config_defaults(struct muxer_config *c)
{
	memset(c, 0, sizeof(*c));
	c->uds_path = "./v.sock";
	c->line_timeout = 5 * VSOCK_NS_PER_SEC;
	c->max_pending = 64;
}

/* Tells the loop what to watch on e->fd, if that changed. */
static void
set_watch(struct muxer *m, struct mx_entry *e, unsigned events)
{
	if (e->hup)
		events = 0;
	if (events != e->watching) {
		e->watching = events;
		m->watch(m->watch_ctx, e->fd, events);
	}
}

/* Remembers e under its fd; grows the table. */
static int
track(struct muxer *m, struct mx_entry *e)
{
	if (e->fd >= m->nfds) {
		int n = m->nfds ? m->nfds : 64;
		struct mx_entry **t;

		while (n <= e->fd)
			n *= 2;
		if ((t = realloc(m->by_fd, (size_t)n * sizeof(*t))) == NULL)
			return -VSE_ERR_NOMEM;
		memset(t + m->nfds, 0, (size_t)(n - m->nfds) * sizeof(*t));
		m->by_fd = t;
		m->nfds = n;
	}
	m->by_fd[e->fd] = e;
	return 0;
}

/*
 * Watches the main socket only while there is room for another unfinished
 * CONNECT line and accept is not paused for lack of fds; otherwise clients
 * wait in the kernel's listen backlog (itself bounded) instead of being
 * refused, and a level-triggered loop does not spin on a listener it will
 * not accept from.
 */
static void
update_listener(struct muxer *m)
{
	bool accepting = m->nlines < m->cfg.max_pending &&
	    m->accept_resume == VSOCK_TIME_NEVER;
	int i;

	for (i = 0; i < MX_NLISTENERS; i++)
		if (m->ls[i].e.fd >= 0)
			set_watch(m, &m->ls[i].e,
			    accepting ? VSOCK_EV_READ : 0);
}

/*
 * accept4 failed with the listener still readable (EMFILE, ENFILE,
 * ENOBUFS...): retrying at once would spin a level-triggered loop. Pause
 * as tmux does (nginx too); say so once, until the backlog is drained.
 * The alternative, libuv's reserve fd closed to accept and drop the
 * client, refuses connections that are better left waiting.
 */
static void
pause_accept(struct muxer *m, const struct mx_listener *l, int err,
    vsock_time_t now)
{
	char msg[256 + sizeof(l->path)];
	struct rlimit rl;

	m->stats.accept_backoffs++;
	m->accept_resume = now + MUXER_ACCEPT_PAUSE;
	update_listener(m);
	if (m->pause_logged || m->cfg.log == NULL)
		return;
	m->pause_logged = true;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		rl.rlim_cur = RLIM_INFINITY;
	snprintf(msg, sizeof(msg), "cannot accept on %s: %s (fd limit %lld); "
	    "host clients wait in the listen backlog until an fd is freed",
	    l->path, strerror(err), rl.rlim_cur == RLIM_INFINITY ? -1LL :
	    (long long)rl.rlim_cur);
	m->cfg.log(m->cfg.log_ctx, msg);
}

/* One of our fds was closed: if accept was paused, it may work now. */
static void
fd_freed(struct muxer *m)
{
	if (m->accept_resume != VSOCK_TIME_NEVER) {
		m->accept_resume = VSOCK_TIME_NEVER;
		update_listener(m);
	}
}

/* Takes e off the list of unfinished CONNECT lines. */
static void
line_unlink(struct muxer *m, struct mx_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		m->line_head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		m->line_tail = e->prev;
	e->prev = e->next = NULL;
	m->nlines--;
	update_listener(m);
}

/* Takes e off the retry list. */
static void
retry_unlink(struct muxer *m, struct mx_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		m->retry_head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		m->retry_tail = e->prev;
	e->prev = e->next = NULL;
	e->retrying = false;
}

/*
 * Puts e on the retry list, due at `at`; the list stays sorted, and a new
 * deadline is most often the latest, so the walk starts at the tail.
 */
static void
retry_at(struct muxer *m, struct mx_entry *e, vsock_time_t at)
{
	struct mx_entry *after = m->retry_tail;

	while (after != NULL && after->deadline > at)
		after = after->prev;
	e->deadline = at;
	e->prev = after;
	e->next = after != NULL ? after->next : m->retry_head;
	if (e->next != NULL)
		e->next->prev = e;
	else
		m->retry_tail = e;
	if (after != NULL)
		after->next = e;
	else
		m->retry_head = e;
	e->retrying = true;
}

/* Stops watching, closes and frees e. */
static void
drop_entry(struct muxer *m, struct mx_entry *e)
{
	set_watch(m, e, 0);
	if (e->kind == MX_LINE)
		line_unlink(m, e);
	if (e->retrying)
		retry_unlink(m, e);
	m->by_fd[e->fd] = NULL;
	close(e->fd);
	free(e);
	fd_freed(m);
}

/* Fills sa with path; false when it does not fit sun_path. */
static bool
make_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return false;
	strcpy(sa->sun_path, path);
	return true;
}

/*
 * Claims l->path and listens there with a socket of that type. On failure
 * err gets one line; whatever was made is undone by close_listener.
 */
static int
open_listener(struct muxer *m, struct mx_listener *l, uint16_t type,
    char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int stype = type == VIRTIO_VSOCK_TYPE_SEQPACKET ? SOCK_SEQPACKET :
	    SOCK_STREAM;
	int e;

	if (l->path[0] == '\0' || !make_addr(&sa, l->path)) {
		snprintf(err, errlen, "socket path too long (max %zu bytes): "
		    "%s%s", sizeof(sa.sun_path) - 1, m->path,
		    type == VIRTIO_VSOCK_TYPE_SEQPACKET ? SEQPACKET_SUFFIX : "");
		return -VSE_ERR_INVAL;
	}
	if ((e = uds_path_prepare(l->path, err, errlen)) < 0)
		return e;
	l->e.fd = socket(AF_UNIX, stype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->e.fd < 0 || bind(l->e.fd, (struct sockaddr *)&sa,
	    sizeof(sa)) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot bind %s: %s", l->path,
		    strerror(e));
		errno = e;
		return -VSE_ERR_SYSTEM;
	}
	l->created = true;
	if (listen(l->e.fd, SOMAXCONN) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot listen on %s: %s", l->path,
		    strerror(e));
		errno = e;
		return -VSE_ERR_SYSTEM;
	}
	l->e.kind = MX_LISTENER;
	l->e.type = type;
	if ((e = track(m, &l->e)) < 0) {
		snprintf(err, errlen, "out of memory");
		return e;
	}
	return 0;
}

/* Stops watching, closes and removes a listener (any part of it). */
static void
close_listener(struct muxer *m, struct mx_listener *l)
{
	if (l->e.fd >= 0) {
		set_watch(m, &l->e, 0);
		if (l->e.fd < m->nfds)
			m->by_fd[l->e.fd] = NULL;
		close(l->e.fd);
		l->e.fd = -1;
	}
	if (l->created)
		unlink(l->path);
	l->created = false;
}

int
muxer_new(const struct muxer_config *cfg, muxer_watch_fn watch,
    void *watch_ctx, struct muxer **out, char *err, size_t errlen)
{
	struct mx_listener *main_ls, *seq_ls;
	struct muxer *m;
	int i, n, e;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -VSE_ERR_NOMEM;
	m->cfg = *cfg;
	m->accept_resume = VSOCK_TIME_NEVER;
	m->watch = watch;
	m->watch_ctx = watch_ctx;
	main_ls = &m->ls[MX_MAIN];
	seq_ls = &m->ls[MX_SEQPACKET];
	main_ls->e.fd = seq_ls->e.fd = -1;
	m->path = main_ls->path;
	n = snprintf(main_ls->path, sizeof(main_ls->path), "%s",
	    cfg->uds_path);
	if (n < 0 || (size_t)n >= sizeof(main_ls->path)) {
		snprintf(err, errlen, "socket path too long (max %zu bytes): "
		    "%s", sizeof(main_ls->path) - 1, cfg->uds_path);
		free(m);
		return -VSE_ERR_INVAL;
	}
	m->cfg.uds_path = m->path;
	/* PATH.seqpacket, or "" when it cannot fit (then refused below). */
	n = snprintf(seq_ls->path, sizeof(seq_ls->path), "%s%s", m->path,
	    SEQPACKET_SUFFIX);
	if (n < 0 || (size_t)n >= sizeof(seq_ls->path))
		seq_ls->path[0] = '\0';
	/* The STREAM main socket stays Firecracker's; SEQPACKET beside it. */
	e = open_listener(m, main_ls, VIRTIO_VSOCK_TYPE_STREAM, err, errlen);
	if (e == 0 && cfg->seqpacket)
		e = open_listener(m, seq_ls, VIRTIO_VSOCK_TYPE_SEQPACKET, err,
		    errlen);
	if (e < 0) {
		int sys_errno = errno;	/* for -VSE_ERR_SYSTEM's caller */

		for (i = 0; i < MX_NLISTENERS; i++)
			close_listener(m, &m->ls[i]);
		free(m->by_fd);
		free(m);
		errno = sys_errno;
		return e;
	}
	update_listener(m);
	*out = m;
	return 0;
}

void
muxer_attach(struct muxer *m, struct vsock_device *dev)
{
	m->dev = dev;
}

void
muxer_free(struct muxer *m)
{
	int fd, i;

	if (m == NULL)
		return;
	for (fd = 0; fd < m->nfds; fd++) {
		struct mx_entry *e = m->by_fd[fd];

		if (e == NULL || e->kind == MX_LISTENER)
			continue;
		/* Connections still open here were never handed to a device. */
		drop_entry(m, e);
	}
	for (i = 0; i < MX_NLISTENERS; i++)
		close_listener(m, &m->ls[i]);
	free(m->by_fd);
	free(m);
}

/* --- host-initiated: the main socket and CONNECT lines --- */

/*
 * Accepts what waits on a listener, bounded per event and by the cap on
 * unfinished lines (neither Firecracker nor Cloud Hypervisor bounds
 * these).
 */
static void
accept_hosts(struct muxer *m, struct mx_listener *l, vsock_time_t now)
{
	struct mx_entry *e;
	int i, fd;

	for (i = 0; i < 64 && m->nlines < m->cfg.max_pending; i++) {
		fd = accept4(l->e.fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;	/* that client is gone; the next */
		if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			m->pause_logged = false;	/* all caught up */
			break;
		}
		if (fd < 0) {
			pause_accept(m, l, errno, now);
			return;
		}
		m->stats.accepted++;
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			close(fd);
			continue;
		}
		e->fd = fd;
		e->kind = MX_LINE;
		e->type = l->e.type;
		e->deadline = now + m->cfg.line_timeout;
		if (track(m, e) < 0) {
			close(fd);
			free(e);
			continue;
		}
		e->prev = m->line_tail;
		if (m->line_tail != NULL)
			m->line_tail->next = e;
		else
			m->line_head = e;
		m->line_tail = e;
		m->nlines++;
		set_watch(m, e, VSOCK_EV_READ);
	}
	if (m->nlines >= m->cfg.max_pending)
		m->stats.pending_deferred++;
	update_listener(m);
}

static void fit_message_size(int fd, uint32_t msg_max);

/* Closes a host client that never reached the device, saying why. */
static void
turn_away(struct muxer *m, struct mx_entry *e, enum muxer_refusal why,
    const char *line, size_t len, vsock_time_t now)
{
	if (m->cfg.refused != NULL)
		m->cfg.refused(m->cfg.refused_ctx, why, line,
		    len < CONNECT_LINE_MAX ? len : CONNECT_LINE_MAX, now);
	drop_entry(m, e);
}

/* The CONNECT line is complete: ask the device to connect to the guest. */
static void
start_host_conn(struct muxer *m, struct mx_entry *e, uint32_t port,
    vsock_time_t now)
{
	struct vsock_conn *c;
	int fd = e->fd;

	if (m->dev == NULL) {
		/* No guest now (between two front-ends): as if refused. */
		m->stats.no_device++;
		turn_away(m, e, MUXER_NO_DEVICE, e->line, e->line_len, now);
		return;
	}
	/* Off the line list, not yet watched: the device decides that. */
	set_watch(m, e, 0);
	line_unlink(m, e);
	e->kind = MX_HOST;
	m->stats.host_connects++;
	if (vsock_device_host_connect(m->dev, port, e->type, e, now,
	    &c) < 0) {
		/*
		 * Limit reached, no port, or SEQPACKET not negotiated
		 * (the guest would RST it): closed without a message.
		 */
		m->by_fd[fd] = NULL;
		close(fd);
		free(e);
		fd_freed(m);
		return;
	}
	/* The device may have released it already; then e is gone. */
	if (m->by_fd[fd] != e)
		return;
	e->conn = c;
	if (e->type == VIRTIO_VSOCK_TYPE_SEQPACKET)
		fit_message_size(fd, vsock_conn_buf_alloc(c));
}

/*
 * SEQPACKET: the first message is the whole line, "CONNECT <port>\n" and
 * nothing more, decided by the same parser: a message can neither wait for
 * the rest of a line nor carry data after it, which would be lost.
 * MSG_TRUNC gives a longer message's real length (and drops the rest).
 */
static void
read_line_message(struct muxer *m, struct mx_entry *e, vsock_time_t now)
{
	char buf[CONNECT_LINE_MAX];
	ssize_t n = recv(e->fd, buf, sizeof(buf), MSG_TRUNC);
	uint32_t port;
	size_t used, len = n > 0 ? (size_t)n : 0;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* "CONNECT <port> eor\n": the preload's opt-in to the EOR byte. */
	if (len > 0 && len <= sizeof(buf))
		e->eor = seq_frame_take_optin(buf, &len);
	if (n <= 0 || (size_t)n > sizeof(buf) ||
	    connect_line_parse(buf, len, &port, &used) !=
	    CONNECT_LINE_OK || used != len) {
		m->stats.bad_lines++;
		turn_away(m, e, MUXER_BAD_LINE, buf, n > 0 ? (size_t)n : 0,
		    now);
		return;
	}
	start_host_conn(m, e, port, now);
}

/*
 * Reads the CONNECT line without ever consuming a byte after its '\n':
 * peek, find the newline, then take exactly that much.
 */
static void
read_line(struct muxer *m, struct mx_entry *e, vsock_time_t now)
{
	char buf[CONNECT_LINE_MAX];
	size_t room = sizeof(e->line) - e->line_len, take;
	enum connect_line_result r;
	char *nl;
	ssize_t n;
	uint32_t port;
	size_t used;

	n = recv(e->fd, buf, room, MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* EOF (or an error) before the newline. */
		m->stats.bad_lines++;
		turn_away(m, e, MUXER_BAD_LINE, e->line, e->line_len, now);
		return;
	}
	nl = memchr(buf, '\n', (size_t)n);
	take = nl != NULL ? (size_t)(nl - buf) + 1 : (size_t)n;
	n = recv(e->fd, e->line + e->line_len, take, 0);
	if (n != (ssize_t)take) {
		m->stats.bad_lines++;
		turn_away(m, e, MUXER_BAD_LINE, e->line, e->line_len, now);
		return;
	}
	e->line_len += take;
	r = connect_line_parse(e->line, e->line_len, &port, &used);
	if (r == CONNECT_LINE_MORE)
		return;
	if (r == CONNECT_LINE_BAD) {
		m->stats.bad_lines++;
		turn_away(m, e, MUXER_BAD_LINE, e->line, e->line_len, now);
		return;
	}
	start_host_conn(m, e, port, now);
}

/* Sends what is left of "OK <port>\n"; 0 when all of it is out. */
static int
flush_ok(struct mx_entry *e)
{
	ssize_t n;

	while (e->ok_off < e->ok_len) {
		n = send(e->fd, e->ok + e->ok_off, e->ok_len - e->ok_off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? -EAGAIN : -errno;
		e->ok_off += (size_t)n;
	}
	return 0;
}

/* --- the backend ops --- */

/* The entry behind a device connection. */
static struct mx_entry *
entry_of(struct vsock_conn *c)
{
	return vsock_conn_backend_data(c);
}

/*
 * AF_UNIX SEQPACKET refuses a message longer than SO_SNDBUF - 32 bytes
 * (Linux: unix_dgram_sendmsg(), EMSGSIZE), and the default SO_SNDBUF
 * (net.core.wmem_default, 212992) is below a 256 KiB buf_alloc, while a
 * guest may send any message its credit allows (Linux delivers up to
 * buf_alloc). Raise SO_SNDBUF to fit msg_max: the kernel doubles the value
 * and caps it at net.core.wmem_max, which SO_SNDBUFFORCE may pass with
 * CAP_NET_ADMIN. Best effort: a message the socket still refuses resets
 * the connection (seqpacket_g2h_oversize).
 */
static void
fit_message_size(int fd, uint32_t msg_max)
{
	uint64_t need = (uint64_t)msg_max + 32;
	int want = need / 2 + 1 > INT_MAX / 2 ? INT_MAX / 2 :
	    (int)(need / 2 + 1), got;
	socklen_t len = sizeof(got);

	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len) == 0 &&
	    (uint64_t)got >= need)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
	len = sizeof(got);
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len) == 0 &&
	    (uint64_t)got >= need)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want));
}

/* Connects fd to path + suffix; -1 errno (ENAMETOOLONG: it does not fit). */
static int
connect_suffix(int fd, const char *path, const char *suffix)
{
	struct sockaddr_un sa;
	char full[sizeof(sa.sun_path) + 16];

	snprintf(full, sizeof(full), "%s%s", path, suffix);
	if (!make_addr(&sa, full)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return connect(fd, (struct sockaddr *)&sa, sizeof(sa));
}

/*
 * The listener files a guest connection to PATH_port tries, in order: the
 * opt-ins first (seq-frame.h's EOR byte, peer-line.h's PEER line), then
 * Firecracker's PATH_port, whose listener sees exactly the guest's bytes.
 */
static const char *const stream_suffixes[] = {
	"." PEER_LINE_OPTIN, "", NULL
};
static const char *const seqpacket_suffixes[] = {
	"." SEQ_FRAME_OPTIN "." PEER_LINE_OPTIN, "." SEQ_FRAME_OPTIN, "", NULL
};

/* MX_GUEST to an opted-in listener: "PEER <guest cid> <guest port>\n" first. */
static void
queue_peer_line(struct muxer *m, struct mx_entry *e, struct vsock_conn *c)
{
	uint8_t cfg[8];
	uint64_t cid = 0;
	int i, n;

	vsock_device_get_config(m->dev, cfg);	/* guest_cid, little-endian */
	for (i = 7; i >= 0; i--)
		cid = cid << 8 | cfg[i];
	n = snprintf(e->ok, sizeof(e->ok), "PEER %llu %u\n",
	    (unsigned long long)cid, vsock_conn_peer_port(c));
	e->ok_len = (size_t)n;
	e->ok_off = 0;
}

/* ops.connect: the guest connects to host port `port`: PATH_port. */
static int
op_connect(void *ctx, struct vsock_conn *c, uint32_t port, uint16_t type)
{
	struct muxer *m = ctx;
	struct sockaddr_un sa;
	char path[sizeof(sa.sun_path) + 16];
	const char *const *sfx;
	struct mx_entry *e;
	int fd, rc = -1, stype = type == VIRTIO_VSOCK_TYPE_SEQPACKET ?
	    SOCK_SEQPACKET : SOCK_STREAM;
	bool in_progress, wait;

	m->stats.guest_connects++;
	snprintf(path, sizeof(path), "%s_%u", m->path, port);
	if (!make_addr(&sa, path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, stype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (stype == SOCK_SEQPACKET)
		fit_message_size(fd, vsock_conn_buf_alloc(c));
	for (sfx = stype == SOCK_SEQPACKET ? seqpacket_suffixes :
	    stream_suffixes; *sfx != NULL; sfx++) {
		rc = connect_suffix(fd, path, *sfx);
		/* EAGAIN: a listener is there, queue full: it, not the next. */
		if (rc == 0 || errno == EINPROGRESS || errno == EAGAIN)
			break;
	}
	in_progress = rc < 0 && errno == EINPROGRESS;
	wait = rc < 0 && errno == EAGAIN && m->dev != NULL &&
	    vsock_device_rules(m->dev)->host_backlog_waits;
	if (rc < 0 && !in_progress && !wait) {
		/*
		 * ENOENT, ECONNREFUSED: RST in both profiles (Firecracker's
		 * UnixStream::connect fails too). EAGAIN, the accept queue
		 * full: RST under the linux profile, as Linux's
		 * virtio_transport_recv_listen() (sk_acceptq_is_full).
		 */
		int err = errno;

		close(fd);
		m->stats.guest_refused++;
		return -err;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	e->fd = fd;
	e->kind = MX_GUEST;
	e->type = type;
	e->conn = c;
	e->port = port;
	e->sfx = *sfx;
	e->eor = strstr(*sfx, "." SEQ_FRAME_OPTIN) != NULL;
	if (strstr(*sfx, "." PEER_LINE_OPTIN) != NULL)
		queue_peer_line(m, e, c);
	if (track(m, e) < 0) {
		close(fd);
		free(e);
		return -ENOMEM;
	}
	vsock_conn_set_backend_data(c, e);
	if (wait) {
		/*
		 * Firecracker's blocking connect would wait here: the guest's
		 * REQUEST waits unanswered, retried from muxer_run, which
		 * knows the time (first at its next call), bounded by the
		 * device's request timeout (new_guest_conn() arms it for
		 * -EINPROGRESS) and in number by its connection limit.
		 */
		m->stats.guest_backlog_waits++;
		e->connecting = true;
		e->retry_gap = MUXER_RETRY_FIRST;
		retry_at(m, e, 0);
		return -EINPROGRESS;
	}
	if (in_progress) {
		e->connecting = true;
		set_watch(m, e, VSOCK_EV_WRITE);
		return -EINPROGRESS;
	}
	(void)flush_ok(e);	/* the rest, if any, before the guest's data */
	return 0;
}

/* ops.established: the guest accepted a host-initiated connection. */
static void
op_established(void *ctx, struct vsock_conn *c)
{
	struct mx_entry *e = entry_of(c);
	int n;

	(void)ctx;
	/* Firecracker: "OK <local port>\n" before any guest data. */
	n = snprintf(e->ok, sizeof(e->ok), "OK %u\n",
	    vsock_conn_local_port(c));
	e->ok_len = (size_t)n;
	e->ok_off = 0;
	(void)flush_ok(e);
}

/*
 * Why a write to the application's socket fails with EPIPE: AF_UNIX says so
 * both when the application shut down reading and when it closed; only a
 * close also hangs the socket up (its peer's shutdown is then complete).
 * We never write after our own shutdown(SHUT_WR).
 */
static ssize_t
write_refused(int fd)
{
	struct pollfd p = { .fd = fd, .events = 0 };

	if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)))
		return -ECONNRESET;	/* closed: VSOCK_HOST_CLOSE_UNREAD */
	return -EPIPE;			/* shutdown(SHUT_RD): VSOCK_HOST_SHUT_RD */
}

/* ops.write: guest bytes to the host socket; never SIGPIPE. */
static ssize_t
op_write(void *ctx, struct vsock_conn *c, const struct iovec *iov, int iovcnt,
    uint32_t flags)
{
	struct mx_entry *e = entry_of(c);
	struct msghdr msg = { .msg_iov = (struct iovec *)iov,
	    .msg_iovlen = (size_t)iovcnt };
	ssize_t n;
	int r;

	(void)ctx;
	if ((r = flush_ok(e)) < 0)
		return r;
	/* Plain AF_UNIX SEQPACKET has no EOR; an opted-in peer gets the byte. */
	if (e->eor)
		n = seq_frame_sendmsg(e->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT,
		    flags & VIRTIO_VSOCK_SEQ_EOR, sendmsg);
	else if (iovcnt == 1)
		/*
		 * One buffer (a packet alone, or the txbuf's one run): send
		 * spares the kernel copying in a msghdr and an iovec
		 * (__sys_sendto against ___sys_sendmsg), same flags.
		 */
		n = send(e->fd, iov[0].iov_base, iov[0].iov_len,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
	else
		n = sendmsg(e->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && errno == EPIPE)
		return write_refused(e->fd);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN :
		    -errno;
	return n;
}

/* Did the host close (AF_UNIX reports POLLHUP only once both ways are over)? */
static bool
host_hung_up(int fd)
{
	struct pollfd p = { .fd = fd, .events = 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
}

/* ops.read: host bytes (or one whole message) for the guest. */
static ssize_t
op_read(void *ctx, struct vsock_conn *c, const struct iovec *iov, int iovcnt,
    uint32_t *flags)
{
	struct mx_entry *e = entry_of(c);
	struct msghdr msg = { .msg_iov = (struct iovec *)iov,
	    .msg_iovlen = (size_t)iovcnt };
	size_t room = 0;
	bool eor = false;
	char drop;
	ssize_t n;
	int i;

	(void)ctx;
	*flags = 0;
	if (vsock_conn_type(c) == VIRTIO_VSOCK_TYPE_SEQPACKET) {
		/* Learn the message's size first: never truncate one. */
		for (i = 0; i < iovcnt; i++)
			room += iov[i].iov_len;
		n = recv(e->fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? -EAGAIN : -errno;
		if (e->eor && n == 1) {
			/* The flag byte alone: Linux sends no empty RW. */
			(void)recv(e->fd, &drop, 1, MSG_DONTWAIT);
			return -EAGAIN;
		}
		if (e->eor && n > 0)
			n--;	/* the flag byte */
		if ((size_t)n > room)
			return -EMSGSIZE;
	}
	if (e->eor)
		n = seq_frame_recvmsg(e->fd, &msg, MSG_DONTWAIT, &eor, recvmsg);
	else if (iovcnt == 1)
		/* As op_write: one buffer needs no msghdr (__sys_recvfrom). */
		n = recv(e->fd, iov[0].iov_base, iov[0].iov_len, MSG_DONTWAIT);
	else
		n = recvmsg(e->fd, &msg, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN :
		    -errno;
	if (eor)
		*flags = VIRTIO_VSOCK_SEQ_EOR;
	/*
	 * An EOF from a host that closed, read before its hang-up was
	 * handled: not yet. The hang-up (always watched, level-triggered)
	 * tells the device of the close first, so the guest gets one
	 * SHUTDOWN(RCV|SEND) as from Linux's close(), never SHUTDOWN(SEND)
	 * and RCV later: in between a guest write would not fail with EPIPE.
	 */
	if (n == 0 && !e->hup && host_hung_up(e->fd))
		return -EAGAIN;
	/*
	 * A stream read that filled less than it was given emptied the
	 * socket (AF_UNIX's unix_stream_read_generic stops short only when
	 * the queue is empty, or at another writer's credentials, which
	 * epoll then reports again): no read that finds nothing after it.
	 * Not after a hang-up: the socket is no longer watched, nothing will
	 * report it again, and the EOF that read finds is the close.
	 */
	if (n > 0 && !e->eor && !e->hup && vsock_conn_type(c) ==
	    VIRTIO_VSOCK_TYPE_STREAM) {
		for (i = 0; i < iovcnt; i++)
			room += iov[i].iov_len;
		if ((size_t)n < room)
			*flags |= VSOCK_READ_DRAINED;
	}
	return n;
}

/* ops.shutdown: the guest shut a direction; pass it on. */
_Static_assert(VSOCK_SHUT_RD == SHUT_RD && VSOCK_SHUT_WR == SHUT_WR,
    "the device's shutdown directions are shutdown(2)'s");
static void
op_shutdown(void *ctx, struct vsock_conn *c, int how)
{
	(void)ctx;
	shutdown(entry_of(c)->fd, how);
}

/* ops.want: the device's interest becomes the loop's. */
static void
op_want(void *ctx, struct vsock_conn *c, unsigned events)
{
	struct muxer *m = ctx;
	struct mx_entry *e = entry_of(c);
	unsigned ev = 0;

	e->dev_want = events;
	if (e->connecting)
		return;
	if (events & VSOCK_EV_READ)
		ev |= VSOCK_EV_READ;
	if ((events & VSOCK_EV_WRITE) || e->ok_off < e->ok_len)
		ev |= VSOCK_EV_WRITE;
	/*
	 * Wanting nothing, the device must still learn when the application
	 * closes (after its EOF it reads no more, yet the close has its own
	 * SHUTDOWN): hang-ups and errors only.
	 */
	set_watch(m, e, ev != 0 ? ev : VSOCK_EV_HUP);
}

/* ops.release: close the host socket (refused host connects: no message). */
static void
op_release(void *ctx, struct vsock_conn *c, enum vsock_release why)
{
	struct muxer *m = ctx;
	struct mx_entry *e = entry_of(c);

	(void)why;
	if (e != NULL)
		drop_entry(m, e);
}

const struct vsock_backend_ops muxer_backend_ops = {
	.connect = op_connect,
	.established = op_established,
	.write = op_write,
	.read = op_read,
	.shutdown = op_shutdown,
	.want = op_want,
	.release = op_release,
	/* sendmsg takes an iovec: one syscall for a run's packets. */
	.write_gathers = true,
};

/* --- events --- */

/* A connection's socket has news: pass it to the device. */
static void
conn_event(struct muxer *m, struct mx_entry *e, unsigned events,
    vsock_time_t now)
{
	struct vsock_conn *c = e->conn;
	int fd = e->fd;
	int err = 0;
	socklen_t len = sizeof(err);

	if (e->connecting) {
		if (!(events & (VSOCK_EV_WRITE | VSOCK_EV_HUP | VSOCK_EV_ERR)))
			return;
		e->connecting = false;
		set_watch(m, e, 0);
		if (getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		vsock_device_host_connected(m->dev, c, -err, now);
		return;
	}
	if (events & (VSOCK_EV_ERR | VSOCK_EV_HUP)) {
		/*
		 * The application closed (or shut down both ways: AF_UNIX
		 * cannot tell, nor, once we shut down writing too, from its
		 * own SHUT_WR). Stop watching: a hang-up is reported until the
		 * fd is closed. The device reads what is left, then closes.
		 * ECONNRESET: it closed with our bytes unread; any other
		 * error ends the connection.
		 */
		if (getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		e->hup = true;
		set_watch(m, e, 0);
		vsock_device_host_event(m->dev, c, err == 0 ? VSOCK_HOST_CLOSE :
		    err == ECONNRESET ? VSOCK_HOST_CLOSE_UNREAD :
		    VSOCK_HOST_ABORT, now);
		return;
	}
	if ((events & VSOCK_EV_WRITE) && e->ok_off < e->ok_len) {
		if (flush_ok(e) == 0)
			op_want(m, c, e->dev_want);
	}
	if (events & VSOCK_EV_WRITE)
		vsock_device_host_writable(m->dev, c, now);
	/*
	 * The device may have released c and freed e above (a failed flush
	 * kills the connection): look e up by the fd saved before, never
	 * through e. Nothing in a flush opens an entry, so the fd cannot
	 * have been reused for another one meanwhile.
	 */
	if ((events & VSOCK_EV_READ) && m->by_fd[fd] == e)
		vsock_device_host_readable(m->dev, c, now);
}

void
muxer_handle(struct muxer *m, int fd, unsigned events, vsock_time_t now)
{
	struct mx_entry *e;

	if (fd < 0 || fd >= m->nfds || (e = m->by_fd[fd]) == NULL)
		return;
	switch (e->kind) {
	case MX_LISTENER:
		/* e is the first member of its mx_listener. */
		accept_hosts(m, (struct mx_listener *)e, now);
		break;
	case MX_LINE:
		if (!(events & (VSOCK_EV_READ | VSOCK_EV_HUP | VSOCK_EV_ERR)))
			break;
		if (e->type == VIRTIO_VSOCK_TYPE_SEQPACKET)
			read_line_message(m, e, now);
		else
			read_line(m, e, now);
		break;
	case MX_HOST:
	case MX_GUEST:
		if (e->conn != NULL)
			conn_event(m, e, events, now);
		break;
	}
}

vsock_time_t
muxer_next_deadline(const struct muxer *m)
{
	vsock_time_t line = m->line_head != NULL ? m->line_head->deadline :
	    VSOCK_TIME_NEVER;
	vsock_time_t retry = m->retry_head != NULL ?
	    m->retry_head->deadline : VSOCK_TIME_NEVER;

	if (retry < line)
		line = retry;
	return line < m->accept_resume ? line : m->accept_resume;
}

/*
 * Connects a waiting guest connection again (op_connect): in, the device
 * answers RESPONSE; the queue still full, later; anything else (the
 * listener closed or gone), RST. Telling the device may release this and
 * other entries: the caller re-reads the list.
 */
static void
retry_connect(struct muxer *m, struct mx_entry *e, vsock_time_t now)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];
	int err = 0;

	retry_unlink(m, e);
	snprintf(path, sizeof(path), "%s_%u", m->path, e->port);
	if (connect_suffix(e->fd, path, e->sfx) < 0) {
		err = errno;
		if (err == EAGAIN || err == EINTR) {
			retry_at(m, e, now + e->retry_gap);
			e->retry_gap = e->retry_gap < MUXER_RETRY_MAX / 2 ?
			    e->retry_gap * 2 : MUXER_RETRY_MAX;
			return;
		}
		m->stats.guest_refused++;
	}
	e->connecting = false;
	vsock_device_host_connected(m->dev, e->conn, -err, now);
}

void
muxer_run(struct muxer *m, vsock_time_t now)
{
	struct mx_entry *e;

	if (m->accept_resume <= now) {
		m->accept_resume = VSOCK_TIME_NEVER;
		update_listener(m);
	}
	/* Every retry due; a failed one goes back at a later time. */
	while ((e = m->retry_head) != NULL && e->deadline <= now) {
		if (m->dev == NULL) {
			/* Cannot be: freeing the device released them. */
			retry_unlink(m, e);
			continue;
		}
		retry_connect(m, e, now);
	}
	/* Lines time out in arrival order: the list is sorted. */
	while (m->line_head != NULL && m->line_head->deadline <= now) {
		m->stats.line_timeouts++;
		turn_away(m, m->line_head, MUXER_LINE_TIMEOUT,
		    m->line_head->line, m->line_head->line_len, now);
	}
}

const struct muxer_stats *
muxer_stats(const struct muxer *m)
{
	return &m->stats;
}

int
muxer_listen_fd(const struct muxer *m)
{
	return m->ls[MX_MAIN].e.fd;
}

const char *
muxer_seqpacket_path(const struct muxer *m)
{
	return m->ls[MX_SEQPACKET].e.fd >= 0 ? m->ls[MX_SEQPACKET].path :
	    NULL;
}

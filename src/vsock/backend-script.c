/* backend-script.c - the scripted host application: memory buffers, error injection, no I/O. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backend-script.h"
#include "error.h"

uint64_t
script_hash(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* One period of the pattern plus 64 KiB, so any window is contiguous. */
static uint8_t pattern_table[SCRIPT_PATTERN_PERIOD + 65536];
/*
 * Built once, on first use, by whichever thread comes first: with serve
 * --guest-thread the guest's services (one thread) and the scripted host
 * (another) both use it, and a plain flag was a data race (TSan).
 */
static pthread_once_t pattern_once = PTHREAD_ONCE_INIT;

static void
pattern_build(void)
{
	size_t i;

	for (i = 0; i < sizeof(pattern_table); i++) {
		size_t k = i % SCRIPT_PATTERN_PERIOD;

		pattern_table[i] = (uint8_t)(k * 131 + (k >> 8) * 7 + 1);
	}
}

static void
pattern_init(void)
{
	(void)pthread_once(&pattern_once, pattern_build);
}

void
script_pattern_fill(uint64_t off, void *dst, size_t n)
{
	uint8_t *d = dst;

	pattern_init();
	while (n > 0) {
		size_t at = (size_t)(off % SCRIPT_PATTERN_PERIOD);
		size_t k = n < 65536 ? n : 65536;

		memcpy(d, pattern_table + at, k);
		d += k;
		off += k;
		n -= k;
	}
}

bool
script_pattern_check(uint64_t off, const void *src, size_t n)
{
	const uint8_t *s = src;

	pattern_init();
	while (n > 0) {
		size_t at = (size_t)(off % SCRIPT_PATTERN_PERIOD);
		size_t k = n < 65536 ? n : 65536;

		if (memcmp(s, pattern_table + at, k) != 0)
			return false;
		s += k;
		off += k;
		n -= k;
	}
	return true;
}

void
script_init(struct script_backend *sb)
{
	memset(sb, 0, sizeof(*sb));
	sb->default_keep_in = true;
}

/* Frees one application end and what it holds. */
static void
script_conn_free(struct script_conn *sc)
{
	free(sc->in);
	free(sc->out);
	free(sc->in_msg);
	free(sc->out_msg);
	free(sc);
}

void
script_free(struct script_backend *sb)
{
	struct script_conn *sc, *next;

	for (sc = sb->conns; sc != NULL; sc = next) {
		next = sc->next;
		script_conn_free(sc);
	}
	sb->conns = NULL;
}

unsigned
script_reap(struct script_backend *sb)
{
	struct script_conn **pp = &sb->conns, *sc;
	unsigned n = 0;

	while ((sc = *pp) != NULL) {
		if (sc->released != 0 && sc->conn == NULL && sc->user == NULL) {
			*pp = sc->next;
			script_conn_free(sc);
			sb->nconns--;
			n++;
		} else {
			pp = &sc->next;
		}
	}
	return n;
}

void
script_attach(struct script_backend *sb, struct vsock_device *dev)
{
	sb->dev = dev;
}

int
script_listen(struct script_backend *sb, uint32_t port,
    enum script_listen_mode mode)
{
	unsigned i;

	for (i = 0; i < sb->nlisten; i++)
		if (sb->listen[i].port == port) {
			sb->listen[i].mode = mode;
			return 0;
		}
	if (sb->nlisten == SCRIPT_MAX_LISTENERS)
		return -VSE_ERR_NOMEM;
	sb->listen[sb->nlisten].port = port;
	sb->listen[sb->nlisten].mode = mode;
	sb->nlisten++;
	return 0;
}

void
script_listen_all(struct script_backend *sb, enum script_listen_mode mode)
{
	sb->listen_all = true;
	sb->listen_all_mode = mode;
}

/* A new application end, linked in newest first. */
static struct script_conn *
new_script_conn(struct script_backend *sb, uint32_t host_port,
    uint32_t guest_port, uint16_t type)
{
	struct script_conn *sc = calloc(1, sizeof(*sc));

	if (sc == NULL)
		return NULL;
	sc->host_port = host_port;
	sc->guest_port = guest_port;
	sc->type = type;
	/* Message tables only where there are messages: idle STREAM is small. */
	if (type == VIRTIO_VSOCK_TYPE_SEQPACKET &&
	    ((sc->in_msg = calloc(SCRIPT_MAX_MSGS, sizeof(*sc->in_msg))) ==
	    NULL || (sc->out_msg = calloc(SCRIPT_MAX_MSGS,
	    sizeof(*sc->out_msg))) == NULL)) {
		free(sc->in_msg);
		free(sc);
		return NULL;
	}
	sc->keep_in = sb->default_keep_in;
	sc->in_limit = sb->default_in_limit;
	sc->in_gated = sb->default_in_gated;
	sc->in_hash = SCRIPT_HASH_INIT;
	sc->next = sb->conns;
	sb->conns = sc;
	sb->nconns++;
	return sc;
}

struct script_conn *
script_find(struct script_backend *sb, uint32_t host_port,
    uint32_t guest_port)
{
	struct script_conn *sc;

	for (sc = sb->conns; sc != NULL; sc = sc->next)
		if (sc->host_port == host_port && sc->guest_port == guest_port)
			return sc;
	return NULL;
}

/* ops.connect: the guest connects to a host port. */
static int
op_connect(void *ctx, struct vsock_conn *c, uint32_t port, uint16_t type)
{
	struct script_backend *sb = ctx;
	struct script_conn *sc;
	enum script_listen_mode mode = sb->listen_all_mode;
	unsigned i;

	sb->connects++;
	for (i = 0; i < sb->nlisten; i++)
		if (sb->listen[i].port == port)
			break;
	if (i < sb->nlisten)
		mode = sb->listen[i].mode;
	if ((i == sb->nlisten && !sb->listen_all) || mode == SCRIPT_REFUSE) {
		sb->refusals++;
		return -ECONNREFUSED;
	}
	sc = new_script_conn(sb, port, vsock_conn_peer_port(c), type);
	if (sc == NULL)
		return -ENOMEM;
	sc->conn = c;
	vsock_conn_set_backend_data(c, sc);
	if (mode == SCRIPT_PENDING)
		return -EINPROGRESS;
	sc->established = true;
	return 0;
}

/* ops.established: the guest accepted our connection. */
static void
op_established(void *ctx, struct vsock_conn *c)
{
	struct script_conn *sc = vsock_conn_backend_data(c);

	(void)ctx;
	if (sc != NULL)
		sc->established = true;
}

/* Room the application's receive buffer has left. */
static size_t
in_room(const struct script_conn *sc)
{
	uint64_t unread = sc->in_total - sc->in_consumed;
	size_t room = SIZE_MAX;

	if (sc->in_limit != 0)
		room = unread >= sc->in_limit ? 0 :
		    sc->in_limit - (size_t)unread;
	if (sc->in_gated && sc->in_allow - sc->in_total < room)
		room = (size_t)(sc->in_allow - sc->in_total);
	return room;
}

/* Stores (or hashes) n received bytes. */
static int
take_in(struct script_conn *sc, const uint8_t *p, size_t n)
{
	if (sc->keep_in) {
		if (sc->in_len + n > sc->in_cap) {
			size_t cap = sc->in_cap ? sc->in_cap : 4096;
			uint8_t *q;

			while (cap < sc->in_len + n)
				cap *= 2;
			if ((q = realloc(sc->in, cap)) == NULL)
				return -ENOMEM;
			sc->in = q;
			sc->in_cap = cap;
		}
		memcpy(sc->in + sc->in_len, p, n);
		sc->in_len += n;
	}
	if (sc->hash_in)
		sc->in_hash = script_hash(sc->in_hash, p, n);
	if (sc->verify_in && !script_pattern_check(sc->in_total, p, n))
		sc->in_mismatch = true;
	sc->in_total += n;
	return 0;
}

/* ops.write: guest data arrives at the application. */
static ssize_t
op_write(void *ctx, struct vsock_conn *c, const struct iovec *iov, int iovcnt,
    uint32_t flags)
{
	struct script_conn *sc = vsock_conn_backend_data(c);
	size_t total = 0, room, take, n;
	int i, e;

	(void)ctx;
	sc->writes++;
	if (sc->write_err != 0) {
		e = sc->write_err;
		sc->write_err = 0;
		/* ECONNRESET says the application closed: its data ends too. */
		if (e == -ECONNRESET)
			sc->out_eof = true;
		return e;
	}
	if (sc->app_shut_rd)
		return -EPIPE;	/* as a socket shut down for reading */
	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	room = in_room(sc);
	if (sc->write_max != 0 && room > sc->write_max)
		room = sc->write_max;
	if (sc->type == VIRTIO_VSOCK_TYPE_SEQPACKET) {
		/* A message is taken whole, or not yet. */
		if (total > room || sc->in_nmsgs == SCRIPT_MAX_MSGS)
			return -EAGAIN;
		sc->in_msg[sc->in_nmsgs].len = total;
		sc->in_msg[sc->in_nmsgs].flags = flags;
		sc->in_nmsgs++;
		room = total;
	}
	take = total < room ? total : room;
	if (take == 0 && total > 0)
		return -EAGAIN;
	for (i = 0, n = take; i < iovcnt && n > 0; i++) {
		size_t k = iov[i].iov_len < n ? iov[i].iov_len : n;

		if (take_in(sc, iov[i].iov_base, k) < 0)
			return -ENOMEM;
		n -= k;
	}
	return (ssize_t)take;
}

/* Copies up to limit pending bytes (buffer, then pattern) into iov. */
static size_t
give_bytes(struct script_conn *sc, const struct iovec *iov, int iovcnt,
    size_t limit)
{
	size_t done = 0;
	int i;

	for (i = 0; i < iovcnt && done < limit; i++) {
		uint8_t *dst = iov[i].iov_base;
		size_t want = iov[i].iov_len, k;

		if (want > limit - done)
			want = limit - done;
		if (sc->out_off < sc->out_len) {
			k = sc->out_len - sc->out_off;
			k = k < want ? k : want;
			memcpy(dst, sc->out + sc->out_off, k);
			sc->out_off += k;
			dst += k;
			want -= k;
			done += k;
		}
		k = want < sc->out_pattern_left ? want :
		    (size_t)sc->out_pattern_left;
		/* Not for nothing: the first fill builds the 128 KiB table. */
		if (k > 0)
			script_pattern_fill(sc->out_pattern_pos, dst, k);
		sc->out_pattern_pos += k;
		sc->out_pattern_left -= k;
		done += k;
		if (k < want)
			break;
	}
	return done;
}

/* Gives the next SEQPACKET message, whole, or -EMSGSIZE untouched. */
static ssize_t
give_message(struct script_conn *sc, const struct iovec *iov, int iovcnt,
    uint32_t *flags)
{
	const struct script_msg *m;
	size_t room = 0;
	int i;

	if (sc->out_nmsgs == 0)
		return sc->out_eof ? 0 : -EAGAIN;
	m = &sc->out_msg[sc->out_msg_head];
	for (i = 0; i < iovcnt; i++)
		room += iov[i].iov_len;
	if (m->len > room)
		return -EMSGSIZE;
	give_bytes(sc, iov, iovcnt, m->len);
	*flags = m->flags;
	sc->out_msg_head = (sc->out_msg_head + 1) % SCRIPT_MAX_MSGS;
	sc->out_nmsgs--;
	return (ssize_t)m->len;
}

/*
 * Did a STREAM read of n bytes empty what the application sent, so that
 * the next read would say -EAGAIN (not EOF, not an injected error)? Only
 * when it filled less than it was given, as the muxer's rule
 * (backend-muxer.c, op_read): a read that filled its buffers may have
 * been cut by the guest's credit, and the device then owes a
 * CREDIT_REQUEST for data that may wait (device-rx.c, make_rw).
 */
static bool
drained(const struct script_conn *sc, const struct iovec *iov, int iovcnt,
    size_t n)
{
	size_t room = 0;
	int i;

	for (i = 0; i < iovcnt; i++)
		room += iov[i].iov_len;
	return n < room && sc->out_off == sc->out_len &&
	    sc->out_pattern_left == 0 && !sc->out_eof && sc->read_err == 0;
}

/* ops.read: the application's data for the guest. */
static ssize_t
op_read(void *ctx, struct vsock_conn *c, const struct iovec *iov, int iovcnt,
    uint32_t *flags)
{
	const struct script_backend *sb = ctx;
	struct script_conn *sc = vsock_conn_backend_data(c);
	size_t n;
	int e;

	sc->reads++;
	*flags = 0;
	if (sc->read_err != 0) {
		e = sc->read_err;
		sc->read_err = 0;
		return e;
	}
	if (sc->type == VIRTIO_VSOCK_TYPE_SEQPACKET)
		return give_message(sc, iov, iovcnt, flags);
	n = give_bytes(sc, iov, iovcnt, SIZE_MAX);
	if (n > 0) {
		if (sb != NULL && sb->report_drained &&
		    drained(sc, iov, iovcnt, n))
			*flags |= VSOCK_READ_DRAINED;
		return (ssize_t)n;
	}
	return sc->out_eof ? 0 : -EAGAIN;
}

/*
 * ops.readable: what op_read would give a STREAM now, the bytes sent and
 * the pattern's (SEQPACKET reads whole messages and never asks).
 */
static uint64_t
op_readable(void *ctx, struct vsock_conn *c)
{
	const struct script_conn *sc = vsock_conn_backend_data(c);
	uint64_t sent = sc->out_len - sc->out_off;

	(void)ctx;
	/* The pattern's count comes from a script: no wrap past 2^64. */
	return sent > UINT64_MAX - sc->out_pattern_left ? UINT64_MAX :
	    sent + sc->out_pattern_left;
}

/* ops.shutdown: the guest shut a direction. */
static void
op_shutdown(void *ctx, struct vsock_conn *c, int how)
{
	struct script_conn *sc = vsock_conn_backend_data(c);

	(void)ctx;
	if (how == VSOCK_SHUT_WR)
		sc->shut_wr = true;
	else if (how == VSOCK_SHUT_RD)
		sc->shut_rd = true;
}

/* ops.want: remembered for tests (no event loop here). */
static void
op_want(void *ctx, struct vsock_conn *c, unsigned events)
{
	struct script_conn *sc = vsock_conn_backend_data(c);

	(void)ctx;
	if (sc != NULL)
		sc->want = events;
}

/* ops.release: the connection is gone; keep the record for inspection. */
static void
op_release(void *ctx, struct vsock_conn *c, enum vsock_release why)
{
	struct script_conn *sc = vsock_conn_backend_data(c);

	(void)ctx;
	if (sc == NULL)
		return;
	sc->released = 1 + (int)why;
	sc->conn = NULL;
}

const struct vsock_backend_ops script_backend_ops = {
	.connect = op_connect,
	.established = op_established,
	.write = op_write,
	.read = op_read,
	.readable = op_readable,
	.shutdown = op_shutdown,
	.want = op_want,
	.release = op_release,
};

int
script_connect(struct script_backend *sb, uint32_t guest_port, uint16_t type,
    vsock_time_t now, struct script_conn **out)
{
	struct script_conn *sc = new_script_conn(sb, 0, guest_port, type);
	struct vsock_conn *c;
	int e;

	*out = NULL;
	if (sc == NULL)
		return -VSE_ERR_NOMEM;
	sc->host_initiated = true;
	e = vsock_device_host_connect(sb->dev, guest_port, type, sc, now, &c);
	if (e < 0) {
		sc->released = 1 + VSOCK_RELEASE_REFUSED;
		return e;
	}
	/* The device may already have resolved it; only link if alive. */
	if (sc->released == 0)
		sc->conn = c;
	sc->host_port = vsock_conn_local_port(c);
	*out = sc;
	return 0;
}

void
script_complete(struct script_backend *sb, struct script_conn *sc, int err,
    vsock_time_t now)
{
	if (sc->conn == NULL)
		return;
	if (err == 0)
		sc->established = true;
	vsock_device_host_connected(sb->dev, sc->conn, err, now);
}

int
script_send(struct script_backend *sb, struct script_conn *sc,
    const void *data, size_t len, uint32_t msg_flags, vsock_time_t now)
{
	uint8_t *q;

	if (sc->type == VIRTIO_VSOCK_TYPE_SEQPACKET) {
		if (sc->out_nmsgs == SCRIPT_MAX_MSGS)
			return -VSE_ERR_NOMEM;
		sc->out_msg[(sc->out_msg_head + sc->out_nmsgs) %
		    SCRIPT_MAX_MSGS] = (struct script_msg){ len, msg_flags };
		sc->out_nmsgs++;
	}
	if (sc->out_off == sc->out_len)
		sc->out_off = sc->out_len = 0;	/* all sent: reuse the buffer */
	if (len > sc->out_cap - sc->out_len) {
		size_t cap = sc->out_cap ? sc->out_cap : 4096;

		while (cap - sc->out_len < len)
			cap *= 2;
		if ((q = realloc(sc->out, cap)) == NULL)
			return -VSE_ERR_NOMEM;
		sc->out = q;
		sc->out_cap = cap;
	}
	if (len > 0) {
		memcpy(sc->out + sc->out_len, data, len);
		sc->out_len += len;
	}
	if (sc->conn != NULL)
		vsock_device_host_readable(sb->dev, sc->conn, now);
	return 0;
}

void
script_send_pattern(struct script_backend *sb, struct script_conn *sc,
    uint64_t n, vsock_time_t now)
{
	sc->out_pattern_left += n;
	if (sc->conn != NULL)
		vsock_device_host_readable(sb->dev, sc->conn, now);
}

void
script_shutdown_write(struct script_backend *sb, struct script_conn *sc,
    vsock_time_t now)
{
	sc->out_eof = true;
	if (sc->conn != NULL)
		vsock_device_host_readable(sb->dev, sc->conn, now);
}

void
script_host_event(struct script_backend *sb, struct script_conn *sc,
    enum vsock_host_event ev, vsock_time_t now)
{
	if (ev == VSOCK_HOST_SHUT_RD)
		sc->app_shut_rd = true;
	else
		sc->out_eof = true;
	if (sc->conn != NULL)
		vsock_device_host_event(sb->dev, sc->conn, ev, now);
}

void
script_shutdown_read(struct script_backend *sb, struct script_conn *sc,
    vsock_time_t now)
{
	script_host_event(sb, sc, VSOCK_HOST_SHUT_RD, now);
}

void
script_close(struct script_backend *sb, struct script_conn *sc, bool abort,
    vsock_time_t now)
{
	script_host_event(sb, sc, abort ? VSOCK_HOST_ABORT : VSOCK_HOST_CLOSE,
	    now);
}

void
script_allow_read(struct script_backend *sb, struct script_conn *sc,
    uint64_t n, vsock_time_t now)
{
	sc->in_allow += n;
	if (sc->conn != NULL)
		vsock_device_host_writable(sb->dev, sc->conn, now);
}

void
script_consume(struct script_backend *sb, struct script_conn *sc, uint64_t n,
    vsock_time_t now)
{
	uint64_t unread = sc->in_total - sc->in_consumed;

	sc->in_consumed += n < unread ? n : unread;
	if (sc->conn != NULL)
		vsock_device_host_writable(sb->dev, sc->conn, now);
}

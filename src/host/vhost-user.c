/* vhost-user.c - a validating vhost-user back-end for the vsock device (QEMU interop spec). */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "vhost-user-guard.h"
#include "vhost-user.h"
#include "virtio-ring.h"
#include "vsock-proto.h"

/* One memory region the front-end shared, and where we mapped it. */
struct vhu_region {
	uint64_t gpa, size, uaddr;	/* uaddr: the front-end's address */
	void *map;			/* our mmap of [0, mmap_offset + size) */
	size_t map_len;
	int guard;			/* vhu_guard_add handle, or -1 */
};

/* What the front-end told us about one ring so far. */
struct vhu_ring {
	uint32_t num;
	uint16_t base;
	uint64_t desc_ua, used_ua, avail_ua;	/* front-end addresses */
	bool have_addr;
	int kick_fd, call_fd, err_fd;
	bool kicked;		/* SET_VRING_KICK seen: the ring is started */
	bool enabled;
	bool running;		/* set up in the device */
};

struct vhu {
	struct vsock_device *dev;
	struct guestmem mem;
	struct vhu_region region[VHOST_USER_MAX_REGIONS];
	unsigned nregions;
	struct vhu_ring ring[VSOCK_NUM_QUEUES];
	uint64_t features;		/* acked, incl. PROTOCOL_FEATURES */
	uint64_t protocol_features;
	bool broken;			/* guest memory lost: sticky */
	unsigned long losses_seen;	/* vhu_guard_losses() at the last look */
	char why[192];			/* a refusal that names its region */
	vhu_log_fn log;
	void *log_ctx;
};

/* A message as read: header fields, payload, and the fds that came along. */
struct vhu_msg {
	uint32_t request, flags, size;
	union {
		uint8_t bytes[VHOST_USER_MAX_PAYLOAD];
		uint64_t u64;
	} p;
	int fds[VHOST_USER_MAX_REGIONS];
	unsigned nfds;
};

/* Closes *fd if open and forgets it. */
static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int
vhu_new(struct vsock_device *dev, struct vhu **out)
{
	struct vhu *v = calloc(1, sizeof(*v));
	unsigned q;

	*out = NULL;
	if (v == NULL)
		return -VSE_ERR_NOMEM;
	v->dev = dev;
	v->losses_seen = vhu_guard_losses();
	guestmem_init(&v->mem);
	for (q = 0; q < VSOCK_NUM_QUEUES; q++)
		v->ring[q].kick_fd = v->ring[q].call_fd = v->ring[q].err_fd =
		    -1;
	*out = v;
	return 0;
}

void
vhu_set_log(struct vhu *v, vhu_log_fn fn, void *ctx)
{
	v->log = fn;
	v->log_ctx = ctx;
}

/* Reports one event through the log hook, printf-style. */
static void __attribute__((format(printf, 2, 3)))
say(const struct vhu *v, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (v->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	v->log(v->log_ctx, line);
}

/* Takes queue q out of the device; returns its last avail index. */
static uint16_t
stop_ring(struct vhu *v, unsigned q)
{
	uint16_t last = v->ring[q].base;

	if (v->ring[q].running)
		vsock_device_queue_stop(v->dev, q, &last);
	v->ring[q].running = false;
	return last;
}

/* Unguards and unmaps every region; the table is empty after. */
static void
unmap_all(struct vhu *v)
{
	unsigned i;

	for (i = 0; i < v->nregions; i++) {
		vhu_guard_remove(v->region[i].guard);
		munmap(v->region[i].map, v->region[i].map_len);
	}
	v->nregions = 0;
	guestmem_init(&v->mem);
}

void
vhu_free(struct vhu *v)
{
	unsigned q;

	if (v == NULL)
		return;
	for (q = 0; q < VSOCK_NUM_QUEUES; q++) {
		stop_ring(v, q);
		close_fd(&v->ring[q].kick_fd);
		close_fd(&v->ring[q].call_fd);
		close_fd(&v->ring[q].err_fd);
	}
	unmap_all(v);
	free(v);
}

/* --- reading and replying --- */

/* Reads the header and its fds, then exactly size payload bytes. */
static int
read_msg(int sock, struct vhu_msg *m, const char **why)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_REGIONS)];
		struct cmsghdr align;
	} ctl;
	uint8_t hdr[VHOST_USER_HDR_SIZE];
	struct iovec iov = { hdr, sizeof(hdr) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	ssize_t n;
	size_t k, j;

	m->nfds = 0;
	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	/* Keep every fd that came, so each one is closed or used. */
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (j = 0; j < k && m->nfds < VHOST_USER_MAX_REGIONS; j++) {
			memcpy(&m->fds[m->nfds], CMSG_DATA(c) + j * sizeof(int),
			    sizeof(int));
			m->nfds++;
		}
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		*why = "more file descriptors than any message carries";
		return -VSE_ERR_INVAL;
	}
	if (n == 0) {
		*why = "front-end closed the connection";
		return -VSE_ERR_INVAL;
	}
	if (n != (ssize_t)sizeof(hdr)) {
		*why = "short message header";
		return -VSE_ERR_INVAL;
	}
	memcpy(&m->request, hdr, 4);
	memcpy(&m->flags, hdr + 4, 4);
	memcpy(&m->size, hdr + 8, 4);
	m->request = le32toh(m->request);
	m->flags = le32toh(m->flags);
	m->size = le32toh(m->size);
	if ((m->flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION) {
		*why = "unsupported vhost-user version";
		return -VSE_ERR_INVAL;
	}
	if (m->size > sizeof(m->p)) {
		*why = "payload larger than any message we accept";
		return -VSE_ERR_INVAL;
	}
	if (m->size > 0 && recv(sock, m->p.bytes, m->size, MSG_WAITALL) !=
	    (ssize_t)m->size) {
		*why = "short message payload";
		return -VSE_ERR_INVAL;
	}
	return 0;
}

/*
 * A front-end that sends requests and never reads the replies would block
 * us in send() forever (the whole loop, SIGTERM included): the caller sets
 * a send timeout, and a reply that cannot go out ends the session.
 */
static int
send_reply(int sock, const struct vhu_msg *m, const void *payload,
    uint32_t size, const char **why)
{
	uint8_t buf[VHOST_USER_HDR_SIZE + VHOST_USER_MAX_PAYLOAD];
	uint32_t req = htole32(m->request);
	uint32_t flags = htole32(VHOST_USER_VERSION | VHOST_USER_REPLY);
	uint32_t sz = htole32(size);

	memcpy(buf, &req, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &sz, 4);
	memcpy(buf + VHOST_USER_HDR_SIZE, payload, size);
	if (send(sock, buf, VHOST_USER_HDR_SIZE + size, MSG_NOSIGNAL) !=
	    (ssize_t)(VHOST_USER_HDR_SIZE + size)) {
		*why = "cannot send a reply: the front-end is not reading";
		return -VSE_ERR_INVAL;
	}
	return 0;
}

static int
reply_u64(int sock, const struct vhu_msg *m, uint64_t v, const char **why)
{
	v = htole64(v);
	return send_reply(sock, m, &v, sizeof(v), why);
}

/* --- rings --- */

/* Front-end address -> guest-physical, through the region table. */
static int
ua_to_gpa(const struct vhu *v, uint64_t ua, uint64_t *gpa)
{
	unsigned i;

	for (i = 0; i < v->nregions; i++) {
		const struct vhu_region *r = &v->region[i];

		if (ua >= r->uaddr && ua - r->uaddr < r->size) {
			*gpa = r->gpa + (ua - r->uaddr);
			return 0;
		}
	}
	return -VSE_ERR_VQ_RING_ADDR;
}

/*
 * Starts ring q in the device once it has everything: a size, addresses
 * inside guest memory, a kick (the spec's start), and, with protocol
 * features, SET_VRING_ENABLE 1.
 */
static int
maybe_start(struct vhu *v, unsigned q)
{
	struct vhu_ring *r = &v->ring[q];
	bool gated = v->features &
	    VIRTIO_FEATURE(VHOST_USER_F_PROTOCOL_FEATURES);
	uint64_t desc, avail, used;
	int e;

	if (r->running || !r->kicked || !r->have_addr || r->num == 0 ||
	    (gated && !r->enabled))
		return 0;
	if ((e = ua_to_gpa(v, r->desc_ua, &desc)) < 0 ||
	    (e = ua_to_gpa(v, r->avail_ua, &avail)) < 0 ||
	    (e = ua_to_gpa(v, r->used_ua, &used)) < 0 ||
	    (e = vsock_device_set_queue(v->dev, q, &v->mem, r->num, desc,
	    avail, used)) < 0)
		return e;
	vsock_device_queue_base(v->dev, q, r->base);
	r->running = true;
	return 0;
}

/* --- the messages --- */

/*
 * Seals fd against shrinking when it allows it and is not sealed so
 * already (QEMU's memory-backend-memfd seals GROW|SHRINK|SEAL by default;
 * with seal=off it does not even allow sealing): then no page we map can
 * vanish. Files that cannot be sealed (tmpfs or hugetlbfs files, memfds
 * without MFD_ALLOW_SEALING) rely on the SIGBUS guard.
 */
static void
seal_against_shrink(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals >= 0 && !(seals & (F_SEAL_SHRINK | F_SEAL_SEAL)))
		(void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
}

/*
 * Region i must lie inside its file, or the first access past the file's
 * end raises SIGBUS (issue 14: a 4 KiB memfd declared as 1 MiB). Checked
 * after sealing, so a sealed file stays as large as we saw it. Neither
 * Linux (its vhost walks the owner's own memory) nor libvhost-user checks
 * this. A file that is not regular (a character device) has no size to
 * check against: refused too.
 */
static int
region_inside_file(struct vhu *v, unsigned i, int fd, uint64_t off,
    uint64_t size, const char **why)
{
	struct stat st;

	seal_against_shrink(fd);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(v->why, sizeof(v->why), "memory region %u: its fd is "
		    "not a file (want a memfd, shm or hugetlbfs file)", i);
		*why = v->why;
		return -VSE_ERR_MEM_FD_SIZE;
	}
	if ((uint64_t)st.st_size < off + size) {
		snprintf(v->why, sizeof(v->why), "memory region %u: offset %"
		    PRIu64 " + size %" PRIu64 " is past the end of its file (%"
		    PRIu64 " bytes)", i, off, size, (uint64_t)st.st_size);
		*why = v->why;
		return -VSE_ERR_MEM_FD_SIZE;
	}
	return 0;
}

/* SET_MEM_TABLE: map every region's fd; replaces the previous table. */
static int
set_mem_table(struct vhu *v, struct vhu_msg *m, const char **why)
{
	uint32_t n, i;
	unsigned q;
	int e;

	memcpy(&n, m->p.bytes, 4);
	n = le32toh(n);
	if (m->size < 8 || n == 0 || n > VHOST_USER_MAX_REGIONS ||
	    m->size != 8 + 32 * n || m->nfds != n) {
		*why = "memory table: region count, size and fds disagree";
		return -VSE_ERR_INVAL;
	}
	for (q = 0; q < VSOCK_NUM_QUEUES; q++)
		stop_ring(v, q);
	unmap_all(v);
	for (i = 0; i < n; i++) {
		struct vhu_region *r = &v->region[i];
		uint64_t f[4], off;

		memcpy(f, m->p.bytes + 8 + 32 * i, 32);
		r->gpa = le64toh(f[0]);
		r->size = le64toh(f[1]);
		r->uaddr = le64toh(f[2]);
		off = le64toh(f[3]);
		if (r->size == 0 || off > SIZE_MAX - r->size ||
		    r->uaddr > UINT64_MAX - r->size) {
			*why = "memory region size or offset overflows";
			return -VSE_ERR_MEM_OVERFLOW;
		}
		if ((e = region_inside_file(v, i, m->fds[i], off, r->size,
		    why)) < 0)
			return e;
		r->map_len = (size_t)(off + r->size);
		r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE,
		    MAP_SHARED, m->fds[i], 0);
		if (r->map == MAP_FAILED) {
			*why = "cannot map a memory region";
			return -VSE_ERR_NOMEM;
		}
		r->guard = vhu_guard_add(r->map, r->map_len);
		v->nregions++;
		if (r->guard < 0) {
			*why = "no SIGBUS guard for a memory region";
			return r->guard;
		}
		e = guestmem_add_region(&v->mem, r->gpa, r->size,
		    (uint8_t *)r->map + off);
		if (e < 0) {
			*why = "memory regions overlap or wrap";
			return e;
		}
	}
	for (q = 0; q < VSOCK_NUM_QUEUES; q++)
		if ((e = maybe_start(v, q)) < 0) {
			*why = "a ring lies outside the new memory table";
			return e;
		}
	return 0;
}

/* The ring a vring-state or fd message names, or NULL. */
static struct vhu_ring *
ring_of(struct vhu *v, uint32_t index, unsigned *q)
{
	if (index >= VSOCK_NUM_QUEUES)
		return NULL;
	*q = index;
	return &v->ring[index];
}

/* SET_VRING_KICK/CALL/ERR: one eventfd, or none with the NOFD bit. */
static int
set_vring_fd(struct vhu *v, struct vhu_msg *m, const char **why)
{
	uint64_t u = le64toh(m->p.u64);
	struct vhu_ring *r;
	unsigned q;
	int fd = -1, fl, *slot;

	if (m->size != 8 || (u & ~(uint64_t)(VHOST_USER_VRING_IDX_MASK |
	    VHOST_USER_VRING_NOFD)) ||
	    (r = ring_of(v, (uint32_t)(u & VHOST_USER_VRING_IDX_MASK), &q)) ==
	    NULL) {
		*why = "ring fd message: bad payload or ring index";
		return -VSE_ERR_INVAL;
	}
	if (m->nfds != ((u & VHOST_USER_VRING_NOFD) ? 0u : 1u)) {
		*why = "ring fd message: wrong number of fds";
		return -VSE_ERR_INVAL;
	}
	if (m->nfds == 1) {
		fd = m->fds[0];
		m->nfds = 0;	/* ours now */
		/*
		 * QEMU sends eventfds, but any fd can come: never let a full
		 * pipe block an interrupt (or a read block a kick). The flag
		 * is the front-end's too; QEMU's eventfds have it already.
		 */
		if ((fl = fcntl(fd, F_GETFL)) >= 0)
			(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	}
	slot = m->request == VHOST_USER_SET_VRING_KICK ? &r->kick_fd :
	    m->request == VHOST_USER_SET_VRING_CALL ? &r->call_fd :
	    &r->err_fd;
	close_fd(slot);
	*slot = fd;
	if (m->request == VHOST_USER_SET_VRING_KICK) {
		r->kicked = true;
		if (maybe_start(v, q) < 0) {
			*why = "ring addresses outside guest memory";
			return -VSE_ERR_VQ_RING_ADDR;
		}
	}
	return 0;
}

/* SET_VRING_NUM / _BASE / _ENABLE and GET_VRING_BASE: {u32 index, u32 num}. */
static int
vring_state(struct vhu *v, int sock, struct vhu_msg *m, const char **why)
{
	uint32_t st[2];
	struct vhu_ring *r;
	unsigned q;

	if (m->size != 8) {
		*why = "vring state: wrong payload size";
		return -VSE_ERR_INVAL;
	}
	memcpy(st, m->p.bytes, 8);
	st[0] = le32toh(st[0]);
	st[1] = le32toh(st[1]);
	if ((r = ring_of(v, st[0], &q)) == NULL) {
		*why = "vring state: ring index out of range";
		return -VSE_ERR_INVAL;
	}
	switch (m->request) {
	case VHOST_USER_SET_VRING_NUM:
		if (!virtq_size_valid(st[1])) {
			*why = "vring size not a power of two up to 32768";
			return -VSE_ERR_VQ_SIZE;
		}
		stop_ring(v, q);
		r->num = st[1];
		return 0;
	case VHOST_USER_SET_VRING_BASE:
		if (st[1] > UINT16_MAX) {
			*why = "vring base beyond 16 bits";
			return -VSE_ERR_INVAL;
		}
		stop_ring(v, q);
		r->base = (uint16_t)st[1];
		return 0;
	case VHOST_USER_SET_VRING_ENABLE:
		r->enabled = st[1] != 0;
		if (!r->enabled)
			r->base = stop_ring(v, q);
		return maybe_start(v, q) < 0 ? -VSE_ERR_VQ_RING_ADDR : 0;
	default:	/* GET_VRING_BASE: stop the ring, say where it was */
		r->base = stop_ring(v, q);
		r->kicked = false;
		st[1] = htole32(r->base);
		st[0] = htole32(st[0]);
		return send_reply(sock, m, st, sizeof(st), why);
	}
}

/* SET_VRING_ADDR: {u32 index, u32 flags, u64 desc, used, avail, log}. */
static int
set_vring_addr(struct vhu *v, struct vhu_msg *m, const char **why)
{
	uint32_t idx;
	uint64_t a[4];
	struct vhu_ring *r;
	unsigned q;

	if (m->size != 40) {
		*why = "vring address: wrong payload size";
		return -VSE_ERR_INVAL;
	}
	memcpy(&idx, m->p.bytes, 4);
	memcpy(a, m->p.bytes + 8, 32);
	if ((r = ring_of(v, le32toh(idx), &q)) == NULL) {
		*why = "vring address: ring index out of range";
		return -VSE_ERR_INVAL;
	}
	stop_ring(v, q);
	r->desc_ua = le64toh(a[0]);
	r->used_ua = le64toh(a[1]);
	r->avail_ua = le64toh(a[2]);
	r->have_addr = true;
	if (maybe_start(v, q) < 0) {
		*why = "ring addresses outside guest memory";
		return -VSE_ERR_VQ_RING_ADDR;
	}
	return 0;
}

/* GET_CONFIG: {u32 offset, u32 size, u32 flags, bytes} of le64 guest_cid. */
static int
get_config(struct vhu *v, int sock, struct vhu_msg *m, const char **why)
{
	uint32_t off, size;
	uint8_t cfg[VHOST_USER_VSOCK_CONFIG_SIZE], out[12 + 256];

	memcpy(&off, m->p.bytes, 4);
	memcpy(&size, m->p.bytes + 4, 4);
	off = le32toh(off);
	size = le32toh(size);
	if (m->size < 12 || size > 256 || m->size != 12 + size ||
	    off > VHOST_USER_VSOCK_CONFIG_SIZE ||
	    size > VHOST_USER_VSOCK_CONFIG_SIZE - off) {
		*why = "config read outside the 8-byte config space";
		return -VSE_ERR_INVAL;
	}
	vsock_device_get_config(v->dev, cfg);
	memcpy(out, m->p.bytes, 12);
	memcpy(out + 12, cfg + off, size);
	return send_reply(sock, m, out, 12 + size, why);
}

/* Features the back-end offers: the device's, plus protocol features. */
static uint64_t
offered(const struct vhu *v)
{
	return vsock_device_features(v->dev) |
	    VIRTIO_FEATURE(VHOST_USER_F_PROTOCOL_FEATURES);
}

#define PROTOCOL_OFFERED (VIRTIO_FEATURE(VHOST_USER_PROTOCOL_F_CONFIG) | \
	VIRTIO_FEATURE(VHOST_USER_PROTOCOL_F_REPLY_ACK))

/* Handles a message that may carry a u64 or nothing. */
static int
dispatch(struct vhu *v, int sock, struct vhu_msg *m, const char **why)
{
	uint64_t u = m->size == 8 ? le64toh(m->p.u64) : 0;

	switch (m->request) {
	case VHOST_USER_GET_FEATURES:
		return reply_u64(sock, m, offered(v), why);
	case VHOST_USER_SET_FEATURES:
		if (m->size != 8 || (u & ~offered(v)) ||
		    vsock_device_set_features(v->dev, u &
		    ~VIRTIO_FEATURE(VHOST_USER_F_PROTOCOL_FEATURES)) < 0) {
			*why = "features not offered (or no VERSION_1)";
			return -VSE_ERR_FEATURES;
		}
		v->features = u;
		return 0;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		return reply_u64(sock, m, PROTOCOL_OFFERED, why);
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		if (m->size != 8 || (u & ~(uint64_t)PROTOCOL_OFFERED)) {
			*why = "protocol features not offered";
			return -VSE_ERR_FEATURES;
		}
		v->protocol_features = u;
		return 0;
	case VHOST_USER_GET_QUEUE_NUM:
		return reply_u64(sock, m, VSOCK_NUM_QUEUES, why);
	case VHOST_USER_SET_OWNER:
		return 0;
	case VHOST_USER_RESET_OWNER:
		return 0;
	case VHOST_USER_SET_MEM_TABLE:
		return set_mem_table(v, m, why);
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
		return vring_state(v, sock, m, why);
	case VHOST_USER_SET_VRING_ADDR:
		return set_vring_addr(v, m, why);
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		return set_vring_fd(v, m, why);
	case VHOST_USER_GET_CONFIG:
		return get_config(v, sock, m, why);
	default:
		*why = "message type not supported";
		return -VSE_ERR_INVAL;
	}
}

/* Requests whose reply is the message itself (no REPLY_ACK on those). */
static bool
has_reply(uint32_t request)
{
	return request == VHOST_USER_GET_FEATURES ||
	    request == VHOST_USER_GET_PROTOCOL_FEATURES ||
	    request == VHOST_USER_GET_QUEUE_NUM ||
	    request == VHOST_USER_GET_VRING_BASE ||
	    request == VHOST_USER_GET_CONFIG;
}

/* --- a front-end that breaks what it handed us --- */

/*
 * Ring fd *fd of queue q failed (what, with errno e): close it and say so
 * once. Without this the loop would report a failed kick fd forever and
 * every interrupt would retry a dead call fd.
 */
static void
drop_ring_fd(struct vhu *v, unsigned q, int *fd, const char *what, int e)
{
	close_fd(fd);
	say(v, "queue %u: %s fd failed (%s): dropped until the front-end "
	    "sends a new one", q, what, e != 0 ? strerror(e) : "end of file");
}

/* Signals q's err fd (Linux: vq_err() -> eventfd_signal(error_ctx)). */
static void
signal_err(struct vhu *v, unsigned q)
{
	uint64_t one = 1;

	if (v->ring[q].err_fd >= 0 &&
	    write(v->ring[q].err_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		drop_ring_fd(v, q, &v->ring[q].err_fd, "err", errno);
}

/*
 * Has a SIGBUS replaced a region with zeros (vhost-user-guard.h)? The
 * first time: break the session for good, stop every ring, signal the
 * err fds and keep the reason (which region went) for the caller.
 */
static bool
memory_lost(struct vhu *v)
{
	unsigned i, q;

	if (v->broken)
		return true;
	if (vhu_guard_losses() == v->losses_seen)
		return false;	/* no SIGBUS anywhere since the last look */
	v->losses_seen = vhu_guard_losses();
	for (i = 0; i < v->nregions && !vhu_guard_lost(v->region[i].guard);
	    i++)
		;
	if (i == v->nregions)
		return false;	/* another session's memory */
	v->broken = true;
	snprintf(v->why, sizeof(v->why), "memory region %u (guest 0x%" PRIx64
	    ", %" PRIu64 " bytes) lost: the front-end shrank its file under "
	    "our mapping", i, v->region[i].gpa, v->region[i].size);
	for (q = 0; q < VSOCK_NUM_QUEUES; q++) {
		v->ring[q].base = stop_ring(v, q);
		v->ring[q].kicked = false;
		signal_err(v, q);
	}
	return true;
}

int
vhu_check_memory(struct vhu *v, const char **why)
{
	if (!memory_lost(v))
		return 0;
	if (why != NULL)
		*why = v->why;
	return -VSE_ERR_MEM_LOST;
}

int
vhu_handle(struct vhu *v, int sock, vsock_time_t now, const char **why)
{
	static const char *ignored;
	const char *ack_why = NULL;
	struct vhu_msg m;
	unsigned i;
	int e;

	if (why == NULL)
		why = &ignored;
	*why = NULL;
	if (vhu_check_memory(v, why) < 0)
		return -VSE_ERR_MEM_LOST;
	e = read_msg(sock, &m, why);
	if (e == 0) {
		/* Only these may carry fds; anything else with one is hostile. */
		if (m.nfds > 0 && m.request != VHOST_USER_SET_MEM_TABLE &&
		    m.request != VHOST_USER_SET_VRING_KICK &&
		    m.request != VHOST_USER_SET_VRING_CALL &&
		    m.request != VHOST_USER_SET_VRING_ERR) {
			*why = "file descriptor on a message that takes none";
			e = -VSE_ERR_INVAL;
		} else {
			e = dispatch(v, sock, &m, why);
		}
		/* REPLY_ACK: the front-end asked to hear success or failure. */
		if ((m.flags & VHOST_USER_NEED_REPLY) && !has_reply(m.request) &&
		    (v->protocol_features &
		    VIRTIO_FEATURE(VHOST_USER_PROTOCOL_F_REPLY_ACK)) &&
		    reply_u64(sock, &m, e == 0 ? 0 : 1, &ack_why) < 0 &&
		    e == 0) {
			e = -VSE_ERR_INVAL;
			*why = ack_why;
		}
	}
	for (i = 0; i < m.nfds; i++)
		close(m.fds[i]);
	if (e == 0)
		vsock_device_run(v->dev, now);
	if (e == 0)
		e = vhu_check_memory(v, why);
	return e;
}

int
vhu_kick_fd(const struct vhu *v, unsigned q)
{
	return q < VSOCK_NUM_QUEUES ? v->ring[q].kick_fd : -1;
}

void
vhu_kicked(struct vhu *v, unsigned q, vsock_time_t now)
{
	uint64_t n;
	ssize_t got;

	if (q >= VSOCK_NUM_QUEUES)
		return;
	if (v->ring[q].kick_fd >= 0) {
		got = read(v->ring[q].kick_fd, &n, sizeof(n));
		/*
		 * EOF or an error (never from an eventfd) is reported by the
		 * loop again and again: drop the fd. Without a kick the ring
		 * is not started (the spec's SET_VRING_KICK), so stop it as
		 * GET_VRING_BASE would, keeping its base for the next kick;
		 * libvhost-user's vu_kick_cb also unwatches such an fd.
		 */
		if (got == 0 || (got < 0 && errno != EAGAIN &&
		    errno != EINTR)) {
			drop_ring_fd(v, q, &v->ring[q].kick_fd, "kick",
			    got == 0 ? 0 : errno);
			v->ring[q].base = stop_ring(v, q);
			v->ring[q].kicked = false;
			return;
		}
	}
	if (v->broken)
		return;		/* drained, so the loop rests; no device */
	vsock_device_kick(v->dev, q, now);
	(void)memory_lost(v);
}

void
vhu_notify(void *ctx, unsigned q)
{
	struct vhu *v = ctx;
	uint64_t one = 1;

	if (q >= VSOCK_NUM_QUEUES || v->ring[q].call_fd < 0 ||
	    write(v->ring[q].call_fd, &one, sizeof(one)) >= 0)
		return;
	/* Full (EAGAIN): the guest has an interrupt pending already. */
	if (errno != EAGAIN && errno != EINTR)
		drop_ring_fd(v, q, &v->ring[q].call_fd, "call", errno);
}

bool
vhu_queue_running(const struct vhu *v, unsigned q)
{
	return q < VSOCK_NUM_QUEUES && v->ring[q].running;
}

const struct guestmem *
vhu_mem(const struct vhu *v)
{
	return &v->mem;
}

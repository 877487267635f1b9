/* check_vhost_user.c - the vhost-user back-end against a fake front-end, QEMU's order. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <endian.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend-script.h"
#include "common.h"
#include "pkt.h"
#include "vhost-user-guard.h"
#include "vhost-user.h"

/* One session: our front-end end (fe), the back-end (be), a guest. */
struct vrig {
	int fe, be;
	struct vsock_device *dev;
	struct script_backend sb;
	struct vhu *v;
	struct fg_mem mem;
	struct fg_ring ring[2];
	int kick[2], call[2];
	uint64_t features;
	const char *why;	/* the last refusal's reason */
	unsigned nlog;		/* lines the session logged */
	char log[256];		/* the last one */
};

/* The session's log hook: counts lines, keeps the last. */
static void
on_log(void *ctx, const char *msg)
{
	struct vrig *r = ctx;

	r->nlog++;
	snprintf(r->log, sizeof(r->log), "%s", msg);
}

static unsigned
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static void
fe_send(struct vrig *r, uint32_t req, uint32_t flags, const void *p,
    uint32_t size, const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} ctl;
	uint8_t hdr[12 + 512];
	struct iovec iov = { hdr, 12 + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	uint32_t w[3] = { htole32(req), htole32(flags | VHOST_USER_VERSION),
	    htole32(size) };

	memcpy(hdr, w, 12);
	if (size > 0 && p != NULL)
		memcpy(hdr + 12, p, size);
	if (p == NULL)
		iov.iov_len = 12;	/* header only, whatever size says */
	if (nfds > 0) {
		struct cmsghdr *c;

		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	ck_assert_int_eq(sendmsg(r->fe, &mh, 0), (ssize_t)iov.iov_len);
}

/* Sends one message and lets the back-end handle it; returns its result. */
static int
call(struct vrig *r, uint32_t req, uint32_t flags, const void *p,
    uint32_t size, const int *fds, int nfds)
{
	const char *why = NULL;
	int e;

	fe_send(r, req, flags, p, size, fds, nfds);
	e = vhu_handle(r->v, r->be, 0, &why);
	if (e < 0)
		ck_assert_ptr_nonnull(why);	/* every refusal explains */
	r->why = why;
	return e;
}

/* Reads a reply to req; returns its payload size. */
static uint32_t
reply(struct vrig *r, uint32_t req, void *p, uint32_t max)
{
	uint32_t w[3];

	ck_assert_int_eq(recv(r->fe, w, 12, MSG_DONTWAIT), 12);
	ck_assert_uint_eq(le32toh(w[0]), req);
	ck_assert_uint_eq(le32toh(w[1]), VHOST_USER_VERSION |
	    VHOST_USER_REPLY);
	ck_assert_uint_le(le32toh(w[2]), max);
	ck_assert_int_eq(recv(r->fe, p, le32toh(w[2]), MSG_DONTWAIT),
	    (ssize_t)le32toh(w[2]));
	return le32toh(w[2]);
}

static uint64_t
reply_u64(struct vrig *r, uint32_t req)
{
	uint64_t v;

	ck_assert_uint_eq(reply(r, req, &v, 8), 8);
	return le64toh(v);
}

static struct vrig *
vrig_new(void)
{
	struct vrig *r = calloc(1, sizeof(*r));
	struct vsock_device_config cfg;
	struct fg_mem_spec spec = { 0x100000, 16 << 20 };
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	r->fe = sv[0];
	r->be = sv[1];
	vsock_device_config_defaults(&cfg);
	script_init(&r->sb);
	ck_assert_err(vsock_device_new(&cfg, &script_backend_ops, &r->sb,
	    &r->dev, NULL), 0);
	script_attach(&r->sb, r->dev);
	ck_assert_err(vhu_new(r->dev, &r->v), 0);
	vhu_set_log(r->v, on_log, r);
	vsock_device_set_notify(r->dev, vhu_notify, r->v);
	ck_assert_err(fg_mem_init(&r->mem, &spec, 1, FG_MEM_MEMFD), 0);
	return r;
}

static void
vrig_free(struct vrig *r)
{
	int i;

	vhu_free(r->v);
	vsock_device_free(r->dev);
	script_free(&r->sb);
	for (i = 0; i < 2; i++) {
		if (r->ring[i].num)
			fg_ring_destroy(&r->ring[i]);
		if (r->kick[i] > 0)
			close(r->kick[i]);
		if (r->call[i] > 0)
			close(r->call[i]);
	}
	fg_mem_destroy(&r->mem);
	close(r->fe);
	close(r->be);
	free(r);
}

/* The memory table with our one memfd region. */
static void
send_mem_table(struct vrig *r)
{
	uint64_t t[5] = { htole64(1), htole64(r->mem.region[0].gpa),
	    htole64(r->mem.region[0].size),
	    htole64((uint64_t)(uintptr_t)r->mem.region[0].hva), 0 };

	ck_assert_err(call(r, VHOST_USER_SET_MEM_TABLE, 0, t, 40,
	    &r->mem.region[0].fd, 1), 0);
}

/* What QEMU 7.2 sends, in its order, up to both rings running. */
static void
handshake(struct vrig *r)
{
	uint64_t f, pf = VIRTIO_FEATURE(VHOST_USER_PROTOCOL_F_CONFIG) |
	    VIRTIO_FEATURE(VHOST_USER_PROTOCOL_F_REPLY_ACK);
	uint32_t cfgq[5] = { 0, htole32(8), 0, 0, 0 }, cfgr[5];
	int q;

	call(r, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0);
	f = reply_u64(r, VHOST_USER_GET_FEATURES);
	ck_assert(f & VIRTIO_FEATURE(VHOST_USER_F_PROTOCOL_FEATURES));
	ck_assert(f & VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
	call(r, VHOST_USER_GET_PROTOCOL_FEATURES, 0, NULL, 0, NULL, 0);
	ck_assert_uint_eq(reply_u64(r, VHOST_USER_GET_PROTOCOL_FEATURES), pf);
	pf = htole64(pf);
	ck_assert_err(call(r, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, 8,
	    NULL, 0), 0);
	ck_assert_err(call(r, VHOST_USER_SET_OWNER, 0, NULL, 0, NULL, 0), 0);
	ck_assert_err(call(r, VHOST_USER_GET_CONFIG, 0, cfgq, 20, NULL, 0), 0);
	ck_assert_uint_eq(reply(r, VHOST_USER_GET_CONFIG, cfgr, 20), 20);
	ck_assert_uint_eq(le32toh(cfgr[3]), 3);		/* guest_cid */
	r->features = f;
	f = htole64(f);
	ck_assert_err(call(r, VHOST_USER_SET_FEATURES, 0, &f, 8, NULL, 0), 0);
	send_mem_table(r);
	for (q = 0; q < 2; q++) {
		struct fg_ring *g = &r->ring[q];
		uint32_t st[2] = { htole32((uint32_t)q), htole32(256) };
		uint64_t a[5];
		uint64_t fdarg = htole64((uint64_t)q);

		ck_assert_err(fg_ring_init(g, &r->mem, 256, r->features), 0);
		ck_assert_err(call(r, VHOST_USER_SET_VRING_NUM, 0, st, 8, NULL,
		    0), 0);
		st[1] = 0;
		ck_assert_err(call(r, VHOST_USER_SET_VRING_BASE, 0, st, 8,
		    NULL, 0), 0);
		a[0] = htole64((uint64_t)q);
		a[1] = htole64((uint64_t)(uintptr_t)g->desc);
		a[2] = htole64((uint64_t)(uintptr_t)g->used);
		a[3] = htole64((uint64_t)(uintptr_t)g->avail);
		a[4] = 0;
		ck_assert_err(call(r, VHOST_USER_SET_VRING_ADDR, 0, a, 40, NULL,
		    0), 0);
		r->kick[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		r->call[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ck_assert_err(call(r, VHOST_USER_SET_VRING_KICK, 0, &fdarg, 8,
		    &r->kick[q], 1), 0);
		ck_assert_err(call(r, VHOST_USER_SET_VRING_CALL, 0, &fdarg, 8,
		    &r->call[q], 1), 0);
		/* Protocol features: the ring waits for SET_VRING_ENABLE. */
		ck_assert(!vhu_queue_running(r->v, (unsigned)q));
		st[1] = htole32(1);
		ck_assert_err(call(r, VHOST_USER_SET_VRING_ENABLE, 0, st, 8,
		    NULL, 0), 0);
		ck_assert(vhu_queue_running(r->v, (unsigned)q));
	}
}

/*
 * The guest connects to port 1234, which the script accepts: a REQUEST
 * on the TX ring, kicked through the eventfd as the loop would see it
 * readable; the RESPONSE comes back in a fresh RX buffer, its header
 * left in *h.
 */
static void
request_gets_response(struct vrig *r, struct vsock_hdr *h)
{
	uint8_t raw[VSOCK_HDR_SIZE];
	uint64_t rxb, txb, one = 1;
	struct fg_buf rb, tb;
	uint32_t len;

	*h = (struct vsock_hdr){ .src_cid = 3, .dst_cid = 2,
	    .src_port = 1024, .dst_port = 1234, .type = 1,
	    .op = VIRTIO_VSOCK_OP_REQUEST, .buf_alloc = 65536 };
	script_listen(&r->sb, 1234, SCRIPT_ACCEPT);
	rxb = fg_mem_alloc(&r->mem, 4096, 16);
	txb = fg_mem_alloc(&r->mem, 64, 16);
	rb = (struct fg_buf){ rxb, 4096 };
	tb = (struct fg_buf){ txb, VSOCK_HDR_SIZE };
	fg_ring_add(&r->ring[0], NULL, 0, &rb, 1, r, false);
	vsock_hdr_encode(h, raw);
	fg_mem_write(&r->mem, txb, raw, sizeof(raw));
	fg_ring_add(&r->ring[1], &tb, 1, NULL, 0, r, false);
	ck_assert_int_eq(write(r->kick[1], &one, 8), 8);
	vhu_kicked(r->v, 1, 0);
	ck_assert_ptr_eq(fg_ring_get_used(&r->ring[0], &len), r);
	ck_assert_uint_eq(len, VSOCK_HDR_SIZE);
	fg_mem_read(&r->mem, rxb, raw, sizeof(raw));
	vsock_hdr_decode(raw, h);
	ck_assert_uint_eq(h->op, VIRTIO_VSOCK_OP_RESPONSE);
}

START_TEST(test_handshake_and_packets)
{
	struct vrig *r = vrig_new();
	struct vsock_hdr h;
	uint64_t n, yes = 0;
	uint32_t st[2] = { htole32(1), 0 };

	handshake(r);
	request_gets_response(r, &h);
	ck_assert_uint_eq(h.dst_port, 1024);
	/* The device interrupted the guest through the call eventfd. */
	ck_assert_int_eq(read(r->call[0], &n, 8), 8);
	ck_assert_uint_ge(n, 1);
	/* REPLY_ACK: a need-reply message gets its success back. */
	ck_assert_err(call(r, VHOST_USER_SET_OWNER, VHOST_USER_NEED_REPLY,
	    NULL, 0, NULL, 0), 0);
	ck_assert_uint_eq(reply_u64(r, VHOST_USER_SET_OWNER), yes);
	/* GET_VRING_BASE stops the TX ring and says where it stopped. */
	ck_assert_err(call(r, VHOST_USER_GET_VRING_BASE, 0, st, 8, NULL, 0), 0);
	ck_assert_uint_eq(reply(r, VHOST_USER_GET_VRING_BASE, st, 8), 8);
	ck_assert_uint_eq(le32toh(st[1]), 1);
	ck_assert(!vhu_queue_running(r->v, 1));
	vrig_free(r);
}
END_TEST

/*
 * A new memory table while the rings run (QEMU sends the whole table again
 * on memory hotplug): every ring stops, the old mappings go, and the rings
 * restart under a new setup, so no host address a chain kept from the old
 * table is used (virtq_seg_hva); traffic flows through the new mapping.
 * Regions are never added or removed one by one: ADD_MEM_REG and
 * REM_MEM_REG are refused (CONFIGURE_MEM_SLOTS is not offered), the table
 * and the rings stay as they were.
 */
START_TEST(test_mem_table_again_restarts_rings)
{
	struct vrig *r = vrig_new();
	struct vsock_hdr h;
	uint64_t setup[2], reg[5] = { 0 };
	const struct guestmem *gm;
	unsigned q;

	handshake(r);
	for (q = 0; q < 2; q++)
		setup[q] = vsock_device_queue(r->dev, q)->setup_id;
	send_mem_table(r);
	gm = vhu_mem(r->v);
	ck_assert_uint_eq(gm->nregions, 1);
	for (q = 0; q < 2; q++) {
		const struct virtq *vq = vsock_device_queue(r->dev, q);

		ck_assert(vhu_queue_running(r->v, q));
		ck_assert_ptr_eq(vq->mem, gm);
		ck_assert_uint_gt(vq->setup_id, setup[q]);
		ck_assert_uint_gt(vq->setup_id, setup[1]);
		/* The rings themselves are in the new mapping. */
		ck_assert_ptr_eq(vq->desc, guestmem_map(gm, r->ring[q].desc_gpa,
		    16, NULL));
	}
	/* One region at a time: refused, nothing changes. */
	reg[1] = htole64(r->mem.region[0].gpa);
	reg[2] = htole64(4096);
	ck_assert_err(call(r, 37 /* ADD_MEM_REG */, 0, reg, 40,
	    &r->mem.region[0].fd, 1), -VSE_ERR_VHU_FD_COUNT);
	ck_assert_err(call(r, 38 /* REM_MEM_REG */, 0, reg, 40, NULL, 0),
	    -VSE_ERR_VHU_REQUEST);
	ck_assert_uint_eq(gm->nregions, 1);
	for (q = 0; q < 2; q++)
		ck_assert(vhu_queue_running(r->v, q));

	request_gets_response(r, &h);
	ck_assert_ptr_null(r->ring[0].device_error);
	vrig_free(r);
}
END_TEST

/*
 * RESET_OWNER disables every ring, as libvhost-user's vu_reset_device_exec()
 * does: none runs until the front-end enables it again, from its base.
 */
START_TEST(test_reset_owner_disables_rings)
{
	struct vrig *r = vrig_new();
	uint32_t st[2] = { htole32(1), htole32(1) };
	unsigned q;

	handshake(r);
	ck_assert_err(call(r, VHOST_USER_RESET_OWNER, 0, NULL, 0, NULL, 0), 0);
	for (q = 0; q < 2; q++)
		ck_assert(!vhu_queue_running(r->v, q));
	ck_assert_err(call(r, VHOST_USER_SET_VRING_ENABLE, 0, st, 8, NULL, 0),
	    0);
	ck_assert(vhu_queue_running(r->v, 1));
	ck_assert(!vhu_queue_running(r->v, 0));
	vrig_free(r);
}
END_TEST

/*
 * A hostile or buggy front-end: an error and a closed connection, no leak,
 * and the code of the rule it broke (one per rule, as the walker's).
 */
enum hostile {
	H_VERSION, H_HUGE_SIZE, H_FD_ON_OWNER, H_TABLE_FD_COUNT, H_OVERLAP,
	H_OFFSET_OVERFLOW, H_RING_OUTSIDE, H_RING_SIZE, H_RING_INDEX,
	H_CONFIG_RANGE, H_UNKNOWN, H_FEATURES, H_KICK_NO_FD, H_CLOSED,
	H_SHORT_PAYLOAD, H_STATE_SIZE, H_RING_BASE, H_FD_FLAGS, H_ADDR_INDEX,
	H__COUNT
};

static const int hostile_code[H__COUNT] = {
	[H_VERSION] = -VSE_ERR_VHU_VERSION,
	[H_HUGE_SIZE] = -VSE_ERR_VHU_TOO_BIG,
	[H_FD_ON_OWNER] = -VSE_ERR_VHU_FD_COUNT,
	[H_TABLE_FD_COUNT] = -VSE_ERR_VHU_MEM_TABLE,
	[H_OVERLAP] = -VSE_ERR_MEM_OVERLAP,
	[H_OFFSET_OVERFLOW] = -VSE_ERR_MEM_OVERFLOW,
	[H_RING_OUTSIDE] = -VSE_ERR_VQ_RING_ADDR,
	[H_RING_SIZE] = -VSE_ERR_VQ_SIZE,
	[H_RING_INDEX] = -VSE_ERR_VHU_RING_INDEX,
	[H_CONFIG_RANGE] = -VSE_ERR_VHU_CONFIG_RANGE,
	[H_UNKNOWN] = -VSE_ERR_VHU_REQUEST,
	[H_FEATURES] = -VSE_ERR_FEATURES,
	[H_KICK_NO_FD] = -VSE_ERR_VHU_FD_COUNT,
	[H_CLOSED] = -VSE_ERR_VHU_CLOSED,
	[H_SHORT_PAYLOAD] = -VSE_ERR_VHU_TRUNCATED,
	[H_STATE_SIZE] = -VSE_ERR_VHU_PAYLOAD_SIZE,
	[H_RING_BASE] = -VSE_ERR_VHU_RING_BASE,
	[H_FD_FLAGS] = -VSE_ERR_VHU_RING_FLAGS,
	[H_ADDR_INDEX] = -VSE_ERR_VHU_RING_INDEX,
};

START_TEST(test_hostile_front_end)
{
	struct vrig *r;
	unsigned before = count_fds();
	uint64_t t[9], u;
	uint32_t st[2], cfgq[3];
	int fds[2], e = 0, efd;

	r = vrig_new();
	fds[0] = fds[1] = r->mem.region[0].fd;
	switch ((enum hostile)_i) {
	case H_VERSION:
		fe_send(r, VHOST_USER_SET_OWNER, 2, NULL, 0, NULL, 0);
		e = vhu_handle(r->v, r->be, 0, NULL);
		break;
	case H_HUGE_SIZE:
		e = call(r, VHOST_USER_SET_OWNER, 0, NULL, 100000, NULL, 0);
		break;
	case H_FD_ON_OWNER:
		efd = eventfd(0, 0);
		e = call(r, VHOST_USER_SET_OWNER, 0, NULL, 0, &efd, 1);
		close(efd);
		break;
	case H_TABLE_FD_COUNT:
		t[0] = htole64(2);
		memset(t + 1, 0, 64);
		e = call(r, VHOST_USER_SET_MEM_TABLE, 0, t, 72, fds, 1);
		break;
	case H_OVERLAP:
		t[0] = htole64(2);
		t[1] = t[5] = htole64(0x100000);
		t[2] = t[6] = htole64(4096);
		t[3] = t[7] = htole64(0x7f0000000000);
		t[4] = t[8] = 0;
		e = call(r, VHOST_USER_SET_MEM_TABLE, 0, t, 72, fds, 2);
		break;
	case H_OFFSET_OVERFLOW:
		t[0] = htole64(1);
		t[1] = htole64(0x100000);
		t[2] = htole64(4096);
		t[3] = htole64(0x7f0000000000);
		t[4] = htole64(UINT64_MAX - 100);
		e = call(r, VHOST_USER_SET_MEM_TABLE, 0, t, 40, fds, 1);
		break;
	case H_RING_OUTSIDE:
		send_mem_table(r);
		st[0] = 0;
		st[1] = htole32(256);
		call(r, VHOST_USER_SET_VRING_NUM, 0, st, 8, NULL, 0);
		memset(t, 0, 40);
		t[1] = htole64(0x1000);	/* no region has this address */
		t[2] = htole64(0x2000);
		t[3] = htole64(0x3000);
		call(r, VHOST_USER_SET_VRING_ADDR, 0, t, 40, NULL, 0);
		efd = eventfd(0, 0);
		u = 0;
		e = call(r, VHOST_USER_SET_VRING_KICK, 0, &u, 8, &efd, 1);
		close(efd);
		break;
	case H_RING_SIZE:
		st[0] = 0;
		st[1] = htole32(3);
		e = call(r, VHOST_USER_SET_VRING_NUM, 0, st, 8, NULL, 0);
		break;
	case H_RING_INDEX:
		st[0] = htole32(7);
		st[1] = htole32(256);
		e = call(r, VHOST_USER_SET_VRING_NUM, 0, st, 8, NULL, 0);
		break;
	case H_CONFIG_RANGE:
		cfgq[0] = htole32(4);
		cfgq[1] = htole32(8);
		cfgq[2] = 0;
		memset(t, 0, sizeof(t));
		memcpy(t, cfgq, 12);
		e = call(r, VHOST_USER_GET_CONFIG, 0, t, 20, NULL, 0);
		break;
	case H_UNKNOWN:
		e = call(r, 99, 0, NULL, 0, NULL, 0);
		break;
	case H_FEATURES:
		u = htole64(UINT64_C(1) << 63);
		e = call(r, VHOST_USER_SET_FEATURES, 0, &u, 8, NULL, 0);
		break;
	case H_KICK_NO_FD:
		u = 0;		/* says an fd comes; none does */
		e = call(r, VHOST_USER_SET_VRING_KICK, 0, &u, 8, NULL, 0);
		break;
	case H_CLOSED:
		ck_assert_int_eq(shutdown(r->fe, SHUT_WR), 0);
		e = vhu_handle(r->v, r->be, 0, NULL);
		break;
	case H_SHORT_PAYLOAD:	/* the header says 8 bytes follow; none do */
		fe_send(r, VHOST_USER_SET_FEATURES, 0, NULL, 8, NULL, 0);
		ck_assert_int_eq(shutdown(r->fe, SHUT_WR), 0);
		e = vhu_handle(r->v, r->be, 0, NULL);
		break;
	case H_STATE_SIZE:
		st[0] = 0;
		e = call(r, VHOST_USER_SET_VRING_NUM, 0, st, 4, NULL, 0);
		break;
	case H_RING_BASE:
		st[0] = 0;
		st[1] = htole32(0x10000);
		e = call(r, VHOST_USER_SET_VRING_BASE, 0, st, 8, NULL, 0);
		break;
	case H_FD_FLAGS:
		u = htole64(UINT64_C(1) << 20);	/* neither index nor NOFD */
		e = call(r, VHOST_USER_SET_VRING_CALL, 0, &u, 8, NULL, 0);
		break;
	case H_ADDR_INDEX:
		memset(t, 0, 40);
		t[0] = htole64(7);
		e = call(r, VHOST_USER_SET_VRING_ADDR, 0, t, 40, NULL, 0);
		break;
	default:
		ck_abort();
	}
	ck_assert_err(e, hostile_code[_i]);
	vrig_free(r);
	ck_assert_uint_eq(count_fds(), before);	/* every fd closed */
}
END_TEST

/*
 * A front-end that keeps asking and never reads the replies: once its
 * socket is full the reply cannot go out and the session ends with a
 * reason, rather than blocking the back-end (the program sets a 1 s send
 * timeout; here the socket is non-blocking, the same to vhu_handle).
 */
START_TEST(test_front_end_not_reading_replies)
{
	struct vrig *r = vrig_new();
	const char *why = NULL;
	unsigned i;
	int e = 0;

	ck_assert_int_eq(fcntl(r->be, F_SETFL, O_NONBLOCK), 0);
	for (i = 0; i < 1000000 && e == 0; i++) {
		fe_send(r, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0);
		e = vhu_handle(r->v, r->be, 0, &why);
	}
	ck_assert_err(e, -VSE_ERR_VHU_REPLY);
	ck_assert_uint_gt(i, 100);		/* the buffer did fill first */
	ck_assert_str_eq(why, "cannot send a reply: the front-end is not "
	    "reading");
	vrig_free(r);
}
END_TEST

/*
 * A call fd that is really a pipe nobody reads: interrupts must never
 * block the back-end (a blocking pipe fills after 8192 of them; Check's
 * timeout ends the test if one does).
 */
START_TEST(test_call_fd_never_blocks)
{
	struct vrig *r = vrig_new();
	uint64_t fdarg = 0;
	unsigned i;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_err(call(r, VHOST_USER_SET_VRING_CALL, 0, &fdarg, 8, &p[1],
	    1), 0);
	for (i = 0; i < 20000; i++)
		vhu_notify(r->v, 0);
	close(p[0]);
	close(p[1]);
	vrig_free(r);
}
END_TEST

/*
 * A kick fd at EOF (a pipe whose writer is gone; an eventfd never is)
 * stays readable forever and would spin the loop: it is dropped.
 */
START_TEST(test_kick_fd_at_eof_is_dropped)
{
	struct vrig *r = vrig_new();
	uint64_t fdarg = 0;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_err(call(r, VHOST_USER_SET_VRING_KICK, 0, &fdarg, 8, &p[0],
	    1), 0);
	close(p[0]);
	close(p[1]);
	ck_assert_int_ge(vhu_kick_fd(r->v, 0), 0);
	vhu_kicked(r->v, 0, 0);
	ck_assert_int_eq(vhu_kick_fd(r->v, 0), -1);
	vrig_free(r);
}
END_TEST

/* The memory table with one region over fd: [gpa, +size) at file offset off. */
static int
mem_table_fd(struct vrig *r, int fd, uint64_t size, uint64_t off)
{
	uint64_t t[5] = { htole64(1), htole64(0x100000), htole64(size),
	    htole64(0x7f0000000000), htole64(off) };

	return call(r, VHOST_USER_SET_MEM_TABLE, 0, t, 40, &fd, 1);
}

/* A memfd of len bytes; sealing allowed when sealable. */
static int
memfd_of(size_t len, bool sealable)
{
	int fd = memfd_create("vhu-test", MFD_CLOEXEC |
	    (sealable ? MFD_ALLOW_SEALING : 0));

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)len), 0);
	return fd;
}

/*
 * A region must lie inside its file: issue 14's 4 KiB memfd declared as a
 * 1 MiB region put the rings past the file's end, and the first kick
 * killed the back-end with SIGBUS. Both sides of the boundary, from the
 * offset and from the size.
 */
static const struct {
	size_t file;
	uint64_t size, off;
	bool ok;
} past_eof[] = {
	{ 4096, 1 << 20, 0, false },	/* issue 14 */
	{ 8192, 4096, 4096, true },	/* ends exactly at the end */
	{ 8192, 4096, 4097, false },	/* one byte past, by the offset */
	{ 8192, 8193, 0, false },	/* one byte past, by the size */
	{ 8192, 8192, 0, true },
};

START_TEST(test_region_inside_its_file)
{
	struct vrig *r = vrig_new();
	int fd = memfd_of(past_eof[_i].file, false);
	int e = mem_table_fd(r, fd, past_eof[_i].size, past_eof[_i].off);
	char want[160];

	if (past_eof[_i].ok) {
		ck_assert_err(e, 0);
	} else {
		ck_assert_err(e, -VSE_ERR_MEM_FD_SIZE);
		snprintf(want, sizeof(want), "memory region 0: offset %llu + "
		    "size %llu is past the end of its file (%zu bytes)",
		    (unsigned long long)past_eof[_i].off,
		    (unsigned long long)past_eof[_i].size, past_eof[_i].file);
		ck_assert_str_eq(r->why, want);
	}
	close(fd);
	vrig_free(r);
}
END_TEST

/* A character device (/dev/zero maps, but has no size to check): refused. */
START_TEST(test_region_fd_not_a_file)
{
	struct vrig *r = vrig_new();
	int fd = open("/dev/zero", O_RDWR | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_err(mem_table_fd(r, fd, 4096, 0), -VSE_ERR_MEM_FD_SIZE);
	ck_assert_str_eq(r->why, "memory region 0: its fd is not a file (want "
	    "a memfd, shm or hugetlbfs file)");
	close(fd);
	vrig_free(r);
}
END_TEST

/*
 * A memfd that allows sealing gets F_SEAL_SHRINK (QEMU's memfd backend
 * seals so by default): the front-end can no longer pull guest memory
 * from under our mapping.
 */
START_TEST(test_sealable_memfd_is_sealed)
{
	struct vrig *r = vrig_new();
	int fd = memfd_of(8192, true);

	ck_assert_err(mem_table_fd(r, fd, 8192, 0), 0);
	ck_assert(fcntl(fd, F_GET_SEALS) & F_SEAL_SHRINK);
	ck_assert_int_eq(ftruncate(fd, 0), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(ftruncate(fd, 16384), 0);	/* growing is fine */
	close(fd);
	vrig_free(r);
}
END_TEST

/*
 * The front-end truncates the memfd after SET_MEM_TABLE (it cannot be
 * sealed: no MFD_ALLOW_SEALING) and kicks: the back-end's ring reads hit
 * pages past the file's end. The process survives; the session is broken
 * (every ring stopped, the err eventfds signalled as Linux's vq_err does)
 * and must end. Nothing here touches the fake guest's memory after the
 * truncation: its own mapping would fault too.
 */
START_TEST(test_truncated_memory_survived)
{
	unsigned before = count_fds();
	struct vrig *r = vrig_new();
	uint64_t one = 1, n, fdarg;
	const char *why = NULL;
	int err[2], q;

	handshake(r);
	for (q = 0; q < 2; q++) {
		err[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		fdarg = htole64((uint64_t)q);
		ck_assert_err(call(r, VHOST_USER_SET_VRING_ERR, 0, &fdarg, 8,
		    &err[q], 1), 0);
	}
	ck_assert_err(vhu_check_memory(r->v, &why), 0);
	ck_assert_int_eq(ftruncate(r->mem.region[0].fd, 0), 0);
	ck_assert_int_eq(write(r->kick[1], &one, 8), 8);
	vhu_kicked(r->v, 1, 0);
	ck_assert_err(vhu_check_memory(r->v, &why), -VSE_ERR_MEM_LOST);
	ck_assert_str_eq(why, "memory region 0 (guest 0x100000, 16777216 "
	    "bytes) lost: the front-end shrank its file under our mapping");
	for (q = 0; q < 2; q++) {
		ck_assert(!vhu_queue_running(r->v, (unsigned)q));
		ck_assert_int_eq(read(err[q], &n, 8), 8);
		close(err[q]);
	}
	/* Broken for good: kicks are drained (no spin) and do nothing. */
	ck_assert_int_eq(write(r->kick[1], &one, 8), 8);
	vhu_kicked(r->v, 1, 0);
	ck_assert_int_eq(read(r->kick[1], &n, 8), -1);
	ck_assert_int_eq(errno, EAGAIN);
	vhu_kicked(r->v, 0, 0);
	/* Every message is refused. */
	ck_assert_err(call(r, VHOST_USER_SET_OWNER, 0, NULL, 0, NULL, 0),
	    -VSE_ERR_MEM_LOST);
	ck_assert_str_eq(r->why, "memory region 0 (guest 0x100000, 16777216 "
	    "bytes) lost: the front-end shrank its file under our mapping");
	ck_assert_uint_eq(r->nlog, 0);	/* the reason is returned, not logged */
	vrig_free(r);
	ck_assert_uint_eq(count_fds(), before);
}
END_TEST

/*
 * A kick fd that keeps reporting EPOLLERR (the write end of a pipe whose
 * reader is gone) spun the loop. Here an epoll set watches the kick fd
 * the way the program does (level-triggered, unwatched once vhu_kick_fd
 * changes): the fd is handled once and never reported again.
 */
START_TEST(test_kick_fd_error_handled_once)
{
	struct vrig *r = vrig_new();
	struct epoll_event ev = { .events = EPOLLIN }, out;
	uint64_t fdarg = htole64(1);
	unsigned calls = 0, i;
	int p[2], ep, fd;

	handshake(r);
	close(r->kick[1]);	/* replaced by the pipe */
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_err(call(r, VHOST_USER_SET_VRING_KICK, 0, &fdarg, 8, &p[1],
	    1), 0);
	close(p[0]);
	close(p[1]);
	ep = epoll_create1(EPOLL_CLOEXEC);
	fd = vhu_kick_fd(r->v, 1);
	ev.data.fd = fd;
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	for (i = 0; i < 100; i++) {
		if (epoll_wait(ep, &out, 1, 0) != 1)
			continue;
		ck_assert(out.events & EPOLLERR);
		calls++;
		vhu_kicked(r->v, 1, 0);
		if (vhu_kick_fd(r->v, 1) != fd)
			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	}
	ck_assert_uint_eq(calls, 1);
	ck_assert_int_eq(vhu_kick_fd(r->v, 1), -1);
	ck_assert_uint_eq(r->nlog, 1);
	ck_assert_str_eq(r->log, "queue 1: kick fd failed (Bad file "
	    "descriptor): dropped until the front-end sends a new one");
	/* The ring waits for a new kick fd, then starts where it stopped. */
	ck_assert(!vhu_queue_running(r->v, 1));
	r->kick[1] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert_err(call(r, VHOST_USER_SET_VRING_KICK, 0, &fdarg, 8,
	    &r->kick[1], 1), 0);
	ck_assert(vhu_queue_running(r->v, 1));
	close(ep);
	vrig_free(r);
}
END_TEST

/*
 * A call fd whose write fails (a pipe whose reader is gone: EPIPE; the
 * program ignores SIGPIPE, issue 14 item 3) is dropped at the first
 * failure: no write is tried again on it.
 */
START_TEST(test_call_fd_error_dropped)
{
	struct vrig *r = vrig_new();
	uint64_t fdarg = 0;
	unsigned before, i;
	int p[2];

	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_err(call(r, VHOST_USER_SET_VRING_CALL, 0, &fdarg, 8, &p[1],
	    1), 0);
	close(p[0]);
	close(p[1]);
	before = count_fds();
	for (i = 0; i < 100; i++)
		vhu_notify(r->v, 0);
	ck_assert_uint_eq(count_fds(), before - 1);	/* ours closed */
	ck_assert_uint_eq(r->nlog, 1);
	ck_assert_str_eq(r->log, "queue 0: call fd failed (Broken pipe): "
	    "dropped until the front-end sends a new one");
	vrig_free(r);
}
END_TEST

/*
 * The SIGBUS guard is confined to guarded ranges: in a child, a fault on
 * another truncated mapping (case 0) or a SIGBUS sent by kill (case 1)
 * still ends the process as it would without the guard (a signal, or
 * AddressSanitizer's report and exit 1), never a silent survival.
 */
START_TEST(test_guard_passes_other_sigbus)
{
	int status, fd;
	pid_t pid;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		volatile uint8_t *mine, *other;

		fd = memfd_of(4096, false);
		mine = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    0);
		other = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    0);
		if (mine == MAP_FAILED || other == MAP_FAILED ||
		    vhu_guard_add((void *)mine, 4096) < 0 ||
		    ftruncate(fd, 0) < 0)
			_exit(3);
		/* The report (ASan's) of an expected death is no news. */
		dup2(open("/dev/null", O_WRONLY), 2);
		if (_i == 0)
			(void)other[0];
		else
			raise(SIGBUS);
		_exit(0);	/* survived: the guard swallowed it */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(!WIFEXITED(status) || (WEXITSTATUS(status) != 0 &&
	    WEXITSTATUS(status) != 3), "status %#x", status);
}
END_TEST

/* A guarded range that faults reads zeros after, and says it was lost. */
START_TEST(test_guard_replaces_lost_range)
{
	int fd = memfd_of(8192, false), h;
	volatile uint8_t *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);

	ck_assert(p != MAP_FAILED);
	p[4096] = 7;
	h = vhu_guard_add((void *)p, 8192);
	ck_assert_int_ge(h, 0);
	ck_assert(!vhu_guard_lost(h));
	ck_assert_int_eq(ftruncate(fd, 4096), 0);
	ck_assert_uint_eq(p[4096], 0);		/* faulted, replaced */
	p[4096] = 9;				/* private now */
	ck_assert(vhu_guard_lost(h));
	ck_assert_uint_eq(p[4096], 9);
	vhu_guard_remove(h);
	ck_assert(!vhu_guard_lost(h));
	munmap((void *)p, 8192);
	close(fd);
}
END_TEST

/* Slots are bounded and come back: VHU_GUARD_SLOTS at once, then none. */
START_TEST(test_guard_slots_bounded)
{
	static uint8_t page[1];
	int h[VHU_GUARD_SLOTS], i;

	for (i = 0; i < VHU_GUARD_SLOTS; i++)
		ck_assert_int_ge(h[i] = vhu_guard_add(page, 1), 0);
	ck_assert_err(vhu_guard_add(page, 1), -VSE_ERR_MEM_TOO_MANY);
	vhu_guard_remove(h[5]);
	ck_assert_int_eq(vhu_guard_add(page, 1), h[5]);
	for (i = 0; i < VHU_GUARD_SLOTS; i++)
		vhu_guard_remove(h[i]);
}
END_TEST

static Suite *
vhost_user_suite(void)
{
	Suite *s = suite_create("vhost-user");
	TCase *tc = tcase_create("protocol");

	tcase_add_test(tc, test_handshake_and_packets);
	tcase_add_test(tc, test_reset_owner_disables_rings);
	tcase_add_test(tc, test_mem_table_again_restarts_rings);
	tcase_add_loop_test(tc, test_hostile_front_end, 0, H__COUNT);
	tcase_add_test(tc, test_front_end_not_reading_replies);
	tcase_add_test(tc, test_call_fd_never_blocks);
	tcase_add_test(tc, test_kick_fd_at_eof_is_dropped);
	tcase_add_loop_test(tc, test_region_inside_its_file, 0,
	    (int)(sizeof(past_eof) / sizeof(past_eof[0])));
	tcase_add_test(tc, test_region_fd_not_a_file);
	tcase_add_test(tc, test_sealable_memfd_is_sealed);
	tcase_add_test(tc, test_truncated_memory_survived);
	tcase_add_test(tc, test_kick_fd_error_handled_once);
	tcase_add_test(tc, test_call_fd_error_dropped);
	suite_add_tcase(s, tc);
	tc = tcase_create("guard");
	tcase_add_loop_test(tc, test_guard_passes_other_sigbus, 0, 2);
	tcase_add_test(tc, test_guard_replaces_lost_range);
	tcase_add_test(tc, test_guard_slots_bounded);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(vhost_user_suite)

/* check_gsock.c - the guest vsock stack's wire behaviour against a hand-written device responder. */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "common.h"
#include "guest-credit.h"
#include "pkt.h"
#include "sock.h"
#include "vsock.h"

#define MIB		(UINT64_C(1) << 20)
#define GCID		3
#define HOST_PORT	7000
#define SEC		FG_NS_PER_SEC
#define F_SEQ		FEAT(VIRTIO_VSOCK_F_SEQPACKET)

/* The guest stack and a device that is only its three virtqs. */
struct gs {
	struct fg_mem mem;
	struct fg_vsock *vs;
	struct virtq vq[VSOCK_NUM_QUEUES];
	struct virtq_chain chain;	/* the last TX chain popped */
	struct virtq_chain rxchain;	/* scratch for RX and event pops */
	unsigned kicks[VSOCK_NUM_QUEUES];
	uint64_t now;
	uint8_t payload[VIRTIO_VSOCK_MAX_PKT_BUF_SIZE];
};

/* Counts the stack's notifications per queue. */
static void
count_kick(void *ctx, unsigned q)
{
	struct gs *g = ctx;

	g->kicks[q]++;
}

/* Small queues so that limits are reachable; all features. */
static void
test_config(struct fg_vsock_config *c)
{
	fg_vsock_config_defaults(c);
	c->features = F_ALL | F_SEQ;
	c->qsize[0] = c->qsize[1] = 32;
	c->qsize[2] = 4;
	c->tx_slots = 16;
}

/* Builds the stack from c, sets the device up over its rings, starts it. */
static struct gs *
gs_new_cfg(struct fg_vsock_config *c)
{
	struct gs *g = calloc(1, sizeof(*g));
	const struct fg_ring *r;
	unsigned q;

	ck_assert_ptr_nonnull(g);
	c->kick = count_kick;
	c->kick_ctx = g;
	ck_assert_err(fg_mem_init_simple(&g->mem, 32 * MIB), 0);
	ck_assert_err(fg_vsock_new(&g->mem, c, &g->vs), 0);
	for (q = 0; q < VSOCK_NUM_QUEUES; q++) {
		r = fg_vsock_ring(g->vs, q);
		ck_assert_err(virtq_setup(&g->vq[q], &g->mem.gm, r->num,
		    r->desc_gpa, r->avail_gpa, r->used_gpa, c->features), 0);
	}
	fg_vsock_start(g->vs);
	return g;
}

static struct gs *
gs_new(void)
{
	struct fg_vsock_config c;

	test_config(&c);
	return gs_new_cfg(&c);
}

/*
 * The same with 4096-byte RX buffers, as upstream Linux posted before
 * SKB_WITH_OVERHEAD: for tests that count credit in 4 KiB packets.
 */
static struct gs *
gs_new_4k(void)
{
	struct fg_vsock_config c;

	test_config(&c);
	c.rx_buf_size = VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE;
	return gs_new_cfg(&c);
}

/* Frees everything; the device must never have been flagged. */
static void
gs_free(struct gs *g, bool expect_clean)
{
	if (expect_clean)
		ck_assert_msg(fg_vsock_violation(g->vs) == NULL, "violation: %s",
		    fg_vsock_violation(g->vs));
	fg_vsock_free(g->vs);
	fg_mem_destroy(&g->mem);
	free(g);
}

static void
gs_poll(struct gs *g)
{
	fg_vsock_poll(g->vs, g->now);
}

/* Device: pops one TX packet into *h and g->payload; 0 when none. */
static int
dev_tx(struct gs *g, struct vsock_hdr *h)
{
	struct virtq *vq = &g->vq[VSOCK_QUEUE_TX];
	uint8_t raw[VSOCK_HDR_SIZE];
	int r = virtq_pop(vq, &g->chain);

	ck_assert_int_ge(r, 0);
	if (r == 0)
		return 0;
	ck_assert_int_eq(g->chain.nread, g->chain.nseg);	/* all readable */
	ck_assert_err(virtq_chain_read(vq, &g->chain, 0, raw, sizeof(raw)), 0);
	vsock_hdr_decode(raw, h);
	ck_assert_uint_eq(g->chain.read_len, VSOCK_HDR_SIZE + h->len);
	ck_assert_err(virtq_chain_read(vq, &g->chain, VSOCK_HDR_SIZE,
	    g->payload, h->len), 0);
	ck_assert_err(virtq_push(vq, g->chain.head, 0), 0);
	return 1;
}

/* Device: the next TX packet must exist and have op (line: the caller's). */
static struct vsock_hdr
dev_expect_at(struct gs *g, uint16_t op, int line)
{
	struct vsock_hdr h;

	ck_assert_msg(dev_tx(g, &h) == 1, "line %d: no packet, want %s", line,
	    vsock_op_name(op));
	ck_assert_msg(h.op == op, "line %d: got %s, want %s", line,
	    vsock_op_name(h.op), vsock_op_name(op));
	return h;
}
#define dev_expect(g, op)	dev_expect_at((g), (op), __LINE__)

/* Device: the guest sent nothing. */
static void
dev_none_at(struct gs *g, int line)
{
	struct vsock_hdr h;

	ck_assert_msg(dev_tx(g, &h) == 0, "line %d: unexpected %s", line,
	    vsock_op_name(h.op));
}
#define dev_none(g)		dev_none_at((g), __LINE__)

/* Device: writes raw header + payload into one RX buffer, used = ulen. */
static void
dev_rx_raw(struct gs *g, const struct vsock_hdr *h, const void *payload,
    uint32_t plen, uint32_t ulen)
{
	struct virtq *vq = &g->vq[VSOCK_QUEUE_RX];
	uint8_t raw[VSOCK_HDR_SIZE];

	ck_assert_int_eq(virtq_pop(vq, &g->rxchain), 1);
	vsock_hdr_encode(h, raw);
	ck_assert_err(virtq_chain_write(vq, &g->rxchain, 0, raw, sizeof(raw)),
	    0);
	ck_assert_err(virtq_chain_write(vq, &g->rxchain, VSOCK_HDR_SIZE,
	    payload, plen), 0);
	ck_assert_err(virtq_push(vq, g->rxchain.head, ulen), 0);
}

/* Device: delivers one well-formed packet and lets the guest handle it. */
static void
dev_rx(struct gs *g, const struct vsock_hdr *h, const void *payload)
{
	dev_rx_raw(g, h, payload, h->len, VSOCK_HDR_SIZE + h->len);
	gs_poll(g);
}

/* A host-to-guest header. */
static struct vsock_hdr
host_hdr(uint16_t op, uint16_t type, uint32_t src_port, uint32_t dst_port)
{
	struct vsock_hdr h;

	memset(&h, 0, sizeof(h));
	h.src_cid = VMADDR_CID_HOST;
	h.dst_cid = GCID;
	h.src_port = src_port;
	h.dst_port = dst_port;
	h.type = type;
	h.op = op;
	h.buf_alloc = FG_DEFAULT_BUF_ALLOC;
	return h;
}

/* A host packet on fd's connection. */
static struct vsock_hdr
conn_hdr(struct gs *g, int fd, uint16_t op)
{
	struct fg_sock_info i;

	ck_assert_err(fg_sock_info(g->vs, fd, &i), 0);
	return host_hdr(op, i.type, i.peer_port, i.local_port);
}

/* Connects a new socket to HOST_PORT; the host grants peer_buf bytes. */
static int
gs_connect(struct gs *g, uint16_t type, uint32_t peer_buf)
{
	struct vsock_hdr req, rsp;
	int fd = fg_sock_open(g->vs, type);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fg_sock_connect(g->vs, fd, VMADDR_CID_HOST, HOST_PORT,
	    g->now), -EINPROGRESS);
	req = dev_expect(g, VIRTIO_VSOCK_OP_REQUEST);
	rsp = host_hdr(VIRTIO_VSOCK_OP_RESPONSE, type, HOST_PORT, req.src_port);
	rsp.buf_alloc = peer_buf;
	dev_rx(g, &rsp, NULL);
	ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_CONNECTED);
	dev_none(g);
	return fd;
}

/* Fills buf with a pattern that shows misordered bytes. */
static void
pattern(uint8_t *buf, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + seed);
}

/*
 * Start posts every RX buffer and event buffer. An RX buffer is one
 * writable descriptor of 3776 bytes, header and payload, as Debian's
 * 6.1.192 posts it (FG_LINUX_RX_BUF_SIZE).
 */
START_TEST(test_start_posts_buffers)
{
	struct gs *g = gs_new();

	ck_assert_int_eq(virtq_avail(&g->vq[VSOCK_QUEUE_RX]), 32);
	ck_assert_int_eq(virtq_avail(&g->vq[VSOCK_QUEUE_EVENT]), 4);
	ck_assert_int_eq(virtq_avail(&g->vq[VSOCK_QUEUE_TX]), 0);
	ck_assert_int_eq(virtq_pop(&g->vq[VSOCK_QUEUE_RX], &g->chain), 1);
	ck_assert_int_eq(g->chain.nseg, 1);
	ck_assert_int_eq(g->chain.nread, 0);
	ck_assert_uint_eq(g->chain.write_len, 3776);
	ck_assert_int_eq(virtq_pop(&g->vq[VSOCK_QUEUE_EVENT], &g->chain), 1);
	ck_assert_uint_eq(g->chain.write_len, VSOCK_EVENT_SIZE);
	ck_assert_uint_eq(g->kicks[VSOCK_QUEUE_RX], 1);
	ck_assert_uint_eq(g->kicks[VSOCK_QUEUE_EVENT], 1);
	gs_free(g, true);
}
END_TEST

/* REQUEST carries every field Linux sets; ephemeral ports skip bound ones. */
START_TEST(test_connect_request)
{
	struct gs *g = gs_new();
	struct vsock_hdr h;
	int a = fg_sock_open(g->vs, VIRTIO_VSOCK_TYPE_STREAM);
	int b = fg_sock_open(g->vs, VIRTIO_VSOCK_TYPE_STREAM);
	int c = fg_sock_open(g->vs, VIRTIO_VSOCK_TYPE_STREAM);
	int d = fg_sock_open(g->vs, VIRTIO_VSOCK_TYPE_STREAM);

	ck_assert_int_eq(fg_sock_connect(g->vs, a, 2, 5000, 0), -EINPROGRESS);
	ck_assert_int_eq(fg_sock_state(g->vs, a), FG_SS_CONNECTING);
	ck_assert_int_eq(fg_sock_connect(g->vs, a, 2, 5000, 0), -EALREADY);
	h = dev_expect(g, VIRTIO_VSOCK_OP_REQUEST);
	ck_assert_uint_eq(h.src_cid, GCID);
	ck_assert_uint_eq(h.dst_cid, 2);
	ck_assert_uint_eq(h.src_port, 1024);
	ck_assert_uint_eq(h.dst_port, 5000);
	ck_assert_uint_eq(h.len, 0);
	ck_assert_uint_eq(h.type, VIRTIO_VSOCK_TYPE_STREAM);
	ck_assert_uint_eq(h.flags, 0);
	ck_assert_uint_eq(h.buf_alloc, 256 * 1024);
	ck_assert_uint_eq(h.fwd_cnt, 0);
	ck_assert_uint_eq(g->chain.nseg, 1);
	ck_assert_uint_ge(g->kicks[VSOCK_QUEUE_TX], 1);

	fg_sock_connect(g->vs, b, 2, 5000, 0);
	ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_REQUEST).src_port, 1025);
	ck_assert_int_eq(fg_sock_bind(g->vs, c, 1026), 0);
	ck_assert_int_eq(fg_sock_bind(g->vs, c, 1027), -EINVAL);
	ck_assert_int_eq(fg_sock_bind(g->vs, d, 1026), -EADDRINUSE);
	fg_sock_connect(g->vs, d, 2, 5000, 0);
	ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_REQUEST).src_port, 1027);
	ck_assert_int_eq(fg_sock_open(g->vs, 9), -ESOCKTNOSUPPORT);
	ck_assert_int_eq(fg_sock_connect(g->vs, 99, 2, 1, 0), -EBADF);
	gs_free(g, true);
}
END_TEST

/* RESPONSE completes the connect and records the peer's credit. */
START_TEST(test_connect_response)
{
	struct gs *g = gs_new();
	int fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 12345);
	struct fg_sock_info i;

	ck_assert_err(fg_sock_info(g->vs, fd, &i), 0);
	ck_assert_uint_eq(i.peer_buf_alloc, 12345);
	ck_assert_uint_eq(i.credit, 12345);
	ck_assert_int_eq(i.error, 0);
	ck_assert_int_eq(fg_sock_connect(g->vs, fd, 2, 1, 0), -EISCONN);
	ck_assert_uint_eq(fg_vsock_next_deadline(g->vs), FG_TIME_NEVER);
	gs_free(g, true);
}
END_TEST

/* RST refuses the connect (Linux: ECONNRESET) and is never answered. */
START_TEST(test_connect_rst)
{
	struct gs *g = gs_new();
	int fd = fg_sock_open(g->vs, VIRTIO_VSOCK_TYPE_STREAM);
	struct vsock_hdr req, rst;

	fg_sock_connect(g->vs, fd, 2, HOST_PORT, 0);
	req = dev_expect(g, VIRTIO_VSOCK_OP_REQUEST);
	rst = host_hdr(VIRTIO_VSOCK_OP_RST, req.type, HOST_PORT, req.src_port);
	dev_rx(g, &rst, NULL);
	ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_CLOSED);
	ck_assert_int_eq(fg_sock_error(g->vs, fd), ECONNRESET);
	dev_none(g);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->rx_pkts[VIRTIO_VSOCK_OP_RST], 1);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, "x", 1, 0), -ENOTCONN);
	gs_free(g, true);
}
END_TEST

/* Unanswered, the connect fails after exactly 2 s of virtual time, silently. */
START_TEST(test_connect_timeout)
{
	struct gs *g = gs_new();
	int fd = fg_sock_open(g->vs, VIRTIO_VSOCK_TYPE_STREAM);
	struct vsock_hdr req, rsp;

	g->now = 1000;
	fg_sock_connect(g->vs, fd, 2, HOST_PORT, g->now);
	req = dev_expect(g, VIRTIO_VSOCK_OP_REQUEST);
	ck_assert_uint_eq(fg_vsock_next_deadline(g->vs), 1000 + 2 * SEC);
	g->now = 1000 + 2 * SEC - 1;
	gs_poll(g);
	ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_CONNECTING);
	g->now++;
	gs_poll(g);
	ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_CLOSED);
	ck_assert_int_eq(fg_sock_error(g->vs, fd), ETIMEDOUT);
	dev_none(g);
	/* A late RESPONSE meets no socket: RST. */
	rsp = host_hdr(VIRTIO_VSOCK_OP_RESPONSE, req.type, HOST_PORT,
	    req.src_port);
	dev_rx(g, &rsp, NULL);
	ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_RST).dst_port,
	    HOST_PORT);
	gs_free(g, true);
}
END_TEST

/* listen + REQUEST: RESPONSE, accept; Linux's backlog is "more than". */
START_TEST(test_listen_accept)
{
	struct gs *g = gs_new();
	int l = fg_sock_open(g->vs, VIRTIO_VSOCK_TYPE_STREAM), c;
	struct vsock_hdr req, h;
	struct fg_sock_info i;
	uint32_t p;

	ck_assert_int_eq(fg_sock_listen(g->vs, l, 1), -EINVAL); /* unbound */
	ck_assert_int_eq(fg_sock_bind(g->vs, l, 6000), 0);
	ck_assert_int_eq(fg_sock_listen(g->vs, l, 1), 0);
	ck_assert_int_eq(fg_sock_accept(g->vs, l), -EAGAIN);
	for (p = 0; p < 3; p++) {
		req = host_hdr(VIRTIO_VSOCK_OP_REQUEST,
		    VIRTIO_VSOCK_TYPE_STREAM, HOST_PORT + p, 6000);
		req.buf_alloc = 12345;
		dev_rx(g, &req, NULL);
		h = dev_expect(g, p < 2 ? VIRTIO_VSOCK_OP_RESPONSE :
		    VIRTIO_VSOCK_OP_RST);
		ck_assert_uint_eq(h.src_cid, GCID);
		ck_assert_uint_eq(h.dst_cid, 2);
		ck_assert_uint_eq(h.src_port, 6000);
		ck_assert_uint_eq(h.dst_port, HOST_PORT + p);
		ck_assert_uint_eq(h.type, VIRTIO_VSOCK_TYPE_STREAM);
		ck_assert_uint_eq(h.buf_alloc, p < 2 ? 256 * 1024 : 0);
	}
	c = fg_sock_accept(g->vs, l);
	ck_assert_int_ge(c, 0);
	ck_assert_err(fg_sock_info(g->vs, c, &i), 0);
	ck_assert_int_eq(i.state, FG_SS_CONNECTED);
	ck_assert_uint_eq(i.peer_port, HOST_PORT);
	ck_assert_uint_eq(i.local_port, 6000);
	ck_assert_uint_eq(i.peer_buf_alloc, 12345);
	ck_assert_uint_eq(fg_sock_accept(g->vs, l) >= 0, 1);
	ck_assert_int_eq(fg_sock_accept(g->vs, l), -EAGAIN);
	/* A second REQUEST on an existing pair is no new connection. */
	req = host_hdr(VIRTIO_VSOCK_OP_REQUEST, VIRTIO_VSOCK_TYPE_STREAM,
	    HOST_PORT, 6000);
	dev_rx(g, &req, NULL);
	dev_none(g);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->rx_invalid_op, 1);
	gs_free(g, true);
}
END_TEST

/* A gate that answers from a script and counts what it was asked. */
struct gate_script {
	bool answer;
	unsigned asked;
	uint32_t last_port;
};

static bool
gate_scripted(void *ctx, uint64_t peer_cid, uint32_t peer_port)
{
	struct gate_script *gs = ctx;

	ck_assert_uint_eq(peer_cid, 2);
	gs->asked++;
	gs->last_port = peer_port;
	return gs->answer;
}

/*
 * A listener's gate (serve's unix: bridges, issue 18): a no is the RST of
 * a port nothing listens on (virtio_transport_reset_no_sock), with no
 * child queued; a yes is the RESPONSE; a full backlog refuses before the
 * gate is asked, so a yes is always answered. Removing the gate restores
 * plain listening.
 */
START_TEST(test_listen_gate)
{
	struct gs *g = gs_new();
	int l = fg_sock_open(g->vs, VIRTIO_VSOCK_TYPE_STREAM);
	struct gate_script gs = { false, 0, 0 };
	struct vsock_hdr req, h;
	struct fg_sock_info i;
	uint32_t p;

	ck_assert_int_eq(fg_sock_bind(g->vs, l, 6000), 0);
	ck_assert_int_eq(fg_sock_listen(g->vs, l, 1), 0);
	ck_assert_int_eq(fg_sock_set_gate(g->vs, 999, gate_scripted, &gs),
	    -EBADF);
	ck_assert_int_eq(fg_sock_set_gate(g->vs, l, gate_scripted, &gs), 0);
	for (p = 0; p < 4; p++) {
		gs.answer = p >= 1;
		req = host_hdr(VIRTIO_VSOCK_OP_REQUEST,
		    VIRTIO_VSOCK_TYPE_STREAM, HOST_PORT + p, 6000);
		dev_rx(g, &req, NULL);
		h = dev_expect(g, p == 1 || p == 2 ?
		    VIRTIO_VSOCK_OP_RESPONSE : VIRTIO_VSOCK_OP_RST);
		ck_assert_uint_eq(h.dst_port, HOST_PORT + p);
		dev_none(g);
	}
	/* Asked for 0 (no), 1 and 2 (yes); 3 met a full backlog first. */
	ck_assert_uint_eq(gs.asked, 3);
	ck_assert_uint_eq(gs.last_port, HOST_PORT + 2);
	ck_assert_err(fg_sock_info(g->vs, l, &i), 0);
	ck_assert_uint_eq(i.accept_queued, 2);
	ck_assert_int_ge(fg_sock_accept(g->vs, l), 0);
	ck_assert_int_ge(fg_sock_accept(g->vs, l), 0);
	ck_assert_int_eq(fg_sock_accept(g->vs, l), -EAGAIN);
	ck_assert_int_eq(fg_sock_set_gate(g->vs, l, NULL, NULL), 0);
	req = host_hdr(VIRTIO_VSOCK_OP_REQUEST, VIRTIO_VSOCK_TYPE_STREAM,
	    HOST_PORT + 9, 6000);
	dev_rx(g, &req, NULL);
	dev_expect(g, VIRTIO_VSOCK_OP_RESPONSE);
	ck_assert_uint_eq(gs.asked, 3);
	gs_free(g, true);
}
END_TEST

/* Packets no socket takes get RST, except an RST itself. */
START_TEST(test_rst_rules)
{
	struct gs *g = gs_new();
	int l = fg_sock_open(g->vs, VIRTIO_VSOCK_TYPE_STREAM);
	struct vsock_hdr h;

	fg_sock_bind(g->vs, l, 6000);
	fg_sock_listen(g->vs, l, 4);
	/* REQUEST to an unbound port. */
	h = host_hdr(VIRTIO_VSOCK_OP_REQUEST, VIRTIO_VSOCK_TYPE_STREAM, 4444,
	    9999);
	dev_rx(g, &h, NULL);
	h = dev_expect(g, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(h.src_cid, GCID);
	ck_assert_uint_eq(h.dst_cid, 2);
	ck_assert_uint_eq(h.src_port, 9999);
	ck_assert_uint_eq(h.dst_port, 4444);
	ck_assert_uint_eq(h.type, VIRTIO_VSOCK_TYPE_STREAM);
	/* RST to an unknown pair or to a listener: silence. */
	h = host_hdr(VIRTIO_VSOCK_OP_RST, VIRTIO_VSOCK_TYPE_STREAM, 4444, 9999);
	dev_rx(g, &h, NULL);
	h.dst_port = 6000;
	dev_rx(g, &h, NULL);
	dev_none(g);
	/* RW / CREDIT_UPDATE for an unknown pair; non-REQUEST to a listener. */
	h = host_hdr(VIRTIO_VSOCK_OP_RW, VIRTIO_VSOCK_TYPE_STREAM, 4444, 9999);
	h.len = 3;
	dev_rx(g, &h, "abc");
	dev_expect(g, VIRTIO_VSOCK_OP_RST);
	h = host_hdr(VIRTIO_VSOCK_OP_CREDIT_UPDATE, VIRTIO_VSOCK_TYPE_STREAM,
	    4444, 6000);
	dev_rx(g, &h, NULL);
	dev_expect(g, VIRTIO_VSOCK_OP_RST);
	/* REQUEST of the other type to the listener. */
	h = host_hdr(VIRTIO_VSOCK_OP_REQUEST, VIRTIO_VSOCK_TYPE_SEQPACKET,
	    4444, 6000);
	dev_rx(g, &h, NULL);
	ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_RST).type,
	    VIRTIO_VSOCK_TYPE_SEQPACKET);
	dev_none(g);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->tx_pkts[VIRTIO_VSOCK_OP_RST], 4);
	gs_free(g, true);
}
END_TEST

/* The credit arithmetic at its boundaries, including the 2^32 wrap. */
START_TEST(test_credit_arith)
{
	ck_assert_uint_eq(fg_credit_peer(1000, 0, 0), 1000);
	ck_assert_uint_eq(fg_credit_peer(1000, 1000, 0), 0);
	ck_assert_uint_eq(fg_credit_peer(1000, 999, 0), 1);
	/* Shrunk below what is in flight: 0, not 2^32 - 1000. */
	ck_assert_uint_eq(fg_credit_peer(1000, 2000, 0), 0);
	ck_assert_uint_eq(fg_credit_peer(0, 5, 5), 0);
	/* Wrapped tx_cnt: 0x10 - 0xfffffff0 = 0x20 in flight. */
	ck_assert_uint_eq(fg_credit_peer(0x100, 0x10, 0xfffffff0), 0xe0);
	ck_assert_uint_eq(fg_credit_peer(UINT32_MAX, 0, 0), UINT32_MAX);
	/* A peer claiming to have read more than we sent gets no credit. */
	ck_assert_uint_eq(fg_credit_peer(1000, 0, 1), 0);

	ck_assert(!fg_credit_update_needed(65536, 10, 10, 0, 1));
	ck_assert(fg_credit_update_needed(65536, 11, 10, 0, 1));	/* empty */
	ck_assert(!fg_credit_update_needed(65537, 11, 10, 1, 1));
	ck_assert(fg_credit_update_needed(65536, 11, 10, 1, 1));	/* free < 64K */
	ck_assert(fg_credit_update_needed(1 << 20, 11, 10, 1, 2));	/* lowat */
	ck_assert(fg_credit_update_needed(10, 100, 0, 5, 1));	/* shrunk */
	ck_assert(fg_credit_update_needed(1 << 20, 5, UINT32_MAX - 5, 0, 1));

	ck_assert(!fg_credit_overrun(100, 50, 50));
	ck_assert(fg_credit_overrun(100, 50, 51));
	ck_assert(fg_credit_overrun(UINT32_MAX, UINT32_MAX, 1));
}
END_TEST

/* send stops exactly at the peer's credit and resumes on CREDIT_UPDATE. */
START_TEST(test_credit_send)
{
	struct gs *g = gs_new();
	int fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 10000);
	static uint8_t buf[200000];
	struct vsock_hdr h;
	uint32_t lens[] = { 65536, 65536, 65536, 3392 };
	unsigned k;

	pattern(buf, sizeof(buf), 1);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 15000, 0), 10000);
	h = dev_expect(g, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(h.len, 10000);
	ck_assert_uint_eq(h.buf_alloc, 256 * 1024);
	ck_assert_uint_eq(h.fwd_cnt, 0);
	ck_assert_mem_eq(g->payload, buf, 10000);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 1, 0), -EAGAIN);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 0, 0), 0);
	dev_none(g);
	h = conn_hdr(g, fd, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	h.buf_alloc = 10000;
	h.fwd_cnt = 4000;
	dev_rx(g, &h, NULL);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf + 10000, 15000, 0), 4000);
	ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_RW).len, 4000);
	ck_assert_mem_eq(g->payload, buf + 10000, 4000);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 1, 0), -EAGAIN);

	/* A large grant: packets of at most 64 KiB. */
	h.buf_alloc = 256 * 1024;
	h.fwd_cnt = 14000;
	dev_rx(g, &h, NULL);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 200000, 0), 200000);
	for (k = 0; k < 4; k++) {
		ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_RW).len, lens[k]);
		ck_assert_mem_eq(g->payload, buf + 65536 * k, lens[k]);
	}
	dev_none(g);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->tx_bytes, 214000);
	gs_free(g, true);
}
END_TEST

/* A peer shrinking its buffer below what is in flight leaves credit 0. */
START_TEST(test_credit_shrink)
{
	struct gs *g = gs_new();
	int fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 65536);
	static uint8_t buf[60000];
	struct fg_sock_info i;
	struct vsock_hdr h;

	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, sizeof(buf), 0), 60000);
	dev_expect(g, VIRTIO_VSOCK_OP_RW);
	h = conn_hdr(g, fd, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	h.buf_alloc = 1000;
	dev_rx(g, &h, NULL);
	fg_sock_info(g->vs, fd, &i);
	ck_assert_uint_eq(i.credit, 0);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 1, 0), -EAGAIN);
	h.fwd_cnt = 60000;
	dev_rx(g, &h, NULL);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 5000, 0), 1000);
	gs_free(g, true);
}
END_TEST

/* tx_cnt and fwd_cnt cross 2^32 without losing or inventing credit. */
START_TEST(test_credit_wrap)
{
	struct gs *g = gs_new();
	int fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 65536);
	static uint8_t buf[65536];
	struct fg_sock_info i;
	struct vsock_hdr h;

	ck_assert_err(fg_sock_test_set_counters(g->vs, fd, 0xfffff000,
	    0xffffff00), 0);
	h = conn_hdr(g, fd, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	h.buf_alloc = 65536;
	h.fwd_cnt = 0xfffff000;
	dev_rx(g, &h, NULL);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, sizeof(buf), 0), 65536);
	ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_RW).fwd_cnt, 0xffffff00);
	fg_sock_info(g->vs, fd, &i);
	ck_assert_uint_eq(i.tx_cnt, 0x0000f000);
	ck_assert_uint_eq(i.credit, 0);
	h.fwd_cnt = 0x00001000;		/* the peer read across the wrap */
	dev_rx(g, &h, NULL);
	fg_sock_info(g->vs, fd, &i);
	/* In flight 0xf000 - 0x1000 = 0xe000 of 0x10000. */
	ck_assert_uint_eq(i.credit, 0x2000);
	/* Receiving across the wrap: fwd_cnt goes 0xffffff00 -> 0x100. */
	h = conn_hdr(g, fd, VIRTIO_VSOCK_OP_RW);
	h.len = 0x200;
	dev_rx(g, &h, buf);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, sizeof(buf), NULL), 0x200);
	h = dev_expect(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	ck_assert_uint_eq(h.fwd_cnt, 0x100);
	gs_free(g, true);
}
END_TEST

/* Delivers n RW packets of len bytes each on fd's connection. */
static void
rx_data(struct gs *g, int fd, unsigned n, uint32_t len)
{
	struct vsock_hdr h = conn_hdr(g, fd, VIRTIO_VSOCK_OP_RW);
	static uint8_t buf[VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE];

	h.len = len;
	while (n-- > 0)
		dev_rx(g, &h, buf);
}

/* Linux >= 6.8: CREDIT_UPDATE when fwd_cnt moved and (free < 64 KiB or rx < lowat). */
START_TEST(test_credit_update_rule)
{
	struct gs *g = gs_new_4k();
	int fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 65536);
	static uint8_t buf[65536];
	struct vsock_hdr h;

	/* Default lowat 1: only the read that empties the queue reports. */
	rx_data(g, fd, 2, 1000);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, 500, NULL), 500);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, 1000, NULL), 1000);
	dev_none(g);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, 1000, NULL), 500);
	h = dev_expect(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	ck_assert_uint_eq(h.fwd_cnt, 2000);
	ck_assert_uint_eq(h.buf_alloc, 256 * 1024);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, 1, NULL), -EAGAIN);

	/* Free space: a 100000-byte buffer reports once 34465+ are unreported. */
	ck_assert_int_eq(fg_sock_set_buf_alloc(g->vs, fd, 100000), 0);
	ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE).buf_alloc,
	    100000);
	rx_data(g, fd, 10, 4096);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, 8 * 4096, NULL), 32768);
	dev_none(g);		/* 100000 - 32768 >= 64 KiB */
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, 4096, NULL), 4096);
	ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE).fwd_cnt,
	    2000 + 9 * 4096);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, 4096, NULL), 4096);
	dev_expect(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE);	/* emptied */

	/* SO_RCVLOWAT: fewer than lowat bytes left queued reports too. */
	rx_data(g, fd, 2, 4096);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, 4096, NULL), 4096);
	dev_none(g);
	/* ...and raising it above what is queued reports at once (6.8). */
	ck_assert_int_eq(fg_sock_set_rcvlowat(g->vs, fd, 8192), 0);
	ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE).fwd_cnt,
	    2000 + 11 * 4096);
	ck_assert_int_eq(fg_sock_set_rcvlowat(g->vs, fd, 8192), 0);
	dev_none(g);		/* nothing new to report */
	rx_data(g, fd, 2, 4096);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, 8192, NULL), 8192);
	dev_expect(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	rx_data(g, fd, 3, 4096);	/* 4096 were left: 16384 queued */
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, 4096, NULL), 4096);
	dev_none(g);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, 4096, NULL), 4096);
	dev_none(g);		/* 8192 left is not below lowat 8192 */
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, 4096, NULL), 4096);
	dev_expect(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE);	/* 4096 is */
	ck_assert_int_eq(fg_sock_set_rcvlowat(g->vs, fd, 200000), -EINVAL);
	gs_free(g, true);
}
END_TEST

/* CREDIT_REQUEST is answered with our current buf_alloc and fwd_cnt. */
START_TEST(test_credit_request)
{
	struct gs *g = gs_new();
	int fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 65536);
	uint8_t buf[100];
	struct vsock_hdr h;

	rx_data(g, fd, 2, 50);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, 50, NULL), 50);
	dev_none(g);
	h = conn_hdr(g, fd, VIRTIO_VSOCK_OP_CREDIT_REQUEST);
	dev_rx(g, &h, NULL);
	h = dev_expect(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	ck_assert_uint_eq(h.fwd_cnt, 50);
	ck_assert_uint_eq(h.buf_alloc, 256 * 1024);
	ck_assert_uint_eq(h.dst_port, HOST_PORT);
	gs_free(g, true);
}
END_TEST

/* An RW beyond our credit is dropped and counted; no RST (Linux). */
START_TEST(test_rx_overrun)
{
	struct gs *g = gs_new_4k();
	int fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 65536);
	struct fg_sock_info i;

	fg_sock_set_buf_alloc(g->vs, fd, 5000);
	dev_expect(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	rx_data(g, fd, 1, 4096);
	rx_data(g, fd, 1, 904);		/* exactly full */
	rx_data(g, fd, 1, 1);		/* one byte over */
	dev_none(g);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->rx_overrun, 1);
	fg_sock_info(g->vs, fd, &i);
	ck_assert_uint_eq(i.rx_bytes, 5000);
	ck_assert_int_eq(i.state, FG_SS_CONNECTED);
	gs_free(g, true);
}
END_TEST

/* close: SHUTDOWN(RCV|SEND), then RST after exactly 8 s unanswered. */
START_TEST(test_close_timeout)
{
	struct gs *g = gs_new();
	int fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 65536), o;
	struct vsock_hdr h;

	g->now = 5 * SEC;
	ck_assert_uint_eq(fg_vsock_socket_count(g->vs), 1);
	ck_assert_int_eq(fg_sock_close(g->vs, fd, g->now), 0);
	ck_assert_uint_eq(fg_vsock_socket_count(g->vs), 1);	/* lingers */
	h = dev_expect(g, VIRTIO_VSOCK_OP_SHUTDOWN);
	ck_assert_uint_eq(h.flags, VIRTIO_VSOCK_SHUTDOWN_MASK);
	ck_assert_int_eq(fg_sock_state(g->vs, fd), -EBADF);
	ck_assert_int_eq(fg_sock_close(g->vs, fd, g->now), -EBADF);
	o = fg_sock_open(g->vs, VIRTIO_VSOCK_TYPE_STREAM);
	ck_assert_int_ne(o, fd);	/* the lingering socket holds its slot */
	ck_assert_int_eq(fg_sock_bind(g->vs, o, h.src_port), -EADDRINUSE);
	g->now = 13 * SEC - 1;
	gs_poll(g);
	dev_none(g);
	g->now++;
	gs_poll(g);
	h = dev_expect(g, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(h.dst_port, HOST_PORT);
	ck_assert_int_eq(fg_sock_bind(g->vs, o, h.src_port), 0);
	ck_assert_uint_eq(fg_vsock_next_deadline(g->vs), FG_TIME_NEVER);
	ck_assert_uint_eq(fg_vsock_socket_count(g->vs), 1);	/* just o */
	gs_free(g, true);
}
END_TEST

/*
 * A closed socket that the peer's SHUTDOWN(3) unlisted (unread data, so no
 * RST: virtio_transport_recv_connected) still lingers on its close timer,
 * and virtio_transport_close_timeout sends RST and frees it.
 */
START_TEST(test_close_timeout_unlisted)
{
	struct gs *g = gs_new();
	int fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 65536);
	struct vsock_hdr h = conn_hdr(g, fd, VIRTIO_VSOCK_OP_SHUTDOWN);

	rx_data(g, fd, 1, 100);
	ck_assert_int_eq(fg_sock_close(g->vs, fd, 0), 0);
	dev_expect(g, VIRTIO_VSOCK_OP_SHUTDOWN);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_MASK;
	dev_rx(g, &h, NULL);
	dev_none(g);
	/* Unlisted: the pair is free for a new connection at once. */
	h.op = VIRTIO_VSOCK_OP_CREDIT_REQUEST;
	dev_rx(g, &h, NULL);
	ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_RST).buf_alloc, 0);
	ck_assert_uint_eq(fg_vsock_socket_count(g->vs), 1);
	ck_assert_uint_eq(fg_vsock_next_deadline(g->vs), FG_CLOSE_TIMEOUT);
	g->now = FG_CLOSE_TIMEOUT;
	gs_poll(g);
	h = dev_expect(g, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(h.buf_alloc, FG_DEFAULT_BUF_ALLOC);	/* the socket's */
	ck_assert_uint_eq(fg_vsock_socket_count(g->vs), 0);
	dev_none(g);
	gs_free(g, true);
}
END_TEST

/* close answered by the peer's RST (silence) or SHUTDOWN(3) (our RST). */
START_TEST(test_close_answered)
{
	struct gs *g = gs_new();
	int fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 65536);
	struct vsock_hdr h = conn_hdr(g, fd, VIRTIO_VSOCK_OP_RST);

	fg_sock_close(g->vs, fd, 0);
	dev_expect(g, VIRTIO_VSOCK_OP_SHUTDOWN);
	dev_rx(g, &h, NULL);
	dev_none(g);
	ck_assert_uint_eq(fg_vsock_next_deadline(g->vs), FG_TIME_NEVER);

	fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 65536);
	h = conn_hdr(g, fd, VIRTIO_VSOCK_OP_SHUTDOWN);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_MASK;
	fg_sock_close(g->vs, fd, 0);
	dev_expect(g, VIRTIO_VSOCK_OP_SHUTDOWN);
	dev_rx(g, &h, NULL);
	dev_expect(g, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(fg_vsock_next_deadline(g->vs), FG_TIME_NEVER);
	/* The pair is gone: anything more from it gets RST. */
	h.op = VIRTIO_VSOCK_OP_CREDIT_REQUEST;
	h.flags = 0;
	dev_rx(g, &h, NULL);
	dev_expect(g, VIRTIO_VSOCK_OP_RST);
	gs_free(g, true);
}
END_TEST

/* Peer SHUTDOWN(3) with nothing unread: RST, EOF, EPIPE; close sends RST. */
START_TEST(test_peer_shutdown_both)
{
	struct gs *g = gs_new();
	int fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 65536);
	struct vsock_hdr h = conn_hdr(g, fd, VIRTIO_VSOCK_OP_SHUTDOWN);
	uint8_t buf[8];
	struct fg_sock_info i;

	h.flags = VIRTIO_VSOCK_SHUTDOWN_RCV;
	dev_rx(g, &h, NULL);
	dev_none(g);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, "x", 1, 0), -EPIPE);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND;	/* accumulates to 3 */
	dev_rx(g, &h, NULL);
	h = dev_expect(g, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(h.dst_port, HOST_PORT);
	fg_sock_info(g->vs, fd, &i);
	ck_assert_int_eq(i.state, FG_SS_CLOSING);
	ck_assert_uint_eq(i.peer_shutdown, VIRTIO_VSOCK_SHUTDOWN_MASK);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, sizeof(buf), NULL), 0);
	/* Linux's close of a socket whose peer shut down both ways: RST. */
	fg_sock_close(g->vs, fd, 0);
	dev_expect(g, VIRTIO_VSOCK_OP_RST);
	dev_none(g);
	gs_free(g, true);
}
END_TEST

/* Peer SHUTDOWN(SEND): unread data first, then EOF; no RST while data waits. */
START_TEST(test_peer_shutdown_send)
{
	struct gs *g = gs_new();
	int fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 65536);
	struct vsock_hdr h = conn_hdr(g, fd, VIRTIO_VSOCK_OP_SHUTDOWN);
	uint8_t buf[200];

	rx_data(g, fd, 1, 100);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
	dev_rx(g, &h, NULL);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, "x", 1, 0), 1);
	dev_expect(g, VIRTIO_VSOCK_OP_RW);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_MASK;
	dev_rx(g, &h, NULL);
	dev_none(g);			/* 100 bytes unread: no RST yet */
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, sizeof(buf), NULL), 100);
	dev_expect(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, sizeof(buf), NULL), 0);
	ck_assert_int_eq(fg_sock_shutdown(g->vs, fd, SHUT_WR), 0);
	ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_SHUTDOWN).flags,
	    VIRTIO_VSOCK_SHUTDOWN_SEND);
	ck_assert_int_eq(fg_sock_shutdown(g->vs, fd, 7), -EINVAL);
	gs_free(g, true);
}
END_TEST

/* SEQPACKET send: 64 KiB fragments, EOM on the last, EOR with MSG_EOR. */
START_TEST(test_seqpacket_send)
{
	struct gs *g = gs_new();
	int fd = gs_connect(g, VIRTIO_VSOCK_TYPE_SEQPACKET, 150000);
	static uint8_t buf[150001];
	struct vsock_hdr h;

	pattern(buf, sizeof(buf), 3);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 100000, MSG_EOR), 100000);
	h = dev_expect(g, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(h.len, 65536);
	ck_assert_uint_eq(h.flags, 0);
	ck_assert_uint_eq(h.type, VIRTIO_VSOCK_TYPE_SEQPACKET);
	h = dev_expect(g, VIRTIO_VSOCK_OP_RW);
	ck_assert_uint_eq(h.len, 34464);
	ck_assert_uint_eq(h.flags, VIRTIO_VSOCK_SEQ_EOM | VIRTIO_VSOCK_SEQ_EOR);
	ck_assert_mem_eq(g->payload, buf + 65536, 34464);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 10, 0), 10);
	ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_RW).flags,
	    VIRTIO_VSOCK_SEQ_EOM);
	/* Larger than the peer's whole buffer: never. */
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 150001, 0), -EMSGSIZE);
	/* Fits the buffer but not the credit left: nothing goes. */
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 50000, 0), -EAGAIN);
	dev_none(g);
	gs_free(g, true);
}
END_TEST

/* SEQPACKET recv: one message per call, EOR and TRUNC reported. */
START_TEST(test_seqpacket_recv)
{
	struct gs *g = gs_new();
	int fd = gs_connect(g, VIRTIO_VSOCK_TYPE_SEQPACKET, 65536), flags;
	struct vsock_hdr h = conn_hdr(g, fd, VIRTIO_VSOCK_OP_RW);
	char buf[100];

	h.len = 3;
	dev_rx(g, &h, "abc");
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, 100, &flags), -EAGAIN);
	dev_rx(g, &h, "def");
	h.len = 2;
	h.flags = VIRTIO_VSOCK_SEQ_EOM | VIRTIO_VSOCK_SEQ_EOR;
	dev_rx(g, &h, "gh");
	h.len = 3;
	h.flags = VIRTIO_VSOCK_SEQ_EOM;
	dev_rx(g, &h, "xyz");
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, 100, &flags), 8);
	ck_assert_mem_eq(buf, "abcdefgh", 8);
	ck_assert_int_eq(flags, MSG_EOR);
	/* Linux sends CREDIT_UPDATE after every SEQPACKET message read. */
	ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE).fwd_cnt, 8);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, 2, &flags), 2);
	ck_assert_mem_eq(buf, "xy", 2);
	ck_assert_int_eq(flags, MSG_TRUNC);
	ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE).fwd_cnt,
	    11);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, buf, 100, &flags), -EAGAIN);
	gs_free(g, true);
}
END_TEST

/* Without VIRTIO_VSOCK_F_SEQPACKET: no SEQPACKET connect, and none may arrive. */
START_TEST(test_seqpacket_not_negotiated)
{
	struct fg_vsock_config c;
	struct gs *g;
	struct vsock_hdr h;
	int fd;

	test_config(&c);
	c.features &= ~F_SEQ;
	g = gs_new_cfg(&c);
	fd = fg_sock_open(g->vs, VIRTIO_VSOCK_TYPE_SEQPACKET);
	ck_assert_int_eq(fg_sock_connect(g->vs, fd, 2, 1, 0), -ESOCKTNOSUPPORT);
	h = host_hdr(VIRTIO_VSOCK_OP_REQUEST, VIRTIO_VSOCK_TYPE_SEQPACKET, 1, 2);
	dev_rx(g, &h, NULL);
	dev_none(g);
	ck_assert_str_eq(fg_vsock_violation(g->vs),
	    "RX SEQPACKET without VIRTIO_VSOCK_F_SEQPACKET");
	gs_free(g, false);
}
END_TEST

/* One TX layout case: knobs and the segment lengths a 10000-byte RW takes. */
struct layout_case {
	enum fg_tx_layout layout;
	bool indirect;
	uint16_t nseg;
	uint32_t seg[4];
};

static const struct layout_case layouts[] = {
	{ FG_TX_LINEAR, false, 1, { 10044 } },
	{ FG_TX_SPLIT, false, 2, { 44, 10000 } },
	{ FG_TX_FRAGS, false, 4, { 44, 4096, 4096, 1808 } },
	{ FG_TX_SPLIT, true, 2, { 44, 10000 } },
	{ FG_TX_FRAGS, true, 4, { 44, 4096, 4096, 1808 } },
	{ FG_TX_SKB, false, 2, { 44, 10000 } },
	{ FG_TX_SKB, true, 2, { 44, 10000 } },
};

/* Flags of the direct descriptor at the head of the last TX chain. */
static uint16_t
head_flags(struct gs *g)
{
	const struct fg_ring *r = fg_vsock_ring(g->vs, VSOCK_QUEUE_TX);
	uint16_t f;

	memcpy(&f, r->desc + 16 * (uint64_t)g->chain.head + 12, sizeof(f));
	return le16toh(f);
}

/* Each layout produces its descriptor shape with intact payload. */
START_TEST(test_tx_layout)
{
	const struct layout_case *lc = &layouts[_i];
	struct fg_vsock_config c;
	static uint8_t buf[65536];
	struct gs *g;
	unsigned k;
	int fd;

	test_config(&c);
	c.tx_layout = lc->layout;
	c.tx_indirect = lc->indirect;
	g = gs_new_cfg(&c);
	fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 256 * 1024);
	/* The REQUEST had no payload: the header alone, never indirect. */
	ck_assert_int_eq(g->chain.nseg, 1);
	ck_assert_uint_eq(g->chain.seg[0].len, VSOCK_HDR_SIZE);
	pattern(buf, sizeof(buf), 5);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 10000, 0), 10000);
	ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_RW).len, 10000);
	ck_assert_mem_eq(g->payload, buf, 10000);
	ck_assert_int_eq(g->chain.nseg, lc->nseg);
	for (k = 0; k < lc->nseg; k++)
		ck_assert_uint_eq(g->chain.seg[k].len, lc->seg[k]);
	ck_assert_int_eq((head_flags(g) & VIRTQ_DESC_F_INDIRECT) != 0,
	    lc->indirect && lc->nseg > 1);
	/*
	 * Separate buffers really are separate: a gap lies between them,
	 * but for the skb's, whose payload follows its header.
	 */
	if (lc->nseg > 1 && lc->layout != FG_TX_SKB)
		ck_assert_uint_gt(g->chain.seg[1].gpa,
		    g->chain.seg[0].gpa + VSOCK_HDR_SIZE);
	if (lc->layout == FG_TX_SKB)
		ck_assert_uint_eq(g->chain.seg[1].gpa,
		    g->chain.seg[0].gpa + VSOCK_HDR_SIZE);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 65536, 0), 65536);
	dev_expect(g, VIRTIO_VSOCK_OP_RW);
	ck_assert_int_eq(g->chain.nseg, lc->layout == FG_TX_LINEAR ? 1 :
	    lc->layout == FG_TX_FRAGS ? 17 : 2);
	ck_assert_mem_eq(g->payload, buf, 65536);
	gs_free(g, true);
}
END_TEST


/*
 * With no layout asked for, a RW goes out as Linux 6.1 (Debian's, with the
 * skb) sends it: virtio_vsock_alloc_skb reserves the header's room at
 * skb->head and the payload follows it; virtio_transport_send_pkt_work
 * adds head and data as two scatterlist entries, which virtqueue_add_split
 * puts in an indirect table when VIRTIO_RING_F_INDIRECT_DESC is
 * negotiated. So: two buffers, back to back, in an indirect table. Our
 * default used to be one buffer for both, which no Linux sends.
 */
START_TEST(test_tx_default_layout_is_linux)
{
	struct fg_vsock_config c;
	static uint8_t buf[65536];
	struct gs *g;
	int fd;

	test_config(&c);
	g = gs_new_cfg(&c);
	fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 256 * 1024);
	pattern(buf, sizeof(buf), 7);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 10000, 0), 10000);
	ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_RW).len, 10000);
	ck_assert_mem_eq(g->payload, buf, 10000);
	ck_assert_int_eq(g->chain.nseg, 2);
	ck_assert_uint_eq(g->chain.seg[0].len, VSOCK_HDR_SIZE);
	ck_assert_uint_eq(g->chain.seg[1].len, 10000);
	ck_assert_uint_eq(g->chain.seg[1].gpa,
	    g->chain.seg[0].gpa + VSOCK_HDR_SIZE);
	ck_assert_uint_eq(g->chain.seg[0].gpa % FG_TX_ALIGN, 0);
	ck_assert(head_flags(g) & VIRTQ_DESC_F_INDIRECT);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 65536, 0), 65536);
	dev_expect(g, VIRTIO_VSOCK_OP_RW);
	ck_assert_int_eq(g->chain.nseg, 2);
	ck_assert_uint_eq(g->chain.seg[1].len, 65536);
	ck_assert_mem_eq(g->payload, buf, 65536);
	gs_free(g, true);
}
END_TEST
/* Layouts that could never fit are refused up front. */
START_TEST(test_tx_layout_limits)
{
	struct fg_vsock_config c;
	struct fg_mem mem;
	struct fg_vsock *vs;

	ck_assert_err(fg_mem_init_simple(&mem, 32 * MIB), 0);
	test_config(&c);
	c.tx_layout = FG_TX_FRAGS;
	c.tx_frag_size = 1024;		/* 65 buffers > an indirect table */
	c.tx_indirect = true;
	ck_assert_err(fg_vsock_new(&mem, &c, &vs), -VSE_ERR_INVAL);
	c.tx_frag_size = 4096;
	c.tx_indirect = false;
	c.qsize[VSOCK_QUEUE_TX] = 16;	/* 17 direct descriptors */
	ck_assert_err(fg_vsock_new(&mem, &c, &vs), -VSE_ERR_INVAL);
	c.tx_indirect = true;
	ck_assert_err(fg_vsock_new(&mem, &c, &vs), 0);
	fg_vsock_free(vs);
	test_config(&c);
	c.guest_cid = 2;
	ck_assert_err(fg_vsock_new(&mem, &c, &vs), -VSE_ERR_INVAL);
	fg_mem_destroy(&mem);
}
END_TEST

/* A host write split over several RX buffers reads back as one stream. */
START_TEST(test_rx_split)
{
	struct gs *g = gs_new();
	int fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 65536);
	static uint8_t src[10000], dst[20000];
	struct vsock_hdr h = conn_hdr(g, fd, VIRTIO_VSOCK_OP_RW);
	uint32_t off = 0, lens[] = { FG_LINUX_RX_BUF_SIZE, FG_LINUX_RX_BUF_SIZE,
	    10000 - 2 * FG_LINUX_RX_BUF_SIZE };
	unsigned k;

	pattern(src, sizeof(src), 9);
	for (k = 0; k < 3; k++) {
		h.len = lens[k];
		dev_rx(g, &h, src + off);
		off += lens[k];
	}
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, dst, sizeof(dst), NULL), 10000);
	ck_assert_mem_eq(dst, src, 10000);
	gs_free(g, true);
}
END_TEST

/* Malformed device packets are counted and named, never answered. */
START_TEST(test_rx_validation)
{
	struct gs *g = gs_new();
	struct vsock_hdr h;
	uint64_t v0;

	h = host_hdr(VIRTIO_VSOCK_OP_REQUEST, VIRTIO_VSOCK_TYPE_STREAM, 1, 2);
	h.dst_cid = 4;
	dev_rx(g, &h, NULL);
	ck_assert_str_eq(fg_vsock_violation(g->vs),
	    "RX dst_cid is not the guest's CID");
	h.dst_cid = GCID;
	h.src_cid = 1;		/* reserved: neither the host nor a sibling VM */
	dev_rx(g, &h, NULL);
	h.src_cid = 2;
	/*
	 * Unknown ops are flagged, then handled as Linux does (it checks no
	 * op): no socket for the pair, so virtio_transport_reset_no_sock.
	 */
	h.op = 8;
	dev_rx(g, &h, NULL);
	dev_expect(g, VIRTIO_VSOCK_OP_RST);
	h.op = VIRTIO_VSOCK_OP_INVALID;
	dev_rx(g, &h, NULL);
	dev_expect(g, VIRTIO_VSOCK_OP_RST);
	h.op = VIRTIO_VSOCK_OP_REQUEST;
	h.len = 4;
	dev_rx(g, &h, "abcd");			/* payload on a control op */
	h.op = VIRTIO_VSOCK_OP_RW;
	h.len = 10;
	dev_rx_raw(g, &h, "0123456789", 10, VSOCK_HDR_SIZE + 5);
	gs_poll(g);
	h.len = 0;
	dev_rx_raw(g, &h, NULL, 0, 20);		/* shorter than a header */
	gs_poll(g);
	h.len = 4097;				/* beyond the 4 KiB buffer */
	dev_rx_raw(g, &h, NULL, 0, VSOCK_HDR_SIZE);
	gs_poll(g);
	dev_none(g);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->violations, 8);
	/* An unknown type is flagged and, as Linux does, answered RST. */
	v0 = fg_vsock_stats(g->vs)->violations;
	h = host_hdr(VIRTIO_VSOCK_OP_REQUEST, 7, 1, 2);
	dev_rx(g, &h, NULL);
	ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_RST).type, 7);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->violations, v0 + 1);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->rx_pkts[VIRTIO_VSOCK_OP_REQUEST],
	    0);
	ck_assert_str_eq(fg_vsock_violation(g->vs),
	    "RX dst_cid is not the guest's CID");
	gs_free(g, false);
}
END_TEST

/* A used length beyond the RX buffer is caught by the ring and reported. */
START_TEST(test_rx_used_len_too_big)
{
	struct gs *g = gs_new();

	ck_assert_int_eq(virtq_pop(&g->vq[VSOCK_QUEUE_RX], &g->chain), 1);
	ck_assert_err(virtq_push(&g->vq[VSOCK_QUEUE_RX], g->chain.head,
	    VSOCK_HDR_SIZE + 4097), 0);
	gs_poll(g);
	ck_assert_str_eq(fg_vsock_violation(g->vs),
	    "used length exceeds the writable buffers");
	gs_free(g, false);
}
END_TEST

/* Device: posts one event with id into an event buffer of used length len. */
static void
dev_event(struct gs *g, uint32_t id, uint32_t len)
{
	struct virtq *vq = &g->vq[VSOCK_QUEUE_EVENT];
	uint32_t le = htole32(id);

	ck_assert_int_eq(virtq_pop(vq, &g->rxchain), 1);
	ck_assert_err(virtq_chain_write(vq, &g->rxchain, 0, &le, sizeof(le)),
	    0);
	ck_assert_err(virtq_push(vq, g->rxchain.head, len), 0);
	gs_poll(g);
}

/* TRANSPORT_RESET: connections reset with ECONNRESET, listeners stay. */
START_TEST(test_transport_reset)
{
	struct gs *g = gs_new();
	int out = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 65536);
	int gone = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 65536);
	int l = fg_sock_open(g->vs, VIRTIO_VSOCK_TYPE_STREAM), in, b;
	struct vsock_hdr req = host_hdr(VIRTIO_VSOCK_OP_REQUEST,
	    VIRTIO_VSOCK_TYPE_STREAM, 4444, 6000);
	uint32_t gone_port;

	fg_sock_bind(g->vs, l, 6000);
	fg_sock_listen(g->vs, l, 4);
	dev_rx(g, &req, NULL);
	dev_expect(g, VIRTIO_VSOCK_OP_RESPONSE);
	in = fg_sock_accept(g->vs, l);
	fg_sock_close(g->vs, gone, 0);
	gone_port = dev_expect(g, VIRTIO_VSOCK_OP_SHUTDOWN).src_port;

	dev_event(g, VIRTIO_VSOCK_EVENT_TRANSPORT_RESET, VSOCK_EVENT_SIZE);
	dev_none(g);
	ck_assert_int_eq(fg_sock_state(g->vs, out), FG_SS_CLOSED);
	ck_assert_int_eq(fg_sock_error(g->vs, out), ECONNRESET);
	ck_assert_int_eq(fg_sock_state(g->vs, in), FG_SS_CLOSED);
	ck_assert_int_eq(fg_sock_error(g->vs, in), ECONNRESET);
	ck_assert_int_eq(fg_sock_state(g->vs, l), FG_SS_LISTEN);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->transport_resets, 1);
	/*
	 * The closed socket lingers on: virtio_vsock_reset_sock only marks
	 * it closed, its close_work stays scheduled and holds the port.
	 */
	b = fg_sock_open(g->vs, VIRTIO_VSOCK_TYPE_STREAM);
	ck_assert_int_eq(fg_sock_bind(g->vs, b, gone_port), -EADDRINUSE);
	ck_assert_uint_eq(fg_vsock_next_deadline(g->vs), FG_CLOSE_TIMEOUT);
	/* The event buffer went back, and the listener still answers. */
	ck_assert_int_eq(virtq_avail(&g->vq[VSOCK_QUEUE_EVENT]), 4);
	req.src_port = 4445;
	dev_rx(g, &req, NULL);
	dev_expect(g, VIRTIO_VSOCK_OP_RESPONSE);
	/* Events of the wrong size or id are flagged. */
	dev_event(g, VIRTIO_VSOCK_EVENT_TRANSPORT_RESET, 3);
	ck_assert_str_eq(fg_vsock_violation(g->vs), "event used length is not 4");
	dev_event(g, 1, VSOCK_EVENT_SIZE);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->violations, 2);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->transport_resets, 1);
	/*
	 * virtio_transport_close_timeout: not SOCK_DONE, so RST to the old
	 * peer after 8 s, then the socket and its port are freed.
	 */
	g->now = FG_CLOSE_TIMEOUT - 1;
	gs_poll(g);
	dev_none(g);
	g->now++;
	gs_poll(g);
	ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_RST).src_port,
	    gone_port);
	dev_none(g);
	ck_assert_int_eq(fg_sock_bind(g->vs, b, gone_port), 0);
	ck_assert_uint_eq(fg_vsock_next_deadline(g->vs), FG_TIME_NEVER);
	gs_free(g, false);
}
END_TEST

/*
 * A transport reset leaves a connecting socket alone: Linux inserts it in
 * the connected table only on RESPONSE (virtio_transport_recv_connecting),
 * so vsock_for_each_connected_socket never sees it; it times out.
 */
START_TEST(test_transport_reset_connecting)
{
	struct gs *g = gs_new();
	int fd = fg_sock_open(g->vs, VIRTIO_VSOCK_TYPE_STREAM);

	fg_sock_connect(g->vs, fd, VMADDR_CID_HOST, HOST_PORT, 0);
	dev_expect(g, VIRTIO_VSOCK_OP_REQUEST);
	dev_event(g, VIRTIO_VSOCK_EVENT_TRANSPORT_RESET, VSOCK_EVENT_SIZE);
	dev_none(g);
	ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_CONNECTING);
	ck_assert_int_eq(fg_sock_error(g->vs, fd), 0);
	g->now = FG_CONNECT_TIMEOUT;
	gs_poll(g);
	ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_CLOSED);
	ck_assert_int_eq(fg_sock_error(g->vs, fd), ETIMEDOUT);
	dev_none(g);
	gs_free(g, true);
}
END_TEST

/* A full TX ring queues packets in order and sends them after the reap. */
START_TEST(test_tx_ring_full)
{
	struct fg_vsock_config c;
	struct vsock_hdr h;
	struct gs *g;
	uint8_t b;
	int fd, k;

	test_config(&c);
	c.qsize[VSOCK_QUEUE_TX] = 4;
	c.tx_pending_max = 4;
	g = gs_new_cfg(&c);
	fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 65536);
	gs_poll(g);			/* retire the REQUEST's buffer */
	for (k = 0; k < 8; k++) {
		b = (uint8_t)k;
		ck_assert_int_eq(fg_sock_send(g->vs, fd, &b, 1, 0), 1);
	}
	ck_assert_uint_eq(fg_vsock_tx_pending(g->vs), 4);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, &b, 1, 0), -EAGAIN);
	for (k = 0; k < 8; k++) {
		if (k == 4) {
			ck_assert_int_eq(dev_tx(g, &h), 0);
			gs_poll(g);	/* the interrupt: reap, then flush */
		}
		h = dev_expect(g, VIRTIO_VSOCK_OP_RW);
		ck_assert_uint_eq(g->payload[0], k);
	}
	ck_assert_uint_eq(fg_vsock_tx_pending(g->vs), 0);
	gs_free(g, true);
}
END_TEST

/* RX buffers come back once fewer than half are posted (Linux rx_work). */
START_TEST(test_rx_refill_half)
{
	struct fg_vsock_config c;
	struct vsock_hdr h = host_hdr(VIRTIO_VSOCK_OP_RST,
	    VIRTIO_VSOCK_TYPE_STREAM, 1, 2);
	struct gs *g;
	int k;

	test_config(&c);
	c.qsize[VSOCK_QUEUE_RX] = 8;
	g = gs_new_cfg(&c);
	for (k = 0; k < 4; k++)
		dev_rx(g, &h, NULL);	/* 4 of 8 posted: not below half */
	ck_assert_int_eq(virtq_avail(&g->vq[VSOCK_QUEUE_RX]), 4);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->rx_refills, 0);
	/* EVENT_IDX: the device asks to hear of buffers past the 8 it saw. */
	virtq_set_notification(&g->vq[VSOCK_QUEUE_RX], true);
	dev_rx(g, &h, NULL);
	ck_assert_int_eq(virtq_avail(&g->vq[VSOCK_QUEUE_RX]), 8);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->rx_refills, 1);
	ck_assert_uint_eq(g->kicks[VSOCK_QUEUE_RX], 2);
	gs_free(g, true);
}
END_TEST

/* Replies the TX ring cannot take hold RX processing back, not drop it. */
START_TEST(test_rx_throttle)
{
	struct fg_vsock_config c;
	struct vsock_hdr h;
	struct gs *g;
	int k;

	test_config(&c);
	c.qsize[VSOCK_QUEUE_TX] = 2;
	c.tx_slots = 2;
	c.tx_pending_max = 1;
	g = gs_new_cfg(&c);
	for (k = 0; k < 5; k++) {
		h = host_hdr(VIRTIO_VSOCK_OP_REQUEST, VIRTIO_VSOCK_TYPE_STREAM,
		    (uint32_t)k, 9999);
		dev_rx_raw(g, &h, NULL, 0, VSOCK_HDR_SIZE);
	}
	gs_poll(g);
	/* Two RSTs on the ring, one pending, two requests left unread. */
	ck_assert_uint_eq(fg_vsock_tx_pending(g->vs), 1);
	ck_assert_uint_eq(fg_vsock_stats(g->vs)->rx_throttled, 1);
	ck_assert_uint_eq(fg_ring_used_pending(fg_vsock_ring(g->vs,
	    VSOCK_QUEUE_RX)), 2);
	for (k = 0; k < 5; k++) {
		if (k == 2 || k == 4)
			gs_poll(g);
		ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_RST).dst_port,
		    (uint32_t)k);
	}
	gs_poll(g);
	dev_none(g);
	gs_free(g, true);
}
END_TEST

/* What Linux's virtio_transport_recv_connecting does with each op. */
struct connecting_case {
	uint16_t op;
	bool reset;		/* RST sent, connect fails with EPROTO */
};

static const struct connecting_case connecting_cases[] = {
	{ VIRTIO_VSOCK_OP_INVALID, false },	/* "case OP_INVALID: break" */
	{ VIRTIO_VSOCK_OP_REQUEST, true },
	{ VIRTIO_VSOCK_OP_SHUTDOWN, true },
	{ VIRTIO_VSOCK_OP_RW, true },
	{ VIRTIO_VSOCK_OP_CREDIT_UPDATE, true },
	{ VIRTIO_VSOCK_OP_CREDIT_REQUEST, true },
	{ VIRTIO_VSOCK_OP__MAX + 1, true },	/* unknown: default */
};

/* A connecting socket answers every op as recv_connecting does. */
START_TEST(test_connecting_ops)
{
	const struct connecting_case *c = &connecting_cases[_i];
	struct gs *g = gs_new();
	int fd = fg_sock_open(g->vs, VIRTIO_VSOCK_TYPE_STREAM);
	struct vsock_hdr req, h;

	fg_sock_connect(g->vs, fd, VMADDR_CID_HOST, HOST_PORT, 0);
	req = dev_expect(g, VIRTIO_VSOCK_OP_REQUEST);
	h = host_hdr(c->op, req.type, HOST_PORT, req.src_port);
	h.len = c->op == VIRTIO_VSOCK_OP_RW ? 1 : 0;
	dev_rx(g, &h, "x");
	if (c->reset) {
		h = dev_expect(g, VIRTIO_VSOCK_OP_RST);
		ck_assert_uint_eq(h.dst_port, HOST_PORT);
		ck_assert_uint_eq(h.src_port, req.src_port);
		ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_CLOSED);
		ck_assert_int_eq(fg_sock_error(g->vs, fd), EPROTO);
	} else {
		ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_CONNECTING);
		h = host_hdr(VIRTIO_VSOCK_OP_RESPONSE, req.type, HOST_PORT,
		    req.src_port);
		dev_rx(g, &h, NULL);
		ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_CONNECTED);
	}
	dev_none(g);
	gs_free(g, false);	/* ops 0 and 8 are flagged violations */
}
END_TEST

/*
 * Linux 6.1 after the peer's RST: SOCK_DONE makes virtio_transport_recv_pkt
 * answer every packet with RST (reset_no_sock). shutdown() clears SOCK_DONE
 * (vsock_shutdown); the TCP_CLOSING socket then goes through
 * virtio_transport_recv_disconnecting, which acts on RST alone.
 */
START_TEST(test_closing_ops)
{
	static const uint16_t ops[] = { VIRTIO_VSOCK_OP_RW,
	    VIRTIO_VSOCK_OP_CREDIT_REQUEST, VIRTIO_VSOCK_OP_CREDIT_UPDATE,
	    VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_OP_RESPONSE };
	struct gs *g = gs_new();
	int fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 65536);
	struct vsock_hdr h = conn_hdr(g, fd, VIRTIO_VSOCK_OP_RST);
	struct fg_sock_info i;
	unsigned k;

	dev_rx(g, &h, NULL);
	dev_none(g);
	ck_assert_int_eq(fg_sock_state(g->vs, fd), FG_SS_CLOSING);
	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		h = conn_hdr(g, fd, ops[k]);
		h.len = ops[k] == VIRTIO_VSOCK_OP_RW ? 1 : 0;
		h.flags = ops[k] == VIRTIO_VSOCK_OP_SHUTDOWN ?
		    VIRTIO_VSOCK_SHUTDOWN_MASK : 0;
		dev_rx(g, &h, "x");
		ck_assert_uint_eq(dev_expect(g, VIRTIO_VSOCK_OP_RST).buf_alloc,
		    0);	/* reset_no_sock: no socket credit */
	}
	h = conn_hdr(g, fd, VIRTIO_VSOCK_OP_RST);
	dev_rx(g, &h, NULL);
	dev_none(g);
	/* shutdown() on the reset socket still goes out (issue 15). */
	ck_assert_int_eq(fg_sock_shutdown(g->vs, fd, SHUT_WR), 0);
	dev_expect(g, VIRTIO_VSOCK_OP_SHUTDOWN);
	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		h = conn_hdr(g, fd, ops[k]);
		h.len = ops[k] == VIRTIO_VSOCK_OP_RW ? 1 : 0;
		h.buf_alloc = 1234;
		dev_rx(g, &h, "x");
		dev_none(g);
	}
	fg_sock_info(g->vs, fd, &i);
	ck_assert_uint_eq(i.rx_bytes, 0);	/* the RW was not queued */
	ck_assert_int_eq(i.state, FG_SS_CLOSING);
	/* RST: virtio_transport_do_close again; then close sends RST. */
	h = conn_hdr(g, fd, VIRTIO_VSOCK_OP_RST);
	dev_rx(g, &h, NULL);
	dev_none(g);
	ck_assert_int_eq(fg_sock_recv(g->vs, fd, &k, 1, NULL), 0);
	fg_sock_close(g->vs, fd, 0);
	dev_expect(g, VIRTIO_VSOCK_OP_RST);
	dev_none(g);
	gs_free(g, true);
}
END_TEST

/*
 * Linux 6.1.192's virtio_transport_has_space counts against
 * virtio_transport_tx_buf_size, min(peer_buf_alloc, our buf_alloc): a peer
 * advertising more than we would buffer gets no more in flight.
 */
START_TEST(test_credit_own_cap)
{
	struct gs *g = gs_new();
	int fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 1024 * 1024);
	int sq = gs_connect(g, VIRTIO_VSOCK_TYPE_SEQPACKET, 1024 * 1024);
	static uint8_t buf[300 * 1024];
	struct fg_sock_info i;

	fg_sock_info(g->vs, fd, &i);
	ck_assert_uint_eq(i.credit, FG_DEFAULT_BUF_ALLOC);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, sizeof(buf), 0),
	    FG_DEFAULT_BUF_ALLOC);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 1, 0), -EAGAIN);
	/* Our own buffer shrinks: so does what we may have in flight. */
	fg_sock_set_buf_alloc(g->vs, sq, 10000);
	ck_assert_int_eq(fg_sock_send(g->vs, sq, buf, 10001, 0), -EMSGSIZE);
	ck_assert_int_eq(fg_sock_send(g->vs, sq, buf, 10000, 0), 10000);
	ck_assert_int_eq(fg_sock_send(g->vs, sq, buf, 1, 0), -EAGAIN);
	gs_free(g, true);
}
END_TEST

/* fg_sock_poll reports what vsock_poll would, through a half-close. */
START_TEST(test_poll)
{
	struct gs *g = gs_new();
	int l = fg_sock_open(g->vs, VIRTIO_VSOCK_TYPE_STREAM);
	int fd = gs_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 100);
	struct vsock_hdr h = conn_hdr(g, fd, VIRTIO_VSOCK_OP_SHUTDOWN);
	static uint8_t buf[100];

	ck_assert_int_eq(fg_sock_poll(g->vs, 99), 0);
	fg_sock_bind(g->vs, l, 6000);
	fg_sock_listen(g->vs, l, 4);
	ck_assert_int_eq(fg_sock_poll(g->vs, l), 0);
	ck_assert_int_eq(fg_sock_poll(g->vs, fd), POLLOUT);
	ck_assert_int_eq(fg_sock_send(g->vs, fd, buf, 100, 0), 100);
	ck_assert_int_eq(fg_sock_poll(g->vs, fd), 0);	/* no credit */
	rx_data(g, fd, 1, 10);		/* its header grants 256 KiB */
	ck_assert_int_eq(fg_sock_poll(g->vs, fd), POLLIN | POLLOUT);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
	dev_rx(g, &h, NULL);
	ck_assert_int_eq(fg_sock_poll(g->vs, fd), POLLIN | POLLOUT |
	    POLLRDHUP);
	ck_assert_int_eq(fg_sock_shutdown(g->vs, fd, SHUT_WR), 0);
	ck_assert_int_eq(fg_sock_poll(g->vs, fd), POLLIN | POLLRDHUP |
	    POLLHUP);
	h.op = VIRTIO_VSOCK_OP_REQUEST;
	h.src_port = 4444;
	h.dst_port = 6000;
	dev_rx(g, &h, NULL);
	ck_assert_int_eq(fg_sock_poll(g->vs, l), POLLIN);
	gs_free(g, false);
}
END_TEST

static Suite *
gsock_suite(void)
{
	Suite *s = suite_create("gsock");
	TCase *conn = tcase_create("connections");
	TCase *credit = tcase_create("credit");
	TCase *seq = tcase_create("seqpacket");
	TCase *queues = tcase_create("queues");

	tcase_add_test(conn, test_start_posts_buffers);
	tcase_add_test(conn, test_connect_request);
	tcase_add_test(conn, test_connect_response);
	tcase_add_test(conn, test_connect_rst);
	tcase_add_test(conn, test_connect_timeout);
	tcase_add_test(conn, test_listen_accept);
	tcase_add_test(conn, test_listen_gate);
	tcase_add_test(conn, test_rst_rules);
	tcase_add_test(conn, test_close_timeout);
	tcase_add_test(conn, test_close_timeout_unlisted);
	tcase_add_test(conn, test_close_answered);
	tcase_add_test(conn, test_peer_shutdown_both);
	tcase_add_test(conn, test_peer_shutdown_send);
	tcase_add_test(conn, test_transport_reset);
	tcase_add_test(conn, test_transport_reset_connecting);
	tcase_add_loop_test(conn, test_connecting_ops, 0,
	    sizeof(connecting_cases) / sizeof(connecting_cases[0]));
	tcase_add_test(conn, test_closing_ops);
	tcase_add_test(conn, test_poll);
	suite_add_tcase(s, conn);

	tcase_add_test(credit, test_credit_arith);
	tcase_add_test(credit, test_credit_send);
	tcase_add_test(credit, test_credit_shrink);
	tcase_add_test(credit, test_credit_wrap);
	tcase_add_test(credit, test_credit_update_rule);
	tcase_add_test(credit, test_credit_request);
	tcase_add_test(credit, test_rx_overrun);
	tcase_add_test(credit, test_credit_own_cap);
	suite_add_tcase(s, credit);

	tcase_add_test(seq, test_seqpacket_send);
	tcase_add_test(seq, test_seqpacket_recv);
	tcase_add_test(seq, test_seqpacket_not_negotiated);
	suite_add_tcase(s, seq);

	tcase_add_loop_test(queues, test_tx_layout, 0,
	    sizeof(layouts) / sizeof(layouts[0]));
	tcase_add_test(queues, test_tx_layout_limits);
	tcase_add_test(queues, test_tx_default_layout_is_linux);
	tcase_add_test(queues, test_tx_ring_full);
	tcase_add_test(queues, test_rx_split);
	tcase_add_test(queues, test_rx_validation);
	tcase_add_test(queues, test_rx_used_len_too_big);
	tcase_add_test(queues, test_rx_refill_half);
	tcase_add_test(queues, test_rx_throttle);
	suite_add_tcase(s, queues);
	return s;
}

VSE_CHECK_MAIN(gsock_suite)

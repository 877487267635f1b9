/* wire.c - the raw-packet test rig. */
#include "config.h"

#include <check.h>
#include <string.h>

#include "common.h"
#include "flight.h"
#include "wire.h"

static void
on_notify(void *ctx, unsigned q)
{
	struct wire *w = ctx;

	w->notifies[q]++;
}

void
wire_config(struct vsock_device_config *cfg)
{
	vsock_device_config_defaults(cfg);
	cfg->guest_cid = WIRE_GUEST_CID;
	cfg->seqpacket = true;
}

/* Posts RX buffer i of the pool. */
static void
post_one_rx(struct wire *w, unsigned i)
{
	struct fg_buf b = { w->rx_pool + (uint64_t)i * w->rx_buf_len,
	    w->rx_buf_len };

	ck_assert_int_ge(fg_ring_add(&w->q.rx, NULL, 0, &b, 1,
	    (void *)(uintptr_t)(i + 1), false), 0);
}

struct wire *
wire_new_cfg(const struct vsock_device_config *cfg, unsigned rx_buffers,
    uint32_t rx_payload)
{
	return wire_new_backend(cfg, NULL, NULL, rx_buffers, rx_payload);
}

struct wire *
wire_new_backend(const struct vsock_device_config *cfg,
    const struct vsock_backend_ops *ops, void *ctx, unsigned rx_buffers,
    uint32_t rx_payload)
{
	struct wire *w = calloc(1, sizeof(*w));
	uint64_t f;
	unsigned i;
	int e;

	ck_assert_ptr_nonnull(w);
	ck_assert_err(fg_mem_init_simple(&w->mem, 64 << 20), 0);
	script_init(&w->sb);
	if (ops == NULL)
		ops = &script_backend_ops;
	if (ctx == NULL)
		ctx = &w->sb;
	e = vsock_device_new(cfg, ops, ctx, &w->dev, NULL);
	ck_assert_err(e, 0);
	w->guest_cid = cfg->guest_cid;
	script_attach(&w->sb, w->dev);
	vsock_device_set_notify(w->dev, on_notify, w);
	if ((w->flight = flight_open()) != NULL)
		vsock_device_set_tap(w->dev, flight_tap, w->flight);
	f = vsock_device_features(w->dev);
	ck_assert_err(vsock_device_set_features(w->dev, f), 0);
	ck_assert_err(fg_queues_init(&w->q, &w->mem, w->dev, WIRE_QSIZE, f),
	    0);
	w->rx_buf_len = VSOCK_HDR_SIZE + rx_payload;
	w->rx_pool = fg_mem_alloc(&w->mem,
	    (uint64_t)WIRE_QSIZE * w->rx_buf_len, 16);
	w->tx_pool = fg_mem_alloc(&w->mem, (uint64_t)WIRE_QSIZE * WIRE_TX_SLOT,
	    16);
	w->ev_pool = fg_mem_alloc(&w->mem, 8 * 4, 4);
	ck_assert(w->rx_pool != FG_GPA_NONE && w->tx_pool != FG_GPA_NONE);
	for (i = 0; i < 4; i++) {
		struct fg_buf b = { w->ev_pool + 4 * i, 4 };

		fg_ring_add(&w->q.ev, NULL, 0, &b, 1, (void *)(uintptr_t)(i + 1),
		    false);
	}
	for (i = 0; i < rx_buffers && i < WIRE_QSIZE; i++)
		post_one_rx(w, i);
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	return w;
}

struct wire *
wire_new(void)
{
	struct vsock_device_config cfg;

	wire_config(&cfg);
	return wire_new_cfg(&cfg, 64, WIRE_RX_PAYLOAD);
}

void
wire_free(struct wire *w)
{
	flight_close(w->flight);
	vsock_device_free(w->dev);
	script_free(&w->sb);
	ck_assert_ptr_null(w->q.rx.device_error);
	ck_assert_ptr_null(w->q.tx.device_error);
	fg_queues_destroy(&w->q);
	fg_mem_destroy(&w->mem);
	free(w);
}

struct vsock_hdr
wire_hdr(uint16_t op, uint32_t guest_port, uint32_t host_port)
{
	struct vsock_hdr h = {
		.src_cid = WIRE_GUEST_CID, .dst_cid = VMADDR_CID_HOST,
		.src_port = guest_port, .dst_port = host_port,
		.type = VIRTIO_VSOCK_TYPE_STREAM, .op = op,
		.buf_alloc = 256 * 1024,
	};
	return h;
}

/* Retires used TX chains and returns a free slot index, now taken. */
static unsigned
tx_slot(struct wire *w)
{
	int i = fg_queues_tx_slot(&w->q, w->tx_slot_used, WIRE_QSIZE);

	ck_assert_int_ge(i, 0);
	w->tx_slot_used[i] = true;
	return (unsigned)i;
}

void
wire_send_raw(struct wire *w, const void *bytes, uint32_t len,
    bool add_writable)
{
	unsigned i = tx_slot(w);
	uint64_t gpa = w->tx_pool + (uint64_t)i * WIRE_TX_SLOT;
	struct fg_buf out = { gpa, len }, in = { gpa + len, 16 };

	ck_assert_uint_le(len + (add_writable ? 16 : 0), WIRE_TX_SLOT);
	fg_mem_write(&w->mem, gpa, bytes, len);
	ck_assert_int_ge(fg_ring_add(&w->q.tx, &out, len ? 1 : 0, &in,
	    add_writable ? 1 : 0, (void *)(uintptr_t)(i + 1), false), 0);
	if (!w->hold_kick)
		vsock_device_kick(w->dev, VSOCK_QUEUE_TX, w->now);
}

void
wire_send(struct wire *w, const struct vsock_hdr *h, const void *payload)
{
	static uint8_t buf[WIRE_TX_SLOT];

	vsock_hdr_encode(h, buf);
	if (h->len > 0 && payload != NULL)
		memcpy(buf + VSOCK_HDR_SIZE, payload, h->len);
	else if (h->len > 0)
		memset(buf + VSOCK_HDR_SIZE, 0x5a, h->len);
	wire_send_raw(w, buf, VSOCK_HDR_SIZE + h->len, false);
}

int
wire_recv(struct wire *w, struct vsock_hdr *h, void *payload, uint32_t cap)
{
	uint8_t raw[VSOCK_HDR_SIZE];
	uint32_t len;
	void *tok;
	uint64_t gpa;
	unsigned i;

	/* Buffers the device gave back unused (len 0) are reposted. */
	while ((tok = fg_ring_get_used(&w->q.rx, &len)) != NULL && len == 0) {
		w->rx_empty++;
		post_one_rx(w, (unsigned)((uintptr_t)tok - 1));
	}
	if (tok == NULL)
		return 0;
	i = (unsigned)((uintptr_t)tok - 1);
	gpa = w->rx_pool + (uint64_t)i * w->rx_buf_len;
	ck_assert_uint_ge(len, VSOCK_HDR_SIZE);
	fg_mem_read(&w->mem, gpa, raw, VSOCK_HDR_SIZE);
	vsock_hdr_decode(raw, h);
	ck_assert_uint_eq(len, VSOCK_HDR_SIZE + h->len);
	ck_assert_uint_eq(h->src_cid, VMADDR_CID_HOST);
	ck_assert_uint_eq(h->dst_cid, w->guest_cid);
	if (payload != NULL) {
		ck_assert_uint_le(h->len, cap);
		fg_mem_read(&w->mem, gpa + VSOCK_HDR_SIZE, payload, h->len);
	}
	w->rx_packets++;
	post_one_rx(w, i);
	return 1;
}

void
wire_expect_none(struct wire *w)
{
	struct vsock_hdr h;

	if (wire_recv(w, &h, NULL, 0))
		ck_abort_msg("unexpected %s %u->%u flags %u len %u",
		    vsock_op_name(h.op), h.src_port, h.dst_port, h.flags,
		    h.len);
}

struct vsock_hdr
wire_expect(struct wire *w, uint16_t op)
{
	struct vsock_hdr h;

	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
	ck_assert_msg(wire_recv(w, &h, NULL, 0) == 1, "want %s, got nothing",
	    vsock_op_name(op));
	ck_assert_msg(h.op == op, "want %s, got %s", vsock_op_name(op),
	    vsock_op_name(h.op));
	return h;
}

void
wire_post_rx(struct wire *w, unsigned n)
{
	static unsigned next;
	unsigned i;

	/* Reuse pool slots the ring does not hold: the highest ones. */
	for (i = 0; i < n; i++)
		post_one_rx(w, WIRE_QSIZE - 1 - (next++ % (WIRE_QSIZE / 2)));
	vsock_device_kick(w->dev, VSOCK_QUEUE_RX, w->now);
}

void
wire_advance(struct wire *w, vsock_time_t ns)
{
	w->now += ns;
	vsock_device_run(w->dev, w->now);
}

struct script_conn *
wire_connect(struct wire *w, uint32_t guest_port, uint32_t host_port)
{
	struct vsock_hdr h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, guest_port,
	    host_port);
	struct vsock_hdr r;

	wire_send(w, &h, NULL);
	r = wire_expect(w, VIRTIO_VSOCK_OP_RESPONSE);
	ck_assert_uint_eq(r.src_port, host_port);
	ck_assert_uint_eq(r.dst_port, guest_port);
	return script_find(&w->sb, host_port, guest_port);
}

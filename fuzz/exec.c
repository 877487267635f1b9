/* exec.c - runs one action stream: builds the rig, interprets each action, checks after each. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "badchain.h"
#include "error.h"
#include "fuzz-int.h"
#include "rig.h"
#include "virtq.h"

const uint8_t fz_arg_bytes[FZ__OPS] = {
	[FZ_PKT] = FZ_PKT_ARGS, [FZ_RAW] = 3, [FZ_LISTEN] = 2,
	[FZ_HCONNECT] = 2, [FZ_HCOMPLETE] = 2, [FZ_HSEND] = 4,
	[FZ_HSHUTWR] = 1, [FZ_HCLOSE] = 2, [FZ_HCONSUME] = 3,
	[FZ_HLIMIT] = 3, [FZ_HERR] = 3, [FZ_HWMAX] = 3, [FZ_RXPOST] = 2,
	[FZ_TIME] = 3, [FZ_KICK] = 1, [FZ_FLOOD] = 4, [FZ_BADCHAIN] = 1,
	[FZ_AVAIL] = 3, [FZ_MUTATE] = 6, [FZ_RESET] = 0,
};

size_t
fz_action_len(const uint8_t *p, size_t avail)
{
	size_t n;

	if (avail == 0)
		return 0;
	n = 1 + (size_t)fz_arg_bytes[p[0] % FZ__OPS];
	if (p[0] % FZ__OPS == FZ_RAW) {
		struct fz_args a = { p + 1, avail - 1 };

		n += fz_u16(&a, 0) % FZ_RAW_MAX;
	}
	return n < avail ? n : avail;
}

/* --- counting backend: calls that moved nothing are the device's overhead --- */

static int
w_connect(void *ctx, struct vsock_conn *c, uint32_t port, uint16_t type)
{
	struct fz *fz = ctx;

	fz->work++;
	return script_backend_ops.connect(&fz->sb, c, port, type);
}

static void
w_established(void *ctx, struct vsock_conn *c)
{
	struct fz *fz = ctx;

	fz->work++;
	script_backend_ops.established(&fz->sb, c);
}

static ssize_t
w_write(void *ctx, struct vsock_conn *c, const struct iovec *iov, int iovcnt,
    uint32_t flags)
{
	struct fz *fz = ctx;

	ssize_t n = script_backend_ops.write(&fz->sb, c, iov, iovcnt, flags);

	/* Calls that move bytes are progress, bounded by the bytes. */
	fz->work += n <= 0;
	return n;
}

static ssize_t
w_read(void *ctx, struct vsock_conn *c, const struct iovec *iov, int iovcnt,
    uint32_t *flags)
{
	struct fz *fz = ctx;

	ssize_t n = script_backend_ops.read(&fz->sb, c, iov, iovcnt, flags);

	fz->work += n <= 0;
	return n;
}

static void
w_shutdown(void *ctx, struct vsock_conn *c, int how)
{
	struct fz *fz = ctx;

	fz->work++;
	script_backend_ops.shutdown(&fz->sb, c, how);
}

static void
w_want(void *ctx, struct vsock_conn *c, unsigned events)
{
	struct fz *fz = ctx;

	fz->work++;
	script_backend_ops.want(&fz->sb, c, events);
}

static void
w_release(void *ctx, struct vsock_conn *c, enum vsock_release why)
{
	struct fz *fz = ctx;

	fz->work++;
	script_backend_ops.release(&fz->sb, c, why);
}

/* --- guest side: RX buffers --- */

/* Posts up to n RX buffers of one shape; returns how many went in. */
static unsigned
post_rx(struct fz *fz, unsigned n, uint8_t shape)
{
	struct fg_buf out[1], in[3];
	unsigned k, nout, nin;
	bool ind;

	for (k = 0; k < n && fz->nrx_free > 0; k++) {
		uint16_t i = fz->rx_free[fz->nrx_free - 1];
		uint64_t gpa = fz->rx_pool + (uint64_t)i * FZ_RX_SLOT;

		nout = 0;
		nin = 1;
		ind = false;
		in[0] = (struct fg_buf){ gpa, VSOCK_HDR_SIZE + 4096 };
		switch (shape % 8) {
		case 1:		/* header only: no room for data */
			in[0].len = VSOCK_HDR_SIZE;
			break;
		case 2:
			in[0].len = VSOCK_HDR_SIZE + 1;
			break;
		case 3:		/* too short for a header */
			in[0].len = 20;
			break;
		case 4:		/* header and payload apart */
			in[0].len = VSOCK_HDR_SIZE;
			in[1] = (struct fg_buf){ gpa + VSOCK_HDR_SIZE, 4096 };
			nin = 2;
			break;
		case 5:		/* header split, through an indirect table */
			in[0].len = 10;
			in[1] = (struct fg_buf){ gpa + 10, 40 };
			in[2] = (struct fg_buf){ gpa + 50, 1000 };
			nin = 3;
			ind = true;
			break;
		case 6:		/* a readable buffer first: not an RX buffer */
			out[0] = (struct fg_buf){ gpa, 16 };
			in[0] = (struct fg_buf){ gpa + 16, VSOCK_HDR_SIZE + 64 };
			nout = 1;
			break;
		case 7:
			in[0].len = VSOCK_HDR_SIZE + 8192;
			break;
		}
		if (fg_ring_add(&fz->q.rx, out, nout, in, nin,
		    (void *)(uintptr_t)(i + 1), ind) < 0)
			break;
		fz->nrx_free--;
	}
	return k;
}

/* Reaps used RX buffers: checks each packet's length; maybe reposts. */
static unsigned
reap_rx(struct fz *fz)
{
	uint8_t raw[VSOCK_HDR_SIZE];
	struct vsock_hdr h;
	unsigned reaped = 0;
	uint32_t len;
	void *tok;

	if (fz->rx_tainted)
		return 0;
	while ((tok = fg_ring_get_used(&fz->q.rx, &len)) != NULL) {
		uint16_t i = (uint16_t)((uintptr_t)tok - 1);

		if (len > 0 && len < VSOCK_HDR_SIZE) {
			fz_fail(fz, FUZZ_RX_FORMAT, "RX used length %u", len);
		} else if (len > 0) {
			fg_mem_read(&fz->mem, fz->rx_pool +
			    (uint64_t)i * FZ_RX_SLOT, raw, sizeof(raw));
			vsock_hdr_decode(raw, &h);
			if (len != VSOCK_HDR_SIZE + h.len)
				fz_fail(fz, FUZZ_RX_FORMAT, "RX used length "
				    "%u for a %s of len %u", len,
				    vsock_op_name(h.op), h.len);
		}
		fz->rx_free[fz->nrx_free++] = i;
		reaped++;
	}
	if (fz->q.rx.device_error != NULL)
		fz_fail(fz, FUZZ_RING, "RX ring: %s", fz->q.rx.device_error);
	return reaped;
}

/* Reaps used TX chains: the device must not have written into them. */
static void
reap_tx(struct fz *fz)
{
	void *tok;

	if (fz->tx_tainted)
		return;
	while ((tok = fg_ring_get_used(&fz->q.tx, NULL)) != NULL) {
		unsigned i = (unsigned)((uintptr_t)tok - 1);
		const uint8_t *p = fg_mem_ptr(&fz->mem, fz->tx_pool +
		    (uint64_t)i * FZ_TX_SLOT, fz->tx_len[i] ? fz->tx_len[i] : 1);

		if (script_hash(SCRIPT_HASH_INIT, p, fz->tx_len[i]) !=
		    fz->tx_hash[i])
			fz_fail(fz, FUZZ_TX_WRITTEN, "TX chain %u was changed "
			    "by the device", i);
		fz->tx_busy[i] = false;
	}
	if (fz->q.tx.device_error != NULL)
		fz_fail(fz, FUZZ_RING, "TX ring: %s", fz->q.tx.device_error);
}

/* The guest's interrupt handler: reap both rings, repost, kick RX. */
static void
settle(struct fz *fz)
{
	unsigned round, n;

	for (round = 0; round < 8; round++) {
		reap_tx(fz);
		n = reap_rx(fz);
		if (!fz->auto_repost || n == 0)
			break;
		if (post_rx(fz, n, fz->rx_shape) == 0)
			break;
		vsock_device_kick(fz->dev, VSOCK_QUEUE_RX, fz->now);
	}
}

/* --- guest side: TX chains --- */

/* A free TX slot, kicking the device once if all are in flight. */
static int
tx_slot(struct fz *fz)
{
	unsigned i, pass;

	for (pass = 0; pass < 2; pass++) {
		reap_tx(fz);
		for (i = 0; i < FZ_TX_SLOTS; i++)
			if (!fz->tx_busy[i])
				return (int)i;
		vsock_device_kick(fz->dev, VSOCK_QUEUE_TX, fz->now);
	}
	return -1;
}

/*
 * Publishes bytes as one TX chain cut by shape: bit 0 splits the header,
 * bit 1 goes through an indirect table, bit 2 appends a writable buffer,
 * bit 3 puts the payload in its own buffer, bit 4 adds an empty buffer.
 * Returns the head (and *slotp), or -1 when the ring stays full.
 */
static int
tx_publish(struct fz *fz, const uint8_t *bytes, uint32_t len, uint8_t shape,
    int *slotp)
{
	struct fg_buf out[5], in[1];
	uint32_t cut[2], ncut = 0, at = 0, k;
	unsigned nout = 0;
	int slot = tx_slot(fz), head;
	uint64_t gpa;

	if (slot < 0)
		return -1;
	gpa = fz->tx_pool + (uint64_t)slot * FZ_TX_SLOT;
	if (len > FZ_TX_WRITABLE)
		len = FZ_TX_WRITABLE;
	fg_mem_write(&fz->mem, gpa, bytes, len);
	if ((shape & 1) && len > 13)
		cut[ncut++] = 13;
	if ((shape & 8) && len > VSOCK_HDR_SIZE)
		cut[ncut++] = VSOCK_HDR_SIZE;
	for (k = 0; k < ncut; k++) {
		out[nout++] = (struct fg_buf){ gpa + at, cut[k] - at };
		at = cut[k];
		if (k == 0 && (shape & 16))
			out[nout++] = (struct fg_buf){ gpa + at, 0 };
	}
	out[nout++] = (struct fg_buf){ gpa + at, len - at };
	in[0] = (struct fg_buf){ gpa + FZ_TX_WRITABLE, 16 };
	head = fg_ring_add(&fz->q.tx, out, nout, in, (shape & 4) ? 1 : 0,
	    (void *)(uintptr_t)(slot + 1), (shape & 2) != 0);
	if (head < 0)
		return -1;
	fz->tx_busy[slot] = true;
	fz->tx_len[slot] = len;
	fz->tx_hash[slot] = script_hash(SCRIPT_HASH_INIT, bytes, len);
	if (slotp != NULL)
		*slotp = slot;
	return head;
}

/* --- guest packets --- */

static uint32_t
guest_port(uint8_t sel, uint32_t raw)
{
	if (sel < 240)
		return FZ_GUEST_PORT + sel % 4;
	switch (sel % 4) {
	case 0:
		return raw;
	case 1:
		return UINT32_MAX;
	case 2:
		return 0;
	default:
		return FZ_GUEST_PORT + sel;	/* many distinct ports */
	}
}

static uint32_t
host_port(uint8_t sel, uint32_t raw)
{
	unsigned s = sel % 16;

	if (s < 4)
		return FZ_LISTEN_PORT + s;
	if (s < 12)
		return VSOCK_LOCAL_PORT_FIRST + (s - 4);	/* host-initiated */
	if (s == 12)
		return raw;
	if (s == 13)
		return UINT32_MAX;
	return FZ_LISTEN_PORT + 4 + (sel >> 4);		/* nobody listens */
}

/* An honest header from the guest (guest_port -> host_port). */
static void
honest_hdr(struct fz *fz, struct vsock_hdr *h, uint16_t op, uint16_t type,
    uint32_t gport, uint32_t hport)
{
	struct fz_pair *p = fz_pair_get(fz, hport, gport);

	memset(h, 0, sizeof(*h));
	h->src_cid = fz->cfg.guest_cid;
	h->dst_cid = VMADDR_CID_HOST;
	h->src_port = gport;
	h->dst_port = hport;
	h->type = type;
	h->op = op;
	h->buf_alloc = fz->guest_buf_alloc;
	/* The honest guest consumed all it got; a new connection has 0. */
	h->fwd_cnt = p == NULL || op == VIRTIO_VSOCK_OP_REQUEST ? 0 : p->tx_cnt;
}

/*
 * Encodes h with `carried` payload bytes (the guest's next pattern bytes)
 * and publishes it; kicks TX when kick.
 */
static void
send_pkt(struct fz *fz, const struct vsock_hdr *h, uint32_t carried,
    uint8_t shape, bool kick)
{
	struct fz_pair *p = fz_pair_get(fz, h->dst_port, h->src_port);
	uint64_t off = p != NULL ? p->guest_tx : 0;

	if (carried > FZ_TX_WRITABLE - VSOCK_HDR_SIZE)
		carried = FZ_TX_WRITABLE - VSOCK_HDR_SIZE;
	vsock_hdr_encode(h, fz->pkt);
	script_pattern_fill(off, fz->pkt + VSOCK_HDR_SIZE, carried);
	if (p != NULL)
		p->guest_tx += carried;
	tx_publish(fz, fz->pkt, VSOCK_HDR_SIZE + carried, shape, NULL);
	if (kick)
		vsock_device_kick(fz->dev, VSOCK_QUEUE_TX, fz->now);
}

/* Applies the PKT action's header lies: length, credit, CIDs, op, type. */
static void
pkt_lies(const struct fz_args *a, struct vsock_hdr *h, uint32_t carried)
{
	uint32_t ra = fz_u32(a, 16), rb = fz_u32(a, 20);
	uint16_t extra = fz_u16(a, 14);

	switch (fz_u8(a, 10) % 10) {
	case 5: h->len = carried + 1; break;
	case 6: h->len = carried > 0 ? carried - 1 : 0; break;
	case 7: h->len = VIRTIO_VSOCK_MAX_PKT_BUF_SIZE + 1; break;
	case 8: h->len = UINT32_MAX; break;
	case 9: h->len = ra; break;
	}
	switch (fz_u8(a, 11) % 8) {
	case 4: h->buf_alloc = ra; h->fwd_cnt = rb; break;
	case 5: h->fwd_cnt += rb; break;	/* ahead, or behind across 2^32 */
	case 6: h->buf_alloc = ra % 128; break;	/* shrinks below in-flight */
	case 7: h->buf_alloc = 0; break;
	}
	switch (fz_u8(a, 12) % 10) {
	case 7: h->src_cid = VMADDR_CID_HOST; break;	/* spoofs the host */
	case 8: h->src_cid |= UINT64_C(1) << 32; break;
	case 9: h->dst_cid = (uint64_t)ra << 32 | rb; break;
	}
	if (fz_u8(a, 2) % 10 == 8)
		h->op = extra;
	if (fz_u8(a, 3) % 8 == 6)
		h->type = 0;
	else if (fz_u8(a, 3) % 8 == 7)
		h->type = (uint16_t)(3 + extra % 100);
}

/*
 * FZ_PKT: 0 guest port, 1 host port, 2 op, 3 type, 4-7 flags, 8-9 payload
 * bytes, 10 length lie, 11 credit lie, 12 CID lie, 13 chain shape, 14-15 a
 * raw op or type, 16-23 raw values for lies.
 */
static void
act_pkt(struct fz *fz, const struct fz_args *a)
{
	static const uint16_t ops[10] = { 0, 1, 2, 3, 4, 5, 6, 7, 5, 5 };
	struct vsock_hdr h;
	uint32_t carried = fz_u16(a, 8);
	uint16_t type = fz_u8(a, 3) % 8 == 5 ? VIRTIO_VSOCK_TYPE_SEQPACKET :
	    VIRTIO_VSOCK_TYPE_STREAM;

	honest_hdr(fz, &h, ops[fz_u8(a, 2) % 10], type,
	    guest_port(fz_u8(a, 0), fz_u32(a, 16)),
	    host_port(fz_u8(a, 1), fz_u32(a, 20)));
	h.flags = fz_u32(a, 4);
	h.len = carried;
	pkt_lies(a, &h, carried);
	send_pkt(fz, &h, carried, fz_u8(a, 13), true);
}

/* FZ_RAW: 0-1 length, 2 shape, then the bytes, sent as they are. */
static void
act_raw(struct fz *fz, const struct fz_args *a)
{
	uint32_t len = fz_u16(a, 0) % FZ_RAW_MAX;
	uint32_t have = a->n > 3 ? (uint32_t)(a->n - 3) : 0;

	if (len > have)
		len = have;
	memcpy(fz->pkt, a->p + 3, len);
	tx_publish(fz, fz->pkt, len, fz_u8(a, 2), NULL);
	vsock_device_kick(fz->dev, VSOCK_QUEUE_TX, fz->now);
}

/*
 * FZ_FLOOD: 0 kind, 1 count, 2 port spread, 3 variant. Many packets, one
 * kick, so the TX budget and the orphan queue are pushed together.
 */
static void
act_flood(struct fz *fz, const struct fz_args *a)
{
	unsigned kind = fz_u8(a, 0) % 7, n = 1 + fz_u8(a, 1) % 64, i;
	unsigned spread = 1 + fz_u8(a, 2) % 64;
	uint8_t v = fz_u8(a, 3);
	struct vsock_hdr h;

	for (i = 0; i < n; i++) {
		uint32_t gport = FZ_GUEST_PORT + i % spread;
		uint32_t hport = host_port((uint8_t)(v + i), 0);
		uint16_t type = (v & 0x40) ? VIRTIO_VSOCK_TYPE_SEQPACKET :
		    VIRTIO_VSOCK_TYPE_STREAM;

		switch (kind) {
		case 0:
			honest_hdr(fz, &h, VIRTIO_VSOCK_OP_REQUEST, type,
			    gport, FZ_LISTEN_PORT + v % 4);
			break;
		case 1:
			honest_hdr(fz, &h, VIRTIO_VSOCK_OP_RST, type, gport,
			    hport);
			break;
		case 2:		/* zero-length RW with EOM / EOR */
			honest_hdr(fz, &h, VIRTIO_VSOCK_OP_RW, type,
			    FZ_GUEST_PORT + v % 4, FZ_LISTEN_PORT + v / 4 % 4);
			h.flags = i & 3;
			break;
		case 3:
			honest_hdr(fz, &h, VIRTIO_VSOCK_OP_CREDIT_REQUEST,
			    type, FZ_GUEST_PORT + v % 4, hport);
			break;
		case 4:		/* SHUTDOWN flag permutations, unknown bits too */
			honest_hdr(fz, &h, VIRTIO_VSOCK_OP_SHUTDOWN, type,
			    FZ_GUEST_PORT + v % 4, hport);
			h.flags = (i * 5 + v) % 8;
			break;
		case 5:		/* buf_alloc shrinking */
			honest_hdr(fz, &h, VIRTIO_VSOCK_OP_CREDIT_UPDATE,
			    type, FZ_GUEST_PORT + v % 4, hport);
			h.buf_alloc = fz->guest_buf_alloc >> (i % 20);
			break;
		default:	/* every op in turn */
			honest_hdr(fz, &h, (uint16_t)(i % 8), type,
			    FZ_GUEST_PORT + v % 4, hport);
			break;
		}
		send_pkt(fz, &h, 0, 0, false);
	}
	vsock_device_kick(fz->dev, VSOCK_QUEUE_TX, fz->now);
}

/* --- ring attacks --- */

/* Lets the device finish every TX chain it has (budget yields included). */
static void
drain_tx(struct fz *fz)
{
	unsigned i;

	vsock_device_kick(fz->dev, VSOCK_QUEUE_TX, fz->now);
	for (i = 0; i < 64 && vsock_device_next_deadline(fz->dev) <= fz->now;
	    i++)
		vsock_device_run(fz->dev, fz->now);
	settle(fz);
}

/*
 * FZ_BADCHAIN: 0 kind. The walker must break TX with that rule's error,
 * if the bad chain is the next it meets. Chains still pending (drain_tx
 * stops after 64 runs of a small TX budget, or TX waits for the host) come
 * first: claimed by FZ_AVAIL, they may break it another way. And it reads
 * avail->idx again only once it has caught up (vhost_get_vq_desc()), so
 * an avail-idx lie behind them is not seen before they are walked.
 */
static void
act_badchain(struct fz *fz, const struct fz_args *a)
{
	enum fg_bad kind = (enum fg_bad)(fz_u8(a, 0) % FG_BAD__COUNT);
	const struct virtq *vq = vsock_device_queue(fz->dev, VSOCK_QUEUE_TX);
	const struct fg_bad_info *info = fg_bad_info(kind);
	bool was_broken, caught_up;

	drain_tx(fz);
	was_broken = virtq_is_broken(vq);
	caught_up = vq->last_avail_idx == fz->q.tx.avail_idx;
	if (fg_bad_publish(&fz->q.tx, kind) < 0)
		return;
	fz->tx_tainted = true;
	drain_tx(fz);
	if (!was_broken && caught_up && vq->broken != info->expected)
		fz_fail(fz, FUZZ_WALKER, "TX chain %s: queue state %s, want %s",
		    info->name, vse_errname(vq->broken),
		    vse_errname(info->expected));
}

/* FZ_AVAIL: 0-1 distance, 2 queue. The driver claims chains it never made. */
static void
act_avail(struct fz *fz, const struct fz_args *a)
{
	bool rx = fz_u8(a, 2) & 1;
	struct fg_ring *r = rx ? &fz->q.rx : &fz->q.tx;
	uint16_t d = (uint16_t)(fz_u16(a, 0) % (2 * fz->qsize + 2));

	if (d == 0)
		return;
	if (rx)
		fz->rx_tainted = true;
	else
		fz->tx_tainted = true;
	fg_ring_raw_set_avail_idx(r, (uint16_t)(r->avail_idx + d));
	vsock_device_kick(fz->dev, rx ? VSOCK_QUEUE_RX : VSOCK_QUEUE_TX,
	    fz->now);
}

/*
 * FZ_MUTATE: 0 what, 1-4 value, 5 op. A small packet is published, then its
 * descriptor (and header) change before the device looks.
 */
static void
act_mutate(struct fz *fz, const struct fz_args *a)
{
	const struct fg_mem_region *r0 = &fz->mem.region[0];
	uint32_t v = fz_u32(a, 1);
	struct vsock_hdr h;
	uint64_t addr;
	uint8_t *bytes;
	int head, slot;

	honest_hdr(fz, &h, fz_u8(a, 5) & 1 ? VIRTIO_VSOCK_OP_REQUEST :
	    VIRTIO_VSOCK_OP_RW, VIRTIO_VSOCK_TYPE_STREAM, FZ_GUEST_PORT,
	    FZ_LISTEN_PORT);
	h.len = 8;
	vsock_hdr_encode(&h, fz->pkt);
	memset(fz->pkt + VSOCK_HDR_SIZE, 0x5a, 8);
	head = tx_publish(fz, fz->pkt, VSOCK_HDR_SIZE + 8, 0, &slot);
	if (head < 0)
		return;
	addr = fz->tx_pool + (uint64_t)slot * FZ_TX_SLOT;
	switch (fz_u8(a, 0) % 9) {
	case 0:		/* below guest memory */
		fg_ring_raw_desc(&fz->q.tx, (uint32_t)head, r0->gpa - 4096,
		    52, 0, 0);
		break;
	case 1:		/* runs off the end of guest memory */
		fg_ring_raw_desc(&fz->q.tx, (uint32_t)head,
		    r0->gpa + r0->size - 10, 52, 0, 0);
		break;
	case 2:
		fg_ring_raw_desc(&fz->q.tx, (uint32_t)head, addr, UINT32_MAX,
		    0, 0);
		break;
	case 3:
		fg_ring_raw_desc(&fz->q.tx, (uint32_t)head, addr, 0, 0, 0);
		break;
	case 4:
		fg_ring_raw_desc(&fz->q.tx, (uint32_t)head, addr, 52,
		    VIRTQ_DESC_F_WRITE, 0);
		break;
	case 5:
		fg_ring_raw_desc(&fz->q.tx, (uint32_t)head, addr, 52,
		    VIRTQ_DESC_F_NEXT, (uint16_t)(v % (2 * fz->qsize)));
		break;
	case 6:
		fg_ring_raw_desc(&fz->q.tx, (uint32_t)head, addr, v % 4096,
		    VIRTQ_DESC_F_INDIRECT, 0);
		break;
	case 7:		/* the descriptor table itself, read as a packet */
		fg_ring_raw_desc(&fz->q.tx, (uint32_t)head, fz->q.tx.desc_gpa,
		    v % 4096, 0, 0);
		break;
	default:	/* the header changes after publication */
		h.len = v;
		h.op = (uint16_t)(v >> 16);
		bytes = fg_mem_ptr(&fz->mem, addr, VSOCK_HDR_SIZE + 8);
		vsock_hdr_encode(&h, bytes);
		fz->tx_hash[slot] = script_hash(SCRIPT_HASH_INIT, bytes,
		    VSOCK_HDR_SIZE + 8);
		break;
	}
	vsock_device_kick(fz->dev, VSOCK_QUEUE_TX, fz->now);
}

/* --- host side --- */

/* The sel-th live host application end, or NULL. */
static struct script_conn *
pick_conn(struct fz *fz, uint8_t sel, bool pending_only)
{
	struct script_conn *sc;
	unsigned n = 0, k;

	for (sc = fz->sb.conns; sc != NULL; sc = sc->next)
		if (sc->conn != NULL && (!pending_only ||
		    (!sc->established && !sc->host_initiated)))
			n++;
	if (n == 0)
		return NULL;
	k = sel % n;
	for (sc = fz->sb.conns; sc != NULL; sc = sc->next)
		if (sc->conn != NULL && (!pending_only ||
		    (!sc->established && !sc->host_initiated)) && k-- == 0)
			break;
	return sc;
}

/* FZ_HSEND: 0 conn, 1-2 bytes, 3 scale and EOR. Pattern bytes go out. */
static void
act_hsend(struct fz *fz, const struct fz_args *a)
{
	struct script_conn *sc = pick_conn(fz, fz_u8(a, 0), false);
	struct fz_app *app = fz_app_of(fz, sc);
	uint64_t n = (uint64_t)fz_u16(a, 1) << (fz_u8(a, 3) % 3 * 3);
	uint8_t *msg;

	if (sc == NULL || app == NULL)
		return;
	if (sc->type != VIRTIO_VSOCK_TYPE_SEQPACKET) {
		script_send_pattern(&fz->sb, sc, n, fz->now);
		return;
	}
	n = fz_u16(a, 1);
	if ((msg = malloc(n + 1)) == NULL)
		return;
	script_pattern_fill(app->h2g_sent, msg, (size_t)n);
	app->h2g_sent += n;
	script_send(&fz->sb, sc, msg, (size_t)n,
	    fz_u8(a, 3) & 0x10 ? VIRTIO_VSOCK_SEQ_EOR : 0, fz->now);
	free(msg);
}

/* FZ_HERR: 0 conn, 1 read or write, 2 which errno. */
static void
act_herr(struct fz *fz, const struct fz_args *a)
{
	static const int errs[6] = { -EPIPE, -ECONNRESET, -EAGAIN, -ENOMEM,
	    -EMSGSIZE, -EIO };
	struct script_conn *sc = pick_conn(fz, fz_u8(a, 0), false);
	int e = errs[fz_u8(a, 2) % 6];

	if (sc == NULL)
		return;
	if (fz_u8(a, 1) & 1) {
		sc->read_err = e;
		vsock_device_host_readable(fz->dev, sc->conn, fz->now);
	} else {
		sc->write_err = e;
		script_consume(&fz->sb, sc, 0, fz->now);
	}
}

/* The host-side actions on one connection: close, shut, consume, limits. */
static void
act_host(struct fz *fz, enum fz_op op, const struct fz_args *a)
{
	struct script_conn *sc = pick_conn(fz, fz_u8(a, 0),
	    op == FZ_HCOMPLETE);
	struct fz_app *app = fz_app_of(fz, sc);
	uint16_t v = fz_u16(a, 1);

	if (sc == NULL || app == NULL)
		return;
	switch (op) {
	case FZ_HCOMPLETE:
		script_complete(&fz->sb, sc, fz_u8(a, 1) & 1 ?
		    -ECONNREFUSED : 0, fz->now);
		break;
	case FZ_HSHUTWR:
		script_shutdown_write(&fz->sb, sc, fz->now);
		break;
	case FZ_HCLOSE:
		app->host_closed = true;
		script_close(&fz->sb, sc, fz_u8(a, 1) & 1, fz->now);
		break;
	case FZ_HCONSUME:
		script_consume(&fz->sb, sc, v == 0 ? UINT64_MAX : v, fz->now);
		break;
	case FZ_HLIMIT:		/* a slow reader: small receive buffer */
		sc->in_limit = v;
		script_consume(&fz->sb, sc, 0, fz->now);
		break;
	case FZ_HWMAX:
		sc->write_max = v;
		script_consume(&fz->sb, sc, 0, fz->now);
		break;
	default:
		break;
	}
}

/* FZ_HCONNECT: 0 guest port, 1 type. */
static void
act_hconnect(struct fz *fz, const struct fz_args *a)
{
	static const uint16_t types[4] = { VIRTIO_VSOCK_TYPE_STREAM,
	    VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_TYPE_SEQPACKET, 9 };
	struct script_conn *sc;

	script_connect(&fz->sb, guest_port(fz_u8(a, 0), 0),
	    types[fz_u8(a, 1) % 4], fz->now, &sc);
}

/* FZ_TIME: 0 how, 1-2 amount. Time jumps, boundaries included. */
static void
act_time(struct fz *fz, const struct fz_args *a)
{
	vsock_time_t next = vsock_device_next_deadline(fz->dev);
	uint16_t v = fz_u16(a, 1);

	switch (fz_u8(a, 0) % 7) {
	case 0: fz->now += 1; break;
	case 1: fz->now += (vsock_time_t)v * 1000; break;
	case 2: fz->now += (vsock_time_t)v * 1000000; break;
	case 3: fz->now += fz->cfg.request_timeout; break;
	case 4: fz->now += vsock_profile_close_timeout(fz->cfg.profile); break;
	case 5:		/* exactly the next deadline */
		if (next != VSOCK_TIME_NEVER && next > fz->now)
			fz->now = next;
		break;
	default:	/* just before it */
		if (next != VSOCK_TIME_NEVER && next > fz->now + 1)
			fz->now = next - 1;
		break;
	}
	vsock_device_run(fz->dev, fz->now);
}

/* Runs one action. */
static void
act(struct fz *fz, enum fz_op op, const struct fz_args *a)
{
	switch (op) {
	case FZ_PKT: act_pkt(fz, a); break;
	case FZ_RAW: act_raw(fz, a); break;
	case FZ_LISTEN:
		script_listen(&fz->sb, FZ_LISTEN_PORT + fz_u8(a, 0) % 4,
		    (enum script_listen_mode)(fz_u8(a, 1) % 3));
		break;
	case FZ_HCONNECT: act_hconnect(fz, a); break;
	case FZ_HSEND: act_hsend(fz, a); break;
	case FZ_HERR: act_herr(fz, a); break;
	case FZ_RXPOST:
		if (fz_u8(a, 0) == 255)
			fz->auto_repost = !fz->auto_repost;
		post_rx(fz, fz_u8(a, 0) % 65, fz_u8(a, 1));
		vsock_device_kick(fz->dev, VSOCK_QUEUE_RX, fz->now);
		break;
	case FZ_TIME: act_time(fz, a); break;
	case FZ_KICK:
		vsock_device_kick(fz->dev, fz_u8(a, 0) % 3, fz->now);
		break;
	case FZ_FLOOD: act_flood(fz, a); break;
	case FZ_BADCHAIN: act_badchain(fz, a); break;
	case FZ_AVAIL: act_avail(fz, a); break;
	case FZ_MUTATE: act_mutate(fz, a); break;
	case FZ_RESET:
		/* Before: the reset itself runs chains left by the budget. */
		fz_pairs_reset(fz);
		vsock_device_transport_reset(fz->dev, fz->now);
		break;
	default: act_host(fz, op, a); break;
	}
}

/* --- the run --- */

/*
 * The config bytes: 0 flags (linux profile, seqpacket, no event idx, no
 * indirect, small conn limit, queue 64, manual RX repost, small orphan
 * queue), 1 conn limit, 2 TX budget, 3 orphan queue, 4 device buf_alloc,
 * 5 guest buf_alloc, 6 RX buffers posted at start, 7 their shape.
 */
static void
decode_config(struct fz *fz, const uint8_t *c, uint64_t *features_off)
{
	vsock_device_config_defaults(&fz->cfg);
	fz->cfg.profile = c[0] & 1 ? VSOCK_PROFILE_LINUX :
	    VSOCK_PROFILE_FIRECRACKER;
	fz->cfg.seqpacket = (c[0] & 2) != 0;
	*features_off = (c[0] & 4 ? VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX) :
	    0) | (c[0] & 8 ? VIRTIO_FEATURE(VIRTIO_RING_F_INDIRECT_DESC) : 0);
	if (c[0] & 16)
		fz->cfg.max_conns = 1 + c[1] % 8;
	fz->qsize = c[0] & 32 ? 64 : 256;
	fz->auto_repost = !(c[0] & 64);
	if (c[0] & 128)
		fz->cfg.orphan_max = 1 + c[3] % 8;
	if (c[2] >= 128)
		fz->cfg.tx_budget = 1 + c[2] % 16;
	switch (c[4] % 4) {
	case 1: fz->cfg.buf_alloc = 4096; break;
	case 2: fz->cfg.buf_alloc = 1 + (uint32_t)c[4] * 37; break;
	case 3: fz->cfg.buf_alloc = 256 * 1024; break;
	}
	fz->guest_buf_alloc = c[5] == 0 ? 256 * 1024 : (uint32_t)c[5] * 512;
	fz->rx_shape = c[7] % 8;
}

/* Builds memory, rings, device and host from the config bytes. */
static int
rig_new(struct fz *fz, const uint8_t *cfgb)
{
	uint64_t off, f;
	unsigned i;
	int e;

	decode_config(fz, cfgb, &off);
	if ((fz->pkt = malloc(FZ_TX_SLOT)) == NULL)
		return -VSE_ERR_NOMEM;
	if ((e = fg_mem_init_simple(&fz->mem, FZ_MEM_SIZE)) < 0)
		return e;
	script_init(&fz->sb);
	/* No .readable: the fuzzer drives the muxer's path, bytes unknown. */
	fz->ops = (struct vsock_backend_ops){ .connect = w_connect,
	    .established = w_established, .write = w_write, .read = w_read,
	    .shutdown = w_shutdown, .want = w_want, .release = w_release };
	if ((e = vsock_device_new(&fz->cfg, &fz->ops, fz, &fz->dev,
	    NULL)) < 0)
		return e;
	script_attach(&fz->sb, fz->dev);
	vsock_device_set_tap(fz->dev, fz_tap, fz);
	f = vsock_device_features(fz->dev) & ~off;
	if ((e = vsock_device_set_features(fz->dev, f)) < 0 ||
	    (e = fg_queues_init(&fz->q, &fz->mem, fz->dev, fz->qsize, f)) < 0)
		return e;
	fz->rx_pool = fg_mem_alloc(&fz->mem,
	    (uint64_t)fz->qsize * FZ_RX_SLOT, 16);
	fz->tx_pool = fg_mem_alloc(&fz->mem,
	    (uint64_t)FZ_TX_SLOTS * FZ_TX_SLOT, 16);
	fz->ev_pool = fg_mem_alloc(&fz->mem, 8 * 4, 4);
	if (fz->rx_pool == FG_GPA_NONE || fz->tx_pool == FG_GPA_NONE ||
	    fz->ev_pool == FG_GPA_NONE)
		return -VSE_ERR_NOMEM;
	for (i = 0; i < fz->qsize; i++)
		fz->rx_free[fz->nrx_free++] = (uint16_t)(fz->qsize - 1 - i);
	for (i = 0; i < 4; i++) {
		struct fg_buf b = { fz->ev_pool + 4 * i, 4 };

		fg_ring_add(&fz->q.ev, NULL, 0, &b, 1,
		    (void *)(uintptr_t)(i + 1), false);
	}
	post_rx(fz, cfgb[6] % 65, fz->rx_shape);
	vsock_device_kick(fz->dev, VSOCK_QUEUE_RX, fz->now);
	return 0;
}

static void
rig_free(struct fz *fz)
{
	vsock_device_free(fz->dev);
	fz_apps_free(fz);
	script_free(&fz->sb);
	fg_queues_destroy(&fz->q);
	fg_mem_destroy(&fz->mem);
	free(fz->pairs);
	free(fz->pkt);
}

/*
 * The guest takes used event buffers and posts them again, as Linux's
 * driver does once it handled an event (virtio_vsock_event_handle(), then
 * virtio_vsock_event_fill_one()): the device holds RX until then.
 */
static void
repost_events(struct fz *fz)
{
	void *tok;

	while ((tok = fg_ring_get_used(&fz->q.ev, NULL)) != NULL) {
		struct fg_buf b = { fz->ev_pool + 4 * ((uintptr_t)tok - 1),
		    4 };

		fg_ring_add(&fz->q.ev, NULL, 0, &b, 1, tok, false);
	}
}

/*
 * The end of a run: pending connects complete, the guest posts buffers and
 * time passes every timeout, so every owed answer can go out.
 */
static void
drain(struct fz *fz)
{
	struct script_conn *sc;
	unsigned round, i;

	fz->auto_repost = true;
	fz->rx_shape = 0;
	for (round = 0; round < 4; round++) {
		for (i = 0; i < fz->sb.nconns &&
		    (sc = pick_conn(fz, 0, true)) != NULL; i++)
			script_complete(&fz->sb, sc, round & 1 ?
			    -ECONNREFUSED : 0, fz->now);
		post_rx(fz, fz->qsize, 0);
		repost_events(fz);
		vsock_device_kick(fz->dev, VSOCK_QUEUE_RX, fz->now);
		fz->now += fz->cfg.request_timeout +
		    vsock_profile_close_timeout(fz->cfg.profile) + 1;
		vsock_device_run(fz->dev, fz->now);
		settle(fz);
	}
}

/* Folds the final counters into the run's digest. */
static void
digest_end(struct fz *fz)
{
	const struct vsock_device_stats *st = vsock_device_stats(fz->dev);
	uint32_t n = vsock_device_nconns(fz->dev);
	int f = fz->res->finding;

	fz->digest = script_hash(fz->digest, st, sizeof(*st));
	fz->digest = script_hash(fz->digest, &n, sizeof(n));
	fz->digest = script_hash(fz->digest, &f, sizeof(f));
	fz->res->digest = fz->digest;
}

int
fuzz_exec(const uint8_t *data, size_t len, const struct fuzz_exec_opts *opts,
    struct fuzz_result *res)
{
	uint8_t cfgb[FUZZ_CONFIG_BYTES] = { 0 };
	struct fz *fz;
	size_t off, n;
	int e;

	memset(res, 0, sizeof(*res));
	if ((fz = calloc(1, sizeof(*fz))) == NULL)
		return -VSE_ERR_NOMEM;
	fz->res = res;
	fz->opts = opts;
	fz->digest = SCRIPT_HASH_INIT;
	memcpy(cfgb, data, len < sizeof(cfgb) ? len : sizeof(cfgb));
	if ((e = rig_new(fz, cfgb)) < 0) {
		rig_free(fz);
		free(fz);
		return e;
	}
	off = len < FUZZ_CONFIG_BYTES ? len : FUZZ_CONFIG_BYTES;
	while (off < len && fz->action < FUZZ_MAX_ACTIONS &&
	    res->finding == FUZZ_OK) {
		struct fz_args a;

		n = fz_action_len(data + off, len - off);
		a.p = data + off + 1;
		a.n = n - 1;
		fz->work = 0;
		fz->step_packets = 0;
		act(fz, (enum fz_op)(data[off] % FZ__OPS), &a);
		settle(fz);
		fz_check_step(fz);
		off += n;
		fz->action++;
	}
	res->nactions = fz->action;
	if (res->finding == FUZZ_OK) {
		fz->work = 0;
		fz->step_packets = 0;
		drain(fz);
		fz_check_step(fz);
		fz_check_end(fz);
	}
	digest_end(fz);
	rig_free(fz);
	free(fz);
	return 0;
}

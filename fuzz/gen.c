/* gen.c - writes, mutates and shrinks action streams; all randomness comes from one seeded PRNG. */
#include "config.h"

#include <string.h>

#include "fuzz-int.h"
#include "fuzz.h"

void
fuzz_rng_init(struct fuzz_rng *r, uint64_t seed, uint64_t run)
{
	r->s = seed * UINT64_C(0x9e3779b97f4a7c15) ^ (run + 1) *
	    UINT64_C(0xd1b54a32d192ed03);
	(void)fuzz_rng_next(r);
}

/* splitmix64: tiny, fast, and the same sequence everywhere. */
uint64_t
fuzz_rng_next(struct fuzz_rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A number below n (n > 0). */
static uint32_t
below(struct fuzz_rng *r, uint32_t n)
{
	return (uint32_t)(fuzz_rng_next(r) % n);
}

/* True with probability pct %. */
static int
chance(struct fuzz_rng *r, unsigned pct)
{
	return below(r, 100) < pct;
}

/* An output buffer; actions that do not fit whole are not written. */
struct emit {
	uint8_t *buf;
	size_t cap, len;
};

/* Appends one action: opcode and its n argument bytes. */
static void
emit_action(struct emit *e, enum fz_op op, const uint8_t *args, size_t n)
{
	if (e->len + 1 + n > e->cap)
		return;
	e->buf[e->len++] = (uint8_t)op;
	memcpy(e->buf + e->len, args, n);
	e->len += n;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

/* Fills n argument bytes at random. */
static void
fill(struct fuzz_rng *r, uint8_t *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		a[i] = (uint8_t)fuzz_rng_next(r);
}

/* Payload length of a generated RW: mostly small, sometimes a full 64 KiB. */
static uint16_t
rw_len(struct fuzz_rng *r)
{
	unsigned k = below(r, 100);

	if (k < 5)
		return 0;
	if (k < 65)
		return (uint16_t)below(r, 64);
	if (k < 90)
		return (uint16_t)below(r, 4096);
	return (uint16_t)below(r, 65536);
}

/*
 * A guest packet on (guest port gsel, host port hsel): honest fields unless
 * a lie is drawn (each kind of lie about one packet in ten).
 */
static void
gen_pkt(struct fuzz_rng *r, struct emit *e, uint8_t op, uint8_t gsel,
    uint8_t hsel)
{
	uint8_t a[FZ_PKT_ARGS];
	unsigned k;

	fill(r, a, sizeof(a));
	a[0] = gsel;
	a[1] = hsel;
	a[2] = op;
	k = below(r, 100);
	a[3] = k < 80 ? 0 : k < 95 ? 5 : a[3];
	k = below(r, 100);
	if (k < 70)
		put32(a + 4, 0);
	else if (k < 90)
		put32(a + 4, below(r, 4));
	put16(a + 8, op == VIRTIO_VSOCK_OP_RW ? rw_len(r) :
	    chance(r, 95) ? 0 : (uint16_t)below(r, 128));
	if (chance(r, 90))
		a[10] = 0;
	if (chance(r, 85))
		a[11] = 0;
	if (chance(r, 95))
		a[12] = 0;
	if (chance(r, 70))
		a[13] = 0;
	if (chance(r, 60))
		put32(a + 20, below(r, 70000));	/* fwd_cnt lies stay near */
	emit_action(e, FZ_PKT, a, sizeof(a));
}

/* An op for a guest packet, weighted toward what moves a connection. */
static uint8_t
gen_op(struct fuzz_rng *r)
{
	static const uint8_t w[] = {
		1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 5, 5, 5,
		5, 5, 6, 6, 6, 7, 7, 7, 0, 8,
	};

	return w[below(r, sizeof(w))];
}

/* A guest port selector: one of four, sometimes anything. */
static uint8_t
gen_gsel(struct fuzz_rng *r)
{
	return chance(r, 90) ? (uint8_t)below(r, 4) : (uint8_t)fuzz_rng_next(r);
}

/* A host port selector: listeners, host-initiated ports, or anything. */
static uint8_t
gen_hsel(struct fuzz_rng *r)
{
	unsigned k = below(r, 100);

	if (k < 60)
		return (uint8_t)below(r, 4);
	if (k < 85)
		return (uint8_t)(4 + below(r, 4));
	return (uint8_t)fuzz_rng_next(r);
}

/* A host-side action on some connection. */
static void
gen_host(struct fuzz_rng *r, struct emit *e)
{
	static const uint8_t ops[] = { FZ_HSEND, FZ_HSEND, FZ_HSEND,
	    FZ_HCONSUME, FZ_HCONSUME, FZ_HCOMPLETE, FZ_HCOMPLETE,
	    FZ_HSHUTWR, FZ_HCLOSE, FZ_HLIMIT, FZ_HERR, FZ_HWMAX,
	    FZ_HCONNECT, FZ_LISTEN };
	enum fz_op op = ops[below(r, sizeof(ops))];
	uint8_t a[8];

	fill(r, a, sizeof(a));
	if (op == FZ_HSEND) {
		put16(a + 1, chance(r, 70) ? (uint16_t)below(r, 2000) :
		    (uint16_t)fuzz_rng_next(r));
		a[3] = chance(r, 80) ? (uint8_t)(a[3] & 0xf0) : a[3];
	} else if (op == FZ_HLIMIT || op == FZ_HWMAX) {
		put16(a + 1, chance(r, 50) ? 0 : (uint16_t)below(r, 300));
	} else if (op == FZ_HCONNECT) {
		a[0] = gen_gsel(r);
	}
	emit_action(e, op, a, fz_arg_bytes[op]);
}

/* The guest connects to a listener and both sides talk a little. */
static void
gen_talk(struct fuzz_rng *r, struct emit *e)
{
	uint8_t g = gen_gsel(r), h = (uint8_t)below(r, 4), a[4];
	unsigned n = 2 + below(r, 8), i;

	a[0] = h;
	a[1] = chance(r, 75) ? 0 : (uint8_t)below(r, 3);
	emit_action(e, FZ_LISTEN, a, 2);
	gen_pkt(r, e, VIRTIO_VSOCK_OP_REQUEST, g, h);
	for (i = 0; i < n; i++) {
		if (chance(r, 50))
			gen_pkt(r, e, chance(r, 80) ? VIRTIO_VSOCK_OP_RW :
			    gen_op(r), g, h);
		else
			gen_host(r, e);
	}
}

/* The host connects; the guest answers from the port it will get. */
static void
gen_host_connect(struct fuzz_rng *r, struct emit *e, unsigned *nconnect)
{
	uint8_t g = gen_gsel(r), a[2] = { g, (uint8_t)below(r, 3) };

	emit_action(e, FZ_HCONNECT, a, 2);
	if (chance(r, 80))
		gen_pkt(r, e, chance(r, 85) ? VIRTIO_VSOCK_OP_RESPONSE :
		    VIRTIO_VSOCK_OP_RST, g, (uint8_t)(4 + *nconnect % 8));
	(*nconnect)++;
}

/* Anything else: buffers, time, floods, raw bytes and ring attacks. */
static void
gen_other(struct fuzz_rng *r, struct emit *e, unsigned k)
{
	uint8_t a[FZ_RAW_MAX + 3];
	enum fz_op op;
	uint16_t n;

	fill(r, a, 8);
	if (k < 77) {
		op = FZ_RXPOST;
		a[0] = (uint8_t)below(r, chance(r, 2) ? 256 : 65);
		a[1] = chance(r, 60) ? 0 : a[1];
	} else if (k < 85) {
		op = FZ_TIME;
	} else if (k < 88) {
		op = FZ_KICK;
	} else if (k < 93) {
		op = FZ_FLOOD;
	} else if (k < 95) {
		op = FZ_RAW;
		n = (uint16_t)below(r, 120);
		put16(a, n);
		fill(r, a + 3, n);
		emit_action(e, op, a, 3 + (size_t)n);
		return;
	} else if (k < 96) {
		op = FZ_RESET;
	} else if (k < 98) {
		op = FZ_MUTATE;
	} else if (k < 99) {
		op = FZ_BADCHAIN;
	} else {
		op = FZ_AVAIL;
	}
	emit_action(e, op, a, fz_arg_bytes[op]);
}

/* The 8 config bytes, biased toward the defaults a guest really has. */
static void
gen_config(struct fuzz_rng *r, uint8_t c[FUZZ_CONFIG_BYTES])
{
	static const uint8_t pct[8] = { 50, 70, 10, 10, 20, 30, 10, 20 };
	unsigned b;

	fill(r, c, FUZZ_CONFIG_BYTES);
	c[0] = 0;
	for (b = 0; b < 8; b++)
		if (chance(r, pct[b]))
			c[0] |= (uint8_t)(1u << b);
	if (chance(r, 70))
		c[2] &= 0x7f;
	if (chance(r, 60))
		c[5] = 0;
	if (chance(r, 70))
		c[6] = (uint8_t)(32 + below(r, 33));
	if (chance(r, 70))
		c[7] = 0;
}

size_t
fuzz_generate(struct fuzz_rng *r, uint8_t *buf, size_t cap)
{
	struct emit e = { buf, cap, 0 };
	unsigned n, i, k, nconnect = 0;

	if (cap < FUZZ_CONFIG_BYTES)
		return 0;
	gen_config(r, buf);
	e.len = FUZZ_CONFIG_BYTES;
	n = 20 + below(r, 300);
	for (i = 0; i < n && e.len < cap; i++) {
		k = below(r, 100);
		if (k < 35)
			gen_pkt(r, &e, gen_op(r), gen_gsel(r), gen_hsel(r));
		else if (k < 45)
			gen_talk(r, &e);
		else if (k < 52)
			gen_host_connect(r, &e, &nconnect);
		else if (k < 70)
			gen_host(r, &e);
		else
			gen_other(r, &e, k);
	}
	return e.len;
}

size_t
fuzz_split(const uint8_t *data, size_t len, size_t *off, size_t max)
{
	size_t at = FUZZ_CONFIG_BYTES, n = 0;

	while (at < len && n < max) {
		off[n++] = at;
		at += fz_action_len(data + at, len - at);
	}
	return n;
}

/* Appends bytes [from, to) of in to the output if they fit. */
static void
copy_span(struct emit *e, const uint8_t *in, size_t from, size_t to)
{
	if (to > from && e->len + (to - from) <= e->cap) {
		memcpy(e->buf + e->len, in + from, to - from);
		e->len += to - from;
	}
}

/* A few freshly generated actions. */
static void
gen_some(struct fuzz_rng *r, struct emit *e, unsigned n)
{
	unsigned i, k, nconnect = 0;

	for (i = 0; i < n; i++) {
		k = below(r, 100);
		if (k < 40)
			gen_pkt(r, e, gen_op(r), gen_gsel(r), gen_hsel(r));
		else if (k < 50)
			gen_talk(r, e);
		else if (k < 55)
			gen_host_connect(r, e, &nconnect);
		else if (k < 72)
			gen_host(r, e);
		else
			gen_other(r, e, k);
	}
}

size_t
fuzz_mutate(struct fuzz_rng *r, const uint8_t *in, size_t len, uint8_t *out,
    size_t cap)
{
	static size_t off[FUZZ_MAX_ACTIONS + 1];
	struct emit e = { out, cap, 0 };
	size_t n, i, a, b, k;

	if (len < FUZZ_CONFIG_BYTES || cap < FUZZ_CONFIG_BYTES)
		return fuzz_generate(r, out, cap);
	n = fuzz_split(in, len, off, FUZZ_MAX_ACTIONS);
	off[n] = len;
	copy_span(&e, in, 0, FUZZ_CONFIG_BYTES);
	a = n ? below(r, (uint32_t)n) : 0;
	b = n ? a + below(r, (uint32_t)(n - a)) + 1 : 0;
	switch (below(r, 6)) {
	case 0:		/* delete actions [a, b) */
		copy_span(&e, in, off[0], n ? off[a] : len);
		copy_span(&e, in, n ? off[b] : len, len);
		break;
	case 1:		/* duplicate action a */
		copy_span(&e, in, off[0], n ? off[b] : len);
		if (n)
			copy_span(&e, in, off[a], off[a + 1]);
		copy_span(&e, in, n ? off[b] : len, len);
		break;
	case 2:		/* insert fresh actions before a */
		copy_span(&e, in, off[0], n ? off[a] : len);
		gen_some(r, &e, 1 + below(r, 5));
		copy_span(&e, in, n ? off[a] : len, len);
		break;
	case 3:		/* flip a few bytes anywhere */
		copy_span(&e, in, off[0], len);
		for (i = 0, k = 1 + below(r, 4); i < k && e.len > 0; i++)
			out[below(r, (uint32_t)e.len)] ^=
			    (uint8_t)(1u << below(r, 8));
		break;
	case 4:		/* keep the head, grow a new tail */
		copy_span(&e, in, off[0], n ? off[b] : len);
		gen_some(r, &e, 5 + below(r, 40));
		break;
	default:	/* another device configuration */
		out[below(r, FUZZ_CONFIG_BYTES)] = (uint8_t)fuzz_rng_next(r);
		copy_span(&e, in, off[0], len);
		break;
	}
	return e.len;
}

/* Does data still produce finding? */
static int
still_fails(const uint8_t *data, size_t len, int finding)
{
	struct fuzz_result res;

	return fuzz_exec(data, len, NULL, &res) == 0 &&
	    res.finding == finding;
}

size_t
fuzz_minimize(uint8_t *data, size_t len, int finding, unsigned budget)
{
	static size_t off[FUZZ_MAX_ACTIONS + 1];
	static uint8_t cand[FUZZ_MAX_INPUT];
	struct fuzz_result res;
	size_t n, chunk, start, cut_from, cut_to, clen;

	if (len > sizeof(cand))
		return len;
	/* Actions past the one that failed never ran: drop them first. */
	if (fuzz_exec(data, len, NULL, &res) == 0 && res.finding == finding) {
		n = fuzz_split(data, len, off, FUZZ_MAX_ACTIONS);
		if (res.action + 1 < n && still_fails(data,
		    off[res.action + 1], finding))
			len = off[res.action + 1];
	}
	n = fuzz_split(data, len, off, FUZZ_MAX_ACTIONS);
	for (chunk = n / 2; chunk >= 1 && budget > 0; chunk /= 2) {
		for (start = 0; start < n && budget > 0;) {
			n = fuzz_split(data, len, off, FUZZ_MAX_ACTIONS);
			off[n] = len;
			if (start >= n)
				break;
			cut_from = off[start];
			cut_to = off[start + chunk < n ? start + chunk : n];
			memcpy(cand, data, cut_from);
			memcpy(cand + cut_from, data + cut_to, len - cut_to);
			clen = len - (cut_to - cut_from);
			budget--;
			if (still_fails(cand, clen, finding)) {
				memcpy(data, cand, clen);
				len = clen;
			} else {
				start += chunk;
			}
		}
	}
	return len;
}

/* replay-live-trace.c - a trace for live replay, read whole: roles, connections, the program's side's stream and lifecycle per connection. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "error.h"
#include "pcap-reader.h"
#include "live-trace-int.h"

/* Hash of a port pair, for the pair tables. */
static uint32_t
pair_slot(uint64_t key)
{
	key ^= key >> 29;
	key *= 0xbf58476d1ce4e5b9ull;
	key ^= key >> 32;
	return (uint32_t)key & (LIVE_PAIR_SLOTS - 1);
}

struct live_conn *
live_pairs_find(struct live_trace *lt, const struct live_pairs *p,
    uint32_t host_port, uint32_t guest_port)
{
	uint64_t key = (uint64_t)host_port << 32 | guest_port;
	uint32_t s, n;

	for (s = pair_slot(key), n = 0; n < LIVE_PAIR_SLOTS;
	    n++, s = (s + 1) & (LIVE_PAIR_SLOTS - 1)) {
		if (p->val[s] == 0)
			return NULL;
		if (p->key[s] == key)
			return &lt->c[p->val[s] - 1];
	}
	return NULL;
}

void
live_pairs_set(struct live_pairs *p, uint32_t host_port, uint32_t guest_port,
    uint32_t ci)
{
	uint64_t key = (uint64_t)host_port << 32 | guest_port;
	uint32_t s, n;

	/* At most LIVE_MAX_CONNS keys in twice as many slots: one is free. */
	for (s = pair_slot(key), n = 0; n < LIVE_PAIR_SLOTS;
	    n++, s = (s + 1) & (LIVE_PAIR_SLOTS - 1))
		if (p->val[s] == 0 || p->key[s] == key) {
			p->key[s] = key;
			p->val[s] = ci + 1;
			return;
		}
}

/* Grows *buf (elements of size) to hold want; false without memory. */
static bool
grow(void *buf, uint64_t *cap, uint64_t want, size_t size)
{
	uint64_t n = *cap ? *cap : 16;
	void *q;

	if (want <= *cap)
		return true;
	while (n < want)
		n *= 2;
	if ((q = realloc(*(void **)buf, n * size)) == NULL)
		return false;
	*(void **)buf = q;
	*cap = n;
	return true;
}

/* Sets the load's error: "PATH: frame N: why", or without a frame. */
static int
unusable(struct replay_result *res, const char *path, uint64_t frame,
    const char *why)
{
	res->verdict = REPLAY_UNUSABLE;
	if (frame != 0)
		snprintf(res->error, sizeof(res->error), "%s: frame %" PRIu64
		    ": %s", path, frame, why);
	else
		snprintf(res->error, sizeof(res->error), "%s: %s", path, why);
	return -1;
}

/*
 * Which end sent f: vsockemu's direction mark, else CID 2 (the host's,
 * VMADDR_CID_HOST). Returns 1 host, 0 guest, -1 neither end is the host.
 */
static int
from_host(const struct vsock_pcap_frame *f)
{
	if (f->dir_marked)
		return f->to_guest;
	if (f->hdr.src_cid == 2 && f->hdr.dst_cid != 2)
		return 1;
	if (f->hdr.dst_cid == 2 && f->hdr.src_cid != 2)
		return 0;
	return -1;
}

/* The connection frame f (from the host or not) belongs to, made if new. */
static int
conn_of(struct live_trace *lt, const struct vsock_pcap_frame *f, bool host,
    uint32_t *ci)
{
	uint32_t hp = host ? f->hdr.src_port : f->hdr.dst_port;
	uint32_t gp = host ? f->hdr.dst_port : f->hdr.src_port;
	struct live_conn *c = live_pairs_find(lt, &lt->trace_pairs, hp, gp);

	/* A REQUEST starts a connection; so does a first frame on a pair. */
	if (c != NULL && f->hdr.op != VIRTIO_VSOCK_OP_REQUEST) {
		*ci = (uint32_t)(c - lt->c);
		return 0;
	}
	if (lt->nc == LIVE_MAX_CONNS)
		return -1;
	if (!grow(&lt->c, &lt->ccap, lt->nc + 1, sizeof(*lt->c)))
		return -1;
	c = &lt->c[lt->nc];
	memset(c, 0, sizeof(*c));
	c->host_cid = host ? f->hdr.src_cid : f->hdr.dst_cid;
	c->guest_cid = host ? f->hdr.dst_cid : f->hdr.src_cid;
	c->host_port = c->dev_hport = hp;
	c->guest_port = c->dev_gport = gp;
	c->host_initiated = host && f->hdr.op == VIRTIO_VSOCK_OP_REQUEST;
	c->prog_initiated = f->hdr.op == VIRTIO_VSOCK_OP_REQUEST &&
	    host == (lt->side == LIVE_PROG_HOST);
	live_pairs_set(&lt->trace_pairs, hp, gp, lt->nc);
	*ci = lt->nc++;
	return 0;
}

unsigned
live_bits(const struct vsock_hdr *h)
{
	switch (h->op) {
	case VIRTIO_VSOCK_OP_REQUEST:
		return LIVE_REQUEST;
	case VIRTIO_VSOCK_OP_RESPONSE:
		return LIVE_RESPONSE;
	case VIRTIO_VSOCK_OP_RST:
		return LIVE_RESET | LIVE_SHUT_RCV | LIVE_SHUT_SEND;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		return (h->flags & VIRTIO_VSOCK_SHUTDOWN_MASK) |
		    (h->flags & ~VIRTIO_VSOCK_SHUTDOWN_MASK ? LIVE_ODD_FLAGS :
		    0);
	}
	return 0;
}

/*
 * A lifecycle frame of the program's side: joins the connection's last
 * step when nothing (no fed frame, no byte of the side's stream) came
 * between them, else starts one.
 */
static bool
add_step(struct live_trace *lt, struct live_conn *c, struct live_frame *lf,
    const struct vsock_hdr *h)
{
	struct live_step *s = c->nst ? &c->st[c->nst - 1] : NULL;
	unsigned need = s ? s->need : 0, allow = s ? s->allow : 0;
	unsigned b = live_bits(h);

	if (s == NULL || c->fed_since_step || s->off != c->stream_len) {
		if (!grow(&c->st, &c->stcap, c->nst + 1, sizeof(*c->st)))
			return false;
		s = &c->st[c->nst++];
		*s = (struct live_step){ need, allow, c->stream_len, lt->nf,
		    lt->nf };
		c->fed_since_step = false;
	}
	if (h->op == VIRTIO_VSOCK_OP_RST && (s->allow & LIVE_CLOSED))
		s->need |= LIVE_CLOSED;	/* the device's, after a SHUTDOWN */
	else
		s->need |= b;
	s->allow |= b;
	s->last_frame = lt->nf;
	lf->step = c->nst;
	return true;
}

/* Records a program's frame's part: its bytes in the stream, or its step. */
static bool
add_prog(struct live_trace *lt, struct live_frame *lf,
    const struct vsock_pcap_frame *f)
{
	struct live_conn *c = &lt->c[lf->conn];

	switch (f->hdr.op) {
	case VIRTIO_VSOCK_OP_RW:
		if (!grow(&c->stream, &c->stream_cap, c->stream_len + f->payload_len, 1))
			return false;
		if (f->payload_len > 0)
			memcpy(c->stream + c->stream_len, f->payload, f->payload_len);
		c->stream_len += f->payload_len;
		lf->off_end = c->stream_len;
		lf->len = f->payload_len;
		if (f->hdr.type != VIRTIO_VSOCK_TYPE_SEQPACKET ||
		    !(f->hdr.flags & VIRTIO_VSOCK_SEQ_EOM))
			return true;
		if (!grow(&c->eom, &c->eomcap, c->neom + 1, sizeof(*c->eom)))
			return false;
		c->eom[c->neom++] = c->stream_len;
		return true;
	case VIRTIO_VSOCK_OP_REQUEST:
	case VIRTIO_VSOCK_OP_RESPONSE:
	case VIRTIO_VSOCK_OP_RST:
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		return add_step(lt, c, lf, &f->hdr);
	}
	return true;	/* credit packets: not compared */
}

/* Appends n bytes at p to the fed payloads; false without memory. */
static bool
add_payload(struct live_trace *lt, const uint8_t *p, uint64_t n)
{
	if (!grow(&lt->fpay, &lt->fpay_cap, lt->fpay_len + n, 1))
		return false;
	if (n > 0)
		memcpy(lt->fpay + lt->fpay_len, p, n);
	lt->fpay_len += n;
	return true;
}

/*
 * --guest: a host SEQPACKET RW is a fragment of a message the host
 * application wrote whole (one send(), cut by the device into the guest's
 * RX buffers): fragments are gathered and the EOM frame plays the message.
 * The gathered copy is bounded by the trace's payload cap.
 */
static bool
add_fed_msg(struct live_trace *lt, struct live_frame *lf,
    const struct vsock_pcap_frame *f)
{
	struct live_conn *c = &lt->c[lf->conn];

	if (!grow(&c->msg, &c->msg_cap, c->msg_len + f->payload_len, 1))
		return false;
	if (f->payload_len > 0)
		memcpy(c->msg + c->msg_len, f->payload, f->payload_len);
	c->msg_len += f->payload_len;
	if (!(f->hdr.flags & VIRTIO_VSOCK_SEQ_EOM)) {
		lf->msg_part = true;
		return true;
	}
	lf->payload = lt->fpay_len;
	lf->len = (uint32_t)c->msg_len;
	c->msg_len = 0;
	return add_payload(lt, c->msg, lf->len);
}

/* Keeps a fed frame's payload for feeding. */
static bool
add_fed(struct live_trace *lt, struct live_frame *lf,
    const struct vsock_pcap_frame *f)
{
	lt->c[lf->conn].fed_since_step = true;
	if (lt->side == LIVE_PROG_GUEST && f->hdr.op == VIRTIO_VSOCK_OP_RW &&
	    f->hdr.type == VIRTIO_VSOCK_TYPE_SEQPACKET)
		return add_fed_msg(lt, lf, f);
	lf->payload = lt->fpay_len;
	lf->len = f->payload_len;
	return add_payload(lt, f->payload, f->payload_len);
}

void
live_conn_start(struct live_trace *lt, struct live_conn *c)
{
	c->started = true;
	live_pairs_set(&lt->dev_pairs, c->dev_hport, c->dev_gport,
	    (uint32_t)(c - lt->c));
}

/* Takes one frame; NULL, or why the trace cannot be replayed live. */
static const char *
add_frame(struct live_trace *lt, const struct vsock_pcap_frame *f)
{
	struct live_frame *lf;
	uint64_t gcid;
	int host = from_host(f);

	if (host < 0)
		return "neither end is the host (CID 2): a loopback capture "
		    "(replay its .vm variant)";
	gcid = host ? f->hdr.dst_cid : f->hdr.src_cid;
	if (lt->nf == 0) {
		lt->guest_cid = gcid;
		lt->first_ts = f->ts_ns;
	} else if (gcid != lt->guest_cid)
		return "a second guest: live replay takes one guest";
	if (lt->nf == LIVE_MAX_FRAMES)
		return "more frames than live replay holds (262144)";
	lt->bytes += f->payload_len;
	if (lt->bytes > LIVE_MAX_BYTES)
		return "more payload than live replay holds (64 MiB)";
	if (!grow(&lt->f, &lt->fcap, lt->nf + 1, sizeof(*lt->f)))
		return "out of memory";
	lf = &lt->f[lt->nf];
	memset(lf, 0, sizeof(*lf));
	lf->number = f->number;
	lf->ts_ns = f->ts_ns >= lt->first_ts ? f->ts_ns - lt->first_ts : 0;
	lf->hdr = f->hdr;
	memcpy(lf->raw, f->raw, VSOCK_HDR_SIZE);
	lf->host = host;
	lf->fed = host == (lt->side == LIVE_PROG_GUEST);
	if (conn_of(lt, f, host, &lf->conn) < 0)
		return "more connections than live replay holds (4096)";
	if (f->hdr.type == VIRTIO_VSOCK_TYPE_SEQPACKET)
		lt->seqpacket = true;
	if (host && lt->host_buf_alloc == 0 && f->hdr.op != VIRTIO_VSOCK_OP_RST)
		lt->host_buf_alloc = f->hdr.buf_alloc;
	if (f->hdr.op == VIRTIO_VSOCK_OP_RW) {
		if (host)
			lt->bytes_h2g += f->payload_len;
		else
			lt->bytes_g2h += f->payload_len;
	}
	if (!lf->fed) {
		lt->nprog++;
		if (f->hdr.op == VIRTIO_VSOCK_OP_RESPONSE)
			lt->c[lf->conn].prog_accepted = true;
	}
	if (!(lf->fed ? add_fed(lt, lf, f) : add_prog(lt, lf, f)))
		return "out of memory";
	lt->c[lf->conn].last_frame = lt->nf++;
	return NULL;
}

int
live_trace_load(const char *path, enum live_side side,
    struct live_trace **out, struct replay_result *res)
{
	struct vsock_pcap_reader *r = NULL;
	struct vsock_pcap_frame f;
	struct live_trace *lt;
	const char *why = NULL;
	int e = 0;

	memset(res, 0, sizeof(*res));
	if (vsock_pcap_reader_open(path, VSOCK_PCAP_TRIM_SPLIT, &r, res->error,
	    sizeof(res->error)) < 0) {
		res->verdict = REPLAY_UNUSABLE;
		return -1;
	}
	if ((lt = calloc(1, sizeof(*lt))) == NULL) {
		vsock_pcap_reader_close(r);
		return unusable(res, path, 0, "out of memory");
	}
	lt->side = side;
	lt->who = side == LIVE_PROG_HOST ? "host" : "guest";
	lt->peer = side == LIVE_PROG_HOST ? "guest" : "host";
	lt->dir = side == LIVE_PROG_HOST ? "host->guest" : "guest->host";
	while (why == NULL && (e = vsock_pcap_reader_next(r, &f, res->error,
	    sizeof(res->error))) == 1)
		why = add_frame(lt, &f);
	vsock_pcap_reader_close(r);
	if (why != NULL || e < 0 || lt->nf == 0 || lt->nprog == 0) {
		char none[96];
		bool empty = lt->nf == 0;

		snprintf(none, sizeof(none), "no frame of the %s: nothing a "
		    "live %s program does could be compared", lt->who,
		    lt->who);
		live_trace_free(lt);
		if (why != NULL)
			return unusable(res, path, f.number, why);
		if (e < 0) {
			res->verdict = REPLAY_UNUSABLE;
			return -1;
		}
		return unusable(res, path, 0, empty ? "no vsock frame: "
		    "a capture without frames checks nothing" : none);
	}
	*out = lt;
	return 0;
}

void
live_trace_free(struct live_trace *lt)
{
	uint32_t i;

	if (lt == NULL)
		return;
	for (i = 0; i < lt->nc; i++) {
		free(lt->c[i].stream);
		free(lt->c[i].st);
		free(lt->c[i].eom);
		free(lt->c[i].msg);
	}
	free(lt->c);
	free(lt->f);
	free(lt->fpay);
	free(lt);
}

uint64_t
live_guest_cid(const struct live_trace *lt)
{
	return vsock_cid_valid(lt->guest_cid) ? lt->guest_cid : 3;
}

bool
live_uses_seqpacket(const struct live_trace *lt)
{
	return lt->seqpacket;
}

uint32_t
live_host_buf_alloc(const struct live_trace *lt)
{
	return lt->host_buf_alloc;
}

uint64_t
live_frame_count(const struct live_trace *lt)
{
	return lt->nf;
}

bool
live_frame_is_fed(const struct live_trace *lt, uint64_t i)
{
	return lt->f[i].fed;
}

void
live_guest_frame(struct live_trace *lt, uint64_t i,
    uint8_t hdr[VSOCK_HDR_SIZE], const uint8_t **payload, uint32_t *len)
{
	const struct live_frame *lf = &lt->f[i];
	struct live_conn *c = &lt->c[lf->conn];
	struct vsock_hdr h = lf->hdr;

	if (!c->started && !c->host_initiated)
		live_conn_start(lt, c);	/* the guest chose the host's port */
	lt->last_fed = i;
	h.src_cid = live_guest_cid(lt);
	h.dst_cid = 2;
	h.dst_port = c->dev_hport;
	vsock_hdr_encode(&h, hdr);
	*payload = lt->fpay + lf->payload;
	*len = lf->len;
}

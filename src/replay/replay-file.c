/* replay-file.c - replay a capture in one pass: read ahead to configure the device, feed every frame, judge. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "replay-int.h"

/*
 * The look-ahead: frames read (and held) before the device starts, because
 * the device's buf_alloc comes from the host's first packet other than RST,
 * which may come after others. At most this many frames and about this many
 * payload bytes: the trace is read once (a pipe cannot be read twice) and
 * memory stays bounded. (The guest's RX buffer size is learned as the
 * frames are fed: replay-rxsize.c.)
 */
#define LOOKAHEAD_FRAMES	4096
#define LOOKAHEAD_BYTES		(16u << 20)
/* A host buffer outside this range is not believed: the profile's is used. */
#define BUF_ALLOC_MIN	4096
#define BUF_ALLOC_MAX	(4u << 20)

/* Host ports remembered for loopback roles; more are not told apart. */
#define LOOKAHEAD_HOST_PORTS	64

/* What the look-ahead tells about the trace's host. */
struct trace_facts {
	bool want_buf_alloc;	/* still looking for it */
	bool host_initiated;
	uint32_t buf_alloc;	/* host's, 0: not shown */
	/* Loopback (equal CIDs): the host ends of REQUESTs seen so far. */
	uint32_t host_port[LOOKAHEAD_HOST_PORTS];
	unsigned nhost_ports;
};

/*
 * Frames read ahead, payloads copied (the reader's pointers do not last).
 * Both arrays grow as needed: most traces tell what is wanted in their
 * first frames, and a replay of many short traces would otherwise clear
 * a full-sized look-ahead for each.
 */
struct lookahead {
	struct vsock_pcap_frame *frame;
	size_t *payload_off;		/* each frame's payload in buf */
	unsigned n, nalloc;
	uint8_t *buf;
	size_t len, cap;
};

/*
 * Is f the host's (the device's) packet? With equal CIDs the engine tells
 * roles per connection by who sent the REQUEST; the look-ahead does the same
 * by the host's port, remembered from each REQUEST.
 */
static bool
from_host(struct trace_facts *tf, const struct vsock_pcap_frame *f,
    bool host_initiated)
{
	const struct vsock_hdr *h = &f->hdr;
	uint32_t hp;
	unsigned i;

	if (f->dir_marked || h->src_cid != h->dst_cid)
		return f->dir_marked || h->src_cid == VMADDR_CID_HOST ?
		    f->to_guest : h->op == VIRTIO_VSOCK_OP_RESPONSE;
	if (h->op == VIRTIO_VSOCK_OP_REQUEST) {
		hp = host_initiated ? h->src_port : h->dst_port;
		for (i = 0; i < tf->nhost_ports; i++)
			if (tf->host_port[i] == hp)
				return host_initiated;
		if (tf->nhost_ports < LOOKAHEAD_HOST_PORTS)
			tf->host_port[tf->nhost_ports++] = hp;
		return host_initiated;
	}
	for (i = 0; i < tf->nhost_ports; i++)
		if (tf->host_port[i] == h->src_port)
			return true;
	return false;
}

/*
 * Learns from one frame of the look-ahead: buf_alloc is the host's first
 * packet other than RST (Linux's no-socket RST carries 0).
 */
static void
facts_learn(struct trace_facts *tf, const struct vsock_pcap_frame *f)
{
	if (!from_host(tf, f, tf->host_initiated) || f->dropped)
		return;
	if (tf->want_buf_alloc && f->hdr.op != VIRTIO_VSOCK_OP_RST) {
		tf->buf_alloc = f->hdr.buf_alloc;
		tf->want_buf_alloc = false;
	}
}

/* Makes room for one more frame: 16, then doubling up to the limit. */
static int
lookahead_grow(struct lookahead *la)
{
	struct vsock_pcap_frame *fr;
	size_t *off;
	unsigned n;

	if (la->n < la->nalloc)
		return 0;
	n = la->nalloc ? 2 * la->nalloc : 16;
	if (n > LOOKAHEAD_FRAMES)
		n = LOOKAHEAD_FRAMES;
	if ((fr = realloc(la->frame, n * sizeof(*fr))) == NULL)
		return -VSE_ERR_NOMEM;
	la->frame = fr;
	if ((off = realloc(la->payload_off, n * sizeof(*off))) == NULL)
		return -VSE_ERR_NOMEM;
	la->payload_off = off;
	la->nalloc = n;
	return 0;
}

/* Keeps a copy of f (and its payload) to feed once the device exists. */
static int
lookahead_hold(struct lookahead *la, const struct vsock_pcap_frame *f)
{
	size_t cap;
	uint8_t *q;

	if (lookahead_grow(la) < 0)
		return -VSE_ERR_NOMEM;
	if (la->len + f->payload_len > la->cap) {
		cap = la->cap ? la->cap : 4096;
		while (cap < la->len + f->payload_len)
			cap *= 2;
		if ((q = realloc(la->buf, cap)) == NULL)
			return -VSE_ERR_NOMEM;
		la->buf = q;
		la->cap = cap;
	}
	if (f->payload_len > 0)
		memcpy(la->buf + la->len, f->payload, f->payload_len);
	la->frame[la->n] = *f;
	la->payload_off[la->n++] = la->len;
	la->len += f->payload_len;
	return 0;
}

static void
lookahead_free(struct lookahead *la)
{
	free(la->frame);
	free(la->payload_off);
	free(la->buf);
	memset(la, 0, sizeof(*la));
}

/*
 * Reads frames into the look-ahead until buf_alloc is known (if wanted) or
 * it is full. Returns the reader's last answer: 1 (more may follow), 0 (the
 * end) or an error (the reader's message in res->error).
 */
static int
read_ahead(struct vsock_pcap_reader *r, struct lookahead *la,
    struct trace_facts *tf, struct replay_result *res)
{
	struct vsock_pcap_frame f;
	int e = 1;

	while (tf->want_buf_alloc &&
	    la->n < LOOKAHEAD_FRAMES && la->len < LOOKAHEAD_BYTES &&
	    (e = vsock_pcap_reader_next(r, &f, res->error,
	    sizeof(res->error))) == 1) {
		if ((e = lookahead_hold(la, &f)) < 0)
			return e;
		e = 1;
		facts_learn(tf, &f);
	}
	return e;
}

/* Decides profile and buf_alloc from the options and the trace's facts. */
static void
choose_profile(const struct trace_facts *tf, const struct replay_options *o,
    enum vsock_profile *profile, uint32_t *buf_alloc, bool *inferred)
{
	uint32_t b = o->buf_alloc;

	*inferred = false;
	if (b == 0 && (o->profile == REPLAY_PROFILE_INFER ||
	    o->mode == REPLAY_STRICT)) {
		b = tf->buf_alloc;
		*inferred = b != 0;
	}
	if (b != 0 && (b < BUF_ALLOC_MIN || b > BUF_ALLOC_MAX)) {
		b = 0;
		*inferred = false;
	}
	if (o->profile != REPLAY_PROFILE_INFER)
		*profile = (enum vsock_profile)o->profile;
	else
		*profile = b != 0 ? replay_profile_for(b) :
		    VSOCK_PROFILE_FIRECRACKER;
	if (o->profile != REPLAY_PROFILE_INFER && o->mode != REPLAY_STRICT &&
	    o->buf_alloc == 0)
		b = 0;
	*buf_alloc = b;
}

/* Feeds one frame; false once feeding is over (diverged, or an error). */
static bool
feed_one(const char *path, struct replay *rp, const struct vsock_pcap_frame *f,
    struct replay_result *res, int *err)
{
	int e = replay_feed(rp, f);

	if (e < 0) {
		snprintf(res->error, sizeof(res->error), "%s: frame %" PRIu64
		    ": %s", path, f->number, vse_strerror(e));
		*err = e;
	}
	return e == 0;
}

/*
 * Feeds the frames read ahead, then reads and feeds the rest; feeding stops
 * at a divergence, reading not (the whole file is still checked). ahead is
 * read_ahead's answer. Returns 0 or the first error (message in res->error).
 */
static int
feed_all(const char *path, struct vsock_pcap_reader *r, int ahead,
    struct lookahead *la, struct replay *rp, struct replay_result *res)
{
	struct vsock_pcap_frame f;
	bool feeding = true;
	int e = 0, err = 0;
	unsigned i;

	for (i = 0; i < la->n && feeding; i++) {
		la->frame[i].payload = la->buf + la->payload_off[i];
		feeding = feed_one(path, rp, &la->frame[i], res, &err);
	}
	lookahead_free(la);
	if (err < 0 || ahead <= 0)
		return err < 0 ? err : ahead;
	while ((e = vsock_pcap_reader_next(r, &f, res->error,
	    sizeof(res->error))) == 1)
		if (feeding && !feed_one(path, rp, &f, res, &err)) {
			feeding = false;
			if (err < 0)
				return err;
		}
	return e;
}

enum replay_verdict
replay_file(const char *path, const struct replay_options *o,
    const struct replay_guest_ops *guest, void *guest_ctx,
    struct replay_result *res)
{
	struct vsock_pcap_reader *r;
	struct lookahead la;
	struct replay *rp;
	struct trace_facts tf;
	enum vsock_profile profile;
	uint32_t buf_alloc;
	bool inferred;
	char err[sizeof(res->error)];
	int e, ahead;

	memset(res, 0, sizeof(*res));
	memset(&la, 0, sizeof(la));
	memset(&tf, 0, sizeof(tf));
	res->mode = o->mode;
	if (vsock_pcap_reader_open(path, VSOCK_PCAP_TRIM_SPLIT |
	    VSOCK_PCAP_ACCEPT_CUT, &r, res->error,
	    sizeof(res->error)) < 0)
		return res->verdict = REPLAY_UNUSABLE;
	tf.want_buf_alloc = o->buf_alloc == 0 &&
	    (o->profile == REPLAY_PROFILE_INFER || o->mode == REPLAY_STRICT);
	tf.host_initiated = o->host_initiated;
	ahead = read_ahead(r, &la, &tf, res);
	choose_profile(&tf, o, &profile, &buf_alloc, &inferred);
	if (ahead == -VSE_ERR_NOMEM ||
	    replay_new(o, profile, buf_alloc, guest, guest_ctx, &rp) < 0) {
		lookahead_free(&la);
		vsock_pcap_reader_close(r);
		snprintf(res->error, sizeof(res->error), "%s: out of memory",
		    path);
		return res->verdict = REPLAY_UNUSABLE;
	}
	replay_learn_rx(rp);
	e = feed_all(path, r, ahead, &la, rp, res);
	vsock_pcap_reader_close(r);
	memcpy(err, res->error, sizeof(err));
	replay_finish(rp, res);
	replay_free(rp);
	res->profile_inferred = inferred;
	if (e < 0) {
		memcpy(res->error, err, sizeof(err));
		res->verdict = REPLAY_UNUSABLE;
	} else if (res->verdict == REPLAY_UNUSABLE) {
		/* A replay limit or no memory: the engine named the frame. */
		memcpy(err, res->error, sizeof(err));
		snprintf(res->error, sizeof(res->error), "%s: %s", path, err);
	} else if (o->guest_cid != 0 && res->frames == 0) {
		/* A mistyped CID must not pass on nothing. */
		snprintf(res->error, sizeof(res->error), "%s: no frame of guest "
		    "CID %" PRIu64 " (%" PRIu64 " frames of other guests)", path,
		    o->guest_cid, res->other_guest_frames);
		res->verdict = REPLAY_UNUSABLE;
	} else if (res->frames == 0) {
		/* Nothing was checked: that must not pass. */
		snprintf(res->error, sizeof(res->error), "%s: no frame to "
		    "replay: the capture holds no packet", path);
		res->verdict = REPLAY_UNUSABLE;
	}
	return res->verdict;
}

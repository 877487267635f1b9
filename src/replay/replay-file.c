/* replay-file.c - replay a whole capture file: infer the profile, feed every frame, judge. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "replay-int.h"

/* Frames read looking for the host's first packet before giving up. */
#define PRESCAN_FRAMES	4096
/* A host buffer outside this range is not believed: the profile's is used. */
#define BUF_ALLOC_MIN	4096
#define BUF_ALLOC_MAX	(4u << 20)

/* Host ports remembered for loopback roles; more are not told apart. */
#define PRESCAN_HOST_PORTS	64

/* What a first pass over the trace tells about its two ends. */
struct trace_facts {
	uint32_t buf_alloc;	/* host's, 0: not shown */
	uint32_t rx_payload;	/* guest's RX buffer payload, 0: not shown */
	/* Loopback (equal CIDs): the host ends of REQUESTs seen so far. */
	uint32_t host_port[PRESCAN_HOST_PORTS];
	unsigned nhost_ports;
};

/*
 * Is f the host's (the device's) packet? With equal CIDs the engine tells
 * roles per connection by who sent the REQUEST; the prescan does the same
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
		if (tf->nhost_ports < PRESCAN_HOST_PORTS)
			tf->host_port[tf->nhost_ports++] = hp;
		return host_initiated;
	}
	for (i = 0; i < tf->nhost_ports; i++)
		if (tf->host_port[i] == h->src_port)
			return true;
	return false;
}

/*
 * buf_alloc: the host's first packet other than RST (Linux's no-socket
 * RST carries 0) among the first PRESCAN_FRAMES.
 * rx_payload: a device fills a guest RX buffer before it fragments a
 * SEQPACKET message (virtio 1.2 5.10.6.3), so the first fragment without
 * EOM is exactly one buffer; with none, no host packet is larger than a
 * buffer, so the largest one bounds it from below when above the default.
 * A fragment may come late: without one the whole trace is read (a second
 * pass over the file: replay_file's price for getting this right).
 */
static void
prescan(const char *path, bool want_buf_alloc, bool want_rx,
    bool host_initiated, struct trace_facts *tf)
{
	struct vsock_pcap_reader *r;
	struct vsock_pcap_frame f;
	uint32_t largest = 0, fragment = 0;
	char msg[8];
	uint64_t n;

	memset(tf, 0, sizeof(*tf));
	if (!want_buf_alloc && !want_rx)
		return;
	if (vsock_pcap_reader_open(path, VSOCK_PCAP_TRIM_SPLIT, &r, msg,
	    sizeof(msg)) < 0)
		return;
	for (n = 0; vsock_pcap_reader_next(r, &f, msg, sizeof(msg)) == 1;
	    n++) {
		if (n >= PRESCAN_FRAMES || tf->buf_alloc != 0)
			want_buf_alloc = false;
		if (fragment != 0)
			want_rx = false;
		if (!want_buf_alloc && !want_rx)
			break;	/* nothing left to learn */
		if (!from_host(tf, &f, host_initiated) || f.dropped)
			continue;
		if (want_buf_alloc && f.hdr.op != VIRTIO_VSOCK_OP_RST)
			tf->buf_alloc = f.hdr.buf_alloc;
		if (f.hdr.op != VIRTIO_VSOCK_OP_RW ||
		    f.hdr.len > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE)
			continue;
		if (f.hdr.len > largest)
			largest = f.hdr.len;
		if (fragment == 0 && f.hdr.len > 0 &&
		    f.hdr.type == VIRTIO_VSOCK_TYPE_SEQPACKET &&
		    !(f.hdr.flags & VIRTIO_VSOCK_SEQ_EOM))
			fragment = f.hdr.len;
	}
	vsock_pcap_reader_close(r);
	if (fragment != 0)
		tf->rx_payload = fragment;
	else if (largest > VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE)
		tf->rx_payload = largest;
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

/* Reads every frame into rp (feeding stops at a divergence, reading not). */
static int
feed_all(const char *path, struct vsock_pcap_reader *r, struct replay *rp,
    struct replay_result *res)
{
	struct vsock_pcap_frame f;
	bool feeding = true;
	int e;

	while ((e = vsock_pcap_reader_next(r, &f, res->error,
	    sizeof(res->error))) == 1) {
		if (!feeding)
			continue;	/* still check the file is sound */
		if ((e = replay_feed(rp, &f)) < 0) {
			snprintf(res->error, sizeof(res->error), "%s: frame %"
			    PRIu64 ": %s", path, f.number, vse_strerror(e));
			return e;
		}
		feeding = e == 0;
	}
	return e;
}

enum replay_verdict
replay_file(const char *path, const struct replay_options *o,
    const struct replay_guest_ops *guest, void *guest_ctx,
    struct replay_result *res)
{
	struct vsock_pcap_reader *r;
	struct replay *rp;
	struct replay_options ro = *o;
	struct trace_facts tf;
	enum vsock_profile profile;
	uint32_t buf_alloc;
	bool inferred;
	char err[sizeof(res->error)];
	int e;

	memset(res, 0, sizeof(*res));
	res->mode = o->mode;
	if (vsock_pcap_reader_open(path, VSOCK_PCAP_TRIM_SPLIT, &r, res->error,
	    sizeof(res->error)) < 0)
		return res->verdict = REPLAY_UNUSABLE;
	prescan(path, o->buf_alloc == 0 && (o->profile == REPLAY_PROFILE_INFER ||
	    o->mode == REPLAY_STRICT), o->guest_rx_buf == 0, o->host_initiated,
	    &tf);
	choose_profile(&tf, o, &profile, &buf_alloc, &inferred);
	if (ro.guest_rx_buf == 0)
		ro.guest_rx_buf = tf.rx_payload;
	if (replay_new(&ro, profile, buf_alloc, guest, guest_ctx, &rp) < 0) {
		vsock_pcap_reader_close(r);
		snprintf(res->error, sizeof(res->error), "%s: out of memory",
		    path);
		return res->verdict = REPLAY_UNUSABLE;
	}
	e = feed_all(path, r, rp, res);
	vsock_pcap_reader_close(r);
	memcpy(err, res->error, sizeof(err));
	replay_finish(rp, res);
	replay_free(rp);
	res->profile_inferred = inferred;
	res->rx_inferred = o->guest_rx_buf == 0 && tf.rx_payload != 0;
	if (e < 0) {
		memcpy(res->error, err, sizeof(err));
		res->verdict = REPLAY_UNUSABLE;
	} else if (o->guest_cid != 0 && res->frames == 0) {
		/* A mistyped CID must not pass on nothing. */
		snprintf(res->error, sizeof(res->error), "%s: no frame of guest "
		    "CID %" PRIu64 " (%" PRIu64 " frames of other guests)", path,
		    o->guest_cid, res->other_guest_frames);
		res->verdict = REPLAY_UNUSABLE;
	}
	return res->verdict;
}

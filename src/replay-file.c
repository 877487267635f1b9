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

/*
 * The buf_alloc of the host's first packet other than RST (Linux's
 * no-socket RST carries 0), or 0 when the trace shows none.
 */
static uint32_t
prescan(const char *path)
{
	struct vsock_pcap_reader *r;
	struct vsock_pcap_frame f;
	char msg[8];
	unsigned n;

	if (vsock_pcap_reader_open(path, VSOCK_PCAP_TRIM_SPLIT, &r, msg,
	    sizeof(msg)) < 0)
		return 0;
	for (n = 0; n < PRESCAN_FRAMES &&
	    vsock_pcap_reader_next(r, &f, msg, sizeof(msg)) == 1; n++) {
		bool host = f.dir_marked || f.hdr.src_cid == VMADDR_CID_HOST ?
		    f.to_guest : f.hdr.op == VIRTIO_VSOCK_OP_RESPONSE;

		if (host && !f.dropped && f.hdr.op != VIRTIO_VSOCK_OP_RST) {
			vsock_pcap_reader_close(r);
			return f.hdr.buf_alloc;
		}
	}
	vsock_pcap_reader_close(r);
	return 0;
}

/* Decides profile and buf_alloc from the options and the trace. */
static void
choose_profile(const char *path, const struct replay_options *o,
    enum vsock_profile *profile, uint32_t *buf_alloc, bool *inferred)
{
	uint32_t b = o->buf_alloc;

	*inferred = false;
	if (b == 0 && (o->profile == REPLAY_PROFILE_INFER ||
	    o->mode == REPLAY_STRICT)) {
		b = prescan(path);
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
	choose_profile(path, o, &profile, &buf_alloc, &inferred);
	if (replay_new(o, profile, buf_alloc, guest, guest_ctx, &rp) < 0) {
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
	if (e < 0) {
		memcpy(res->error, err, sizeof(err));
		res->verdict = REPLAY_UNUSABLE;
	}
	return res->verdict;
}

/* replay-cut.c - headers-only replay: a record cut by the snapshot length gets a filler payload of its len. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "replay-int.h"

/*
 * A capture taken with a small snapshot length (tcpdump -s 76: vsockmon
 * and virtio headers only) keeps every header of a long transfer and none
 * of its bytes. The device never interprets payload, so such a trace still
 * replays: each cut record's missing bytes become filler, the same bytes on
 * both sides of the comparison, so lengths, offsets, credit and order are
 * checked and only the recorded content is not (counted, and reported).
 *
 * The filler of a byte depends on its offset in its direction's stream,
 * with a period no packet boundary shares, so a device that drops, repeats
 * or reorders filler still differs. A run of up to one packet at any offset
 * is one pointer into this table: no byte is written per cut record.
 */
#define CUT_FILL_PERIOD	65521u		/* prime, just under 64 KiB */
#define CUT_FILL_SIZE	(CUT_FILL_PERIOD + VIRTIO_VSOCK_MAX_PKT_BUF_SIZE)

/* The filler table, made once per replay that meets a cut record. */
static int
cut_fill_table(struct replay *rp)
{
	uint32_t i, x;

	if (rp->cut_fill != NULL)
		return 0;
	if ((rp->cut_fill = malloc(CUT_FILL_SIZE)) == NULL)
		return -VSE_ERR_NOMEM;
	for (i = 0; i < CUT_FILL_SIZE; i++) {
		x = (i % CUT_FILL_PERIOD) * 0x9e3779b1u;
		rp->cut_fill[i] = (uint8_t)((x ^ (x >> 15)) >> 24);
	}
	return 0;
}

void
rp_cut_free(struct replay *rp)
{
	free(rp->cut_fill);
	free(rp->cut_buf);
	rp->cut_fill = rp->cut_buf = NULL;
}

int
rp_cut_complete(struct replay *rp, const struct vsock_pcap_frame *f,
    uint64_t stream_off, struct vsock_pcap_frame *g)
{
	const uint8_t *fill;
	uint32_t have = f->payload_len, len = f->hdr.len;

	/* The reader bounds a cut record's len; a library caller may not. */
	if (len > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE || have > len ||
	    (have > 0 && f->payload == NULL))
		return -VSE_ERR_INVAL;
	if (cut_fill_table(rp) < 0)
		return -VSE_ERR_NOMEM;
	*g = *f;
	g->payload_len = len;
	fill = rp->cut_fill + (stream_off % CUT_FILL_PERIOD);
	if (have == 0) {
		g->payload = fill;
	} else {
		/* Part of the payload was captured: it leads, filler follows. */
		if (rp->cut_buf == NULL && (rp->cut_buf =
		    malloc(VIRTIO_VSOCK_MAX_PKT_BUF_SIZE)) == NULL)
			return -VSE_ERR_NOMEM;
		memcpy(rp->cut_buf, f->payload, have);
		memcpy(rp->cut_buf + have, fill + have, len - have);
		g->payload = rp->cut_buf;
	}
	rp->res.cut_records++;
	if (f->cap_len > rp->res.cut_snaplen)
		rp->res.cut_snaplen = f->cap_len;
	return 0;
}

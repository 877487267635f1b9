/* pcap-record.c - validate one LINKTYPE_VSOCK record from an untrusted capture. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "pcap-reader.h"

/*
 * The order of the checks is the order of the bytes: nothing is decoded
 * before it is known to be inside data[0 .. caplen).
 */

/* Decodes both headers of a record already known to hold 76 bytes. */
static void
record_headers(const uint8_t *data, struct vsock_pcap_frame *f)
{
	vsockmon_hdr_decode(data, &f->mon);
	memcpy(f->raw, data + VSOCKMON_HDR_SIZE, VSOCK_HDR_SIZE);
	vsock_hdr_decode(f->raw, &f->hdr);
	f->dropped = (f->mon.reserved & VSOCKMON_EMU_MARK) != 0 &&
	    (f->mon.reserved & VSOCKMON_EMU_DROPPED) != 0;
	f->dir_marked = (f->mon.reserved & VSOCKMON_EMU_MARK) != 0;
	/*
	 * Kernel captures carry no direction; the host's CID as source is the
	 * best definition there is (a vhost tap only sees the guest and the
	 * host). vsockemu's mark is authoritative when present.
	 */
	if (f->dir_marked)
		f->to_guest = (f->mon.reserved & VSOCKMON_EMU_TO_GUEST) != 0;
	else
		f->to_guest = f->hdr.src_cid == VMADDR_CID_HOST;
}

/* The kernel derives the vsockmon addresses and op from the virtio header. */
static int
record_consistent(const struct vsock_pcap_frame *f)
{
	const struct vsockmon_hdr *m = &f->mon;
	const struct vsock_hdr *h = &f->hdr;

	if (m->src_cid != h->src_cid || m->dst_cid != h->dst_cid ||
	    m->src_port != h->src_port || m->dst_port != h->dst_port ||
	    m->op != vsockmon_op_from_virtio(h->op))
		return -VSE_ERR_PCAP_MISMATCH;
	return 0;
}

/*
 * Linux 6.1's vhost-vsock tapped a host->guest RW it split over several
 * guest RX buffers with the fragment's len but the whole remaining payload
 * (fixed upstream in 5f344d809e01). Only that shape is forgiven.
 */
static int
record_split_tap(const struct vsock_pcap_frame *f)
{
	return f->to_guest && f->hdr.op == VIRTIO_VSOCK_OP_RW &&
	    f->tapped_len > f->hdr.len;
}

/*
 * Could this record, cut by the snapshot length, have been whole? Its pcap
 * len must be the headers plus hdr.len (plus the rest of the payload for a
 * split tap), and hdr.len no more than one packet can carry.
 */
static bool
record_cut_fits(const struct vsock_pcap_frame *f)
{
	uint32_t claimed = f->orig_len - VSOCKMON_RECORD_MIN;

	if (f->hdr.len > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE)
		return false;
	return claimed == f->hdr.len || (claimed > f->hdr.len &&
	    f->to_guest && f->hdr.op == VIRTIO_VSOCK_OP_RW);
}

/* Checks one record in byte order; the first failed check is the answer. */
int
vsock_pcap_parse_record(const uint8_t *data, uint32_t caplen,
    uint32_t orig_len, unsigned flags, struct vsock_pcap_frame *f)
{
	int e;

	f->cap_len = data != NULL ? caplen : 0;
	f->orig_len = orig_len;
	f->split_tap = f->cut = false;
	if (data == NULL || caplen < VSOCKMON_RECORD_MIN) {
		/* Nothing decoded: what a description may read is zero. */
		memset(&f->mon, 0, sizeof(f->mon));
		memset(&f->hdr, 0, sizeof(f->hdr));
		f->payload = NULL;
		f->payload_len = f->tapped_len = 0;
		f->to_guest = f->dir_marked = f->dropped = false;
		return -VSE_ERR_PCAP_SHORT;
	}
	/* Sets every field of mon and hdr, and the three flags: no zeroing first. */
	record_headers(data, f);
	f->payload = data + VSOCKMON_RECORD_MIN;
	f->tapped_len = f->payload_len = caplen - VSOCKMON_RECORD_MIN;
	if (f->mon.transport != VSOCKMON_TRANSPORT_VIRTIO)
		return -VSE_ERR_PCAP_TRANSPORT;
	if (f->mon.len != VSOCK_HDR_SIZE)
		return -VSE_ERR_PCAP_TRANS_LEN;
	if ((e = record_consistent(f)) < 0)
		return e;
	/* A dropped packet is recorded as the guest wrote it: lengths may lie. */
	if (f->dropped)
		return 0;
	if (caplen < orig_len) {
		/* orig_len > caplen >= VSOCKMON_RECORD_MIN: no underflow. */
		if ((flags & VSOCK_PCAP_ACCEPT_CUT) == 0 ||
		    !record_cut_fits(f))
			return -VSE_ERR_PCAP_CAPLEN;
		if (f->tapped_len < f->hdr.len) {
			f->cut = true;
			return 0;
		}
		/* Cut after len: only a split tap records more (below). */
	}
	if (f->tapped_len == f->hdr.len)
		return 0;
	if (!record_split_tap(f))
		return -VSE_ERR_PCAP_PAYLOAD_LEN;
	f->split_tap = true;
	if ((flags & VSOCK_PCAP_TRIM_SPLIT) != 0)
		f->payload_len = f->hdr.len;
	return 0;
}

/* Says what was wrong with f, with the numbers that make it wrong. */
void
vsock_pcap_describe(int err, const struct vsock_pcap_frame *f, char *buf,
    size_t buflen)
{
	switch (err) {
	case -VSE_ERR_PCAP_SHORT:
		snprintf(buf, buflen, "record of %" PRIu32 " bytes is shorter "
		    "than the %d bytes of vsockmon and virtio headers",
		    f->cap_len, VSOCKMON_RECORD_MIN);
		break;
	case -VSE_ERR_PCAP_CAPLEN:
		snprintf(buf, buflen, "record cut to %" PRIu32 " of its %"
		    PRIu32 " bytes by the snapshot length", f->cap_len,
		    f->orig_len);
		break;
	case -VSE_ERR_PCAP_TRANSPORT:
		snprintf(buf, buflen, "transport %u is not virtio (%d)",
		    f->mon.transport, VSOCKMON_TRANSPORT_VIRTIO);
		break;
	case -VSE_ERR_PCAP_TRANS_LEN:
		snprintf(buf, buflen, "transport header length %u, virtio's "
		    "is %d", f->mon.len, VSOCK_HDR_SIZE);
		break;
	case -VSE_ERR_PCAP_MISMATCH:
		snprintf(buf, buflen, "vsockmon header %" PRIu64 ":%" PRIu32
		    " > %" PRIu64 ":%" PRIu32 " op %u disagrees with virtio "
		    "header %" PRIu64 ":%" PRIu32 " > %" PRIu64 ":%" PRIu32
		    " %s", f->mon.src_cid, f->mon.src_port, f->mon.dst_cid,
		    f->mon.dst_port, f->mon.op, f->hdr.src_cid, f->hdr.src_port,
		    f->hdr.dst_cid, f->hdr.dst_port, vsock_op_name(f->hdr.op));
		break;
	case -VSE_ERR_PCAP_PAYLOAD_LEN:
		snprintf(buf, buflen, "%s header says len %" PRIu32 " but "
		    "the record has %" PRIu32 " payload bytes",
		    vsock_op_name(f->hdr.op), f->hdr.len, f->tapped_len);
		break;
	default:
		snprintf(buf, buflen, "%s", vse_strerror(err));
		break;
	}
}

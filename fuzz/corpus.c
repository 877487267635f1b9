/* corpus.c - turns a vsockmon capture into an action stream the fuzzer starts from. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "fuzz-int.h"
#include "fuzz.h"
#include "pcap-reader.h"
#include "rig.h"

/* Host ports of the capture, mapped onto the rig's four listener ports. */
struct port_map {
	uint32_t port[4];
	unsigned n;
};

static unsigned
map_port(struct port_map *m, uint32_t port)
{
	unsigned i;

	for (i = 0; i < m->n; i++)
		if (m->port[i] == port)
			return i;
	if (m->n < 4) {
		m->port[m->n] = port;
		return m->n++;
	}
	return port % 4;
}

/* Appends an action if it fits; returns 0 or -1. */
static int
put(uint8_t *buf, size_t cap, size_t *len, uint8_t op, const uint8_t *args,
    size_t n)
{
	if (*len + 1 + n > cap)
		return -1;
	buf[(*len)++] = op;
	memcpy(buf + *len, args, n);
	*len += n;
	return 0;
}

/* A guest -> host frame: sent as recorded, addressed to the rig. */
static int
put_guest(uint8_t *buf, size_t cap, size_t *len, struct port_map *m,
    const struct vsock_pcap_frame *f)
{
	uint8_t a[3 + FZ_RAW_MAX];
	struct vsock_hdr h = f->hdr;
	uint32_t pay = f->payload_len;
	unsigned k = map_port(m, h.dst_port);

	if (h.op == VIRTIO_VSOCK_OP_REQUEST) {
		uint8_t l[2] = { (uint8_t)k, 0 };

		if (put(buf, cap, len, FZ_LISTEN, l, 2) < 0)
			return -1;
	}
	if (pay > FZ_RAW_MAX - 1 - VSOCK_HDR_SIZE)
		pay = FZ_RAW_MAX - 1 - VSOCK_HDR_SIZE;
	h.src_cid = 3;		/* the rig's guest */
	h.dst_port = FZ_LISTEN_PORT + k;
	if (h.len > pay)
		h.len = pay;
	a[0] = (uint8_t)(VSOCK_HDR_SIZE + pay);
	a[1] = (uint8_t)((VSOCK_HDR_SIZE + pay) >> 8);
	a[2] = 0;
	vsock_hdr_encode(&h, a + 3);
	memcpy(a + 3 + VSOCK_HDR_SIZE, f->payload, pay);
	return put(buf, cap, len, FZ_RAW, a, 3 + VSOCK_HDR_SIZE + pay);
}

/* A host -> guest frame: the host application did what made it. */
static int
put_host(uint8_t *buf, size_t cap, size_t *len,
    const struct vsock_pcap_frame *f)
{
	uint8_t a[4] = { 0 };

	switch (f->hdr.op) {
	case VIRTIO_VSOCK_OP_RW:
		a[1] = (uint8_t)f->hdr.len;
		a[2] = (uint8_t)(f->hdr.len >> 8);
		return put(buf, cap, len, FZ_HSEND, a, 4);
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		return put(buf, cap, len, FZ_HSHUTWR, a, 1);
	case VIRTIO_VSOCK_OP_REQUEST:
		return put(buf, cap, len, FZ_HCONNECT, a, 2);
	default:
		return 0;
	}
}

int
fuzz_from_pcap(const char *path, uint8_t *buf, size_t cap, size_t *len,
    char *msg, size_t msglen)
{
	/* Linux profile, SEQPACKET, 64 RX buffers of 4 KiB. */
	static const uint8_t cfg[FUZZ_CONFIG_BYTES] = { 3, 0, 0, 0, 0, 0, 64, 0 };
	struct vsock_pcap_reader *r;
	struct vsock_pcap_frame f;
	struct port_map m = { { 0 }, 0 };
	int e;

	*len = 0;
	if (cap < FUZZ_CONFIG_BYTES) {
		snprintf(msg, msglen, "%s: no room", path);
		return -VSE_ERR_INVAL;
	}
	if ((e = vsock_pcap_reader_open(path, VSOCK_PCAP_TRIM_SPLIT, &r, msg,
	    msglen)) < 0)
		return e;
	memcpy(buf, cfg, sizeof(cfg));
	*len = sizeof(cfg);
	while ((e = vsock_pcap_reader_next(r, &f, msg, msglen)) == 1)
		if ((f.to_guest ? put_host(buf, cap, len, &f) :
		    put_guest(buf, cap, len, &m, &f)) < 0)
			break;
	vsock_pcap_reader_close(r);
	return e < 0 ? e : 0;
}

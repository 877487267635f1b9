/* harness-pcap.c - fuzz the pure vsockmon record parser: any bytes, every flag, lengths that lie. */
#include "config.h"

#include <stdlib.h>

#include "harness.h"
#include "pcap-reader.h"

/* Checks what a successful parse promises about f. */
static void
check_frame(const struct vsock_pcap_frame *f, uint32_t caplen)
{
	if (f->payload_len > f->tapped_len ||
	    (uint64_t)VSOCKMON_RECORD_MIN + f->tapped_len > caplen)
		abort();
	if (f->payload_len > 0 && f->payload == NULL)
		abort();
	/* A cut record is short of its len, and len is one packet at most. */
	if (f->cut && (f->payload_len >= f->hdr.len ||
	    f->hdr.len > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vsock_pcap_frame f;
	char msg[256];
	uint32_t caplen = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
	unsigned flags;
	int e;

	for (flags = 0; flags <= (VSOCK_PCAP_TRIM_SPLIT |
	    VSOCK_PCAP_ACCEPT_CUT); flags++) {
		/* The capture may claim a longer original (a snaplen cut). */
		uint32_t orig = caplen + (size > 0 ? data[0] % 3 : 0);

		e = vsock_pcap_parse_record(data, caplen, orig, flags, &f);
		if (e == 0)
			check_frame(&f, caplen);
		else
			vsock_pcap_describe(e, &f, msg, sizeof(msg));
	}
	return 0;
}

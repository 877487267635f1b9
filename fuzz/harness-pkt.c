/* harness-pkt.c - fuzz the virtio_vsock_hdr codec: decode then encode gives back the same 44 bytes. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pkt.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t raw[VSOCK_HDR_SIZE] = { 0 }, again[VSOCK_HDR_SIZE];
	struct vsock_hdr h;
	const char *name;

	memcpy(raw, data, size < sizeof(raw) ? size : sizeof(raw));
	vsock_hdr_decode(raw, &h);
	vsock_hdr_encode(&h, again);
	if (memcmp(raw, again, sizeof(raw)) != 0)
		abort();
	name = vsock_op_name(h.op);
	if (name == NULL || name[0] == '\0')
		abort();
	if ((vsock_type_name(h.type) != NULL) != vsock_type_known(h.type))
		abort();
	return 0;
}

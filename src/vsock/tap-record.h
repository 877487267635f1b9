/* tap-record.h - one packet crossing the device, as the device's tap hands it to a pcap writer, replay or a test. */
#ifndef VSE_TAP_RECORD_H
#define VSE_TAP_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt.h"
#include "vsock-time.h"

/* Which way a tapped packet went, and whether the device dropped it. */
enum vsock_tap_dir {
	VSOCK_TAP_GUEST_TO_HOST = 0,
	VSOCK_TAP_HOST_TO_GUEST = 1,
};

/*
 * One packet crossing the device, for the pcap writer, the replay comparator
 * and the fuzzer. raw is the header exactly as it was on the ring (the
 * device's one copy of it: hdr and payload_len agree with it whatever the
 * guest does); payload is contiguous and valid only during the callback. A
 * dropped guest packet is tapped before the checks that dropped it, as
 * vhost does: its payload is what the chain really carried (at most 64
 * KiB), which may be less than the len its header claims.
 *
 * payload points into guest memory when the chain holds it in one place
 * (else at a copy): a guest, or its other thread, may change those bytes
 * while the callback runs. Read each byte once (copy it, or compare it);
 * a second look must never assume it sees what the first saw.
 */
struct vsock_tap_record {
	enum vsock_tap_dir dir;
	bool dropped;			/* malformed or refused, not processed */
	vsock_time_t now;
	struct vsock_hdr hdr;
	uint8_t raw[VSOCK_HDR_SIZE];
	const uint8_t *payload;
	uint32_t payload_len;		/* bytes actually carried */
};

typedef void (*vsock_tap_fn)(void *ctx, const struct vsock_tap_record *rec);

#endif

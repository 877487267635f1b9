/* flight-int.h - the flight recorder's ring file, shared by the recorder (flight.c) and the converter (flight-collect.c). */
#ifndef VSE_TESTS_FLIGHT_INT_H
#define VSE_TESTS_FLIGHT_INT_H

#include <stdint.h>

#include "flight.h"
#include "pkt.h"

#define FLIGHT_MAGIC	"vseflt1"	/* 8 bytes with its NUL */

/* One tapped packet, whole (a device never carries more than 64 KiB). */
struct flight_slot {
	uint64_t seq;			/* 0: never written */
	uint64_t now;
	uint32_t dir, dropped, payload_len;
	uint8_t raw[VSOCK_HDR_SIZE];
	uint8_t payload[VIRTIO_VSOCK_MAX_PKT_BUF_SIZE];
};

/* The ring file, mapped shared: it outlives the child that writes it. */
struct flight_file {
	char magic[8];
	uint64_t next_seq;		/* packets recorded so far */
	struct flight_slot slot[FLIGHT_SLOTS];
};

/* Where rings and pcaps go: $VSE_FLIGHT_DIR, else ".". */
const char *flight_dir(void);

#endif

/* error.c - descriptions of the vsockemu error codes. */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "error.h"

struct vse_err_desc {
	const char *name;
	const char *text;
};

static const struct vse_err_desc vse_ok = { "VSE_OK", "success" };

/* Indexed by enum vse_err - VSE_ERR_BASE; the static assert keeps it complete. */
#define E(code) [(code) - VSE_ERR_BASE]
static const struct vse_err_desc vse_errors[] = {
	E(VSE_ERR_NOMEM) = { "VSE_ERR_NOMEM", "out of memory" },
	E(VSE_ERR_INVAL) = { "VSE_ERR_INVAL", "invalid argument" },
	E(VSE_ERR_SYSTEM) = { "VSE_ERR_SYSTEM",
	    "a system call failed (errno says why)" },
	E(VSE_ERR_MEM_OVERFLOW) = { "VSE_ERR_MEM_OVERFLOW",
	    "guest address range wraps past 2^64" },
	E(VSE_ERR_MEM_UNMAPPED) = { "VSE_ERR_MEM_UNMAPPED",
	    "guest address range not backed by guest memory" },
	E(VSE_ERR_MEM_SPLIT) = { "VSE_ERR_MEM_SPLIT",
	    "guest address range crosses memory regions" },
	E(VSE_ERR_MEM_OVERLAP) = { "VSE_ERR_MEM_OVERLAP",
	    "guest memory region overlaps another" },
	E(VSE_ERR_MEM_TOO_MANY) = { "VSE_ERR_MEM_TOO_MANY",
	    "too many guest memory regions" },
	E(VSE_ERR_MEM_FD_SIZE) = { "VSE_ERR_MEM_FD_SIZE",
	    "memory region is not inside its file (offset + size past the end)" },
	E(VSE_ERR_MEM_LOST) = { "VSE_ERR_MEM_LOST",
	    "guest memory vanished: the front-end shrank its file under it" },
	E(VSE_ERR_VQ_SIZE) = { "VSE_ERR_VQ_SIZE",
	    "queue size is not a power of two in 1..32768" },
	E(VSE_ERR_VQ_ALIGN) = { "VSE_ERR_VQ_ALIGN",
	    "virtqueue ring part is misaligned" },
	E(VSE_ERR_VQ_RING_ADDR) = { "VSE_ERR_VQ_RING_ADDR",
	    "virtqueue ring part outside guest memory" },
	E(VSE_ERR_VQ_NOT_READY) = { "VSE_ERR_VQ_NOT_READY",
	    "virtqueue is not set up" },
	E(VSE_ERR_VQ_BROKEN) = { "VSE_ERR_VQ_BROKEN",
	    "virtqueue is broken by an earlier guest error" },
	E(VSE_ERR_AVAIL_IDX) = { "VSE_ERR_AVAIL_IDX",
	    "available index moved more than the queue size" },
	E(VSE_ERR_HEAD_RANGE) = { "VSE_ERR_HEAD_RANGE",
	    "chain head index out of range" },
	E(VSE_ERR_NEXT_RANGE) = { "VSE_ERR_NEXT_RANGE",
	    "descriptor next index out of range" },
	E(VSE_ERR_CHAIN_LOOP) = { "VSE_ERR_CHAIN_LOOP",
	    "descriptor chain longer than its table (loop)" },
	E(VSE_ERR_INDIRECT_NOT_NEGOTIATED) = { "VSE_ERR_INDIRECT_NOT_NEGOTIATED",
	    "indirect descriptor used but not negotiated" },
	E(VSE_ERR_INDIRECT_EMPTY) = { "VSE_ERR_INDIRECT_EMPTY",
	    "indirect table has length zero" },
	E(VSE_ERR_INDIRECT_LEN) = { "VSE_ERR_INDIRECT_LEN",
	    "indirect table length is not a multiple of 16" },
	E(VSE_ERR_INDIRECT_TOO_BIG) = { "VSE_ERR_INDIRECT_TOO_BIG",
	    "indirect table larger than the limit" },
	E(VSE_ERR_INDIRECT_NESTED) = { "VSE_ERR_INDIRECT_NESTED",
	    "indirect descriptor inside an indirect table" },
	E(VSE_ERR_INDIRECT_NEXT) = { "VSE_ERR_INDIRECT_NEXT",
	    "descriptor has both INDIRECT and NEXT" },
	E(VSE_ERR_READ_AFTER_WRITE) = { "VSE_ERR_READ_AFTER_WRITE",
	    "device-readable descriptor after a writable one" },
	E(VSE_ERR_DESC_OVERFLOW) = { "VSE_ERR_DESC_OVERFLOW",
	    "descriptor address + length wraps" },
	E(VSE_ERR_DESC_UNMAPPED) = { "VSE_ERR_DESC_UNMAPPED",
	    "descriptor buffer outside guest memory" },
	E(VSE_ERR_CHAIN_TOO_LONG) = { "VSE_ERR_CHAIN_TOO_LONG",
	    "total chain length overflows 32 bits" },
	E(VSE_ERR_TOO_MANY_SEGS) = { "VSE_ERR_TOO_MANY_SEGS",
	    "descriptor chain has too many buffers" },
	E(VSE_ERR_USED_ID) = { "VSE_ERR_USED_ID",
	    "used element id out of range" },
	E(VSE_ERR_BAD_CID) = { "VSE_ERR_BAD_CID",
	    "not a guest CID (0, 1, 2 and 0xffffffff are reserved, "
	    "above 32 bits unsupported)" },
	E(VSE_ERR_FEATURES) = { "VSE_ERR_FEATURES",
	    "driver acknowledged features the device did not offer" },
	E(VSE_ERR_CONN_LIMIT) = { "VSE_ERR_CONN_LIMIT",
	    "connection limit reached" },
	E(VSE_ERR_NO_PORT) = { "VSE_ERR_NO_PORT", "no free local port" },
	E(VSE_ERR_BAD_TYPE) = { "VSE_ERR_BAD_TYPE",
	    "socket type unknown or not negotiated" },
	E(VSE_ERR_RELAY_FULL) = { "VSE_ERR_RELAY_FULL",
	    "a sibling VM's relay queue is full" },
	E(VSE_ERR_PATH_TAKEN) = { "VSE_ERR_PATH_TAKEN",
	    "socket path in use by another process, or not a socket" },
	E(VSE_ERR_VHU_CLOSED) = { "VSE_ERR_VHU_CLOSED",
	    "vhost-user front-end closed the connection" },
	E(VSE_ERR_VHU_TRUNCATED) = { "VSE_ERR_VHU_TRUNCATED",
	    "vhost-user message shorter than its header says" },
	E(VSE_ERR_VHU_VERSION) = { "VSE_ERR_VHU_VERSION",
	    "unsupported vhost-user protocol version" },
	E(VSE_ERR_VHU_TOO_BIG) = { "VSE_ERR_VHU_TOO_BIG",
	    "vhost-user payload larger than any request takes" },
	E(VSE_ERR_VHU_FD_COUNT) = { "VSE_ERR_VHU_FD_COUNT",
	    "vhost-user message carries fds its request does not take" },
	E(VSE_ERR_VHU_REQUEST) = { "VSE_ERR_VHU_REQUEST",
	    "vhost-user request type not supported" },
	E(VSE_ERR_VHU_PAYLOAD_SIZE) = { "VSE_ERR_VHU_PAYLOAD_SIZE",
	    "vhost-user payload size wrong for its request" },
	E(VSE_ERR_VHU_MEM_TABLE) = { "VSE_ERR_VHU_MEM_TABLE",
	    "vhost-user memory table: region count, size and fds disagree" },
	E(VSE_ERR_VHU_RING_INDEX) = { "VSE_ERR_VHU_RING_INDEX",
	    "vhost-user ring index out of range" },
	E(VSE_ERR_VHU_RING_FLAGS) = { "VSE_ERR_VHU_RING_FLAGS",
	    "vhost-user ring fd message sets unknown bits" },
	E(VSE_ERR_VHU_RING_BASE) = { "VSE_ERR_VHU_RING_BASE",
	    "vhost-user ring base beyond 16 bits" },
	E(VSE_ERR_VHU_CONFIG_RANGE) = { "VSE_ERR_VHU_CONFIG_RANGE",
	    "vhost-user config access outside the config space" },
	E(VSE_ERR_VHU_REPLY) = { "VSE_ERR_VHU_REPLY",
	    "vhost-user reply cannot be sent: the front-end is not reading" },
	E(VSE_ERR_PCAP_OPEN) = { "VSE_ERR_PCAP_OPEN",
	    "capture file cannot be created" },
	E(VSE_ERR_PCAP_WRITE) = { "VSE_ERR_PCAP_WRITE",
	    "writing the capture file failed" },
	E(VSE_ERR_PCAP_FORMAT) = { "VSE_ERR_PCAP_FORMAT",
	    "not a pcap or pcapng capture" },
	E(VSE_ERR_PCAP_LINKTYPE) = { "VSE_ERR_PCAP_LINKTYPE",
	    "capture link type is not LINKTYPE_VSOCK (271)" },
	E(VSE_ERR_PCAP_DAMAGED) = { "VSE_ERR_PCAP_DAMAGED",
	    "capture record unreadable (truncated or corrupt)" },
	E(VSE_ERR_PCAP_SHORT) = { "VSE_ERR_PCAP_SHORT",
	    "record shorter than the vsockmon and virtio headers" },
	E(VSE_ERR_PCAP_CAPLEN) = { "VSE_ERR_PCAP_CAPLEN",
	    "record cut short by the capture's snapshot length" },
	E(VSE_ERR_PCAP_TRANSPORT) = { "VSE_ERR_PCAP_TRANSPORT",
	    "record transport is not virtio" },
	E(VSE_ERR_PCAP_TRANS_LEN) = { "VSE_ERR_PCAP_TRANS_LEN",
	    "record transport header length is not 44" },
	E(VSE_ERR_PCAP_MISMATCH) = { "VSE_ERR_PCAP_MISMATCH",
	    "vsockmon header disagrees with the virtio header" },
	E(VSE_ERR_PCAP_PAYLOAD_LEN) = { "VSE_ERR_PCAP_PAYLOAD_LEN",
	    "record payload length differs from the header's len" },
};

#undef E

_Static_assert(sizeof(vse_errors) / sizeof(vse_errors[0]) ==
    VSE_ERR__COUNT - VSE_ERR_BASE,
    "every enum vse_err needs an entry in vse_errors");

/* The magnitude of err: codes and errnos are returned negated. */
static unsigned
err_magnitude(int err)
{
	return err < 0 ? 0u - (unsigned)err : (unsigned)err;
}

/* Whether |err| is an errno value (1..4095, below every VSE code). */
static bool
err_is_errno(unsigned mag)
{
	return mag > 0 && mag < VSE_ERR_BASE;
}

/* The VSE code's description, or NULL for an errno or an unknown value. */
static const struct vse_err_desc *
vse_err_lookup(unsigned mag)
{
	if (mag == VSE_OK)
		return &vse_ok;
	if (mag < VSE_ERR_BASE || mag >= VSE_ERR__COUNT ||
	    vse_errors[mag - VSE_ERR_BASE].name == NULL)
		return NULL;
	return &vse_errors[mag - VSE_ERR_BASE];
}

const char *
vse_strerror(int err)
{
	unsigned mag = err_magnitude(err);
	const struct vse_err_desc *d = vse_err_lookup(mag);

	if (d != NULL)
		return d->text;
	return err_is_errno(mag) ? strerror((int)mag) : "unknown error";
}

const char *
vse_errname(int err)
{
	unsigned mag = err_magnitude(err);
	const struct vse_err_desc *d = vse_err_lookup(mag);
	const char *name = NULL;

	if (d != NULL)
		return d->name;
#ifdef HAVE_STRERRORNAME_NP
	if (err_is_errno(mag))
		name = strerrorname_np((int)mag);
#endif
	if (name == NULL && err_is_errno(mag))
		name = "ERRNO";		/* an errno this libc cannot name */
	return name != NULL ? name : "VSE_ERR_UNKNOWN";
}

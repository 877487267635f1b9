/* error.c - descriptions of the vsockemu error codes. */
#include "config.h"

#include <stddef.h>

#include "error.h"

struct vse_err_desc {
	const char *name;
	const char *text;
};

/* Indexed by enum vse_err; the static assert below keeps it complete. */
static const struct vse_err_desc vse_errors[] = {
	[VSE_OK] = { "VSE_OK", "success" },
	[VSE_ERR_NOMEM] = { "VSE_ERR_NOMEM", "out of memory" },
	[VSE_ERR_INVAL] = { "VSE_ERR_INVAL", "invalid argument" },
	[VSE_ERR_MEM_OVERFLOW] = { "VSE_ERR_MEM_OVERFLOW",
	    "guest address range wraps past 2^64" },
	[VSE_ERR_MEM_UNMAPPED] = { "VSE_ERR_MEM_UNMAPPED",
	    "guest address range not backed by guest memory" },
	[VSE_ERR_MEM_SPLIT] = { "VSE_ERR_MEM_SPLIT",
	    "guest address range crosses memory regions" },
	[VSE_ERR_MEM_OVERLAP] = { "VSE_ERR_MEM_OVERLAP",
	    "guest memory region overlaps another" },
	[VSE_ERR_MEM_TOO_MANY] = { "VSE_ERR_MEM_TOO_MANY",
	    "too many guest memory regions" },
	[VSE_ERR_MEM_FD_SIZE] = { "VSE_ERR_MEM_FD_SIZE",
	    "memory region is not inside its file (offset + size past the end)" },
	[VSE_ERR_MEM_LOST] = { "VSE_ERR_MEM_LOST",
	    "guest memory vanished: the front-end shrank its file under it" },
	[VSE_ERR_VQ_SIZE] = { "VSE_ERR_VQ_SIZE",
	    "queue size is not a power of two in 1..32768" },
	[VSE_ERR_VQ_ALIGN] = { "VSE_ERR_VQ_ALIGN",
	    "virtqueue ring part is misaligned" },
	[VSE_ERR_VQ_RING_ADDR] = { "VSE_ERR_VQ_RING_ADDR",
	    "virtqueue ring part outside guest memory" },
	[VSE_ERR_VQ_NOT_READY] = { "VSE_ERR_VQ_NOT_READY",
	    "virtqueue is not set up" },
	[VSE_ERR_VQ_BROKEN] = { "VSE_ERR_VQ_BROKEN",
	    "virtqueue is broken by an earlier guest error" },
	[VSE_ERR_AVAIL_IDX] = { "VSE_ERR_AVAIL_IDX",
	    "available index moved more than the queue size" },
	[VSE_ERR_HEAD_RANGE] = { "VSE_ERR_HEAD_RANGE",
	    "chain head index out of range" },
	[VSE_ERR_NEXT_RANGE] = { "VSE_ERR_NEXT_RANGE",
	    "descriptor next index out of range" },
	[VSE_ERR_CHAIN_LOOP] = { "VSE_ERR_CHAIN_LOOP",
	    "descriptor chain longer than its table (loop)" },
	[VSE_ERR_INDIRECT_NOT_NEGOTIATED] = { "VSE_ERR_INDIRECT_NOT_NEGOTIATED",
	    "indirect descriptor used but not negotiated" },
	[VSE_ERR_INDIRECT_EMPTY] = { "VSE_ERR_INDIRECT_EMPTY",
	    "indirect table has length zero" },
	[VSE_ERR_INDIRECT_LEN] = { "VSE_ERR_INDIRECT_LEN",
	    "indirect table length is not a multiple of 16" },
	[VSE_ERR_INDIRECT_TOO_BIG] = { "VSE_ERR_INDIRECT_TOO_BIG",
	    "indirect table larger than the limit" },
	[VSE_ERR_INDIRECT_NESTED] = { "VSE_ERR_INDIRECT_NESTED",
	    "indirect descriptor inside an indirect table" },
	[VSE_ERR_INDIRECT_NEXT] = { "VSE_ERR_INDIRECT_NEXT",
	    "descriptor has both INDIRECT and NEXT" },
	[VSE_ERR_READ_AFTER_WRITE] = { "VSE_ERR_READ_AFTER_WRITE",
	    "device-readable descriptor after a writable one" },
	[VSE_ERR_DESC_OVERFLOW] = { "VSE_ERR_DESC_OVERFLOW",
	    "descriptor address + length wraps" },
	[VSE_ERR_DESC_UNMAPPED] = { "VSE_ERR_DESC_UNMAPPED",
	    "descriptor buffer outside guest memory" },
	[VSE_ERR_CHAIN_TOO_LONG] = { "VSE_ERR_CHAIN_TOO_LONG",
	    "total chain length overflows 32 bits" },
	[VSE_ERR_TOO_MANY_SEGS] = { "VSE_ERR_TOO_MANY_SEGS",
	    "descriptor chain has too many buffers" },
	[VSE_ERR_USED_ID] = { "VSE_ERR_USED_ID",
	    "used element id out of range" },
	[VSE_ERR_BAD_CID] = { "VSE_ERR_BAD_CID",
	    "reserved guest CID (0, 1, 2, 0xffffffff and 2^64-1 are reserved)" },
	[VSE_ERR_FEATURES] = { "VSE_ERR_FEATURES",
	    "driver acknowledged features the device did not offer" },
	[VSE_ERR_CONN_LIMIT] = { "VSE_ERR_CONN_LIMIT",
	    "connection limit reached" },
	[VSE_ERR_NO_PORT] = { "VSE_ERR_NO_PORT", "no free local port" },
	[VSE_ERR_BAD_TYPE] = { "VSE_ERR_BAD_TYPE",
	    "socket type unknown or not negotiated" },
	[VSE_ERR_PCAP_OPEN] = { "VSE_ERR_PCAP_OPEN",
	    "capture file cannot be created" },
	[VSE_ERR_PCAP_WRITE] = { "VSE_ERR_PCAP_WRITE",
	    "writing the capture file failed" },
	[VSE_ERR_PCAP_FORMAT] = { "VSE_ERR_PCAP_FORMAT",
	    "not a pcap or pcapng capture" },
	[VSE_ERR_PCAP_LINKTYPE] = { "VSE_ERR_PCAP_LINKTYPE",
	    "capture link type is not LINKTYPE_VSOCK (271)" },
	[VSE_ERR_PCAP_DAMAGED] = { "VSE_ERR_PCAP_DAMAGED",
	    "capture record unreadable (truncated or corrupt)" },
	[VSE_ERR_PCAP_SHORT] = { "VSE_ERR_PCAP_SHORT",
	    "record shorter than the vsockmon and virtio headers" },
	[VSE_ERR_PCAP_CAPLEN] = { "VSE_ERR_PCAP_CAPLEN",
	    "record cut short by the capture's snapshot length" },
	[VSE_ERR_PCAP_TRANSPORT] = { "VSE_ERR_PCAP_TRANSPORT",
	    "record transport is not virtio" },
	[VSE_ERR_PCAP_TRANS_LEN] = { "VSE_ERR_PCAP_TRANS_LEN",
	    "record transport header length is not 44" },
	[VSE_ERR_PCAP_MISMATCH] = { "VSE_ERR_PCAP_MISMATCH",
	    "vsockmon header disagrees with the virtio header" },
	[VSE_ERR_PCAP_PAYLOAD_LEN] = { "VSE_ERR_PCAP_PAYLOAD_LEN",
	    "record payload length differs from the header's len" },
};

_Static_assert(sizeof(vse_errors) / sizeof(vse_errors[0]) == VSE_ERR__COUNT,
    "every enum vse_err needs an entry in vse_errors");

static const struct vse_err_desc *
vse_err_lookup(int err)
{
	if (err < 0)
		err = -err;
	if (err >= VSE_ERR__COUNT || vse_errors[err].name == NULL)
		return NULL;
	return &vse_errors[err];
}

const char *
vse_strerror(int err)
{
	const struct vse_err_desc *d = vse_err_lookup(err);

	return d != NULL ? d->text : "unknown error";
}

const char *
vse_errname(int err)
{
	const struct vse_err_desc *d = vse_err_lookup(err);

	return d != NULL ? d->name : "VSE_ERR_UNKNOWN";
}

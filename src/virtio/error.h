/* error.h - the one table of error codes every vsockemu library call returns, apart from errno values. */
#ifndef VSE_ERROR_H
#define VSE_ERROR_H

/*
 * Library functions return 0 (or a count) on success and the negative of one
 * of these codes on failure. Each guest-facing check has a code of its own so
 * that a test can prove the check that fired is the one it meant to drive.
 * Keep error.c's table in the same order.
 *
 * The codes start above Linux's MAX_ERRNO (4095), so they never share a
 * number with an errno: the socket-shaped interfaces (backend ops, the fake
 * guest's fg_sock_* calls) return -errno as the calls they mirror do, and a
 * call that fails in a system call returns -VSE_ERR_SYSTEM with errno left
 * as the system call set it. vse_errname() names either space correctly.
 */
#define VSE_ERR_BASE	4096

enum vse_err {
	VSE_OK = 0,
	VSE_ERR_NOMEM = VSE_ERR_BASE,	/* allocation failed */
	VSE_ERR_INVAL,			/* caller passed an invalid argument */
	VSE_ERR_SYSTEM,			/* a system call failed: see errno */

	/* guest memory (guestmem.c) */
	VSE_ERR_MEM_OVERFLOW,		/* gpa + len wraps past 2^64 */
	VSE_ERR_MEM_UNMAPPED,		/* range not backed by guest memory */
	VSE_ERR_MEM_SPLIT,		/* range crosses regions where one is required */
	VSE_ERR_MEM_OVERLAP,		/* new region overlaps an existing one */
	VSE_ERR_MEM_TOO_MANY,		/* region table full */
	VSE_ERR_MEM_FD_SIZE,		/* vhost-user region not inside its file */
	VSE_ERR_MEM_LOST,		/* front-end shrank a file under our mapping */

	/* virtqueue setup (virtq.c) */
	VSE_ERR_VQ_SIZE,		/* size zero, not a power of two, or > 32768 */
	VSE_ERR_VQ_ALIGN,		/* ring part misaligned (spec 2.7: 16/2/4) */
	VSE_ERR_VQ_RING_ADDR,		/* ring part outside guest memory */
	VSE_ERR_VQ_NOT_READY,		/* queue used before setup */
	VSE_ERR_VQ_BROKEN,		/* queue was broken by an earlier error */

	/* the chain walker (virtq.c): one code per rule, see doc/threat-model.md */
	VSE_ERR_AVAIL_IDX,		/* avail idx more than queue size ahead */
	VSE_ERR_HEAD_RANGE,		/* head index >= queue size */
	VSE_ERR_NEXT_RANGE,		/* next index >= table size */
	VSE_ERR_CHAIN_LOOP,		/* chain longer than its table: a loop */
	VSE_ERR_INDIRECT_NOT_NEGOTIATED,/* INDIRECT without VIRTIO_RING_F_INDIRECT_DESC */
	VSE_ERR_INDIRECT_EMPTY,		/* indirect table of length 0 */
	VSE_ERR_INDIRECT_LEN,		/* indirect table length not a multiple of 16 */
	VSE_ERR_INDIRECT_TOO_BIG,	/* indirect table larger than the limit */
	VSE_ERR_INDIRECT_NESTED,	/* INDIRECT inside an indirect table */
	VSE_ERR_INDIRECT_NEXT,		/* INDIRECT together with NEXT */
	VSE_ERR_READ_AFTER_WRITE,	/* readable descriptor after a writable one */
	VSE_ERR_DESC_OVERFLOW,		/* descriptor addr + len wraps */
	VSE_ERR_DESC_UNMAPPED,		/* descriptor buffer outside guest memory */
	VSE_ERR_CHAIN_TOO_LONG,		/* total chain length overflows 32 bits */
	VSE_ERR_TOO_MANY_SEGS,		/* more than VIRTQ_CHAIN_MAX_SEGS buffers */
	VSE_ERR_USED_ID,		/* device pushed an id it never popped */

	/* the device model (device*.c) */
	VSE_ERR_BAD_CID,		/* reserved or 64-bit guest CID */
	VSE_ERR_FEATURES,		/* driver acked features not offered */
	VSE_ERR_CONN_LIMIT,		/* connection table full */
	VSE_ERR_NO_PORT,		/* no free local port */
	VSE_ERR_BAD_TYPE,		/* socket type unknown or not negotiated */
	VSE_ERR_RELAY_FULL,		/* a sibling's relay queue is full */

	/* the host side's sockets (backend-muxer.c, uds-path.c) */
	VSE_ERR_PATH_TAKEN,		/* socket path in use, or not a socket */

	/* a vhost-user front-end's messages (vhost-user.c): one code per rule */
	VSE_ERR_VHU_CLOSED,		/* front-end closed the connection */
	VSE_ERR_VHU_TRUNCATED,		/* header or payload shorter than sent */
	VSE_ERR_VHU_VERSION,		/* flags carry another protocol version */
	VSE_ERR_VHU_TOO_BIG,		/* payload size beyond any request's */
	VSE_ERR_VHU_FD_COUNT,		/* fds the request does not take */
	VSE_ERR_VHU_REQUEST,		/* request type not supported */
	VSE_ERR_VHU_PAYLOAD_SIZE,	/* payload size wrong for the request */
	VSE_ERR_VHU_MEM_TABLE,		/* region count, size and fds disagree */
	VSE_ERR_VHU_RING_INDEX,		/* ring index beyond the device's queues */
	VSE_ERR_VHU_RING_FLAGS,		/* ring fd message sets unknown bits */
	VSE_ERR_VHU_RING_BASE,		/* ring base beyond 16 bits */
	VSE_ERR_VHU_CONFIG_RANGE,	/* config access outside config space */
	VSE_ERR_VHU_REPLY,		/* reply cannot be sent: not reading */

	/* vsockmon captures (pcap-writer.c, pcap-record.c, pcap-reader.c) */
	VSE_ERR_PCAP_OPEN,		/* capture file cannot be created */
	VSE_ERR_PCAP_WRITE,		/* writing or flushing the capture failed */
	VSE_ERR_PCAP_FORMAT,		/* not a pcap/pcapng file libpcap can open */
	VSE_ERR_PCAP_LINKTYPE,		/* link type is not LINKTYPE_VSOCK (271) */
	VSE_ERR_PCAP_DAMAGED,		/* libpcap could not read a record */
	VSE_ERR_PCAP_SHORT,		/* record shorter than 32 + 44 bytes */
	VSE_ERR_PCAP_CAPLEN,		/* record cut by the snaplen: caplen < len */
	VSE_ERR_PCAP_TRANSPORT,		/* transport is not VIRTIO (2) */
	VSE_ERR_PCAP_TRANS_LEN,		/* transport header length is not 44 */
	VSE_ERR_PCAP_MISMATCH,		/* vsockmon and virtio headers disagree */
	VSE_ERR_PCAP_PAYLOAD_LEN,	/* payload bytes differ from hdr.len */

	VSE_ERR__COUNT
};

/*
 * Returns a static, human-readable description of err (positive or
 * negative): a VSE code's text, or strerror() of an errno.
 */
const char *vse_strerror(int err);

/*
 * Returns the symbolic name of err for test reports: "VSE_ERR_HEAD_RANGE"
 * for a VSE code, "EBADF" for an errno, "VSE_ERR_UNKNOWN" for anything else.
 */
const char *vse_errname(int err);

#endif

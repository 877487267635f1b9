/* pcap-reader.h - read LINKTYPE_VSOCK pcap and pcapng files, every one treated as hostile. */
#ifndef VSE_PCAP_READER_H
#define VSE_PCAP_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt.h"
#include "vsockmon.h"

struct vsock_pcap_reader;

/* One validated record. Pointers stay valid until the next call. */
struct vsock_pcap_frame {
	uint64_t number;		/* 1-based, as Wireshark counts */
	uint64_t ts_ns;			/* seconds and nanoseconds since 1970 */
	struct vsockmon_hdr mon;
	struct vsock_hdr hdr;
	uint8_t raw[VSOCK_HDR_SIZE];	/* the virtio header as recorded */
	const uint8_t *payload;
	uint32_t payload_len;		/* == hdr.len unless dropped or cut */
	uint32_t tapped_len;		/* payload bytes in the record */
	uint32_t cap_len;		/* record bytes in the capture */
	uint32_t orig_len;		/* record length before any snaplen cut */
	bool to_guest;			/* host -> guest */
	bool dir_marked;		/* to_guest came from vsockemu's mark */
	bool dropped;			/* vsockemu's mark: the device dropped it */
	bool split_tap;			/* Linux 6.1 split-RX tap, see below */
	bool cut;			/* payload cut by the snaplen, see below */
};

/*
 * Accept Linux 6.1's split-buffer tap (a host -> guest RW recorded with the
 * fragment's len but all of the remaining payload; fixed upstream by
 * 5f344d809e01) trimmed to len. Without the flag it is still accepted and
 * flagged, with all the bytes the record holds.
 */
#define VSOCK_PCAP_TRIM_SPLIT		0x1

/*
 * Accept a record the capture's snapshot length cut inside its payload
 * (tcpdump -s 76 keeps the headers of a long transfer): both headers whole,
 * the pcap len exactly what hdr.len needs (more only for a split tap), and
 * hdr.len at most VIRTIO_VSOCK_MAX_PKT_BUF_SIZE, the largest packet a device
 * takes, so a reader never makes up more than that for one record. Such a
 * frame is flagged cut: payload holds the first payload_len (< hdr.len)
 * bytes, the rest are unknown. Without the flag it is -VSE_ERR_PCAP_CAPLEN,
 * as is any record cut inside its headers (-VSE_ERR_PCAP_SHORT) or whose
 * lengths disagree.
 */
#define VSOCK_PCAP_ACCEPT_CUT		0x2

/*
 * Validates one LINKTYPE_VSOCK record of caplen bytes at data (orig_len as
 * the capture claims it) into f; f->number and f->ts_ns are left to the
 * caller. Pure: no I/O, reads only data[0 .. caplen). Returns 0 or
 * -VSE_ERR_PCAP_SHORT, _CAPLEN, _TRANSPORT, _TRANS_LEN, _MISMATCH or
 * _PAYLOAD_LEN; on error f holds whatever was decoded so far, for a message.
 */
int vsock_pcap_parse_record(const uint8_t *data, uint32_t caplen,
    uint32_t orig_len, unsigned flags, struct vsock_pcap_frame *f);

/*
 * Opens a pcap or pcapng capture at path ("-" is standard input), gzip-
 * compressed or not, at nanosecond precision. The input is read once, front
 * to back (src/pcap-input.c), so pipes, FIFOs and /dev/stdin work. Refuses
 * input that is not a capture (-VSE_ERR_PCAP_FORMAT: cannot be opened,
 * empty, another format, a cut file header, damaged gzip data) or whose link
 * type is not 271 (-VSE_ERR_PCAP_LINKTYPE). On failure msg gets one line,
 * "PATH: reason", the path named once and the reason in our words.
 */
int vsock_pcap_reader_open(const char *path, unsigned flags,
    struct vsock_pcap_reader **out, char *msg, size_t msglen);

/*
 * Reads the next record into f: 1 a frame, 0 the clean end of the file, or
 * a negative -VSE_ERR_PCAP_* with msg "PATH: frame N: reason"
 * (-VSE_ERR_PCAP_DAMAGED when the record itself could not be read: the data
 * ends inside it, impossible lengths, a read error, damaged gzip data).
 * After an error the reader returns the same error again.
 */
int vsock_pcap_reader_next(struct vsock_pcap_reader *r,
    struct vsock_pcap_frame *f, char *msg, size_t msglen);

/* Closes and frees r (NULL is allowed). */
void vsock_pcap_reader_close(struct vsock_pcap_reader *r);

/* One line describing a failed vsock_pcap_parse_record() on f, into buf. */
void vsock_pcap_describe(int err, const struct vsock_pcap_frame *f,
    char *buf, size_t buflen);

#endif

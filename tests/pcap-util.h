/* pcap-util.h - capture fixtures for the pcap suites: temp files, synthetic tap records, raw records. */
#ifndef VSE_TESTS_PCAP_UTIL_H
#define VSE_TESTS_PCAP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "pcap-reader.h"
#include "vsockmon.h"

/* The guest CID every synthetic record uses; the host is VMADDR_CID_HOST. */
#define PU_GUEST_CID	3

/* A synthetic tap record with its own payload storage. */
struct pu_rec {
	struct vsock_tap_record rec;
	uint8_t *buf;
};

/* Creates the per-process temp dir (once, in the Check parent). */
void pu_tmpdir_init(void);

/* "<tmpdir>/<name>" in a static buffer (one per call slot, 4 slots). */
const char *pu_tmp(const char *name);

/* "<top_srcdir>/testvectors/<name>", never ../shared. */
const char *pu_vector(const char *name);

/*
 * Fills r as the device would tap it: addresses from dir (guest port 1024,
 * host port 1234), hdr.len = payload_len, payload a pattern seeded by seed,
 * raw encoded from hdr. Free with pu_rec_free.
 */
void pu_rec_make(struct pu_rec *r, enum vsock_tap_dir dir, uint16_t type,
    uint16_t op, uint32_t flags, uint32_t payload_len, uint64_t now,
    unsigned seed);
void pu_rec_free(struct pu_rec *r);

/* Re-encodes r->rec.raw from r->rec.hdr after a test edits hdr. */
void pu_rec_reencode(struct pu_rec *r);

/*
 * Builds a kernel-style LINKTYPE_VSOCK record (mark 0) for h and payload
 * into out (room for VSOCKMON_RECORD_MIN + n bytes); returns its length.
 */
uint32_t pu_record(uint8_t *out, const struct vsock_hdr *h,
    const uint8_t *payload, uint32_t n);

/* One raw record for pu_write_raw: bytes, captured length, claimed length. */
struct pu_raw {
	const uint8_t *data;
	uint32_t caplen;
	uint32_t len;
};

/* Writes a classic pcap file with link type dlt holding recs. */
void pu_write_raw(const char *path, int dlt, const struct pu_raw *recs,
    size_t n);

/* Writes len bytes of data to path. */
void pu_write_file(const char *path, const void *data, size_t len);

/* Reads all of path into a malloc'd buffer; *len its size. */
uint8_t *pu_read_file(const char *path, size_t *len);

/* The outcome of reading a whole capture. */
struct pu_result {
	int open_err;		/* 0 or the open error */
	int err;		/* 0 clean end, else the error that stopped it */
	uint64_t frames;	/* frames read before the end or error */
	char msg[512];
};

/* Reads path to its end or first error with flags; never stops the test. */
void pu_read_all(const char *path, unsigned flags, struct pu_result *res);

#endif

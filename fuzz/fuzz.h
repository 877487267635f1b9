/* fuzz.h - a deterministic, structure-aware fuzzer for the device: action streams, invariants, findings. */
#ifndef VSE_FUZZ_H
#define VSE_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"

/*
 * A run is a byte string: FUZZ_CONFIG_BYTES of device configuration, then
 * actions (guest packets, ring attacks, host events, time jumps). Every byte
 * string decodes to some run, so the same bytes serve the built-in generator,
 * libFuzzer and the replayed corpus. doc/fuzzing.md lists the actions.
 */
#define FUZZ_CONFIG_BYTES	8
#define FUZZ_MAX_ACTIONS	2048	/* actions past this are ignored */
#define FUZZ_MAX_INPUT		(1024 * 1024)

/* What an invariant violation is about; 0 is a clean run. */
enum fuzz_finding {
	FUZZ_OK = 0,
	FUZZ_RING,		/* the driver saw a used id or length it never gave */
	FUZZ_TX_WRITTEN,	/* the device wrote into a device-readable buffer */
	FUZZ_RX_FORMAT,		/* used length or CIDs disagree with the header */
	FUZZ_CREDIT,		/* payload beyond the guest's credit */
	FUZZ_REQUEST,		/* a guest REQUEST unanswered, or answered twice */
	FUZZ_AFTER_RST,		/* a packet on a connection after its RST */
	FUZZ_RST_REPLY,		/* an RST nothing called for: a reply to an RST */
	FUZZ_FWD_CNT,		/* fwd_cnt differs from bytes the host received */
	FUZZ_G2H_DATA,		/* host bytes are not a prefix of what the guest sent */
	FUZZ_H2G_DATA,		/* guest bytes are not a prefix of what the host sent */
	FUZZ_BOUNDS,		/* connections, held bytes or orphans over a limit */
	FUZZ_SPIN,		/* unbounded work for one event */
	FUZZ_WALKER,		/* a malformed chain was not refused as it should be */
	FUZZ__COUNT
};

/* Rows of the coverage matrix: no connection, then enum conn_state. */
#define FUZZ_NSTATES	6
/* Columns: ops 0 (INVALID) to 7 (CREDIT_REQUEST), then any other value. */
#define FUZZ_NOPS	9

/* What one run did and found. */
struct fuzz_result {
	int finding;			/* enum fuzz_finding, first one only */
	char what[256];			/* one line saying what was wrong */
	size_t action;			/* index of the action it showed in */
	size_t nactions;
	uint64_t digest;		/* of every packet and the final stats */
	uint64_t g2h, h2g;		/* packets tapped each way */
	uint32_t cover[FUZZ_NSTATES][FUZZ_NOPS];	/* guest op x state */
};

/* Optional hooks of one run. */
struct fuzz_exec_opts {
	vsock_tap_fn tap;		/* also sees every packet (a pcap writer) */
	void *tap_ctx;
};

/*
 * Runs one action stream against a fresh device and fake guest, checking
 * every invariant after each action. Returns 0 (the verdict is in res) or
 * -VSE_ERR_NOMEM when the rig could not be built. Never prints.
 */
int fuzz_exec(const uint8_t *data, size_t len,
    const struct fuzz_exec_opts *opts, struct fuzz_result *res);

/* "credit", "rst-reply", ...: the short name of a finding. */
const char *fuzz_finding_name(int finding);

/* The generator's PRNG (splitmix64): one stream per (seed, run). */
struct fuzz_rng {
	uint64_t s;
};

void fuzz_rng_init(struct fuzz_rng *r, uint64_t seed, uint64_t run);
uint64_t fuzz_rng_next(struct fuzz_rng *r);

/*
 * Writes a fresh structure-aware action stream (config included) of at most
 * cap bytes into buf; returns its length.
 */
size_t fuzz_generate(struct fuzz_rng *r, uint8_t *buf, size_t cap);

/*
 * Writes a mutant of in (actions deleted, duplicated, spliced with fresh
 * ones, fields flipped) into out; returns its length.
 */
size_t fuzz_mutate(struct fuzz_rng *r, const uint8_t *in, size_t len,
    uint8_t *out, size_t cap);

/*
 * Stores the offset of each action of data in off (at most max) and
 * returns the count; off[0] is the first action after the config.
 */
size_t fuzz_split(const uint8_t *data, size_t len, size_t *off, size_t max);

/*
 * Shrinks data in place to a shorter stream that still produces the same
 * finding, trying at most budget runs; returns the new length.
 */
size_t fuzz_minimize(uint8_t *data, size_t len, int finding,
    unsigned budget);

/*
 * Turns a vsockmon capture into an action stream: each guest->host packet
 * is sent as recorded, guest REQUESTs are preceded by a listener, and
 * host->guest data becomes host writes. Returns 0 and *len, or -VSE_ERR_*
 * with msg set.
 */
int fuzz_from_pcap(const char *path, uint8_t *buf, size_t cap, size_t *len,
    char *msg, size_t msglen);

/*
 * The regular files of corpus directory dir ("dir/name", dot files left
 * out) in name order, so every run goes through a corpus the same way.
 * Returns 0 with *paths (free with fuzz_corpus_files_free), or -1 with
 * errno from opendir(3).
 */
int fuzz_corpus_files(const char *dir, char ***paths, size_t *n);
void fuzz_corpus_files_free(char **paths, size_t n);

#endif

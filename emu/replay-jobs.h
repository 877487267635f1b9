/* replay-jobs.h - replay --jobs N and --shard K/N: traces in forked workers, reported in input order. */
#ifndef VSOCKEMU_REPLAY_JOBS_H
#define VSOCKEMU_REPLAY_JOBS_H

#include <stdbool.h>

#include "replay.h"

/* The most workers --jobs takes. */
#define REPLAY_JOBS_MAX 256

/* What the caller does with trace number i (0-based) of the run. */
struct replay_jobs_ops {
	/* Is trace i replayed at all (not skipped)? In the parent. */
	bool (*wants)(void *ctx, unsigned i);
	/* Replays trace i into res. In a worker. */
	void (*run)(void *ctx, unsigned i, struct replay_result *res);
	/* Reports trace i; res NULL when skipped. In the parent, in order. */
	void (*done)(void *ctx, unsigned i, const struct replay_result *res);
};

/*
 * Replays n traces with at most njobs workers (forked processes) at a time
 * and calls done for each in input order, so the output is the serial
 * run's, byte for byte. A worker that dies or says less than a whole
 * result makes its trace UNUSABLE. Results wait for their turn at most
 * 4 x njobs at a time. A trace no worker could be started for is replayed
 * in this process. Returns 0, or -1 without memory (traces already
 * reported stay reported).
 */
int replay_jobs_run(unsigned njobs, unsigned n,
    const struct replay_jobs_ops *ops, void *ctx);

/*
 * "K/N" (1 <= K <= N <= 65536): 0 and k, n; -1 when it is not one.
 */
int replay_shard_parse(const char *s, unsigned *k, unsigned *n);

/*
 * The shard (1..n) of a trace: FNV-1a of its file name without the
 * directories, so a corpus splits the same on every machine and checkout.
 */
unsigned replay_shard_of(const char *path, unsigned n);

#endif

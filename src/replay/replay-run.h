/* replay-run.h - replay a capture file through the raw guest driver: the one call a program needs to check a trace. */
#ifndef VSE_REPLAY_RUN_H
#define VSE_REPLAY_RUN_H

#include "replay.h"

/*
 * replay_file() with the raw ring driver as the guest: the trace's guest
 * frames go onto the device's TX ring exactly as recorded. res is filled
 * as replay_file() fills it (replay_report() formats it). Returns
 * res->verdict.
 */
enum replay_verdict replay_run_file(const char *path,
    const struct replay_options *o, struct replay_result *res);

#endif

/* replay-api.h - replay's public headers: checking a device against a recorded trace. */
#ifndef VSE_REPLAY_API_H
#define VSE_REPLAY_API_H

/* What these headers declare, libvsockemu exports (include/vsockemu/vsockemu.h). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#include "replay.h"
#include "replay-run.h"

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#endif

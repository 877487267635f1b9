/* replay-divergence.h - filling in a divergence report, the one way both replay engines do it. */
#ifndef VSE_REPLAY_DIVERGENCE_H
#define VSE_REPLAY_DIVERGENCE_H

#include <stdarg.h>
#include <stdint.h>

#include "replay.h"

/*
 * Clears d and fills in frame, field, expected, actual and what (fmt with
 * ap), each cut to its buffer; the caller adds the connection, at_end and
 * the context frames. Used by replay.c (rp_diverge) and live replay
 * (replay-live-compare.c) so their reports read alike.
 */
void replay_div_set(struct replay_divergence *d, uint64_t frame,
    const char *field, const char *expected, const char *actual,
    const char *fmt, va_list ap);

#endif

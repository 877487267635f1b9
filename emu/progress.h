/* progress.h - the periodic progress line of long runs (fuzz, replay of many traces), and their clock. */
#ifndef VSOCKEMU_PROGRESS_H
#define VSOCKEMU_PROGRESS_H

#include <stdbool.h>

/* Seconds between two progress lines. */
#define PROGRESS_INTERVAL 10.0

/*
 * Monotonic seconds. VSOCKEMU_TEST_CLOCK_STEP=MS (tests only, not
 * documented for users) makes it a counter that advances MS milliseconds
 * at each call, so the lines a run prints do not depend on the machine's
 * speed.
 */
double progress_now(void);

/* When the next line is due, if lines are printed at all. */
struct progress {
	bool on;
	double next;
};

/*
 * Starts at now: on when not quiet and stderr is not a terminal (a CI
 * log; a terminal gets the command's own in-place line, if any).
 */
void progress_start(struct progress *p, double now, bool quiet);

/* Is a line due at now? Then the next is due PROGRESS_INTERVAL later. */
bool progress_due(struct progress *p, double now);

#endif

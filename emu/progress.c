/* progress.c - the periodic progress line of long runs (fuzz, replay of many traces), and their clock. */
#include "config.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "options.h"
#include "progress.h"

double
progress_now(void)
{
	static double fake;
	static int stepping = -1;
	static double step;
	struct timespec ts;

	if (stepping < 0) {
		const char *s = getenv("VSOCKEMU_TEST_CLOCK_STEP");
		uint64_t ms;

		/* Milliseconds, so no float parsing: at most a day a call. */
		stepping = s != NULL && opt_u64(s, 86400000, &ms) == 0;
		step = stepping ? (double)ms / 1000 : 0;
	}
	if (stepping)
		return fake += step;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
progress_start(struct progress *p, double now, bool quiet)
{
	p->on = !quiet && !isatty(2);
	p->next = now + PROGRESS_INTERVAL;
}

bool
progress_due(struct progress *p, double now)
{
	if (!p->on || now < p->next)
		return false;
	/* A slow step may span several intervals: one line, then on time. */
	while (p->next <= now)
		p->next += PROGRESS_INTERVAL;
	return true;
}

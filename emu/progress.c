/* progress.c - the periodic progress line of long runs (fuzz, replay of many traces, serve and vhost-user with -v), and their clock. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "device.h"
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
	p->interval = PROGRESS_INTERVAL;
	p->next = now + p->interval;
}

void
progress_start_live(struct progress *p, double now, bool verbose,
    double interval)
{
	p->on = verbose && !isatty(2);
	p->interval = interval;
	p->next = now + interval;
}

bool
progress_due(struct progress *p, double now)
{
	if (!p->on || now < p->next)
		return false;
	/* A slow step may span several intervals: one line, then on time. */
	while (p->next <= now)
		p->next += p->interval;
	return true;
}

uint64_t
progress_deadline_ns(const struct progress *p)
{
	if (!p->on)
		return UINT64_MAX;
	/* One past, so the loop never wakes a rounding error too early. */
	return (uint64_t)(p->next * 1e9) + 1;
}

int
progress_option(const char *arg, double *seconds, const char **why)
{
	uint64_t ms;

	/* Milliseconds, so no float parsing; at most a day. */
	if (opt_u64(arg, 86400000, &ms) < 0 || ms == 0) {
		*why = "want milliseconds from 1 to 86400000";
		return -1;
	}
	*seconds = (double)ms / 1000;
	return 0;
}

void
progress_say_alive(struct progress *p, const char *cmd,
    const struct vsock_device *dev, double start, uint64_t now_ns)
{
	const struct vsock_device_stats *d;
	double now = (double)now_ns / 1e9;

	if (!progress_due(p, now))
		return;
	if (dev == NULL) {
		fprintf(stderr, "vsockemu %s: %.0f s: no front-end\n", cmd,
		    now - start);
		return;
	}
	d = vsock_device_stats(dev);
	fprintf(stderr, "vsockemu %s: %.0f s: connections %u open, %llu "
	    "total, bytes %llu to host, %llu to guest\n", cmd, now - start,
	    vsock_device_nconns(dev), (unsigned long long)d->conns_opened,
	    (unsigned long long)d->g2h_bytes,
	    (unsigned long long)d->h2g_bytes);
}

/* progress.h - the periodic progress line of long runs (fuzz, replay of many traces, serve and vhost-user with -v), and their clock. */
#ifndef VSOCKEMU_PROGRESS_H
#define VSOCKEMU_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vsock_device;

/* Seconds between two progress lines. */
#define PROGRESS_INTERVAL 10.0

/* The long option of a command whose interval can be set. */
#define PROGRESS_OPT_INTERVAL	0x210
#define PROGRESS_LONG \
	{ "progress-interval", required_argument, NULL, \
	    PROGRESS_OPT_INTERVAL }

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
	double interval;	/* seconds between lines */
};

/*
 * Starts at now: on when not quiet and stderr is not a terminal (a CI
 * log; a terminal gets the command's own in-place line, if any).
 */
void progress_start(struct progress *p, double now, bool quiet);

/*
 * A service's liveness line (serve, vhost-user): on with -v when stderr
 * is not a terminal, every interval seconds from now.
 */
void progress_start_live(struct progress *p, double now, bool verbose,
    double interval);

/* Is a line due at now? Then the next is due one interval later. */
bool progress_due(struct progress *p, double now);

/* When the next line is due, in loop_now() nanoseconds; UINT64_MAX: never. */
uint64_t progress_deadline_ns(const struct progress *p);

/*
 * --progress-interval MS (1 to 86400000): 0 with *seconds set, or -1
 * with why set for the usage message.
 */
int progress_option(const char *arg, double *seconds, const char **why);

/*
 * Prints a service's liveness line on stderr if one is due at now_ns
 * (loop_now()), start seconds being when it began: "vsockemu CMD: N s:
 * connections O open, T total, bytes G to host, H to guest", or "N s: no
 * front-end" for dev NULL.
 */
void progress_say_alive(struct progress *p, const char *cmd,
    const struct vsock_device *dev, double start, uint64_t now_ns);

#endif

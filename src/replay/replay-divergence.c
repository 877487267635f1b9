/* replay-divergence.c - filling in a divergence report, the one way both replay engines do it. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "replay-divergence.h"

void
replay_div_set(struct replay_divergence *d, uint64_t frame,
    const char *field, const char *expected, const char *actual,
    const char *fmt, va_list ap)
{
	memset(d, 0, sizeof(*d));
	d->frame = frame;
	snprintf(d->field, sizeof(d->field), "%s", field);
	snprintf(d->expected, sizeof(d->expected), "%s", expected);
	snprintf(d->actual, sizeof(d->actual), "%s", actual);
	vsnprintf(d->what, sizeof(d->what), fmt, ap);
}

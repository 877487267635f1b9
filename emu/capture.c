/* capture.c - tap records to a pcap file for serve and vhost-user; a failed write stops the capture with one message. */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "capture.h"
#include "loop.h"

/* Opens the writer and notes how far wall time is from the loop's clock. */
int
capture_open(struct capture *c, const char *cmd, const char *path,
    char *err, size_t errlen)
{
	struct timespec wall;

	c->cmd = cmd;
	c->path = path;
	if (vsock_pcap_writer_open(path, &c->w, err, errlen) < 0)
		return -1;
	clock_gettime(CLOCK_REALTIME, &wall);
	c->epoch = (uint64_t)wall.tv_sec * 1000000000u +
	    (uint64_t)wall.tv_nsec - loop_now();
	return 0;
}

/* Reports the writer's sticky error once and lets the capture go. */
static void
capture_stop(struct capture *c)
{
	const char *why;

	vsock_pcap_writer_error(c->w, &why);
	fprintf(stderr, "vsockemu %s: %s; capture stopped, serving goes on\n",
	    c->cmd, why);
	(void)vsock_pcap_writer_close(c->w);	/* its error is the one above */
	c->w = NULL;
}

/* One tapped packet, in wall-clock time, while the capture lives. */
void
capture_tap(void *ctx, const struct vsock_tap_record *rec)
{
	struct capture *c = ctx;
	struct vsock_tap_record r;

	if (c->w == NULL)
		return;
	r = *rec;
	r.now += c->epoch;
	if (vsock_pcap_writer_write(c->w, &r) < 0)
		capture_stop(c);
}

/* The end of the capture; a failure this late is said here. */
void
capture_close(struct capture *c)
{
	if (c->w != NULL && vsock_pcap_writer_close(c->w) < 0)
		fprintf(stderr, "vsockemu %s: %s: capture incomplete (its last "
		    "records could not be written)\n", c->cmd, c->path);
	c->w = NULL;
}

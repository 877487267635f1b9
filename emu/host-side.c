/* host-side.c - the muxer on the program's loop and a device on the muxer, for serve and vhost-user alike. */
#include "config.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "host-side.h"

/* A muxer fd has events: the loop reports, the muxer handles. */
static void
on_muxer_fd(void *ctx, int fd, unsigned events, uint64_t now)
{
	struct host_side *h = ctx;

	muxer_handle(h->mx, fd, events, now);
}

/* The muxer asks for fd to be watched (or no longer: events 0). */
static void
on_muxer_watch(void *ctx, int fd, unsigned events)
{
	struct host_side *h = ctx;

	loop_watch(h->loop, fd, events, on_muxer_fd, h);
}

int
host_side_open(struct host_side *h, struct loop *loop,
    const struct muxer_config *mc, char *err, size_t errlen)
{
	h->loop = loop;
	h->mx = NULL;
	return muxer_new(mc, on_muxer_watch, h, &h->mx, err, errlen) < 0 ?
	    -1 : 0;
}

/*
 * A seed for the device's connection table that the guest cannot know:
 * with the public default a guest can choose ports whose pairs share one
 * slot (conntab.c). getrandom() without blocking; should the kernel's
 * pool not be ready this early in boot, the time and the pid still make it
 * one the guest has to guess. Never 0 (0 asks for the public seed).
 */
static uint64_t
random_hash_seed(void)
{
	struct timespec ts;
	uint64_t s = 0;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
		    ((uint64_t)getpid() << 16);
	}
	return s != 0 ? s : 1;
}

int
host_device_new(struct host_side *h, const struct host_device_opts *o,
    struct capture *cap, struct vsock_device **out, const char **why)
{
	struct vsock_device_config dc;
	int e;

	vsock_device_config_defaults(&dc);
	dc.guest_cid = o->cid;
	dc.profile = o->profile;
	dc.seqpacket = o->seqpacket;
	dc.max_conns = o->max_conns;
	dc.hash_seed = random_hash_seed();
	if (event_log_active(o->events)) {
		dc.on_event = event_log_device;
		dc.event_ctx = o->events;
	}
	if ((e = vsock_device_new(&dc, &muxer_backend_ops, h->mx, out,
	    why)) < 0)
		return e;
	muxer_attach(h->mx, *out);
	if (cap != NULL && cap->w != NULL)
		vsock_device_set_tap(*out, capture_tap, cap);
	return 0;
}

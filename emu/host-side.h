/* host-side.h - what serve and vhost-user share: the muxer on the program's loop, and a device on that muxer. */
#ifndef VSOCKEMU_HOST_SIDE_H
#define VSOCKEMU_HOST_SIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend-muxer.h"
#include "capture.h"
#include "event-log.h"
#include "device.h"
#include "loop.h"

/* The muxer and the loop that watches its fds. */
struct host_side {
	struct loop *loop;
	struct muxer *mx;		/* NULL until host_side_open */
};

/* The device options both commands take (--cid, --profile, ...). */
struct host_device_opts {
	uint64_t cid;
	enum vsock_profile profile;
	bool seqpacket;			/* offer VIRTIO_VSOCK_F_SEQPACKET */
	uint32_t max_conns;
	struct event_log *events;	/* --log / -v; NULL: none */
};

/*
 * Opens the muxer with mc, its fds watched by loop. Returns 0, or -1 with
 * one line in err.
 */
int host_side_open(struct host_side *h, struct loop *loop,
    const struct muxer_config *mc, char *err, size_t errlen);

/*
 * A device for o, backed by h's muxer and tapped into cap when cap has a
 * writer. Returns 0, or a -VSE_ERR_* code with *why set when the
 * configuration is the reason.
 */
int host_device_new(struct host_side *h, const struct host_device_opts *o,
    struct capture *cap, struct vsock_device **out, const char **why);

#endif

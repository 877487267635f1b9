/* vhu-control.h - vhost-user's --control commands: what a back-end can do to a real guest's connections (doc/faults.md). */
#ifndef VSOCKEMU_VHU_CONTROL_H
#define VSOCKEMU_VHU_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "backend-muxer.h"
#include "control.h"
#include "device.h"
#include "loop.h"

/* What the commands act on; the device comes and goes with the front-end. */
struct vhu_control {
	struct control *ctl;		/* NULL: no --control */
	struct vsock_device *const *dev;	/* NULL while no front-end */
	struct muxer *mx;		/* may be NULL (tests) */
};

/*
 * Opens the control socket on path (NULL: none). *dev is read at each
 * command. Returns 0, or -1 with one line in err.
 */
int vhu_control_open(struct vhu_control *vc, struct loop *loop,
    const char *path, struct vsock_device *const *dev, struct muxer *mx,
    char *err, size_t errlen);

/* Closes it and removes its socket file. */
void vhu_control_close(struct vhu_control *vc);

/* Does one command (control_apply_fn; ctx is the vhu_control). */
int vhu_control_apply(void *ctx, const struct control_cmd *cmd,
    struct control_json *out, const char **why);

/*
 * The device resets its established connections whose host or guest port
 * is port (every one when all): RST to the guest, the host socket closed.
 * Returns how many.
 */
unsigned vhu_control_reset_conns(struct vsock_device *dev, uint32_t port,
    bool all, uint64_t now);

#endif

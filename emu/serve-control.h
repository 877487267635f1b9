/* serve-control.h - serve's --control commands: what each does to the simulated guest and the device. */
#ifndef VSOCKEMU_SERVE_CONTROL_H
#define VSOCKEMU_SERVE_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "control.h"
#include "device.h"
#include "guest-apps.h"
#include "guest-thread.h"
#include "loop.h"
#include "vsock.h"

/* What the commands act on; all outlive the control socket. */
struct serve_control {
	struct control *ctl;		/* NULL: no --control */
	struct vsock_device *dev;
	struct fg_vsock *vs;
	struct gapps *apps;
	/* --guest-thread: vs and apps are G's; each command holds its lock. */
	struct guest_thread *gt;
	uint64_t transport_resets;	/* reset commands done */
};

/*
 * Opens the control socket on path (NULL: none) for the guest vs with
 * its services apps on dev. Returns 0, or -1 with one line in err.
 */
int serve_control_open(struct serve_control *sc, struct loop *loop,
    const char *path, struct vsock_device *dev, struct fg_vsock *vs,
    struct gapps *apps, char *err, size_t errlen);

/* Closes it and removes its socket file. */
void serve_control_close(struct serve_control *sc);

/* Does one command (control_apply_fn; ctx is the serve_control). */
int serve_control_apply(void *ctx, const struct control_cmd *cmd,
    struct control_json *out, const char **why);

#endif

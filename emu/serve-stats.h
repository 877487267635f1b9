/* serve-stats.h - the live counters of `serve`, in one place for every reporter (SIGUSR1 today). */
#ifndef VSOCKEMU_SERVE_STATS_H
#define VSOCKEMU_SERVE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "guest-apps.h"
#include "vsock.h"

/* What serve holds right now; a leak shows as a count that never falls. */
struct serve_counters {
	unsigned guest_sockets;		/* guest stack: open, lingering, unaccepted */
	unsigned guest_apps;		/* guest services' connections */
	unsigned device_conns;		/* the device's connection table */
	uint64_t conns_opened;		/* connections the device ever made */
};

/* Reads the counters from the guest stack, its services and the device. */
void serve_counters_get(const struct fg_vsock *vs, const struct gapps *apps,
    const struct vsock_device *dev, struct serve_counters *out);

/*
 * One line, "stats guest_sockets=N guest_apps=N device_conns=N
 * conns_opened=N" (no newline), as snprintf: the length it needed.
 */
int serve_counters_format(const struct serve_counters *c, char *buf,
    size_t len);

#endif

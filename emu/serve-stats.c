/* serve-stats.c - the live counters of `serve` and their one-line form. */
#include "config.h"

#include <stdio.h>

#include "serve-stats.h"

void
serve_counters_get(const struct fg_vsock *vs, const struct gapps *apps,
    const struct vsock_device *dev, struct serve_counters *out)
{
	out->guest_sockets = fg_vsock_socket_count(vs);
	out->guest_apps = gapps_count(apps);
	out->device_conns = vsock_device_nconns(dev);
	out->conns_opened = vsock_device_stats(dev)->conns_opened;
}

int
serve_counters_format(const struct serve_counters *c, char *buf, size_t len)
{
	return snprintf(buf, len, "stats guest_sockets=%u guest_apps=%u "
	    "device_conns=%u conns_opened=%llu", c->guest_sockets,
	    c->guest_apps, c->device_conns,
	    (unsigned long long)c->conns_opened);
}

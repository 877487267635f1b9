/* vhu-control.c - vhost-user's --control commands: counters and device-side resets; the guest-side faults a back-end cannot commit are refused with the reason. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "device-info.h"
#include "vhu-control.h"

int
vhu_control_open(struct vhu_control *vc, struct loop *loop,
    const char *path, struct vsock_device *const *dev, struct muxer *mx,
    char *err, size_t errlen)
{
	memset(vc, 0, sizeof(*vc));
	vc->dev = dev;
	vc->mx = mx;
	if (path == NULL)
		return 0;
	return control_open(loop, path, vhu_control_apply, vc, &vc->ctl, err,
	    errlen);
}

void
vhu_control_close(struct vhu_control *vc)
{
	control_free(vc->ctl);
	vc->ctl = NULL;
}

/* The port pairs of the established connections a reset covers. */
struct reset_pick {
	uint32_t port;
	bool all;
	uint32_t (*pairs)[2];		/* local, peer */
	unsigned n, cap;
};

static int
pick(void *ctx, const struct vsock_conn *c)
{
	struct reset_pick *p = ctx;
	struct vsock_conn_info i;

	vsock_conn_get_info(c, &i);
	if (i.state != VSOCK_CONN_ESTABLISHED || p->n == p->cap ||
	    (!p->all && i.local_port != p->port && i.peer_port != p->port))
		return 0;
	p->pairs[p->n][0] = i.local_port;
	p->pairs[p->n][1] = i.peer_port;
	p->n++;
	return 0;
}

/* Finds the connection of one port pair again. */
struct find_pair {
	uint32_t local, peer;
	const struct vsock_conn *found;
};

static int
find(void *ctx, const struct vsock_conn *c)
{
	struct find_pair *f = ctx;

	if (vsock_conn_local_port(c) != f->local ||
	    vsock_conn_peer_port(c) != f->peer)
		return 0;
	f->found = c;
	return 1;
}

/*
 * Picks first, then resets each by its port pair, looked up again: a
 * reset runs the device, whose timers may end other connections, so no
 * pointer is kept across one. VSOCK_HOST_ABORT is the device's own
 * "reset this connection" (RST, host socket closed).
 */
unsigned
vhu_control_reset_conns(struct vsock_device *dev, uint32_t port, bool all,
    uint64_t now)
{
	struct reset_pick p = { .port = port, .all = all };
	struct find_pair f;
	unsigned i, n = 0;

	p.cap = vsock_device_nconns(dev);
	if (p.cap == 0 || (p.pairs = calloc(p.cap, sizeof(*p.pairs))) == NULL)
		return 0;
	vsock_device_foreach_conn(dev, pick, &p);
	for (i = 0; i < p.n; i++) {
		f = (struct find_pair){ p.pairs[i][0], p.pairs[i][1], NULL };
		if (vsock_device_foreach_conn(dev, find, &f) == 0)
			continue;
		vsock_device_host_event(dev, (struct vsock_conn *)f.found,
		    VSOCK_HOST_ABORT, now);
		n++;
	}
	free(p.pairs);
	return n;
}

/* stats: the device's totals (when a front-end is there) and the muxer's. */
static void
do_stats(struct vhu_control *vc, struct control_json *out)
{
	struct vsock_device *dev = *vc->dev;
	const struct vsock_device_stats *d;

	control_json_bool(out, "frontend", dev != NULL);
	if (dev != NULL) {
		d = vsock_device_stats(dev);
		control_json_u64(out, "connections", vsock_device_nconns(dev));
		control_json_u64(out, "conns_opened", d->conns_opened);
		control_json_u64(out, "conns_closed", d->conns_closed);
		control_json_u64(out, "g2h_bytes", d->g2h_bytes);
		control_json_u64(out, "h2g_bytes", d->h2g_bytes);
		control_json_u64(out, "g2h_packets", d->g2h_packets);
		control_json_u64(out, "h2g_packets", d->h2g_packets);
		control_json_u64(out, "rst_sent", d->rst_sent);
	}
	if (vc->mx != NULL) {
		control_json_u64(out, "host_accepted",
		    muxer_stats(vc->mx)->accepted);
		control_json_u64(out, "host_connects",
		    muxer_stats(vc->mx)->host_connects);
	}
}

int
vhu_control_apply(void *ctx, const struct control_cmd *cmd,
    struct control_json *out, const char **why)
{
	struct vhu_control *vc = ctx;

	switch (cmd->op) {
	case CONTROL_STATS:
		do_stats(vc, out);
		return 0;
	case CONTROL_RST:
		if (*vc->dev == NULL) {
			*why = "no front-end attached";
			return -1;
		}
		control_json_u64(out, "reset", vhu_control_reset_conns(*vc->dev,
		    cmd->port, cmd->all, loop_now()));
		return 0;
	case CONTROL_RESET:
		*why = "not possible with vhost-user: QEMU owns the event queue "
		    "and the guest reads its CID only on TRANSPORT_RESET "
		    "(doc/faults.md); rst all resets every connection";
		return -1;
	case CONTROL_REFUSE:
	case CONTROL_ACCEPT:
	case CONTROL_DELAY:
	case CONTROL_PAUSE_RX:
	case CONTROL_RESUME_RX:
		*why = "the real guest's kernel does this, not the back-end "
		    "(doc/faults.md); serve's simulated guest can";
		return -1;
	}
	*why = "unknown command";
	return -1;
}

/* serve-control.c - serve's --control commands: transport reset, refused and held connects, resets, RX back-pressure, counters. */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "faults.h"
#include "serve-control.h"
#include "serve-stats.h"

int
serve_control_open(struct serve_control *sc, struct loop *loop,
    const char *path, struct vsock_device *dev, struct fg_vsock *vs,
    struct gapps *apps, char *err, size_t errlen)
{
	memset(sc, 0, sizeof(*sc));
	sc->dev = dev;
	sc->vs = vs;
	sc->apps = apps;
	if (path == NULL)
		return 0;
	return control_open(loop, path, serve_control_apply, sc, &sc->ctl,
	    err, errlen);
}

void
serve_control_close(struct serve_control *sc)
{
	control_free(sc->ctl);
	sc->ctl = NULL;
}

/* The guest CID config space says now. */
static uint64_t
config_cid(const struct vsock_device *dev)
{
	uint8_t cfg[8];
	uint64_t cid;

	vsock_device_get_config(dev, cfg);
	memcpy(&cid, cfg, sizeof(cid));
	return le64toh(cid);
}

/*
 * reset [cid=N]: TRANSPORT_RESET on the event queue, the CID changed first
 * when asked, as Firecracker does after restoring a snapshot
 * (vsock_device_transport_reset_cid). The device drops every connection
 * without a packet, so their host sockets close; the guest resets its
 * connected sockets when it takes the event (Linux
 * virtio_vsock_event_handle -> virtio_vsock_reset_sock).
 */
static int
do_reset(struct serve_control *sc, const struct control_cmd *cmd,
    struct control_json *out)
{
	unsigned dropped = vsock_device_nconns(sc->dev);
	uint64_t now = loop_now();

	if (cmd->has_cid)
		vsock_device_transport_reset_cid(sc->dev, cmd->cid, now);
	else
		vsock_device_transport_reset(sc->dev, now);
	sc->transport_resets++;
	control_json_u64(out, "cid", config_cid(sc->dev));
	control_json_u64(out, "conns_dropped", dropped);
	return 0;
}

/* refuse / accept / delay PORT: what the guest does with new connects. */
static int
do_port_fault(struct serve_control *sc, const struct control_cmd *cmd,
    struct control_json *out, const char **why)
{
	enum fg_port_fault f = FG_FAULT_NONE;

	if (cmd->op == CONTROL_REFUSE)
		f = FG_FAULT_REFUSE;
	else if (cmd->op == CONTROL_DELAY && cmd->ms > 0)
		f = FG_FAULT_DELAY;
	if (fg_fault_set_port(sc->vs, cmd->port, f, cmd->ms) < 0) {
		*why = "too many ports with a fault (64); accept PORT clears one";
		return -1;
	}
	control_json_u64(out, "port", cmd->port);
	if (cmd->op == CONTROL_DELAY)
		control_json_u64(out, "ms", cmd->ms);
	return 0;
}

/* stats: serve's live counters (serve-stats.c) and the device's totals. */
static void
do_stats(struct serve_control *sc, struct control_json *out)
{
	const struct vsock_device_stats *d = vsock_device_stats(sc->dev);
	const struct fg_vsock_stats *g = fg_vsock_stats(sc->vs);
	struct serve_counters c;

	serve_counters_get(sc->vs, sc->apps, sc->dev, &c);
	control_json_u64(out, "cid", config_cid(sc->dev));
	control_json_u64(out, "connections", c.device_conns);
	control_json_u64(out, "conns_opened", c.conns_opened);
	control_json_u64(out, "conns_closed", d->conns_closed);
	control_json_u64(out, "guest_sockets", c.guest_sockets);
	control_json_u64(out, "guest_apps", c.guest_apps);
	control_json_u64(out, "g2h_bytes", d->g2h_bytes);
	control_json_u64(out, "h2g_bytes", d->h2g_bytes);
	control_json_u64(out, "g2h_packets", d->g2h_packets);
	control_json_u64(out, "h2g_packets", d->h2g_packets);
	control_json_u64(out, "rst_sent", d->rst_sent);
	control_json_u64(out, "guest_rst_sent",
	    g->tx_pkts[VIRTIO_VSOCK_OP_RST]);
	control_json_u64(out, "transport_resets", sc->transport_resets);
	control_json_u64(out, "guest_transport_resets", g->transport_resets);
	control_json_bool(out, "rx_paused", fg_fault_rx_paused(sc->vs));
	control_json_u64(out, "rx_buffers_posted", fg_fault_rx_posted(sc->vs));
}

/* One command, the guest stopped (or on this thread). */
static int
apply_locked(struct serve_control *sc, const struct control_cmd *cmd,
    struct control_json *out, const char **why)
{
	switch (cmd->op) {
	case CONTROL_RESET:
		return do_reset(sc, cmd, out);
	case CONTROL_REFUSE:
	case CONTROL_ACCEPT:
	case CONTROL_DELAY:
		return do_port_fault(sc, cmd, out, why);
	case CONTROL_RST:
		control_json_u64(out, "reset",
		    fg_fault_reset(sc->vs, cmd->port, cmd->all));
		return 0;
	case CONTROL_PAUSE_RX:
	case CONTROL_RESUME_RX:
		fg_fault_pause_rx(sc->vs, cmd->op == CONTROL_PAUSE_RX);
		return 0;
	case CONTROL_STATS:
		do_stats(sc, out);
		return 0;
	}
	*why = "unknown command";
	return -1;
}

int
serve_control_apply(void *ctx, const struct control_cmd *cmd,
    struct control_json *out, const char **why)
{
	struct serve_control *sc = ctx;
	int r;

	/*
	 * With the guest on its own thread, stop it for the command, as a
	 * VM's monitor does its vCPUs: every command reads or changes the
	 * guest's sockets, and reset's new CID is read by the guest.
	 */
	if (sc->gt != NULL)
		guest_thread_lock(sc->gt);
	r = apply_locked(sc, cmd, out, why);
	if (sc->gt != NULL)
		guest_thread_unlock(sc->gt);
	return r;
}

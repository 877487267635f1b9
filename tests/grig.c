/* grig.c - the guest rig: guest stack + device + scripted host, driven by flags and virtual time. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "flight.h"
#include "grig.h"
#include "queues.h"

/* Guest RAM: rings, RX pools of up to 64 KiB buffers and TX slots fit. */
#define GRIG_MEM_SIZE	(UINT64_C(96) << 20)

void
grig_config_defaults(struct grig_config *c)
{
	memset(c, 0, sizeof(*c));
	c->profile = VSOCK_PROFILE_FIRECRACKER;
	c->tx_layout = FG_TX_LINEAR;
	c->tx_frag_size = 4096;
	c->rx_buf_size = VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE;
	c->qsize = 128;
	c->max_socks = 256;
	c->tx_slots = 32;
}

/* The guest wrote to a queue's notify register: remember, act later. */
static void
on_kick(void *ctx, unsigned q)
{
	struct grig *g = ctx;

	(void)q;	/* the device looks at every queue on any kick */
	g->kick = true;
	g->kicks++;
}

/* The guest driver reads the device's config space. */
static void
on_read_config(void *ctx, uint8_t cfg[8])
{
	vsock_device_get_config(((struct grig *)ctx)->dev, cfg);
}

/* The device raised the guest's interrupt. */
static void
on_irq(void *ctx, unsigned q)
{
	struct grig *g = ctx;

	(void)q;	/* the guest's handler polls all three queues */
	g->irq = true;
	g->irqs++;
}

/* Remembers the header of every packet crossing the device. */
static void
on_tap(void *ctx, const struct vsock_tap_record *rec)
{
	struct grig *g = ctx;
	struct grig_trace *t = &g->trace[g->npackets++ % GRIG_TRACE];

	t->dir = rec->dir;
	t->hdr = rec->hdr;
	if (g->flight != NULL)
		flight_tap(g->flight, rec);
}

/* The last packets as text, oldest first, for a failure message. */
static const char *
trace_text(const struct grig *g, char *buf, size_t len)
{
	const struct grig_trace *t;
	uint64_t i = g->npackets > GRIG_TRACE ? g->npackets - GRIG_TRACE : 0;
	size_t at = 0;

	buf[0] = '\0';
	for (; i < g->npackets && at < len; i++) {
		t = &g->trace[i % GRIG_TRACE];
		at += (size_t)snprintf(buf + at, len - at, "\n  %s %s "
		    "%u->%u len %u flags %u buf_alloc %u fwd_cnt %u",
		    t->dir == VSOCK_TAP_GUEST_TO_HOST ? "g>h" : "h>g",
		    vsock_op_name(t->hdr.op), t->hdr.src_port, t->hdr.dst_port,
		    t->hdr.len, t->hdr.flags, t->hdr.buf_alloc, t->hdr.fwd_cnt);
	}
	return buf;
}

/* The device, over a scripted host application. */
static void
build_device(struct grig *g)
{
	struct vsock_device_config dc;
	const char *why = NULL;
	int e;

	vsock_device_config_defaults(&dc);
	dc.guest_cid = GRIG_GUEST_CID;
	dc.profile = g->cfg.profile;
	dc.seqpacket = g->cfg.seqpacket;
	if (g->cfg.max_conns != 0)
		dc.max_conns = g->cfg.max_conns;
	script_init(&g->sb);
	e = vsock_device_new(&dc, &script_backend_ops, &g->sb, &g->dev, &why);
	ck_assert_msg(e == 0, "vsock_device_new: %s", why ? why : "?");
	script_attach(&g->sb, g->dev);
	g->flight = flight_open();
	vsock_device_set_notify(g->dev, on_irq, g);
	vsock_device_set_tap(g->dev, on_tap, g);
}

/* The guest stack, acking every feature the device offers (as Linux would). */
static void
build_guest(struct grig *g)
{
	struct fg_vsock_config gc;
	const struct fg_ring *r;
	unsigned q;

	fg_vsock_config_defaults(&gc);
	gc.guest_cid = GRIG_GUEST_CID;
	gc.features = vsock_device_features(g->dev);
	for (q = 0; q < VSOCK_NUM_QUEUES; q++)
		gc.qsize[q] = g->cfg.qsize;
	gc.rx_buf_size = g->cfg.rx_buf_size;
	gc.tx_layout = g->cfg.tx_layout;
	gc.tx_frag_size = g->cfg.tx_frag_size;
	gc.tx_indirect = g->cfg.tx_indirect;
	gc.tx_slots = g->cfg.tx_slots;
	gc.max_socks = g->cfg.max_socks;
	gc.kick = on_kick;
	gc.kick_ctx = g;
	gc.read_config = on_read_config;
	gc.config_ctx = g;
	ck_assert_err(vsock_device_set_features(g->dev, gc.features), 0);
	ck_assert_err(fg_mem_init_simple(&g->mem, GRIG_MEM_SIZE), 0);
	ck_assert_err(fg_vsock_new(&g->mem, &gc, &g->vs), 0);
	for (q = 0; q < VSOCK_NUM_QUEUES; q++) {
		r = fg_vsock_ring(g->vs, q);
		ck_assert_err(fg_ring_bind(g->dev, &g->mem, q, r), 0);
	}
}

struct grig *
grig_new_cfg(const struct grig_config *c)
{
	struct grig *g = calloc(1, sizeof(*g));

	ck_assert_ptr_nonnull(g);
	g->cfg = *c;
	build_device(g);
	build_guest(g);
	/* DRIVER_OK: the guest posts its buffers and kicks. */
	fg_vsock_start(g->vs);
	grig_settle(g, 0);
	return g;
}

struct grig *
grig_new(void)
{
	struct grig_config c;

	grig_config_defaults(&c);
	return grig_new_cfg(&c);
}

void
grig_free(struct grig *g)
{
	grig_check(g);
	flight_close(g->flight);
	/* Device first: it releases connections into the script backend. */
	vsock_device_free(g->dev);
	script_free(&g->sb);
	fg_vsock_free(g->vs);
	fg_mem_destroy(&g->mem);
	free(g);
}

void
grig_check(struct grig *g)
{
	const char *why = fg_vsock_violation(g->vs);
	unsigned q;

	ck_assert_msg(why == NULL, "the device violated the protocol: %s",
	    why);
	for (q = 0; q < VSOCK_NUM_QUEUES; q++)
		ck_assert_msg(!virtq_is_broken(vsock_device_queue(g->dev, q)),
		    "device queue %u is broken (%s): the guest broke a ring "
		    "rule", q, vse_errname(vsock_device_queue(g->dev, q)->broken));
}

/* Does either side have a timer due by the rig's now? */
static bool
timer_due(const struct grig *g, bool *dev_due)
{
	*dev_due = vsock_device_next_deadline(g->dev) <= g->now;
	return *dev_due || fg_vsock_next_deadline(g->vs) <= g->now;
}

/*
 * One event-loop round: due timers, then the kick and the interrupt that
 * were raised. Returns whether anything ran.
 */
static bool
settle_round(struct grig *g)
{
	bool moved = false, dev_due;

	if (timer_due(g, &dev_due)) {
		if (dev_due)
			vsock_device_run(g->dev, g->now);
		else
			fg_vsock_poll(g->vs, g->now);
		moved = true;
	}
	if (g->kick) {
		g->kick = false;
		vsock_device_kick(g->dev, VSOCK_QUEUE_TX, g->now);
		moved = true;
	}
	if (g->irq) {
		g->irq = false;
		fg_vsock_poll(g->vs, g->now);
		moved = true;
	}
	return moved;
}

void
grig_settle(struct grig *g, uint64_t now)
{
	char text[GRIG_TRACE * 100];
	unsigned rounds = 0;

	if (now > g->now)
		g->now = now;
	while (settle_round(g)) {
		/* Work that never runs out is two sides ping-ponging. */
		if (++rounds < GRIG_MAX_ROUNDS)
			continue;
		ck_abort_msg("no quiescence after %u rounds at t=%llu ns: a "
		    "busy loop; last packets:%s", rounds,
		    (unsigned long long)g->now, trace_text(g, text,
		    sizeof(text)));
	}
	g->last_rounds = rounds;
	grig_check(g);
}

/* The earlier of the two sides' next deadlines. */
static uint64_t
next_deadline(const struct grig *g)
{
	uint64_t d = vsock_device_next_deadline(g->dev);
	uint64_t v = fg_vsock_next_deadline(g->vs);

	return d < v ? d : v;
}

void
grig_advance(struct grig *g, uint64_t ns)
{
	uint64_t target = g->now + ns, next;

	/* After a settle nothing is due at now, so next moves forward. */
	while ((next = next_deadline(g)) <= target)
		grig_settle(g, next);
	grig_settle(g, target);
}

int
grig_listen(struct grig *g, uint16_t type, uint32_t port, int backlog)
{
	int fd = fg_sock_open(g->vs, type);

	ck_assert_int_ge(fd, 0);
	ck_assert_err(fg_sock_bind(g->vs, fd, port), 0);
	ck_assert_err(fg_sock_listen(g->vs, fd, backlog), 0);
	return fd;
}

int
grig_connect(struct grig *g, uint16_t type, uint32_t port)
{
	int fd = fg_sock_open(g->vs, type);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fg_sock_connect(g->vs, fd, VMADDR_CID_HOST, port,
	    g->now), -EINPROGRESS);
	grig_settle(g, g->now);
	return fd;
}

uint32_t
grig_local_port(struct grig *g, int fd)
{
	struct fg_sock_info i;

	ck_assert_err(fg_sock_info(g->vs, fd, &i), 0);
	return i.local_port;
}

struct script_conn *
grig_host_end(struct grig *g, int fd)
{
	struct fg_sock_info i;
	struct script_conn *sc;

	ck_assert_err(fg_sock_info(g->vs, fd, &i), 0);
	sc = script_find(&g->sb, i.peer_port, i.local_port);
	ck_assert_msg(sc != NULL, "no host end for guest port %u <-> %u",
	    i.local_port, i.peer_port);
	return sc;
}

int
grig_host_connect(struct grig *g, uint16_t type, uint32_t port,
    struct script_conn **out)
{
	int e = script_connect(&g->sb, port, type, g->now, out);

	grig_settle(g, g->now);
	return e;
}

void
grig_send_all(struct grig *g, int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t off = 0;
	bool stalled = false;
	ssize_t n;

	while (off < len) {
		n = fg_sock_send(g->vs, fd, p + off, len - off, 0);
		if (n > 0) {
			off += (size_t)n;
			stalled = false;
			continue;
		}
		ck_assert_msg(n == -EAGAIN, "send: %zd at %zu of %zu", n, off,
		    len);
		/* Blocked right after a settle: nothing will unblock it. */
		ck_assert_msg(!stalled, "send stalled at %zu of %zu", off, len);
		grig_settle(g, g->now);
		stalled = true;
	}
	grig_settle(g, g->now);
}

void
grig_recv_all(struct grig *g, int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t off = 0;
	bool stalled = false;
	ssize_t n;

	while (off < len) {
		n = fg_sock_recv(g->vs, fd, p + off, len - off, NULL);
		if (n > 0) {
			off += (size_t)n;
			stalled = false;
			continue;
		}
		ck_assert_msg(n == -EAGAIN, "recv: %zd at %zu of %zu", n, off,
		    len);
		ck_assert_msg(!stalled, "recv stalled at %zu of %zu", off, len);
		grig_settle(g, g->now);
		stalled = true;
	}
	grig_settle(g, g->now);
}

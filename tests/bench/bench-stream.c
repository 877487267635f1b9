/* bench-stream.c - the full path (fake guest, device, muxer, a real AF_UNIX socket) against a socketpair. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend-muxer.h"
#include "bench.h"
#include "common.h"
#include "guest-thread.h"
#include "queues.h"
#include "sim-guest.h"
#include "sock.h"
#include "vsock.h"

/* The rig: guest stack and device in this process, the host end a real socket. */
struct full {
	struct fg_mem mem;
	struct fg_vsock *vs;
	struct vsock_device *dev;
	struct muxer *mx;
	int ep;			/* epoll set of the muxer's fds */
	struct sim_guest_signals sig;	/* noted kick and interrupt, as serve's */
	char dir[48], path[64];
	int lfd;		/* host listener on PATH_5000 */
	int gfd;		/* guest socket */
	int hfd;		/* host socket */
	struct guest_thread *gt;	/* the guest on its own thread, or NULL */
	bool g_running;		/* gt started: the guest is not ours to poll */
	int hdone_fd;		/* the host thread is done (eventfd), or -1 */
};

/* Knobs of the full path. */
struct full_knobs {
	uint32_t rx_buf;		/* guest RX buffer payload */
	enum vsock_profile profile;
	unsigned conns;			/* guest sockets the rig may open */
	bool thread;			/* the guest on its own thread */
	bool tx_aligned;		/* the TX payload on a cache line */
};

/* The muxer asks to watch fd for events (0: stop): one epoll_ctl, no scan. */
static void
f_watch(void *ctx, int fd, unsigned events)
{
	struct full *f = ctx;
	struct epoll_event ev = { .data.fd = fd };

	ev.events = (events & VSOCK_EV_READ ? EPOLLIN : 0) |
	    (events & VSOCK_EV_WRITE ? EPOLLOUT : 0);
	if (events == 0) {
		epoll_ctl(f->ep, EPOLL_CTL_DEL, fd, NULL);
		return;
	}
	if (epoll_ctl(f->ep, EPOLL_CTL_MOD, fd, &ev) < 0)
		epoll_ctl(f->ep, EPOLL_CTL_ADD, fd, &ev);
}

/*
 * Kicks and interrupts until both sides are quiet: in-process calls, as a
 * guest's notification reaches the device without a file descriptor.
 * serve's own code (settle in emu/cmd-serve.c); the guest's application
 * is the caller's, so no apps here. True if anything was pending.
 */
static bool
f_settle(struct full *f)
{
	return sim_guest_settle(&f->sig, f->dev, f->vs, NULL, NULL, 0);
}

/* D's sleeps in the threaded cases (epoll_wait_one). */
static uint64_t d_sleeps;

/* Sleeps until one fd of ep is ready (left ready for f_pump). */
static void
epoll_wait_one(int ep)
{
	struct epoll_event ev;

	d_sleeps++;
	while (epoll_wait(ep, &ev, 1, -1) < 0 && errno == EINTR)
		;
}

/*
 * One turn of serve's loop (cmd_serve's do-while, emu/cmd-serve.c): serve
 * settles every kick and interrupt (settle: sim_guest_deliver, gapps_run
 * until nothing moves) before it sleeps in loop_wait, so its epoll_wait
 * never runs while one is pending. Likewise here: a pending kick or
 * interrupt means the guest moved since the loop last settled; it is
 * settled and the turn ends without polling, since serve would run the
 * guest's application again (gapps_run) before it slept, and the bench
 * runs it in its caller's next step. A turn that starts with nothing
 * pending is where serve sleeps: the muxer's fds are polled (timeout 0,
 * the bench does not sleep) and handled, then, as serve does after
 * loop_wait, the device, the muxer and the guest run and settle.
 * (The guest thread's kicks come by its eventfd, never as pending.)
 */
static void
f_pump(struct full *f)
{
	struct epoll_event ev[64];
	int i, n;

	if (f_settle(f))
		return;
	n = epoll_wait(f->ep, ev, 64, 0);
	for (i = 0; i < n; i++) {
		unsigned e = 0;

		if (f->gt != NULL && ev[i].data.fd ==
		    guest_thread_kick_fd(f->gt)) {
			if (guest_thread_take_kick(f->gt))
				vsock_device_kick(f->dev, VSOCK_QUEUE_TX, 0);
			continue;
		}
		if (ev[i].data.fd == f->hfd || ev[i].data.fd == f->hdone_fd)
			continue;	/* the host application's: the caller's */

		e |= ev[i].events & EPOLLIN ? VSOCK_EV_READ : 0;
		e |= ev[i].events & EPOLLOUT ? VSOCK_EV_WRITE : 0;
		e |= ev[i].events & (EPOLLHUP | EPOLLERR) ? VSOCK_EV_HUP : 0;
		muxer_handle(f->mx, ev[i].data.fd, e, 0);
	}
	if (f->gt == NULL) {	/* serve's turn after loop_wait */
		vsock_device_run(f->dev, 0);
		muxer_run(f->mx, 0);
		fg_vsock_poll(f->vs, 0);
	} else if (!f->g_running) {
		fg_vsock_poll(f->vs, 0);	/* before the thread starts */
	}
	f_settle(f);
}

/* The bench's time stands still, as f_pump's. */
static uint64_t
zero_clock(void)
{
	return 0;
}

/* Guest stack, device and muxer; a host listener on port 5000. */
static void
full_new(struct full *f, const struct full_knobs *k)
{
	struct vsock_device_config dc;
	struct fg_vsock_config gc;
	struct muxer_config mc;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char err[256];
	unsigned q;

	memset(f, 0, sizeof(*f));
	ck_assert_int_ge(f->ep = epoll_create1(EPOLL_CLOEXEC), 0);
	strcpy(f->dir, "/tmp/vsockemu-bench-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/v.sock", f->dir);
	muxer_config_defaults(&mc);
	mc.uds_path = f->path;
	ck_assert_msg(muxer_new(&mc, f_watch, f, &f->mx, err,
	    sizeof(err)) == 0, "%s", err);
	vsock_device_config_defaults(&dc);
	dc.profile = k->profile;
	dc.max_conns = k->conns + 16;
	ck_assert_int_eq(vsock_device_new(&dc, &muxer_backend_ops, f->mx,
	    &f->dev, NULL), 0);
	muxer_attach(f->mx, f->dev);
	if (k->thread) {
		struct epoll_event ev = { .events = EPOLLIN };

		ck_assert_int_eq(guest_thread_new(zero_clock, &f->gt), 0);
		ev.data.fd = guest_thread_kick_fd(f->gt);
		ck_assert_int_eq(epoll_ctl(f->ep, EPOLL_CTL_ADD, ev.data.fd,
		    &ev), 0);
		vsock_device_set_notify(f->dev, guest_thread_irq, f->gt);
	} else {
		vsock_device_set_notify(f->dev, sim_guest_on_irq, &f->sig);
	}
	ck_assert_int_eq(fg_mem_init_simple(&f->mem, 64u << 20), 0);
	fg_vsock_config_defaults(&gc);
	gc.rx_buf_size = k->rx_buf;
	if (k->tx_aligned)
		gc.tx_layout = FG_TX_SPLIT;
	gc.max_socks = k->conns + 16;
	gc.features = vsock_device_features(f->dev);
	gc.kick = k->thread ? guest_thread_kick : sim_guest_on_kick;
	gc.kick_ctx = k->thread ? (void *)f->gt : (void *)&f->sig;
	vsock_device_set_features(f->dev, gc.features);
	ck_assert_int_eq(fg_vsock_new(&f->mem, &gc, &f->vs), 0);
	for (q = 0; q < VSOCK_NUM_QUEUES; q++)
		fg_ring_bind(f->dev, &f->mem, q, fg_vsock_ring(f->vs, q));
	fg_vsock_start(f->vs);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_5000", f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(f->lfd, 4096), 0);
	f->gfd = f->hfd = f->hdone_fd = -1;
}

/* A guest socket connected to host port 5000; *hfd the host's end. */
static int
full_connect(struct full *f, int *hfd)
{
	int gfd = fg_sock_open(f->vs, VIRTIO_VSOCK_TYPE_STREAM), i;

	ck_assert_int_ge(gfd, 0);
	fg_sock_connect(f->vs, gfd, VMADDR_CID_HOST, 5000, 0);
	for (i = 0; i < 1000 && fg_sock_state(f->vs, gfd) != FG_SS_CONNECTED;
	    i++)
		f_pump(f);
	ck_assert_int_eq(fg_sock_state(f->vs, gfd), FG_SS_CONNECTED);
	*hfd = accept(f->lfd, NULL, NULL);
	ck_assert_int_ge(*hfd, 0);
	fcntl(*hfd, F_SETFL, O_NONBLOCK);
	return gfd;
}

static void
full_free(struct full *f)
{
	char cmd[96];

	guest_thread_stop(f->gt);
	vsock_device_free(f->dev);
	guest_thread_free(f->gt);
	muxer_free(f->mx);
	fg_vsock_free(f->vs);
	fg_mem_destroy(&f->mem);
	close(f->lfd);
	close(f->ep);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: cannot remove %s\n", f->dir);
}

/* Reports a stream case: GB/s of CPU time (primary) and of wall time. */
void
bench_stream_rows(const char *key, size_t total, uint64_t cpu, uint64_t wall,
    const char *what)
{
	char k[48], w[96];

	bench_row(key, (double)total / (double)cpu, 0, "GB/s_cpu", what);
	snprintf(k, sizeof(k), "%s_wall", key);
	snprintf(w, sizeof(w), "%s, wall clock", what);
	bench_row(k, (double)total / (double)wall, 0, "GB/s", w);
}

/* Which way a stream case moves its bytes. */
enum way { G2H, H2G };

/* Writes up to n bytes from the sending side; <= 0 when it takes none. */
static ssize_t
way_send(struct full *f, enum way w, const uint8_t *buf, size_t n)
{
	return w == G2H ? fg_sock_send(f->vs, f->gfd, buf, n, 0) :
	    write(f->hfd, buf, n);
}

/* Reads up to n bytes on the receiving side; <= 0 when none are there. */
static ssize_t
way_recv(struct full *f, enum way w, uint8_t *buf, size_t n)
{
	return w == G2H ? read(f->hfd, buf, n) :
	    fg_sock_recv(f->vs, f->gfd, buf, n, NULL);
}

/*
 * One side sends total bytes in wsize writes, the other reads them wsize
 * at a time: the same sizes as the socketpair baseline. Each turn the
 * sender writes what it can, the loop takes one turn of serve's (f_pump:
 * it polls the fds only when nothing in-process is pending), the reader
 * reads to EAGAIN (the host's side: serve's other process) and what it
 * notified (a credit update, buffers given back) settles; a host fd it
 * made ready waits for a turn that polls. Every byte sent is read: the
 * counts are checked after the clock stops.
 */
static void
full_stream(const char *key, const struct full_knobs *k, enum way w,
    size_t wsize, const char *what)
{
	static uint8_t buf[1 << 16];
	size_t total = bench_total_bytes, sent = 0, got = 0;
	struct full f;
	uint64_t c0, w0;
	ssize_t n;

	full_new(&f, k);
	f.gfd = full_connect(&f, &f.hfd);
	memset(buf, 0xab, sizeof(buf));
	c0 = bench_cpu_ns();
	w0 = bench_wall_ns();
	while (got < total) {
		while (sent < total && (n = way_send(&f, w, buf,
		    total - sent < wsize ? total - sent : wsize)) > 0)
			sent += (size_t)n;
		f_pump(&f);
		while ((n = way_recv(&f, w, buf, wsize)) > 0)
			got += (size_t)n;
		f_settle(&f);
	}
	bench_stream_rows(key, total, bench_cpu_ns() - c0, bench_wall_ns() - w0,
	    what);
	ck_assert_uint_eq(sent, total);
	ck_assert_uint_eq(got, total);
	ck_assert_int_le(way_recv(&f, w, buf, wsize), 0);	/* nothing left */
	close(f.hfd);
	full_free(&f);
}

/* The guest application on its thread: one side of a threaded stream. */
struct gside {
	struct full *f;
	enum way w;
	size_t total, wsize, done_bytes;
	uint8_t buf[1 << 16];
	atomic_bool done;
};

static bool
gside_run(void *ctx, uint64_t now)
{
	struct gside *g = ctx;
	size_t left;
	ssize_t n;
	bool moved = false;

	(void)now;
	for (;;) {
		left = g->total - g->done_bytes;
		if (left == 0)
			break;
		n = g->w == G2H ? fg_sock_send(g->f->vs, g->f->gfd, g->buf,
		    left < g->wsize ? left : g->wsize, 0) :
		    fg_sock_recv(g->f->vs, g->f->gfd, g->buf, g->wsize, NULL);
		if (n <= 0)
			break;
		g->done_bytes += (size_t)n;
		moved = true;
	}
	if (g->done_bytes == g->total && !atomic_load(&g->done)) {
		atomic_store(&g->done, true);
		guest_thread_kick(g->f->gt, 0);	/* wake the device side */
	}
	return moved;
}

static const struct guest_thread_ops gside_ops = { .run = gside_run };

/* Context switches of the whole process (every thread) so far. */
static uint64_t
ctx_switches(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (uint64_t)ru.ru_nvcsw + (uint64_t)ru.ru_nivcsw;
}

/* One structural row of a threaded case: n per MiB moved. */
static void
per_mib_row(const char *key, const char *what, uint64_t n, size_t total,
    const char *desc)
{
	char k[64], w[128];

	snprintf(k, sizeof(k), "%s_%s_per_mib", key, what);
	snprintf(w, sizeof(w), "%s per MiB, guest thread", desc);
	bench_row(k, (double)n / ((double)total / (1 << 20)), 0, "count", w);
}

/*
 * What the threads paid to tell each other, per MiB: unlike wall time
 * these do not hang on the machine's load (doc/performance.md).
 */
static void
thread_rows(const char *key, struct full *f,
    const struct guest_thread_stats *st0, size_t total, uint64_t cs)
{
	struct guest_thread_stats st;

	guest_thread_stats(f->gt, &st);
	per_mib_row(key, "kicks", st.kicks - st0->kicks, total,
	    "kicks (the ring asked)");
	per_mib_row(key, "kick_writes", st.kick_writes - st0->kick_writes,
	    total, "kick eventfd writes");
	per_mib_row(key, "irqs", st.irqs - st0->irqs, total,
	    "interrupts (the ring asked)");
	per_mib_row(key, "irq_writes", st.irq_writes - st0->irq_writes,
	    total, "interrupt eventfd writes");
	per_mib_row(key, "gsleeps", st.g_sleeps - st0->g_sleeps, total,
	    "guest thread sleeps");
	per_mib_row(key, "dsleeps", d_sleeps, total, "device thread sleeps");
	per_mib_row(key, "ctxsw", cs, total, "context switches");
}

/* How the threads of a threaded stream wait, and who runs the host side. */
struct thread_knobs {
	uint64_t poll_ns;	/* poll (or spin) bound before sleeping, 0: none */
	bool spin;		/* spin only while the other thread works */
	bool host_thread;	/* the host application on a third thread */
	bool linux_profile;	/* 256 KiB window: four 64 KiB packets fly */
	uint64_t halt_ns;	/* G's halt poll (serve's --halt-poll-ns) */
};

/*
 * The host application on its own thread, as serve's is another process:
 * blocking reads or writes of wsize, then it says it is done.
 */
struct hside {
	int fd, done_fd;
	enum way w;
	size_t total, wsize;
	uint8_t buf[1 << 16];
	atomic_bool done;
};

static void *
hside_main(void *arg)
{
	struct hside *h = arg;
	size_t moved = 0;
	uint64_t one = 1;
	ssize_t n;

	while (moved < h->total) {
		n = h->w == G2H ? read(h->fd, h->buf, h->wsize) :
		    write(h->fd, h->buf, h->total - moved < h->wsize ?
		    h->total - moved : h->wsize);
		if (n <= 0 && errno != EINTR)
			break;
		if (n > 0)
			moved += (size_t)n;
	}
	atomic_store(&h->done, true);
	if (write(h->done_fd, &one, sizeof(one)) < 0)
		return NULL;
	return NULL;
}

/*
 * full_stream with the guest on its own thread (serve --guest-thread):
 * this thread runs the device, the muxer and the host application (or,
 * with tk->host_thread, a third thread runs the host application), and
 * sleeps in epoll when none has work; wall clock is the figure.
 */
static void
full_thread_stream(const char *key, enum way w, size_t wsize,
    const struct thread_knobs *tk, const char *what)
{
	static struct hside h;
	const struct full_knobs k = { FG_LINUX_RX_BUF_SIZE, tk->linux_profile ?
	    VSOCK_PROFILE_LINUX : VSOCK_PROFILE_FIRECRACKER, 1, true, false };
	static struct gside g;
	static uint8_t buf[1 << 16];
	size_t total = bench_total_bytes, host = 0;
	struct epoll_event ev = { .events = w == G2H ? EPOLLIN : EPOLLOUT };
	struct guest_thread_stats st0;
	struct full f;
	pthread_t htid;
	uint64_t c0, w0, cs0;
	ssize_t n;

	full_new(&f, &k);
	f.gfd = full_connect(&f, &f.hfd);
	memset(&g, 0, sizeof(g));
	g.f = &f;
	g.w = w;
	g.total = total;
	g.wsize = wsize;
	memset(g.buf, 0xab, sizeof(g.buf));
	if (tk->host_thread) {
		memset(&h, 0, sizeof(h));
		h.fd = f.hfd;
		h.w = w;
		h.total = total;
		h.wsize = wsize;
		memset(h.buf, 0xcd, sizeof(h.buf));
		fcntl(f.hfd, F_SETFL, 0);	/* blocking, as most apps */
		ck_assert_int_ge(f.hdone_fd = h.done_fd =
		    eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), 0);
		ev.events = EPOLLIN;
		ev.data.fd = f.hdone_fd;
		host = total;	/* the host thread's from here on */
	} else {
		ev.data.fd = f.hfd;
	}
	ck_assert_int_eq(epoll_ctl(f.ep, EPOLL_CTL_ADD, ev.data.fd, &ev), 0);
	guest_thread_stats(f.gt, &st0);
	d_sleeps = 0;
	cs0 = ctx_switches();
	c0 = bench_cpu_ns();
	w0 = bench_wall_ns();
	f.g_running = true;
	if (getenv("VSE_GT_POLL") != NULL)
		guest_thread_set_poll(f.gt, strtoull(getenv("VSE_GT_POLL"),
		    NULL, 0), getenv("VSE_GT_FIXED") != NULL);
	else if (tk->spin)
		guest_thread_set_spin(f.gt, getenv("VSE_GT_SPIN") != NULL ?
		    strtoull(getenv("VSE_GT_SPIN"), NULL, 0) : tk->poll_ns);
	else if (tk->poll_ns != 0)
		guest_thread_set_poll(f.gt, tk->poll_ns, false);
	else
		guest_thread_set_halt_poll(f.gt, tk->halt_ns, false, NULL);
	ck_assert_int_eq(guest_thread_start(f.gt, f.vs, &gside_ops, &g), 0);
	if (tk->host_thread)
		ck_assert_int_eq(pthread_create(&htid, NULL, hside_main, &h),
		    0);
	while (host < total || !atomic_load(&g.done) ||
	    (tk->host_thread && !atomic_load(&h.done))) {
		while (host < total && (n = w == G2H ?
		    read(f.hfd, buf, wsize) : write(f.hfd, buf,
		    total - host < wsize ? total - host : wsize)) > 0)
			host += (size_t)n;
		if (host == total && w == H2G && !tk->host_thread)
			epoll_ctl(f.ep, EPOLL_CTL_DEL, f.hfd, NULL);
		if (vsock_device_next_deadline(f.dev) == 0)
			vsock_device_run(f.dev, 0);	/* TX budget spent */
		else if (guest_thread_poll_kick(f.gt))
			vsock_device_kick(f.dev, VSOCK_QUEUE_TX, 0);
		else if (host < total || !atomic_load(&g.done) ||
		    (tk->host_thread && !atomic_load(&h.done))) {
			epoll_wait_one(f.ep);
			guest_thread_device_woke(f.gt);
		}
		f_pump(&f);
	}
	bench_stream_rows(key, total, bench_cpu_ns() - c0, bench_wall_ns() - w0,
	    what);
	thread_rows(key, &f, &st0, total, ctx_switches() - cs0);
	guest_thread_stop(f.gt);
	if (tk->host_thread) {
		pthread_join(htid, NULL);
		close(f.hdone_fd);
		f.hdone_fd = -1;
	}
	close(f.hfd);
	full_free(&f);
}

/*
 * The guest's RX buffers are Debian 6.1.192's (FG_LINUX_RX_BUF_SIZE: 3732
 * payload bytes, so an skb fits a page), except in h2g_64k_bigbuf.
 */
static const struct full_knobs fc_rx = { FG_LINUX_RX_BUF_SIZE,
    VSOCK_PROFILE_FIRECRACKER, 1, false, false };
static const struct full_knobs fc_64k = { 65536, VSOCK_PROFILE_FIRECRACKER,
    1, false, false };
static const struct full_knobs linux_rx = { FG_LINUX_RX_BUF_SIZE,
    VSOCK_PROFILE_LINUX, 1, false, false };
/*
 * The guest's TX payload on a cache line (FG_TX_SPLIT), where Linux's skb
 * puts it 44 bytes in, behind the header (FG_TX_SKB, the default): what
 * that offset costs the copies into and out of guest memory.
 */
static const struct full_knobs fc_rx_aligned = { FG_LINUX_RX_BUF_SIZE,
    VSOCK_PROFILE_FIRECRACKER, 1, false, true };

/* A stream case of bench.c's table: its function runs full_stream. */
#define STREAM_CASE(name, knobs, way, wsize, what)			\
	void bench_case_##name(void)					\
	{								\
		full_stream(#name, knobs, way, wsize, what);		\
	}

STREAM_CASE(g2h_64k, &fc_rx, G2H, 65536, "guest->host, 64 KiB sends/reads")
STREAM_CASE(g2h_64k_aligned, &fc_rx_aligned, G2H, 65536,
    "guest->host, 64 KiB sends/reads, TX payload on a cache line")
STREAM_CASE(g2h_4k, &fc_rx, G2H, 4096, "guest->host, 4 KiB sends/reads")
STREAM_CASE(h2g_64k, &fc_rx, H2G, 65536, "host->guest, 64 KiB writes/reads")
STREAM_CASE(h2g_4k, &fc_rx, H2G, 4096, "host->guest, 4 KiB writes/reads")
STREAM_CASE(h2g_64k_bigbuf, &fc_64k, H2G, 65536,
    "host->guest 64 KiB, 64 KiB guest RX buffers")
STREAM_CASE(g2h_64k_linux, &linux_rx, G2H, 65536,
    "guest->host 64 KiB, linux profile")
STREAM_CASE(h2g_64k_linux, &linux_rx, H2G, 65536,
    "host->guest 64 KiB, linux profile")


#define SERVE_CONNS	2000

/*
 * What `serve` spends per open, idle connection: the device, the muxer's
 * entry and the two kernel sockets (the muxer's and the host's accepted
 * one). Measured, not summed from sizeof: this process's RSS and the
 * kernel's unreclaimable slab before and after SERVE_CONNS connections
 * (the slab is machine-wide, so other activity shows up in it).
 */
void
bench_case_serve_memory(void)
{
	static int gfd[SERVE_CONNS], hfd[SERVE_CONNS];
	struct full_knobs k = { FG_LINUX_RX_BUF_SIZE, VSOCK_PROFILE_FIRECRACKER,
	    SERVE_CONNS, false, false };
	struct rlimit rl;
	struct full f;
	uint64_t rss0, slab0, rss1, slab1;
	unsigned i;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	ck_assert_uint_ge(rl.rlim_cur, 2 * SERVE_CONNS + 64);
	full_new(&f, &k);
	/* One first, so lazily built state is in the "before". */
	gfd[0] = full_connect(&f, &hfd[0]);
	rss0 = bench_rss_bytes();
	slab0 = bench_slab_bytes();
	for (i = 1; i < SERVE_CONNS; i++)
		gfd[i] = full_connect(&f, &hfd[i]);
	rss1 = bench_rss_bytes();
	slab1 = bench_slab_bytes();
	bench_row("serve_conn_rss_bytes", (double)(rss1 - rss0) /
	    (SERVE_CONNS - 1), 0, "bytes", "serve: process RSS per connection "
	    "(device + muxer + guest stack)");
	bench_row("serve_conn_slab_bytes", (double)(int64_t)(slab1 - slab0) /
	    (SERVE_CONNS - 1), 0, "bytes",
	    "serve: kernel slab per connection (two AF_UNIX sockets)");
	for (i = 0; i < SERVE_CONNS; i++) {
		fg_sock_close(f.vs, gfd[i], 0);
		close(hfd[i]);
	}
	full_free(&f);
}

/*
 * The two threaded cases g2h_64k_SUFFIX and h2g_64k_SUFFIX of bench.c's
 * table: 64 KiB full_thread_stream with the thread_knobs { poll_ns,
 * spin, host_thread, linux_profile }.
 */
#define THREAD_CASE(name, way, tk, what)				\
	void bench_case_##name(void)					\
	{								\
		full_thread_stream(#name, way, 65536, &tk, what);	\
	}
#define THREAD_CASES(suffix, poll_ns, spin, host, lnx, halt, what)	\
	static const struct thread_knobs tk_##suffix = { poll_ns, spin,	\
	    host, lnx, halt };						\
	THREAD_CASE(g2h_64k_##suffix, G2H, tk_##suffix,			\
	    "guest->host 64 KiB, " what)				\
	THREAD_CASE(h2g_64k_##suffix, H2G, tk_##suffix,			\
	    "host->guest 64 KiB, " what)

/*
 * serve --guest-thread's default: G halt-polls up to 200 us while a CPU
 * is to spare (guest_thread_set_halt_poll), D sleeps.
 */
THREAD_CASES(thread, 0, false, false, false, GUEST_THREAD_HALT_POLL_NS,
    "guest on its own thread")

/* The same with G sleeping at once (--halt-poll-ns 0). */
THREAD_CASES(thread_sleep, 0, false, false, false, 0,
    "guest thread sleeping at once")

/*
 * The same with the linux profile: its 256 KiB window lets the guest
 * write the next 64 KiB while the device thread forwards the last, where
 * Firecracker's 64 KiB window (one packet) makes each side wait for the
 * other: the pipelining issue 20 asks the guest thread for.
 */
THREAD_CASES(thread_linux, 0, false, false, true, GUEST_THREAD_HALT_POLL_NS,
    "guest thread, linux profile")

/*
 * The same with both threads polling up to 50 us before they sleep,
 * whatever the machine's load: on an idle machine with a core per thread
 * this wins (doc/performance.md); on a loaded one it loses, which is why
 * serve polls only on the guest's side, and only while a CPU is to spare
 * (the thread rows above).
 */
THREAD_CASES(thread_poll, 50000, false, false, false, 0,
    "guest thread, polling 50 us")

/*
 * The same with each thread spinning up to 50 us before it sleeps, but
 * only while the other one works (guest_thread_set_spin): a thread that
 * sleeps or waits itself has no answer coming, so nobody burns the CPU
 * for nothing.
 */
THREAD_CASES(thread_spin, 50000, true, false, false, 0,
    "guest thread, spinning while the peer works")

/*
 * serve's shape: the host application is another process, not the
 * device's thread. Here it is a third thread with blocking reads or
 * writes, so the device thread runs only the device and the muxer, and
 * the host's copies overlap the guest's. The rows above keep the host on
 * the device thread (the shape all earlier figures were taken in).
 */
THREAD_CASES(thread_host, 0, false, true, false, GUEST_THREAD_HALT_POLL_NS,
    "guest thread, host app on a third thread")

/* The same with G sleeping at once (--halt-poll-ns 0). */
THREAD_CASES(thread_host_sleep, 0, false, true, false, 0,
    "guest thread sleeping at once, host app on a third thread")

/* The same, the guest and device threads spinning while the other works. */
THREAD_CASES(thread_host_spin, 50000, true, true, false, 0,
    "guest thread spinning, host app on a third thread")

/*
 * serve's shape with the linux profile: the window of vhost-vsock's host
 * socket (256 KiB) lets the guest write the next 64 KiB while the device
 * forwards the last. Firecracker's 64 KiB window (CONN_TX_BUF_SIZE, one
 * packet) makes guest->host a round trip a packet in thread_host, as in
 * Firecracker itself.
 */
THREAD_CASES(thread_host_linux, 0, false, true, true,
    GUEST_THREAD_HALT_POLL_NS,
    "guest thread, host app on a third thread, linux profile")

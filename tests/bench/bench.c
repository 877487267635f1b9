/* bench.c - `make bench`: vsockemu's speed as ratios against baselines measured in the same run. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "backend-muxer.h"
#include "common.h"
#include "device-info.h"
#include "sock.h"
#include "vsock.h"
#include "wire.h"

#define MAXFD	1024

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- results --- */

struct row {
	char name[64];
	double value, baseline;
	const char *unit;
};
static struct row rows[64];
static int nrows;

static void
report(const char *name, double value, double baseline, const char *unit)
{
	struct row *r = &rows[nrows++];

	snprintf(r->name, sizeof(r->name), "%s", name);
	r->value = value;
	r->baseline = baseline;
	r->unit = unit;
	if (baseline > 0)
		printf("%-40s %12.3f %-8s baseline %12.3f  ratio %.2f\n", name,
		    value, unit, baseline, value / baseline);
	else
		printf("%-40s %12.3f %s\n", name, value, unit);
	fflush(stdout);
}

static void
write_json(const char *path)
{
	FILE *f = fopen(path, "w");
	int i;

	if (f == NULL)
		return;
	fprintf(f, "{\n  \"rows\": [\n");
	for (i = 0; i < nrows; i++)
		fprintf(f, "    { \"name\": \"%s\", \"value\": %.6g, "
		    "\"baseline\": %.6g, \"unit\": \"%s\" }%s\n", rows[i].name,
		    rows[i].value, rows[i].baseline, rows[i].unit,
		    i + 1 < nrows ? "," : "");
	fprintf(f, "  ]\n}\n");
	fclose(f);
}

/* --- the full path: fake guest stack, device, muxer, real host socket --- */

struct full {
	struct fg_mem mem;
	struct fg_vsock *vs;
	struct vsock_device *dev;
	struct muxer *mx;
	unsigned watch[MAXFD];
	bool kick, irq;
	char dir[48], path[64];
	int gfd;		/* guest socket */
	int hfd;		/* host socket */
};

static void
f_watch(void *ctx, int fd, unsigned events)
{
	((struct full *)ctx)->watch[fd] = events;
}

static void
f_kick(void *ctx, unsigned q)
{
	(void)q;
	((struct full *)ctx)->kick = true;
}

static void
f_irq(void *ctx, unsigned q)
{
	(void)q;
	((struct full *)ctx)->irq = true;
}

/* One round: muxer fds that are ready, then kicks and interrupts. */
static void
f_pump(struct full *f)
{
	struct pollfd p[MAXFD];
	int i, n = 0;
	unsigned rounds;

	for (i = 0; i < MAXFD; i++)
		if (f->watch[i]) {
			p[n].fd = i;
			p[n].events = (f->watch[i] & MUXER_EV_READ ? POLLIN : 0) |
			    (f->watch[i] & MUXER_EV_WRITE ? POLLOUT : 0);
			p[n++].revents = 0;
		}
	if (n > 0 && poll(p, (nfds_t)n, 0) > 0)
		for (i = 0; i < n; i++) {
			unsigned ev = 0;

			if (p[i].revents == 0)
				continue;
			ev |= p[i].revents & POLLIN ? MUXER_EV_READ : 0;
			ev |= p[i].revents & POLLOUT ? MUXER_EV_WRITE : 0;
			ev |= p[i].revents & POLLHUP ? MUXER_EV_HUP : 0;
			muxer_handle(f->mx, p[i].fd, ev, 0);
		}
	for (rounds = 0; rounds < 64 && (f->kick || f->irq); rounds++) {
		if (f->kick) {
			f->kick = false;
			vsock_device_kick(f->dev, VSOCK_QUEUE_TX, 0);
		}
		if (f->irq) {
			f->irq = false;
			fg_vsock_poll(f->vs, 0);
		}
	}
}

/* Knobs of the full path: the guest's RX buffer size, the credit profile. */
static uint32_t bench_rx_buf = 4096;
static enum vsock_profile bench_profile = VSOCK_PROFILE_FIRECRACKER;

/* Guest connects to host port 5000 (PATH_5000), host accepts. */
static void
full_setup(struct full *f)
{
	struct vsock_device_config dc;
	struct fg_vsock_config gc;
	struct muxer_config mc;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char err[256];
	unsigned q;
	int lfd, i;

	memset(f, 0, sizeof(*f));
	strcpy(f->dir, "/tmp/vsockemu-bench-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		exit(1);
	snprintf(f->path, sizeof(f->path), "%s/v.sock", f->dir);
	muxer_config_defaults(&mc);
	mc.uds_path = f->path;
	if (muxer_new(&mc, f_watch, f, &f->mx, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench: %s\n", err);
		exit(1);
	}
	vsock_device_config_defaults(&dc);
	dc.profile = bench_profile;
	vsock_device_new(&dc, &muxer_backend_ops, f->mx, &f->dev, NULL);
	muxer_attach(f->mx, f->dev);
	vsock_device_set_notify(f->dev, f_irq, f);
	fg_mem_init_simple(&f->mem, 64u << 20);
	fg_vsock_config_defaults(&gc);
	gc.rx_buf_size = bench_rx_buf;
	gc.features = vsock_device_features(f->dev);
	gc.kick = f_kick;
	gc.kick_ctx = f;
	vsock_device_set_features(f->dev, gc.features);
	if (fg_vsock_new(&f->mem, &gc, &f->vs) < 0)
		exit(1);
	for (q = 0; q < VSOCK_NUM_QUEUES; q++) {
		const struct fg_ring *r = fg_vsock_ring(f->vs, q);

		vsock_device_set_queue(f->dev, q, &f->mem.gm, r->num,
		    r->desc_gpa, r->avail_gpa, r->used_gpa);
	}
	fg_vsock_start(f->vs);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_5000", f->path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 4) < 0)
		exit(1);
	f->gfd = fg_sock_open(f->vs, VIRTIO_VSOCK_TYPE_STREAM);
	fg_sock_connect(f->vs, f->gfd, VMADDR_CID_HOST, 5000, 0);
	for (i = 0; i < 100 && fg_sock_state(f->vs, f->gfd) !=
	    FG_SS_CONNECTED; i++)
		f_pump(f);
	f->hfd = accept(lfd, NULL, NULL);
	close(lfd);
	unlink(sa.sun_path);
	if (f->hfd < 0 || fg_sock_state(f->vs, f->gfd) != FG_SS_CONNECTED) {
		fprintf(stderr, "bench: guest connect failed\n");
		exit(1);
	}
	fcntl(f->hfd, F_SETFL, O_NONBLOCK);
}

static void
full_teardown(struct full *f)
{
	char cmd[96];

	close(f->hfd);
	vsock_device_free(f->dev);
	muxer_free(f->mx);
	fg_vsock_free(f->vs);
	fg_mem_destroy(&f->mem);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: cannot remove %s\n", f->dir);
}

/* Guest app writes `total` bytes in `wsize` sends; host reads them. GB/s. */
static double
full_g2h(size_t total, size_t wsize)
{
	static uint8_t buf[1 << 20];
	struct full f;
	size_t sent = 0, got = 0;
	uint64_t t0, t1;
	ssize_t n;

	full_setup(&f);
	memset(buf, 0xab, sizeof(buf));
	t0 = now_ns();
	while (got < total) {
		while (sent < total && (n = fg_sock_send(f.vs, f.gfd, buf,
		    total - sent < wsize ? total - sent : wsize, 0)) > 0)
			sent += (size_t)n;
		f_pump(&f);
		while ((n = read(f.hfd, buf, sizeof(buf))) > 0)
			got += (size_t)n;
		f_pump(&f);
	}
	t1 = now_ns();
	full_teardown(&f);
	return (double)total / (double)(t1 - t0);
}

/* Host writes `total` bytes in `wsize` writes; guest app reads them. */
static double
full_h2g(size_t total, size_t wsize)
{
	static uint8_t buf[1 << 20];
	struct full f;
	size_t sent = 0, got = 0;
	uint64_t t0, t1;
	ssize_t n;

	full_setup(&f);
	memset(buf, 0xcd, sizeof(buf));
	t0 = now_ns();
	while (got < total) {
		while (sent < total && (n = write(f.hfd, buf,
		    total - sent < wsize ? total - sent : wsize)) > 0)
			sent += (size_t)n;
		f_pump(&f);
		while ((n = fg_sock_recv(f.vs, f.gfd, buf, wsize, NULL)) > 0)
			got += (size_t)n;
		f_pump(&f);
	}
	t1 = now_ns();
	full_teardown(&f);
	return (double)total / (double)(t1 - t0);
}

/* Baseline: the same bytes through a raw AF_UNIX socketpair, same sizes. */
static double
socketpair_gbps(size_t total, size_t wsize)
{
	static uint8_t buf[1 << 20];
	size_t sent = 0, got = 0;
	uint64_t t0, t1;
	ssize_t n;
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	memset(buf, 0xef, sizeof(buf));
	t0 = now_ns();
	while (got < total) {
		while (sent < total && (n = write(sv[0], buf,
		    total - sent < wsize ? total - sent : wsize)) > 0)
			sent += (size_t)n;
		while ((n = read(sv[1], buf, wsize)) > 0)
			got += (size_t)n;
	}
	t1 = now_ns();
	close(sv[0]);
	close(sv[1]);
	return (double)total / (double)(t1 - t0);
}

/* --- in-process per-packet cost (raw wire guest, scripted host) --- */

/* Puts n chains of `op` (len bytes) on the TX ring without kicking. */
static void
queue_packets(struct wire *w, unsigned n, uint16_t op, uint32_t len,
    uint32_t guest_port_base, unsigned nports)
{
	static uint8_t raw[VSOCK_HDR_SIZE + 1];
	unsigned i;

	for (i = 0; i < n; i++) {
		struct vsock_hdr h = wire_hdr(op, guest_port_base + i % nports,
		    1234);
		struct fg_buf b;
		void *tok;

		h.len = len;
		vsock_hdr_encode(&h, raw);
		while ((tok = fg_ring_get_used(&w->txr, NULL)) != NULL)
			w->tx_slot_used[(uintptr_t)tok - 1] = false;
		b.gpa = w->tx_pool + (uint64_t)i * WIRE_TX_SLOT;
		b.len = VSOCK_HDR_SIZE + len;
		fg_mem_write(&w->mem, b.gpa, raw, b.len);
		w->tx_slot_used[i] = true;
		fg_ring_add(&w->txr, &b, 1, NULL, 0, (void *)(uintptr_t)(i + 1),
		    false);
	}
}

/* ns the device spends per packet of op over `conns` connections. */
static double
per_packet_ns(uint16_t op, uint32_t len, unsigned conns, unsigned total,
    double *setup_per_sec, double *idle_bytes)
{
	struct vsock_device_config cfg;
	struct wire *w;
	struct vsock_hdr h, r;
	struct mallinfo2 m0, m1;
	uint64_t t0, spent = 0;
	unsigned i, done;

	wire_config(&cfg);
	cfg.max_conns = conns + 16;
	cfg.tx_budget = WIRE_QSIZE;
	w = wire_new_cfg(&cfg, 64, 64);
	script_listen(&w->sb, 1234, SCRIPT_ACCEPT);
	m0 = mallinfo2();
	t0 = now_ns();
	for (i = 0; i < conns; i++) {
		h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, 10000 + i, 1234);
		wire_send(w, &h, NULL);
		while (wire_recv(w, &r, NULL, 0))
			;
	}
	if (setup_per_sec != NULL)
		*setup_per_sec = conns / ((double)(now_ns() - t0) / 1e9);
	m1 = mallinfo2();
	if (idle_bytes != NULL) {
		struct vsock_device_info di;

		idle_bytes[0] = (double)(m1.uordblks - m0.uordblks) / conns;
		/* The device's own share: its structs and its table slots. */
		vsock_device_get_info(w->dev, &di);
		idle_bytes[1] = (double)di.conn_state_bytes / conns;
	}
	w->sb.default_keep_in = false;
	for (done = 0; done < total; done += WIRE_QSIZE / 2) {
		queue_packets(w, WIRE_QSIZE / 2, op, len, 10000, conns);
		t0 = now_ns();
		vsock_device_kick(w->dev, VSOCK_QUEUE_TX, w->now);
		spent += now_ns() - t0;
		while (wire_recv(w, &r, NULL, 0))
			;
	}
	wire_free(w);
	return (double)spent / done;
}

/* The floor: pop + push of a prepared one-buffer chain on a bare ring. */
static double
bare_ring_ns(unsigned total)
{
	struct rig *rg = rig_new(256, F_ALL, 1 << 20);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16), t0, spent = 0;
	struct fg_buf buf = { b, 44 };
	unsigned i, done;

	for (done = 0; done < total; done += 128) {
		for (i = 0; i < 128; i++)
			fg_ring_add(&rg->ring, &buf, 1, NULL, 0, rg, false);
		t0 = now_ns();
		for (i = 0; i < 128; i++) {
			virtq_pop(&rg->vq, &rg->chain);
			virtq_push(&rg->vq, rg->chain.head, 0);
		}
		spent += now_ns() - t0;
		while (fg_ring_get_used(&rg->ring, NULL) != NULL)
			;
	}
	rig_free(rg);
	return (double)spent / done;
}

static const char *only;
static size_t total_bytes = 256u << 20;

static bool
want(const char *name)
{
	return only == NULL || strcmp(only, name) == 0;
}

/* The rigs use Check's assertions, so each section runs as a Check test. */
START_TEST(bench_throughput)
{
	double v, b;

	if (!want("throughput"))
		return;
	v = full_g2h(total_bytes, 65536);
	b = socketpair_gbps(total_bytes, 65536);
	report("guest->host 64 KiB writes", v, b, "GB/s");
	v = full_g2h(total_bytes / 4, 4096);
	b = socketpair_gbps(total_bytes / 4, 4096);
	report("guest->host 4 KiB writes", v, b, "GB/s");
	v = full_h2g(total_bytes, 65536);
	b = socketpair_gbps(total_bytes, 65536);
	report("host->guest 64 KiB writes", v, b, "GB/s");
	v = full_h2g(total_bytes / 4, 4096);
	b = socketpair_gbps(total_bytes / 4, 4096);
	report("host->guest 4 KiB writes", v, b, "GB/s");
	/* What limits the two 64 KiB rows: buffer sizes, not the device. */
	bench_rx_buf = 65536;
	v = full_h2g(total_bytes, 65536);
	b = socketpair_gbps(total_bytes, 65536);
	report("host->guest 64 KiB, 64 KiB guest RX bufs", v, b, "GB/s");
	bench_rx_buf = 4096;
	bench_profile = VSOCK_PROFILE_LINUX;
	v = full_g2h(total_bytes, 65536);
	b = socketpair_gbps(total_bytes, 65536);
	report("guest->host 64 KiB, linux profile", v, b, "GB/s");
	v = full_h2g(total_bytes, 65536);
	b = socketpair_gbps(total_bytes, 65536);
	report("host->guest 64 KiB, linux profile", v, b, "GB/s");
	bench_profile = VSOCK_PROFILE_FIRECRACKER;
}
END_TEST

START_TEST(bench_packet)
{
	double v, b;

	if (!want("packet"))
		return;
	b = bare_ring_ns(2000000);
	report("bare ring pop+push (floor)", b, 0, "ns");
	v = per_packet_ns(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 10, 2000000, NULL,
	    NULL);
	report("0-byte control packet", v, b, "ns");
	v = per_packet_ns(VIRTIO_VSOCK_OP_RW, 1, 10, 2000000, NULL, NULL);
	report("1-byte RW packet", v, b, "ns");
}
END_TEST

START_TEST(bench_scaling)
{
	double v, b, setup, idle[2];

	if (!want("scaling"))
		return;
	b = per_packet_ns(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 10, 1000000, NULL,
	    NULL);
	v = per_packet_ns(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 10000, 1000000,
	    &setup, idle);
	report("control packet, 10000 connections", v, b, "ns");
	report("connection setup (REQUEST/RESPONSE)", setup, 0, "conn/s");
	report("memory per idle connection (device + scripted app)", idle[0],
	    0, "bytes");
	report("memory per idle connection (device alone)", idle[1], 0,
	    "bytes");
}
END_TEST

/* A fixed, countable workload for callgrind (run.sh). */
START_TEST(bench_callgrind_packet)
{
	if (only == NULL || strcmp(only, "callgrind-packet") != 0)
		return;
	per_packet_ns(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 10, 100000, NULL,
	    NULL);
}
END_TEST

/* The floor for replay: libpcap reading every frame of path, nothing else. */
static int
pcap_loop_only(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *data;
	pcap_t *p = pcap_open_offline(path, err);
	uint64_t frames = 0, bytes = 0, t0 = now_ns();

	if (p == NULL) {
		fprintf(stderr, "bench: %s\n", err);
		return 1;
	}
	while (pcap_next_ex(p, &ph, &data) == 1) {
		frames++;
		bytes += ph->caplen;
	}
	pcap_close(p);
	printf("%llu frames %llu bytes %.0f ns\n", (unsigned long long)frames,
	    (unsigned long long)bytes, (double)(now_ns() - t0));
	return 0;
}

static void
usage(void)
{
	fputs("usage: bench [--quick] [--only NAME] [--json FILE]\n"
	    "       bench --pcap-loop FILE\n"
	    "  NAME: throughput | packet | scaling | callgrind-packet\n"
	    "  Every figure comes with its baseline from the same run.\n",
	    stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *json = "bench.json";
	Suite *s = suite_create("bench");
	TCase *tc = tcase_create("bench");
	SRunner *sr;
	int i, failed;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			total_bytes = 16u << 20;
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			only = argv[++i];
		else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
			json = argv[++i];
		else if (strcmp(argv[i], "--pcap-loop") == 0 && i + 1 < argc)
			return pcap_loop_only(argv[i + 1]);
		else
			usage();
	}
	tcase_add_test(tc, bench_throughput);
	tcase_add_test(tc, bench_packet);
	tcase_add_test(tc, bench_scaling);
	tcase_add_test(tc, bench_callgrind_packet);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	/* No fork: timings are of this process; no timeouts either. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (only == NULL || strcmp(only, "callgrind-packet") != 0)
		write_json(json);
	return failed == 0 ? 0 : 1;
}

/* gen-vectors.c - writes testvectors' vsockemu traces from scripted scenarios, and one-frame alterations. */
#include "config.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend-script.h"
#include "error.h"
#include "pcap-reader.h"
#include "pcap-writer.h"
#include "rawguest.h"
#include "vsockmon.h"

/* Traces start at 2026-01-01 00:00:00 UTC. */
#define GEN_EPOCH_NS	(UINT64_C(1767225600) * VSOCK_NS_PER_SEC)
#define GEN_MS		UINT64_C(1000000)

/* A scenario in progress: device, host application, raw guest, capture. */
struct gen {
	struct vsock_device *dev;
	struct script_backend sb;
	struct rawguest g;
	struct vsock_pcap_writer *w;
	vsock_time_t now;
	uint32_t gbuf;			/* the guest's buf_alloc */
	uint32_t grx;			/* payload the guest received: its fwd_cnt */
	uint32_t last_port;		/* host port of the last host REQUEST */
};

static void
die(const char *what)
{
	fprintf(stderr, "gen-vectors: %s\n", what);
	exit(1);
}

/* Writes each tapped packet at the epoch; counts what the guest got. */
static void
gen_tap(void *ctx, const struct vsock_tap_record *rec)
{
	struct gen *g = ctx;
	struct vsock_tap_record r = *rec;

	if (rec->dir == VSOCK_TAP_HOST_TO_GUEST) {
		if (rec->hdr.op == VIRTIO_VSOCK_OP_RW)
			g->grx += rec->hdr.len;
		if (rec->hdr.op == VIRTIO_VSOCK_OP_REQUEST)
			g->last_port = rec->hdr.src_port;
	}
	r.now += GEN_EPOCH_NS;
	vsock_pcap_writer_tap(g->w, &r);
}

/* Lets the device send everything it has at the current time. */
static void
settle(struct gen *g)
{
	do
		vsock_device_run(g->dev, g->now);
	while (rawguest_drain(&g->g, g->now) > 0);
}

/* Advances the clock by ns, firing timers on the way. */
static void
wait_ns(struct gen *g, uint64_t ns)
{
	vsock_time_t end = g->now + ns, d;

	while ((d = vsock_device_next_deadline(g->dev)) <= end) {
		if (d > g->now)
			g->now = d;
		settle(g);
	}
	g->now = end;
	settle(g);
}

static void
gen_open(struct gen *g, const char *path, enum vsock_profile profile)
{
	struct vsock_device_config cfg;
	char msg[256];

	memset(g, 0, sizeof(*g));
	g->gbuf = 256 * 1024;
	vsock_device_config_defaults(&cfg);
	cfg.profile = profile;
	cfg.seqpacket = true;
	script_init(&g->sb);
	if (vsock_device_new(&cfg, &script_backend_ops, &g->sb, &g->dev,
	    NULL) < 0)
		die("cannot create the device");
	script_attach(&g->sb, g->dev);
	if (vsock_pcap_writer_open(path, &g->w, msg, sizeof(msg)) < 0)
		die(msg);
	vsock_device_set_tap(g->dev, gen_tap, g);
	if (rawguest_init(&g->g, g->dev, 0, 0) < 0)
		die("cannot set the guest up");
}

static void
gen_close(struct gen *g)
{
	vsock_device_set_tap(g->dev, NULL, NULL);
	vsock_device_free(g->dev);
	rawguest_destroy(&g->g);
	script_free(&g->sb);
	if (vsock_pcap_writer_close(g->w) < 0)
		die("cannot write the capture");
}

/* The guest sends one packet, 1 ms after the last event. */
static void
guest(struct gen *g, uint16_t op, uint16_t type, uint32_t gport,
    uint32_t hport, uint32_t flags, const void *payload, uint32_t len)
{
	struct vsock_hdr h = {
		.src_cid = 3, .dst_cid = VMADDR_CID_HOST,
		.src_port = gport, .dst_port = hport, .len = len,
		.type = type, .op = op, .flags = flags,
		.buf_alloc = g->gbuf, .fwd_cnt = g->grx,
	};
	uint8_t raw[VSOCK_HDR_SIZE];

	wait_ns(g, GEN_MS);
	vsock_hdr_encode(&h, raw);
	if (rawguest_send(&g->g, raw, payload, len, g->now) < 0)
		die("the device did not take a TX chain");
	settle(g);
}

/* A STREAM packet from the guest. */
static void
gs(struct gen *g, uint16_t op, uint32_t gport, uint32_t hport,
    uint32_t flags, const char *text)
{
	guest(g, op, VIRTIO_VSOCK_TYPE_STREAM, gport, hport, flags, text,
	    text != NULL ? (uint32_t)strlen(text) : 0);
}

/* The host application's end of (host port, guest port). */
static struct script_conn *
app(struct gen *g, uint32_t hport, uint32_t gport)
{
	struct script_conn *sc = script_find(&g->sb, hport, gport);

	if (sc == NULL)
		die("no such host connection");
	wait_ns(g, GEN_MS);
	return sc;
}

/* Guest connects, sends three lines; the application echoes; clean close. */
static void
scenario_echo(struct gen *g)
{
	static const char *lines[] = { "ping 1\n", "ping 2\n", "ping 3\n" };
	struct script_conn *sc;
	unsigned i;

	script_listen(&g->sb, 1234, SCRIPT_ACCEPT);
	gs(g, VIRTIO_VSOCK_OP_REQUEST, 1024, 1234, 0, NULL);
	for (i = 0; i < 3; i++) {
		gs(g, VIRTIO_VSOCK_OP_RW, 1024, 1234, 0, lines[i]);
		sc = app(g, 1234, 1024);
		script_send(&g->sb, sc, lines[i], strlen(lines[i]), 0, g->now);
		settle(g);
		gs(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1024, 1234, 0, NULL);
	}
	gs(g, VIRTIO_VSOCK_OP_SHUTDOWN, 1024, 1234, VIRTIO_VSOCK_SHUTDOWN_SEND,
	    NULL);
	sc = app(g, 1234, 1024);
	script_shutdown_write(&g->sb, sc, g->now);
	settle(g);
	wait_ns(g, GEN_MS);
}

/* The host connects to the guest, sends 10000 bytes, gets 3000, closes. */
static void
scenario_host_connect(struct gen *g)
{
	static uint8_t buf[10000];
	struct script_conn *sc;

	wait_ns(g, GEN_MS);
	if (script_connect(&g->sb, 5000, VIRTIO_VSOCK_TYPE_STREAM, g->now,
	    &sc) < 0)
		die("connect failed");
	settle(g);
	guest(g, VIRTIO_VSOCK_OP_RESPONSE, VIRTIO_VSOCK_TYPE_STREAM, 5000,
	    g->last_port, 0, NULL, 0);
	sc = app(g, g->last_port, 5000);
	script_pattern_fill(0, buf, sizeof(buf));
	script_send(&g->sb, sc, buf, sizeof(buf), 0, g->now);
	settle(g);
	guest(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE, VIRTIO_VSOCK_TYPE_STREAM, 5000,
	    g->last_port, 0, NULL, 0);
	guest(g, VIRTIO_VSOCK_OP_RW, VIRTIO_VSOCK_TYPE_STREAM, 5000,
	    g->last_port, 0, buf + 7000, 3000);
	sc = app(g, g->last_port, 5000);
	script_close(&g->sb, sc, false, g->now);
	settle(g);
	guest(g, VIRTIO_VSOCK_OP_RST, VIRTIO_VSOCK_TYPE_STREAM, 5000,
	    g->last_port, 0, NULL, 0);
}

/* What the device answers with RST, and the RST it never answers. */
static void
scenario_refused(struct gen *g)
{
	gs(g, VIRTIO_VSOCK_OP_REQUEST, 1024, 99, 0, NULL);
	gs(g, VIRTIO_VSOCK_OP_RW, 1025, 1234, 0, "hello");
	gs(g, VIRTIO_VSOCK_OP_RST, 1026, 1234, 0, NULL);
	guest(g, VIRTIO_VSOCK_OP_REQUEST, 9, 1027, 1234, 0, NULL, 0);
	gs(g, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 1028, 1234, 0, NULL);
}

/* A guest with an 8 KiB buffer: the device stops, asks, and resumes. */
static void
scenario_credit(struct gen *g)
{
	static uint8_t buf[20000];
	struct script_conn *sc;

	g->gbuf = 8192;
	script_listen(&g->sb, 1234, SCRIPT_ACCEPT);
	gs(g, VIRTIO_VSOCK_OP_REQUEST, 1024, 1234, 0, NULL);
	sc = app(g, 1234, 1024);
	script_pattern_fill(0, buf, sizeof(buf));
	script_send(&g->sb, sc, buf, sizeof(buf), 0, g->now);
	settle(g);
	gs(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1024, 1234, 0, NULL);
	gs(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1024, 1234, 0, NULL);
	gs(g, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 1024, 1234, 0, NULL);
	guest(g, VIRTIO_VSOCK_OP_RW, VIRTIO_VSOCK_TYPE_STREAM, 1024, 1234, 0,
	    buf, 100);
	sc = app(g, 1234, 1024);
	script_close(&g->sb, sc, false, g->now);
	settle(g);
	gs(g, VIRTIO_VSOCK_OP_SHUTDOWN, 1024, 1234, VIRTIO_VSOCK_SHUTDOWN_MASK,
	    NULL);
}

/* An unanswered host REQUEST and an unanswered SHUTDOWN time out. */
static void
scenario_timeout(struct gen *g)
{
	struct script_conn *sc;

	script_listen(&g->sb, 1234, SCRIPT_ACCEPT);
	wait_ns(g, GEN_MS);
	if (script_connect(&g->sb, 7000, VIRTIO_VSOCK_TYPE_STREAM, g->now,
	    &sc) < 0)
		die("connect failed");
	settle(g);
	wait_ns(g, 3 * VSOCK_NS_PER_SEC);
	gs(g, VIRTIO_VSOCK_OP_REQUEST, 1024, 1234, 0, NULL);
	sc = app(g, 1234, 1024);
	script_close(&g->sb, sc, false, g->now);
	settle(g);
	wait_ns(g, 3 * VSOCK_NS_PER_SEC);
	gs(g, VIRTIO_VSOCK_OP_RST, 1024, 1234, 0, NULL);
}

/* The guest sends a request and shuts down writing; the host answers. */
static void
scenario_halfclose(struct gen *g)
{
	struct script_conn *sc;

	script_listen(&g->sb, 1234, SCRIPT_ACCEPT);
	gs(g, VIRTIO_VSOCK_OP_REQUEST, 1024, 1234, 0, NULL);
	gs(g, VIRTIO_VSOCK_OP_RW, 1024, 1234, 0, "request\n");
	gs(g, VIRTIO_VSOCK_OP_SHUTDOWN, 1024, 1234, VIRTIO_VSOCK_SHUTDOWN_SEND,
	    NULL);
	sc = app(g, 1234, 1024);
	script_send(&g->sb, sc, "response\n", 9, 0, g->now);
	settle(g);
	gs(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1024, 1234, 0, NULL);
	sc = app(g, 1234, 1024);
	script_close(&g->sb, sc, false, g->now);
	settle(g);
	wait_ns(g, GEN_MS);
}

/* Frames the bulk and churn scenarios write (gen-vectors bulk OUT [FRAMES]). */
static unsigned long bulk_frames = 1000000;

/*
 * A long echo conversation for timing replay: the guest sends 100 bytes,
 * the device updates its credit (linux: the queue emptied), the host echoes
 * them, and every eighth round the guest reports what it received.
 */
static void
scenario_bulk(struct gen *g)
{
	static uint8_t buf[100];
	struct script_conn *sc;
	unsigned long round;
	uint64_t off = 0;

	script_listen(&g->sb, 1234, SCRIPT_ACCEPT);
	gs(g, VIRTIO_VSOCK_OP_REQUEST, 1024, 1234, 0, NULL);
	sc = app(g, 1234, 1024);
	for (round = 0; vsock_pcap_writer_count(g->w) + 4 <= bulk_frames;
	    round++) {
		script_pattern_fill(off, buf, sizeof(buf));
		off += sizeof(buf);
		guest(g, VIRTIO_VSOCK_OP_RW, VIRTIO_VSOCK_TYPE_STREAM, 1024,
		    1234, 0, buf, sizeof(buf));
		wait_ns(g, GEN_MS);
		script_send(&g->sb, sc, buf, sizeof(buf), 0, g->now);
		settle(g);
		if (round % 8 == 7)
			gs(g, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1024, 1234, 0,
			    NULL);
	}
}

/*
 * Short connections one after another, each on a guest port of its own (as
 * Linux picks them): open, 4 bytes, the host closes, the guest resets.
 * Replay's memory must not grow with their number (doc/performance.md).
 */
static void
scenario_churn(struct gen *g)
{
	uint32_t port = 100000;

	script_listen(&g->sb, 1234, SCRIPT_ACCEPT);
	while (vsock_pcap_writer_count(g->w) + 8 <= bulk_frames) {
		gs(g, VIRTIO_VSOCK_OP_REQUEST, port, 1234, 0, NULL);
		gs(g, VIRTIO_VSOCK_OP_RW, port, 1234, 0, "abcd");
		script_close(&g->sb, app(g, 1234, port), false, g->now);
		settle(g);
		gs(g, VIRTIO_VSOCK_OP_RST, port, 1234, 0, NULL);
		script_reap(&g->sb);	/* the generator's memory stays flat */
		port++;
	}
}

/* --- one-frame alterations of an existing capture --- */

/* Sets field of the record's virtio header (and its vsockmon mirror). */
static void
alter_field(struct vsock_pcap_frame *f, const char *field, uint32_t v)
{
	struct vsock_hdr *h = &f->hdr;

	if (strcmp(field, "op") == 0) {
		h->op = (uint16_t)v;
		f->mon.op = vsockmon_op_from_virtio(h->op);
	} else if (strcmp(field, "flags") == 0) {
		h->flags = v;
	} else if (strcmp(field, "buf_alloc") == 0) {
		h->buf_alloc = v;
	} else if (strcmp(field, "fwd_cnt") == 0) {
		h->fwd_cnt = v;
	} else if (strcmp(field, "src_port") == 0) {
		h->src_port = f->mon.src_port = v;
	} else if (strcmp(field, "dst_port") == 0) {
		h->dst_port = f->mon.dst_port = v;
	} else {
		die("field must be op, flags, buf_alloc, fwd_cnt, src_port "
		    "or dst_port");
	}
	vsock_hdr_encode(h, f->raw);
}

/* Copies in to out (classic pcap, nanoseconds) with frame n altered. */
static void
alter(const char *in, const char *out, uint64_t n, const char *field,
    uint32_t v)
{
	static uint8_t rec[VSOCKMON_RECORD_MIN + 262144];
	struct vsock_pcap_reader *r;
	struct vsock_pcap_frame f;
	struct pcap_pkthdr ph;
	pcap_dumper_t *d;
	pcap_t *dead;
	char msg[640];
	int e;

	if (vsock_pcap_reader_open(in, 0, &r, msg, sizeof(msg)) < 0)
		die(msg);
	dead = pcap_open_dead_with_tstamp_precision(LINKTYPE_VSOCK,
	    VSOCK_PCAP_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
	if (dead == NULL || (d = pcap_dump_open(dead, out)) == NULL)
		die("cannot create the output");
	while ((e = vsock_pcap_reader_next(r, &f, msg, sizeof(msg))) == 1) {
		if (f.number == n)
			alter_field(&f, field, v);
		vsockmon_hdr_encode(&f.mon, rec);
		memcpy(rec + VSOCKMON_HDR_SIZE, f.raw, VSOCK_HDR_SIZE);
		memcpy(rec + VSOCKMON_RECORD_MIN, f.payload, f.tapped_len);
		memset(&ph, 0, sizeof(ph));
		ph.ts.tv_sec = (time_t)(f.ts_ns / VSOCK_NS_PER_SEC);
		/* A nanosecond dumper takes nanoseconds in tv_usec. */
		ph.ts.tv_usec = (suseconds_t)(f.ts_ns % VSOCK_NS_PER_SEC);
		ph.caplen = ph.len = VSOCKMON_RECORD_MIN + f.tapped_len;
		pcap_dump((u_char *)d, &ph, rec);
	}
	if (e < 0)
		die(msg);
	vsock_pcap_reader_close(r);
	pcap_dump_close(d);
	pcap_close(dead);
}

static const struct {
	const char *name;
	enum vsock_profile profile;
	void (*run)(struct gen *);
} scenarios[] = {
	{ "echo", VSOCK_PROFILE_FIRECRACKER, scenario_echo },
	{ "host-connect", VSOCK_PROFILE_LINUX, scenario_host_connect },
	{ "refused", VSOCK_PROFILE_FIRECRACKER, scenario_refused },
	/* Firecracker's profile: Linux never sends CREDIT_REQUEST. */
	{ "credit", VSOCK_PROFILE_FIRECRACKER, scenario_credit },
	{ "timeout", VSOCK_PROFILE_FIRECRACKER, scenario_timeout },
	{ "halfclose", VSOCK_PROFILE_LINUX, scenario_halfclose },
	{ "bulk", VSOCK_PROFILE_LINUX, scenario_bulk },
	{ "churn", VSOCK_PROFILE_LINUX, scenario_churn },
};

int
main(int argc, char **argv)
{
	struct gen g;
	size_t i;

	if (argc == 7 && strcmp(argv[1], "alter") == 0) {
		alter(argv[2], argv[3], strtoull(argv[4], NULL, 10), argv[5],
		    (uint32_t)strtoul(argv[6], NULL, 0));
		return 0;
	}
	if (argc == 4 && (strcmp(argv[1], "bulk") == 0 ||
	    strcmp(argv[1], "churn") == 0))
		bulk_frames = strtoul(argv[3], NULL, 10);
	else if (argc != 3) {
		fprintf(stderr, "usage: gen-vectors SCENARIO OUT.pcap\n"
		    "       gen-vectors bulk|churn OUT.pcap FRAMES\n"
		    "       gen-vectors alter IN OUT FRAME FIELD VALUE\n"
		    "scenarios:");
		for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
			fprintf(stderr, " %s", scenarios[i].name);
		fputc('\n', stderr);
		return 2;
	}
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (strcmp(argv[1], scenarios[i].name) == 0)
			break;
	if (i == sizeof(scenarios) / sizeof(scenarios[0]))
		die("unknown scenario");
	gen_open(&g, argv[2], scenarios[i].profile);
	scenarios[i].run(&g);
	gen_close(&g);
	return 0;
}

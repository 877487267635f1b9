/* bench-packet.c - the device alone, per packet and per connection: raw ring guest, scripted host. */
#include "config.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "common.h"
#include "device-info.h"
#include "wire.h"

/* Packets per kick: half the TX ring. */
#define BATCH	(WIRE_QSIZE / 2)

/* Which connection the k-th packet goes to. */
enum visit { VISIT_IN_ORDER, VISIT_STRIDED };

/* A stride coprime to any connection count used here: every one visited. */
#define STRIDE	7919u

/* Puts BATCH chains of op (len bytes) on the TX ring, from packet *k on. */
static void
queue_packets(struct wire *w, uint16_t op, uint32_t len, uint32_t port_base,
    unsigned conns, enum visit v, uint64_t *k)
{
	static uint8_t raw[VSOCK_HDR_SIZE + 1];
	unsigned i;

	for (i = 0; i < BATCH; i++, (*k)++) {
		unsigned conn = v == VISIT_IN_ORDER ? (unsigned)(*k % conns) :
		    (unsigned)((*k * STRIDE) % conns);
		struct vsock_hdr h = wire_hdr(op, port_base + conn, 1234);
		struct fg_buf b;
		void *tok;

		h.len = len;
		vsock_hdr_encode(&h, raw);
		while ((tok = fg_ring_get_used(&w->q.tx, NULL)) != NULL)
			w->tx_slot_used[(uintptr_t)tok - 1] = false;
		b.gpa = w->tx_pool + (uint64_t)i * WIRE_TX_SLOT;
		b.len = VSOCK_HDR_SIZE + len;
		fg_mem_write(&w->mem, b.gpa, raw, b.len);
		w->tx_slot_used[i] = true;
		fg_ring_add(&w->q.tx, &b, 1, NULL, 0, (void *)(uintptr_t)(i + 1),
		    false);
	}
}

/* A device with conns connections established by the guest. */
static struct wire *
conns_rig(unsigned conns)
{
	struct vsock_device_config cfg;
	struct vsock_hdr h, r;
	struct wire *w;
	unsigned i;

	wire_config(&cfg);
	cfg.max_conns = conns + 16;
	cfg.tx_budget = WIRE_QSIZE;
	w = wire_new_cfg(&cfg, 64, 64);
	script_listen(&w->sb, 1234, SCRIPT_ACCEPT);
	for (i = 0; i < conns; i++) {
		h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, 10000 + i, 1234);
		wire_send(w, &h, NULL);
		while (wire_recv(w, &r, NULL, 0))
			;
	}
	w->sb.default_keep_in = false;
	return w;
}

/* Device CPU ns per packet of op over conns connections, visiting all. */
static double
per_packet_ns(uint16_t op, uint32_t len, unsigned conns, unsigned total,
    enum visit v)
{
	struct wire *w = conns_rig(conns);
	struct vsock_hdr r;
	uint64_t t0, spent = 0, k = 0;

	while (k < total) {
		queue_packets(w, op, len, 10000, conns, v, &k);
		t0 = bench_cpu_ns();
		vsock_device_kick(w->dev, VSOCK_QUEUE_TX, w->now);
		spent += bench_cpu_ns() - t0;
		while (wire_recv(w, &r, NULL, 0))
			;
	}
	wire_free(w);
	return (double)spent / (double)k;
}

/* The floor: pop + push of a prepared one-buffer chain on a bare ring. */
void
bench_case_ring(void)
{
	struct rig *rg = rig_new(256, F_ALL, 1 << 20);
	uint64_t b = fg_mem_alloc(&rg->mem, 64, 16), t0, spent = 0;
	struct fg_buf buf = { b, 44 };
	unsigned i, done;

	for (done = 0; done < 2000000; done += BATCH) {
		for (i = 0; i < BATCH; i++)
			fg_ring_add(&rg->ring, &buf, 1, NULL, 0, rg, false);
		t0 = bench_cpu_ns();
		for (i = 0; i < BATCH; i++) {
			virtq_pop(&rg->vq, &rg->chain);
			virtq_push(&rg->vq, rg->chain.head, 0);
		}
		spent += bench_cpu_ns() - t0;
		while (fg_ring_get_used(&rg->ring, NULL) != NULL)
			;
	}
	rig_free(rg);
	bench_row("ring_ns", (double)spent / done, 0, "ns",
	    "bare ring pop+push (floor), CPU");
}

void
bench_case_ctl(void)
{
	bench_row("ctl_ns", per_packet_ns(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 10,
	    2000000, VISIT_IN_ORDER), 0, "ns",
	    "0-byte control packet, in process, CPU");
}

void
bench_case_rw1(void)
{
	bench_row("rw1_ns", per_packet_ns(VIRTIO_VSOCK_OP_RW, 1, 10, 2000000,
	    VISIT_IN_ORDER), 0, "ns", "1-byte RW packet, in process, CPU");
}

/* 1,000,000 packets: 100 visits of each of 10,000 connections. */
void
bench_case_conn10(void)
{
	bench_row("conn10_ns", per_packet_ns(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0,
	    10, 1000000, VISIT_IN_ORDER), 0, "ns",
	    "control packet, 10 connections, CPU");
}

void
bench_case_conn10k(void)
{
	bench_row("conn10k_ns", per_packet_ns(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0,
	    10000, 1000000, VISIT_IN_ORDER), 0, "ns",
	    "control packet, 10,000 connections visited in order, CPU");
}

void
bench_case_conn10k_strided(void)
{
	bench_row("conn10k_strided_ns", per_packet_ns(
	    VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 10000, 1000000, VISIT_STRIDED), 0,
	    "ns", "control packet, 10,000 connections visited strided, CPU");
}

#define MEM_CONNS	10000

/*
 * Memory per idle connection, measured: RSS and the allocator's bytes in
 * use (mmapped arrays included) before and after MEM_CONNS connections,
 * with the device's own account beside them.
 */
void
bench_case_device_memory(void)
{
	struct wire *w = conns_rig(1);
	struct vsock_device_config cfg;
	struct vsock_device_info di;
	struct mallinfo2 m0, m1;
	struct vsock_hdr h, r;
	uint64_t rss0, rss1;
	unsigned i;

	wire_free(w);
	wire_config(&cfg);
	cfg.max_conns = MEM_CONNS + 16;
	w = wire_new_cfg(&cfg, 64, 64);
	script_listen(&w->sb, 1234, SCRIPT_ACCEPT);
	m0 = mallinfo2();
	rss0 = bench_rss_bytes();
	for (i = 0; i < MEM_CONNS; i++) {
		h = wire_hdr(VIRTIO_VSOCK_OP_REQUEST, 10000 + i, 1234);
		wire_send(w, &h, NULL);
		while (wire_recv(w, &r, NULL, 0))
			;
	}
	m1 = mallinfo2();
	rss1 = bench_rss_bytes();
	vsock_device_get_info(w->dev, &di);
	bench_row("conn_rss_bytes", (double)(rss1 - rss0) / MEM_CONNS, 0,
	    "bytes", "per idle connection: RSS (device + scripted app)");
	bench_row("conn_heap_bytes", (double)((m1.uordblks + m1.hblkhd) -
	    (m0.uordblks + m0.hblkhd)) / MEM_CONNS, 0, "bytes",
	    "per idle connection: heap in use (device + scripted app)");
	bench_row("conn_device_bytes", (double)di.conn_state_bytes / MEM_CONNS,
	    0, "bytes", "per idle connection: the device's own account");
	wire_free(w);
}

/* callgrind (run.sh): CALLGRIND_PACKETS control packets, and none. */
#define CALLGRIND_PACKETS	100000

void
bench_case_callgrind_ctl(void)
{
	per_packet_ns(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 10, CALLGRIND_PACKETS,
	    VISIT_IN_ORDER);
}

void
bench_case_callgrind_ctl0(void)
{
	per_packet_ns(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 10, 0, VISIT_IN_ORDER);
}

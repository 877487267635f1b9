/* bench.h - what the bench's cases share: clocks, the row reporter, the knobs. */
#ifndef VSE_BENCH_H
#define VSE_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CPU time of this process (all threads), ns: the primary figure. */
uint64_t bench_cpu_ns(void);

/* Wall-clock time, ns: reported beside the CPU time. */
uint64_t bench_wall_ns(void);

/*
 * One result: key names it in bench.json, value against baseline (0: none)
 * in unit; what describes it in the printed table.
 */
void bench_row(const char *key, double value, double baseline,
    const char *unit, const char *what);

/* Bytes moved by each stream case (smaller with --quick). */
extern size_t bench_total_bytes;

/* Resident memory of this process from /proc/self/status (VmRSS), bytes. */
uint64_t bench_rss_bytes(void);

/* The kernel's unreclaimable slab (SUnreclaim, /proc/meminfo), bytes. */
uint64_t bench_slab_bytes(void);

/* A stream case's rows: GB/s of CPU time (the key) and of wall time. */
void bench_stream_rows(const char *key, size_t total, uint64_t cpu,
    uint64_t wall, const char *what);

/* bench-stream.c: the full path (fake guest, device, muxer, real socket). */
void bench_case_g2h_64k(void);
void bench_case_g2h_64k_aligned(void);
void bench_case_g2h_4k(void);
void bench_case_h2g_64k(void);
void bench_case_h2g_4k(void);
void bench_case_h2g_64k_bigbuf(void);
void bench_case_g2h_64k_linux(void);
void bench_case_h2g_64k_linux(void);
void bench_case_g2h_64k_thread(void);
void bench_case_h2g_64k_thread(void);
void bench_case_g2h_64k_thread_sleep(void);
void bench_case_h2g_64k_thread_sleep(void);
void bench_case_g2h_64k_thread_host_sleep(void);
void bench_case_h2g_64k_thread_host_sleep(void);
void bench_case_g2h_64k_thread_poll(void);
void bench_case_h2g_64k_thread_poll(void);
void bench_case_g2h_64k_thread_spin(void);
void bench_case_h2g_64k_thread_spin(void);
void bench_case_g2h_64k_thread_host(void);
void bench_case_h2g_64k_thread_host(void);
void bench_case_g2h_64k_thread_linux(void);
void bench_case_h2g_64k_thread_linux(void);
void bench_case_g2h_64k_thread_host_spin(void);
void bench_case_h2g_64k_thread_host_spin(void);
void bench_case_g2h_64k_thread_host_linux(void);
void bench_case_h2g_64k_thread_host_linux(void);

/*
 * The fake guest's RX ring as the floors lay it out (fakeguest/inbuf.c):
 * 128 buffers of header and payload (Debian 6.1.192's 3732 bytes,
 * FG_LINUX_RX_BUF_SIZE), 8-aligned, the payload behind the header as in
 * Linux's skb (virtio_vsock_rx_fill). Its users include pkt.h and
 * fakeguest's vsock.h.
 */
#define BENCH_RXRING_BUFS	128
#define BENCH_RXBUF_PAYLOAD	((size_t)FG_LINUX_RX_BUF_SIZE)
#define BENCH_RXBUF_STRIDE	\
	((VSOCK_HDR_SIZE + BENCH_RXBUF_PAYLOAD + 7) & ~(size_t)7)
/* bench-pair.c: the socketpair baselines and the 64 KiB rows' floors. */
void bench_case_pair_64k(void);
void bench_case_pair_64k_copy(void);
void bench_case_pair_64k_copy_skb(void);
void bench_case_pair_64k_window(void);
void bench_case_pair_64k_rxring(void);
void bench_case_pair_4k(void);
void bench_case_pair_64k_2t(void);
void bench_case_syscall(void);
void bench_case_serve_memory(void);
/* bench-thread-floor.c: the guest-thread rows' floors, no device. */
void bench_case_g2h_64k_thread_floor(void);
void bench_case_g2h_64k_thread_linux_floor(void);
void bench_case_h2g_64k_thread_floor(void);

/* bench-packet.c: the device alone, per packet, in process. */
void bench_case_ring(void);
void bench_case_ctl(void);
void bench_case_rw1(void);
void bench_case_conn10(void);
void bench_case_conn10k(void);
void bench_case_conn10k_strided(void);
void bench_case_device_memory(void);
void bench_case_callgrind_ctl(void);
void bench_case_callgrind_ctl0(void);

#endif

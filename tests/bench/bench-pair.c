/* bench-pair.c - the socketpair baselines of the stream rows, and each 64 KiB row's own floor: its copies, where it makes them. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench.h"
#include "common.h"
#include "pkt.h"
#include "vsock.h"

/*
 * Where socketpair_case's extra copy goes (copy_first), slot by slot: one
 * 64 KiB slot, as g2h_64k's guest uses. Its TX slots are a stack
 * (fakeguest/txq.c, q->free) and with one packet in flight it reuses the
 * slot just freed. (h2g_64k's copy reads RX buffers in ring order over
 * 1 MiB: a 1 MiB area here measured 0.90 of the socketpair instead of
 * 0.93, a 2 MiB one 0.85, an 8 MiB one 0.70. Where the copy lands is
 * most of what it costs.)
 */
#define COPY_AREA	(1u << 16)

/*
 * A non-blocking socketpair in sv, and buf (the bytes written) and area
 * (where a case copies) touched before the clock starts, so no case pays
 * page faults in its loop.
 */
static void
pair_open(int sv[2], uint8_t *buf, size_t buflen, uint8_t *area,
    size_t arealen)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	memset(buf, 0xef, buflen);
	memset(area, 0, arealen);
}

/*
 * The baseline: the same bytes through an AF_UNIX socketpair, same sizes.
 * With copy_first each write is first copied into the next slot of
 * COPY_AREA and written from there: the socketpair plus one copy, the
 * third copy every path through the device makes (the guest
 * application's own, as a real guest's send or recv makes). Its ratio to
 * the plain socketpair is the floor of the 64 KiB rows (issue 20). The
 * copy lands copy_off bytes into a cache line. The writer writes until
 * the socket is full, or turn_max bytes a turn when that is not 0.
 */
static void
socketpair_case(const char *key, size_t wsize, bool copy_first,
    size_t copy_off, size_t turn_max, const char *what)
{
	static uint8_t buf[1 << 16];
	static uint8_t area[COPY_AREA + 64] __attribute__((aligned(64)));
	size_t total = bench_total_bytes, sent = 0, got = 0, slot = 0;
	size_t len, left = 0;	/* left: of the copied chunk, unwritten */
	size_t turn;
	const uint8_t *from = buf;
	uint64_t c0, w0;
	ssize_t n;
	int sv[2];

	pair_open(sv, buf, sizeof(buf), area, sizeof(area));
	c0 = bench_cpu_ns();
	w0 = bench_wall_ns();
	while (got < total) {
		for (turn = 0; turn_max == 0 || turn < turn_max; ) {
			len = total - sent < wsize ? total - sent : wsize;
			if (copy_first && left == 0 && len > 0) {
				/* A new chunk: copied once, then written out. */
				from = area + copy_off + slot;
				memcpy(area + copy_off + slot, buf, len);
				slot = (slot + wsize) % COPY_AREA;
				left = len;
			}
			if (copy_first)
				len = left;
			if (len == 0 || (n = write(sv[0], from, len)) <= 0)
				break;
			sent += (size_t)n;
			turn += (size_t)n;
			if (copy_first) {
				from += n;
				left -= (size_t)n;
			}
		}
		while ((n = read(sv[1], buf, wsize)) > 0)
			got += (size_t)n;
	}
	bench_stream_rows(key, total, bench_cpu_ns() - c0, bench_wall_ns() - w0,
	    what);
	close(sv[0]);
	close(sv[1]);
}

/*
 * What one system call costs on this machine: a read of an empty
 * non-blocking socket (EAGAIN), the cheapest call the stream rows make.
 * A 64 KiB row and its socketpair each make about three a 64 KiB (a
 * write, a read, part of an EAGAIN read or write), so where a call costs
 * a microsecond (a paravirtualised VM) it weighs as much as the copies;
 * on bare metal it is ten times less (doc/performance.md).
 */
void
bench_case_syscall(void)
{
	size_t i, n = bench_total_bytes / 1024, got = 0;
	uint64_t c0, w0, cpu;
	uint8_t b[64];
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	c0 = bench_cpu_ns();
	w0 = bench_wall_ns();
	for (i = 0; i < n; i++)	/* no ck_assert here: it writes a mark */
		got += read(sv[1], b, sizeof(b)) > 0;
	cpu = bench_cpu_ns() - c0;
	ck_assert_uint_eq(got, 0);
	bench_row("syscall_ns", (double)cpu / (double)n, 0, "ns",
	    "one system call (read of an empty socket, EAGAIN), CPU time");
	bench_row("syscall_wall_ns", (double)(bench_wall_ns() - w0) /
	    (double)n, 0, "ns", "one system call, wall clock");
	close(sv[0]);
	close(sv[1]);
}

/* The writer of pair_64k_2t: blocking writes of wsize until total. */
struct pair_writer {
	int fd;
	size_t total, wsize;
	uint8_t buf[1 << 16];
};

static void *
pair_writer_main(void *arg)
{
	struct pair_writer *pw = arg;
	size_t sent = 0;
	ssize_t n;

	memset(pw->buf, 0xef, sizeof(pw->buf));
	while (sent < pw->total) {
		n = write(pw->fd, pw->buf, pw->total - sent < pw->wsize ?
		    pw->total - sent : pw->wsize);
		if (n <= 0 && errno != EINTR)
			break;
		if (n > 0)
			sent += (size_t)n;
	}
	return NULL;
}

/*
 * The socketpair with its writer and reader on two threads, blocking:
 * the like-for-like baseline of the *_thread_host rows, where the guest
 * application and the host application also run on their own threads.
 */
static void
socketpair_2t_case(const char *key, size_t wsize, const char *what)
{
	static struct pair_writer pw;
	static uint8_t buf[1 << 16];
	size_t total = bench_total_bytes, got = 0;
	pthread_t tid;
	uint64_t c0, w0;
	ssize_t n;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pw.fd = sv[0];
	pw.total = total;
	pw.wsize = wsize;
	c0 = bench_cpu_ns();
	w0 = bench_wall_ns();
	ck_assert_int_eq(pthread_create(&tid, NULL, pair_writer_main, &pw), 0);
	while (got < total) {
		n = read(sv[1], buf, wsize);
		if (n <= 0 && errno != EINTR)
			break;
		if (n > 0)
			got += (size_t)n;
	}
	pthread_join(tid, NULL);
	bench_stream_rows(key, total, bench_cpu_ns() - c0, bench_wall_ns() - w0,
	    what);
	ck_assert_uint_eq(got, total);
	close(sv[0]);
	close(sv[1]);
}

void
bench_case_pair_64k_2t(void)
{
	socketpair_2t_case("pair_64k_2t", 65536,
	    "socketpair, 64 KiB writes/reads, writer and reader threads");
}

void
bench_case_pair_64k(void)
{
	socketpair_case("pair_64k", 65536, false, 0, 0,
	    "socketpair, 64 KiB writes/reads");
}

void
bench_case_pair_64k_copy(void)
{
	socketpair_case("pair_64k_copy", 65536, true, 0, 0,
	    "socketpair, 64 KiB writes/reads, each write copied first");
}

void
bench_case_pair_4k(void)
{
	socketpair_case("pair_4k", 4096, false, 0, 0,
	    "socketpair, 4 KiB writes/reads");
}

/*
 * g2h_64k's own floor: the socketpair plus the guest's copy, landing where
 * Linux's skb puts the payload, VSOCK_HDR_SIZE bytes into a cache line
 * (virtio_vsock_alloc_skb reserves the header's room; the fake guest's
 * FG_TX_SKB does the same).
 */
void
bench_case_pair_64k_copy_skb(void)
{
	socketpair_case("pair_64k_copy_skb", 65536, true, VSOCK_HDR_SIZE, 0,
	    "socketpair, 64 KiB, each write copied 44 bytes into a line first");
}

/*
 * The same within g2h_64k's window: the firecracker profile's credit is
 * one 64 KiB packet (Firecracker's CONN_TX_BUF_SIZE), so each turn of
 * g2h_64k moves one 64 KiB write, and its host reads until the socket is
 * empty: one read that finds nothing a 64 KiB. The socketpair writes until
 * its socket is full (about three) before its reader runs.
 */
void
bench_case_pair_64k_window(void)
{
	socketpair_case("pair_64k_window", 65536, true, VSOCK_HDR_SIZE, 65536,
	    "as pair_64k_copy_skb, one 64 KiB write a turn (a 64 KiB window)");
}

/*
 * h2g_64k's own floor, laid out as the fake guest's RX ring (bench.h's
 * BENCH_RXRING_*).
 */
#define RXRING_READ	65536u	/* a read, as pair_64k's */
#define RXRING_IOV	\
	((RXRING_READ + BENCH_RXBUF_PAYLOAD - 1) / BENCH_RXBUF_PAYLOAD)

/*
 * The writer writes 64 KiB as in pair_64k. The reader takes each 64 KiB
 * with one readv into the next 18 buffers of the ring, as the device's
 * scatter recvmsg fills posted buffers in ring order, then copies each
 * into the application's buffer, as the guest's recv does: h2g_64k's
 * copies, each where h2g_64k makes it, and nothing else.
 */
static void
socketpair_rxring_case(const char *key, const char *what)
{
	static uint8_t buf[1 << 16];
	static uint8_t ring[BENCH_RXRING_BUFS * BENCH_RXBUF_STRIDE]
	    __attribute__((aligned(64)));
	size_t total = bench_total_bytes, sent = 0, got = 0, done, len;
	struct iovec iov[RXRING_IOV];
	unsigned next = 0, i, k;
	uint64_t c0, w0;
	ssize_t n;
	int sv[2];

	pair_open(sv, buf, sizeof(buf), ring, sizeof(ring));
	c0 = bench_cpu_ns();
	w0 = bench_wall_ns();
	while (got < total) {
		while (sent < total && (n = write(sv[0], buf, total - sent <
		    sizeof(buf) ? total - sent : sizeof(buf))) > 0)
			sent += (size_t)n;
		for (;;) {
			for (i = 0; i < RXRING_IOV; i++) {
				iov[i].iov_base = ring + (size_t)((next + i) %
				    BENCH_RXRING_BUFS) * BENCH_RXBUF_STRIDE +
				    VSOCK_HDR_SIZE;
				iov[i].iov_len = i + 1 < RXRING_IOV ?
				    BENCH_RXBUF_PAYLOAD : RXRING_READ -
				    (RXRING_IOV - 1) * BENCH_RXBUF_PAYLOAD;
			}
			if ((n = readv(sv[1], iov, RXRING_IOV)) <= 0)
				break;
			for (done = 0, k = 0; done < (size_t)n; k++) {
				len = (size_t)n - done < BENCH_RXBUF_PAYLOAD ?
				    (size_t)n - done : BENCH_RXBUF_PAYLOAD;
				memcpy(buf + done, iov[k].iov_base, len);
				done += len;
			}
			next = (next + k) % BENCH_RXRING_BUFS;
			got += (size_t)n;
		}
	}
	bench_stream_rows(key, total, bench_cpu_ns() - c0,
	    bench_wall_ns() - w0, what);
	ck_assert_uint_eq(got, total);
	close(sv[0]);
	close(sv[1]);
}

void
bench_case_pair_64k_rxring(void)
{
	socketpair_rxring_case("pair_64k_rxring",
	    "socketpair, 64 KiB, read into a guest's RX ring and copied out");
}

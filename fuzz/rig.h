/* rig.h - one fuzz run's world: fake guest memory and rings, the device, the scripted host, the oracle. */
#ifndef VSE_FUZZ_RIG_H
#define VSE_FUZZ_RIG_H

#include <stdbool.h>
#include <stdint.h>

#include "backend-script.h"
#include "device.h"
#include "fuzz.h"
#include "mem.h"
#include "queues.h"
#include "ring.h"

#define FZ_QSIZE_MAX	256
#define FZ_TX_SLOTS	64
#define FZ_TX_SLOT	65840		/* header + 64 KiB + lies, 16-aligned */
#define FZ_TX_WRITABLE	(FZ_TX_SLOT - 32)	/* where a TX chain's stray writable buffer goes */
#define FZ_RX_SLOT	8448
#define FZ_MEM_SIZE	(UINT64_C(24) << 20)
#define FZ_LISTEN_PORT	1000		/* host ports 1000..1003 may listen */
#define FZ_GUEST_PORT	1024		/* guest ports 1024..1027 mostly */

/*
 * The oracle's view of one (host port, guest port) pair, built only from
 * what crossed the device (the tap) and what the device table holds when a
 * packet is tapped. The honest guest reuses tx_cnt as its fwd_cnt: it
 * consumes everything at once.
 */
struct fz_pair {
	uint32_t local, peer;
	bool closed;		/* an RST ended the last connection */
	bool guest_conn;	/* the last connection began with a guest REQUEST */
	bool resp_sent;		/* ... and the device answered it with RESPONSE */
	bool credit_known;	/* the device has seen the guest's buffer */
	uint32_t req_pending;	/* guest REQUESTs awaiting RESPONSE or RST */
	uint32_t owed;		/* RSTs the device may owe unknown-pair packets */
	uint32_t peer_buf_alloc, peer_fwd_cnt;
	uint32_t tx_cnt;	/* RW bytes sent to the guest on this connection */
	uint64_t guest_tx;	/* pattern offset of the guest's next payload */
};

/* The oracle's record of one host application end (script_conn.user). */
struct fz_app {
	struct script_conn *sc;
	bool host_closed;	/* closed by us: fwd_cnt may count discards */
	uint64_t h2g_recv;	/* bytes the guest received from it */
	uint64_t h2g_sent;	/* SEQPACKET bytes it queued (pattern offset) */
	uint8_t *g2h;		/* bytes the guest sent that the device accepted */
	size_t g2h_len, g2h_cap;
	size_t checked;		/* of sc->in, bytes already compared */
	struct fz_app *next;
};

struct fz {
	struct fg_mem mem;
	struct fg_queues q;		/* rx, tx, ev */
	struct vsock_device *dev;
	struct vsock_device_config cfg;
	struct script_backend sb;
	struct vsock_backend_ops ops;		/* counting wrappers */
	vsock_time_t now;
	uint32_t qsize;
	uint32_t guest_buf_alloc;
	uint64_t rx_pool, tx_pool, ev_pool;
	uint16_t rx_free[FZ_QSIZE_MAX];
	unsigned nrx_free;
	bool tx_busy[FZ_TX_SLOTS];
	uint32_t tx_len[FZ_TX_SLOTS];
	uint64_t tx_hash[FZ_TX_SLOTS];
	bool auto_repost;
	uint8_t rx_shape;
	bool rx_tainted, tx_tainted;	/* the driver itself lied on that ring */
	struct fz_pair *pairs;
	size_t npairs, cappairs;
	struct fz_app *apps;
	uint8_t *pkt;			/* scratch for one packet */
	uint64_t work;			/* backend calls in this action */
	uint64_t step_packets;		/* packets tapped in this action */
	uint64_t digest;
	size_t action;
	struct fuzz_result *res;
	const struct fuzz_exec_opts *opts;
};

/* oracle.c */
void fz_fail(struct fz *fz, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct fz_pair *fz_pair_get(struct fz *fz, uint32_t local, uint32_t peer);
void fz_pairs_reset(struct fz *fz);
struct fz_app *fz_app_of(struct fz *fz, struct script_conn *sc);
void fz_tap(void *ctx, const struct vsock_tap_record *rec);
void fz_check_step(struct fz *fz);
void fz_check_end(struct fz *fz);
void fz_apps_free(struct fz *fz);

#endif

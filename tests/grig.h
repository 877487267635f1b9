/* grig.h - the guest rig: the simulated Linux guest, the device and a scripted host in one test fixture. */
#ifndef VSE_TESTS_GRIG_H
#define VSE_TESTS_GRIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend-script.h"
#include "device.h"
#include "mem.h"
#include "sock.h"
#include "vsock.h"

struct flight;

#define GRIG_GUEST_CID		3
/* Rounds one grig_settle may take before the rig calls it a busy loop. */
#define GRIG_MAX_ROUNDS		200000

/*
 * The knobs a test turns; grig_config_defaults gives the Firecracker
 * profile, STREAM only, Linux's guest (4 KiB RX buffers, linear TX).
 */
struct grig_config {
	enum vsock_profile profile;
	bool seqpacket;			/* device offers, guest acks */
	uint32_t max_conns;		/* device's limit; 0: the default */
	enum fg_tx_layout tx_layout;
	uint32_t tx_frag_size;		/* FG_TX_FRAGS piece size */
	bool tx_indirect;		/* guest puts TX chains in tables */
	uint32_t rx_buf_size;		/* guest RX buffer payload bytes */
	uint32_t qsize;			/* every queue's size */
	unsigned max_socks;		/* guest socket table */
	uint32_t tx_slots;		/* guest TX packet buffers */
};

/* Packets the rig remembers, to name the culprits of a busy loop. */
#define GRIG_TRACE	8

/* One packet that crossed the device (header fields only). */
struct grig_trace {
	enum vsock_tap_dir dir;
	struct vsock_hdr hdr;
};

/*
 * Guest memory, the guest stack over it, the device over the guest's
 * rings and the scripted host application behind the device. Queue
 * notifications only raise flags; grig_settle delivers them, as an event
 * loop would, so no call re-enters the other side.
 */
struct grig {
	struct grig_config cfg;
	struct fg_mem mem;
	struct fg_vsock *vs;
	struct vsock_device *dev;
	struct script_backend sb;
	uint64_t now;			/* virtual time, ns */
	bool kick;			/* the guest notified the device */
	bool irq;			/* the device interrupted the guest */
	uint64_t kicks, irqs;		/* totals, for tests that count */
	unsigned last_rounds;		/* rounds the last settle took */
	struct grig_trace trace[GRIG_TRACE];	/* the last packets, a ring */
	uint64_t npackets;
	struct flight *flight;		/* the same whole, for a failure */
};

void grig_config_defaults(struct grig_config *c);

/* Builds and starts the rig; any failure fails the running test. */
struct grig *grig_new_cfg(const struct grig_config *c);
struct grig *grig_new(void);

/* Checks once more (grig_check), then frees everything. */
void grig_free(struct grig *g);

/*
 * Asserts that the device broke no rule the guest checks
 * (fg_vsock_violation) and that the guest broke no ring rule (no device
 * queue is broken).
 */
void grig_check(struct grig *g);

/*
 * Moves virtual time to now (never back) and runs kicks, interrupts and
 * every timer due until nothing moves, then grig_check. Fails the test
 * after GRIG_MAX_ROUNDS rounds: the two sides would be busy-looping.
 */
void grig_settle(struct grig *g, uint64_t now);

/*
 * Advances virtual time by ns, stopping at every device and guest
 * deadline on the way so that timers fire in order, settling at each.
 */
void grig_advance(struct grig *g, uint64_t ns);

/* --- guest application helpers (each settles afterwards) --- */

/* A guest socket bound to port and listening (backlog). */
int grig_listen(struct grig *g, uint16_t type, uint32_t port, int backlog);

/* A guest socket connecting to host port; the outcome is settled. */
int grig_connect(struct grig *g, uint16_t type, uint32_t port);

/* The guest's local port of fd. */
uint32_t grig_local_port(struct grig *g, int fd);

/* The host application's end of the guest socket fd (must exist). */
struct script_conn *grig_host_end(struct grig *g, int fd);

/*
 * The host application connects to guest port; settled. *out is its end
 * (released when the guest refused).
 */
int grig_host_connect(struct grig *g, uint16_t type, uint32_t port,
    struct script_conn **out);

/*
 * Sends all len bytes from fd, settling whenever the credit or the TX
 * queue stops it; fails the test if nothing moves for a whole settle.
 */
void grig_send_all(struct grig *g, int fd, const void *buf, size_t len);

/* Receives exactly len bytes into buf the same way (STREAM). */
void grig_recv_all(struct grig *g, int fd, void *buf, size_t len);

#endif

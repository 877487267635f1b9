/* guest.h - a simulated Linux guest attached to a device: its RAM, the stack over it, the device's queues over its rings, and the loop between them. */
#ifndef FG_GUEST_H
#define FG_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "sock.h"

struct fg_guest;

/* The guest's knobs; 0 in a field means the default shown. */
struct fg_guest_config {
	uint64_t ram_size;		/* guest RAM, reserved lazily (64 MiB) */
	uint32_t qsize;			/* entries of each queue (128) */
	uint32_t rx_buf_size;		/* payload bytes per RX buffer (4096,
					 * Linux's) */
	unsigned max_socks;		/* socket handles (256) */
};

/* Rounds fg_guest_settle runs before it calls the two sides a busy loop. */
#define FG_GUEST_MAX_ROUNDS	100000

/*
 * Builds guest RAM and the Linux-like stack in it, and attaches them to dev
 * as Linux's driver would: acknowledges every feature dev offers, reads the
 * guest CID from dev's config space, sets dev's three queues up over the
 * stack's rings and posts the RX and event buffers (DRIVER_OK). The guest
 * takes dev's notify hook. Nothing runs until fg_guest_settle. cfg may be
 * NULL. Returns 0 or -VSE_ERR_* (nothing to free on failure).
 */
int fg_guest_new(struct vsock_device *dev, const struct fg_guest_config *cfg,
    struct fg_guest **out);

/*
 * Frees the stack and unmaps guest RAM. Free the device first: its queues
 * point into that RAM.
 */
void fg_guest_free(struct fg_guest *g);

/* The guest's socket stack: the handle every fg_sock_* call takes. */
struct fg_vsock *fg_guest_vsock(struct fg_guest *g);

/*
 * Moves time to now (never back) and runs, as an event loop would, the
 * guest's kicks, the device's interrupts and every timer of either side due
 * by now, until nothing moves. Returns true once quiet, false after
 * FG_GUEST_MAX_ROUNDS rounds: the two sides would be busy-looping.
 */
bool fg_guest_settle(struct fg_guest *g, vsock_time_t now);

/* The earlier of the device's and the guest's next deadlines. */
vsock_time_t fg_guest_next_deadline(const struct fg_guest *g);

/*
 * The first rule the device broke that the guest checks (a malformed
 * packet, credit overrun, a bad used element), or NULL.
 */
const char *fg_guest_violation(const struct fg_guest *g);

#endif

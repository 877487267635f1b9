/* sim-guest.h - a simulated guest driver over a device: guest RAM, the Linux-like stack, the device's queues over its rings. */
#ifndef VSOCKEMU_SIM_GUEST_H
#define VSOCKEMU_SIM_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "mem.h"
#include "vsock.h"

#define SIM_GUEST_RAM	(64u << 20)

/*
 * Maps guest RAM into mem, builds the stack (CID cid, max_socks sockets,
 * every feature dev offers acked, kick reported to kick(ctx)) into *vs
 * and binds dev's queues to its rings. Returns 0, or -1 with one line in
 * err; the caller frees what was made (fg_vsock_free, fg_mem_destroy).
 */
int sim_guest_new(struct vsock_device *dev, uint64_t cid, unsigned max_socks,
    fg_vsock_kick_fn kick, void *ctx, struct fg_mem *mem,
    struct fg_vsock **vs, char *err, size_t errlen);

/*
 * What the simulated guest and its device owe each other between rounds:
 * a kick (the guest queued TX buffers) and an interrupt (the device used
 * buffers). sim_guest_on_kick and sim_guest_on_irq note them (ctx: the
 * struct sim_guest_signals); sim_guest_deliver hands them over.
 */
struct sim_guest_signals {
	bool kick, irq;
};

void sim_guest_on_kick(void *ctx, unsigned q);
void sim_guest_on_irq(void *ctx, unsigned q);

/* Delivers a noted kick to dev and interrupt to vs; true if one was. */
bool sim_guest_deliver(struct sim_guest_signals *s, struct vsock_device *dev,
    struct fg_vsock *vs, uint64_t now);

/* The guest's applications, one round: true if one of them moved. */
typedef bool (*sim_guest_apps_fn)(void *ctx, uint64_t now);

#define SIM_GUEST_SETTLE_ROUNDS	100000

/*
 * What serve does before it sleeps: delivers noted kicks and interrupts
 * and runs apps (if not NULL) until nothing moves, at most
 * SIM_GUEST_SETTLE_ROUNDS rounds. True if anything moved.
 */
bool sim_guest_settle(struct sim_guest_signals *s, struct vsock_device *dev,
    struct fg_vsock *vs, sim_guest_apps_fn apps, void *ctx, uint64_t now);

#endif

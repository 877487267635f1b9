/* faults.h - faults the simulated guest can be told to commit: refuse or hold connections to a port, reset connections, stop posting RX buffers. */
#ifndef FG_FAULTS_H
#define FG_FAULTS_H

#include <stdbool.h>
#include <stdint.h>

#include "vsock.h"

/* Ports that may carry a fault at once (a bounded table). */
#define FG_FAULT_PORTS_MAX	64
/* The longest hold of a RESPONSE: one hour, in milliseconds. */
#define FG_FAULT_DELAY_MAX_MS	3600000u

/* What the guest does with a REQUEST to a listening port. */
enum fg_port_fault {
	FG_FAULT_NONE = 0,	/* answers RESPONSE, as Linux does */
	FG_FAULT_REFUSE,	/* answers RST, as with no listener */
	FG_FAULT_DELAY,		/* holds the RESPONSE for a while */
};

/*
 * Sets what happens to new connections to guest port: FG_FAULT_NONE
 * clears the port's fault, FG_FAULT_DELAY holds each RESPONSE delay_ms
 * (at most FG_FAULT_DELAY_MAX_MS) of the injected clock. Connections
 * already made are not touched. Returns 0, -EINVAL for a bad fault or
 * delay, -ENOSPC when FG_FAULT_PORTS_MAX ports carry one already.
 */
int fg_fault_set_port(struct fg_vsock *vs, uint32_t port,
    enum fg_port_fault fault, uint64_t delay_ms);

/* The fault set on port (FG_FAULT_NONE when none). */
enum fg_port_fault fg_fault_port(const struct fg_vsock *vs, uint32_t port);

/*
 * The guest resets its established connections whose local or peer port
 * is port (every one when all): each sends RST and ends with ECONNRESET,
 * as Linux's virtio_transport_reset() followed by
 * virtio_transport_do_close(). Returns how many it reset.
 */
unsigned fg_fault_reset(struct fg_vsock *vs, uint32_t port, bool all);

/*
 * Stops (paused) or starts again posting RX buffers: the device runs out
 * of buffers and must hold host data (back-pressure). Buffers the device
 * already filled are still received. Resuming posts every free buffer.
 */
void fg_fault_pause_rx(struct fg_vsock *vs, bool paused);

/* Is RX posting paused? */
bool fg_fault_rx_paused(const struct fg_vsock *vs);

/* RX buffers the device holds now (0: it can deliver nothing). */
uint32_t fg_fault_rx_posted(const struct fg_vsock *vs);

#endif

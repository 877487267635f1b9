/* vm-serve.h - `vsockemu serve --vm ...`: several simulated guests in one process, siblings routed between them. */
#ifndef VSOCKEMU_VM_SERVE_H
#define VSOCKEMU_VM_SERVE_H

#include <stdbool.h>
#include <stdint.h>

#include "options.h"
#include "ready.h"
#include "vm-spec.h"

/* What serve's options say for every VM. */
struct vm_serve_config {
	const struct vm_spec *vm;	/* checked by vm_specs_check */
	unsigned nvm;
	enum vsock_profile profile;
	uint32_t max_conns;
	bool seqpacket;
	uint64_t line_timeout_ms;
	const char *pcap;
	enum opt_verbosity verbose;
	struct ready *ready;		/* --ready-fd, --pidfile, NOTIFY_SOCKET */
};

/*
 * Runs one simulated guest, device and host side per VM on one loop
 * until a signal; returns serve's exit status (0, or 2 when a socket or
 * the capture cannot be set up).
 */
int vm_serve_run(const struct vm_serve_config *c);

#endif

/* options.h - option-argument parsing shared by the subcommands. */
#ifndef VSOCKEMU_OPTIONS_H
#define VSOCKEMU_OPTIONS_H

#include <stdint.h>

#include "device.h"

/* A whole unsigned decimal number no larger than max: 0, or -1. */
int opt_u64(const char *s, uint64_t max, uint64_t *out);

/* "firecracker" or "linux": 0, or -1. */
int opt_profile(const char *s, enum vsock_profile *out);

#endif

/* vsock-api.h - the vsock device's public headers: wire format, device, backend ops, tap record, introspection. */
#ifndef VSE_VSOCK_API_H
#define VSE_VSOCK_API_H

/* What these headers declare, libvsockemu exports (include/vsockemu/vsockemu.h). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#include "vsock-proto.h"
#include "pkt.h"
#include "credit-policy.h"
#include "vsock-time.h"
#include "tap-record.h"
#include "backend.h"
#include "device-event.h"
#include "device.h"
#include "device-info.h"

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#endif

/* guest-api.h - the simulated guest's public headers: a guest attached to a device and its socket API. */
#ifndef FG_GUEST_API_H
#define FG_GUEST_API_H

/* What these headers declare, libvsockemu exports (include/vsockemu/vsockemu.h). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#include "sock.h"
#include "guest.h"

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#endif

/* vsockemu.h - libvsockemu's public API: the virtio-vsock device model, a simulated Linux guest, vsockmon traces and replay (doc/api.md). */
#ifndef VSOCKEMU_H
#define VSOCKEMU_H

/*
 * Include this one header (pkg-config --cflags vsockemu points at it):
 *
 *   virtio-api.h  vse_strerror / vse_errname, guest memory (guestmem_*)
 *   vsock-api.h   the device (vsock_device_*), its profiles and CID, the
 *                 host side's ops table (struct vsock_backend_ops), the
 *                 tap record, introspection (vsock_device_get_info, ...)
 *   trace-api.h   vsockmon records, pcap writer and reader (vsock_pcap_*)
 *   guest-api.h   a simulated Linux guest attached to a device (fg_guest_*)
 *                 and its Linux-like socket API (fg_sock_*)
 *   replay-api.h  checking a device against a recorded trace (replay_*)
 *
 * How it is built: each layer's *-api.h lists that layer's public headers
 * under "#pragma GCC visibility push(default)". The library is compiled
 * with -fvisibility=hidden and each layer's *-api.h included first, so
 * exactly what those headers declare has default visibility, and
 * src/libvsockemu.sym, the link's export list, names the same symbols:
 * tests/exports.sh fails when the two disagree or when the installed
 * library exports anything else. A public header may include only public
 * headers (tests/layers.sh). The host side (AF_UNIX muxer, vhost-user)
 * is not part of the library.
 *
 * Errors: calls return 0 (or a count) on success and -VSE_ERR_* on failure,
 * except where a header says -errno (backend ops, fg_sock_*). Library code
 * never prints or exits. Time is always an argument (nanoseconds); nothing
 * reads a clock.
 */

#ifdef __cplusplus
extern "C" {
#endif

#include "virtio-api.h"
#include "vsock-api.h"
#include "trace-api.h"
#include "guest-api.h"
#include "replay-api.h"

#ifdef __cplusplus
}
#endif

#endif

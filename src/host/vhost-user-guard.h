/* vhost-user-guard.h - survive a front-end shrinking the file under guest memory we mapped. */
#ifndef VSE_VHOST_USER_GUARD_H
#define VSE_VHOST_USER_GUARD_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Mappings of front-end files that may SIGBUS. A front-end can truncate a
 * memfd it shared after SET_MEM_TABLE (one it could not or did not seal);
 * our next load or store in the lost pages then raises SIGBUS. Linux's
 * vhost sees -EFAULT from copy_from_user and errors the queue; a userspace
 * back-end needs a handler. Ours, installed process-wide on the first
 * vhu_guard_add(), does what libwayland-server does for truncated shm
 * pools: it maps private zeroed memory over the whole guarded range at the
 * same address, marks it lost and returns. The access that faulted is
 * retried and reads zeros, every later one too, so the device (which
 * treats every byte of guest memory as untrusted already) runs on to the
 * end of its call with consistent state, and nothing on the hot path pays
 * for the guard (no sigsetjmp per access). The owner polls
 * vhu_guard_lost() and ends the session.
 *
 * A SIGBUS outside every guarded range, or one sent by kill(), restores
 * the disposition that was there before and happens again under it, so
 * a real bug still dumps core (or reaches AddressSanitizer's report).
 */

/* How many ranges can be guarded at once: 8 sessions of 8 regions. */
#define VHU_GUARD_SLOTS 64

/*
 * Guards [addr, addr + len) (a whole mapping of ours). Returns a handle
 * (>= 0), or -VSE_ERR_MEM_TOO_MANY when every slot is taken, or
 * -VSE_ERR_INVAL when the handler cannot be installed.
 */
int vhu_guard_add(void *addr, size_t len);

/* Did a SIGBUS replace handle's range with zeroed memory? */
bool vhu_guard_lost(int handle);

/*
 * How many ranges were lost so far, process-wide: one load, so that an
 * owner can check after every call that ran the device and scan its own
 * handles only when this moved.
 */
unsigned long vhu_guard_losses(void);

/* Stops guarding handle's range (before it is unmapped). */
void vhu_guard_remove(int handle);

#endif

/* loop.h - the program's single-threaded epoll loop: fds, deadlines, signals. */
#ifndef VSOCKEMU_LOOP_H
#define VSOCKEMU_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"	/* VSOCK_EV_*: the loop's event bits too */

struct loop;

/* Called when fd has events (VSOCK_EV_*); now is the loop's clock. */
typedef void (*loop_fn)(void *ctx, int fd, unsigned events, uint64_t now);

/* Monotonic nanoseconds: the only clock the program reads. */
uint64_t loop_now(void);

/* A loop that also stops on SIGINT / SIGTERM / SIGHUP (blocked, via signalfd). */
int loop_new(struct loop **out);
void loop_free(struct loop *l);

/* A loop that takes no signals: a second thread's (guest-thread.c). */
int loop_new_quiet(struct loop **out);

/*
 * fn(ctx, true) just before loop_wait sleeps in epoll_wait and
 * fn(ctx, false) when it wakes, before any dispatch: the guest thread
 * holds its lock everywhere else (guest-thread.c).
 */
typedef void (*loop_idle_fn)(void *ctx, bool sleeping);
void loop_set_idle(struct loop *l, loop_idle_fn fn, void *ctx);

/* Watches fd for events with fn, or stops watching it (events 0). */
int loop_watch(struct loop *l, int fd, unsigned events, loop_fn fn,
    void *ctx);

/*
 * Waits until an fd is ready, a signal arrives or deadline (loop_now()
 * nanoseconds; UINT64_MAX waits forever) passes, and dispatches. Returns
 * false once a stop signal was received.
 */
bool loop_wait(struct loop *l, uint64_t deadline);

/*
 * SIGUSR1 becomes a request instead of killing the process (serve's
 * stats line); loop_wait returns after one arrives.
 */
int loop_catch_info_signal(struct loop *l);

/* Was SIGUSR1 received since the last call? (Clears it.) */
bool loop_info_requested(struct loop *l);

/* The signal that stopped the loop, or 0. */
int loop_stop_signal(const struct loop *l);

#endif

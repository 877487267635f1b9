/* wakeup.h - one thread notifying another through an eventfd written only when the receiver may be asleep. */
#ifndef VSOCKEMU_WAKEUP_H
#define VSOCKEMU_WAKEUP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * One direction of serve --guest-thread's notifications (the kick, the
 * interrupt). A notification is a flag; the eventfd is written only when
 * the receiver has said it may sleep. The receiver announces that it is
 * awake; before it sleeps it polls the flag a while, withdraws the
 * announcement, then looks at the flag once more. Sender: flag, then
 * announcement; receiver: announcement, then flag; all seq_cst, so one
 * of the two sees the other and no wakeup is lost (the store-load order
 * of virtio 1.2 2.7.10: Linux's virtio_mb() in virtqueue_enable_cb_delayed(),
 * the smp_mb() in vhost_enable_notify() before the ring is read again).
 *
 * The poll before sleeping adapts as KVM's halt polling does
 * (kvm_vcpu_halt() in virt/kvm/kvm_main.c): it grows while the answer
 * came soon after the receiver gave up, shrinks when it slept long.
 *
 * Or it spins only while the sender works (wakeup_set_spin): the two
 * directions between two threads know each other, and a receiver waits
 * for an answer only from a sender that is awake and not itself waiting,
 * as a mutex's waiter spins only while the owner runs (the kernel's
 * mutex_spin_on_owner(), glibc's PTHREAD_MUTEX_ADAPTIVE_NP). A sender
 * that sleeps or spins too has nothing coming: the receiver sleeps at
 * once instead of burning the CPU the other thread may need.
 */
struct wakeup {
	int fd;			/* an eventfd the receiver's loop watches */
	atomic_bool pending;	/* sent since the receiver last took it */
	atomic_bool awake;	/* the receiver looks at pending before sleeping */
	atomic_bool spinning;	/* ... but waits, in its poll or blocked */
	/* The other direction (its receiver is our sender), or NULL. */
	const struct wakeup *peer;
	bool polls;		/* the receiver calls wakeup_before_sleep */
	uint64_t max_ns;	/* the poll's bound (0: never poll) */
	bool fixed;		/* poll max_ns every time, not adapted */
	uint64_t poll_ns;	/* the poll's budget now */
	uint64_t gave_up_at;	/* when the last poll gave up, 0: none */
	/*
	 * Asked before a poll and every WAKEUP_GATE_NS of it (NULL: never):
	 * false ends the poll, as kvm_vcpu_can_poll() ends KVM's halt poll
	 * once another task wants the CPU (wakeup_set_gate).
	 */
	bool (*may_poll)(void *ctx);
	void *may_poll_ctx;
	/* Counters (wakeup_stats): the sender's and the receiver's. */
	atomic_uint_fast64_t sent, written, taken, polls_won, sleeps;
};

/*
 * Sets w up over an eventfd (not owned). The receiver starts asleep and
 * does not poll: a poll pays only with a core to spare for each thread
 * (doc/performance.md), so it is the caller's choice (serve's guest
 * thread polls while one is: guest_thread_set_halt_poll).
 */
void wakeup_init(struct wakeup *w, int fd);

/* Poll for up to max_ns before sleeping; fixed: always that long. */
void wakeup_set_poll(struct wakeup *w, uint64_t max_ns, bool fixed);

/*
 * Poll for up to max_ns before sleeping, but only while peer's receiver
 * (this direction's sender) is awake and not polling itself. The
 * heuristic reads peer's flags only: no notification depends on it.
 */
void wakeup_set_spin(struct wakeup *w, const struct wakeup *peer,
    uint64_t max_ns);

/*
 * Polls only while may_poll(ctx) says so: asked before each poll and now
 * and then during it (cpu-spare.h's question, the lock's waiters).
 */
void wakeup_set_gate(struct wakeup *w, bool (*may_poll)(void *ctx),
    void *ctx);

/* Sender: notifies; writes the eventfd only if the receiver may sleep. */
void wakeup_send(struct wakeup *w);

/*
 * Receiver: takes a notification (its eventfd said readable, or it is
 * about to look at the rings); true if one was sent. Empties the eventfd
 * when fd_ready. A receiver that polls is awake from here on.
 */
bool wakeup_take(struct wakeup *w, bool fd_ready);

/*
 * Receiver, before it sleeps: polls, then withdraws its announcement and
 * looks once more. True if a notification came: it stays awake and must
 * call this again before it sleeps. False: sleep on the eventfd.
 */
bool wakeup_before_sleep(struct wakeup *w);

/* Receiver, back from its sleep (whatever woke it): awake again. */
void wakeup_woke(struct wakeup *w);

/*
 * Receiver, awake but about to block elsewhere (a lock, a join): true
 * before, false after. It sends nothing meanwhile, so a peer's spin
 * (wakeup_set_spin) stops waiting for it, as mutex_spin_on_owner()
 * stops once the owner is off its CPU.
 */
void wakeup_set_blocked(struct wakeup *w, bool blocked);

#endif

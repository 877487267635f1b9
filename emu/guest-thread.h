/* guest-thread.h - the simulated guest on its own thread (a vCPU), meeting the device only in guest memory and two eventfds. */
#ifndef VSOCKEMU_GUEST_THREAD_H
#define VSOCKEMU_GUEST_THREAD_H

#include <stdbool.h>
#include <stdint.h>

#include "loop.h"
#include "vsock.h"

struct guest_thread;

/* What runs on the guest thread besides the stack (serve: the guest apps). */
struct guest_thread_ops {
	/* One turn of the guest's applications; true if anything moved. */
	bool (*run)(void *ctx, uint64_t now);
};

/*
 * Makes the two eventfds and the guest thread's own loop; nothing runs
 * yet. clock is the time both sides use (loop_now in serve, a test's
 * constant). Returns 0 or -errno.
 */
int guest_thread_new(uint64_t (*clock)(void), struct guest_thread **out);

/* G's loop: register the guest applications' fds here, before the start. */
struct loop *guest_thread_loop(struct guest_thread *gt);

/*
 * The stack's kick hook (fg_vsock_config.kick, ctx gt): runs on G and
 * writes the kick eventfd, as a vCPU's write to the notify register
 * reaches vhost through its ioeventfd.
 */
void guest_thread_kick(void *gt, unsigned q);

/*
 * The device's notify hook (vsock_device_set_notify, ctx gt): runs on D
 * and writes the interrupt eventfd, as vhost signals its call eventfd.
 */
void guest_thread_irq(void *gt, unsigned q);

/*
 * The kick eventfd D watches. guest_thread_take_kick empties it and says
 * whether G kicked (by the eventfd, or by the flag a polling D reads).
 */
int guest_thread_kick_fd(const struct guest_thread *gt);
bool guest_thread_take_kick(struct guest_thread *gt);

/*
 * D, before each sleep once it calls this at all: polls a while for a
 * kick (G then kicks without an eventfd write), and true if one came:
 * run the device instead of sleeping. As vhost-net's busy polling
 * (vhost_net_busy_poll()); G does the same for interrupts (wakeup.h).
 */
bool guest_thread_poll_kick(struct guest_thread *gt);

/*
 * D, back from a sleep in its loop (whatever woke it): it is awake and
 * will call guest_thread_poll_kick before it sleeps again, so G's kicks
 * need no eventfd write and G may wait for D (guest_thread_set_spin).
 */
void guest_thread_device_woke(struct guest_thread *gt);

/*
 * How long either side polls before sleeping: at most max_ns, adapted
 * (fixed: always max_ns; 0: never poll). Before guest_thread_start.
 */
void guest_thread_set_poll(struct guest_thread *gt, uint64_t max_ns,
    bool fixed);

/*
 * G, as a KVM vCPU halts (kvm_vcpu_halt(), halt_poll_ns): it polls for an
 * interrupt up to max_ns before it sleeps, adapted, but only while no
 * task waits for a CPU (cpu-spare.h) and no D caller for G's lock. D does
 * not poll, as Firecracker's event loop and vhost's worker do not.
 * fixed: always max_ns, not adapted (a test's). loadavg: where the
 * runnable tasks are read (NULL: /proc/loadavg). Before
 * guest_thread_start; 0: never poll.
 */
void guest_thread_set_halt_poll(struct guest_thread *gt, uint64_t max_ns,
    bool fixed, const char *loadavg);

/*
 * serve's bound (--halt-poll-ns): KVM's on x86, KVM_HALT_POLL_NS_DEFAULT,
 * the halt_poll_ns a vCPU polls for before it sleeps.
 */
#define GUEST_THREAD_HALT_POLL_NS	UINT64_C(200000)

/*
 * Each side polls up to max_ns before it sleeps, but only while the other
 * side works (awake, not polling itself): wakeup_set_spin. Before
 * guest_thread_start; 0: never poll.
 */
void guest_thread_set_spin(struct guest_thread *gt, uint64_t max_ns);

/*
 * What crossing threads cost so far: unlike wall time these counts do
 * not hang on the machine's load (the bench's *_per_mib rows).
 */
struct guest_thread_stats {
	uint64_t kicks;		/* the stack's kicks (guest_thread_kick) */
	uint64_t kick_writes;	/* ... that wrote the eventfd */
	uint64_t kick_polls_won;	/* D's polls a kick ended */
	uint64_t irqs;		/* the device's interrupts (guest_thread_irq) */
	uint64_t irq_writes;	/* ... that wrote the eventfd */
	uint64_t irq_polls_won;	/* G's polls an interrupt ended */
	uint64_t g_sleeps;	/* G's sleeps in its loop */
	uint64_t g_wakes;	/* D's wakes of G: stop, the control plane */
};
void guest_thread_stats(struct guest_thread *gt,
    struct guest_thread_stats *st);

/*
 * Starts G over vs (built with guest_thread_kick): each turn it polls the
 * stack (the interrupt handler and the guest's timers), then ops->run,
 * until nothing moves, then sleeps in its loop until the interrupt
 * eventfd, an application fd or the stack's next deadline. Returns 0 or
 * -errno.
 */
int guest_thread_start(struct guest_thread *gt, struct fg_vsock *vs,
    const struct guest_thread_ops *ops, void *ctx);

/*
 * The guest's state (vs, the applications) belongs to G, which holds this
 * lock except while it sleeps. D takes it only for the rare control-plane
 * reads and writes of that state (serve's SIGUSR1 counters, --control):
 * a VM's monitor stops the vCPUs for the same reason.
 */
void guest_thread_lock(struct guest_thread *gt);
/* Lets G go on, and wakes it to look at what D changed. */
void guest_thread_unlock(struct guest_thread *gt);

/* Stops and joins G (if started); the stack is the caller's again. */
void guest_thread_stop(struct guest_thread *gt);

/* Stops G, closes the eventfds and G's loop. NULL is fine. */
void guest_thread_free(struct guest_thread *gt);

#endif

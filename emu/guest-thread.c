/* guest-thread.c - the simulated guest on its own thread (a vCPU), meeting the device only in guest memory and two eventfds. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cpu-spare.h"
#include "guest-thread.h"
#include "wakeup.h"

/* Turns of one settle before G looks at its fds again (serve's bound). */
#define GUEST_THREAD_MAX_ROUNDS	100000

/*
 * Turns that skipped the sleep (an interrupt came while G polled) before
 * G looks at its fds anyway, without sleeping: a stream that keeps G
 * busy may not starve serve's guest-side sockets or the control plane.
 */
#define GUEST_THREAD_FD_LOOK	8

/*
 * Thread G runs the guest's stack and applications; thread D (the
 * caller's) the device, the host side and the loop. Like QEMU and a
 * vhost-user back-end they share guest memory (rings and buffers, ordered
 * by the rings' fences: fakeguest/ring.c, src/virtio/virtq.c) and two
 * eventfds (drivers/vhost/vsock.c: the kick and call eventfds). Nothing
 * else is touched by both, except under the lock below.
 */
struct guest_thread {
	int kick_fd;			/* G -> D: a queue notify */
	int irq_fd;			/* D -> G: a used buffer notification */
	/* Each eventfd written only when its reader may sleep (wakeup.h). */
	struct wakeup kick, irq;
	struct loop *loop;		/* G's: irq_fd, the applications' fds */
	uint64_t (*clock)(void);
	struct fg_vsock *vs;
	const struct guest_thread_ops *ops;
	void *ctx;
	pthread_t tid;
	bool started;
	atomic_bool stop;
	pthread_mutex_t lock;		/* G's state; G's except while it sleeps */
	pthread_cond_t handed;		/* D is done with the lock */
	atomic_uint waiters;		/* D callers waiting for the lock */
	atomic_uint_fast64_t wakes;	/* wake_g's (guest_thread_stats) */
	struct cpu_spare spare;		/* G's halt poll asks it */
};

/*
 * Wakes G whatever it is doing (stop, the control plane's unlock): the
 * flag for a G that polls, the eventfd for one that sleeps.
 */
static void
wake_g(struct guest_thread *gt)
{
	uint64_t one = 1;

	atomic_store(&gt->irq.pending, true);
	/* A full counter (write fails): G is due anyway. */
	(void)!write(gt->irq_fd, &one, sizeof(one));
	atomic_fetch_add(&gt->wakes, 1);	/* after: all is published */
}

int
guest_thread_new(uint64_t (*clock)(void), struct guest_thread **out)
{
	struct guest_thread *gt = calloc(1, sizeof(*gt));
	int e;

	*out = NULL;
	if (gt == NULL)
		return -ENOMEM;
	gt->clock = clock;
	gt->spare.fd = -1;
	gt->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	gt->irq_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (gt->kick_fd < 0 || gt->irq_fd < 0) {
		e = -errno;
		goto fail;
	}
	wakeup_init(&gt->kick, gt->kick_fd);
	wakeup_init(&gt->irq, gt->irq_fd);
	if ((e = loop_new_quiet(&gt->loop)) < 0)
		goto fail;
	if ((e = pthread_mutex_init(&gt->lock, NULL)) != 0 ||
	    (e = pthread_cond_init(&gt->handed, NULL)) != 0) {
		e = -e;
		goto fail;
	}
	*out = gt;
	return 0;
fail:
	if (gt->kick_fd >= 0)
		close(gt->kick_fd);
	if (gt->irq_fd >= 0)
		close(gt->irq_fd);
	loop_free(gt->loop);
	free(gt);
	return e;
}

struct loop *
guest_thread_loop(struct guest_thread *gt)
{
	return gt->loop;
}

void
guest_thread_kick(void *ctx, unsigned q)
{
	(void)q;	/* the device looks at every queue on any kick */
	wakeup_send(&((struct guest_thread *)ctx)->kick);
}

void
guest_thread_irq(void *ctx, unsigned q)
{
	(void)q;	/* the guest's handler polls all three queues */
	wakeup_send(&((struct guest_thread *)ctx)->irq);
}

int
guest_thread_kick_fd(const struct guest_thread *gt)
{
	return gt->kick_fd;
}

bool
guest_thread_take_kick(struct guest_thread *gt)
{
	return wakeup_take(&gt->kick, true);
}

bool
guest_thread_poll_kick(struct guest_thread *gt)
{
	return wakeup_before_sleep(&gt->kick);
}

void
guest_thread_device_woke(struct guest_thread *gt)
{
	wakeup_woke(&gt->kick);
}

void
guest_thread_set_poll(struct guest_thread *gt, uint64_t max_ns, bool fixed)
{
	wakeup_set_poll(&gt->kick, max_ns, fixed);
	wakeup_set_poll(&gt->irq, max_ns, fixed);
}

/*
 * G's halt poll goes on only while no D caller waits for G's lock (G
 * holds it while it polls) and no task waits for a CPU.
 */
static bool
g_may_poll(void *ctx)
{
	struct guest_thread *gt = ctx;

	return atomic_load(&gt->waiters) == 0 && cpu_spare_now(&gt->spare);
}

void
guest_thread_set_halt_poll(struct guest_thread *gt, uint64_t max_ns,
    bool fixed, const char *loadavg)
{
	if (max_ns != 0 && gt->spare.fd < 0)
		cpu_spare_open(&gt->spare, loadavg);
	wakeup_set_poll(&gt->irq, max_ns, fixed);
	wakeup_set_gate(&gt->irq, max_ns != 0 ? g_may_poll : NULL, gt);
}

void
guest_thread_set_spin(struct guest_thread *gt, uint64_t max_ns)
{
	/* D waits for G's kicks while G works, G for D's interrupts. */
	wakeup_set_spin(&gt->kick, &gt->irq, max_ns);
	wakeup_set_spin(&gt->irq, &gt->kick, max_ns);
}

void
guest_thread_stats(struct guest_thread *gt, struct guest_thread_stats *st)
{
	st->kicks = atomic_load(&gt->kick.sent);
	st->kick_writes = atomic_load(&gt->kick.written);
	st->kick_polls_won = atomic_load(&gt->kick.polls_won);
	st->irqs = atomic_load(&gt->irq.sent);
	st->irq_writes = atomic_load(&gt->irq.written);
	st->irq_polls_won = atomic_load(&gt->irq.polls_won);
	st->g_sleeps = atomic_load(&gt->irq.sleeps);
	st->g_wakes = atomic_load(&gt->wakes);
}

/* The interrupt: G polls the stack on every turn, so only empty it. */
static void
on_irq_fd(void *ctx, int fd, unsigned events, uint64_t now)
{
	struct guest_thread *gt = ctx;

	(void)fd;
	(void)events;
	(void)now;
	(void)wakeup_take(&gt->irq, true);
}

/*
 * G lets go of its lock only while it sleeps; on waking it lets every
 * waiting D caller go first, so a busy guest cannot starve the control
 * plane (a mutex is not fair).
 */
static void
on_idle(void *ctx, bool sleeping)
{
	struct guest_thread *gt = ctx;

	if (sleeping) {
		pthread_mutex_unlock(&gt->lock);
		return;
	}
	pthread_mutex_lock(&gt->lock);
	while (atomic_load(&gt->waiters) != 0)
		pthread_cond_wait(&gt->handed, &gt->lock);
}

void
guest_thread_lock(struct guest_thread *gt)
{
	atomic_fetch_add(&gt->waiters, 1);
	/*
	 * G holds the lock until it sleeps: blocked here, D may not look
	 * busy, or G spins out its bound (wakeup_set_spin) before it lets go.
	 */
	wakeup_set_blocked(&gt->kick, true);
	pthread_mutex_lock(&gt->lock);
	wakeup_set_blocked(&gt->kick, false);
	atomic_fetch_sub(&gt->waiters, 1);
}

void
guest_thread_unlock(struct guest_thread *gt)
{
	pthread_cond_broadcast(&gt->handed);
	pthread_mutex_unlock(&gt->lock);
	/* What D changed (a paused RX resumed) is G's to act on: wake it. */
	wake_g(gt);
}

/* The stack's deadline (gt->clock's time) as a loop_now() deadline. */
static uint64_t
loop_deadline(const struct guest_thread *gt, uint64_t now)
{
	uint64_t d = fg_vsock_next_deadline(gt->vs);

	if (d == UINT64_MAX)
		return UINT64_MAX;
	return d <= now ? 0 : loop_now() + (d - now);
}

static void *
guest_main(void *arg)
{
	struct guest_thread *gt = arg;
	unsigned rounds, unslept = 0;
	uint64_t now, deadline;

	pthread_mutex_lock(&gt->lock);
	for (;;) {
		/*
		 * Taken before the rings are read: an interrupt from here on
		 * leaves the flag set for wakeup_before_sleep (the seq_cst
		 * exchange orders the used-ring reads after the device's).
		 * And before stop is read: a stop's wake taken here is seen
		 * here (guest_thread_stop stores stop first). Read before
		 * the take, a stop landing in between lost its wake, and G
		 * polled for it while D, awake in pthread_join, looked busy:
		 * a spin (wakeup_set_spin) ran out its whole bound.
		 */
		(void)wakeup_take(&gt->irq, false);
		if (atomic_load(&gt->stop))
			break;
		now = gt->clock();
		/* The interrupt handler and the timers, then the apps. */
		for (rounds = 0; rounds < GUEST_THREAD_MAX_ROUNDS; rounds++) {
			fg_vsock_poll(gt->vs, now);
			if (gt->ops == NULL || gt->ops->run == NULL ||
			    !gt->ops->run(gt->ctx, now))
				break;
		}
		deadline = loop_deadline(gt, now);
		/* Work left or a timer due: look at the fds, do not sleep. */
		if (rounds == GUEST_THREAD_MAX_ROUNDS || deadline == 0) {
			loop_wait(gt->loop, 0);
			continue;
		}
		/*
		 * An interrupt while G polled: the next turn, and now and
		 * then a look at the fds (and the lock's hand-over) on the
		 * way.
		 */
		if (wakeup_before_sleep(&gt->irq)) {
			if (++unslept >= GUEST_THREAD_FD_LOOK) {
				unslept = 0;
				loop_wait(gt->loop, 0);
			}
			continue;
		}
		unslept = 0;
		loop_wait(gt->loop, deadline);
		wakeup_woke(&gt->irq);
	}
	pthread_mutex_unlock(&gt->lock);
	return NULL;
}

int
guest_thread_start(struct guest_thread *gt, struct fg_vsock *vs,
    const struct guest_thread_ops *ops, void *ctx)
{
	int e;

	gt->vs = vs;
	gt->ops = ops;
	gt->ctx = ctx;
	if ((e = loop_watch(gt->loop, gt->irq_fd, VSOCK_EV_READ, on_irq_fd,
	    gt)) < 0)
		return e;
	loop_set_idle(gt->loop, on_idle, gt);
	atomic_store(&gt->stop, false);
	if ((e = pthread_create(&gt->tid, NULL, guest_main, gt)) != 0)
		return -e;
	gt->started = true;
	return 0;
}

void
guest_thread_stop(struct guest_thread *gt)
{
	if (gt == NULL || !gt->started)
		return;
	atomic_store(&gt->stop, true);
	wake_g(gt);			/* to see stop */
	pthread_join(gt->tid, NULL);
	gt->started = false;
	/* The caller's thread runs the loop's callbacks from now on. */
	loop_set_idle(gt->loop, NULL, NULL);
}

void
guest_thread_free(struct guest_thread *gt)
{
	if (gt == NULL)
		return;
	guest_thread_stop(gt);
	cpu_spare_close(&gt->spare);
	close(gt->kick_fd);
	close(gt->irq_fd);
	loop_free(gt->loop);
	pthread_cond_destroy(&gt->handed);
	pthread_mutex_destroy(&gt->lock);
	free(gt);
}

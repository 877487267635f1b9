/* guest-thread.c - the simulated guest on its own thread (a vCPU), meeting the device only in guest memory and two eventfds. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "guest-thread.h"

/* Turns of one settle before G looks at its fds again (serve's bound). */
#define GUEST_THREAD_MAX_ROUNDS	100000

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
	/* guest_thread_stats: what each side paid to notify the other. */
	atomic_uint_fast64_t kick_signals, irq_signals, kick_takes,
	    irq_takes, sleeps;
};

/* A counter only its writer's thread moves; read any time. */
static void
count(atomic_uint_fast64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* One eventfd signal; a full counter (2^64-2) has its reader due anyway. */
static void
efd_signal(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0)
		return;
}

/* Empties an eventfd; true if it had been signalled. */
static bool
efd_take(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v);
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
	gt->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	gt->irq_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (gt->kick_fd < 0 || gt->irq_fd < 0) {
		e = -errno;
		goto fail;
	}
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
	struct guest_thread *gt = ctx;

	(void)q;	/* the device looks at every queue on any kick */
	count(&gt->kick_signals);
	efd_signal(gt->kick_fd);
}

void
guest_thread_irq(void *ctx, unsigned q)
{
	struct guest_thread *gt = ctx;

	(void)q;	/* the guest's handler polls all three queues */
	count(&gt->irq_signals);
	efd_signal(gt->irq_fd);
}

int
guest_thread_kick_fd(const struct guest_thread *gt)
{
	return gt->kick_fd;
}

bool
guest_thread_take_kick(struct guest_thread *gt)
{
	if (!efd_take(gt->kick_fd))
		return false;
	count(&gt->kick_takes);
	return true;
}

void
guest_thread_stats(struct guest_thread *gt, struct guest_thread_stats *st)
{
	st->kick_signals = atomic_load(&gt->kick_signals);
	st->irq_signals = atomic_load(&gt->irq_signals);
	st->kick_takes = atomic_load(&gt->kick_takes);
	st->irq_takes = atomic_load(&gt->irq_takes);
	st->sleeps = atomic_load(&gt->sleeps);
}

/* The interrupt: G polls the stack on every turn, so only empty it. */
static void
on_irq_fd(void *ctx, int fd, unsigned events, uint64_t now)
{
	struct guest_thread *gt = ctx;

	(void)events;
	(void)now;
	if (efd_take(fd))
		count(&gt->irq_takes);
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
		count(&gt->sleeps);
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
	pthread_mutex_lock(&gt->lock);
	atomic_fetch_sub(&gt->waiters, 1);
}

void
guest_thread_unlock(struct guest_thread *gt)
{
	pthread_cond_broadcast(&gt->handed);
	pthread_mutex_unlock(&gt->lock);
	/* What D changed (a paused RX resumed) is G's to act on: wake it. */
	efd_signal(gt->irq_fd);
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
	unsigned rounds;
	uint64_t now;

	pthread_mutex_lock(&gt->lock);
	while (!atomic_load(&gt->stop)) {
		now = gt->clock();
		/* The interrupt handler and the timers, then the apps. */
		for (rounds = 0; rounds < GUEST_THREAD_MAX_ROUNDS; rounds++) {
			fg_vsock_poll(gt->vs, now);
			if (gt->ops == NULL || gt->ops->run == NULL ||
			    !gt->ops->run(gt->ctx, now))
				break;
		}
		loop_wait(gt->loop, loop_deadline(gt, now));
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
	efd_signal(gt->irq_fd);		/* wake it to see stop */
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
	close(gt->kick_fd);
	close(gt->irq_fd);
	loop_free(gt->loop);
	pthread_cond_destroy(&gt->handed);
	pthread_mutex_destroy(&gt->lock);
	free(gt);
}

/* wakeup.c - one thread notifying another through an eventfd written only when the receiver may be asleep. */
#include "config.h"

#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "wakeup.h"

/* Where the adaptive poll starts growing from, ns (KVM: grow_start). */
#define WAKEUP_POLL_START_NS	UINT64_C(2000)

/* How often a poll asks its gate again (a system call here), ns. */
#define WAKEUP_GATE_NS		UINT64_C(20000)

/* Pauses between looks at the clock, and between yields of the CPU. */
#define WAKEUP_CLOCK_EVERY	32u
#define WAKEUP_YIELD_EVERY	256u

/* A counter only one thread moves; read any time. */
static void
count(atomic_uint_fast64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* One turn of a polling loop: tell the core (and a hyperthread) we wait. */
static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

void
wakeup_init(struct wakeup *w, int fd)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
}

void
wakeup_set_poll(struct wakeup *w, uint64_t max_ns, bool fixed)
{
	w->max_ns = max_ns;
	w->fixed = fixed;
	w->poll_ns = fixed || max_ns < WAKEUP_POLL_START_NS ? max_ns :
	    WAKEUP_POLL_START_NS;
}

void
wakeup_set_gate(struct wakeup *w, bool (*may_poll)(void *ctx), void *ctx)
{
	w->may_poll = may_poll;
	w->may_poll_ctx = ctx;
}

/* The gate lets the poll go on (or there is none). */
static bool
gate_open(const struct wakeup *w)
{
	return w->may_poll == NULL || w->may_poll(w->may_poll_ctx);
}

void
wakeup_set_spin(struct wakeup *w, const struct wakeup *peer, uint64_t max_ns)
{
	wakeup_set_poll(w, max_ns, true);
	w->peer = peer;
}

/*
 * The sender may answer soon: it is awake and not waiting in its own
 * poll. Relaxed: a stale answer costs one more turn of the poll or one
 * sleep, never a notification (pending and awake carry those).
 */
static bool
peer_works(const struct wakeup *w)
{
	return w->peer == NULL ||
	    (atomic_load_explicit(&w->peer->awake, memory_order_relaxed) &&
	    !atomic_load_explicit(&w->peer->spinning, memory_order_relaxed));
}

void
wakeup_send(struct wakeup *w)
{
	uint64_t one = 1;

	count(&w->sent);
	atomic_store(&w->pending, true);
	if (atomic_load(&w->awake))
		return;		/* it looks at pending before it sleeps */
	count(&w->written);
	/* A full counter (2^64-2) has its reader due anyway. */
	if (write(w->fd, &one, sizeof(one)) < 0)
		return;
}

/*
 * The receiver is back from a sleep that began when its poll gave up:
 * an answer that came within the bound would have been caught by a
 * longer poll (grow); a long sleep means the poll was wasted (shrink).
 */
static void
adapt(struct wakeup *w)
{
	uint64_t slept;

	if (w->gave_up_at == 0 || w->fixed)
		return;
	slept = loop_now() - w->gave_up_at;
	w->gave_up_at = 0;
	if (slept <= w->max_ns && w->poll_ns < w->max_ns) {
		w->poll_ns = w->poll_ns < WAKEUP_POLL_START_NS ?
		    WAKEUP_POLL_START_NS : w->poll_ns * 2;
		if (w->poll_ns > w->max_ns)
			w->poll_ns = w->max_ns;
	} else if (slept > w->max_ns) {
		w->poll_ns /= 2;
	}
}

void
wakeup_woke(struct wakeup *w)
{
	if (!w->polls)
		return;
	atomic_store(&w->awake, true);
	adapt(w);
}

void
wakeup_set_blocked(struct wakeup *w, bool blocked)
{
	/* Relaxed, as peer_works reads it: a heuristic, no notification. */
	atomic_store_explicit(&w->spinning, blocked, memory_order_relaxed);
}

bool
wakeup_take(struct wakeup *w, bool fd_ready)
{
	uint64_t v;
	bool signalled = false;

	if (fd_ready && read(w->fd, &v, sizeof(v)) == (ssize_t)sizeof(v)) {
		signalled = true;
		count(&w->taken);
	}
	wakeup_woke(w);
	/* seq_cst: what the sender published before the flag is seen after. */
	return atomic_exchange(&w->pending, false) || signalled;
}

/*
 * Polls pending for up to ns, while the sender works; true if it was set
 * (it stays set).
 */
static bool
poll_pending(struct wakeup *w, uint64_t ns)
{
	uint64_t deadline, gate_at, now;
	unsigned i;

	if (ns == 0 || !gate_open(w))
		return false;
	now = loop_now();
	deadline = now + ns;
	gate_at = now + WAKEUP_GATE_NS;
	for (i = 1;; i++) {
		if (atomic_load_explicit(&w->pending, memory_order_relaxed))
			return true;
		if (!peer_works(w))
			return false;
		cpu_relax();
		if (i % WAKEUP_CLOCK_EVERY != 0)
			continue;
		if ((now = loop_now()) >= deadline)
			return false;
		if (now >= gate_at) {
			if (!gate_open(w))
				return false;
			gate_at = now + WAKEUP_GATE_NS;
		}
		/* A sender on this CPU gets its turn (an overloaded host). */
		if (i % WAKEUP_YIELD_EVERY == 0)
			sched_yield();
	}
}

bool
wakeup_before_sleep(struct wakeup *w)
{
	w->polls = true;
	atomic_store(&w->awake, true);
	adapt(w);	/* it slept since the last poll gave up */
	atomic_store_explicit(&w->spinning, true, memory_order_relaxed);
	if (poll_pending(w, w->poll_ns)) {
		atomic_store_explicit(&w->spinning, false,
		    memory_order_relaxed);
		count(&w->polls_won);
		(void)atomic_exchange(&w->pending, false);
		return true;
	}
	atomic_store_explicit(&w->spinning, false, memory_order_relaxed);
	/* Withdraw, then look once more: a send in between wrote nothing. */
	atomic_store(&w->awake, false);
	if (atomic_exchange(&w->pending, false)) {
		atomic_store(&w->awake, true);
		return true;
	}
	count(&w->sleeps);
	w->gave_up_at = loop_now();
	return false;
}

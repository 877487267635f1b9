/* vsp-epoll.c - epoll of AF_VSOCK fds whose non-blocking connect still waits for its answer. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "vsp.h"

#define NEXT(name) \
	static __typeof__(name) *next_##name; \
	if (next_##name == NULL) \
		next_##name = (__typeof__(name) *)vsp_next(#name)

/*
 * Why epoll is interposed at all. Linux's vsock_poll() reports nothing for
 * a connecting socket (TCP_SYN_SENT), EPOLLOUT once established and
 * EPOLLERR once it failed. The carrier is an AF_UNIX socket connected to
 * serve at once, writable at once, and the kernel polls the file, not our
 * state: no trick on the fd can help, since replacing the file (dup2 of a
 * placeholder) silently drops it from every epoll set. So while the
 * connect waits, each of the program's registrations of the fd is
 * switched to what decides it, the reply line arriving (EPOLLIN), with a
 * tag for data so that epoll_wait() knows the event is ours; once the
 * connect is decided the program's own events and data are put back and
 * the kernel answers again (vsp_epoll_restore). An event of ours is never
 * handed to the program: a connect that succeeded is reported by the
 * kernel's next answer (EPOLL_CTL_MOD re-polls the file), one that failed
 * as Linux's EPOLLERR | EPOLLOUT, once.
 */

/* data.u64 of a held registration: "vspE" and the fd. */
#define HOLD_TAG	0x76737045ULL

/* At most this many connects are held at once; more poll as the carrier. */
#define MAX_HELD	64

static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
static int held[MAX_HELD];
static int n_held;

static int
real_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	NEXT(epoll_ctl);
	return next_epoll_ctl(epfd, op, fd, ev);
}

/* Is fd in held[]? Its index, or -1 (held_lock taken). */
static int
held_index(int fd)
{
	int i;

	for (i = 0; i < n_held; i++)
		if (held[i] == fd)
			return i;
	return -1;
}

/* Adds fd to held[]; false when it is full. */
static bool
held_add(int fd)
{
	bool ok = true;

	pthread_mutex_lock(&held_lock);
	if (held_index(fd) < 0) {
		if (n_held < MAX_HELD)
			held[n_held++] = fd;
		else
			ok = false;
	}
	pthread_mutex_unlock(&held_lock);
	return ok;
}

void
vsp_epoll_forget(int fd)
{
	int i;

	pthread_mutex_lock(&held_lock);
	if ((i = held_index(fd)) >= 0)
		held[i] = held[--n_held];
	pthread_mutex_unlock(&held_lock);
}

/* Is any connect held? (epoll_wait's fast path: none.) */
static bool
any_held(void)
{
	int n;

	pthread_mutex_lock(&held_lock);
	n = n_held;
	pthread_mutex_unlock(&held_lock);
	return n > 0;
}

/* The registration of fd's connect reply, for epoll instance r. */
static struct epoll_event
held_event(int fd, const struct vsp_epreg *r)
{
	struct epoll_event ev;

	ev.events = EPOLLIN | EPOLLRDHUP | (r->ev.events & EPOLLEXCLUSIVE);
	ev.data.u64 = HOLD_TAG << 32 | (uint32_t)fd;
	return ev;
}

void
vsp_epoll_hold(int fd, struct vsp_sock *s)
{
	struct epoll_event ev;
	int i;

	if (s->n_ep == 0 || !held_add(fd))
		return;
	for (i = 0; i < s->n_ep; i++) {
		ev = held_event(fd, &s->ep[i]);
		(void)real_ctl(s->ep[i].epfd, EPOLL_CTL_MOD, fd, &ev);
	}
}

void
vsp_epoll_restore(int fd, struct vsp_sock *s)
{
	int i;

	vsp_epoll_forget(fd);
	for (i = 0; i < s->n_ep; i++)
		if (real_ctl(s->ep[i].epfd, EPOLL_CTL_MOD, fd, &s->ep[i].ev) < 0 &&
		    errno == ENOENT)	/* a new carrier: the old file's is gone */
			(void)real_ctl(s->ep[i].epfd, EPOLL_CTL_ADD, fd,
			    &s->ep[i].ev);
}

/* s's registration in epfd, or NULL. */
static struct vsp_epreg *
find_reg(struct vsp_sock *s, int epfd)
{
	int i;

	for (i = 0; i < s->n_ep; i++)
		if (s->ep[i].epfd == epfd)
			return &s->ep[i];
	return NULL;
}

/* Remembers (or forgets, ev NULL) the program's registration of s in epfd. */
static void
remember(struct vsp_sock *s, int epfd, const struct epoll_event *ev)
{
	struct vsp_epreg *r = find_reg(s, epfd);

	if (ev == NULL) {
		if (r != NULL)
			*r = s->ep[--s->n_ep];
		return;
	}
	if (r == NULL && s->n_ep < VSP_MAX_EP)
		r = &s->ep[s->n_ep++];
	if (r != NULL)
		*r = (struct vsp_epreg){ epfd, *ev };
}

/*
 * epoll_ctl(2). A vsock fd's registrations are remembered (up to
 * VSP_MAX_EP epoll instances) so that a connect can hold and restore
 * them; one made while the connect waits is held at once.
 */
int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct vsp_sock *s = vsp_get(fd);
	struct epoll_event h;
	struct vsp_epreg r;
	int ret;

	if (s == NULL || (op != EPOLL_CTL_DEL && ev == NULL))
		return real_ctl(epfd, op, fd, ev);
	if (op == EPOLL_CTL_DEL) {
		if ((ret = real_ctl(epfd, op, fd, ev)) == 0)
			remember(s, epfd, NULL);
		return ret;
	}
	r = (struct vsp_epreg){ epfd, *ev };
	h = held_event(fd, &r);
	if (s->state == VSP_CONNECTING && find_reg(s, epfd) == NULL &&
	    s->n_ep == VSP_MAX_EP)
		return real_ctl(epfd, op, fd, ev);	/* not held: as before */
	if (s->state == VSP_CONNECTING && held_add(fd))
		ret = real_ctl(epfd, op, fd, &h);
	else
		ret = real_ctl(epfd, op, fd, ev);
	if (ret == 0)
		remember(s, epfd, ev);
	return ret;
}

/* What the program is told of a connect that failed: Linux's vsock_poll(). */
static bool
failed_event(int epfd, struct vsp_sock *s, struct epoll_event *out)
{
	struct vsp_epreg *r = find_reg(s, epfd);

	if (r == NULL)
		return false;
	out->events = EPOLLERR | (r->ev.events & (EPOLLOUT | EPOLLWRNORM));
	out->data = r->ev.data;
	return true;
}

/*
 * Takes the events of held connects out of evs[0..n): a connect the event
 * decided is restored (vsp_connect_progress) and, when it failed, reported
 * in place of the event. Returns how many events remain for the program.
 */
static int
translate(int epfd, struct epoll_event *evs, int n)
{
	struct vsp_sock *s;
	int i, k = 0, fd;

	for (i = 0; i < n; i++) {
		struct epoll_event e = evs[i];

		if (e.data.u64 >> 32 != HOLD_TAG) {
			evs[k++] = e;
			continue;
		}
		fd = (int)(uint32_t)e.data.u64;
		s = vsp_get(fd);
		if (s == NULL || s->state != VSP_CONNECTING)
			continue;
		if (vsp_connect_progress(fd, s) < 0 &&
		    failed_event(epfd, s, &evs[k]))
			k++;
	}
	return k;
}

/*
 * Connects held in epfd whose SO_VM_SOCKETS_CONNECT_TIMEOUT has passed
 * fail (ETIMEDOUT, vsp_connect_progress) and are reported into evs[0..max);
 * *next is lowered to the earliest deadline still ahead. How many.
 */
static int
expire(int epfd, struct epoll_event *evs, int max, long long *next)
{
	int fds[MAX_HELD], n, i, k = 0;
	struct vsp_sock *s;

	pthread_mutex_lock(&held_lock);
	n = n_held;
	memcpy(fds, held, sizeof(int) * (size_t)n);
	pthread_mutex_unlock(&held_lock);
	for (i = 0; i < n; i++) {
		s = vsp_get(fds[i]);
		if (s == NULL || s->state != VSP_CONNECTING ||
		    find_reg(s, epfd) == NULL)
			continue;
		if (k < max && vsp_now_ms() >= s->deadline) {
			if (vsp_connect_progress(fds[i], s) < 0 &&
			    failed_event(epfd, s, &evs[k]))
				k++;
		} else if (*next < 0 || s->deadline < *next) {
			*next = s->deadline;
		}
	}
	return k;
}

/*
 * epoll_pwait() with held connects taken out: waits again (for the time
 * left) while only events of ours came, and wakes for a connect's
 * deadline. deadline is the caller's, in vsp_now_ms() (-1: forever).
 */
static int
wait_shaped(int epfd, struct epoll_event *evs, int max, long long deadline,
    const sigset_t *mask)
{
	long long next;
	int n, k;

	NEXT(epoll_pwait);
	for (;;) {
		next = -1;
		k = max > 0 ? expire(epfd, evs, max, &next) : 0;
		if (k > 0)
			return k;
		if (deadline >= 0 && (next < 0 || deadline < next))
			next = deadline;
		n = next_epoll_pwait(epfd, evs, max, vsp_ms_until(next), mask);
		if (n <= 0) {
			if (n < 0 || (deadline >= 0 &&
			    vsp_now_ms() >= deadline))
				return n;
			continue;
		}
		if ((k = translate(epfd, evs, n)) > 0)
			return k;
		if (deadline >= 0 && vsp_now_ms() >= deadline)
			return 0;
	}
}

/* A caller's timeout in ms as a vsp_now_ms() deadline (-1: forever). */
static long long
ms_deadline(int timeout)
{
	return timeout < 0 ? -1 : vsp_now_ms() + timeout;
}

int
epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout,
    const sigset_t *mask)
{
	NEXT(epoll_pwait);
	if (!any_held())
		return next_epoll_pwait(epfd, evs, max, timeout, mask);
	return wait_shaped(epfd, evs, max, ms_deadline(timeout), mask);
}

int
epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
	NEXT(epoll_wait);
	if (!any_held())
		return next_epoll_wait(epfd, evs, max, timeout);
	return wait_shaped(epfd, evs, max, ms_deadline(timeout), NULL);
}

#ifdef HAVE_EPOLL_PWAIT2
int
epoll_pwait2(int epfd, struct epoll_event *evs, int max,
    const struct timespec *ts, const sigset_t *mask)
{
	long long deadline = -1;

	NEXT(epoll_pwait2);
	if (!any_held())
		return next_epoll_pwait2(epfd, evs, max, ts, mask);
	if (ts != NULL)		/* whole milliseconds, rounded up */
		deadline = vsp_now_ms() + (long long)ts->tv_sec * 1000 +
		    (ts->tv_nsec + 999999) / 1000000;
	return wait_shaped(epfd, evs, max, deadline, mask);
}
#endif

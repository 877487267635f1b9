/* loop.c - epoll, a signalfd for SIGINT/SIGTERM/SIGHUP, and the monotonic clock. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

#define LOOP_MAX_EVENTS	64

struct loop_watch {
	loop_fn fn;
	void *ctx;
	unsigned events;	/* 0: not registered */
};

struct loop {
	int epfd;
	int sigfd;
	int stop_signal;
	sigset_t mask;		/* what the signalfd takes */
	bool info_requested;	/* a SIGUSR1 came since loop_info_requested */
	struct loop_watch *w;	/* by fd */
	int nw;
	sigset_t old_mask;
	bool quiet;		/* loop_new_quiet: no signals at all */
	loop_idle_fn idle;	/* around epoll_wait (loop_set_idle) */
	void *idle_ctx;
};

uint64_t
loop_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * A second thread's loop (the guest thread's, guest-thread.c) takes no
 * signals: two signalfds on one process would race for each SIGTERM.
 */
int
loop_new_quiet(struct loop **out)
{
	struct loop *l = calloc(1, sizeof(*l));

	*out = NULL;
	if (l == NULL)
		return -ENOMEM;
	l->quiet = true;
	l->sigfd = -1;
	if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		free(l);
		return -errno;
	}
	*out = l;
	return 0;
}

void
loop_set_idle(struct loop *l, loop_idle_fn fn, void *ctx)
{
	l->idle = fn;
	l->idle_ctx = ctx;
}

int
loop_new(struct loop **out)
{
	struct loop *l = calloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	*out = NULL;
	if (l == NULL)
		return -ENOMEM;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	/*
	 * A closed terminal or a CI runner ending its session: an orderly
	 * stop (connections reset, socket files removed), not the default
	 * death that leaves the sockets behind.
	 */
	sigaddset(&mask, SIGHUP);
	l->mask = mask;
	/* Signals arrive as data on an fd, never interrupting a handler. */
	sigprocmask(SIG_BLOCK, &mask, &l->old_mask);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	ev.data.fd = l->sigfd;
	if (l->epfd < 0 || l->sigfd < 0 ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->sigfd, &ev) < 0) {
		loop_free(l);
		return -errno;
	}
	*out = l;
	return 0;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	if (!l->quiet)
		sigprocmask(SIG_SETMASK, &l->old_mask, NULL);
	free(l->w);
	free(l);
}

int
loop_watch(struct loop *l, int fd, unsigned events, loop_fn fn, void *ctx)
{
	struct epoll_event ev = { 0 };
	int op;

	if (fd < 0)
		return -EBADF;
	if (fd >= l->nw) {
		int n = l->nw ? l->nw : 64;
		struct loop_watch *t;

		while (n <= fd)
			n *= 2;
		if ((t = realloc(l->w, (size_t)n * sizeof(*t))) == NULL)
			return -ENOMEM;
		memset(t + l->nw, 0, (size_t)(n - l->nw) * sizeof(*t));
		l->w = t;
		l->nw = n;
	}
	if (events == 0) {
		if (l->w[fd].events != 0)
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
		memset(&l->w[fd], 0, sizeof(l->w[fd]));
		return 0;
	}
	op = l->w[fd].events != 0 ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	ev.events = (events & VSOCK_EV_READ ? EPOLLIN | EPOLLRDHUP : 0) |
	    (events & VSOCK_EV_WRITE ? EPOLLOUT : 0);
	ev.data.fd = fd;
	if (epoll_ctl(l->epfd, op, fd, &ev) < 0)
		return -errno;
	l->w[fd] = (struct loop_watch){ fn, ctx, events };
	return 0;
}

/* Also takes SIGUSR1 through the signalfd, as a request, not a stop. */
int
loop_catch_info_signal(struct loop *l)
{
	sigset_t one;

	sigemptyset(&one);
	sigaddset(&one, SIGUSR1);
	sigaddset(&l->mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &one, NULL) < 0 ||
	    signalfd(l->sigfd, &l->mask, SFD_NONBLOCK | SFD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

bool
loop_info_requested(struct loop *l)
{
	bool r = l->info_requested;

	l->info_requested = false;
	return r;
}

/* Reads pending signals; remembers the first stop signal. */
static void
read_signals(struct loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGUSR1)
			l->info_requested = true;
		else if (l->stop_signal == 0)
			l->stop_signal = (int)si.ssi_signo;
	}
}

bool
loop_wait(struct loop *l, uint64_t deadline)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];
	uint64_t now = loop_now();
	int timeout, n, i;

	if (l->stop_signal != 0)
		return false;
	if (deadline == UINT64_MAX)
		timeout = -1;
	else if (deadline <= now)
		timeout = 0;
	else	/* round up so we never wake just before the deadline */
		timeout = (int)((deadline - now + 999999) / 1000000 > 60000 ?
		    60000 : (deadline - now + 999999) / 1000000);
	if (l->idle != NULL)
		l->idle(l->idle_ctx, true);
	n = epoll_wait(l->epfd, evs, LOOP_MAX_EVENTS, timeout);
	if (l->idle != NULL)
		l->idle(l->idle_ctx, false);
	now = loop_now();
	for (i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		unsigned e = 0;

		if (fd == l->sigfd) {
			read_signals(l);
			continue;
		}
		if (fd >= l->nw || l->w[fd].events == 0)
			continue;	/* unwatched by an earlier handler */
		if (evs[i].events & EPOLLIN)
			e |= VSOCK_EV_READ;
		if (evs[i].events & EPOLLOUT)
			e |= VSOCK_EV_WRITE;
		if (evs[i].events & EPOLLHUP)
			e |= VSOCK_EV_HUP;
		if (evs[i].events & EPOLLERR)
			e |= VSOCK_EV_ERR;
		l->w[fd].fn(l->w[fd].ctx, fd, e, now);
	}
	return l->stop_signal == 0;
}

int
loop_stop_signal(const struct loop *l)
{
	return l->stop_signal;
}

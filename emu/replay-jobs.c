/* replay-jobs.c - replay --jobs N and --shard K/N: traces in forked workers, reported in input order. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "options.h"
#include "replay-jobs.h"

/* A trace in flight or waiting for its turn to be reported. */
struct job {
	pid_t pid;			/* 0: no worker (skipped or reaped) */
	int fd;				/* the worker's pipe, -1 when read */
	size_t got;			/* bytes of res read */
	struct replay_result *res;	/* NULL when skipped */
};

/* In the worker: replay trace i, write the result whole, exit. */
static void
worker(const struct replay_jobs_ops *ops, void *ctx, unsigned i, int fd)
{
	struct replay_result *res = calloc(1, sizeof(*res));
	const char *p = (const char *)res;
	size_t off = 0;
	ssize_t w;

	if (res == NULL)
		_exit(2);
	ops->run(ctx, i, res);
	fflush(NULL);
	while (off < sizeof(*res)) {
		w = write(fd, p + off, sizeof(*res) - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(2);
		off += (size_t)w;
	}
	_exit(0);
}

/*
 * Starts trace i's worker. Without a pipe or a process (a process limit),
 * the trace is replayed here instead: slower, never lost. -1 only without
 * memory for the result.
 */
static int
start(const struct replay_jobs_ops *ops, void *ctx, unsigned i, struct job *j)
{
	int p[2];

	if ((j->res = calloc(1, sizeof(*j->res))) == NULL)
		return -1;
	if (pipe(p) < 0) {
		ops->run(ctx, i, j->res);
		return 0;
	}
	fflush(NULL);	/* a worker must not print the parent's buffers */
	if ((j->pid = fork()) < 0) {
		j->pid = 0;
		close(p[0]);
		close(p[1]);
		ops->run(ctx, i, j->res);
		return 0;
	}
	if (j->pid == 0) {
		close(p[0]);
		worker(ops, ctx, i, p[1]);
	}
	close(p[1]);
	j->fd = p[0];
	j->got = 0;
	return 0;
}

/* Makes a result from a worker safe to print: every string terminated. */
static void
sanitize(struct replay_result *r)
{
	struct replay_divergence *d = &r->div;

	r->error[sizeof(r->error) - 1] = '\0';
	d->conn[sizeof(d->conn) - 1] = '\0';
	d->field[sizeof(d->field) - 1] = '\0';
	d->what[sizeof(d->what) - 1] = '\0';
	d->expected[sizeof(d->expected) - 1] = '\0';
	d->actual[sizeof(d->actual) - 1] = '\0';
	if (d->ncontext > REPLAY_CONTEXT)
		d->ncontext = REPLAY_CONTEXT;
	if (r->verdict != REPLAY_PASS && r->verdict != REPLAY_DIVERGED)
		r->verdict = REPLAY_UNUSABLE;
}

/* The worker has closed its pipe: reap it and settle its result. */
static void
finish(struct job *j)
{
	int status = 0;

	close(j->fd);
	j->fd = -1;
	while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
		continue;
	j->pid = 0;
	if (j->got == sizeof(*j->res) && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0) {
		sanitize(j->res);
		return;
	}
	memset(j->res, 0, sizeof(*j->res));
	j->res->verdict = REPLAY_UNUSABLE;
	if (WIFSIGNALED(status))
		snprintf(j->res->error, sizeof(j->res->error), "its replay "
		    "worker died of signal %d", WTERMSIG(status));
	else
		snprintf(j->res->error, sizeof(j->res->error), "its replay "
		    "worker gave no result (exit status %d)",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Reads what the running workers wrote; waits for at least one of them. */
static void
collect(struct job *jobs, unsigned from, unsigned to)
{
	struct pollfd pfd[REPLAY_JOBS_MAX * 4];
	unsigned idx[REPLAY_JOBS_MAX * 4], n = 0, i;
	ssize_t r;

	for (i = from; i < to && n < REPLAY_JOBS_MAX * 4; i++) {
		if (jobs[i].fd < 0)
			continue;
		pfd[n].fd = jobs[i].fd;
		pfd[n].events = POLLIN;
		idx[n++] = i;
	}
	if (n == 0 || poll(pfd, n, -1) < 0)
		return;
	for (i = 0; i < n; i++) {
		struct job *j = &jobs[idx[i]];

		if (pfd[i].revents == 0)
			continue;
		r = read(j->fd, (char *)j->res + j->got, sizeof(*j->res) -
		    j->got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0)
			j->got += (size_t)r;
		if (r <= 0 || j->got == sizeof(*j->res))
			finish(j);
	}
}

/* Is trace i settled: skipped, or its worker reaped? */
static bool
settled(const struct job *j)
{
	return j->pid == 0 && j->fd < 0;
}

int
replay_jobs_run(unsigned njobs, unsigned n,
    const struct replay_jobs_ops *ops, void *ctx)
{
	struct job *jobs = calloc(n > 0 ? n : 1, sizeof(*jobs));
	unsigned next = 0, started = 0, running = 0, i;
	int e = 0;

	if (jobs == NULL)
		return -1;
	for (i = 0; i < n; i++)
		jobs[i].fd = -1;
	while (next < n) {
		/* Start workers while there is room, within the window. */
		while (e == 0 && started < n && running < njobs &&
		    started < next + 4 * njobs) {
			if (ops->wants(ctx, started) &&
			    start(ops, ctx, started, &jobs[started]) < 0) {
				e = errno != 0 ? errno : ENOMEM;
				break;
			}
			running += jobs[started].fd >= 0;
			started++;
		}
		/* Report in order what is settled. */
		while (next < started && settled(&jobs[next])) {
			ops->done(ctx, next, jobs[next].res);
			free(jobs[next].res);
			jobs[next].res = NULL;
			next++;
		}
		if (next == n || (e != 0 && next == started))
			break;
		if (next < started) {
			collect(jobs, next, started);
			running = 0;
			for (i = next; i < started; i++)
				running += jobs[i].fd >= 0;
		}
	}
	free(jobs);
	errno = e;
	return e != 0 ? -1 : 0;
}

int
replay_shard_parse(const char *s, unsigned *k, unsigned *n)
{
	const char *slash = strchr(s, '/');
	char kbuf[16];
	uint64_t kk, nn;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(kbuf))
		return -1;
	memcpy(kbuf, s, (size_t)(slash - s));
	kbuf[slash - s] = '\0';
	if (opt_u64(kbuf, 65536, &kk) < 0 || opt_u64(slash + 1, 65536,
	    &nn) < 0 || kk == 0 || nn == 0 || kk > nn)
		return -1;
	*k = (unsigned)kk;
	*n = (unsigned)nn;
	return 0;
}

unsigned
replay_shard_of(const char *path, unsigned n)
{
	const char *base = strrchr(path, '/');
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a 64 */
	const unsigned char *p;

	for (p = (const unsigned char *)(base != NULL ? base + 1 : path);
	    *p != '\0'; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	return (unsigned)(h % n) + 1;
}

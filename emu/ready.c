/* ready.c - telling a supervisor that every socket listens: --ready-fd, sd_notify's NOTIFY_SOCKET, --pidfile. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "options.h"
#include "ready.h"

/* Longest message to NOTIFY_SOCKET: one datagram, one page. */
#define READY_NOTIFY_MAX	4096

void
ready_init(struct ready *r, const char *cmd)
{
	memset(r, 0, sizeof(*r));
	r->cmd = cmd;
	r->fd = -1;
}

int
ready_option(struct ready *r, int c, const char *arg, const char **why)
{
	uint64_t n;

	if (c == READY_OPT_PIDFILE) {
		if (arg[0] == '\0') {
			*why = "want a file name";
			return -1;
		}
		r->pidfile = arg;
		return 0;
	}
	if (opt_u64(arg, INT_MAX, &n) < 0 || n <= 2) {
		*why = "want a file descriptor number above 2";
		return -1;
	}
	r->fd = (int)n;
	return 0;
}

/* Writes "PID\n" to path by way of a temporary file renamed over it. */
static int
write_pidfile(const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX], line[24];
	int fd, n;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    sizeof(tmp)) {
		snprintf(err, errlen, "--pidfile: path too long: %s", path);
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "--pidfile %s: %s", path,
		    strerror(errno));
		return -1;
	}
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	/* mkstemp's 0600: a pidfile is for everyone to read. */
	if (fchmod(fd, 0644) < 0 || write(fd, line, (size_t)n) != n ||
	    close(fd) < 0 || rename(tmp, path) < 0) {
		snprintf(err, errlen, "--pidfile %s: %s", path,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
ready_prepare(struct ready *r, char *err, size_t errlen)
{
	if (r->fd >= 0 && fcntl(r->fd, F_GETFD) < 0) {
		snprintf(err, errlen, "--ready-fd %d: not an open file "
		    "descriptor", r->fd);
		return -1;
	}
	if (r->pidfile != NULL) {
		if (write_pidfile(r->pidfile, err, errlen) < 0)
			return -1;
		r->pidfile_written = true;
	}
	return 0;
}

/* A warning about readiness: the command goes on serving. */
static void
warn(const struct ready *r, const char *what, const char *why)
{
	fprintf(stderr, "vsockemu %s: warning: %s: %s\n", r->cmd, what, why);
}

/*
 * Writes line to the ready fd and closes it. Only when it is writable
 * now (a pipe nobody reads must not hang the service): a line under a
 * page always fits a pipe that polls writable.
 */
static void
signal_fd(struct ready *r, const char *line)
{
	struct pollfd p = { .fd = r->fd, .events = POLLOUT };
	size_t len = strlen(line);
	ssize_t n;

	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT))
		warn(r, "--ready-fd", "not writable now; READY line dropped");
	else if ((n = write(r->fd, line, len)) < 0 || (size_t)n != len)
		warn(r, "--ready-fd", n < 0 ? strerror(errno) :
		    "short write");
	close(r->fd);
	r->fd = -1;
}

/* NOTIFY_SOCKET's address: a path, or '@' for Linux's abstract names. */
static int
notify_addr(const char *name, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = strlen(name);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (n < 2 && name[0] == '@')
		return -1;
	if (n == 0 || n >= sizeof(sa->sun_path))
		return -1;
	memcpy(sa->sun_path, name, n);
	if (name[0] == '@')
		sa->sun_path[0] = '\0';	/* abstract: no terminator counts */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (name[0] == '@' ? 0 : 1));
	return 0;
}

/* Sends msg to NOTIFY_SOCKET, if set, as one datagram; never blocks. */
static bool
notify(struct ready *r, const char *msg)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	int fd;
	bool ok;

	if (name == NULL)
		return false;
	if (notify_addr(name, &sa, &len) < 0) {
		warn(r, "NOTIFY_SOCKET", "not a socket path or @name that "
		    "fits sockaddr_un");
		return false;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ok = fd >= 0 && sendto(fd, msg, strlen(msg),
	    MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sa, len) >= 0;
	if (!ok)
		warn(r, "NOTIFY_SOCKET", strerror(errno));
	if (fd >= 0)
		close(fd);
	return ok;
}

void
ready_signal(struct ready *r, const char *what, const char *status)
{
	char line[READY_NOTIFY_MAX];

	r->said = true;
	if (r->fd >= 0) {
		snprintf(line, sizeof(line), "READY %s\n", what);
		signal_fd(r, line);
	}
	snprintf(line, sizeof(line), "READY=1\nMAINPID=%ld\nSTATUS=%s\n",
	    (long)getpid(), status);
	r->notified = notify(r, line);
}

void
ready_finish(struct ready *r)
{
	if (r->notified)
		(void)notify(r, "STOPPING=1\n");
	r->notified = false;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->pidfile_written)
		unlink(r->pidfile);
	r->pidfile_written = false;
}

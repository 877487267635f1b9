/* uds-path.c - claim an AF_UNIX path without ever deleting someone's file or live socket. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "error.h"

#include "uds-path.h"

/*
 * Does something accept connections at path? A socket of another type
 * bound there (a SEQPACKET listener probed with STREAM) answers EPROTOTYPE
 * (unix_find_bsd()): it is alive, never to be removed.
 */
static bool
path_is_live(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;
	bool live;

	if (strlen(path) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ||
	    errno == EAGAIN ||	/* a full backlog is still a listener */
	    errno == EPROTOTYPE;
	close(fd);
	return live;
}

int
uds_path_prepare(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int e;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return -VSE_ERR_SYSTEM;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -VSE_ERR_PATH_TAKEN;
	}
	if (path_is_live(path)) {
		snprintf(err, errlen, "%s is in use by another process", path);
		return -VSE_ERR_PATH_TAKEN;
	}
	if (unlink(path) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot remove stale socket %s: %s",
		    path, strerror(e));
		errno = e;
		return -VSE_ERR_SYSTEM;
	}
	return 0;
}

int
uds_listen(const char *path, int type, int backlog, char *err,
    size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "path too long (%zu bytes, at most %zu): "
		    "%s", strlen(path), sizeof(sa.sun_path) - 1, path);
		return -1;
	}
	if (uds_path_prepare(path, err, errlen) < 0)
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, backlog) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot listen on %s: %s", path,
		    strerror(e));
		if (fd >= 0)
			close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

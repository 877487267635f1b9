/* vsp-dev.c - /dev/vsock: its IOCTL_VM_SOCKETS_GET_LOCAL_CID answers the role's CID. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vsp.h"

#define NEXT(name) \
	static __typeof__(name) *next_##name; \
	if (next_##name == NULL) \
		next_##name = (__typeof__(name) *)vsp_next(#name)

#define VSP_DEV_PATH	"/dev/vsock"

/* Which fds are our /dev/vsock (each a /dev/null underneath). */
static unsigned char vsp_dev_fds[VSP_MAX_FD];

/* Is path the vsock device, and is there a role to answer for? */
static bool
is_dev(const char *path)
{
	return vsp_cfg.role != VSP_ROLE_NONE && path != NULL &&
	    strcmp(path, VSP_DEV_PATH) == 0;
}

/* Does an open with flags take a mode argument? */
static bool
takes_mode(int flags)
{
	return (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
}

/*
 * Opens our /dev/vsock: a /dev/null fd (so read, poll and close behave),
 * known to ioctl() below. Linux's misc device takes any access mode.
 */
static int
open_dev(int flags)
{
	NEXT(open);
	int fd = next_open("/dev/null", flags & (O_ACCMODE | O_CLOEXEC |
	    O_NONBLOCK));

	if (fd >= VSP_MAX_FD) {
		vsp_real_close(fd);
		errno = EMFILE;
		return -1;
	}
	if (fd >= 0)
		__atomic_store_n(&vsp_dev_fds[fd], 1, __ATOMIC_RELEASE);
	return fd;
}

void
vsp_dev_forget(int fd)
{
	if (fd >= 0 && fd < VSP_MAX_FD)
		__atomic_store_n(&vsp_dev_fds[fd], 0, __ATOMIC_RELEASE);
}

/* The mode of a variadic open call, read only when the flags say it is there. */
#define OPEN_MODE(flags, last, mode) do { \
	va_list ap; \
	(mode) = 0; \
	if (takes_mode(flags)) { \
		va_start(ap, last); \
		(mode) = (mode_t)va_arg(ap, int); \
		va_end(ap); \
	} \
} while (0)

int
open(const char *path, int flags, ...)
{
	mode_t mode;

	NEXT(open);
	if (is_dev(path))
		return open_dev(flags);
	OPEN_MODE(flags, flags, mode);
	return next_open(path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	mode_t mode;

	NEXT(open64);
	if (is_dev(path))
		return open_dev(flags);
	OPEN_MODE(flags, flags, mode);
	return next_open64(path, flags, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	NEXT(openat);
	if (is_dev(path))	/* absolute: dirfd plays no part */
		return open_dev(flags);
	OPEN_MODE(flags, flags, mode);
	return next_openat(dirfd, path, flags, mode);
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	NEXT(openat64);
	if (is_dev(path))
		return open_dev(flags);
	OPEN_MODE(flags, flags, mode);
	return next_openat64(dirfd, path, flags, mode);
}

/* _FORTIFY_SOURCE's open (no mode: the compiler proved none is needed). */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);

int
__open_2(const char *path, int flags)
{
	NEXT(__open_2);
	return is_dev(path) ? open_dev(flags) : next___open_2(path, flags);
}

int
__open64_2(const char *path, int flags)
{
	NEXT(__open64_2);
	return is_dev(path) ? open_dev(flags) : next___open64_2(path, flags);
}

/*
 * ioctl(2). On our /dev/vsock: Linux's vsock_dev_do_ioctl() answers
 * IOCTL_VM_SOCKETS_GET_LOCAL_CID with the guest's CID in a guest and
 * vhost's VHOST_VSOCK_DEFAULT_HOST_CID (2) on a host, and nothing else
 * (ENOIOCTLCMD, which callers see as ENOTTY).
 */
int
ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	NEXT(ioctl);
	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd < 0 || fd >= VSP_MAX_FD ||
	    !__atomic_load_n(&vsp_dev_fds[fd], __ATOMIC_ACQUIRE))
		return next_ioctl(fd, req, arg);
	if (req != IOCTL_VM_SOCKETS_GET_LOCAL_CID) {
		errno = ENOTTY;
		return -1;
	}
	if (arg == NULL) {
		errno = EFAULT;
		return -1;
	}
	*(unsigned int *)arg = vsp_local_cid();
	return 0;
}

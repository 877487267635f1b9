/* vsp-opts.c - socket options of AF_VSOCK fds as Linux's af_vsock.c answers them. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <string.h>

#include "vsp.h"

#define NEXT(name) \
	static __typeof__(name) *next_##name; \
	if (next_##name == NULL) \
		next_##name = (__typeof__(name) *)vsp_next(#name)

#ifndef SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD
#define SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD 6
#endif
#ifndef SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW
#define SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW 8
#endif

/*
 * Linux: vsock_update_buffer_size(): the size is clamped into [min, max],
 * and setting min or max above/below the size moves the size.
 */
static void
update_buffer(struct vsp_sock *s, int name, uint64_t v)
{
	if (name == SO_VM_SOCKETS_BUFFER_SIZE)
		s->buf_size = v;
	else if (name == SO_VM_SOCKETS_BUFFER_MIN_SIZE)
		s->buf_min = v;
	else
		s->buf_max = v;
	if (s->buf_size > s->buf_max)
		s->buf_size = s->buf_max;
	if (s->buf_size < s->buf_min)
		s->buf_size = s->buf_min;
}

/* Linux: vsock_connectible_setsockopt(). */
static int
vsock_setopt(struct vsp_sock *s, int name, const void *val, socklen_t len)
{
	uint64_t v, old;

	switch (name) {
	case SO_VM_SOCKETS_BUFFER_SIZE:
	case SO_VM_SOCKETS_BUFFER_MIN_SIZE:
	case SO_VM_SOCKETS_BUFFER_MAX_SIZE:
		if (len < sizeof(v)) {
			errno = EINVAL;
			return -1;
		}
		memcpy(&v, val, sizeof(v));
		old = s->buf_size;
		update_buffer(s, name, v);
		/*
		 * Linux: vsock_update_buffer_size() tells the transport of a
		 * change once the socket has one (connected); a listener's
		 * size is what its children start with. It never fails the
		 * call, so neither does an unanswered request.
		 */
		if (s->buf_size != old && (s->state == VSP_CONNECTED ||
		    s->state == VSP_LISTENING) &&
		    vsp_cfg.role == VSP_ROLE_GUEST)
			(void)vsp_guest_set_buf(s);
		return 0;
	case SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD:
	case SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW: {
		struct timeval tv;

		if (len < sizeof(tv)) {
			errno = EINVAL;
			return -1;
		}
		memcpy(&tv, val, sizeof(tv));
		if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000) {
			errno = ERANGE;
			return -1;
		}
		/* Linux: a zero timeout is VSOCK_DEFAULT_CONNECT_TIMEOUT. */
		if (tv.tv_sec == 0 && tv.tv_usec == 0)
			tv.tv_sec = 2;
		s->connect_timeout = tv;
		return 0;
	}
	}
	errno = ENOPROTOOPT;
	return -1;
}

int
setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct vsp_sock *s = vsp_get(fd);

	NEXT(setsockopt);
	if (s == NULL)
		return next_setsockopt(fd, level, name, val, len);
	if (level == AF_VSOCK)
		return vsock_setopt(s, name, val, len);
	if (level == SOL_SOCKET && name == SO_RCVLOWAT && val != NULL &&
	    len >= sizeof(int)) {
		int v;

		memcpy(&v, val, sizeof(v));
		s->rcvlowat = v < 1 ? 1 : v;	/* Linux: sock_set_rcvlowat() */
	}
	/* SOL_SOCKET options (timeouts, SO_RCVLOWAT...) act on the carrier. */
	return next_setsockopt(fd, level, name, val, len);
}

/* Writes an option value as getsockopt(2) does: truncated to *len. */
static int
put_opt(void *val, socklen_t *len, const void *v, size_t size)
{
	if (val == NULL || len == NULL) {
		errno = EFAULT;
		return -1;
	}
	if (*len > size)
		*len = (socklen_t)size;
	memcpy(val, v, *len);
	return 0;
}

/* Linux: vsock_connectible_getsockopt(). */
static int
vsock_getopt(struct vsp_sock *s, int name, void *val, socklen_t *len)
{
	switch (name) {
	case SO_VM_SOCKETS_BUFFER_SIZE:
		return put_opt(val, len, &s->buf_size, sizeof(s->buf_size));
	case SO_VM_SOCKETS_BUFFER_MIN_SIZE:
		return put_opt(val, len, &s->buf_min, sizeof(s->buf_min));
	case SO_VM_SOCKETS_BUFFER_MAX_SIZE:
		return put_opt(val, len, &s->buf_max, sizeof(s->buf_max));
	case SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD:
	case SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW:
		return put_opt(val, len, &s->connect_timeout,
		    sizeof(s->connect_timeout));
	}
	errno = ENOPROTOOPT;
	return -1;
}

int
getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct vsp_sock *s = vsp_get(fd);
	int v;

	NEXT(getsockopt);
	if (s == NULL)
		return next_getsockopt(fd, level, name, val, len);
	if (level == AF_VSOCK)
		return vsock_getopt(s, name, val, len);
	if (level == SOL_SOCKET && name == SO_DOMAIN) {
		v = AF_VSOCK;
		return put_opt(val, len, &v, sizeof(v));
	}
	if (level == SOL_SOCKET && name == SO_PROTOCOL) {
		v = 0;
		return put_opt(val, len, &v, sizeof(v));
	}
	/* Linux: sock_getsockopt() SO_ERROR takes sk_err, set by a failed connect. */
	if (level == SOL_SOCKET && name == SO_ERROR) {
		if (s->state == VSP_CONNECTING)
			(void)vsp_connect_progress(fd, s);
		if (s->so_error != 0) {
			v = s->so_error;
			s->so_error = 0;
			return put_opt(val, len, &v, sizeof(v));
		}
	}
	return next_getsockopt(fd, level, name, val, len);
}

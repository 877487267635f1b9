/* vsp-calls.c - the interposed socket calls: AF_VSOCK fds handled, every other fd passed to libc. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "vsp.h"

/* The libc function name, resolved on first use. */
#define NEXT(name) \
	static __typeof__(name) *next_##name; \
	if (next_##name == NULL) \
		next_##name = (__typeof__(name) *)vsp_next(#name)

int
vsp_real_close(int fd)
{
	NEXT(close);
	return next_close(fd);
}

ssize_t
vsp_real_recv(int fd, void *buf, size_t len, int flags)
{
	NEXT(recv);
	return next_recv(fd, buf, len, flags);
}

int
vsp_real_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	NEXT(connect);
	return next_connect(fd, sa, len);
}

/* Copies a vsock address out as getsockname(2) does: truncated, full length told. */
static void
put_addr(const struct sockaddr_vm *a, struct sockaddr *sa, socklen_t *len)
{
	if (sa == NULL || len == NULL)
		return;
	memcpy(sa, a, *len < sizeof(*a) ? *len : sizeof(*a));
	*len = sizeof(*a);
}

/* Validates a vsock address as Linux's vsock_addr_cast(): EINVAL. */
static const struct sockaddr_vm *
get_addr(const struct sockaddr *sa, socklen_t len)
{
	if (sa == NULL || len < sizeof(struct sockaddr_vm) ||
	    sa->sa_family != AF_VSOCK) {
		errno = EINVAL;
		return NULL;
	}
	return (const struct sockaddr_vm *)sa;
}

/*
 * socket(AF_VSOCK): an AF_UNIX socket of the same type and flags carries
 * it. Linux: vsock_create() takes STREAM and SEQPACKET (DGRAM has no
 * virtio transport in 6.1: ESOCKTNOSUPPORT); without a configured role
 * the family does not exist here (EAFNOSUPPORT, as with no vsock module).
 */
int
socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), fd;

	NEXT(socket);
	if (domain != AF_VSOCK)
		return next_socket(domain, type, protocol);
	if (vsp_cfg.role == VSP_ROLE_NONE) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (protocol != 0) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	if (base != SOCK_STREAM && base != SOCK_SEQPACKET) {
		errno = ESOCKTNOSUPPORT;
		return -1;
	}
	fd = next_socket(AF_UNIX, type, 0);
	if (fd >= 0 && vsp_track(fd, base) == NULL) {
		vsp_real_close(fd);
		errno = EMFILE;
		return -1;
	}
	return fd;
}

/* Linux: __vsock_bind(): our CID or ANY, once; port ANY auto-binds. */
int
bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct vsp_sock *s = vsp_get(fd);
	const struct sockaddr_vm *a;

	NEXT(bind);
	if (s == NULL)
		return next_bind(fd, sa, len);
	if ((a = get_addr(sa, len)) == NULL)
		return -1;
	if (s->bound) {
		errno = EINVAL;
		return -1;
	}
	if (a->svm_cid != VMADDR_CID_ANY && a->svm_cid != vsp_local_cid()) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	if (a->svm_port == VMADDR_PORT_ANY) {
		vsp_auto_bind(s);
		return 0;
	}
	if (vsp_bind_check(a->svm_port) < 0)
		return -1;
	s->local.svm_cid = vsp_local_cid();
	s->local.svm_port = a->svm_port;
	s->bound = true;
	return 0;
}

/* connect(2) of a vsock fd; see vsp_connect(). */
int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct vsp_sock *s = vsp_get(fd);
	const struct sockaddr_vm *a;

	if (s == NULL)
		return vsp_real_connect(fd, sa, len);
	if ((a = get_addr(sa, len)) == NULL)
		return -1;
	return vsp_connect(fd, s, a);
}

int
listen(int fd, int backlog)
{
	struct vsp_sock *s = vsp_get(fd);

	NEXT(listen);
	if (s == NULL || s->state == VSP_LISTENING)
		return next_listen(fd, backlog);
	return vsp_listen(fd, s, backlog);
}

/*
 * The "PEER <cid> <port>" line serve sends first on every connection of
 * our listeners (peer-line.h: guest role LISTEN ... peer, host role a
 * listener at UDS_P.peer) names the peer, as Linux's accept() gives
 * remote_addr. Left as it is when the line does not come within a second.
 */
static void
read_peer(int cfd, int type, struct sockaddr_vm *peer)
{
	char line[48];
	unsigned long long cid, port;
	char *end;

	if (vsp_read_line(cfd, type, line, sizeof(line), 1000) < 0 ||
	    strncmp(line, "PEER ", 5) != 0)
		return;
	cid = strtoull(line + 5, &end, 10);
	if (*end != ' ' || cid > UINT32_MAX)
		return;
	port = strtoull(end + 1, &end, 10);
	if (*end != '\0' || port > UINT32_MAX)
		return;
	peer->svm_cid = (uint32_t)cid;
	peer->svm_port = (uint32_t)port;
}

/* Tracks an accepted connection; its peer is the PEER line's (read_peer). */
static int
accepted(int lfd, int cfd, struct sockaddr *sa, socklen_t *len)
{
	struct vsp_sock *l = vsp_get(lfd), *c;

	if (cfd < 0 || l == NULL)
		return cfd;
	if ((c = vsp_track(cfd, l->type)) == NULL) {
		vsp_real_close(cfd);
		errno = EMFILE;
		return -1;
	}
	c->state = VSP_CONNECTED;
	c->bound = true;
	c->local = l->local;
	c->peer.svm_cid = vsp_cfg.role == VSP_ROLE_HOST ? vsp_cfg.guest_cid :
	    VMADDR_CID_HOST;
	read_peer(cfd, c->type, &c->peer);
	c->buf_size = l->buf_size;
	c->buf_min = l->buf_min;
	c->buf_max = l->buf_max;
	put_addr(&c->peer, sa, len);
	return cfd;
}

int
accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	NEXT(accept4);
	if (vsp_get(fd) == NULL)
		return next_accept4(fd, sa, len, flags);
	return accepted(fd, next_accept4(fd, NULL, NULL, flags), sa, len);
}

int
accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	NEXT(accept);
	if (vsp_get(fd) == NULL)
		return next_accept(fd, sa, len);
	return accepted(fd, next_accept(fd, NULL, NULL), sa, len);
}

int
getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct vsp_sock *s = vsp_get(fd);

	NEXT(getsockname);
	if (s == NULL)
		return next_getsockname(fd, sa, len);
	put_addr(&s->local, sa, len);
	return 0;
}

int
getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct vsp_sock *s = vsp_get(fd);

	NEXT(getpeername);
	if (s == NULL)
		return next_getpeername(fd, sa, len);
	if (s->state != VSP_CONNECTED) {
		errno = ENOTCONN;
		return -1;
	}
	put_addr(&s->peer, sa, len);
	return 0;
}

int
close(int fd)
{
	vsp_forget(fd);
	vsp_dev_forget(fd);
	return vsp_real_close(fd);
}

/* The new fd of dup/dup2/dup3 is the same vsock socket. */
static int
duplicated(int oldfd, int newfd)
{
	struct vsp_sock *o = vsp_get(oldfd), *n;

	if (newfd < 0 || newfd == oldfd)
		return newfd;
	vsp_forget(newfd);
	if (o != NULL && (n = vsp_track(newfd, o->type)) != NULL) {
		*n = *o;
		n->ctl_fd = -1;		/* the first fd keeps the listener */
		n->path[0] = '\0';
		n->n_ep = 0;		/* epoll_ctl() names one fd, not both */
	}
	return newfd;
}

int
dup(int fd)
{
	NEXT(dup);
	return duplicated(fd, next_dup(fd));
}

int
dup2(int fd, int fd2)
{
	NEXT(dup2);
	return duplicated(fd, next_dup2(fd, fd2));
}

int
dup3(int fd, int fd2, int flags)
{
	NEXT(dup3);
	return duplicated(fd, next_dup3(fd, fd2, flags));
}

int
vsp_real_dup3(int fd, int fd2, int flags)
{
	NEXT(dup3);
	return next_dup3(fd, fd2, flags);
}

int
vsp_real_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	NEXT(bind);
	return next_bind(fd, sa, len);
}

int
vsp_real_listen(int fd, int backlog)
{
	NEXT(listen);
	return next_listen(fd, backlog);
}

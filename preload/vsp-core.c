/* vsp-core.c - the preload library's configuration, fd table and libc lookups. */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vsp.h"

struct vsp_config vsp_cfg;

static struct vsp_sock *vsp_table[VSP_MAX_FD];
static pthread_mutex_t vsp_lock = PTHREAD_MUTEX_INITIALIZER;

/* Reads run's environment once, when the library is loaded. */
__attribute__((constructor)) static void
vsp_init(void)
{
	const char *role = getenv("VSOCKEMU_ROLE");
	const char *uds = getenv("VSOCKEMU_UDS");
	const char *cid = getenv("VSOCKEMU_GUEST_CID");
	const char *dir = getenv("VSOCKEMU_RUN_DIR");
	unsigned long v;
	char *end;

	vsp_cfg.guest_cid = 3;
	if (cid != NULL) {
		errno = 0;
		v = strtoul(cid, &end, 10);
		if (errno == 0 && *end == '\0' && v > 2 && v < UINT32_MAX)
			vsp_cfg.guest_cid = (uint32_t)v;
	}
	if (uds == NULL || strlen(uds) + 20 >= sizeof(vsp_cfg.uds))
		return;
	strcpy(vsp_cfg.uds, uds);
	if (dir != NULL && strlen(dir) < sizeof(vsp_cfg.run_dir))
		strcpy(vsp_cfg.run_dir, dir);
	if (role != NULL && strcmp(role, "host") == 0)
		vsp_cfg.role = VSP_ROLE_HOST;
	else if (role != NULL && strcmp(role, "guest") == 0)
		vsp_cfg.role = VSP_ROLE_GUEST;
}

/* The next definition of name after this library: libc's. */
void *
vsp_next(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p == NULL) {
		fprintf(stderr, "libvsockemu-preload: no %s in libc\n", name);
		abort();
	}
	return p;
}

/* The vsock socket behind fd, or NULL. */
struct vsp_sock *
vsp_get(int fd)
{
	struct vsp_sock *s;

	if (fd < 0 || fd >= VSP_MAX_FD)
		return NULL;
	pthread_mutex_lock(&vsp_lock);
	s = vsp_table[fd];
	pthread_mutex_unlock(&vsp_lock);
	return s;
}

/* Starts tracking fd; the defaults are Linux's (af_vsock.c __vsock_create). */
struct vsp_sock *
vsp_track(int fd, int type)
{
	struct vsp_sock *s;

	if (fd < 0 || fd >= VSP_MAX_FD || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->state = VSP_OPEN;
	s->type = type;
	s->ctl_fd = -1;
	s->local.svm_family = AF_VSOCK;
	s->local.svm_cid = VMADDR_CID_ANY;
	s->local.svm_port = VMADDR_PORT_ANY;
	s->peer.svm_family = AF_VSOCK;
	s->peer.svm_cid = VMADDR_CID_ANY;
	s->peer.svm_port = VMADDR_PORT_ANY;
	/* Linux: VSOCK_DEFAULT_BUFFER_SIZE / _MAX_ / _MIN_, CONNECT_TIMEOUT 2 s */
	s->buf_size = VSP_DEFAULT_BUF;
	s->buf_max = VSP_DEFAULT_BUF;
	s->buf_min = 128;
	s->connect_timeout.tv_sec = 2;
	s->rcvlowat = 1;
	pthread_mutex_lock(&vsp_lock);
	free(vsp_table[fd]);
	vsp_table[fd] = s;
	pthread_mutex_unlock(&vsp_lock);
	return s;
}

/* Forgets fd: a guest listener's control link goes, so serve stops listening. */
void
vsp_forget(int fd)
{
	struct vsp_sock *s;

	if (fd < 0 || fd >= VSP_MAX_FD)
		return;
	vsp_epoll_forget(fd);
	pthread_mutex_lock(&vsp_lock);
	s = vsp_table[fd];
	vsp_table[fd] = NULL;
	pthread_mutex_unlock(&vsp_lock);
	if (s == NULL)
		return;
	if (s->ctl_fd >= 0)
		vsp_real_close(s->ctl_fd);
	if (s->path[0] != '\0')
		unlink(s->path);
	free(s);
}

enum vsp_io
vsp_io_mode(int fd)
{
	struct vsp_sock *s = vsp_get(fd);

	if (s == NULL)
		return VSP_IO_PLAIN;
	if (s->state == VSP_CONNECTING && vsp_connect_progress(fd, s) <= 0) {
		errno = ENOTCONN;
		return VSP_IO_NOTCONN;
	}
	/* Every connect or listen of ours asked for the EOR byte. */
	return s->type == SOCK_SEQPACKET && s->state == VSP_CONNECTED ?
	    VSP_IO_FRAMED : VSP_IO_PLAIN;
}

long long
vsp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
vsp_ms_until(long long deadline)
{
	long long left;

	if (deadline < 0)
		return -1;
	left = deadline - vsp_now_ms();
	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Our CID: the host's in the host role, the simulated guest's otherwise. */
uint32_t
vsp_local_cid(void)
{
	return vsp_cfg.role == VSP_ROLE_HOST ? VMADDR_CID_HOST :
	    vsp_cfg.guest_cid;
}

/* Ports handed out by auto-bind: Linux starts above the reserved ones. */
void
vsp_auto_bind(struct vsp_sock *s)
{
	static uint32_t next_port = 49152;

	if (s->bound)
		return;
	pthread_mutex_lock(&vsp_lock);
	s->local.svm_port = __atomic_fetch_add(&next_port, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&vsp_lock);
	s->local.svm_cid = vsp_local_cid();
	s->bound = true;
}

/* vsp.h - libvsockemu-preload internals: AF_VSOCK sockets carried by AF_UNIX sockets. */
#ifndef VSP_H
#define VSP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <linux/vm_sockets.h>

/* Linux's VSOCK_DEFAULT_BUFFER_SIZE (and _MAX_). */
#define VSP_DEFAULT_BUF	(256 * 1024)

/* Highest fd the table tracks; a vsock socket above it fails with EMFILE. */
#define VSP_MAX_FD	65536

/* epoll instances one vsock fd's registrations are remembered for. */
#define VSP_MAX_EP	4

/* One epoll_ctl() registration of a vsock fd, as the program asked it. */
struct vsp_epreg {
	int epfd;
	struct epoll_event ev;
};

/* Which side of the vsockemu instance the program plays. */
enum vsp_role {
	VSP_ROLE_NONE,		/* not configured: socket(AF_VSOCK) fails */
	VSP_ROLE_HOST,		/* CID 2, through serve's Firecracker muxer */
	VSP_ROLE_GUEST,		/* the simulated guest's CID, through UDS.guest */
};

/* Where a vsock socket is in its life. */
enum vsp_state {
	VSP_FREE,		/* fd is not a vsock socket */
	VSP_OPEN,		/* socket() done, maybe bound */
	VSP_CONNECTING,		/* non-blocking connect: reply line owed */
	VSP_LISTENING,
	VSP_CONNECTED,
};

/* What the library knows of one AF_VSOCK fd (the fd is a real AF_UNIX socket). */
struct vsp_sock {
	enum vsp_state state;
	int type;			/* SOCK_STREAM or SOCK_SEQPACKET */
	bool bound;
	struct sockaddr_vm local, peer;
	int ctl_fd;			/* guest listener: its serve control link */
	char path[108];			/* listener file to unlink at close */
	uint64_t buf_size, buf_min, buf_max;
	struct timeval connect_timeout;
	int rcvlowat;
	char reply[64];			/* VSP_CONNECTING: reply line so far */
	size_t reply_len;
	int so_error;			/* a failed non-blocking connect's */
	long long deadline;		/* VSP_CONNECTING: its connect timeout (ms) */
	struct vsp_epreg ep[VSP_MAX_EP];	/* the program's epoll registrations */
	int n_ep;
};

/* The configuration run put in the environment. */
struct vsp_config {
	enum vsp_role role;
	char uds[108];
	uint32_t guest_cid;		/* the simulated guest's CID */
	char run_dir[80];		/* guest role: where listener files go */
};

extern struct vsp_config vsp_cfg;

/* The next symbol of name (libc's), resolved once. */
void *vsp_next(const char *name);

/* The vsock socket behind fd, or NULL (not vsock, or out of range). */
struct vsp_sock *vsp_get(int fd);

/* Starts tracking fd as a vsock socket of type; NULL: EMFILE. */
struct vsp_sock *vsp_track(int fd, int type);

/* Forgets fd (closing a listener's control link and file). */
void vsp_forget(int fd);

/* How a data call (send, recv, read, write...) on an fd goes. */
enum vsp_io {
	VSP_IO_PLAIN,		/* straight to libc: not vsock, or a stream */
	VSP_IO_FRAMED,		/* a connected SEQPACKET socket: the EOR byte */
	VSP_IO_NOTCONN,		/* a connect still in progress: ENOTCONN */
};

/*
 * The way for a data call on fd. A connected vsock SEQPACKET socket's
 * messages carry the EOR byte it opted in to (seq-frame.h); a
 * non-blocking connect still waiting for its answer fails the call with
 * ENOTCONN (errno set), as Linux's vsock_connectible_sendmsg() and
 * _recvmsg() do before TCP_ESTABLISHED.
 */
enum vsp_io vsp_io_mode(int fd);

/*
 * Takes what has come of a non-blocking connect's reply, without
 * blocking: 1 connected, 0 still waiting, -1 failed (s->so_error set, the
 * socket unconnected again as after Linux's vsock_connect_timeout()).
 */
int vsp_connect_progress(int fd, struct vsp_sock *s);

/* CLOCK_MONOTONIC in milliseconds (connect deadlines). */
long long vsp_now_ms(void);
/* How long a wait for deadline may last: -1 forever, else ms left (>= 0). */
int vsp_ms_until(long long deadline);

/*
 * epoll while a non-blocking connect waits (vsp-epoll.c): the program's
 * registrations of fd are switched to the carrier's reply (hold) and back
 * to what the program asked once the connect is decided (restore; after a
 * failure the carrier is a new file and they are added again).
 */
void vsp_epoll_hold(int fd, struct vsp_sock *s);
void vsp_epoll_restore(int fd, struct vsp_sock *s);

/* fd is closed or no longer vsock: it holds no registration any more. */
void vsp_epoll_forget(int fd);

/* close() of fd: it is no longer our /dev/vsock. */
void vsp_dev_forget(int fd);

/* Our own CID in the configured role. */
uint32_t vsp_local_cid(void);

/* connect() of a vsock socket; errno as Linux's vsock_connect() gives. */
int vsp_connect(int fd, struct vsp_sock *s, const struct sockaddr_vm *to);

/* bind() of port: -1 EADDRINUSE when another socket is known to hold it. */
int vsp_bind_check(uint32_t port);

/*
 * Guest role: a connected socket's new SO_VM_SOCKETS_BUFFER_SIZE goes to
 * its guest socket, which announces it (serve's "SETBUF"). 0 or -1.
 */
int vsp_guest_set_buf(const struct vsp_sock *s);

/* listen() of a vsock socket: a host listener at UDS_P or a guest one. */
int vsp_listen(int fd, struct vsp_sock *s, int backlog);

/* Assigns a port to an unbound socket, as vsock_auto_bind() does. */
void vsp_auto_bind(struct vsp_sock *s);

/* Reads one "\n"-ended reply line from fd within timeout_ms; -1 errno. */
int vsp_read_line(int fd, int type, char *line, size_t len, int timeout_ms);

/* Calls of libc, resolved past us. */
int vsp_real_close(int fd);
ssize_t vsp_real_recv(int fd, void *buf, size_t len, int flags);
int vsp_real_connect(int fd, const struct sockaddr *sa, socklen_t len);
int vsp_real_dup3(int fd, int fd2, int flags);
int vsp_real_bind(int fd, const struct sockaddr *sa, socklen_t len);
int vsp_real_listen(int fd, int backlog);

#endif

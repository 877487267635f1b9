/* sock.h - the guest stack's socket API: handles like fds, non-blocking, Linux af_vsock semantics. */
#ifndef FG_SOCK_H
#define FG_SOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The stack (vsock.h); an opaque handle to socket users. */
struct fg_vsock;

/* Linux's VMADDR_PORT_ANY: bind to an ephemeral port. */
#define FG_PORT_ANY		UINT32_C(0xffffffff)
/* First ephemeral port (Linux: above LAST_RESERVED_PORT 1023). */
#define FG_PORT_EPHEMERAL	1024

/* Socket states, after Linux's sk_state. */
enum fg_sock_state {
	FG_SS_UNCONNECTED = 0,	/* new or bound (TCP_CLOSE, no error) */
	FG_SS_LISTEN,		/* TCP_LISTEN */
	FG_SS_CONNECTING,	/* REQUEST sent (TCP_SYN_SENT) */
	FG_SS_CONNECTED,	/* TCP_ESTABLISHED */
	FG_SS_CLOSING,		/* peer done and nothing left to read */
	FG_SS_CLOSED,		/* refused, reset or timed out; see error */
};

/* What getsockopt and the vsock_sock fields would tell, in one copy. */
struct fg_sock_info {
	enum fg_sock_state state;
	int error;			/* positive errno (SO_ERROR), or 0 */
	uint16_t type;			/* VIRTIO_VSOCK_TYPE_* */
	uint32_t local_port;
	uint64_t peer_cid;
	uint32_t peer_port;
	uint32_t shutdown;		/* our VIRTIO_VSOCK_SHUTDOWN_* */
	uint32_t peer_shutdown;		/* the peer's, accumulated */
	uint32_t buf_alloc, rcvlowat;
	uint32_t rx_bytes;		/* unread bytes */
	uint32_t buf_used;		/* bytes of packets not fully read */
	uint32_t msg_count;		/* complete SEQPACKET messages queued */
	uint32_t fwd_cnt, last_fwd_cnt;
	uint32_t tx_cnt, peer_buf_alloc, peer_fwd_cnt;
	uint32_t credit;		/* what we may send now */
	uint32_t accept_queued;		/* listener: children not accepted */
};

/*
 * Every call takes a handle from fg_sock_open or fg_sock_accept and
 * returns 0 (or a count) on success, -errno on failure, as the system call
 * would with O_NONBLOCK: -EBADF for a handle that is not open.
 */

/* socket(AF_VSOCK, type): type is VIRTIO_VSOCK_TYPE_STREAM or _SEQPACKET. */
int fg_sock_open(struct fg_vsock *vs, uint16_t type);

/* bind(): FG_PORT_ANY picks an ephemeral port. -EADDRINUSE, -EINVAL. */
int fg_sock_bind(struct fg_vsock *vs, int fd, uint32_t port);

/*
 * listen(): the socket must be bound. As Linux, the accept queue counts
 * as full only once it holds more than backlog connections.
 */
int fg_sock_listen(struct fg_vsock *vs, int fd, int backlog);

/*
 * A listener's gate: asked at each REQUEST that would be queued whether
 * the application can take it; false refuses it as if nothing listened
 * (RST: Linux's virtio_transport_reset_no_sock for a port without a
 * listener). It lets a program that stands for a guest application
 * elsewhere (serve's unix: bridges) refuse when that application does.
 */
typedef bool (*fg_sock_gate_fn)(void *ctx, uint64_t peer_cid,
    uint32_t peer_port);

/* Sets (or, fn NULL, removes) the gate of listener fd. */
int fg_sock_set_gate(struct fg_vsock *vs, int fd, fg_sock_gate_fn fn,
    void *ctx);

/* accept(): a new handle, or -EAGAIN when no connection is queued. */
int fg_sock_accept(struct fg_vsock *vs, int fd);

/*
 * connect(): binds an ephemeral port when unbound, sends REQUEST and
 * returns -EINPROGRESS. The outcome shows in fg_sock_state/fg_sock_error:
 * CONNECTED on RESPONSE, CLOSED with ECONNRESET on RST (Linux's errno
 * for a refused vsock connect), ETIMEDOUT after FG_CONNECT_TIMEOUT.
 */
int fg_sock_connect(struct fg_vsock *vs, int fd, uint64_t cid, uint32_t port,
    uint64_t now);

/*
 * send(): STREAM sends min(len, credit) bytes in packets of at most 64 KiB
 * and returns that count, -EAGAIN when the credit is 0. The credit counts
 * against min(peer's buf_alloc, ours), as Linux 6.1.192 does. SEQPACKET
 * sends the whole message or nothing (-EAGAIN until the credit covers it,
 * -EMSGSIZE when it exceeds that minimum); flags may hold MSG_EOR. -EPIPE
 * once we shut down writing or the peer shut down receiving.
 */
ssize_t fg_sock_send(struct fg_vsock *vs, int fd, const void *buf, size_t len,
    int flags);

/*
 * recv(): returns bytes read, 0 at end of stream, -EAGAIN when nothing is
 * there. SEQPACKET reads one message and sets MSG_EOR / MSG_TRUNC in
 * *flags (which may be NULL).
 */
ssize_t fg_sock_recv(struct fg_vsock *vs, int fd, void *buf, size_t len,
    int *flags);

/* shutdown(): how is SHUT_RD, SHUT_WR or SHUT_RDWR. */
int fg_sock_shutdown(struct fg_vsock *vs, int fd, int how);

/*
 * close(): the handle is gone at once. A connection sends SHUTDOWN(RCV|SEND)
 * and lingers until the peer's RST or FG_CLOSE_TIMEOUT, then sends RST.
 */
int fg_sock_close(struct fg_vsock *vs, int fd, uint64_t now);

/*
 * poll(): what Linux's vsock_poll reports for the socket, as POLLIN,
 * POLLOUT, POLLHUP, POLLRDHUP and POLLERR bits (0 for a bad handle).
 * POLLRDHUP: the peer sends no more (or we shut down reading).
 */
int fg_sock_poll(const struct fg_vsock *vs, int fd);

/* getsockopt-ish accessors. */
int fg_sock_info(const struct fg_vsock *vs, int fd, struct fg_sock_info *out);
int fg_sock_state(const struct fg_vsock *vs, int fd);	/* enum or -EBADF */
int fg_sock_error(const struct fg_vsock *vs, int fd);	/* errno or -EBADF */

/* SO_RCVLOWAT (0 means 1); -EINVAL above buf_alloc, as Linux. */
int fg_sock_set_rcvlowat(struct fg_vsock *vs, int fd, uint32_t lowat);

/* SO_VM_SOCKETS_BUFFER_SIZE: the buf_alloc we advertise. */
int fg_sock_set_buf_alloc(struct fg_vsock *vs, int fd, uint32_t size);

/*
 * Test seam: presets a socket's free-running counters so that tests can
 * cross the 2^32 wrap without moving 4 GiB. Never used by the stack.
 */
int fg_sock_test_set_counters(struct fg_vsock *vs, int fd, uint32_t tx_cnt,
    uint32_t fwd_cnt);

#endif

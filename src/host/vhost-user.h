/* vhost-user.h - the back-end side of the vhost-user protocol for the vsock device. */
#ifndef VSE_VHOST_USER_H
#define VSE_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "guestmem.h"

/*
 * Message types of QEMU's docs/interop/vhost-user.rst that a vsock
 * back-end needs. Others are refused.
 */
#define VHOST_USER_GET_FEATURES		1
#define VHOST_USER_SET_FEATURES		2
#define VHOST_USER_SET_OWNER		3
#define VHOST_USER_RESET_OWNER		4
#define VHOST_USER_SET_MEM_TABLE	5
#define VHOST_USER_SET_VRING_NUM	8
#define VHOST_USER_SET_VRING_ADDR	9
#define VHOST_USER_SET_VRING_BASE	10
#define VHOST_USER_GET_VRING_BASE	11
#define VHOST_USER_SET_VRING_KICK	12
#define VHOST_USER_SET_VRING_CALL	13
#define VHOST_USER_SET_VRING_ERR	14
#define VHOST_USER_GET_PROTOCOL_FEATURES 15
#define VHOST_USER_SET_PROTOCOL_FEATURES 16
#define VHOST_USER_GET_QUEUE_NUM	17
#define VHOST_USER_SET_VRING_ENABLE	18
#define VHOST_USER_GET_CONFIG		24

/* Header flags: version 1 in bits 0-1, reply, need-reply. */
#define VHOST_USER_VERSION		1
#define VHOST_USER_VERSION_MASK		3
#define VHOST_USER_REPLY		(1u << 2)
#define VHOST_USER_NEED_REPLY		(1u << 3)
#define VHOST_USER_HDR_SIZE		12

/* Feature bit 30 announces protocol features. */
#define VHOST_USER_F_PROTOCOL_FEATURES	30
#define VHOST_USER_PROTOCOL_F_MQ	0
#define VHOST_USER_PROTOCOL_F_REPLY_ACK	3
#define VHOST_USER_PROTOCOL_F_CONFIG	9

/* SET_VRING_KICK/CALL/ERR payload: index in bits 0-7, "no fd" bit 8. */
#define VHOST_USER_VRING_IDX_MASK	0xffu
#define VHOST_USER_VRING_NOFD		(1u << 8)

/* QEMU's VHOST_MEMORY_BASELINE_NREGIONS. */
#define VHOST_USER_MAX_REGIONS		8
/* Largest payload we accept: the memory table and GET_CONFIG fit. */
#define VHOST_USER_MAX_PAYLOAD		512
/* The vsock config space: le64 guest_cid. */
#define VHOST_USER_VSOCK_CONFIG_SIZE	8

struct vhu;

/* Where a session reports what it dropped while running: one line, no '\n'. */
typedef void (*vhu_log_fn)(void *ctx, const char *msg);

/*
 * A vhost-user session with one front-end (QEMU's vhost-user-vsock-pci),
 * serving dev. Guest memory arrives as fds in SET_MEM_TABLE and is mapped
 * into the session's guestmem, which dev's queues use. Each mapping is
 * guarded against the front-end shrinking its file (vhost-user-guard.h:
 * the first session installs a process-wide SIGBUS handler).
 */
int vhu_new(struct vsock_device *dev, struct vhu **out);

/* Unmaps guest memory, closes every fd, stops the device's queues. */
void vhu_free(struct vhu *v);

/* Reports each ring fd the session drops to fn (default: nowhere). */
void vhu_set_log(struct vhu *v, vhu_log_fn fn, void *ctx);

/*
 * Reads one message from sock (blocking, whole), handles it and replies.
 * Returns 0, or a negative error after which the connection must be
 * closed: a malformed message, an unexpected fd, a region or ring outside
 * memory or its file, memory lost (vhu_check_memory). why (if not NULL)
 * gets a description, valid until the next call on v.
 */
int vhu_handle(struct vhu *v, int sock, vsock_time_t now, const char **why);

/*
 * 0, or -VSE_ERR_MEM_LOST (why: which region) once the front-end shrank a
 * file under guest memory we mapped and a SIGBUS was survived. The first
 * time, the session breaks for good, as libvhost-user's dev->broken: every
 * ring is stopped, each err fd signalled (Linux: vq_err()), and later
 * messages refused; the caller should end the session.
 * Any call that ran the device can have faulted: check after each.
 */
int vhu_check_memory(struct vhu *v, const char **why);

/* The eventfd the front-end kicks queue q with, or -1. */
int vhu_kick_fd(const struct vhu *v, unsigned q);

/*
 * Queue q's kick fd is ready: drain it and run the device. A kick fd that
 * fails instead (EOF: a pipe whose writer is gone; an error: EPOLLERR on
 * the write end of a pipe), which the loop would report forever, is closed
 * and logged once, and vhu_kick_fd() gives -1 after: stop watching it. The
 * ring stops, as after GET_VRING_BASE, until the next SET_VRING_KICK.
 */
void vhu_kicked(struct vhu *v, unsigned q, vsock_time_t now);

/*
 * A vsock_notify_fn: interrupt the guest through q's call eventfd. A call
 * fd whose write fails other than "full" (EPIPE, EBADF...) is closed and
 * logged once; the ring runs on without interrupts until SET_VRING_CALL.
 */
void vhu_notify(void *ctx, unsigned q);

/* Is queue q running in the device? */
bool vhu_queue_running(const struct vhu *v, unsigned q);

const struct guestmem *vhu_mem(const struct vhu *v);

#endif

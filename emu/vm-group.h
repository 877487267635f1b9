/* vm-group.h - several VMs in one process: which CID is whose device, and which siblings may talk (vhost-device-vsock's groups). */
#ifndef VSOCKEMU_VM_GROUP_H
#define VSOCKEMU_VM_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"

#define VM_MAX		64	/* --vm given at most this often */
#define VM_GROUPS_MAX	16	/* group names one VM is in */
#define VM_GROUP_NAME	64	/* bytes of a group name, NUL included */
/* vhost-device-vsock's DEFAULT_GROUP_NAME (main.rs). */
#define VM_DEFAULT_GROUP	"default"

/* The groups one VM is in. */
struct vm_groups {
	char name[VM_GROUPS_MAX][VM_GROUP_NAME];
	unsigned n;
};

struct vm_router;

/* One VM as the router sees it; dev NULL while it has no device. */
struct vm_member {
	struct vm_router *router;
	uint64_t cid;
	struct vm_groups groups;
	struct vsock_device *dev;
};

/* Every VM of the process. */
struct vm_router {
	struct vm_member vm[VM_MAX];
	unsigned n;
};

/*
 * "NAME1+NAME2" (vhost-device-vsock's groups= value, '+' between names)
 * into g. Returns 0, or -1 with err set: an empty, overlong or repeated
 * name, or too many.
 */
int vm_groups_parse(const char *s, struct vm_groups *g, char *err,
    size_t errlen);

/* g holds only "default". */
void vm_groups_default(struct vm_groups *g);

/* Do a and b share a group? */
bool vm_groups_share(const struct vm_groups *a, const struct vm_groups *b);

/* Adds a VM (its device later, vm_member_attach); NULL when full. */
struct vm_member *vm_router_add(struct vm_router *r, uint64_t cid,
    const struct vm_groups *g);

/*
 * m's device is dev (NULL: gone): packets for other CIDs are routed to
 * the siblings m shares a group with.
 */
void vm_member_attach(struct vm_member *m, struct vsock_device *dev);

/*
 * The vsock_route_fn (ctx: the sending vm_member): the packet goes to
 * the VM with its dst_cid if that VM has a device and shares a group
 * (vhost-device-vsock thread_backend.rs send_pkt()); otherwise nonzero.
 */
int vm_route(void *ctx, const uint8_t raw[VSOCK_HDR_SIZE],
    const uint8_t *payload, uint32_t len, vsock_time_t now);

#endif

/* vm-group.c - several VMs in one process: the CID table and group rules that route packets between sibling devices. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pkt.h"
#include "vm-group.h"

void
vm_groups_default(struct vm_groups *g)
{
	memset(g, 0, sizeof(*g));
	strcpy(g->name[0], VM_DEFAULT_GROUP);
	g->n = 1;
}

/* Is name already in g? */
static bool
has_group(const struct vm_groups *g, const char *name)
{
	unsigned i;

	for (i = 0; i < g->n; i++)
		if (strcmp(g->name[i], name) == 0)
			return true;
	return false;
}

int
vm_groups_parse(const char *s, struct vm_groups *g, char *err, size_t errlen)
{
	const char *p = s, *end;
	size_t len;

	memset(g, 0, sizeof(*g));
	for (;;) {
		end = strchr(p, '+');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len == 0 || len >= VM_GROUP_NAME) {
			snprintf(err, errlen, "groups '%s': each name 1 to %d "
			    "bytes, '+' between names", s, VM_GROUP_NAME - 1);
			return -1;
		}
		if (g->n == VM_GROUPS_MAX) {
			snprintf(err, errlen, "groups '%s': at most %d", s,
			    VM_GROUPS_MAX);
			return -1;
		}
		memcpy(g->name[g->n], p, len);
		g->name[g->n][len] = '\0';
		if (has_group(g, g->name[g->n])) {
			snprintf(err, errlen, "groups '%s': '%s' twice", s,
			    g->name[g->n]);
			return -1;
		}
		g->n++;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

bool
vm_groups_share(const struct vm_groups *a, const struct vm_groups *b)
{
	unsigned i;

	for (i = 0; i < a->n; i++)
		if (has_group(b, a->name[i]))
			return true;
	return false;
}

struct vm_member *
vm_router_add(struct vm_router *r, uint64_t cid, const struct vm_groups *g)
{
	struct vm_member *m;

	if (r->n == VM_MAX)
		return NULL;
	m = &r->vm[r->n++];
	memset(m, 0, sizeof(*m));
	m->router = r;
	m->cid = cid;
	m->groups = *g;
	return m;
}

void
vm_member_attach(struct vm_member *m, struct vsock_device *dev)
{
	m->dev = dev;
	if (dev != NULL)
		vsock_device_set_router(dev, vm_route, m);
}

/* The VM with guest CID cid, or NULL. */
static struct vm_member *
find_cid(struct vm_router *r, uint64_t cid)
{
	unsigned i;

	for (i = 0; i < r->n; i++)
		if (r->vm[i].cid == cid)
			return &r->vm[i];
	return NULL;
}

int
vm_route(void *ctx, const uint8_t raw[VSOCK_HDR_SIZE],
    const uint8_t *payload, uint32_t len, vsock_time_t now)
{
	struct vm_member *from = ctx, *to;
	struct vsock_hdr h;

	vsock_hdr_decode(raw, &h);
	to = find_cid(from->router, h.dst_cid);
	/*
	 * vhost-device-vsock: "dropping packet for unknown cid", "due to
	 * group mismatch"; a VM whose front-end is not there has no queue.
	 */
	if (to == NULL || to == from || to->dev == NULL ||
	    !vm_groups_share(&from->groups, &to->groups))
		return -EHOSTUNREACH;
	return vsock_device_relay_in(to->dev, raw, payload, len, now);
}

/* conntab.c - O(1) connection lookup by (local port, peer port) and by local port. */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>

#include "device-int.h"
#include "error.h"
#include "port-hash.h"

#define CONNTAB_MIN_BUCKETS	64

/* The order device-int.h promises: what every packet reads comes first. */
_Static_assert(offsetof(struct vsock_conn, cr) + sizeof(struct vsock_credit)
    <= CONN_HOT_BYTES, "struct vsock_conn: the credit left the hot bytes");

/*
 * The seed (DEVICE_HASH_SEED) is fixed and public so runs are reproducible:
 * it does not stop a guest that knows it from choosing ports that share a
 * bucket. What bounds that guest is max_conns: no chain is longer than the
 * connections it may hold, and each lookup walks one chain.
 */
static uint32_t
pair_bucket(const struct conntab *t, uint32_t local, uint32_t peer)
{
	return port_hash(port_pair_key(local, peer), t->seed, t->nbuckets);
}

static uint32_t
port_bucket(const struct conntab *t, uint32_t local)
{
	return port_hash(local, ~t->seed, t->nbuckets);
}

int
conntab_init(struct conntab *t, uint64_t seed)
{
	t->nbuckets = CONNTAB_MIN_BUCKETS;
	t->count = 0;
	t->seed = seed;
	t->pair = calloc(t->nbuckets, sizeof(*t->pair));
	t->port = calloc(t->nbuckets, sizeof(*t->port));
	if (t->pair == NULL || t->port == NULL) {
		conntab_free(t);
		return -VSE_ERR_NOMEM;
	}
	return 0;
}

void
conntab_free(struct conntab *t)
{
	free(t->pair);
	free(t->port);
	t->pair = t->port = NULL;
	t->nbuckets = t->count = 0;
}

struct vsock_conn *
conntab_find(const struct conntab *t, uint32_t local, uint32_t peer)
{
	struct vsock_conn *c;

	for (c = t->pair[pair_bucket(t, local, peer)]; c; c = c->pair_next)
		if (c->local_port == local && c->peer_port == peer)
			return c;
	return NULL;
}

bool
conntab_port_used(const struct conntab *t, uint32_t local)
{
	struct vsock_conn *c;

	for (c = t->port[port_bucket(t, local)]; c; c = c->port_next)
		if (c->local_port == local)
			return true;
	return false;
}

/* Links c into both bucket arrays of t. */
static void
link_conn(struct conntab *t, struct vsock_conn *c)
{
	uint32_t b = pair_bucket(t, c->local_port, c->peer_port);

	c->pair_next = t->pair[b];
	t->pair[b] = c;
	b = port_bucket(t, c->local_port);
	c->port_next = t->port[b];
	t->port[b] = c;
}

/* Doubles the bucket arrays; keeps the old ones if memory is short. */
static void
grow(struct conntab *t)
{
	struct conntab n = *t;
	struct vsock_conn *c, *next;
	uint32_t i;

	n.nbuckets = t->nbuckets * 2;
	n.pair = calloc(n.nbuckets, sizeof(*n.pair));
	n.port = calloc(n.nbuckets, sizeof(*n.port));
	if (n.pair == NULL || n.port == NULL) {
		free(n.pair);
		free(n.port);
		return;
	}
	for (i = 0; i < t->nbuckets; i++)
		for (c = t->pair[i]; c != NULL; c = next) {
			next = c->pair_next;
			link_conn(&n, c);
		}
	free(t->pair);
	free(t->port);
	*t = n;
}

int
conntab_insert(struct conntab *t, struct vsock_conn *c)
{
	if (conntab_find(t, c->local_port, c->peer_port) != NULL)
		return -VSE_ERR_INVAL;
	if (t->count >= t->nbuckets)
		grow(t);
	link_conn(t, c);
	t->count++;
	return 0;
}

/* Unlinks c from the chain starting at *head, following the link at off. */
static void
unlink_chain(struct vsock_conn **head, struct vsock_conn *c, bool pair)
{
	struct vsock_conn **pp;

	for (pp = head; *pp != NULL;
	    pp = pair ? &(*pp)->pair_next : &(*pp)->port_next)
		if (*pp == c) {
			*pp = pair ? c->pair_next : c->port_next;
			return;
		}
}

void
conntab_remove(struct conntab *t, struct vsock_conn *c)
{
	unlink_chain(&t->pair[pair_bucket(t, c->local_port, c->peer_port)], c,
	    true);
	unlink_chain(&t->port[port_bucket(t, c->local_port)], c, false);
	t->count--;
}

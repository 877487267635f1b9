/* conntab.c - O(1) connection lookup by (local port, peer port) and by local port. */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>

#include "device-int.h"
#include "error.h"
#include "port-hash.h"

#define CONNTAB_MIN_SLOTS	64
#define CONNTAB_MIN_PORT	64

/* The order device-int.h promises: what a control packet reads comes first. */
_Static_assert(offsetof(struct vsock_conn, cr) + sizeof(struct vsock_credit)
    <= CONN_HOT_BYTES, "struct vsock_conn: the credit left the hot bytes");
_Static_assert(offsetof(struct vsock_conn, backend_gone) < CONN_HOT_BYTES &&
    offsetof(struct vsock_conn, rx_parked) < CONN_HOT_BYTES,
    "struct vsock_conn: backend_gone or rx_parked left the hot bytes");
_Static_assert(offsetof(struct vsock_conn, tx) +
    offsetof(struct txbuf, len) + sizeof(uint32_t) <= CONN_HOT_BYTES &&
    offsetof(struct vsock_conn, tx) + offsetof(struct txbuf, nmsgs) +
    sizeof(uint32_t) <= CONN_HOT_BYTES,
    "struct vsock_conn: the txbuf's len and nmsgs left the hot bytes");
_Static_assert(sizeof(struct conntab_slot) == 16,
    "struct conntab_slot: four slots to a cache line");

/*
 * Linux keys a connected socket by its addresses and hashes the ports
 * (vsock_find_connected_socket, vsock_connected_sockets in af_vsock.c)
 * into chained lists; so did this table. The pairs are now in the slots
 * themselves, linear probing, at most 3/4 full: with 10,000 connections
 * visited in turn a chain's bucket and every connection on it were a
 * cache miss each, where a probe reads one line of slots and then the one
 * connection it found (doc/performance.md, conn10k).
 *
 * The default seed (VSOCK_DEVICE_PUBLIC_SEED) is fixed and public so runs
 * are reproducible: it does not stop a guest that knows it from choosing
 * ports whose pairs share a home slot. serve and vhost-user pass a random
 * seed (vsock_device_config.hash_seed, host-side.c), which leaves such a
 * guest guessing; and what bounds it even so is what bounded it with
 * chains: max_conns. A probe reads at most the slots that hold
 * connections, the table grows with their count and never with
 * collisions, and removal shifts the cluster back (no tombstones), so
 * nothing of a colliding burst outlives it (check_conntab.c).
 */
static uint32_t
home_slot(const struct conntab *t, uint32_t local, uint32_t peer)
{
	return port_hash(port_pair_key(local, peer), t->seed, t->nslots);
}

static uint32_t
port_bucket(const struct conntab *t, uint32_t local)
{
	return port_hash(local, ~t->seed, t->nport);
}

int
conntab_init(struct conntab *t, uint64_t seed)
{
	t->nslots = CONNTAB_MIN_SLOTS;
	t->nport = CONNTAB_MIN_PORT;
	t->count = 0;
	t->seed = seed;
	t->slot = calloc(t->nslots, sizeof(*t->slot));
	t->port = calloc(t->nport, sizeof(*t->port));
	if (t->slot == NULL || t->port == NULL) {
		conntab_free(t);
		return -VSE_ERR_NOMEM;
	}
	return 0;
}

void
conntab_free(struct conntab *t)
{
	free(t->slot);
	free(t->port);
	t->slot = NULL;
	t->port = NULL;
	t->nslots = t->nport = t->count = 0;
}

/* The slot holding (local, peer), or the empty slot that ends its probe. */
static uint32_t
probe(const struct conntab *t, uint32_t local, uint32_t peer)
{
	uint32_t mask = t->nslots - 1, i = home_slot(t, local, peer);

	/* Ends: count < nslots, so some slot is empty. */
	while (t->slot[i].c != NULL &&
	    (t->slot[i].local != local || t->slot[i].peer != peer))
		i = (i + 1) & mask;
	return i;
}

struct vsock_conn *
conntab_find(const struct conntab *t, uint32_t local, uint32_t peer)
{
	return t->slot[probe(t, local, peer)].c;
}

uint32_t
conntab_probes(const struct conntab *t, uint32_t local, uint32_t peer)
{
	uint32_t h = home_slot(t, local, peer);

	return ((probe(t, local, peer) - h) & (t->nslots - 1)) + 1;
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

/* Puts c in the first empty slot of its probe (the key is not there). */
static void
place(struct conntab *t, struct vsock_conn *c)
{
	struct conntab_slot *s = &t->slot[probe(t, c->local_port,
	    c->peer_port)];

	s->local = c->local_port;
	s->peer = c->peer_port;
	s->c = c;
}

/* Doubles the slots; keeps the old ones if memory is short. */
static void
grow_slots(struct conntab *t)
{
	struct conntab n = *t;
	uint32_t i;

	n.nslots = t->nslots * 2;
	if ((n.slot = calloc(n.nslots, sizeof(*n.slot))) == NULL)
		return;
	for (i = 0; i < t->nslots; i++)
		if (t->slot[i].c != NULL)
			place(&n, t->slot[i].c);
	free(t->slot);
	t->slot = n.slot;
	t->nslots = n.nslots;
}

/* Doubles the by-port buckets; keeps the old ones if memory is short. */
static void
grow_port(struct conntab *t)
{
	struct conntab n = *t;
	struct vsock_conn *c, *next;
	uint32_t i, b;

	n.nport = t->nport * 2;
	if ((n.port = calloc(n.nport, sizeof(*n.port))) == NULL)
		return;
	for (i = 0; i < t->nport; i++)
		for (c = t->port[i]; c != NULL; c = next) {
			next = c->port_next;
			b = port_bucket(&n, c->local_port);
			c->port_next = n.port[b];
			n.port[b] = c;
		}
	free(t->port);
	t->port = n.port;
	t->nport = n.nport;
}

int
conntab_insert(struct conntab *t, struct vsock_conn *c)
{
	uint32_t b;

	if (conntab_find(t, c->local_port, c->peer_port) != NULL)
		return -VSE_ERR_INVAL;
	if ((uint64_t)(t->count + 1) * 4 > (uint64_t)t->nslots * 3)
		grow_slots(t);
	/* Out of memory to grow: fuller, but never full (a miss must end). */
	if (t->count + 1 >= t->nslots)
		return -VSE_ERR_NOMEM;
	if (t->count >= t->nport)
		grow_port(t);
	place(t, c);
	b = port_bucket(t, c->local_port);
	c->port_next = t->port[b];
	t->port[b] = c;
	t->count++;
	return 0;
}

/*
 * Empties slot i and moves back every later slot of its cluster that may
 * sit there (its home is not between the hole and it): the table is then
 * what inserting the rest alone would give, with no tombstone to probe.
 */
static void
shift_back(struct conntab *t, uint32_t i)
{
	uint32_t mask = t->nslots - 1, j = i, home;

	for (;;) {
		j = (j + 1) & mask;
		if (t->slot[j].c == NULL)
			break;
		home = home_slot(t, t->slot[j].local, t->slot[j].peer);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->slot[i] = t->slot[j];
			i = j;
		}
	}
	t->slot[i].c = NULL;
}

void
conntab_remove(struct conntab *t, struct vsock_conn *c)
{
	uint32_t i = probe(t, c->local_port, c->peer_port);
	struct vsock_conn **pp;

	if (t->slot[i].c != c)
		return;
	shift_back(t, i);
	for (pp = &t->port[port_bucket(t, c->local_port)]; *pp != NULL;
	    pp = &(*pp)->port_next)
		if (*pp == c) {
			*pp = c->port_next;
			break;
		}
	t->count--;
}

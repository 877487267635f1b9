/* replay-conn.c - the trace's connections: lookup by either side's ports, port mapping, windows, forgetting. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "port-hash.h"
#include "replay-int.h"

#define RP_TABLE_FIRST	64

/* The pair's bucket: the device's port hash, unseeded, so runs repeat. */
static uint32_t
pair_hash(uint32_t guest_port, uint32_t host_port, uint32_t nbuckets)
{
	return port_hash(port_pair_key(guest_port, host_port), 0, nbuckets);
}

/* The chain link and host port a table uses. */
static struct rp_conn **
link_of(const struct rp_table *t, struct rp_conn *c)
{
	return t->device ? &c->dnext : &c->tnext;
}

static uint32_t
port_of(const struct rp_table *t, const struct rp_conn *c)
{
	return rp_table_port(t, c);
}

int
rp_table_init(struct rp_table *t, bool device)
{
	memset(t, 0, sizeof(*t));
	t->device = device;
	t->nbuckets = RP_TABLE_FIRST;
	t->bucket = calloc(t->nbuckets, sizeof(*t->bucket));
	return t->bucket == NULL ? -VSE_ERR_NOMEM : 0;
}

void
rp_table_free(struct rp_table *t)
{
	free(t->bucket);
	t->bucket = NULL;
	t->hit = NULL;
}

/*
 * The first connection of the key's chain with the key. The last one found
 * is that still while no insert or remove came between (a pair's ports
 * change only out of the table, rp_conn_rekey): rp_table_find's one
 * compare instead of the hash for most frames.
 */
struct rp_conn *
rp_table_lookup(struct rp_table *t, uint32_t guest_port, uint32_t host_port)
{
	struct rp_conn *c;

	for (c = t->bucket[pair_hash(guest_port, host_port, t->nbuckets)];
	    c != NULL; c = *link_of(t, c))
		if (c->guest_port == guest_port && port_of(t, c) == host_port)
			return t->hit = c;
	return NULL;
}

/* Doubles the bucket array once the table is as full as it is wide. */
static int
table_grow(struct rp_table *t)
{
	uint32_t n = t->nbuckets * 2, i, b;
	struct rp_conn **nb = calloc(n, sizeof(*nb)), *c, *next;

	if (nb == NULL)
		return -VSE_ERR_NOMEM;
	for (i = 0; i < t->nbuckets; i++)
		for (c = t->bucket[i]; c != NULL; c = next) {
			next = *link_of(t, c);
			b = pair_hash(c->guest_port, port_of(t, c), n);
			*link_of(t, c) = nb[b];
			nb[b] = c;
		}
	free(t->bucket);
	t->bucket = nb;
	t->nbuckets = n;
	return 0;
}

int
rp_table_insert(struct rp_table *t, struct rp_conn *c)
{
	uint32_t b;

	if (t->count >= t->nbuckets && t->nbuckets < (UINT32_C(1) << 30) &&
	    table_grow(t) < 0)
		return -VSE_ERR_NOMEM;
	t->hit = NULL;
	b = pair_hash(c->guest_port, port_of(t, c), t->nbuckets);
	*link_of(t, c) = t->bucket[b];
	t->bucket[b] = c;
	t->count++;
	return 0;
}

void
rp_table_remove(struct rp_table *t, struct rp_conn *c)
{
	struct rp_conn **pp;

	t->hit = NULL;
	pp = &t->bucket[pair_hash(c->guest_port, port_of(t, c), t->nbuckets)];
	for (; *pp != NULL; pp = link_of(t, *pp))
		if (*pp == c) {
			*pp = *link_of(t, c);
			t->count--;
			return;
		}
}

/* A new pair, keyed on both sides by its own ports. */
struct rp_conn *
rp_conn_new(struct replay *rp, uint32_t guest_port, uint32_t host_port)
{
	struct rp_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->guest_port = guest_port;
	c->host_port = host_port;
	c->dev_port = host_port;
	c->h2g.lead = c->g2h.lead = -1;
	if (rp_table_insert(&rp->tkeys, c) < 0) {
		free(c);
		return NULL;
	}
	if (rp_table_find(&rp->dkeys, guest_port, host_port) == NULL) {
		if (rp_table_insert(&rp->dkeys, c) < 0) {
			rp_table_remove(&rp->tkeys, c);
			free(c);
			return NULL;
		}
		c->dkeyed = true;
	}
	c->all_next = rp->all;
	if (rp->all != NULL)
		rp->all->all_prev = c;
	rp->all = c;
	return c;
}

/* Forgets the previous connection on the pair: a new REQUEST starts one. */
void
rp_conn_reset(struct rp_conn *c)
{
	c->state = RPC_NONE;
	rp_conn_set_app(c, NULL);
	c->counted = false;
	c->host_initiated = false;
	c->g_shut = c->t_shut = 0;
	c->g_rst = false;
	c->g_buf = c->g_fwd = 0;
	c->g_tx = c->t_tx = c->d_tx = c->t_read = 0;
	c->g_creq_frame = 0;
	c->t_fwd = 0;
	c->t_buf = 0;
	c->t_owed_rst = 0;
	c->t_abort = false;
	c->t_opened = c->t_late_rst = false;
	c->t_queued_frame = 0;
	c->t_queued_rws = 0;
	c->msg_len = 0;
	c->msg_ahead = false;
	c->d_buf = c->d_fwd = 0;
	c->d_reported = c->d_creq = c->d_echo_closed = false;
}

/* The device gave a host-initiated connection local port dev_port. */
int
rp_conn_rekey(struct replay *rp, struct rp_conn *c, uint32_t dev_port)
{
	struct rp_conn *old;

	if (c->dkeyed)
		rp_table_remove(&rp->dkeys, c);
	c->dkeyed = false;
	c->dev_port = dev_port;
	/* A pair that used the port before loses it: the device reused it. */
	if ((old = rp_table_find(&rp->dkeys, c->guest_port, dev_port)) != NULL) {
		rp_table_remove(&rp->dkeys, old);
		old->dkeyed = false;
	}
	if (rp_table_insert(&rp->dkeys, c) < 0)
		return -VSE_ERR_NOMEM;
	c->dkeyed = true;
	return 0;
}

/* Frees c's window lists and message buffer (empty between windows). */
static void
conn_free_window(struct rp_conn *c)
{
	rp_pktlist_free(&c->win[RP_TRACE]);
	rp_pktlist_free(&c->win[RP_DEVICE]);
	free(c->msg);
	c->msg = NULL;
	c->msg_cap = 0;
}

/* Frees what c holds besides itself. */
static void
conn_free_buffers(struct rp_conn *c)
{
	rp_stream_free(&c->h2g);
	rp_stream_free(&c->g2h);
	conn_free_window(c);
}

void
rp_conn_free_all(struct replay *rp)
{
	struct rp_conn *c, *next;

	for (c = rp->all; c != NULL; c = next) {
		next = c->all_next;
		conn_free_buffers(c);
		free(c);
	}
	rp->all = NULL;
	rp->kept_head = rp->kept_tail = NULL;
	rp->nkept = 0;
}

/*
 * c's host application end is now sc (or none). The script backend keeps
 * every end until it is swept; `user` marks the ones a pair still uses.
 */
void
rp_conn_set_app(struct rp_conn *c, struct script_conn *sc)
{
	if (c->sc != NULL && c->sc->user == c)
		c->sc->user = NULL;
	c->sc = sc;
	if (sc != NULL)
		sc->user = c;
}

/* Takes c off the list of finished pairs. */
void
rp_conn_unkeep(struct replay *rp, struct rp_conn *c)
{
	if (c->kept_prev != NULL)
		c->kept_prev->kept_next = c->kept_next;
	else
		rp->kept_head = c->kept_next;
	if (c->kept_next != NULL)
		c->kept_next->kept_prev = c->kept_prev;
	else
		rp->kept_tail = c->kept_prev;
	c->kept_prev = c->kept_next = NULL;
	c->kept = false;
	rp->nkept--;
}

/*
 * Has c nothing more to say: no connection on either side, nothing owed
 * or pending, every byte matched?
 */
static bool
conn_finished(const struct replay *rp, const struct rp_conn *c)
{
	enum rp_side lead;

	if ((c->state != RPC_NONE && c->state != RPC_CLOSED) ||
	    c == rp->connecting || c->t_abort || c->t_owed_rst != 0 ||
	    c->d_owed_rst != 0 || c->g_creq_frame != 0 || c->msg_len != 0)
		return false;
	if (c->sc != NULL && (c->sc->conn != NULL || c->sc->in_len > 0))
		return false;
	if (rp->dev != NULL &&
	    vsock_device_find(rp->dev, c->dev_port, c->guest_port) != NULL)
		return false;
	return rp_stream_pending(&c->h2g, &lead) == 0 &&
	    rp_stream_pending(&c->g2h, &lead) == 0;
}

/* Forgets c for good: a later frame on its ports starts a new pair. */
static void
conn_forget(struct replay *rp, struct rp_conn *c)
{
	rp_conn_unkeep(rp, c);
	rp_table_remove(&rp->tkeys, c);
	if (c->dkeyed)
		rp_table_remove(&rp->dkeys, c);
	if (c->all_prev != NULL)
		c->all_prev->all_next = c->all_next;
	else
		rp->all = c->all_next;
	if (c->all_next != NULL)
		c->all_next->all_prev = c->all_prev;
	conn_free_buffers(c);
	free(c);
}

/*
 * The window closed with c in it: a finished pair gives its buffers and
 * its application end back and joins the finished list; the oldest beyond
 * RP_KEEP_FINISHED are forgotten. What a finished pair still knows (its
 * ports, resets, totals) is what Linux's late packets are judged by.
 */
void
rp_conn_finish_window(struct replay *rp, struct rp_conn *c)
{
	if (c->kept || !conn_finished(rp, c))
		return;
	rp_conn_set_app(c, NULL);
	rp_stream_trim(&c->h2g);
	rp_stream_trim(&c->g2h);
	conn_free_window(c);
	c->kept = true;
	c->kept_prev = rp->kept_tail;
	if (rp->kept_tail != NULL)
		rp->kept_tail->kept_next = c;
	else
		rp->kept_head = c;
	rp->kept_tail = c;
	rp->nkept++;
	while (rp->nkept > RP_KEEP_FINISHED)
		conn_forget(rp, rp->kept_head);
}

/*
 * Frees the host application ends no pair uses any more, once there are
 * twice as many as after the last sweep: constant work per connection.
 */
void
rp_conn_reap(struct replay *rp)
{
	if (rp->sb.nconns < rp->reap_at)
		return;
	script_reap(&rp->sb);
	rp->reap_at = rp->sb.nconns < 32 ? 64 : 2 * rp->sb.nconns;
}

/* "guest 3:1024 <-> host 2:1234" in the trace's terms. */
void
rp_conn_name(const struct replay *rp, const struct rp_conn *c, char *buf,
    size_t len)
{
	snprintf(buf, len, "guest %" PRIu64 ":%" PRIu32 " <-> host %" PRIu64
	    ":%" PRIu32, rp->guest_cid, c->guest_port, rp->host_cid,
	    c->host_port);
}

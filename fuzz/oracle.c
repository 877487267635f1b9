/* oracle.c - the fuzzer's invariants: what may cross the device, checked packet by packet through the tap. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device-info.h"
#include "rig.h"
#include "virtq.h"

/* Coverage rows: no connection, then each public connection state. */
_Static_assert(FUZZ_NSTATES == 1 + VSOCK_CONN__COUNT,
    "FUZZ_NSTATES must follow enum vsock_conn_state");

static const char *const finding_names[FUZZ__COUNT] = {
	[FUZZ_OK] = "ok",
	[FUZZ_RING] = "ring",
	[FUZZ_TX_WRITTEN] = "tx-written",
	[FUZZ_RX_FORMAT] = "rx-format",
	[FUZZ_CREDIT] = "credit",
	[FUZZ_REQUEST] = "request",
	[FUZZ_AFTER_RST] = "after-rst",
	[FUZZ_RST_REPLY] = "rst-reply",
	[FUZZ_FWD_CNT] = "fwd-cnt",
	[FUZZ_G2H_DATA] = "g2h-data",
	[FUZZ_H2G_DATA] = "h2g-data",
	[FUZZ_BOUNDS] = "bounds",
	[FUZZ_SPIN] = "spin",
	[FUZZ_WALKER] = "walker",
};

const char *
fuzz_finding_name(int finding)
{
	if (finding < 0 || finding >= FUZZ__COUNT)
		return "unknown";
	return finding_names[finding];
}

/* Records the first finding of the run; later ones are consequences. */
void
fz_fail(struct fz *fz, int kind, const char *fmt, ...)
{
	va_list ap;

	if (fz->res->finding != FUZZ_OK)
		return;
	fz->res->finding = kind;
	fz->res->action = fz->action;
	va_start(ap, fmt);
	vsnprintf(fz->res->what, sizeof(fz->res->what), fmt, ap);
	va_end(ap);
}

/* The pair's record, created clean on first sight (NULL: out of memory). */
struct fz_pair *
fz_pair_get(struct fz *fz, uint32_t local, uint32_t peer)
{
	struct fz_pair *p;
	size_t i;

	for (i = fz->npairs; i > 0; i--)
		if (fz->pairs[i - 1].local == local &&
		    fz->pairs[i - 1].peer == peer)
			return &fz->pairs[i - 1];
	if (fz->npairs == fz->cappairs) {
		size_t cap = fz->cappairs ? 2 * fz->cappairs : 64;

		if ((p = realloc(fz->pairs, cap * sizeof(*p))) == NULL)
			return NULL;
		fz->pairs = p;
		fz->cappairs = cap;
	}
	p = &fz->pairs[fz->npairs++];
	memset(p, 0, sizeof(*p));
	p->local = local;
	p->peer = peer;
	p->closed = true;	/* nothing may flow before a connection */
	return p;
}

/* A new connection starts on the pair: credit and counts from zero. */
static void
pair_new_conn(struct fz_pair *p, bool guest)
{
	p->closed = false;
	p->guest_conn = guest;
	p->resp_sent = false;
	p->credit_known = false;
	p->tx_cnt = 0;
	p->guest_tx = 0;
}

/* Transport reset: every connection and queued RST is gone silently. */
void
fz_pairs_reset(struct fz *fz)
{
	size_t i;

	for (i = 0; i < fz->npairs; i++) {
		fz->pairs[i].closed = true;
		fz->pairs[i].req_pending = 0;
		fz->pairs[i].owed = 0;
	}
}

/* The oracle's record of a host application end, made on first use. */
struct fz_app *
fz_app_of(struct fz *fz, struct script_conn *sc)
{
	struct fz_app *a;

	if (sc == NULL)
		return NULL;
	if (sc->user != NULL)
		return sc->user;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->sc = sc;
	a->next = fz->apps;
	fz->apps = a;
	sc->user = a;
	return a;
}

void
fz_apps_free(struct fz *fz)
{
	struct fz_app *a, *next;

	for (a = fz->apps; a != NULL; a = next) {
		next = a->next;
		free(a->g2h);
		free(a);
	}
	fz->apps = NULL;
}

/* The host application behind a device connection, if it is still there. */
static struct fz_app *
app_of_conn(struct fz *fz, const struct vsock_conn *c)
{
	return c == NULL ? NULL : fz_app_of(fz, vsock_conn_backend_data(c));
}

/* Remembers accepted guest bytes: the host must receive a prefix of them. */
static void
app_append(struct fz *fz, struct fz_app *a, const uint8_t *p, uint32_t n)
{
	uint8_t *q;

	if (n == 0)
		return;
	if (a->g2h_len + n > a->g2h_cap) {
		size_t cap = a->g2h_cap ? a->g2h_cap : 4096;

		while (cap < a->g2h_len + n)
			cap *= 2;
		if ((q = realloc(a->g2h, cap)) == NULL) {
			fz_fail(fz, FUZZ_BOUNDS, "oracle out of memory");
			return;
		}
		a->g2h = q;
		a->g2h_cap = cap;
	}
	memcpy(a->g2h + a->g2h_len, p, n);
	a->g2h_len += n;
}

/* c's public state (a connection, never NULL). */
static enum vsock_conn_state
conn_state(const struct vsock_conn *c)
{
	struct vsock_conn_info ci;

	vsock_conn_get_info(c, &ci);
	return ci.state;
}

/* Row of the coverage matrix for connection c (0: none). */
static int
state_row(const struct vsock_conn *c)
{
	return c == NULL ? 0 : 1 + (int)conn_state(c);
}

/* The connection ends before it answered its guest REQUEST: none is owed. */
static void
pair_cancel_request(struct fz_pair *p)
{
	if (p->guest_conn && !p->resp_sent && p->req_pending > 0)
		p->req_pending--;
	p->guest_conn = false;
}

/*
 * A guest packet the device is about to process. The device table is
 * consulted before dispatch, so the oracle knows which rule applies:
 * unknown type or pair -> an RST is owed (unless the packet is an RST);
 * REQUEST for a free pair -> exactly one RESPONSE or RST is owed (one per
 * REQUEST: refused ones leave the pair free for the next).
 */
static void
oracle_g2h(struct fz *fz, const struct vsock_tap_record *rec)
{
	const struct vsock_hdr *h = &rec->hdr;
	struct vsock_conn *c;
	struct fz_app *a;
	struct fz_pair *p;

	if (rec->dropped)
		return;
	c = vsock_device_find(fz->dev, h->dst_port, h->src_port);
	fz->res->cover[state_row(c)][h->op < 8 ? h->op : 8]++;
	if ((p = fz_pair_get(fz, h->dst_port, h->src_port)) == NULL)
		return;
	if (!vsock_type_known(h->type) || (c == NULL &&
	    h->op != VIRTIO_VSOCK_OP_REQUEST)) {
		if (h->op != VIRTIO_VSOCK_OP_RST)
			p->owed++;
		return;
	}
	if (c == NULL) {
		/* A new connection, or an RST for the limit or the type. */
		pair_new_conn(p, true);
		p->req_pending++;
		p->credit_known = true;
		p->peer_buf_alloc = h->buf_alloc;
		p->peer_fwd_cnt = h->fwd_cnt;
		return;
	}
	if (vsock_conn_type(c) != h->type) {
		/* RST as for no socket, credit untouched (reset_no_sock). */
		if (h->op != VIRTIO_VSOCK_OP_RST)
			p->owed++;
		return;
	}
	p->credit_known = true;
	p->peer_buf_alloc = h->buf_alloc;
	p->peer_fwd_cnt = h->fwd_cnt;
	if (h->op == VIRTIO_VSOCK_OP_RST) {
		pair_cancel_request(p);
		p->closed = true;
		return;
	}
	if (h->op == VIRTIO_VSOCK_OP_RW &&
	    conn_state(c) == VSOCK_CONN_ESTABLISHED &&
	    (a = app_of_conn(fz, c)) != NULL)
		app_append(fz, a, rec->payload, rec->payload_len);
}

/*
 * An RST to the guest must answer something. An orphan RST (no connection:
 * buf_alloc 0, as Linux's reset_no_sock) answers an unknown-pair packet or
 * a refused REQUEST; a connection's RST ends a live connection.
 */
static void
oracle_h2g_rst(struct fz *fz, struct fz_pair *p, const struct vsock_conn *c,
    const struct vsock_hdr *h)
{
	if (h->buf_alloc == 0) {
		if (p->owed > 0)
			p->owed--;
		else if (p->req_pending > 0)
			p->req_pending--;
		else
			fz_fail(fz, FUZZ_RST_REPLY, "RST %u->%u answers "
			    "nothing the guest sent: an RST in reply to an "
			    "RST?", h->src_port, h->dst_port);
		return;
	}
	if (c == NULL || p->closed) {
		fz_fail(fz, FUZZ_RST_REPLY, "connection RST %u->%u after the "
		    "connection ended", h->src_port, h->dst_port);
		return;
	}
	pair_cancel_request(p);
	p->closed = true;
}

/* Payload to the guest: within credit, and the next bytes the host wrote. */
static void
oracle_h2g_rw(struct fz *fz, struct fz_pair *p, struct fz_app *a,
    const struct vsock_tap_record *rec)
{
	const struct vsock_hdr *h = &rec->hdr;
	int64_t in_flight = (uint32_t)(p->tx_cnt - p->peer_fwd_cnt);
	int64_t credit = (int64_t)p->peer_buf_alloc - in_flight;

	if (!p->credit_known || (int64_t)h->len > (credit < 0 ? 0 : credit))
		fz_fail(fz, FUZZ_CREDIT, "RW %u->%u of %u bytes, guest credit "
		    "%lld (buf_alloc %u, fwd_cnt %u, sent %u)", h->src_port,
		    h->dst_port, h->len, (long long)credit, p->peer_buf_alloc,
		    p->peer_fwd_cnt, p->tx_cnt);
	p->tx_cnt += h->len;
	if (a == NULL) {
		fz_fail(fz, FUZZ_H2G_DATA, "RW %u->%u with no host application",
		    h->src_port, h->dst_port);
		return;
	}
	/*
	 * A driver that lied on the RX ring (act_avail: avail idx past
	 * entries it never wrote) can hand one buffer out twice in one
	 * scatter read. The tap shows an RX packet as it lies in guest
	 * memory, so the earlier packet then shows the later bytes: the
	 * guest's own buffer, overwritten at its word, not a device fault.
	 * Its length and credit still count.
	 */
	if (rec->payload_len != h->len || (!fz->rx_tainted &&
	    !script_pattern_check(a->h2g_recv, rec->payload, h->len)))
		fz_fail(fz, FUZZ_H2G_DATA, "RW %u->%u: %u bytes at offset %llu "
		    "are not what the host wrote there", h->src_port,
		    h->dst_port, h->len, (unsigned long long)a->h2g_recv);
	a->h2g_recv += h->len;
}

/* A packet to the guest, checked against what the guest and host did. */
static void
oracle_h2g(struct fz *fz, const struct vsock_tap_record *rec)
{
	const struct vsock_hdr *h = &rec->hdr;
	struct vsock_conn *c;
	struct fz_app *a;
	struct fz_pair *p;

	if (h->src_cid != VMADDR_CID_HOST || h->dst_cid != fz->cfg.guest_cid)
		fz_fail(fz, FUZZ_RX_FORMAT, "packet to the guest from CID %llu "
		    "to %llu", (unsigned long long)h->src_cid,
		    (unsigned long long)h->dst_cid);
	if ((p = fz_pair_get(fz, h->src_port, h->dst_port)) == NULL)
		return;
	c = vsock_device_find(fz->dev, h->src_port, h->dst_port);
	if (h->op == VIRTIO_VSOCK_OP_RST) {
		oracle_h2g_rst(fz, p, c, h);
		return;
	}
	if (h->op == VIRTIO_VSOCK_OP_REQUEST) {
		pair_new_conn(p, false);
		return;
	}
	if (p->closed || c == NULL) {
		fz_fail(fz, FUZZ_AFTER_RST, "%s %u->%u after the connection "
		    "was reset", vsock_op_name(h->op), h->src_port, h->dst_port);
		return;
	}
	if (h->op == VIRTIO_VSOCK_OP_RESPONSE) {
		if (!p->guest_conn || p->resp_sent || p->req_pending == 0)
			fz_fail(fz, FUZZ_REQUEST, "RESPONSE %u->%u without a "
			    "pending REQUEST", h->src_port, h->dst_port);
		else
			p->req_pending--;
		p->resp_sent = true;
	}
	a = app_of_conn(fz, c);
	if (a != NULL && !a->host_closed &&
	    h->fwd_cnt != (uint32_t)a->sc->in_total)
		fz_fail(fz, FUZZ_FWD_CNT, "%s %u->%u says fwd_cnt %u, the host "
		    "received %llu bytes", vsock_op_name(h->op), h->src_port,
		    h->dst_port, h->fwd_cnt,
		    (unsigned long long)a->sc->in_total);
	if (h->op == VIRTIO_VSOCK_OP_RW)
		oracle_h2g_rw(fz, p, a, rec);
}

void
fz_tap(void *ctx, const struct vsock_tap_record *rec)
{
	struct fz *fz = ctx;
	uint8_t mark = (uint8_t)(rec->dir | (rec->dropped ? 2 : 0));

	fz->digest = script_hash(fz->digest, &mark, 1);
	fz->digest = script_hash(fz->digest, rec->raw, VSOCK_HDR_SIZE);
	fz->digest = script_hash(fz->digest, rec->payload, rec->payload_len);
	fz->step_packets++;
	if (fz->opts != NULL && fz->opts->tap != NULL)
		fz->opts->tap(fz->opts->tap_ctx, rec);
	if (rec->dir == VSOCK_TAP_GUEST_TO_HOST) {
		fz->res->g2h++;
		oracle_g2h(fz, rec);
	} else {
		fz->res->h2g++;
		oracle_h2g(fz, rec);
	}
}

/* Host applications received a prefix of the accepted guest bytes. */
static void
check_g2h(struct fz *fz)
{
	struct fz_app *a;

	for (a = fz->apps; a != NULL; a = a->next) {
		const struct script_conn *sc = a->sc;

		if (sc->in_len == a->checked)
			continue;
		if (sc->in_len > a->g2h_len || memcmp(sc->in + a->checked,
		    a->g2h + a->checked, sc->in_len - a->checked) != 0) {
			fz_fail(fz, FUZZ_G2H_DATA, "host %u<-%u received %zu "
			    "bytes that are not a prefix of the %zu the guest "
			    "sent", sc->host_port, sc->guest_port, sc->in_len,
			    a->g2h_len);
			return;
		}
		a->checked = sc->in_len;
	}
}

/* foreach: a connection holds no more than the buffer it advertised. */
static int
check_conn_bounds(void *ctx, const struct vsock_conn *c)
{
	struct fz *fz = ctx;
	struct vsock_conn_info ci;

	vsock_conn_get_info(c, &ci);
	if (ci.g2h_held > ci.buf_alloc || ci.g2h_unforwarded > ci.buf_alloc)
		fz_fail(fz, FUZZ_BOUNDS, "connection %u<-%u holds %u bytes "
		    "(%u queued), buf_alloc %u", ci.local_port, ci.peer_port,
		    ci.g2h_held, ci.g2h_unforwarded, ci.buf_alloc);
	return 0;
}

/* The limits the configuration promises, read through the public API. */
static void
check_bounds(struct fz *fz)
{
	struct vsock_device_info di;

	vsock_device_get_info(fz->dev, &di);
	if (di.nconns > di.max_conns)
		fz_fail(fz, FUZZ_BOUNDS, "%u connections, limit %u",
		    di.nconns, di.max_conns);
	if (di.orphan_rsts > di.orphan_max)
		fz_fail(fz, FUZZ_BOUNDS, "%u queued RSTs, limit %u",
		    di.orphan_rsts, di.orphan_max);
	vsock_device_foreach_conn(fz->dev, check_conn_bounds, fz);
}

/* After every action: data prefixes, limits and bounded work. */
void
fz_check_step(struct fz *fz)
{
	uint64_t bound = 4096 + 64 * (fz->step_packets +
	    vsock_device_nconns(fz->dev));

	check_g2h(fz);
	check_bounds(fz);
	if (fz->work > bound)
		fz_fail(fz, FUZZ_SPIN, "%llu backend calls for %llu packets "
		    "in one action", (unsigned long long)fz->work,
		    (unsigned long long)fz->step_packets);
}

/* After the drain: every guest REQUEST was answered. */
void
fz_check_end(struct fz *fz)
{
	const struct virtq *rx = vsock_device_queue(fz->dev, VSOCK_QUEUE_RX);
	size_t i;

	/* A full orphan queue drops RSTs by design (counted). */
	if (fz->rx_tainted || virtq_is_broken(rx) ||
	    vsock_device_stats(fz->dev)->orphan_dropped > 0)
		return;
	for (i = 0; i < fz->npairs; i++)
		if (fz->pairs[i].req_pending > 0) {
			fz_fail(fz, FUZZ_REQUEST, "%u REQUEST %u->%u never "
			    "answered", fz->pairs[i].req_pending,
			    fz->pairs[i].peer, fz->pairs[i].local);
			return;
		}
}

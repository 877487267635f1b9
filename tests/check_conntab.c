/* check_conntab.c - the device's connection table: keys in the slots, scale, removal, hostile port patterns. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "backend-script.h"
#include "common.h"
#include "device-int.h"
#include "error.h"
#include "port-hash.h"

#define SEED		UINT64_C(42)
#define LISTEN_PORT	1234u

/* Every slot of t is empty. */
static void
assert_empty(const struct conntab *t)
{
	uint32_t i;

	ck_assert_uint_eq(t->count, 0);
	for (i = 0; i < t->nslots; i++)
		ck_assert_ptr_null(t->slot[i].c);
}

/* At most three slots in four hold a connection: a miss always ends. */
static void
assert_load(const struct conntab *t)
{
	ck_assert_uint_le((uint64_t)t->count * 4, (uint64_t)t->nslots * 3);
}

/*
 * A lookup compares the key stored in the slot and reads the connection
 * only once it matches, so a probe past other connections touches none of
 * them (doc/performance.md, conn10k): lookups still find every connection
 * whose own copy of its ports is garbage.
 */
START_TEST(test_conntab_key_in_slot)
{
	enum { N = 1000 };
	static struct vsock_conn conns[N];
	struct conntab t;
	unsigned i;

	memset(conns, 0, sizeof(conns));
	ck_assert_int_eq(conntab_init(&t, SEED), 0);
	for (i = 0; i < N; i++) {
		conns[i].local_port = LISTEN_PORT;
		conns[i].peer_port = 50000 + i;
		ck_assert_int_eq(conntab_insert(&t, &conns[i]), 0);
	}
	for (i = 0; i < N; i++)
		conns[i].local_port = conns[i].peer_port = 0xdeadbeef;
	for (i = 0; i < N; i++)
		ck_assert_ptr_eq(conntab_find(&t, LISTEN_PORT, 50000 + i),
		    &conns[i]);
	ck_assert_ptr_null(conntab_find(&t, 0xdeadbeef, 0xdeadbeef));
	for (i = 0; i < N; i++) {
		conns[i].local_port = LISTEN_PORT;
		conns[i].peer_port = 50000 + i;
		conntab_remove(&t, &conns[i]);
	}
	assert_empty(&t);
	conntab_free(&t);
}
END_TEST

#define SCALE_CONNS	20000

/*
 * 20,000 connections the way guests open them (64 listening ports,
 * consecutive guest ports; and host connects, consecutive local ports),
 * a third removed and put back, all removed: every lookup finds exactly
 * what is left, the load stays at most 3/4 and a lookup reads few slots.
 */
START_TEST(test_conntab_scale)
{
	static struct vsock_conn conns[SCALE_CONNS];
	struct conntab t;
	uint64_t probes = 0;
	unsigned i, pass;

	memset(conns, 0, sizeof(conns));
	ck_assert_int_eq(conntab_init(&t, SEED), 0);
	for (i = 0; i < SCALE_CONNS; i++) {
		conns[i].local_port = i % 2 ? LISTEN_PORT + i % 64 : 1024 + i;
		conns[i].peer_port = i % 2 ? 49152 + i : 5000;
		ck_assert_int_eq(conntab_insert(&t, &conns[i]), 0);
		assert_load(&t);
	}
	ck_assert_int_eq(conntab_insert(&t, &conns[7]), -VSE_ERR_INVAL);
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < SCALE_CONNS; i += 3)
			conntab_remove(&t, &conns[i]);
		for (i = 0; i < SCALE_CONNS; i++)
			ck_assert_ptr_eq(conntab_find(&t, conns[i].local_port,
			    conns[i].peer_port), i % 3 == 0 ? NULL : &conns[i]);
		for (i = 0; i < SCALE_CONNS; i += 3)
			ck_assert_int_eq(conntab_insert(&t, &conns[i]), 0);
	}
	for (i = 0; i < SCALE_CONNS; i++) {
		ck_assert(conntab_port_used(&t, conns[i].local_port));
		probes += conntab_probes(&t, conns[i].local_port,
		    conns[i].peer_port);
	}
	/* Linear probing at load <= 3/4: 2.5 slots a hit on average. */
	ck_assert_uint_le(probes, 3 * (uint64_t)SCALE_CONNS);
	ck_assert(!conntab_port_used(&t, 1023));	/* below them all */
	for (i = 0; i < SCALE_CONNS; i++)
		conntab_remove(&t, &conns[SCALE_CONNS - 1 - i]);
	assert_empty(&t);
	conntab_free(&t);
}
END_TEST

#define HOSTILE_CONNS	256
#define HONEST_CONNS	256
/* The largest table the test reaches: colliding there collides in all. */
#define HOSTILE_SLOTS	65536u

/*
 * A guest that knows the seed (the default is public: VSOCK_DEVICE_PUBLIC_SEED) picks
 * source ports whose pairs share one home slot in every table size. What
 * bounds it is what bounded the chains: a lookup reads at most the slots
 * the table holds connections in, the table grows with the count only,
 * never with the collisions, and once the colliding connections are gone
 * no trace of them (no tombstone) slows the others.
 */
START_TEST(test_conntab_hostile_ports)
{
	static struct vsock_conn bad[HOSTILE_CONNS], good[HONEST_CONNS];
	struct conntab t;
	uint64_t probes;
	uint32_t p, n, i, max;

	memset(bad, 0, sizeof(bad));
	memset(good, 0, sizeof(good));
	for (p = 1, n = 0; n < HOSTILE_CONNS; p++)
		if (port_hash(port_pair_key(LISTEN_PORT, p), SEED,
		    HOSTILE_SLOTS) == 0) {
			bad[n].local_port = LISTEN_PORT;
			bad[n++].peer_port = p;
		}
	ck_assert_int_eq(conntab_init(&t, SEED), 0);
	for (i = 0; i < HOSTILE_CONNS; i++) {
		good[i].local_port = LISTEN_PORT;
		good[i].peer_port = 1000000 + i;
		ck_assert_int_eq(conntab_insert(&t, &bad[i]), 0);
		ck_assert_int_eq(conntab_insert(&t, &good[i]), 0);
	}
	ck_assert_uint_le(t.nslots, 1024);	/* 512 connections, load 1/2 */
	for (i = 0; i < HOSTILE_CONNS; i++) {
		ck_assert_ptr_eq(conntab_find(&t, LISTEN_PORT,
		    bad[i].peer_port), &bad[i]);
		ck_assert_ptr_eq(conntab_find(&t, LISTEN_PORT,
		    good[i].peer_port), &good[i]);
		ck_assert_uint_le(conntab_probes(&t, LISTEN_PORT,
		    bad[i].peer_port), t.count);
	}
	/* A miss ends too, at the first empty slot. */
	ck_assert_ptr_null(conntab_find(&t, LISTEN_PORT, 0));
	/* The colliders leave in a scattered order. */
	for (i = 0; i < HOSTILE_CONNS; i++) {
		conntab_remove(&t, &bad[(i * 97) % HOSTILE_CONNS]);
		if (i % 32 == 0)
			for (n = 0; n < HONEST_CONNS; n++)
				ck_assert_ptr_eq(conntab_find(&t, LISTEN_PORT,
				    good[n].peer_port), &good[n]);
	}
	for (i = 0, probes = 0, max = 0; i < HONEST_CONNS; i++) {
		n = conntab_probes(&t, LISTEN_PORT, good[i].peer_port);
		probes += n;
		max = n > max ? n : max;
	}
	/* 256 in 1024 slots: what a table that never saw them gives. */
	ck_assert_uint_le(probes, 2 * (uint64_t)HONEST_CONNS);
	ck_assert_uint_le(max, 16);
	for (i = 0; i < HONEST_CONNS; i++)
		conntab_remove(&t, &good[i]);
	assert_empty(&t);
	conntab_free(&t);
}
END_TEST

#define SEEDED_CONNS	64

/*
 * vsock_device_config.hash_seed reaches the table (serve and vhost-user
 * pass a random one, host-side.c): the pairs a guest chose to share a home
 * slot under the public seed spread out under the device's own, so a
 * lookup costs what it costs in a table that never saw them.
 */
START_TEST(test_conntab_device_seed)
{
	static struct vsock_conn bad[SEEDED_CONNS];
	struct vsock_device_config cfg;
	struct vsock_device *dev;
	struct conntab t;
	uint64_t probes, pub;
	uint32_t p, n, i;

	vsock_device_config_defaults(&cfg);
	ck_assert_int_eq(vsock_device_new(&cfg, &script_backend_ops, NULL,
	    &dev, NULL), 0);
	pub = dev->tab.seed;
	ck_assert_uint_eq(pub, VSOCK_DEVICE_PUBLIC_SEED ^ cfg.guest_cid);
	vsock_device_free(dev);
	cfg.hash_seed = UINT64_C(0x5eed5eed12345678);
	ck_assert_int_eq(vsock_device_new(&cfg, &script_backend_ops, NULL,
	    &dev, NULL), 0);
	ck_assert_uint_eq(dev->tab.seed, cfg.hash_seed ^ cfg.guest_cid);
	memset(bad, 0, sizeof(bad));
	for (p = 1, n = 0; n < SEEDED_CONNS; p++)
		if (port_hash(port_pair_key(LISTEN_PORT, p), pub,
		    HOSTILE_SLOTS) == 0) {
			bad[n].local_port = LISTEN_PORT;
			bad[n++].peer_port = p;
		}
	ck_assert_int_eq(conntab_init(&t, dev->tab.seed), 0);
	for (i = 0; i < SEEDED_CONNS; i++)
		ck_assert_int_eq(conntab_insert(&t, &bad[i]), 0);
	for (i = 0, probes = 0; i < SEEDED_CONNS; i++)
		probes += conntab_probes(&t, LISTEN_PORT, bad[i].peer_port);
	/* Under the public seed they cost 1 + 2 + ... + 64 = 2,080. */
	ck_assert_uint_le(probes, 2 * (uint64_t)SEEDED_CONNS);
	for (i = 0; i < SEEDED_CONNS; i++)
		conntab_remove(&t, &bad[i]);
	conntab_free(&t);
	vsock_device_free(dev);
}
END_TEST

/*
 * Removal shifts the connections after the hole back (no tombstones),
 * also across the end of the slot array: a cluster that wraps.
 */
START_TEST(test_conntab_remove_wraps)
{
	enum { N = 40 };
	static struct vsock_conn conns[N];
	struct conntab t;
	uint32_t p, n, i, j;

	memset(conns, 0, sizeof(conns));
	ck_assert_int_eq(conntab_init(&t, SEED), 0);
	/* Pairs whose home is one of the last two slots of the first table. */
	for (p = 1, n = 0; n < N; p++)
		if (port_hash(port_pair_key(LISTEN_PORT, p), SEED,
		    t.nslots) >= t.nslots - 2) {
			conns[n].local_port = LISTEN_PORT;
			conns[n++].peer_port = p;
		}
	for (i = 0; i < N; i++)
		ck_assert_int_eq(conntab_insert(&t, &conns[i]), 0);
	ck_assert_uint_eq(t.nslots, 64);	/* 40 in 64: no growth */
	for (i = 0; i < N; i++) {
		conntab_remove(&t, &conns[(i * 7) % N]);
		for (j = 0; j < N; j++) {
			bool gone = false;
			uint32_t k;

			for (k = 0; k <= i; k++)
				gone |= (k * 7) % N == j;
			ck_assert_ptr_eq(conntab_find(&t, LISTEN_PORT,
			    conns[j].peer_port), gone ? NULL : &conns[j]);
		}
	}
	assert_empty(&t);
	conntab_free(&t);
}
END_TEST

static Suite *
conntab_suite(void)
{
	Suite *s = suite_create("conntab");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_conntab_key_in_slot);
	tcase_add_test(tc, test_conntab_scale);
	tcase_add_test(tc, test_conntab_hostile_ports);
	tcase_add_test(tc, test_conntab_remove_wraps);
	tcase_add_test(tc, test_conntab_device_seed);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(conntab_suite)

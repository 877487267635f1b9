/* check_simguest.c - serve's settle (emu/sim-guest.c, sim_guest_settle): what it runs, when it stops, what it says. */
#include "config.h"

#include <string.h>

#include "backend-script.h"
#include "common.h"
#include "sim-guest.h"
#include "sock.h"

#define HPORT		1234
#define NOW		UINT64_C(1000000000)

/* The guest's applications: move `left` more rounds, count the calls. */
struct apps {
	unsigned left, calls;
	bool forever;
};

static bool
apps_run(void *ctx, uint64_t now)
{
	struct apps *a = ctx;

	(void)now;
	a->calls++;
	if (a->forever)
		return true;
	if (a->left == 0)
		return false;
	a->left--;
	return true;
}

/* Nothing noted, nothing moving: one round, and "nothing moved". */
START_TEST(test_settle_quiet)
{
	struct sim_guest_signals sig = { false, false };
	struct apps a = { 0, 0, false };

	ck_assert(!sim_guest_settle(&sig, NULL, NULL, apps_run, &a, NOW));
	ck_assert_uint_eq(a.calls, 1);
	ck_assert(!sim_guest_settle(&sig, NULL, NULL, NULL, NULL, NOW));
}
END_TEST

/* Applications that move are run again until a round moves nothing. */
START_TEST(test_settle_runs_apps_until_still)
{
	struct sim_guest_signals sig = { false, false };
	struct apps a = { 3, 0, false };

	ck_assert(sim_guest_settle(&sig, NULL, NULL, apps_run, &a, NOW));
	ck_assert_uint_eq(a.calls, 4);
}
END_TEST

/* Applications that always move cannot hold it: the rounds are bounded. */
START_TEST(test_settle_bounded)
{
	struct sim_guest_signals sig = { false, false };
	struct apps a = { 0, 0, true };

	ck_assert(sim_guest_settle(&sig, NULL, NULL, apps_run, &a, NOW));
	ck_assert_uint_eq(a.calls, SIM_GUEST_SETTLE_ROUNDS);
}
END_TEST

/*
 * A noted kick is delivered, and what it leads to (the device's
 * RESPONSE, its interrupt) too, with no applications: "something moved",
 * nothing left noted, the connection made. A second settle finds
 * nothing (the bench's f_pump polls only then).
 */
START_TEST(test_settle_delivers_pending)
{
	struct vsock_device_config dc;
	struct script_backend sb;
	struct sim_guest_signals sig;
	struct vsock_device *dev;
	struct fg_vsock *vs;
	struct fg_mem mem;
	char err[128];
	int fd;

	memset(&sig, 0, sizeof(sig));
	vsock_device_config_defaults(&dc);
	dc.guest_cid = 3;
	script_init(&sb);
	ck_assert_int_eq(script_listen(&sb, HPORT, SCRIPT_ACCEPT), 0);
	ck_assert_int_eq(vsock_device_new(&dc, &script_backend_ops, &sb, &dev,
	    NULL), 0);
	script_attach(&sb, dev);
	vsock_device_set_notify(dev, sim_guest_on_irq, &sig);
	ck_assert_msg(sim_guest_new(dev, 3, 8, sim_guest_on_kick, &sig, &mem,
	    &vs, err, sizeof(err)) == 0, "%s", err);
	fg_vsock_start(vs);
	sim_guest_settle(&sig, dev, vs, NULL, NULL, NOW);	/* the start's */
	ck_assert(!sig.kick && !sig.irq);
	ck_assert_int_ge(fd = fg_sock_open(vs, VIRTIO_VSOCK_TYPE_STREAM), 0);
	fg_sock_connect(vs, fd, VMADDR_CID_HOST, HPORT, NOW);
	ck_assert(sig.kick);
	ck_assert(sim_guest_settle(&sig, dev, vs, NULL, NULL, NOW));
	ck_assert(!sig.kick && !sig.irq);
	ck_assert_int_eq(fg_sock_state(vs, fd), FG_SS_CONNECTED);
	ck_assert(!sim_guest_settle(&sig, dev, vs, NULL, NULL, NOW));
	vsock_device_free(dev);
	script_free(&sb);
	fg_vsock_free(vs);
	fg_mem_destroy(&mem);
}
END_TEST

static Suite *
simguest_suite(void)
{
	Suite *s = suite_create("simguest");
	TCase *tc = tcase_create("settle");

	tcase_add_test(tc, test_settle_quiet);
	tcase_add_test(tc, test_settle_runs_apps_until_still);
	tcase_add_test(tc, test_settle_bounded);
	tcase_add_test(tc, test_settle_delivers_pending);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(simguest_suite)

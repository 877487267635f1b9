/* check_guest.c - the public attached guest (fakeguest/guest.h): the stack wired to a device as Linux's driver would be. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "backend-script.h"
#include "common.h"
#include "guest.h"

#define HP	1234

/* A device over the scripted host application, and a guest attached. */
struct env {
	struct script_backend sb;
	struct vsock_device *dev;
	struct fg_guest *g;
	struct fg_vsock *vs;
	uint64_t src_cid;		/* of the last guest packet tapped */
	uint64_t now;
};

/* Remembers the source CID the guest put on the wire. */
static void
on_tap(void *ctx, const struct vsock_tap_record *rec)
{
	struct env *e = ctx;

	if (rec->dir == VSOCK_TAP_GUEST_TO_HOST)
		e->src_cid = rec->hdr.src_cid;
}

static struct env *
env_new(uint64_t cid, bool seqpacket)
{
	struct vsock_device_config dc;
	struct env *e = calloc(1, sizeof(*e));

	ck_assert_ptr_nonnull(e);
	vsock_device_config_defaults(&dc);
	dc.guest_cid = cid;
	dc.seqpacket = seqpacket;
	script_init(&e->sb);
	ck_assert_err(vsock_device_new(&dc, &script_backend_ops, &e->sb,
	    &e->dev, NULL), 0);
	script_attach(&e->sb, e->dev);
	vsock_device_set_tap(e->dev, on_tap, e);
	ck_assert_err(fg_guest_new(e->dev, NULL, &e->g), 0);
	e->vs = fg_guest_vsock(e->g);
	ck_assert(fg_guest_settle(e->g, 0));
	return e;
}

static void
env_free(struct env *e)
{
	ck_assert_msg(fg_guest_violation(e->g) == NULL, "violation: %s",
	    fg_guest_violation(e->g));
	vsock_device_free(e->dev);
	script_free(&e->sb);
	fg_guest_free(e->g);
	free(e);
}

/* A guest socket connecting to HP of the given type; settled. */
static int
connect_host(struct env *e, uint16_t type)
{
	int fd = fg_sock_open(e->vs, type);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fg_sock_connect(e->vs, fd, VMADDR_CID_HOST, HP,
	    e->now), -EINPROGRESS);
	ck_assert(fg_guest_settle(e->g, e->now));
	return fd;
}

START_TEST(test_connect_and_data)
{
	struct env *e = env_new(3, false);
	struct script_conn *sc;
	char buf[16];
	int fd;

	script_listen(&e->sb, HP, SCRIPT_ACCEPT);
	fd = connect_host(e, VIRTIO_VSOCK_TYPE_STREAM);
	ck_assert_int_eq(fg_sock_state(e->vs, fd), FG_SS_CONNECTED);
	ck_assert_int_eq(fg_sock_send(e->vs, fd, "ping", 4, 0), 4);
	ck_assert(fg_guest_settle(e->g, e->now));
	sc = script_find(&e->sb, HP, 1024);
	ck_assert_ptr_nonnull(sc);
	ck_assert_uint_eq(sc->in_len, 4);
	ck_assert_mem_eq(sc->in, "ping", 4);
	ck_assert_err(script_send(&e->sb, sc, "pong!", 5, 0, e->now), 0);
	ck_assert(fg_guest_settle(e->g, e->now));
	ck_assert_int_eq(fg_sock_recv(e->vs, fd, buf, sizeof(buf), NULL), 5);
	ck_assert_mem_eq(buf, "pong!", 5);
	env_free(e);
}
END_TEST

/* The CID comes from the device's config space, as Linux reads it. */
START_TEST(test_cid_from_config_space)
{
	struct env *e = env_new(0x12345678, false);

	script_listen(&e->sb, HP, SCRIPT_ACCEPT);
	connect_host(e, VIRTIO_VSOCK_TYPE_STREAM);
	ck_assert_uint_eq(e->src_cid, 0x12345678);
	env_free(e);
}
END_TEST

/* SEQPACKET works only when the device offered it (features acked). */
START_TEST(test_features_follow_the_device)
{
	struct env *e = env_new(3, true);
	int fd;

	script_listen(&e->sb, HP, SCRIPT_ACCEPT);
	fd = connect_host(e, VIRTIO_VSOCK_TYPE_SEQPACKET);
	ck_assert_int_eq(fg_sock_state(e->vs, fd), FG_SS_CONNECTED);
	env_free(e);

	/* Linux: vsock_assign_transport() refuses it at connect. */
	e = env_new(3, false);
	fd = fg_sock_open(e->vs, VIRTIO_VSOCK_TYPE_SEQPACKET);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fg_sock_connect(e->vs, fd, VMADDR_CID_HOST, HP,
	    e->now), -ESOCKTNOSUPPORT);
	env_free(e);
}
END_TEST

START_TEST(test_refused)
{
	struct env *e = env_new(3, false);
	int fd;

	script_listen(&e->sb, HP, SCRIPT_REFUSE);
	fd = connect_host(e, VIRTIO_VSOCK_TYPE_STREAM);
	ck_assert_int_eq(fg_sock_state(e->vs, fd), FG_SS_CLOSED);
	ck_assert_int_eq(fg_sock_error(e->vs, fd), ECONNRESET);
	env_free(e);
}
END_TEST

/* Timers: the earlier side's deadline is reported and fires in settle. */
START_TEST(test_deadlines)
{
	struct env *e = env_new(3, false);
	vsock_time_t d;
	int fd;

	ck_assert_uint_eq(fg_guest_next_deadline(e->g), VSOCK_TIME_NEVER);
	script_listen(&e->sb, HP, SCRIPT_PENDING);
	fd = connect_host(e, VIRTIO_VSOCK_TYPE_STREAM);
	ck_assert_int_eq(fg_sock_state(e->vs, fd), FG_SS_CONNECTING);
	d = fg_guest_next_deadline(e->g);
	/* Both sides give up after 2 s; the device's timer runs first. */
	ck_assert_uint_eq(d, 2 * VSOCK_NS_PER_SEC);
	ck_assert(fg_guest_settle(e->g, d - 1));
	ck_assert_int_eq(fg_sock_state(e->vs, fd), FG_SS_CONNECTING);
	ck_assert(fg_guest_settle(e->g, d));
	ck_assert_int_eq(fg_sock_state(e->vs, fd), FG_SS_CLOSED);
	ck_assert_int_ne(fg_sock_error(e->vs, fd), 0);
	env_free(e);
}
END_TEST

/* A configuration the stack refuses leaves nothing behind. */
START_TEST(test_bad_config)
{
	struct fg_guest_config gc = { .qsize = 3 };
	struct vsock_device_config dc;
	struct script_backend sb;
	struct vsock_device *dev;
	struct fg_guest *g = NULL;

	vsock_device_config_defaults(&dc);
	script_init(&sb);
	ck_assert_err(vsock_device_new(&dc, &script_backend_ops, &sb, &dev,
	    NULL), 0);
	ck_assert_int_lt(fg_guest_new(dev, &gc, &g), 0);
	ck_assert_ptr_null(g);
	vsock_device_free(dev);
	script_free(&sb);
}
END_TEST

static Suite *
guest_suite(void)
{
	Suite *s = suite_create("guest");
	TCase *tc = tcase_create("attached");

	tcase_add_test(tc, test_connect_and_data);
	tcase_add_test(tc, test_cid_from_config_space);
	tcase_add_test(tc, test_features_follow_the_device);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_deadlines);
	tcase_add_test(tc, test_bad_config);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(guest_suite)

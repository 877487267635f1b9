/* check_siblings.c - sibling VMs in one process (emu/vm-group.c over the device's route seam): guest to guest through two devices. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "backend-script.h"
#include "common.h"
#include "error.h"
#include "guest.h"
#include "vm-group.h"

#define PORT		1234
#define ROUNDS		100000	/* settle rounds before a test calls it stuck */

/* One VM: a device over a scripted host, its guest, its router entry. */
struct vm {
	struct script_backend sb;
	struct vsock_device *dev;
	struct fg_guest *g;
	struct fg_vsock *vs;
	struct vm_member *m;
};

static struct vm_router router;
static uint64_t now;

/* A VM with guest CID cid in the groups "A+B" style list (NULL: default). */
static void
vm_new_type(struct vm *v, uint64_t cid, const char *groups, bool seqpacket)
{
	struct vsock_device_config dc;
	struct vm_groups g;
	char err[128];

	memset(v, 0, sizeof(*v));
	if (groups != NULL)
		ck_assert_int_eq(vm_groups_parse(groups, &g, err, sizeof(err)),
		    0);
	else
		vm_groups_default(&g);
	vsock_device_config_defaults(&dc);
	dc.guest_cid = cid;
	dc.seqpacket = seqpacket;
	script_init(&v->sb);
	ck_assert_err(vsock_device_new(&dc, &script_backend_ops, &v->sb,
	    &v->dev, NULL), 0);
	script_attach(&v->sb, v->dev);
	ck_assert_ptr_nonnull(v->m = vm_router_add(&router, cid, &g));
	vm_member_attach(v->m, v->dev);
	ck_assert_err(fg_guest_new(v->dev, NULL, &v->g), 0);
	v->vs = fg_guest_vsock(v->g);
	ck_assert(fg_guest_settle(v->g, now));
}

static void
vm_new(struct vm *v, uint64_t cid, const char *groups)
{
	vm_new_type(v, cid, groups, false);
}

static void
vm_free(struct vm *v)
{
	ck_assert_msg(fg_guest_violation(v->g) == NULL, "violation: %s",
	    fg_guest_violation(v->g));
	vm_member_attach(v->m, NULL);
	vsock_device_free(v->dev);
	script_free(&v->sb);
	fg_guest_free(v->g);
}

/* One round of both VMs' loops. */
static void
settle2(struct vm *a, struct vm *b)
{
	now += 1000;
	ck_assert(fg_guest_settle(a->g, now));
	ck_assert(fg_guest_settle(b->g, now));
	ck_assert(fg_guest_settle(a->g, now));
}

static void
setup(void)
{
	memset(&router, 0, sizeof(router));
	now = 0;
}

/* A connects to b's CID at PORT; returns A's socket once settled. */
static int
connect_type(struct vm *a, uint64_t cid, struct vm *b, uint16_t type)
{
	int fd = fg_sock_open(a->vs, type);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fg_sock_connect(a->vs, fd, cid, PORT, now),
	    -EINPROGRESS);
	settle2(a, b);
	return fd;
}

static int
connect_sibling(struct vm *a, uint64_t cid, struct vm *b)
{
	return connect_type(a, cid, b, VIRTIO_VSOCK_TYPE_STREAM);
}

/* Bytes that say where they were in the stream. */
static uint8_t
pattern(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 12));
}

/*
 * Guest 3 connects to guest 4's CID and 1 MiB goes there and back through
 * an echo in guest 4: four times each guest's 256 KiB buffer, so credit
 * must come back end to end, in both directions, through both devices.
 */
START_TEST(test_sibling_echo)
{
	enum { TOTAL = 1 << 20 };
	static uint8_t buf[65536], back[TOTAL];
	struct vm a, b;
	size_t sent = 0, got = 0, held = 0, i;
	static uint8_t echo[TOTAL];
	size_t echoed = 0;
	int lfd, afd, bfd, rounds;
	ssize_t n;

	vm_new(&a, 3, "g1");
	vm_new(&b, 4, "g0+g1");
	lfd = fg_sock_open(b.vs, VIRTIO_VSOCK_TYPE_STREAM);
	ck_assert_int_eq(fg_sock_bind(b.vs, lfd, PORT), 0);
	ck_assert_int_eq(fg_sock_listen(b.vs, lfd, 4), 0);
	afd = connect_sibling(&a, 4, &b);
	ck_assert_int_eq(fg_sock_state(a.vs, afd), FG_SS_CONNECTED);
	ck_assert_int_ge(bfd = fg_sock_accept(b.vs, lfd), 0);
	for (rounds = 0; got < TOTAL && rounds < ROUNDS; rounds++) {
		for (i = 0; i < sizeof(buf) && sent + i < TOTAL; i++)
			buf[i] = pattern(sent + i);
		if (i > 0 && (n = fg_sock_send(a.vs, afd, buf, i, 0)) > 0)
			sent += (size_t)n;
		while ((n = fg_sock_recv(b.vs, bfd, echo + held,
		    TOTAL - held, NULL)) > 0)
			held += (size_t)n;
		if (echoed < held && (n = fg_sock_send(b.vs, bfd,
		    echo + echoed, held - echoed, 0)) > 0)
			echoed += (size_t)n;
		while ((n = fg_sock_recv(a.vs, afd, back + got, TOTAL - got,
		    NULL)) > 0)
			got += (size_t)n;
		settle2(&a, &b);
	}
	ck_assert_uint_eq(got, TOTAL);
	for (i = 0; i < TOTAL; i++)
		ck_assert_uint_eq(back[i], pattern(i));
	/* The devices relayed: neither had a connection of its own. */
	ck_assert_uint_eq(vsock_device_nconns(a.dev), 0);
	ck_assert_uint_eq(vsock_device_nconns(b.dev), 0);
	ck_assert_uint_gt(vsock_device_stats(a.dev)->relay_out, TOTAL / 65536);
	ck_assert_uint_gt(vsock_device_stats(b.dev)->relay_in, TOTAL / 65536);
	ck_assert_uint_eq(vsock_device_stats(b.dev)->relay_dropped, 0);
	/* An orderly close reaches the other guest too. */
	ck_assert_int_eq(fg_sock_close(a.vs, afd, now), 0);
	settle2(&a, &b);
	ck_assert_int_eq(fg_sock_recv(b.vs, bfd, buf, sizeof(buf), NULL), 0);
	vm_free(&a);
	vm_free(&b);
}
END_TEST

/*
 * A 60000-byte SEQPACKET message crosses in 4 KiB RX buffers: split on
 * the way, EOM and EOR on the last part only (vhost_transport_do_send_pkt),
 * so the other guest reads it as one message, its end marked.
 */
START_TEST(test_sibling_seqpacket_split)
{
	static uint8_t msg[60000], got[65536];
	struct vm a, b;
	int lfd, afd, bfd, flags = 0;
	ssize_t n;
	size_t i;

	vm_new_type(&a, 3, NULL, true);
	vm_new_type(&b, 4, NULL, true);
	lfd = fg_sock_open(b.vs, VIRTIO_VSOCK_TYPE_SEQPACKET);
	ck_assert_int_eq(fg_sock_bind(b.vs, lfd, PORT), 0);
	ck_assert_int_eq(fg_sock_listen(b.vs, lfd, 4), 0);
	afd = connect_type(&a, 4, &b, VIRTIO_VSOCK_TYPE_SEQPACKET);
	ck_assert_int_eq(fg_sock_state(a.vs, afd), FG_SS_CONNECTED);
	ck_assert_int_ge(bfd = fg_sock_accept(b.vs, lfd), 0);
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = pattern(i);
	ck_assert_int_eq(fg_sock_send(a.vs, afd, msg, sizeof(msg), MSG_EOR),
	    sizeof(msg));
	settle2(&a, &b);
	n = fg_sock_recv(b.vs, bfd, got, sizeof(got), &flags);
	ck_assert_int_eq(n, sizeof(msg));
	ck_assert(flags & MSG_EOR);
	ck_assert_mem_eq(got, msg, sizeof(msg));
	ck_assert_uint_gt(vsock_device_stats(b.dev)->h2g_packets,
	    sizeof(msg) / 4096);
	vm_free(&a);
	vm_free(&b);
}
END_TEST

/* A guest connect that reaches no sibling fails at once with RST. */
static void
assert_refused(struct vm *a, uint64_t cid, struct vm *b)
{
	int fd = connect_sibling(a, cid, b);

	ck_assert_int_eq(fg_sock_state(a->vs, fd), FG_SS_CLOSED);
	ck_assert_int_eq(fg_sock_error(a->vs, fd), ECONNRESET);
	ck_assert_int_eq(fg_sock_close(a->vs, fd, now), 0);
}

/* No group in common, no such CID, the guest's own CID: RST, as from it. */
START_TEST(test_no_shared_group_is_refused)
{
	struct vm a, b;
	int lfd;

	vm_new(&a, 3, "g1");
	vm_new(&b, 4, "g2");
	lfd = fg_sock_open(b.vs, VIRTIO_VSOCK_TYPE_STREAM);
	ck_assert_int_eq(fg_sock_bind(b.vs, lfd, PORT), 0);
	ck_assert_int_eq(fg_sock_listen(b.vs, lfd, 4), 0);
	assert_refused(&a, 4, &b);
	assert_refused(&a, 9, &b);
	ck_assert_uint_eq(vsock_device_stats(a.dev)->relay_refused, 2);
	ck_assert_uint_eq(vsock_device_stats(b.dev)->relay_in, 0);
	ck_assert_int_eq(fg_sock_accept(b.vs, lfd), -EAGAIN);
	vm_free(&a);
	vm_free(&b);
}
END_TEST

/* Without a group given, every VM is in "default" and reaches the others. */
START_TEST(test_default_group)
{
	struct vm a, b;
	int lfd, fd;

	vm_new(&a, 3, NULL);
	vm_new(&b, 5, NULL);
	lfd = fg_sock_open(b.vs, VIRTIO_VSOCK_TYPE_STREAM);
	ck_assert_int_eq(fg_sock_bind(b.vs, lfd, PORT), 0);
	ck_assert_int_eq(fg_sock_listen(b.vs, lfd, 4), 0);
	fd = connect_sibling(&a, 5, &b);
	ck_assert_int_eq(fg_sock_state(a.vs, fd), FG_SS_CONNECTED);
	vm_free(&a);
	vm_free(&b);
}
END_TEST

/*
 * A sibling whose guest takes nothing (no RX queue yet) cannot make the
 * device hold more than VSOCK_RELAY_MAX_BYTES; freeing it frees them.
 */
START_TEST(test_relay_queue_bounded)
{
	static uint8_t payload[VIRTIO_VSOCK_MAX_PKT_BUF_SIZE];
	struct vsock_device_config dc;
	struct vsock_device *dev;
	struct vsock_hdr h;
	uint8_t raw[VSOCK_HDR_SIZE];
	unsigned i, queued = 0;
	int e = 0;

	vsock_device_config_defaults(&dc);
	dc.guest_cid = 4;
	ck_assert_err(vsock_device_new(&dc, &script_backend_ops, NULL, &dev,
	    NULL), 0);
	memset(&h, 0, sizeof(h));
	h.src_cid = 3;
	h.dst_cid = 4;
	h.type = VIRTIO_VSOCK_TYPE_STREAM;
	h.op = VIRTIO_VSOCK_OP_RW;
	h.len = sizeof(payload);
	vsock_hdr_encode(&h, raw);
	for (i = 0; i < 1000 && (e = vsock_device_relay_in(dev, raw, payload,
	    sizeof(payload), 0)) == 0; i++)
		queued++;
	ck_assert_err(e, -VSE_ERR_RELAY_FULL);
	ck_assert_uint_le((uint64_t)queued * sizeof(payload),
	    VSOCK_RELAY_MAX_BYTES);
	ck_assert_uint_ge(queued, VSOCK_RELAY_MAX_BYTES / sizeof(payload) - 1);
	ck_assert_uint_eq(vsock_device_stats(dev)->relay_dropped, 1);
	/* Not for this guest, or a length that lies: refused, not queued. */
	h.dst_cid = 5;
	vsock_hdr_encode(&h, raw);
	ck_assert_err(vsock_device_relay_in(dev, raw, payload, 1, 0),
	    -VSE_ERR_INVAL);
	vsock_device_free(dev);
}
END_TEST

/* The groups= grammar: vhost-device-vsock's '+' between names. */
START_TEST(test_groups_parse)
{
	struct vm_groups a, b;
	char err[128];

	ck_assert_int_eq(vm_groups_parse("g1+g2", &a, err, sizeof(err)), 0);
	ck_assert_uint_eq(a.n, 2);
	ck_assert_str_eq(a.name[1], "g2");
	ck_assert_int_eq(vm_groups_parse("g2", &b, err, sizeof(err)), 0);
	ck_assert(vm_groups_share(&a, &b));
	vm_groups_default(&b);
	ck_assert(!vm_groups_share(&a, &b));
	ck_assert_int_eq(vm_groups_parse("", &a, err, sizeof(err)), -1);
	ck_assert_int_eq(vm_groups_parse("g1++g2", &a, err, sizeof(err)), -1);
	ck_assert_int_eq(vm_groups_parse("g1+", &a, err, sizeof(err)), -1);
	ck_assert_int_eq(vm_groups_parse("g1+g1", &a, err, sizeof(err)), -1);
	ck_assert_int_eq(vm_groups_parse(
	    "a+b+c+d+e+f+g+h+i+j+k+l+m+n+o+p+q", &a, err, sizeof(err)), -1);
}
END_TEST

static Suite *
siblings_suite(void)
{
	Suite *s = suite_create("siblings");
	TCase *tc = tcase_create("relay");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sibling_echo);
	tcase_add_test(tc, test_sibling_seqpacket_split);
	tcase_add_test(tc, test_no_shared_group_is_refused);
	tcase_add_test(tc, test_default_group);
	tcase_add_test(tc, test_relay_queue_bounded);
	tcase_add_test(tc, test_groups_parse);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(siblings_suite)

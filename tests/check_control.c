/* check_control.c - the --control socket (emu/control.c): the command grammar, and a server that stays bounded and responsive whatever its clients do. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.h"
#include "control.h"
#include "grig.h"
#include "loop.h"
#include "vhu-control.h"

/* --- the grammar --- */

/* Parses line, which must be good. */
static struct control_cmd
good(const char *line)
{
	struct control_cmd c;
	const char *why = NULL;

	ck_assert_msg(control_parse(line, &c, &why) == 0, "'%s': %s", line,
	    why);
	return c;
}

/* Parses line, which must be refused with a reason. */
static void
bad(const char *line)
{
	struct control_cmd c;
	const char *why = NULL;

	ck_assert_msg(control_parse(line, &c, &why) < 0, "'%s' accepted",
	    line);
	ck_assert_ptr_nonnull(why);
}

START_TEST(test_parse_commands)
{
	struct control_cmd c;

	c = good("reset");
	ck_assert_int_eq(c.op, CONTROL_RESET);
	ck_assert(!c.has_cid);
	c = good("reset cid=5");
	ck_assert(c.has_cid);
	ck_assert_uint_eq(c.cid, 5);
	c = good("reset cid=4294967294");
	ck_assert_uint_eq(c.cid, 4294967294u);
	c = good("refuse 52");
	ck_assert_int_eq(c.op, CONTROL_REFUSE);
	ck_assert_uint_eq(c.port, 52);
	c = good("accept 0");
	ck_assert_int_eq(c.op, CONTROL_ACCEPT);
	c = good("accept 4294967294");
	ck_assert_uint_eq(c.port, 4294967294u);
	c = good("delay 52 3600000");
	ck_assert_int_eq(c.op, CONTROL_DELAY);
	ck_assert_uint_eq(c.ms, 3600000);
	c = good("delay 52 0");
	ck_assert_uint_eq(c.ms, 0);
	c = good("rst all");
	ck_assert(c.all);
	c = good("rst 1234");
	ck_assert(!c.all);
	ck_assert_uint_eq(c.port, 1234);
	ck_assert_int_eq(good("pause-rx").op, CONTROL_PAUSE_RX);
	ck_assert_int_eq(good("resume-rx").op, CONTROL_RESUME_RX);
	ck_assert_int_eq(good("stats").op, CONTROL_STATS);
	/* Blanks around words, and a CR before the newline, are fine. */
	ck_assert_int_eq(good("  stats\r").op, CONTROL_STATS);
	ck_assert_uint_eq(good("delay\t7 \t 9").ms, 9);
}
END_TEST

/* Each boundary on its bad side, junk, and every wrong arity. */
START_TEST(test_parse_refuses)
{
	char longline[CONTROL_LINE_MAX + 2];

	bad("");
	bad("   ");
	bad("STATS");
	bad("stat");
	bad("statsx");
	bad("stats now");
	bad("reset cid=");
	bad("reset cid=2");
	bad("reset cid=4294967295");
	bad("reset cid=-5");
	bad("reset cid=5x");
	bad("reset 5");
	bad("reset cid=5 cid=6");
	bad("refuse");
	bad("refuse 4294967295");
	bad("refuse -1");
	bad("refuse +1");
	bad("refuse 52 53");
	bad("accept x");
	bad("delay 52");
	bad("delay 52 3600001");
	bad("delay 52 1.5");
	bad("delay 52 10 10");
	bad("rst");
	bad("rst ALL");
	bad("rst all 52");
	bad("pause-rx 1");
	bad("a b c d e f");
	memset(longline, 's', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	bad(longline);
}
END_TEST

/* Answers are JSON whatever the text: quotes, backslashes, control bytes. */
START_TEST(test_json_escapes)
{
	struct control_json j = { .len = 0 };

	control_json_str(&j, "e", "a\"b\\c\n\x01\xff");
	ck_assert_str_eq(j.buf, ",\"e\":\"a\\\"b\\\\c\\u000a\\u0001\\u00ff\"");
	control_json_u64(&j, "n", UINT64_MAX);
	control_json_bool(&j, "b", true);
	ck_assert_ptr_nonnull(strstr(j.buf, ",\"n\":18446744073709551615,"
	    "\"b\":true"));
	ck_assert(!j.overflow);
	while (!j.overflow)
		control_json_u64(&j, "filler", 1);
	ck_assert_uint_lt(j.len, sizeof(j.buf));
	ck_assert_uint_eq(strlen(j.buf), j.len);
}
END_TEST

/* --- the server --- */

/* A control socket on a loop, with an apply that records what it got. */
struct crig {
	struct loop *loop;
	struct control *ctl;
	char dir[64], path[108];
	unsigned applied, reported;
	struct control_cmd last;
	const char *last_answer_ok;	/* "ok" field of the last report */
};

static int
rig_apply(void *ctx, const struct control_cmd *cmd, struct control_json *out,
    const char **why)
{
	struct crig *r = ctx;

	r->applied++;
	r->last = *cmd;
	if (cmd->op == CONTROL_RESET && cmd->has_cid && cmd->cid == 7) {
		*why = "seven is refused";
		return -1;
	}
	control_json_u64(out, "n", r->applied);
	return 0;
}

static void
rig_report(void *ctx, const struct control_cmd *cmd, const char *answer)
{
	struct crig *r = ctx;

	(void)cmd;
	r->reported++;
	r->last_answer_ok = strncmp(answer, "{\"ok\":true", 10) == 0 ? "true" :
	    "false";
}

static struct crig *
crig_new(void)
{
	struct crig *r = calloc(1, sizeof(*r));
	char err[256];

	ck_assert_ptr_nonnull(r);
	strcpy(r->dir, "/tmp/vse-control-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(r->dir));
	snprintf(r->path, sizeof(r->path), "%s/c.sock", r->dir);
	ck_assert_int_eq(loop_new(&r->loop), 0);
	ck_assert_msg(control_open(r->loop, r->path, rig_apply, r, &r->ctl,
	    err, sizeof(err)) == 0, "%s", err);
	control_set_report(r->ctl, rig_report, r);
	return r;
}

static void
crig_free(struct crig *r)
{
	control_free(r->ctl);
	ck_assert_int_ne(access(r->path, F_OK), 0);	/* removed */
	loop_free(r->loop);
	rmdir(r->dir);
	free(r);
}

/* Runs the loop without waiting, a few times. */
static void
crig_spin(struct crig *r)
{
	int i;

	for (i = 0; i < 8; i++)
		loop_wait(r->loop, 0);
}

/* A client connected to the rig. */
static int
crig_client(struct crig *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, r->path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	crig_spin(r);
	return fd;
}

static void
send_str(int fd, const char *s)
{
	ck_assert_int_eq(send(fd, s, strlen(s), MSG_NOSIGNAL),
	    (ssize_t)strlen(s));
}

/*
 * Runs the loop until fd has a whole answer line (bounded: the server
 * answers within one dispatch) and returns it (static buffer).
 */
static const char *
read_line(struct crig *r, int fd)
{
	static char line[CONTROL_ANSWER_MAX + 1];
	size_t k = 0;
	int rounds;
	ssize_t n;

	for (rounds = 0; rounds < 1000; rounds++) {
		loop_wait(r->loop, 0);
		n = recv(fd, line + k, 1, MSG_DONTWAIT);
		if (n == 1 && line[k] == '\n') {
			line[k + 1] = '\0';
			return line;
		}
		if (n == 1 && k + 1 < CONTROL_ANSWER_MAX)
			k++;
		if (n == 0)
			break;
	}
	line[k] = '\0';
	ck_abort_msg("no answer line (got '%s')", line);
	return NULL;
}

/* Has the server closed fd? */
static bool
closed_by_server(struct crig *r, int fd)
{
	char c;
	int rounds;

	for (rounds = 0; rounds < 1000; rounds++) {
		loop_wait(r->loop, 0);
		if (recv(fd, &c, 1, MSG_DONTWAIT) == 0)
			return true;
	}
	return false;
}

/* One connection, several commands, errors in between: all answered. */
START_TEST(test_server_answers)
{
	struct crig *r = crig_new();
	int fd = crig_client(r);

	send_str(fd, "stats\n");
	ck_assert_str_eq(read_line(r, fd),
	    "{\"ok\":true,\"command\":\"stats\",\"n\":1}\n");
	/* Two lines in one write: two answers, in order. */
	send_str(fd, "rst all\ndelay 5 10\n");
	ck_assert_str_eq(read_line(r, fd),
	    "{\"ok\":true,\"command\":\"rst\",\"n\":2}\n");
	ck_assert_str_eq(read_line(r, fd),
	    "{\"ok\":true,\"command\":\"delay\",\"n\":3}\n");
	close(fd);
	crig_free(r);
}
END_TEST

START_TEST(test_server_errors_keep_connection)
{
	struct crig *r = crig_new();
	int fd = crig_client(r);
	const char *a;

	send_str(fd, "bogus\n");
	a = read_line(r, fd);
	ck_assert_msg(strncmp(a, "{\"ok\":false,\"error\":\"unknown command",
	    35) == 0, "%s", a);
	ck_assert_uint_eq(r->applied, 0);
	ck_assert_str_eq(r->last_answer_ok, "false");
	send_str(fd, "reset cid=7\n");
	ck_assert_str_eq(read_line(r, fd), "{\"ok\":false,\"command\":"
	    "\"reset\",\"error\":\"seven is refused\"}\n");
	send_str(fd, "refuse 52\n");
	ck_assert_str_eq(read_line(r, fd),
	    "{\"ok\":true,\"command\":\"refuse\",\"n\":2}\n");
	ck_assert_int_eq(r->last.op, CONTROL_REFUSE);
	ck_assert_uint_eq(r->last.port, 52);
	ck_assert_uint_eq(r->reported, 3);
	ck_assert_str_eq(r->last_answer_ok, "true");
	close(fd);
	crig_free(r);
}
END_TEST

/*
 * A line beyond CONTROL_LINE_MAX is answered once and skipped to its
 * newline; a NUL byte makes a line no command; the next line works.
 */
START_TEST(test_server_long_line)
{
	struct crig *r = crig_new();
	int fd = crig_client(r);
	char big[3 * CONTROL_LINE_MAX];

	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(send(fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
	ck_assert_str_eq(read_line(r, fd),
	    "{\"ok\":false,\"error\":\"line too long\"}\n");
	send_str(fd, "xxx\nstats\n");
	ck_assert_str_eq(read_line(r, fd),
	    "{\"ok\":true,\"command\":\"stats\",\"n\":1}\n");
	ck_assert_int_eq(send(fd, "st\0ats\n", 7, 0), 7);
	ck_assert_str_eq(read_line(r, fd),
	    "{\"ok\":false,\"error\":\"NUL byte in the line\"}\n");
	ck_assert_uint_eq(r->applied, 1);
	close(fd);
	crig_free(r);
}
END_TEST

/* A last line without a newline still counts; then the server closes. */
START_TEST(test_server_last_line_at_eof)
{
	struct crig *r = crig_new();
	int fd = crig_client(r);

	send_str(fd, "stats");
	shutdown(fd, SHUT_WR);
	ck_assert_str_eq(read_line(r, fd),
	    "{\"ok\":true,\"command\":\"stats\",\"n\":1}\n");
	ck_assert(closed_by_server(r, fd));
	ck_assert_uint_eq(control_nclients(r->ctl), 0);
	close(fd);
	crig_free(r);
}
END_TEST

/* Client CONTROL_CLIENTS_MAX + 1 is told why and closed; a freed slot is reused. */
START_TEST(test_server_client_limit)
{
	struct crig *r = crig_new();
	int fds[CONTROL_CLIENTS_MAX], extra, i;

	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		fds[i] = crig_client(r);
	ck_assert_uint_eq(control_nclients(r->ctl), CONTROL_CLIENTS_MAX);
	extra = crig_client(r);
	ck_assert_str_eq(read_line(r, extra),
	    "{\"ok\":false,\"error\":\"too many control clients\"}\n");
	ck_assert(closed_by_server(r, extra));
	close(extra);
	close(fds[0]);
	crig_spin(r);
	ck_assert_uint_eq(control_nclients(r->ctl), CONTROL_CLIENTS_MAX - 1);
	fds[0] = crig_client(r);
	send_str(fds[0], "stats\n");
	ck_assert_str_eq(read_line(r, fds[0]),
	    "{\"ok\":true,\"command\":\"stats\",\"n\":1}\n");
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		close(fds[i]);
	crig_free(r);
}
END_TEST

/*
 * A client that sends and never reads: the server stops reading it once
 * CONTROL_OUT_MAX bytes of answers wait, so it holds a bounded amount and
 * another client is still answered at once; the loop never blocks (every
 * loop_wait here is non-blocking, so a blocking send would hang the test).
 */
START_TEST(test_server_client_never_reads)
{
	struct crig *r = crig_new();
	int hog = crig_client(r), other = crig_client(r), i;
	unsigned applied;
	int buf = 4096;
	ssize_t n;

	/* Small kernel buffers: the server's own bound is what holds. */
	setsockopt(hog, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(hog, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	for (i = 0; i < 100000; i++) {
		n = send(hog, "stats\n", 6, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			ck_assert_int_eq(errno, EAGAIN);
			loop_wait(r->loop, 0);
		}
	}
	crig_spin(r);
	applied = r->applied;
	ck_assert_uint_gt(applied, 0);
	/* The hog cannot have been answered 100000 times. */
	ck_assert_uint_lt(applied, 100000);
	send_str(other, "stats\n");
	ck_assert_ptr_nonnull(strstr(read_line(r, other), "\"ok\":true"));
	crig_spin(r);
	ck_assert_uint_eq(r->applied, applied + 1);
	close(hog);
	close(other);
	crig_spin(r);
	ck_assert_uint_eq(control_nclients(r->ctl), 0);
	crig_free(r);
}
END_TEST

/*
 * Out of fds: a client is accepted on the reserved fd, told so and
 * closed, so the listener does not stay readable (a level-triggered loop
 * would spin on it); once fds are back, clients are served again.
 */
START_TEST(test_server_out_of_fds)
{
	struct crig *r = crig_new();
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int cl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int hold[4096], n = 0, fd, i;
	struct rlimit old, low;
	const char *a;

	ck_assert_int_ge(cl, 0);
	strcpy(sa.sun_path, r->path);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 256;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (n < 4096 && (fd = open("/dev/null", O_RDONLY)) >= 0)
		hold[n++] = fd;
	ck_assert_int_eq(errno, EMFILE);
	ck_assert_int_eq(connect(cl, (struct sockaddr *)&sa, sizeof(sa)), 0);
	a = read_line(r, cl);
	ck_assert_str_eq(a, "{\"ok\":false,\"error\":\"out of file "
	    "descriptors\"}\n");
	ck_assert(closed_by_server(r, cl));
	ck_assert_uint_eq(control_nclients(r->ctl), 0);
	for (i = 0; i < n; i++)
		close(hold[i]);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	close(cl);
	cl = crig_client(r);
	send_str(cl, "stats\n");
	ck_assert_ptr_nonnull(strstr(read_line(r, cl), "\"ok\":true"));
	close(cl);
	crig_free(r);
}
END_TEST

/* A live socket at the path is not taken over; a too-long path is refused. */
START_TEST(test_open_refuses)
{
	struct crig *r = crig_new();
	struct control *c2 = NULL;
	char err[256], longpath[200];

	ck_assert_int_lt(control_open(r->loop, r->path, rig_apply, r, &c2,
	    err, sizeof(err)), 0);
	ck_assert_ptr_null(c2);
	memset(longpath, 'p', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	ck_assert_int_lt(control_open(r->loop, longpath, rig_apply, r, &c2,
	    err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "too long"));
	crig_free(r);
}
END_TEST

/* --- vhost-user's commands, over a simulated guest --- */

/* Runs cmd through vhost-user's apply; returns its result. */
static int
vhu_run(struct vhu_control *vc, const char *line, struct control_json *j,
    const char **why)
{
	struct control_cmd cmd = good(line);

	memset(j, 0, sizeof(*j));
	*why = NULL;
	return vhu_control_apply(vc, &cmd, j, why);
}

/*
 * rst PORT: the device resets the established connections on PORT (host
 * or guest side): RST to the guest, which ends its socket as Linux's
 * virtio_transport_recv_connected does (do_close: reads see EOF), the
 * host end released; others stay. rst all takes the rest.
 */
START_TEST(test_vhu_rst)
{
	struct grig *g = grig_new();
	struct vsock_device *dev = g->dev;
	struct vhu_control vc = { .dev = &dev };
	struct script_conn *a, *b;
	struct control_json j;
	const char *why;
	int l1 = grig_listen(g, VIRTIO_VSOCK_TYPE_STREAM, 52, 4), l2, fa, fg;

	l2 = grig_listen(g, VIRTIO_VSOCK_TYPE_STREAM, 53, 4);
	script_listen(&g->sb, 1234, SCRIPT_ACCEPT);
	grig_host_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 52, &a);
	grig_host_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 53, &b);
	fa = fg_sock_accept(g->vs, l1);
	ck_assert_int_ge(fg_sock_accept(g->vs, l2), 0);
	fg = grig_connect(g, VIRTIO_VSOCK_TYPE_STREAM, 1234);
	ck_assert_int_eq(vhu_run(&vc, "rst 52", &j, &why), 0);
	ck_assert_str_eq(j.buf, ",\"reset\":1");
	grig_settle(g, g->now);
	ck_assert_int_eq(a->released, 1 + VSOCK_RELEASE_RESET);
	ck_assert_int_eq(b->released, 0);
	ck_assert_int_eq(fg_sock_state(g->vs, fa), FG_SS_CLOSING);
	ck_assert_int_eq(fg_sock_recv(g->vs, fa, &j, 1, NULL), 0);
	/* The guest's own connection, by the host port it reached. */
	ck_assert_int_eq(vhu_run(&vc, "rst 1234", &j, &why), 0);
	ck_assert_str_eq(j.buf, ",\"reset\":1");
	grig_settle(g, g->now);
	ck_assert_int_eq(fg_sock_state(g->vs, fg), FG_SS_CLOSING);
	ck_assert_int_eq(vhu_run(&vc, "rst all", &j, &why), 0);
	ck_assert_str_eq(j.buf, ",\"reset\":1");
	grig_settle(g, g->now);
	ck_assert_int_ne(b->released, 0);
	ck_assert_uint_eq(vsock_device_nconns(g->dev), 0);
	ck_assert_int_eq(vhu_run(&vc, "rst all", &j, &why), 0);
	ck_assert_str_eq(j.buf, ",\"reset\":0");
	grig_free(g);
}
END_TEST

/*
 * What a back-end cannot do to a real guest is refused with the reason;
 * stats and rst without a front-end say so.
 */
START_TEST(test_vhu_refuses)
{
	static const char *const guest_side[] = { "refuse 52", "accept 52",
	    "delay 52 10", "pause-rx", "resume-rx" };
	struct vsock_device *dev = NULL;
	struct vhu_control vc = { .dev = &dev };
	struct control_json j;
	const char *why;
	unsigned i;

	ck_assert_int_lt(vhu_run(&vc, "reset cid=5", &j, &why), 0);
	ck_assert_ptr_nonnull(strstr(why, "QEMU owns the event queue"));
	ck_assert_int_lt(vhu_run(&vc, "reset", &j, &why), 0);
	for (i = 0; i < sizeof(guest_side) / sizeof(guest_side[0]); i++) {
		ck_assert_int_lt(vhu_run(&vc, guest_side[i], &j, &why), 0);
		ck_assert_ptr_nonnull(strstr(why, "guest's kernel"));
	}
	ck_assert_int_lt(vhu_run(&vc, "rst all", &j, &why), 0);
	ck_assert_str_eq(why, "no front-end attached");
	ck_assert_int_eq(vhu_run(&vc, "stats", &j, &why), 0);
	ck_assert_str_eq(j.buf, ",\"frontend\":false");
}
END_TEST

static Suite *
control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *p = tcase_create("parse"), *sv = tcase_create("server");
	TCase *v = tcase_create("vhost-user");

	tcase_add_test(p, test_parse_commands);
	tcase_add_test(p, test_parse_refuses);
	tcase_add_test(p, test_json_escapes);
	suite_add_tcase(s, p);
	tcase_add_test(sv, test_server_answers);
	tcase_add_test(sv, test_server_errors_keep_connection);
	tcase_add_test(sv, test_server_long_line);
	tcase_add_test(sv, test_server_last_line_at_eof);
	tcase_add_test(sv, test_server_client_limit);
	tcase_add_test(sv, test_server_client_never_reads);
	tcase_add_test(sv, test_server_out_of_fds);
	tcase_add_test(sv, test_open_refuses);
	suite_add_tcase(s, sv);
	tcase_add_test(v, test_vhu_rst);
	tcase_add_test(v, test_vhu_refuses);
	suite_add_tcase(s, v);
	return s;
}

VSE_CHECK_MAIN(control_suite)

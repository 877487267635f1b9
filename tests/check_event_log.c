/* check_event_log.c - the event log: JSON escaping of hostile strings, line bounds, each event's fields and one-liner. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "event-log.h"
#include "json-escape.h"

#define SEC	VSOCK_NS_PER_SEC

/* --- escaping --- */

static const struct {
	const char *in;
	size_t len;
	const char *out;
} escapes[] = {
	{ "plain CONNECT 52", 16, "plain CONNECT 52" },
	{ "\"q\" \\b", 6, "\\\"q\\\" \\\\b" },
	{ "a\0b", 3, "a\\u0000b" },
	{ "\n\r\t\x1b[2J\x7f", 8, "\\u000a\\u000d\\u0009\\u001b[2J\\u007f" },
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
	{ "\x80", 1, "\\ufffd" },			/* lone continuation */
	{ "\xc0\xaf", 2, "\\ufffd\\ufffd" },		/* overlong '/' */
	{ "\xe0\x80\xaf", 3, "\\ufffd\\ufffd\\ufffd" },	/* overlong */
	{ "\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd" },	/* surrogate */
	{ "\xf4\x90\x80\x80", 4, "\\ufffd\\ufffd\\ufffd\\ufffd" },
	{ "\xe2\x82", 2, "\\ufffd\\ufffd" },		/* cut short */
	{ "\xff\xfe", 2, "\\ufffd\\ufffd" },
	{ "x\xf0\x9f\x98", 4, "x\\ufffd\\ufffd\\ufffd" },
};

START_TEST(test_escape_hostile)
{
	char out[128];
	bool cut = true;
	size_t n;

	n = json_escape(out, sizeof(out), escapes[_i].in, escapes[_i].len,
	    &cut);
	ck_assert_str_eq(out, escapes[_i].out);
	ck_assert_uint_eq(n, strlen(escapes[_i].out));
	ck_assert(!cut);
}
END_TEST

/* The bound cuts between escapes, never inside one. */
START_TEST(test_escape_bound)
{
	char out[8];
	bool cut = false;

	/* "ab" fits (3 with NUL), the 6-byte \u0000 would need 9. */
	ck_assert_uint_eq(json_escape(out, sizeof(out), "ab\0", 3, &cut), 2);
	ck_assert_str_eq(out, "ab");
	ck_assert(cut);
	ck_assert_uint_eq(json_escape(out, 1, "abc", 3, &cut), 0);
	ck_assert_str_eq(out, "");
	ck_assert(cut);
	/* A 4-byte character is kept whole or left out whole. */
	ck_assert_uint_eq(json_escape(out, 4, "\xf0\x9f\x98\x80", 4, &cut), 0);
	ck_assert(cut);
	ck_assert_uint_eq(json_escape(out, 5, "\xf0\x9f\x98\x80", 4, &cut), 4);
	ck_assert(!cut);
}
END_TEST

/* --- the log --- */

static uint64_t fake_now;

/* The injected clock. */
static uint64_t
fake_clock(void)
{
	return fake_now;
}

/* A log into a temporary file, human lines on (stderr into another). */
struct logrig {
	struct event_log *log;
	char path[64], errpath[64];
	int saved_stderr;
};

static void
logrig_open(struct logrig *r, bool human)
{
	struct event_log_config c = { .cmd = "serve", .human = human,
	    .uds = "./v.sock", .clock = fake_clock };
	char err[256];
	int fd;

	strcpy(r->path, "/tmp/vsockemu-evlog-XXXXXX");
	ck_assert_int_ge(fd = mkstemp(r->path), 0);
	close(fd);
	strcpy(r->errpath, "/tmp/vsockemu-everr-XXXXXX");
	ck_assert_int_ge(fd = mkstemp(r->errpath), 0);
	fflush(stderr);
	r->saved_stderr = dup(2);
	ck_assert_int_ge(r->saved_stderr, 0);
	ck_assert_int_eq(dup2(fd, 2), 2);
	close(fd);
	c.path = r->path;
	fake_now = 100 * SEC;		/* "t" counts from here */
	ck_assert_msg(event_log_open(&c, &r->log, err, sizeof(err)) == 0,
	    "%s", err);
}

/* Reads a whole file (NUL-terminated). */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Closes the log, restores stderr; the log's and stderr's text. */
static void
logrig_close(struct logrig *r, char **json, char **human)
{
	event_log_close(r->log);
	fflush(stderr);
	ck_assert_int_eq(dup2(r->saved_stderr, 2), 2);
	close(r->saved_stderr);
	*json = slurp(r->path);
	*human = slurp(r->errpath);
	unlink(r->path);
	unlink(r->errpath);
}

/* A connection event as the device gives it. */
static struct vsock_event
conn_event(enum vsock_event_kind kind, enum vsock_event_who from,
    enum vsock_event_who who, enum vsock_event_why why)
{
	struct vsock_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.from = from;
	ev.who = who;
	ev.why = why;
	ev.guest_cid = 3;
	ev.type = VIRTIO_VSOCK_TYPE_STREAM;
	ev.now = 101500000000ull;	/* 1.5 s after the log opened */
	if (from == VSOCK_WHO_HOST) {
		ev.local_port = 1073741824u;
		ev.peer_port = 53;
	} else {
		ev.local_port = 1234;
		ev.peer_port = 1024;
	}
	return ev;
}

/* Each device event: its exact line and one-liner. */
START_TEST(test_device_events)
{
	struct logrig r;
	struct vsock_event ev;
	char *json, *human;

	logrig_open(&r, true);
	ev = conn_event(VSOCK_EVENT_REQUESTED, VSOCK_WHO_HOST, VSOCK_WHO_HOST,
	    VSOCK_WHY_NONE);
	event_log_device(r.log, &ev);
	ev = conn_event(VSOCK_EVENT_REFUSED, VSOCK_WHO_HOST, VSOCK_WHO_GUEST,
	    VSOCK_WHY_NO_LISTENER);
	event_log_device(r.log, &ev);
	ev = conn_event(VSOCK_EVENT_REFUSED, VSOCK_WHO_GUEST, VSOCK_WHO_HOST,
	    VSOCK_WHY_NO_LISTENER);
	event_log_device(r.log, &ev);
	ev = conn_event(VSOCK_EVENT_REFUSED, VSOCK_WHO_GUEST, VSOCK_WHO_HOST,
	    VSOCK_WHY_HOST_ERROR);
	ev.err = EACCES;
	event_log_device(r.log, &ev);
	ev = conn_event(VSOCK_EVENT_SHUTDOWN, VSOCK_WHO_GUEST,
	    VSOCK_WHO_GUEST, VSOCK_WHY_NONE);
	ev.flags = VIRTIO_VSOCK_SHUTDOWN_MASK;
	event_log_device(r.log, &ev);
	ev = conn_event(VSOCK_EVENT_RESET, VSOCK_WHO_GUEST, VSOCK_WHO_HOST,
	    VSOCK_WHY_CREDIT_OVERRUN);
	event_log_device(r.log, &ev);
	ev = conn_event(VSOCK_EVENT_CLOSED, VSOCK_WHO_GUEST, VSOCK_WHO_DEVICE,
	    VSOCK_WHY_NONE);
	ev.g2h_bytes = 12;
	ev.h2g_bytes = 5;
	ev.duration = 2 * SEC + 1000;
	event_log_device(r.log, &ev);
	ev.kind = VSOCK_EVENT_TRANSPORT_RESET;
	ev.old_cid = 3;
	ev.new_cid = 5;
	event_log_device(r.log, &ev);
	ev.kind = VSOCK_EVENT_QUEUE_BROKEN;
	ev.queue = VSOCK_QUEUE_TX;
	ev.error = -VSE_ERR_AVAIL_IDX;
	event_log_device(r.log, &ev);
	logrig_close(&r, &json, &human);
	ck_assert_str_eq(json,
	    "{\"v\":1,\"t\":1.500000,\"ev\":\"requested\",\"from\":\"host\","
	    "\"who\":\"host\",\"cid\":3,\"host_port\":1073741824,"
	    "\"guest_port\":53,\"type\":\"stream\"}\n"
	    "{\"v\":1,\"t\":1.500000,\"ev\":\"refused\",\"from\":\"host\","
	    "\"who\":\"guest\",\"cid\":3,\"host_port\":1073741824,"
	    "\"guest_port\":53,\"type\":\"stream\",\"why\":\"no-listener\"}\n"
	    "{\"v\":1,\"t\":1.500000,\"ev\":\"refused\",\"from\":\"guest\","
	    "\"who\":\"host\",\"cid\":3,\"host_port\":1234,"
	    "\"guest_port\":1024,\"type\":\"stream\",\"why\":\"no-listener\","
	    "\"path\":\"./v.sock_1234\"}\n"
	    "{\"v\":1,\"t\":1.500000,\"ev\":\"refused\",\"from\":\"guest\","
	    "\"who\":\"host\",\"cid\":3,\"host_port\":1234,"
	    "\"guest_port\":1024,\"type\":\"stream\",\"why\":\"host-error\","
	    "\"errno\":13,\"error\":\"Permission denied\","
	    "\"path\":\"./v.sock_1234\"}\n"
	    "{\"v\":1,\"t\":1.500000,\"ev\":\"shutdown\",\"from\":\"guest\","
	    "\"who\":\"guest\",\"cid\":3,\"host_port\":1234,"
	    "\"guest_port\":1024,\"type\":\"stream\",\"flags\":\"RCV|SEND\"}\n"
	    "{\"v\":1,\"t\":1.500000,\"ev\":\"reset\",\"from\":\"guest\","
	    "\"who\":\"host\",\"cid\":3,\"host_port\":1234,"
	    "\"guest_port\":1024,\"type\":\"stream\","
	    "\"why\":\"credit-overrun\"}\n"
	    "{\"v\":1,\"t\":1.500000,\"ev\":\"closed\",\"from\":\"guest\","
	    "\"who\":\"device\",\"cid\":3,\"host_port\":1234,"
	    "\"guest_port\":1024,\"type\":\"stream\",\"bytes_to_host\":12,"
	    "\"bytes_to_guest\":5,\"duration\":2.000001}\n"
	    "{\"v\":1,\"t\":1.500000,\"ev\":\"transport-reset\","
	    "\"old_cid\":3,\"new_cid\":5}\n"
	    "{\"v\":1,\"t\":1.500000,\"ev\":\"queue-broken\",\"queue\":\"tx\","
	    "\"why\":\"VSE_ERR_AVAIL_IDX\"}\n");
	ck_assert_ptr_nonnull(strstr(human, "vsockemu serve: host 1073741824 "
	    "-> guest 53: requested (stream)\n"
	    "vsockemu serve: host 1073741824 -> guest 53: refused (no "
	    "listener)\n"
	    "vsockemu serve: guest 1024 -> host 1234: refused (no listener at "
	    "\"./v.sock_1234\")\n"
	    "vsockemu serve: guest 1024 -> host 1234: refused (Permission "
	    "denied: \"./v.sock_1234\")\n"
	    "vsockemu serve: guest 1024 -> host 1234: shutdown by guest "
	    "(RCV|SEND)\n"
	    "vsockemu serve: guest 1024 -> host 1234: reset by host (credit "
	    "overrun)\n"
	    "vsockemu serve: guest 1024 -> host 1234: closed (12 bytes to "
	    "host, 5 to guest, 2.000001 s)\n"
	    "vsockemu serve: transport reset (guest CID 3 -> 5): every "
	    "connection dropped\n"
	    "vsockemu serve: tx queue broken (VSE_ERR_AVAIL_IDX): "));
	free(json);
	free(human);
}
END_TEST

/* A client's hostile line: escaped in the log and in the one-liner. */
START_TEST(test_muxer_refused_hostile_line)
{
	static const char line[] = "CONNECT \"5\\\0\x1b]0;pwn\x07\xff\xc3";
	struct logrig r;
	char *json, *human;

	logrig_open(&r, true);
	event_log_muxer_refused(r.log, MUXER_BAD_LINE, line,
	    sizeof(line) - 1, 102 * SEC);
	event_log_muxer_refused(r.log, MUXER_LINE_TIMEOUT, "CONN", 4,
	    102 * SEC);
	logrig_close(&r, &json, &human);
	ck_assert_str_eq(json,
	    "{\"v\":1,\"t\":2.000000,\"ev\":\"refused\",\"from\":\"host\","
	    "\"who\":\"device\",\"why\":\"bad-line\",\"line\":\"CONNECT "
	    "\\\"5\\\\\\u0000\\u001b]0;pwn\\u0007\\ufffd\\ufffd\"}\n"
	    "{\"v\":1,\"t\":2.000000,\"ev\":\"refused\",\"from\":\"host\","
	    "\"who\":\"device\",\"why\":\"line-timeout\",\"line\":\"CONN\"}\n");
	ck_assert_ptr_nonnull(strstr(human, "vsockemu serve: host client: "
	    "refused (bad CONNECT line \"CONNECT \\\"5\\\\\\u0000\\u001b]0;pwn"
	    "\\u0007\\ufffd\\ufffd\")\n"));
	/* No raw control byte reaches the terminal. */
	ck_assert_ptr_null(strchr(human, '\x1b'));
	ck_assert_ptr_null(strchr(human, '\x07'));
	free(json);
	free(human);
}
END_TEST

/* However many or long the fields, a line stays within EVENT_LINE_MAX. */
START_TEST(test_line_bounded)
{
	struct logrig r;
	struct event_line e;
	char big[4096], *json, *human, *nl;
	unsigned i;

	memset(big, '\x01', sizeof(big));	/* 6 bytes each, escaped */
	logrig_open(&r, false);
	event_line_begin(r.log, &e, "frontend-attached", fake_now);
	for (i = 0; i < 100; i++)
		event_line_str(&e, "k", big, sizeof(big));
	event_line_u64(&e, "n", UINT64_MAX);
	event_log_emit(r.log, &e, "never shown without -v");
	logrig_close(&r, &json, &human);
	nl = strchr(json, '\n');
	ck_assert_ptr_nonnull(nl);
	ck_assert_uint_le((size_t)(nl - json) + 1, EVENT_LINE_MAX);
	ck_assert_str_eq(nl + 1, "");
	ck_assert_ptr_nonnull(strstr(json, ",\"truncated\":true}\n"));
	ck_assert_str_eq(human, "");
	free(json);
	free(human);
}
END_TEST

/* An unwritable path is an error at open; a log with no outputs is idle. */
START_TEST(test_open_errors_and_idle)
{
	struct event_log_config c = { .cmd = "serve", .clock = fake_clock,
	    .path = "/nonexistent-dir/x.jsonl" };
	struct event_log *l;
	char err[256];

	ck_assert_int_eq(event_log_open(&c, &l, err, sizeof(err)), -1);
	ck_assert_ptr_null(l);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/x.jsonl"));
	c.path = NULL;
	ck_assert_int_eq(event_log_open(&c, &l, err, sizeof(err)), 0);
	ck_assert(!event_log_active(l));
	event_log_close(l);
	c.human = true;
	ck_assert_int_eq(event_log_open(&c, &l, err, sizeof(err)), 0);
	ck_assert(event_log_active(l));
	event_log_close(l);
	ck_assert(!event_log_active(NULL));
}
END_TEST

/* A log whose writes fail (ENOSPC) stops with one message; nothing dies. */
START_TEST(test_write_error_stops_once)
{
	struct event_log_config c = { .cmd = "serve", .clock = fake_clock,
	    .path = "/dev/full" };
	struct event_log *l;
	struct event_line e;
	char err[256], errpath[64], *said;
	int fd, saved;
	unsigned i;

	strcpy(errpath, "/tmp/vsockemu-everr-XXXXXX");
	ck_assert_int_ge(fd = mkstemp(errpath), 0);
	fflush(stderr);
	saved = dup(2);
	ck_assert_int_eq(dup2(fd, 2), 2);
	close(fd);
	ck_assert_int_eq(event_log_open(&c, &l, err, sizeof(err)), 0);
	for (i = 0; i < 3; i++) {
		event_line_begin(l, &e, "frontend-attached", fake_now);
		event_log_emit(l, &e, NULL);
	}
	ck_assert(!event_log_active(l));	/* the device may stop building */
	event_log_close(l);
	fflush(stderr);
	ck_assert_int_eq(dup2(saved, 2), 2);
	close(saved);
	said = slurp(errpath);
	unlink(errpath);
	ck_assert_str_eq(said, "vsockemu serve: event log: No space left on "
	    "device; no more events written\n");
	free(said);
}
END_TEST

static Suite *
event_log_suite(void)
{
	Suite *s = suite_create("event_log");
	TCase *tc = tcase_create("event_log");

	tcase_add_loop_test(tc, test_escape_hostile, 0,
	    (int)(sizeof(escapes) / sizeof(escapes[0])));
	tcase_add_test(tc, test_escape_bound);
	tcase_add_test(tc, test_device_events);
	tcase_add_test(tc, test_muxer_refused_hostile_line);
	tcase_add_test(tc, test_line_bounded);
	tcase_add_test(tc, test_open_errors_and_idle);
	tcase_add_test(tc, test_write_error_stops_once);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(event_log_suite)

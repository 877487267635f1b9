/* check_connect_line.c - the CONNECT line parser: every accepted and refused form. */
#include "config.h"

#include <string.h>

#include "common.h"
#include "connect-line.h"

struct line_case {
	const char *in;
	enum connect_line_result want;
	uint32_t port;
};

/* Cloud Hypervisor's test_parse_command cases, and more. */
static const struct line_case cases[] = {
	{ "", CONNECT_LINE_MORE, 0 },
	{ "\n", CONNECT_LINE_BAD, 0 },
	{ "CONN", CONNECT_LINE_MORE, 0 },
	{ "CONN\n", CONNECT_LINE_BAD, 0 },
	{ "FOO ", CONNECT_LINE_BAD, 0 },
	{ "FOOFOOX ", CONNECT_LINE_BAD, 0 },
	{ "CONNECT", CONNECT_LINE_MORE, 0 },
	{ "CONNECT ", CONNECT_LINE_MORE, 0 },
	{ "connect ", CONNECT_LINE_MORE, 0 },
	{ "connect \n", CONNECT_LINE_BAD, 0 },
	{ "connect 1337", CONNECT_LINE_MORE, 0 },
	{ "connect -1337\n", CONNECT_LINE_BAD, 0 },
	{ "connect -1\n", CONNECT_LINE_BAD, 0 },
	{ "connect +5\n", CONNECT_LINE_BAD, 0 },
	{ "connect 8589934592\n", CONNECT_LINE_BAD, 0 },
	{ "connect 4294967296\n", CONNECT_LINE_BAD, 0 },
	{ "connect 4294967295\n", CONNECT_LINE_OK, 4294967295u },
	{ "connect 0x10\n", CONNECT_LINE_BAD, 0 },
	{ "CONNECT \xf0\x9f\x91\xbe\n", CONNECT_LINE_BAD, 0 },
	{ "CONNECT                        1", CONNECT_LINE_BAD, 0 },
	{ "CONNECT                       1\n", CONNECT_LINE_OK, 1 },
	{ "connect 0\n", CONNECT_LINE_OK, 0 },
	{ "connect 1337\n", CONNECT_LINE_OK, 1337 },
	{ "CONNECT 1337\n", CONNECT_LINE_OK, 1337 },
	{ "CoNnEcT 52\n", CONNECT_LINE_OK, 52 },
	{ "CONNECT  1337\n", CONNECT_LINE_OK, 1337 },
	{ "CONNECT 1337 \n", CONNECT_LINE_OK, 1337 },
	{ "CONNECT\t1337\t\n", CONNECT_LINE_OK, 1337 },
	{ "CONNECT 52\r\n", CONNECT_LINE_OK, 52 },
	{ "CONNECT 52\r", CONNECT_LINE_MORE, 0 },
	{ "CONNECT 52\rx", CONNECT_LINE_BAD, 0 },
	{ "CONNECT 5 2\n", CONNECT_LINE_BAD, 0 },
	{ "CONNECTX 52\n", CONNECT_LINE_BAD, 0 },
	{ "CONNECT\n", CONNECT_LINE_BAD, 0 },
	{ " CONNECT 52\n", CONNECT_LINE_BAD, 0 },
	{ "CONNECT 000052\n", CONNECT_LINE_OK, 52 },
	{ "CONNECT 52\0\n", CONNECT_LINE_BAD, 0 },
};

START_TEST(test_connect_line_case)
{
	const struct line_case *c = &cases[_i];
	size_t len = strlen(c->in), used = 0;
	uint32_t port = 0xdeadbeef;
	enum connect_line_result r;

	if (_i == (int)(sizeof(cases) / sizeof(cases[0])) - 1)
		len = 12;	/* the embedded NUL case */
	r = connect_line_parse(c->in, len, &port, &used);
	ck_assert_msg(r == c->want, "'%s': got %d, want %d", c->in, r,
	    c->want);
	if (r == CONNECT_LINE_OK) {
		ck_assert_uint_eq(port, c->port);
		ck_assert_uint_eq(used, len);
	}
}
END_TEST

/* Fed one byte at a time, a valid line is MORE until its '\n'. */
START_TEST(test_connect_line_dribble)
{
	const char *line = "CONNECT 1073741824\n";
	size_t i, used;
	uint32_t port;

	for (i = 0; i < strlen(line); i++)
		ck_assert_int_eq(connect_line_parse(line, i, &port, &used),
		    CONNECT_LINE_MORE);
	ck_assert_int_eq(connect_line_parse(line, strlen(line), &port, &used),
	    CONNECT_LINE_OK);
	ck_assert_uint_eq(port, 1073741824u);
}
END_TEST

static Suite *
connect_line_suite(void)
{
	Suite *s = suite_create("connect-line");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_connect_line_case, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_connect_line_dribble);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(connect_line_suite)

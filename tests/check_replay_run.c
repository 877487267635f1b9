/* check_replay_run.c - replay_run_file: a bundled trace conforms, a hostile or missing one is unusable, never a crash. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "replay-run.h"

/* path of a file in testvectors/ of the source tree. */
static const char *
vector(const char *name)
{
	static char path[1024];
	const char *src = getenv("top_srcdir");

	snprintf(path, sizeof(path), "%s/testvectors/%s",
	    src != NULL ? src : ".", name);
	return path;
}

static struct replay_result *
run(const char *path, enum replay_mode mode)
{
	struct replay_result *res = calloc(1, sizeof(*res));
	struct replay_options o;

	ck_assert_ptr_nonnull(res);
	replay_options_defaults(&o);
	o.mode = mode;
	ck_assert_int_eq(replay_run_file(path, &o, res), res->verdict);
	return res;
}

/* MANIFEST: emu-echo.pcap passes both modes. */
START_TEST(test_bundled_trace_passes)
{
	struct replay_result *res = run(vector("emu-echo.pcap"),
	    REPLAY_STRICT);

	ck_assert_msg(res->verdict == REPLAY_PASS, "%s: %s",
	    res->div.field, res->div.what);
	ck_assert_uint_gt(res->guest_frames, 0);
	ck_assert_uint_gt(res->host_frames, 0);
	free(res);
}
END_TEST

/* MANIFEST: neg-fwd-cnt.pcap diverges, and says where. */
START_TEST(test_negative_trace_diverges)
{
	struct replay_result *res = run(vector("negative/neg-fwd-cnt.pcap"),
	    REPLAY_SEMANTIC);

	ck_assert_int_eq(res->verdict, REPLAY_DIVERGED);
	ck_assert_uint_gt(res->div.frame, 0);
	free(res);
}
END_TEST

START_TEST(test_missing_file_is_unusable)
{
	struct replay_result *res = run("/nonexistent/trace.pcap",
	    REPLAY_SEMANTIC);

	ck_assert_int_eq(res->verdict, REPLAY_UNUSABLE);
	ck_assert(strstr(res->error, "/nonexistent/trace.pcap") != NULL);
	free(res);
}
END_TEST

static Suite *
replay_run_suite(void)
{
	Suite *s = suite_create("replay_run");
	TCase *tc = tcase_create("file");

	tcase_add_test(tc, test_bundled_trace_passes);
	tcase_add_test(tc, test_negative_trace_diverges);
	tcase_add_test(tc, test_missing_file_is_unusable);
	suite_add_tcase(s, tc);
	return s;
}

VSE_CHECK_MAIN(replay_run_suite)

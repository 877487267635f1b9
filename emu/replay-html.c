/* replay-html.c - `replay --html`: a replayed trace's ladders with its verdict and its first divergence marked. */
#include "config.h"

#include <stdio.h>

#include "replay-html.h"

int
replay_html_add(struct ladder_page *p, const char *path,
    const struct replay_result *res, char *err, size_t errlen)
{
	struct ladder_verdict v = { .verdict = "SKIPPED" };
	const struct replay_divergence *d;
	struct ladder l;
	int e;

	ladder_init(&l);
	if (res != NULL) {
		v.verdict = replay_verdict_name(res->verdict);
		if (res->verdict == REPLAY_UNUSABLE)
			v.error = res->error;
	}
	if (res != NULL && res->verdict == REPLAY_DIVERGED) {
		d = &res->div;
		v.diverged = true;
		v.frame = d->frame;
		v.at_end = d->at_end;
		v.conn = d->conn;
		v.field = d->field;
		v.what = d->what;
		v.expected = d->expected;
		v.actual = d->actual;
		if (!d->at_end)
			ladder_mark(&l, d->frame, LADDER_MARK_DIVERGED);
	}
	e = ladder_read_file(&l, path, err, errlen);
	if (e < 0 && v.error == NULL)
		v.error = err;
	ladder_page_trace(p, path, &l, &v);
	ladder_free(&l);
	return e;
}

/* replay-html.c - `replay --html`: a replayed trace's ladders with its verdict and its first divergence marked. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "replay-html.h"

int
replay_html_add(struct ladder_page *p, const char *path,
    const struct replay_result *res, char *err, size_t errlen)
{
	struct ladder_verdict v = { .verdict = "SKIPPED" };
	const struct replay_divergence *d;
	struct ladder l;
	char note[200];
	int e;

	ladder_init(&l);
	if (res != NULL) {
		v.verdict = replay_verdict_name(res->verdict);
		if (res->verdict == REPLAY_UNUSABLE)
			v.error = res->error;
	}
	/* The text report's note (replay-report.c), so the page does not hide it. */
	if (res != NULL && res->cut_records > 0) {
		snprintf(note, sizeof(note), "%" PRIu64 " of %" PRIu64 " bytes "
		    "not compared: %" PRIu64 " record%s cut at snaplen %" PRIu32
		    " (replayed with filler; lengths, credit and order "
		    "compared)", res->cut_bytes, res->bytes_g2h + res->bytes_h2g,
		    res->cut_records, res->cut_records == 1 ? "" : "s",
		    res->cut_snaplen);
		v.note = note;
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

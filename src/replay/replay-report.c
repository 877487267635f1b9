/* replay-report.c - a replay's verdict as text, TAP or JSON lines. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "trace-format.h"

const char *
replay_verdict_name(enum replay_verdict v)
{
	return v == REPLAY_PASS ? "PASS" : v == REPLAY_DIVERGED ? "DIVERGED" :
	    "UNUSABLE";
}

/* The profile's name from the device's table; "?" for none. */
static const char *
profile_name(enum vsock_profile p)
{
	const char *name = vsock_profile_name(p);

	return name != NULL ? name : "?";
}

/* The summary: frames, connections, bytes each way, how it was replayed. */
static void
summary(FILE *f, const struct replay_result *r)
{
	fprintf(f, "%" PRIu64 " frames replayed (%" PRIu64 " guest, %" PRIu64
	    " host), %" PRIu64 " connection%s, %" PRIu64 " bytes guest->host, "
	    "%" PRIu64 " bytes host->guest; %s, %s profile, buf_alloc %"
	    PRIu32 "%s",
	    r->frames, r->guest_frames, r->host_frames, r->conns,
	    r->conns == 1 ? "" : "s", r->bytes_g2h, r->bytes_h2g,
	    r->mode == REPLAY_STRICT ? "strict" : "semantic",
	    profile_name(r->profile), r->buf_alloc,
	    r->profile_inferred ? " (from the trace)" : "");
	if (r->guest_rx_buf != VIRTIO_VSOCK_DEFAULT_RX_BUF_SIZE)
		fprintf(f, ", guest RX buffers %" PRIu32 "%s", r->guest_rx_buf,
		    r->rx_inferred ? " (from the trace)" : "");
}

/* One context frame, as `vsockemu dump` prints it, marked if divergent. */
static void
context_line(FILE *f, const char *indent, const struct replay_ctx_frame *cf,
    uint64_t at)
{
	char line[TRACE_FORMAT_HDR_LEN];

	trace_format_hdr(&cf->hdr, line, sizeof(line));
	fprintf(f, "%s%s %" PRIu64 " %" PRIu64 ".%06" PRIu64 " %s %s\n",
	    indent, cf->number == at ? ">" : " ", cf->number,
	    cf->ts_ns / 1000000000, cf->ts_ns / 1000 % 1000000,
	    cf->to_guest ? "host " : "guest", line);
}

/* The divergence, one "key: value" a line after indent. */
static void
divergence(FILE *f, const char *indent, const struct replay_result *r)
{
	const struct replay_divergence *d = &r->div;
	unsigned i;

	fprintf(f, "%sframe:      %" PRIu64 "%s\n", indent, d->frame,
	    d->at_end ? " (at the end of the trace)" : "");
	fprintf(f, "%sconnection: %s\n", indent, d->conn[0] ? d->conn : "-");
	fprintf(f, "%sfield:      %s\n", indent, d->field);
	fprintf(f, "%swhat:       %s\n", indent, d->what);
	fprintf(f, "%sexpected:   %s\n", indent, d->expected);
	fprintf(f, "%sactual:     %s\n", indent, d->actual);
	fprintf(f, "%scontext:\n", indent);
	for (i = 0; i < d->ncontext; i++)
		context_line(f, indent, &d->context[i], d->frame);
}

/* Notes on quirks the replay accepted. */
static void
notes(FILE *f, const char *indent, const struct replay_result *r)
{
	if (r->repeated_rsts > 0)
		fprintf(f, "%swarning: %" PRIu64 " host RST%s after the "
		    "connection was reset (Linux sends one when the application "
		    "closes a reset socket) accepted\n", indent,
		    r->repeated_rsts, r->repeated_rsts == 1 ? "" : "s");
	if (r->queued_rws > 0)
		fprintf(f, "%swarning: %" PRIu64 " host RW%s queued before the "
		    "guest's SHUTDOWN(RCV|SEND) and sent after it, then the "
		    "RST (Linux's vhost send queue) accepted\n", indent,
		    r->queued_rws, r->queued_rws == 1 ? "" : "s");
	if (r->reset_shutdowns > 0)
		fprintf(f, "%swarning: %" PRIu64 " host SHUTDOWN%s after the "
		    "connection was reset (Linux's shutdown() still sends one) "
		    "accepted\n", indent, r->reset_shutdowns,
		    r->reset_shutdowns == 1 ? "" : "s");
	if (r->other_guest_frames > 0)
		fprintf(f, "%snote: %" PRIu64 " frame%s of other guests "
		    "skipped (--guest-cid)\n", indent, r->other_guest_frames,
		    r->other_guest_frames == 1 ? "" : "s");
	if (r->split_taps > 0)
		fprintf(f, "%swarning: %" PRIu64 " host->guest RW record%s "
		    "from Linux 6.1's split tap (more payload than len) "
		    "trimmed to len\n", indent, r->split_taps,
		    r->split_taps == 1 ? "" : "s");
	if (r->cut_records > 0)
		fprintf(f, "%snote: %" PRIu64 " of %" PRIu64 " bytes not "
		    "compared: %" PRIu64 " record%s cut at snaplen %" PRIu32
		    " (replayed with filler; lengths, credit and order "
		    "compared)\n", indent, r->cut_bytes,
		    r->bytes_g2h + r->bytes_h2g, r->cut_records,
		    r->cut_records == 1 ? "" : "s", r->cut_snaplen);
}

/* Why a trace is unusable, without its name when the message starts with it. */
static const char *
unusable_reason(const char *trace, const struct replay_result *r)
{
	size_t n = strlen(trace);

	if (strncmp(r->error, trace, n) == 0 && strncmp(r->error + n, ": ",
	    2) == 0)
		return r->error + n + 2;
	return r->error;
}

/* What a manifest expects of the trace being reported, if anything. */
struct report_expect {
	const struct replay_expectation *x;
	const char *manifest;
	bool met;
};

/* "diverged at frame 10", "pass", "unusable": a verdict as expected. */
static void
expected_words(FILE *f, const struct replay_expectation *x)
{
	fputs(x->verdict == REPLAY_PASS ? "pass" : x->verdict ==
	    REPLAY_DIVERGED ? "diverged" : "unusable", f);
	if (x->verdict == REPLAY_DIVERGED && x->frame != 0)
		fprintf(f, " at frame %" PRIu64, x->frame);
}

/* "MANIFEST line 76 expects diverged at frame 10". */
static void
expect_clause(FILE *f, const struct report_expect *ex)
{
	fprintf(f, "%s line %u expects ", ex->manifest, ex->x->line);
	expected_words(f, ex->x);
}

/* After a trace's text report: how it stands against the manifest. */
static void
text_expectation(FILE *f, const char *trace, const struct report_expect *ex)
{
	if (ex == NULL || (ex->met && ex->x->verdict == REPLAY_PASS))
		return;
	if (ex->met) {
		fputs("  as expected: ", f);
		expect_clause(f, ex);
	} else {
		fprintf(f, "UNEXPECTED %s: ", trace);
		expect_clause(f, ex);
	}
	fputc('\n', f);
}

static void
report_text(FILE *f, const char *trace, const struct replay_result *r,
    const struct report_expect *ex)
{
	if (r->verdict == REPLAY_UNUSABLE) {
		fprintf(f, "UNUSABLE %s: %s\n", trace, unusable_reason(trace, r));
		text_expectation(f, trace, ex);
		return;
	}
	fprintf(f, "%s %s", replay_verdict_name(r->verdict), trace);
	if (r->verdict == REPLAY_DIVERGED)
		fprintf(f, " at frame %" PRIu64, r->div.frame);
	fputs(": ", f);
	summary(f, r);
	fputc('\n', f);
	notes(f, "  ", r);
	if (r->verdict == REPLAY_DIVERGED)
		divergence(f, "  ", r);
	text_expectation(f, trace, ex);
}

/*
 * A TAP test line: ok when the trace passed or, with a manifest, met its
 * expectation; a met failure carries a TODO directive (an expected
 * failure, in TAP's terms), an unmet pass is not ok.
 */
static void
tap_line(FILE *f, const char *trace, const struct replay_result *r,
    const struct report_expect *ex, unsigned index)
{
	bool ok = ex != NULL ? ex->met && r->verdict == REPLAY_PASS :
	    r->verdict == REPLAY_PASS;

	fprintf(f, "%s %u - %s", ok ? "ok" : "not ok", index, trace);
	if (r->verdict == REPLAY_PASS && ok)
		return;
	if (ex != NULL && ex->met) {
		fprintf(f, " # TODO as %s line %u expects: ", ex->manifest,
		    ex->x->line);
		expected_words(f, ex->x);
		return;
	}
	if (r->verdict == REPLAY_UNUSABLE)
		fputs(" # unusable", f);
	else if (r->verdict == REPLAY_DIVERGED)
		fprintf(f, " # diverged at frame %" PRIu64, r->div.frame);
	else
		fputs(" # passed", f);
	if (ex != NULL) {
		fputs("; ", f);
		expect_clause(f, ex);
	}
}

static void
report_tap(FILE *f, const char *trace, const struct replay_result *r,
    const struct report_expect *ex, unsigned index, unsigned total)
{
	if (index == 1)
		fprintf(f, "TAP version 13\n1..%u\n", total);
	tap_line(f, trace, r, ex, index);
	if (r->verdict == REPLAY_UNUSABLE) {
		fprintf(f, "\n#   %s\n", unusable_reason(trace, r));
		return;
	}
	fputs("\n#   ", f);
	summary(f, r);
	fputc('\n', f);
	notes(f, "#   ", r);
	if (r->verdict == REPLAY_DIVERGED)
		divergence(f, "#   ", r);
}

/* s as a JSON string. */
static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* "key": "value" with a leading comma. */
static void
json_kv(FILE *f, const char *key, const char *value)
{
	fprintf(f, ",\"%s\":", key);
	json_str(f, value);
}

/* ,"expected":{"verdict":...,"frame":N,"manifest":...,"line":L,"met":B} */
static void
json_expectation(FILE *f, const struct report_expect *ex)
{
	const struct replay_expectation *x;

	if (ex == NULL)
		return;
	x = ex->x;
	fprintf(f, ",\"expected\":{\"verdict\":\"%s\"", x->verdict ==
	    REPLAY_PASS ? "pass" : x->verdict == REPLAY_DIVERGED ?
	    "diverged" : "unusable");
	if (x->frame != 0)
		fprintf(f, ",\"frame\":%" PRIu64, x->frame);
	json_kv(f, "manifest", ex->manifest);
	fprintf(f, ",\"line\":%u,\"met\":%s}", x->line, ex->met ? "true" :
	    "false");
}

/* ,"flags":["RCV","SEND"]: named bits by name, others as "0x.." each. */
static void
json_flags(FILE *f, const struct vsock_hdr *h)
{
	unsigned b, n = 0;

	fputs(",\"flags\":[", f);
	for (b = 0; b < 32; b++) {
		const char *name = trace_flag_name(h, b);

		if ((h->flags & (1u << b)) == 0)
			continue;
		if (n++ > 0)
			fputc(',', f);
		if (name != NULL)
			fprintf(f, "\"%s\"", name);
		else
			fprintf(f, "\"0x%x\"", 1u << b);
	}
	fputc(']', f);
}

/* A context frame as an object with named fields (schema 1). */
static void
json_frame(FILE *f, const struct replay_ctx_frame *cf, uint64_t at)
{
	const struct vsock_hdr *h = &cf->hdr;
	char type[24];

	trace_format_type(h, type, sizeof(type));
	fprintf(f, "{\"frame\":%" PRIu64 ",\"time_ns\":%" PRIu64
	    ",\"from\":\"%s\",\"src_cid\":%" PRIu64 ",\"src_port\":%" PRIu32
	    ",\"dst_cid\":%" PRIu64 ",\"dst_port\":%" PRIu32, cf->number,
	    cf->ts_ns, cf->to_guest ? "host" : "guest", h->src_cid,
	    h->src_port, h->dst_cid, h->dst_port);
	json_kv(f, "type", type);
	json_kv(f, "op", vsock_op_name(h->op));
	json_flags(f, h);
	fprintf(f, ",\"len\":%" PRIu32 ",\"buf_alloc\":%" PRIu32
	    ",\"fwd_cnt\":%" PRIu32 ",\"divergent\":%s}", h->len,
	    h->buf_alloc, h->fwd_cnt, cf->number == at ? "true" : "false");
}

/* ,"divergence":{...} with its context frames as objects. */
static void
json_divergence(FILE *f, const struct replay_divergence *d)
{
	unsigned i;

	fprintf(f, ",\"divergence\":{\"frame\":%" PRIu64 ",\"at_end\":%s",
	    d->frame, d->at_end ? "true" : "false");
	json_kv(f, "connection", d->conn);
	json_kv(f, "field", d->field);
	json_kv(f, "what", d->what);
	json_kv(f, "expected", d->expected);
	json_kv(f, "actual", d->actual);
	fputs(",\"context\":[", f);
	for (i = 0; i < d->ncontext; i++) {
		if (i > 0)
			fputc(',', f);
		json_frame(f, &d->context[i], d->frame);
	}
	fputs("]}", f);
}

/* {"schema":1,"trace":... : every object of the report starts so. */
static void
json_begin(FILE *f, const char *trace)
{
	fprintf(f, "{\"schema\":%d,\"trace\":", REPLAY_JSON_SCHEMA);
	json_str(f, trace);
}

static void
report_json(FILE *f, const char *trace, const struct replay_result *r,
    const struct report_expect *ex)
{
	json_begin(f, trace);
	json_kv(f, "verdict", r->verdict == REPLAY_PASS ? "pass" :
	    r->verdict == REPLAY_DIVERGED ? "diverged" : "unusable");
	json_expectation(f, ex);
	if (r->verdict == REPLAY_UNUSABLE) {
		json_kv(f, "error", unusable_reason(trace, r));
		fputs("}\n", f);
		return;
	}
	json_kv(f, "mode", r->mode == REPLAY_STRICT ? "strict" : "semantic");
	json_kv(f, "profile", profile_name(r->profile));
	fprintf(f, ",\"buf_alloc\":%" PRIu32 ",\"guest_rx_buf\":%" PRIu32
	    ",\"frames\":%" PRIu64
	    ",\"guest_frames\":%" PRIu64 ",\"host_frames\":%" PRIu64
	    ",\"connections\":%" PRIu64 ",\"bytes_guest_to_host\":%" PRIu64
	    ",\"bytes_host_to_guest\":%" PRIu64 ",\"split_taps\":%" PRIu64
	    ",\"repeated_rsts\":%" PRIu64 ",\"other_guest_frames\":%" PRIu64,
	    r->buf_alloc, r->guest_rx_buf, r->frames, r->guest_frames,
	    r->host_frames, r->conns, r->bytes_g2h, r->bytes_h2g,
	    r->split_taps, r->repeated_rsts, r->other_guest_frames);
	if (r->cut_records > 0)
		fprintf(f, ",\"cut\":{\"records\":%" PRIu64 ",\"snaplen\":%"
		    PRIu32 ",\"bytes_not_compared\":%" PRIu64 "}",
		    r->cut_records, r->cut_snaplen, r->cut_bytes);
	if (r->verdict == REPLAY_DIVERGED)
		json_divergence(f, &r->div);
	fputs("}\n", f);
}

/* Opens a growing string to print into. */
static FILE *
report_open(char **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	return open_memstream(buf, len);
}

/* Closes it: the string (set by fclose), or NULL when it could not be made. */
static char *
report_close(FILE *f, char **buf)
{
	if (fclose(f) != 0) {
		free(*buf);
		return NULL;
	}
	return *buf;
}

/* One trace's report in fmt, with its expectation if ex. */
static char *
report(const char *trace, const struct replay_result *res,
    const struct report_expect *ex, enum replay_format fmt, unsigned index,
    unsigned total)
{
	char *buf;
	size_t len;
	FILE *f = report_open(&buf, &len);

	if (f == NULL)
		return NULL;
	switch (fmt) {
	case REPLAY_FORMAT_TAP:
		report_tap(f, trace, res, ex, index, total);
		break;
	case REPLAY_FORMAT_JSON:
		report_json(f, trace, res, ex);
		break;
	default:
		report_text(f, trace, res, ex);
		break;
	}
	return report_close(f, &buf);
}

char *
replay_report(const char *trace, const struct replay_result *res,
    enum replay_format fmt, unsigned index, unsigned total)
{
	return report(trace, res, NULL, fmt, index, total);
}

char *
replay_report_expected(const char *trace, const struct replay_result *res,
    const struct replay_expectation *x, const char *manifest,
    enum replay_format fmt, unsigned index, unsigned total)
{
	struct report_expect ex = { x, manifest, replay_expect_met(x, res) };

	return report(trace, res, &ex, fmt, index, total);
}

char *
replay_report_skipped(const char *trace, const char *manifest,
    enum replay_mode mode, enum replay_format fmt, unsigned index,
    unsigned total)
{
	const char *m = mode == REPLAY_STRICT ? "strict" : "semantic";
	char *buf;
	size_t len;
	FILE *f = report_open(&buf, &len);

	if (f == NULL)
		return NULL;
	if (fmt == REPLAY_FORMAT_TAP && index == 1)
		fprintf(f, "TAP version 13\n1..%u\n", total);
	if (fmt == REPLAY_FORMAT_TAP) {
		fprintf(f, "ok %u - %s # SKIP not in %s for %s\n", index, trace,
		    manifest, m);
	} else if (fmt == REPLAY_FORMAT_JSON) {
		json_begin(f, trace);
		fputs(",\"verdict\":\"skipped\",\"manifest\":", f);
		json_str(f, manifest);
		fprintf(f, ",\"mode\":\"%s\"}\n", m);
	} else {
		fprintf(f, "SKIP %s: not in %s for %s\n", trace, manifest, m);
	}
	return report_close(f, &buf);
}

void
replay_totals_add(struct replay_totals *t, enum replay_verdict v)
{
	t->traces++;
	if (v == REPLAY_PASS)
		t->passed++;
	else if (v == REPLAY_DIVERGED)
		t->diverged++;
	else
		t->unusable++;
}

void
replay_totals_expected(struct replay_totals *t,
    const struct replay_expectation *x, const struct replay_result *res)
{
	t->expecting = true;
	if (x == NULL) {
		t->skipped++;
	} else if (replay_expect_met(x, res)) {
		t->met++;
	} else {
		t->unexpected++;
		t->unexpected_unusable += res->verdict == REPLAY_UNUSABLE;
	}
}

int
replay_totals_status(const struct replay_totals *t)
{
	if (t->expecting)
		return t->unexpected > t->unexpected_unusable ? 1 :
		    t->unexpected_unusable > 0 ? 2 : 0;
	return t->diverged > 0 ? 1 : t->unusable > 0 ? 2 : 0;
}

char *
replay_totals_report(const struct replay_totals *t, enum replay_format fmt)
{
	char *buf;
	size_t len;
	FILE *f = report_open(&buf, &len);

	if (f == NULL)
		return NULL;
	if (fmt == REPLAY_FORMAT_JSON) {
		/* One last object: the totals, the manifest's counts inside. */
		fprintf(f, "{\"schema\":%d,\"totals\":{\"traces\":%u,"
		    "\"passed\":%u,\"diverged\":%u,\"unusable\":%u",
		    REPLAY_JSON_SCHEMA, t->traces, t->passed, t->diverged,
		    t->unusable);
		if (t->expecting)
			fprintf(f, ",\"expected\":{\"met\":%u,\"unexpected\":"
			    "%u,\"skipped\":%u}", t->met, t->unexpected,
			    t->skipped);
		fputs("}}\n", f);
		return report_close(f, &buf);
	}
	fprintf(f, "%s%u trace%s: %u passed, %u diverged, %u unusable\n",
	    fmt == REPLAY_FORMAT_TAP ? "# " : "", t->traces,
	    t->traces == 1 ? "" : "s", t->passed, t->diverged, t->unusable);
	if (t->expecting)
		fprintf(f, "%sexpected: %u as expected, %u unexpected, %u not "
		    "in the manifest\n", fmt == REPLAY_FORMAT_TAP ? "# " : "",
		    t->met, t->unexpected, t->skipped);
	return report_close(f, &buf);
}

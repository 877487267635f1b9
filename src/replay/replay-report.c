/* replay-report.c - a replay's verdict as text, TAP or JSON lines. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

static const char *
verdict_word(enum replay_verdict v)
{
	return v == REPLAY_PASS ? "PASS" : v == REPLAY_DIVERGED ? "DIVERGED" :
	    "UNUSABLE";
}

static const char *
profile_name(enum vsock_profile p)
{
	return p == VSOCK_PROFILE_LINUX ? "linux" : "firecracker";
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
	const struct vsock_hdr *h = &cf->hdr;
	const char *type = vsock_type_name(h->type);

	fprintf(f, "%s%s %" PRIu64 " %" PRIu64 ".%06" PRIu64 " %s %" PRIu64
	    ":%" PRIu32 " > %" PRIu64 ":%" PRIu32 " %s %s flags %" PRIu32
	    " len %" PRIu32 " buf_alloc %" PRIu32 " fwd_cnt %" PRIu32 "\n",
	    indent, cf->number == at ? ">" : " ", cf->number,
	    cf->ts_ns / 1000000000, cf->ts_ns / 1000 % 1000000,
	    cf->to_guest ? "host " : "guest", h->src_cid, h->src_port,
	    h->dst_cid, h->dst_port, type != NULL ? type : "type?",
	    vsock_op_name(h->op), h->flags, h->len, h->buf_alloc, h->fwd_cnt);
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
		fprintf(f, "%swarning: %" PRIu64 " repeated host RST%s on a pair "
		    "the host had already reset (Linux sends one more when the "
		    "application closes) accepted\n", indent, r->repeated_rsts,
		    r->repeated_rsts == 1 ? "" : "s");
	if (r->other_guest_frames > 0)
		fprintf(f, "%snote: %" PRIu64 " frame%s of other guests "
		    "skipped (--guest-cid)\n", indent, r->other_guest_frames,
		    r->other_guest_frames == 1 ? "" : "s");
	if (r->split_taps > 0)
		fprintf(f, "%swarning: %" PRIu64 " host->guest RW record%s "
		    "from Linux 6.1's split tap (more payload than len) "
		    "trimmed to len\n", indent, r->split_taps,
		    r->split_taps == 1 ? "" : "s");
}

static void
report_text(FILE *f, const char *trace, const struct replay_result *r)
{
	if (r->verdict == REPLAY_UNUSABLE) {
		fprintf(f, "UNUSABLE %s: %s\n", trace, r->error);
		return;
	}
	fprintf(f, "%s %s", verdict_word(r->verdict), trace);
	if (r->verdict == REPLAY_DIVERGED)
		fprintf(f, " at frame %" PRIu64, r->div.frame);
	fputs(": ", f);
	summary(f, r);
	fputc('\n', f);
	notes(f, "  ", r);
	if (r->verdict == REPLAY_DIVERGED)
		divergence(f, "  ", r);
}

static void
report_tap(FILE *f, const char *trace, const struct replay_result *r,
    unsigned index, unsigned total)
{
	if (index == 1)
		fprintf(f, "TAP version 13\n1..%u\n", total);
	fprintf(f, "%s %u - %s", r->verdict == REPLAY_PASS ? "ok" : "not ok",
	    index, trace);
	if (r->verdict == REPLAY_UNUSABLE) {
		fprintf(f, " # unusable\n#   %s\n", r->error);
		return;
	}
	if (r->verdict == REPLAY_DIVERGED)
		fprintf(f, " # diverged at frame %" PRIu64, r->div.frame);
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

static void
report_json(FILE *f, const char *trace, const struct replay_result *r)
{
	const struct replay_divergence *d = &r->div;
	char line[320];
	unsigned i;

	fputs("{\"trace\":", f);
	json_str(f, trace);
	json_kv(f, "verdict", r->verdict == REPLAY_PASS ? "pass" :
	    r->verdict == REPLAY_DIVERGED ? "diverged" : "unusable");
	if (r->verdict == REPLAY_UNUSABLE) {
		json_kv(f, "error", r->error);
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
	    ",\"other_guest_frames\":%" PRIu64,
	    r->buf_alloc, r->guest_rx_buf, r->frames, r->guest_frames,
	    r->host_frames, r->conns,
	    r->bytes_g2h, r->bytes_h2g, r->split_taps, r->other_guest_frames);
	if (r->verdict == REPLAY_DIVERGED) {
		fprintf(f, ",\"divergence\":{\"frame\":%" PRIu64
		    ",\"at_end\":%s", d->frame, d->at_end ? "true" : "false");
		json_kv(f, "connection", d->conn);
		json_kv(f, "field", d->field);
		json_kv(f, "what", d->what);
		json_kv(f, "expected", d->expected);
		json_kv(f, "actual", d->actual);
		fputs(",\"context\":[", f);
		for (i = 0; i < d->ncontext; i++) {
			FILE *m = fmemopen(line, sizeof(line), "w");

			if (m == NULL)
				break;
			context_line(m, "", &d->context[i], d->frame);
			fclose(m);
			line[strcspn(line, "\n")] = '\0';
			if (i > 0)
				fputc(',', f);
			json_str(f, line + 1);
		}
		fputs("]}", f);
	}
	fputs("}\n", f);
}

char *
replay_report(const char *trace, const struct replay_result *res,
    enum replay_format fmt, unsigned index, unsigned total)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	switch (fmt) {
	case REPLAY_FORMAT_TAP:
		report_tap(f, trace, res, index, total);
		break;
	case REPLAY_FORMAT_JSON:
		report_json(f, trace, res);
		break;
	default:
		report_text(f, trace, res);
		break;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

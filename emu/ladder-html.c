/* ladder-html.c - render ladders (ladder.h) as one self-contained HTML page: inline SVG and CSS, no script, every capture value escaped. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ladder-html.h"
#include "pkt.h"
#include "trace-format.h"
#include "vsock-proto.h"

/*
 * Layout of one ladder (doc/ladder.md): frame number and time on the
 * left, the guest's lane, the host's lane, one arrow a row.
 */
#define SVG_W		980
#define LANE_L		250
#define LANE_R		830
#define ROW_H		26
#define HEAD_H		34
#define BAR_W		40

/* One trace's line in the summary table. */
struct page_entry {
	char *name;
	char *verdict;			/* NULL: dump */
	uint64_t frames;
	unsigned conns;
};

struct ladder_page {
	FILE *out;
	FILE *body;			/* sections, until the summary is known */
	char *path, *title;
	struct page_entry *entries;
	unsigned n, cap;
};

void
html_put(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			/* Control bytes are not text: never pass one on. */
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fprintf(f, "\\x%02x", (unsigned char)*s);
			else
				fputc(*s, f);
		}
}

void
html_put_bytes(FILE *f, const uint8_t *p, size_t n)
{
	char one[2] = { 0, 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n')
			fputs("\\n", f);
		else if (p[i] == '\r')
			fputs("\\r", f);
		else if (p[i] == '\t')
			fputs("\\t", f);
		else if (p[i] == '\\')
			fputs("\\\\", f);
		else if (p[i] >= 0x20 && p[i] < 0x7f) {
			one[0] = (char)p[i];
			html_put(f, one);
		} else
			fprintf(f, "\\x%02x", p[i]);
	}
}

/*
 * No script, no fetch: a Content-Security-Policy that forbids both makes a
 * page built from a hostile capture inert even if an escape were missed.
 */
static const char page_css[] =
"body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}"
"h1{font-size:1.3em}h2{font-size:1.15em;margin-top:2em}"
"h3{font-size:1em;margin:1.2em 0 .3em;font-family:monospace}"
"table.summary{border-collapse:collapse}"
"table.summary td,table.summary th{border:1px solid #ccc;padding:.2em .6em}"
".verdict{display:inline-block;padding:.15em .6em;border-radius:.3em;"
"font-weight:bold}"
".v-PASS{background:#d8f3dc}.v-DIVERGED{background:#ffd6d6}"
".v-UNUSABLE{background:#ffe8b3}.v-SKIPPED{background:#eee}"
".divergence{display:grid;grid-template-columns:1fr 1fr;gap:.5em;"
"border:2px solid #d62828;background:#fff4f4;padding:.5em;margin:.3em 0;"
"max-width:" "960px}"
".divergence .what{grid-column:1/3}"
".divergence pre{margin:0;white-space:pre-wrap;font-size:12px}"
"svg.ladder{display:block}"
"svg.ladder text{font:12px monospace;fill:#222}"
"svg.ladder .lane{stroke:#888;stroke-width:1}"
"svg.ladder .lanehead{font-weight:bold}"
"svg.ladder line.arrow{stroke-width:1.6}"
".op-setup line.arrow{stroke:#2a9d3f}.op-rst line.arrow{stroke:#d62828;"
"stroke-width:2.6}.op-shutdown line.arrow{stroke:#e07b00;"
"stroke-dasharray:6 3}.op-rw line.arrow{stroke:#1d5fbf}"
".op-credit line.arrow{stroke:#999;stroke-dasharray:2 3}"
".op-other line.arrow{stroke:#8e44ad}"
".op-rst text.label{fill:#d62828;font-weight:bold}"
".bar-bg{fill:#eee}.bar{fill:#69b578}"
".hl{fill:#ffd6d6}.dropped text.label{text-decoration:line-through}"
"details.run{margin:0 0 0 " "40px}"
"details.run summary{cursor:pointer;color:#555;font-size:12px}"
".legend span{margin-right:1.2em;font-family:monospace}"
".l-setup{color:#2a9d3f}.l-rw{color:#1d5fbf}.l-credit{color:#999}"
".l-shutdown{color:#e07b00}.l-rst{color:#d62828}";

/* Arrowheads, one per colour (a marker does not take its line's). */
static const char svg_defs[] =
"<defs>"
"<marker id=\"a-setup\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
"markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
"<path d=\"M0,0L10,5L0,10z\" fill=\"#2a9d3f\"/></marker>"
"<marker id=\"a-rst\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
"markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
"<path d=\"M0,0L10,5L0,10z\" fill=\"#d62828\"/></marker>"
"<marker id=\"a-shutdown\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
"markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
"<path d=\"M0,0L10,5L0,10z\" fill=\"#e07b00\"/></marker>"
"<marker id=\"a-rw\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
"markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
"<path d=\"M0,0L10,5L0,10z\" fill=\"#1d5fbf\"/></marker>"
"<marker id=\"a-credit\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
"markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
"<path d=\"M0,0L10,5L0,10z\" fill=\"#999\"/></marker>"
"<marker id=\"a-other\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
"markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
"<path d=\"M0,0L10,5L0,10z\" fill=\"#8e44ad\"/></marker>"
"</defs>";

/* The colour class of an op: setup, RST and SHUTDOWN stand apart. */
static const char *
op_class(uint16_t op)
{
	switch (op) {
	case VIRTIO_VSOCK_OP_REQUEST:
	case VIRTIO_VSOCK_OP_RESPONSE:
		return "setup";
	case VIRTIO_VSOCK_OP_RST:
		return "rst";
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		return "shutdown";
	case VIRTIO_VSOCK_OP_RW:
		return "rw";
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		return "credit";
	default:
		return "other";
	}
}

/* "+1.291039" seconds (a capture whose time ran back: "-"). */
static void
put_time(FILE *f, const struct ladder_row *r)
{
	uint64_t us = r->ts_ns / 1000;

	fprintf(f, "%s%" PRIu64 ".%06" PRIu64, r->backwards ? "-" : "+",
	    us / 1000000, us % 1000000);
}

/* The arrow's label: op, flags by name, len, the credit fields. */
static void
put_label(FILE *f, const struct ladder_row *r)
{
	char flags[48];

	html_put(f, vsock_op_name(r->hdr.op));
	if (r->hdr.flags != 0) {
		trace_format_flags(&r->hdr, flags, sizeof(flags));
		fputc(' ', f);
		html_put(f, flags);
	}
	if (r->hdr.len != 0)
		fprintf(f, " len %" PRIu32, r->hdr.len);
	fprintf(f, " \xc2\xb7 buf_alloc %" PRIu32 " fwd_cnt %" PRIu32,
	    r->hdr.buf_alloc, r->hdr.fwd_cnt);
	if (r->marks & LADDER_MARK_DROPPED)
		fputs(" [dropped]", f);
	if (r->marks & LADDER_MARK_SPLIT_TAP)
		fputs(" [split-tap]", f);
	if (r->marks & LADDER_MARK_CUT)
		fprintf(f, " [cut: %" PRIu32 " of %" PRIu32 " payload bytes]",
		    r->payload_len, r->hdr.len);
}

/* The tooltip: the dump line, then the payload's first bytes. */
static void
put_title(FILE *f, const struct ladder_row *r)
{
	char line[TRACE_FORMAT_HDR_LEN];

	trace_format_hdr(&r->hdr, line, sizeof(line));
	fprintf(f, "<title>frame %" PRIu64 " ", r->frame);
	put_time(f, r);
	fputs(" s\n", f);
	html_put(f, line);
	if (r->payload_len > 0) {
		fprintf(f, "\npayload %" PRIu32 " bytes%s: ", r->payload_len,
		    r->payload_len > r->preview_len ? " (the first shown)" :
		    "");
		html_put_bytes(f, r->preview, r->preview_len);
	}
	fputs("</title>", f);
}

/*
 * The sender's advertised free receive space as a bar beside its lane:
 * full when all of buf_alloc is free, empty when its peer may send
 * nothing more.
 */
static void
put_credit_bar(FILE *f, const struct ladder_row *r, int y)
{
	int x = r->from_left ? LANE_L - BAR_W - 12 : LANE_R + 12;
	int w = r->hdr.buf_alloc == 0 ? 0 :
	    (int)((uint64_t)r->credit_free * BAR_W / r->hdr.buf_alloc);

	fprintf(f, "<rect class=\"bar-bg\" x=\"%d\" y=\"%d\" width=\"%d\" "
	    "height=\"5\"/><rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" "
	    "height=\"5\"><title>free receive space %" PRIu32 " of %" PRIu32
	    "</title></rect>", x, y - 3, BAR_W, x, y - 3, w, r->credit_free,
	    r->hdr.buf_alloc);
}

/* One packet row at height y. */
static void
put_packet(FILE *f, unsigned trace, const struct ladder_row *r, int y)
{
	const char *cls = op_class(r->hdr.op);
	int x1 = r->from_left ? LANE_L : LANE_R;
	int x2 = r->from_left ? LANE_R : LANE_L;
	bool div = (r->marks & LADDER_MARK_DIVERGED) != 0;

	fprintf(f, "<g class=\"pkt op-%s%s%s\" data-frame=\"%" PRIu64 "\" "
	    "id=\"t%u-f%" PRIu64 "\">", cls, div ? " diverged" : "",
	    (r->marks & LADDER_MARK_DROPPED) ? " dropped" : "", r->frame,
	    trace, r->frame);
	put_title(f, r);
	if (div)
		fprintf(f, "<rect class=\"hl\" x=\"0\" y=\"%d\" width=\"%d\" "
		    "height=\"%d\"/>", y - ROW_H + 6, SVG_W, ROW_H);
	fprintf(f, "<text x=\"8\" y=\"%d\">#%" PRIu64 " ", y, r->frame);
	put_time(f, r);
	fputs("</text>", f);
	fprintf(f, "<line class=\"arrow\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
	    "y2=\"%d\" marker-end=\"url(#a-%s)\"/>", x1, y, x2, y, cls);
	fprintf(f, "<text class=\"label\" x=\"%d\" y=\"%d\" "
	    "text-anchor=\"middle\">", (LANE_L + LANE_R) / 2, y - 4);
	put_label(f, r);
	fputs("</text>", f);
	if (r->credit_known && (r->hdr.op == VIRTIO_VSOCK_OP_RW ||
	    r->hdr.op == VIRTIO_VSOCK_OP_CREDIT_UPDATE ||
	    r->hdr.op == VIRTIO_VSOCK_OP_CREDIT_REQUEST))
		put_credit_bar(f, r, y);
	fputs("</g>\n", f);
}

/* A run's rows that were counted, not kept. */
static void
put_omitted(FILE *f, const struct ladder_row *r, int y)
{
	fprintf(f, "<g class=\"omitted\"><text x=\"%d\" y=\"%d\" "
	    "text-anchor=\"middle\">\xe2\x80\xa6 %" PRIu64 " more data packets "
	    "from frame %" PRIu64 " not drawn (%" PRIu64 " bytes \xe2\x86\x92, "
	    "%" PRIu64 " bytes \xe2\x86\x90; vsockemu dump shows them) "
	    "\xe2\x80\xa6</text></g>\n", (LANE_L + LANE_R) / 2, y,
	    r->omitted_frames, r->frame, r->omitted_bytes[0],
	    r->omitted_bytes[1]);
}

/* "guest 3:1024" or, on loopback, "3:1024". */
static void
put_endpoint(FILE *f, const struct ladder_conn *c, bool left)
{
	uint64_t cid = left ? c->left_cid : c->right_cid;
	uint32_t port = left ? c->left_port : c->right_port;

	if (c->left_is_guest)
		fputs(left ? "guest " : "host ", f);
	fprintf(f, "%" PRIu64 ":%" PRIu32, cid, port);
}

/* Rows [from, to) of c as one SVG; the lane heads on the first. */
static void
put_svg(FILE *f, unsigned trace, const struct ladder_conn *c, unsigned from,
    unsigned to)
{
	int head = from == 0 ? HEAD_H : 6;
	int h = head + (int)(to - from) * ROW_H + 6;
	unsigned i;
	int y;

	fprintf(f, "<svg class=\"ladder\" xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">%s", SVG_W, h,
	    SVG_W, h, svg_defs);
	fprintf(f, "<line class=\"lane\" x1=\"%d\" y1=\"0\" x2=\"%d\" "
	    "y2=\"%d\"/><line class=\"lane\" x1=\"%d\" y1=\"0\" x2=\"%d\" "
	    "y2=\"%d\"/>", LANE_L, LANE_L, h, LANE_R, LANE_R, h);
	if (from == 0) {
		fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
		    "fill=\"#fff\"/><text class=\"lanehead\" x=\"%d\" y=\"18\" "
		    "text-anchor=\"middle\">", SVG_W, HEAD_H - 8, LANE_L);
		put_endpoint(f, c, true);
		fprintf(f, "</text><text class=\"lanehead\" x=\"%d\" y=\"18\" "
		    "text-anchor=\"middle\">", LANE_R);
		put_endpoint(f, c, false);
		fputs("</text>", f);
	}
	for (i = from, y = head + ROW_H - 8; i < to; i++, y += ROW_H) {
		if (c->rows[i].kind == LADDER_ROW_OMITTED)
			put_omitted(f, &c->rows[i], y);
		else
			put_packet(f, trace, &c->rows[i], y);
	}
	fputs("</svg>\n", f);
}

/* The divergence: what was expected beside what happened. */
static void
put_divergence(FILE *f, const struct ladder_verdict *v)
{
	fputs("<div class=\"divergence\"><div class=\"what\"><b>", f);
	if (v->at_end)
		fputs("at the end of the trace", f);
	else
		fprintf(f, "frame %" PRIu64, v->frame);
	fputs("</b>", f);
	if (v->conn != NULL) {
		fputs(" \xc2\xb7 ", f);
		html_put(f, v->conn);
	}
	if (v->field != NULL && v->field[0] != '\0') {
		fputs(" \xc2\xb7 field <code>", f);
		html_put(f, v->field);
		fputs("</code>", f);
	}
	if (v->what != NULL) {
		fputs(": ", f);
		html_put(f, v->what);
	}
	fputs("</div><div><b>expected</b><pre class=\"expected\">", f);
	html_put(f, v->expected != NULL ? v->expected : "");
	fputs("</pre></div><div><b>actual</b><pre class=\"actual\">", f);
	html_put(f, v->actual != NULL ? v->actual : "");
	fputs("</pre></div></div>\n", f);
}

/* Counts of rows [from, to): for a fold's summary line. */
static void
put_fold_summary(FILE *f, const struct ladder_conn *c, unsigned from,
    unsigned to)
{
	uint64_t frames = 0, bytes[2] = { 0, 0 };
	unsigned i;

	for (i = from; i < to; i++) {
		const struct ladder_row *r = &c->rows[i];

		if (r->kind == LADDER_ROW_OMITTED) {
			frames += r->omitted_frames;
			bytes[0] += r->omitted_bytes[0];
			bytes[1] += r->omitted_bytes[1];
			continue;
		}
		frames++;
		if (r->hdr.op == VIRTIO_VSOCK_OP_RW)
			bytes[r->from_left ? 0 : 1] += r->hdr.len;
	}
	fprintf(f, "<summary>%" PRIu64 " more RW / CREDIT packets, frames %"
	    PRIu64 " to %" PRIu64 " (%" PRIu64 " bytes \xe2\x86\x92, %" PRIu64
	    " bytes \xe2\x86\x90)</summary>", frames, c->rows[from].frame,
	    c->rows[to - 1].frame, bytes[0], bytes[1]);
}

/*
 * One connection: shown rows as SVGs, folded rows inside <details>, the
 * divergence's box right after its row.
 */
static bool
put_conn(FILE *f, unsigned trace, unsigned n, const struct ladder_conn *c,
    const struct ladder_verdict *v)
{
	unsigned from = 0, to;
	bool shown = false;
	char type[24];
	struct vsock_hdr h = { .type = c->type };

	trace_format_type(&h, type, sizeof(type));
	fprintf(f, "<section class=\"conn\" id=\"t%u-c%u\"><h3>", trace, n);
	put_endpoint(f, c, true);
	fputs(" \xe2\x87\x84 ", f);
	put_endpoint(f, c, false);
	fprintf(f, " \xc2\xb7 %s \xc2\xb7 %" PRIu64 " frames \xc2\xb7 %" PRIu64
	    " bytes \xe2\x86\x92 %" PRIu64 " bytes \xe2\x86\x90</h3>\n", type,
	    c->frames, c->bytes[0], c->bytes[1]);
	while (from < c->nrows) {
		bool folded = c->rows[from].folded;

		for (to = from + 1; to < c->nrows &&
		    c->rows[to].folded == folded &&
		    !(c->rows[to - 1].marks & LADDER_MARK_DIVERGED); to++)
			;
		if (folded) {
			fputs("<details class=\"run\">", f);
			put_fold_summary(f, c, from, to);
			put_svg(f, trace, c, from, to);
			fputs("</details>\n", f);
		} else
			put_svg(f, trace, c, from, to);
		if (v != NULL && v->diverged &&
		    (c->rows[to - 1].marks & LADDER_MARK_DIVERGED)) {
			put_divergence(f, v);
			shown = true;
		}
		from = to;
	}
	fputs("</section>\n", f);
	return shown;
}

int
ladder_page_open(struct ladder_page **out, const char *path,
    const char *title, char *err, size_t errlen)
{
	struct ladder_page *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->path = strdup(path)) == NULL ||
	    (p->title = strdup(title)) == NULL ||
	    (p->body = tmpfile()) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno ?
		    errno : ENOMEM));
		goto fail;
	}
	if ((p->out = fopen(path, "w")) == NULL) {
		snprintf(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	*out = p;
	return 0;
fail:
	if (p != NULL) {
		if (p->body != NULL)
			fclose(p->body);
		free(p->path);
		free(p->title);
		free(p);
	}
	return -1;
}

/* Remembers a trace for the summary table; false without memory. */
static bool
add_entry(struct ladder_page *p, const char *name, const struct ladder *l,
    const struct ladder_verdict *v)
{
	struct page_entry *e;

	if (p->n == p->cap) {
		unsigned cap = p->cap ? p->cap * 2 : 8;

		if ((e = realloc(p->entries, cap * sizeof(*e))) == NULL)
			return false;
		p->entries = e;
		p->cap = cap;
	}
	e = &p->entries[p->n];
	memset(e, 0, sizeof(*e));
	if ((e->name = strdup(name)) == NULL)
		return false;
	if (v != NULL && v->verdict != NULL &&
	    (e->verdict = strdup(v->verdict)) == NULL) {
		free(e->name);
		return false;
	}
	e->frames = l->frames;
	e->conns = l->nconns;
	p->n++;
	return true;
}

void
ladder_page_trace(struct ladder_page *p, const char *name,
    const struct ladder *l, const struct ladder_verdict *v)
{
	FILE *f = p->body;
	const struct ladder_conn *c;
	unsigned trace = p->n + 1, n = 0;
	bool shown = false;

	if (!add_entry(p, name, l, v))
		return;
	fprintf(f, "<section class=\"trace\" id=\"trace-%u\"><h2>", trace);
	html_put(f, name);
	fputs("</h2>\n<p>", f);
	if (v != NULL && v->verdict != NULL) {
		fputs("<span class=\"verdict v-", f);
		html_put(f, v->verdict);
		fputs("\">", f);
		html_put(f, v->verdict);
		fputs("</span> ", f);
		if (v->diverged && !v->at_end)
			fprintf(f, "at <a href=\"#t%u-f%" PRIu64 "\">frame %"
			    PRIu64 "</a> ", trace, v->frame, v->frame);
		if (v->error != NULL) {
			html_put(f, v->error);
			fputc(' ', f);
		}
	}
	fprintf(f, "%" PRIu64 " frame%s, %u connection%s", l->frames,
	    l->frames == 1 ? "" : "s", l->nconns, l->nconns == 1 ? "" : "s");
	if (l->undrawn_frames > 0)
		fprintf(f, "; %" PRIu64 " frames past the page's limits not "
		    "drawn (vsockemu dump shows every frame)", l->undrawn_frames);
	if (v != NULL && v->note != NULL) {
		fputs("; ", f);
		html_put(f, v->note);
	}
	fputs("</p>\n", f);
	for (c = l->head; c != NULL; c = c->next)
		shown |= put_conn(f, trace, ++n, c, v);
	if (v != NULL && v->diverged && !shown)
		put_divergence(f, v);	/* at the end, or in no drawn row */
	fputs("</section>\n", f);
}

/* The summary table: one row a trace, linking to its section. */
static void
put_summary(const struct ladder_page *p)
{
	FILE *f = p->out;
	unsigned i;

	fputs("<table class=\"summary\"><tr><th>#</th><th>trace</th>", f);
	if (p->n > 0 && p->entries[0].verdict != NULL)
		fputs("<th>verdict</th>", f);
	fputs("<th>frames</th><th>connections</th></tr>\n", f);
	for (i = 0; i < p->n; i++) {
		const struct page_entry *e = &p->entries[i];

		fprintf(f, "<tr><td>%u</td><td><a href=\"#trace-%u\">", i + 1,
		    i + 1);
		html_put(f, e->name);
		fputs("</a></td>", f);
		if (e->verdict != NULL) {
			fputs("<td><span class=\"verdict v-", f);
			html_put(f, e->verdict);
			fputs("\">", f);
			html_put(f, e->verdict);
			fputs("</span></td>", f);
		}
		fprintf(f, "<td>%" PRIu64 "</td><td>%u</td></tr>\n", e->frames,
		    e->conns);
	}
	fputs("</table>\n", f);
}

int
ladder_page_close(struct ladder_page *p, char *err, size_t errlen)
{
	FILE *f = p->out;
	char buf[65536];
	size_t n;
	unsigned i;
	int rc = 0;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
	    "'none'; style-src 'unsafe-inline'\"><title>", f);
	html_put(f, p->title);
	fprintf(f, "</title><style>%s</style></head><body>\n<h1>", page_css);
	html_put(f, p->title);
	fputs("</h1>\n<p class=\"legend\">time goes down; one arrow a packet "
	    "(hover for its header and payload): <span class=\"l-setup\">"
	    "REQUEST/RESPONSE</span><span class=\"l-rw\">RW</span>"
	    "<span class=\"l-credit\">CREDIT</span><span class=\"l-shutdown\">"
	    "SHUTDOWN</span><span class=\"l-rst\">RST</span> \xc2\xb7 the bar "
	    "beside the sender: the receive space it advertises as free</p>\n",
	    f);
	if (p->n > 1)
		put_summary(p);
	rewind(p->body);
	while ((n = fread(buf, 1, sizeof(buf), p->body)) > 0)
		fwrite(buf, 1, n, f);
	if (ferror(p->body))
		rc = -1;
	fputs("</body></html>\n", f);
	if (fclose(f) != 0 || rc < 0) {
		snprintf(err, errlen, "cannot write %s: %s", p->path,
		    strerror(errno));
		rc = -1;
	}
	fclose(p->body);
	for (i = 0; i < p->n; i++) {
		free(p->entries[i].name);
		free(p->entries[i].verdict);
	}
	free(p->entries);
	free(p->path);
	free(p->title);
	free(p);
	return rc;
}

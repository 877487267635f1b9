/* ladder-html.h - write ladder diagrams of vsock sessions as one self-contained HTML page. */
#ifndef VSOCKEMU_LADDER_HTML_H
#define VSOCKEMU_LADDER_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "ladder.h"

struct ladder_page;

/* What replay said of a trace; dump passes none. Strings may be NULL. */
struct ladder_verdict {
	const char *verdict;		/* "PASS", "DIVERGED", "UNUSABLE" ... */
	bool diverged;
	uint64_t frame;			/* the divergence's frame */
	bool at_end;			/* found when the trace had ended */
	const char *conn, *field, *what, *expected, *actual;
	const char *error;		/* UNUSABLE: why */
	const char *note;		/* e.g. what a snaplen cut left out */
};

/*
 * Starts the page written to path at ladder_page_close(); title is the
 * command (escaped like everything else). Returns 0, or -1 with err set.
 */
int ladder_page_open(struct ladder_page **out, const char *path,
    const char *title, char *err, size_t errlen);

/* Adds one trace's section: its ladders, and v's verdict when not NULL. */
void ladder_page_trace(struct ladder_page *p, const char *name,
    const struct ladder *l, const struct ladder_verdict *v);

/*
 * Writes the page (the summary table first when there are several
 * traces) and frees p. Returns 0, or -1 with err set.
 */
int ladder_page_close(struct ladder_page *p, char *err, size_t errlen);

/* HTML-escapes s onto f (text and attribute values alike). */
void html_put(FILE *f, const char *s);

/*
 * Writes n untrusted bytes onto f as escaped text: printable ASCII as is
 * (HTML-escaped), \n \r \t as such, every other byte as \xNN.
 */
void html_put_bytes(FILE *f, const uint8_t *p, size_t n);

#endif

/* connect-line.h - the Firecracker host protocol line "CONNECT <port>\n", parsed incrementally. */
#ifndef VSE_CONNECT_LINE_H
#define VSE_CONNECT_LINE_H

#include <stddef.h>
#include <stdint.h>

/* Firecracker and Cloud Hypervisor read at most 32 bytes, '\n' included. */
#define CONNECT_LINE_MAX	32

enum connect_line_result {
	CONNECT_LINE_OK,	/* a complete, valid line: *port is set */
	CONNECT_LINE_MORE,	/* a valid prefix: read more */
	CONNECT_LINE_BAD,	/* can never become valid: close the socket */
};

/*
 * Parses the bytes received so far (at most CONNECT_LINE_MAX, ending at the
 * first '\n' if there is one; the caller never reads past it). Grammar:
 * "connect" in any case, one or more blanks, a decimal u32 without sign,
 * optional blanks, an optional '\r', '\n'. *used is set to the line's length
 * on OK.
 */
enum connect_line_result connect_line_parse(const char *buf, size_t len,
    uint32_t *port, size_t *used);

#endif

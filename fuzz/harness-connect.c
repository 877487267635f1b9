/* harness-connect.c - fuzz the CONNECT line parser: verdicts, lengths, and every prefix of a good line. */
#include "config.h"

#include <stdlib.h>

#include "connect-line.h"
#include "harness.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum connect_line_result r, p;
	size_t len = size < CONNECT_LINE_MAX ? size : CONNECT_LINE_MAX;
	size_t used = 0, k, u;
	uint32_t port = 0, q;

	r = connect_line_parse((const char *)data, len, &port, &used);
	if (r != CONNECT_LINE_OK && r != CONNECT_LINE_MORE &&
	    r != CONNECT_LINE_BAD)
		abort();
	if (r != CONNECT_LINE_OK)
		return 0;
	/* A good line ends at its '\n', and each prefix is only "more". */
	if (used == 0 || used > len || data[used - 1] != '\n')
		abort();
	for (k = 0; k < used; k++) {
		p = connect_line_parse((const char *)data, k, &q, &u);
		if (p != CONNECT_LINE_MORE)
			abort();
	}
	return 0;
}

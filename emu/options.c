/* options.c - strict parsing of option arguments: no signs, no junk, no wrap. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

int
opt_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;

	/* strtoull would accept leading blanks and a sign: refuse them. */
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0' && *out <= max ? 0 : -1;
}

int
opt_profile(const char *s, enum vsock_profile *out)
{
	return vsock_profile_parse(s, out) < 0 ? -1 : 0;
}

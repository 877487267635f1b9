/* options.c - one option grammar for every subcommand; strict arguments: no signs, no junk, no wrap. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
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

void
opt_version(void)
{
	printf("vsockemu %s\n", PACKAGE_VERSION);
}

int
opt_usage(const struct opt_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "vsockemu %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s (try 'vsockemu %s --help')\n",
	    cmd->synopsis, cmd->name);
	return 2;
}

/* getopt's error, in our words: the option it could not take. */
static int
opt_error(const struct opt_cmd *cmd, int c, char **argv)
{
	/* A long option is the word getopt just stepped over. */
	const char *word = argv[optind - 1];
	char shortname[3] = { '-', (char)optopt, '\0' };

	if (optopt == 0 || strncmp(word, "--", 2) == 0)
		shortname[0] = '\0';
	if (c == ':')
		return opt_usage(cmd, "option '%s' needs an argument",
		    shortname[0] ? shortname : word);
	return opt_usage(cmd, "unknown option '%s'", shortname[0] ? shortname :
	    word);
}

int
opt_next(const struct opt_cmd *cmd, int argc, char **argv,
    const char *shortopts, const struct option *longopts,
    enum opt_verbosity *verbosity)
{
	/* ':' first: a missing argument is ':', told apart from unknown. */
	char spec[64];
	int c;

	snprintf(spec, sizeof(spec), ":hVqv%s", shortopts);
	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, spec, longopts, NULL);
		switch (c) {
		case 'h':
			fputs(cmd->help, stdout);
			return OPT_EXIT_OK;
		case 'V':
			opt_version();
			return OPT_EXIT_OK;
		case 'q':
		case 'v':
			if (*verbosity != OPT_NORMAL && *verbosity !=
			    (c == 'q' ? OPT_QUIET : OPT_VERBOSE)) {
				opt_usage(cmd, "-q and -v conflict");
				return OPT_EXIT_USAGE;
			}
			*verbosity = c == 'q' ? OPT_QUIET : OPT_VERBOSE;
			continue;
		case '?':
		case ':':
			opt_error(cmd, c, argv);
			return OPT_EXIT_USAGE;
		default:
			return c;
		}
	}
}

/* options.h - option parsing shared by the subcommands: one grammar, strict arguments. */
#ifndef VSOCKEMU_OPTIONS_H
#define VSOCKEMU_OPTIONS_H

#include <getopt.h>
#include <stdint.h>

#include "device.h"

/* A whole unsigned decimal number no larger than max: 0, or -1. */
int opt_u64(const char *s, uint64_t max, uint64_t *out);

/* "firecracker" or "linux": 0, or -1. */
int opt_profile(const char *s, enum vsock_profile *out);

/* A subcommand as its option parsing names it. */
struct opt_cmd {
	const char *name;	/* "replay": messages say "vsockemu replay: " */
	const char *synopsis;	/* one line: "vsockemu replay [options] TRACE..." */
	const char *help;	/* the whole --help text */
};

/*
 * The options every subcommand takes (doc/vsockemu.1, COMMON OPTIONS);
 * put OPT_COMMON_LONG at the end of each long-option table, before its
 * terminator.
 */
#define OPT_COMMON_LONG \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "verbose", no_argument, NULL, 'v' }

/* What opt_next gives besides an option and OPT_END. */
#define OPT_END		(-1)
#define OPT_EXIT_OK	0x100	/* --help or --version printed: exit 0 */
#define OPT_EXIT_USAGE	0x101	/* bad usage reported: exit 2 */

/* -q and -v: how much a subcommand says on stderr (and in its reports). */
enum opt_verbosity {
	OPT_QUIET = 0,
	OPT_NORMAL = 1,
	OPT_VERBOSE = 2,
};

/*
 * The next option of argv (getopt_long with shortopts, which must not
 * hold the common h, V, q, v): the command's own option, OPT_END, or an
 * OPT_EXIT_* after --help/--version was printed or bad usage reported.
 * -q and -v set *verbosity and are not returned; both at once is bad
 * usage. Messages are ours, never getopt's.
 */
int opt_next(const struct opt_cmd *cmd, int argc, char **argv,
    const char *shortopts, const struct option *longopts,
    enum opt_verbosity *verbosity);

/*
 * Bad usage: "vsockemu CMD: MESSAGE", then the synopsis and where the help
 * is, on stderr. Returns 2, the exit status.
 */
int opt_usage(const struct opt_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "vsockemu VERSION" on stdout, as --version prints it everywhere. */
void opt_version(void);

#endif

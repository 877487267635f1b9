/* main.c - vsockemu: option parsing and subcommand dispatch. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "vsockemu.h"

static const char usage_text[] =
"usage: vsockemu [--help | --version]\n"
"       vsockemu COMMAND [options]\n"
"       vsockemu help [COMMAND]\n"
"\n"
"vsockemu emulates a virtio-vsock device (virtio device id 19) in user space,\n"
"driven by a simulated guest driver, so that host software written for\n"
"Firecracker or Cloud Hypervisor vsock can be tested without KVM, a guest\n"
"kernel or root.\n"
"\n"
"Commands:\n"
"%s"
"\n"
"Options:\n"
"  -h, --help     show this help and exit\n"
"  -V, --version  show the version and exit\n"
"\n"
"Every command takes -h/--help, -V/--version, -q/--quiet and -v/--verbose;\n"
"bad usage prints one message (\"vsockemu COMMAND: ...\") and the command's\n"
"usage line on stderr and exits 2.\n"
"\n"
"Exit status: 0 success, 1 a check failed, 2 bad usage or unusable input.\n"
"See vsockemu(1) for details.\n";

static void
usage(FILE *f)
{
	char list[2048] = "";
	size_t i, off = 0;

	for (i = 0; i < vse_ncommands; i++) {
		int n = snprintf(list + off, sizeof(list) - off, "  %-12s %s\n",
		    vse_commands[i].name, vse_commands[i].summary);
		if (n < 0 || (size_t)n >= sizeof(list) - off)
			break;
		off += (size_t)n;
	}
	fprintf(f, usage_text, off > 0 ? list : "  (none yet)\n");
}

/* The command named name, or NULL. */
static const struct vse_command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < vse_ncommands; i++)
		if (strcmp(name, vse_commands[i].name) == 0)
			return &vse_commands[i];
	return NULL;
}

/* Bad usage at the top level: one message and the usage line; exit 2. */
static int
top_usage(const char *what, const char *word)
{
	fprintf(stderr, "vsockemu: %s '%s'\nusage: vsockemu COMMAND [options] "
	    "(try 'vsockemu --help')\n", what, word);
	return 2;
}

/* `vsockemu help [COMMAND]`: this help, or COMMAND --help. */
int
cmd_help(int argc, char **argv)
{
	const struct vse_command *c;
	char *help_argv[] = { NULL, (char *)"--help", NULL };

	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (argc > 2)
		return top_usage("help takes one command, not", argv[2]);
	if ((c = find_command(argv[1])) == NULL)
		return top_usage("unknown command", argv[1]);
	help_argv[0] = argv[1];
	return c->run(2, help_argv);
}

/* A library's one-line report, under the command's name. */
void
vse_log(void *ctx, const char *msg)
{
	fprintf(stderr, "vsockemu %s: %s\n", (const char *)ctx, msg);
}

int
main(int argc, char **argv)
{
	const struct vse_command *c;

	/*
	 * A reader that goes away (a capture piped to `head`, a vhost-user
	 * call fd that is a pipe nobody reads) must be an EPIPE the code
	 * handles, never a signal that kills every connection: sockets use
	 * MSG_NOSIGNAL, but write() to a pipe has no such flag.
	 */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		opt_version();
		return 0;
	}
	if ((c = find_command(argv[1])) != NULL)
		return c->run(argc - 1, argv + 1);
	return top_usage(argv[1][0] == '-' ? "unknown option" :
	    "unknown command", argv[1]);
}

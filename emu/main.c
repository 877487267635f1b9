/* main.c - vsockemu: option parsing and subcommand dispatch. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsockemu.h"

static const char usage_text[] =
"usage: vsockemu [--help | --version]\n"
"       vsockemu COMMAND [options]\n"
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

/* A library's one-line report, under the command's name. */
void
vse_log(void *ctx, const char *msg)
{
	fprintf(stderr, "vsockemu %s: %s\n", (const char *)ctx, msg);
}

int
main(int argc, char **argv)
{
	size_t i;

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
		printf("vsockemu %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (i = 0; i < vse_ncommands; i++)
		if (strcmp(argv[1], vse_commands[i].name) == 0)
			return vse_commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "vsockemu: unknown command '%s' (try vsockemu --help)\n",
	    argv[1]);
	return 2;
}

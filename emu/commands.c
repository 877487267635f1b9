/* commands.c - the table of vsockemu subcommands; each lives in its own file. */
#include "config.h"

#include "vsockemu.h"

const struct vse_command vse_commands[] = {
	{ "serve", "a Firecracker-compatible vsock endpoint with a simulated guest",
	    cmd_serve },
	{ "run", "an unmodified AF_VSOCK program as host or guest application",
	    cmd_run },
	{ "vhost-user", "the device for a real QEMU guest (vhost-user back-end)",
	    cmd_vhost_user },
	{ "ctl", "send one command to a --control socket, print the answer",
	    cmd_ctl },
	{ "selftest", "drive the built-in fake guest through the device's queues",
	    cmd_selftest },
	{ "dump", "print a vsockmon capture (pcap/pcapng), one packet a line",
	    cmd_dump },
	{ "replay", "verify the device against recorded vsockmon traces",
	    cmd_replay },
	{ "fuzz", "fuzz the device with hostile guests, rings and hosts",
	    cmd_fuzz },
	{ "help", "this help, or a command's: vsockemu help [COMMAND]",
	    cmd_help },
};

const size_t vse_ncommands = sizeof(vse_commands) / sizeof(vse_commands[0]);

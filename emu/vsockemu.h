/* vsockemu.h - the program's subcommand table and shared helpers. */
#ifndef VSOCKEMU_H
#define VSOCKEMU_H

#include <stddef.h>

struct vse_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);	/* argv[0] is the command name */
};

int cmd_selftest(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_vhost_user(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_fuzz(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_ctl(int argc, char **argv);

/* A library's log hook: "vsockemu CMD: msg" on stderr (ctx: CMD). */
void vse_log(void *ctx, const char *msg);

extern const struct vse_command vse_commands[];
extern const size_t vse_ncommands;

#endif

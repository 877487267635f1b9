/* control.h - the --control socket of serve and vhost-user: one command a line in, one JSON object a line out. */
#ifndef VSOCKEMU_CONTROL_H
#define VSOCKEMU_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"

/* Bounds on what a control client can make us hold. */
#define CONTROL_LINE_MAX	256	/* bytes of one command, newline included */
#define CONTROL_CLIENTS_MAX	8	/* clients at once; more are turned away */
#define CONTROL_ANSWER_MAX	1024	/* bytes of one answer */
#define CONTROL_OUT_MAX		4096	/* answers a client has not read yet */

enum control_op {
	CONTROL_RESET,		/* reset [cid=N] */
	CONTROL_REFUSE,		/* refuse PORT */
	CONTROL_ACCEPT,		/* accept PORT */
	CONTROL_DELAY,		/* delay PORT MS */
	CONTROL_RST,		/* rst PORT|all */
	CONTROL_PAUSE_RX,	/* pause-rx */
	CONTROL_RESUME_RX,	/* resume-rx */
	CONTROL_STATS,		/* stats */
};

/* One parsed command. */
struct control_cmd {
	enum control_op op;
	bool has_cid;		/* reset cid=N */
	uint64_t cid;
	bool all;		/* rst all */
	uint32_t port;
	uint64_t ms;		/* delay */
};

/*
 * Parses one command line (without its newline). Returns 0, or -1 with
 * *why a sentence for the error answer.
 */
int control_parse(const char *line, struct control_cmd *cmd, const char **why);

/* The command's name as typed ("pause-rx"). */
const char *control_op_name(enum control_op op);

/* An answer being built: fields after "ok" and "command", bounded. */
struct control_json {
	char buf[CONTROL_ANSWER_MAX - 64];
	size_t len;
	bool overflow;		/* a field did not fit: dropped */
};

/* Appends ,"key":v (key is ours: no escaping). */
void control_json_u64(struct control_json *j, const char *key, uint64_t v);
void control_json_bool(struct control_json *j, const char *key, bool v);
/* Appends ,"key":"s" with s escaped for JSON. */
void control_json_str(struct control_json *j, const char *key, const char *s);

/*
 * The program does cmd, appending what it has to say to out. Returns 0,
 * or -1 with *why a sentence for the error answer.
 */
typedef int (*control_apply_fn)(void *ctx, const struct control_cmd *cmd,
    struct control_json *out, const char **why);

/*
 * The one place each command's effect is reported: called after every
 * command with the answer sent (cmd is NULL for a line that did not
 * parse). An event log hooks in here.
 */
typedef void (*control_report_fn)(void *ctx, const struct control_cmd *cmd,
    const char *answer);

struct control;

/*
 * Listens on path (an AF_UNIX stream socket, created as uds_path_prepare
 * allows), its fds watched by loop; each command goes to apply. Returns
 * 0, or -1 with one line in err.
 */
int control_open(struct loop *loop, const char *path, control_apply_fn apply,
    void *ctx, struct control **out, char *err, size_t errlen);

/* Sets the report hook (NULL: none). */
void control_set_report(struct control *c, control_report_fn fn, void *ctx);

/* Clients connected now. */
unsigned control_nclients(const struct control *c);

/* Closes every client and the listener, and removes the socket file. */
void control_free(struct control *c);

#endif

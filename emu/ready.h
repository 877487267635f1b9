/* ready.h - telling a supervisor that every socket listens: --ready-fd, sd_notify's NOTIFY_SOCKET, --pidfile. */
#ifndef VSOCKEMU_READY_H
#define VSOCKEMU_READY_H

#include <stdbool.h>
#include <stddef.h>

/* The long options of readiness; put READY_LONG in a command's table. */
#define READY_OPT_FD		0x200
#define READY_OPT_PIDFILE	0x201
#define READY_LONG \
	{ "ready-fd", required_argument, NULL, READY_OPT_FD }, \
	{ "pidfile", required_argument, NULL, READY_OPT_PIDFILE }

/* What a command was asked to do when it is ready, and what it did. */
struct ready {
	const char *cmd;	/* "serve": messages say "vsockemu serve: " */
	int fd;			/* --ready-fd, or -1 */
	const char *pidfile;	/* --pidfile, or NULL */
	bool pidfile_written;	/* ours to remove at exit */
	bool notified;		/* NOTIFY_SOCKET got READY=1 */
	bool said;		/* ready_signal was called */
};

/* No readiness asked for yet; cmd names the command in messages. */
void ready_init(struct ready *r, const char *cmd);

/*
 * Takes option c (READY_OPT_*) with its argument: 0, or -1 with why set
 * to a reason for the usage message (a ready fd must be a number above
 * 2: stdin, stdout and stderr stay the command's).
 */
int ready_option(struct ready *r, int c, const char *arg, const char **why);

/*
 * Before any socket is made: the ready fd must be open (else a
 * supervisor would wait forever). Then writes the pidfile, atomically
 * (a temporary file in its directory, renamed), so that a reader never
 * sees a partial one. 0, or -1 with err set (the command exits 2).
 */
int ready_prepare(struct ready *r, char *err, size_t errlen);

/*
 * Every socket listens: writes "READY <what>\n" to the ready fd and
 * closes it; with NOTIFY_SOCKET set (a path, or @name for an abstract
 * one), sends "READY=1\nMAINPID=<pid>\nSTATUS=<status>\n" there as one
 * datagram, as sd_notify(3) does. Never blocks; a failure is a warning
 * on stderr, not fatal: the service runs anyway.
 */
void ready_signal(struct ready *r, const char *what, const char *status);

/* At exit: STOPPING=1 to NOTIFY_SOCKET if it got READY=1; removes the pidfile. */
void ready_finish(struct ready *r);

#endif

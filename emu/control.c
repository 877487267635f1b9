/* control.c - the --control socket: bounded, non-blocking clients, one command a line, one JSON answer a line. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "device.h"
#include "faults.h"
#include "options.h"
#include "uds-path.h"

/* One control client: its unfinished line and its unread answers. */
struct control_client {
	int fd;				/* -1: a free slot */
	char in[CONTROL_LINE_MAX];
	size_t inlen;
	bool discarding;		/* inside a line that was too long */
	bool eof;			/* it sends no more */
	char out[CONTROL_OUT_MAX];
	size_t outoff, outlen;
	unsigned watching;		/* VSOCK_EV_* asked of the loop */
};

struct control {
	struct loop *loop;
	int lfd;
	int spare;			/* a reserved fd, given up to turn a
					 * client away when out of fds */
	bool accept_paused;		/* out of fds and no spare: listener
					 * unwatched until a client leaves */
	char path[108];
	control_apply_fn apply;
	void *ctx;
	control_report_fn report;
	void *report_ctx;
	struct control_client cl[CONTROL_CLIENTS_MAX];
};

static const char *const op_names[] = {
	[CONTROL_RESET] = "reset",
	[CONTROL_REFUSE] = "refuse",
	[CONTROL_ACCEPT] = "accept",
	[CONTROL_DELAY] = "delay",
	[CONTROL_RST] = "rst",
	[CONTROL_PAUSE_RX] = "pause-rx",
	[CONTROL_RESUME_RX] = "resume-rx",
	[CONTROL_STATS] = "stats",
};
#define NOPS	(sizeof(op_names) / sizeof(op_names[0]))

const char *
control_op_name(enum control_op op)
{
	return (unsigned)op < NOPS ? op_names[op] : "?";
}

/* A guest port: 0 to 2^32 - 2 (2^32 - 1 is VMADDR_PORT_ANY). */
static int
parse_port(const char *s, uint32_t *port)
{
	uint64_t v;

	if (s == NULL || opt_u64(s, UINT32_MAX - 1, &v) < 0)
		return -1;
	*port = (uint32_t)v;
	return 0;
}

/* The arguments of op in arg[0..n). */
static int
parse_args(struct control_cmd *cmd, char **arg, int n, const char **why)
{
	switch (cmd->op) {
	case CONTROL_RESET:
		if (n == 0)
			return 0;
		*why = "want reset or reset cid=N (N a guest CID, 3 to "
		    "4294967294)";
		if (n != 1 || strncmp(arg[0], "cid=", 4) != 0 ||
		    opt_u64(arg[0] + 4, UINT64_MAX, &cmd->cid) < 0 ||
		    !vsock_cid_valid(cmd->cid))
			return -1;
		cmd->has_cid = true;
		return 0;
	case CONTROL_REFUSE:
	case CONTROL_ACCEPT:
		*why = "want a port, 0 to 4294967294";
		return n == 1 ? parse_port(arg[0], &cmd->port) : -1;
	case CONTROL_DELAY:
		*why = "want delay PORT MS (MS 0 to 3600000)";
		return n == 2 && parse_port(arg[0], &cmd->port) == 0 &&
		    opt_u64(arg[1], FG_FAULT_DELAY_MAX_MS, &cmd->ms) == 0 ?
		    0 : -1;
	case CONTROL_RST:
		*why = "want rst PORT or rst all";
		if (n == 1 && strcmp(arg[0], "all") == 0) {
			cmd->all = true;
			return 0;
		}
		return n == 1 ? parse_port(arg[0], &cmd->port) : -1;
	case CONTROL_PAUSE_RX:
	case CONTROL_RESUME_RX:
	case CONTROL_STATS:
		*why = "takes no argument";
		return n == 0 ? 0 : -1;
	}
	return -1;
}

int
control_parse(const char *line, struct control_cmd *cmd, const char **why)
{
	char copy[CONTROL_LINE_MAX + 1], *tok[4], *save = NULL, *t;
	int n = 0;
	unsigned op;

	memset(cmd, 0, sizeof(*cmd));
	*why = "line too long";
	if (strlen(line) > CONTROL_LINE_MAX)
		return -1;
	strcpy(copy, line);
	for (t = strtok_r(copy, " \t\r", &save); t != NULL;
	    t = strtok_r(NULL, " \t\r", &save)) {
		*why = "too many arguments";
		if (n == (int)(sizeof(tok) / sizeof(tok[0])))
			return -1;
		tok[n++] = t;
	}
	*why = "empty line";
	if (n == 0)
		return -1;
	for (op = 0; op < NOPS; op++)
		if (strcmp(tok[0], op_names[op]) == 0)
			break;
	*why = "unknown command (reset, refuse, accept, delay, rst, "
	    "pause-rx, resume-rx, stats)";
	if (op == NOPS)
		return -1;
	cmd->op = (enum control_op)op;
	return parse_args(cmd, tok + 1, n - 1, why);
}

/* Appends printf-style text, or marks the answer overflowed. */
static void
json_add(struct control_json *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
json_add(struct control_json *j, const char *fmt, ...)
{
	size_t room = sizeof(j->buf) - j->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(j->buf + j->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		j->buf[j->len] = '\0';	/* drop the field that did not fit */
		j->overflow = true;
		return;
	}
	j->len += (size_t)n;
}

void
control_json_u64(struct control_json *j, const char *key, uint64_t v)
{
	json_add(j, ",\"%s\":%llu", key, (unsigned long long)v);
}

void
control_json_bool(struct control_json *j, const char *key, bool v)
{
	json_add(j, ",\"%s\":%s", key, v ? "true" : "false");
}

void
control_json_str(struct control_json *j, const char *key, const char *s)
{
	char esc[CONTROL_ANSWER_MAX / 2];
	size_t k = 0;

	for (; *s != '\0' && k + 7 < sizeof(esc); s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			esc[k++] = '\\';
			esc[k++] = (char)ch;
		} else if (ch < 0x20 || ch >= 0x7f) {
			/* Bytes of a client's line, never echoed raw. */
			k += (size_t)snprintf(esc + k, sizeof(esc) - k,
			    "\\u%04x", ch);
		} else {
			esc[k++] = (char)ch;
		}
	}
	esc[k] = '\0';
	json_add(j, ",\"%s\":\"%s\"", key, esc);
}

static void on_fd(void *ctx, int fd, unsigned events, uint64_t now);

/* Watches c's fd for what can make progress now. */
static void
client_watch(struct control *ctl, struct control_client *c)
{
	unsigned ev = 0;

	if (!c->eof && sizeof(c->out) - c->outlen >= CONTROL_ANSWER_MAX)
		ev |= VSOCK_EV_READ;
	if (c->outlen > 0)
		ev |= VSOCK_EV_WRITE;
	if (ev != c->watching) {
		loop_watch(ctl->loop, c->fd, ev, on_fd, ctl);
		c->watching = ev;
	}
}

/* Closes client c; a listener paused for want of fds resumes. */
static void on_listen(void *ctx, int fd, unsigned events, uint64_t now);

static void
client_close(struct control *ctl, struct control_client *c)
{
	loop_watch(ctl->loop, c->fd, 0, NULL, NULL);
	close(c->fd);
	c->fd = -1;
	if (ctl->accept_paused) {
		ctl->accept_paused = false;
		loop_watch(ctl->loop, ctl->lfd, VSOCK_EV_READ, on_listen, ctl);
	}
}

/* Sends what c has not taken yet; false when c is gone. */
static bool
client_flush(struct control_client *c)
{
	ssize_t n;

	while (c->outlen > 0) {
		n = send(c->fd, c->out + c->outoff, c->outlen,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		c->outoff += (size_t)n;
		c->outlen -= (size_t)n;
	}
	c->outoff = 0;
	return true;
}

/* Queues one answer line for c (the caller made sure it fits). */
static void
client_answer(struct control *ctl, struct control_client *c,
    const struct control_cmd *cmd, const char *line)
{
	size_t n = strlen(line);

	if (c->outoff > 0) {
		memmove(c->out, c->out + c->outoff, c->outlen);
		c->outoff = 0;
	}
	memcpy(c->out + c->outlen, line, n);
	c->outlen += n;
	if (ctl->report != NULL)
		ctl->report(ctl->report_ctx, cmd, line);
}

/* Answers a line that is not a command. */
static void
client_bad_line(struct control *ctl, struct control_client *c,
    const char *why)
{
	char line[CONTROL_ANSWER_MAX];
	struct control_json e = { .len = 0 };

	control_json_str(&e, "error", why);
	snprintf(line, sizeof(line), "{\"ok\":false%s}\n", e.buf);
	client_answer(ctl, c, NULL, line);
}

/* Runs one command line and answers it. */
static void
client_command(struct control *ctl, struct control_client *c,
    const char *text)
{
	char line[CONTROL_ANSWER_MAX];
	struct control_json j = { .len = 0 };
	struct control_cmd cmd;
	const char *why = NULL;
	struct control_json e = { .len = 0 };

	j.buf[0] = '\0';
	if (control_parse(text, &cmd, &why) < 0) {
		client_bad_line(ctl, c, why);
		return;
	}
	if (ctl->apply(ctl->ctx, &cmd, &j, &why) < 0) {
		control_json_str(&e, "error", why ? why : "failed");
		snprintf(line, sizeof(line), "{\"ok\":false,\"command\":\"%s\""
		    "%s}\n", control_op_name(cmd.op), e.buf);
	} else {
		snprintf(line, sizeof(line), "{\"ok\":true,\"command\":\"%s\""
		    "%s}\n", control_op_name(cmd.op), j.buf);
	}
	client_answer(ctl, c, &cmd, line);
}

/*
 * Runs the complete lines c sent while it has room for their answers: a
 * client that never reads stops being read, so it can hold us to
 * CONTROL_OUT_MAX bytes and never block the loop. A line longer than
 * CONTROL_LINE_MAX is answered with an error and skipped to its newline.
 */
static void
client_lines(struct control *ctl, struct control_client *c)
{
	char line[CONTROL_LINE_MAX + 1];
	char *nl;
	size_t k;

	while (sizeof(c->out) - c->outlen >= CONTROL_ANSWER_MAX) {
		nl = memchr(c->in, '\n', c->inlen);
		if (nl == NULL && c->inlen == sizeof(c->in)) {
			if (!c->discarding)
				client_bad_line(ctl, c, "line too long");
			c->discarding = true;
			c->inlen = 0;
			continue;
		}
		if (nl == NULL && !(c->eof && c->inlen > 0))
			return;
		k = nl != NULL ? (size_t)(nl - c->in) : c->inlen;
		memcpy(line, c->in, k);
		line[k] = '\0';
		c->inlen -= nl != NULL ? k + 1 : k;
		memmove(c->in, c->in + (nl != NULL ? k + 1 : k), c->inlen);
		if (c->discarding)
			c->discarding = false;
		else if (memchr(line, '\0', k) != NULL)
			client_bad_line(ctl, c, "NUL byte in the line");
		else
			client_command(ctl, c, line);
	}
}

/* A client's fd is ready: read, run, answer. */
static void
on_client(struct control *ctl, struct control_client *c)
{
	ssize_t n;

	if (!c->eof && sizeof(c->out) - c->outlen >= CONTROL_ANSWER_MAX) {
		n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen,
		    MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			c->eof = true;
		else if (n > 0)
			c->inlen += (size_t)n;
	}
	client_lines(ctl, c);
	if (!client_flush(c) || (c->eof && c->outlen == 0)) {
		client_close(ctl, c);
		return;
	}
	client_watch(ctl, c);
}

/* The loop calls this for every control fd. */
static void
on_fd(void *ctx, int fd, unsigned events, uint64_t now)
{
	struct control *ctl = ctx;
	unsigned i;

	(void)events;
	(void)now;
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if (ctl->cl[i].fd == fd) {
			on_client(ctl, &ctl->cl[i]);
			return;
		}
}

/* Takes a new client, or turns it away with an error answer when full. */
static void
take_client(struct control *ctl, int fd)
{
	static const char full[] = "{\"ok\":false,\"error\":\"too many "
	    "control clients\"}\n";
	struct control_client *c = NULL;
	unsigned i;

	for (i = 0; i < CONTROL_CLIENTS_MAX && c == NULL; i++)
		if (ctl->cl[i].fd < 0)
			c = &ctl->cl[i];
	if (c == NULL) {
		(void)!send(fd, full, sizeof(full) - 1,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->watching = VSOCK_EV_READ;
	loop_watch(ctl->loop, fd, VSOCK_EV_READ, on_fd, ctl);
}

/*
 * Out of fds: the reserved fd is given up to accept the client and tell it
 * so, then taken back (the listen backlog drains instead of staying
 * readable for ever: level-triggered epoll would spin on it). Returns
 * false when there is no spare to give.
 */
static bool
turn_away(struct control *ctl)
{
	static const char nofds[] = "{\"ok\":false,\"error\":\"out of file "
	    "descriptors\"}\n";
	int c;

	if (ctl->spare < 0)
		return false;
	close(ctl->spare);
	c = accept4(ctl->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c >= 0) {
		(void)!send(c, nofds, sizeof(nofds) - 1,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		close(c);
	}
	ctl->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return c >= 0;
}

/*
 * New clients. Out of fds with no spare left, the listener is unwatched
 * until a client leaves.
 */
static void
on_listen(void *ctx, int fd, unsigned events, uint64_t now)
{
	struct control *ctl = ctx;
	int c;

	(void)events;
	(void)now;
	for (;;) {
		c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c >= 0) {
			take_client(ctl, c);
			continue;
		}
		if ((errno == EMFILE || errno == ENFILE) && turn_away(ctl))
			continue;
		break;
	}
	if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED &&
	    control_nclients(ctl) > 0) {
		loop_watch(ctl->loop, fd, 0, NULL, NULL);
		ctl->accept_paused = true;
	}
}

int
control_open(struct loop *loop, const char *path, control_apply_fn apply,
    void *ctx, struct control **out, char *err, size_t errlen)
{
	struct control *ctl;
	char why[320];
	unsigned i;

	*out = NULL;
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL) {
		snprintf(err, errlen, "--control: out of memory");
		return -1;
	}
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		ctl->cl[i].fd = -1;
	ctl->loop = loop;
	ctl->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ctl->apply = apply;
	ctl->ctx = ctx;
	ctl->lfd = uds_listen(path, SOCK_STREAM, CONTROL_CLIENTS_MAX, why,
	    sizeof(why));
	if (ctl->lfd < 0 || loop_watch(loop, ctl->lfd, VSOCK_EV_READ,
	    on_listen, ctl) < 0) {
		if (ctl->lfd >= 0) {
			snprintf(why, sizeof(why), "cannot watch %s", path);
			close(ctl->lfd);
			unlink(path);
		}
		snprintf(err, errlen, "--control: %s", why);
		if (ctl->spare >= 0)
			close(ctl->spare);
		free(ctl);
		return -1;
	}
	strcpy(ctl->path, path);
	*out = ctl;
	return 0;
}

void
control_set_report(struct control *c, control_report_fn fn, void *ctx)
{
	c->report = fn;
	c->report_ctx = ctx;
}

unsigned
control_nclients(const struct control *c)
{
	unsigned i, n = 0;

	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if (c->cl[i].fd >= 0)
			n++;
	return n;
}

void
control_free(struct control *c)
{
	unsigned i;

	if (c == NULL)
		return;
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if (c->cl[i].fd >= 0) {
			loop_watch(c->loop, c->cl[i].fd, 0, NULL, NULL);
			close(c->cl[i].fd);
		}
	loop_watch(c->loop, c->lfd, 0, NULL, NULL);
	close(c->lfd);
	if (c->spare >= 0)
		close(c->spare);
	unlink(c->path);
	free(c);
}

/* replay-script.c - host scripts: what the host application does, port by port. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "replay-int.h"

/* Parses a port number: digits only, below 2^32. */
static int
parse_port(const char *s, uint32_t *port)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return -1;
	*port = (uint32_t)v;
	return 0;
}

/* Parses a mode word. */
static int
parse_mode(const char *s, enum replay_port_mode *m)
{
	if (strcmp(s, "accept") == 0)
		*m = REPLAY_PORT_ACCEPT;
	else if (strcmp(s, "refuse") == 0)
		*m = REPLAY_PORT_REFUSE;
	else if (strcmp(s, "echo") == 0)
		*m = REPLAY_PORT_ECHO;
	else if (strcmp(s, "infer") == 0)
		*m = REPLAY_PORT_INFER;
	else
		return -1;
	return 0;
}

/* One line: blank, comment, or "PORT MODE". */
static int
parse_line(struct replay_script *s, char *line, unsigned lineno, char *msg,
    size_t msglen)
{
	char *words[3], *save = NULL, *w, *hash;
	enum replay_port_mode mode;
	uint32_t port;
	unsigned n = 0;

	if ((hash = strchr(line, '#')) != NULL)
		*hash = '\0';
	for (w = strtok_r(line, " \t\r", &save); w != NULL && n < 3;
	    w = strtok_r(NULL, " \t\r", &save))
		words[n++] = w;
	if (n == 0)
		return 0;
	if (n != 2 || parse_port(words[0], &port) < 0 ||
	    parse_mode(words[1], &mode) < 0) {
		snprintf(msg, msglen, "line %u: expected \"PORT MODE\" with "
		    "MODE accept, refuse, echo or infer", lineno);
		return -VSE_ERR_INVAL;
	}
	if (s->n == SCRIPT_MAX_LISTENERS) {
		snprintf(msg, msglen, "line %u: more than %d ports", lineno,
		    SCRIPT_MAX_LISTENERS);
		return -VSE_ERR_INVAL;
	}
	s->port[s->n].port = port;
	s->port[s->n].mode = mode;
	s->n++;
	return 0;
}

int
replay_script_parse(const char *text, struct replay_script **out, char *msg,
    size_t msglen)
{
	struct replay_script *s = calloc(1, sizeof(*s));
	char *copy = strdup(text), *line, *next;
	unsigned lineno = 1;
	int e = 0;

	*out = NULL;
	if (s == NULL || copy == NULL) {
		free(s);
		free(copy);
		return -VSE_ERR_NOMEM;
	}
	for (line = copy; line != NULL && e == 0; line = next, lineno++) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		e = parse_line(s, line, lineno, msg, msglen);
	}
	free(copy);
	if (e < 0) {
		free(s);
		return e;
	}
	*out = s;
	return 0;
}

enum replay_port_mode
replay_script_mode(const struct replay_script *s, uint32_t port)
{
	unsigned i;

	/* The last line for a port wins. */
	for (i = s->n; i > 0; i--)
		if (s->port[i - 1].port == port)
			return s->port[i - 1].mode;
	return REPLAY_PORT_INFER;
}

void
replay_script_free(struct replay_script *s)
{
	free(s);
}

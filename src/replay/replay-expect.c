/* replay-expect.c - expected verdicts (--expect): a MANIFEST-format file, per trace and mode. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "replay.h"

/* One line of the manifest. */
struct expect_entry {
	struct replay_expectation x;
	enum replay_mode mode;
	char *trace;			/* as written */
	bool found;			/* the file exists: dev, ino are its */
	dev_t dev;
	ino_t ino;
};

struct replay_expect {
	struct expect_entry *v;
	size_t n, cap;
};

/* A whole word of digits, 1 to 2^63. */
static int
parse_frame(const char *s, uint64_t *frame)
{
	unsigned long long v;
	char *end;

	if (*s < '1' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > INT64_MAX)
		return -1;
	*frame = v;
	return 0;
}

/* MODE and VERDICT words. */
static int
parse_words(const char *mode, const char *verdict, struct expect_entry *e)
{
	if (strcmp(mode, "semantic") == 0)
		e->mode = REPLAY_SEMANTIC;
	else if (strcmp(mode, "strict") == 0)
		e->mode = REPLAY_STRICT;
	else
		return -1;
	if (strcmp(verdict, "pass") == 0)
		e->x.verdict = REPLAY_PASS;
	else if (strcmp(verdict, "diverged") == 0)
		e->x.verdict = REPLAY_DIVERGED;
	else if (strcmp(verdict, "unusable") == 0)
		e->x.verdict = REPLAY_UNUSABLE;
	else
		return -1;
	return 0;
}

/* Where the trace lies: relative to the manifest's directory. */
static void
entry_locate(struct expect_entry *e, const char *dir)
{
	struct stat st;
	char *path;

	if (e->trace[0] == '/' || dir == NULL || *dir == '\0')
		path = strdup(e->trace);
	else if (asprintf(&path, "%s/%s", dir, e->trace) < 0)
		path = NULL;
	if (path != NULL && stat(path, &st) == 0) {
		e->found = true;
		e->dev = st.st_dev;
		e->ino = st.st_ino;
	}
	free(path);
}

/* Appends an entry (a later line for the same trace and mode wins). */
static int
expect_add(struct replay_expect *ex, const struct expect_entry *e)
{
	struct expect_entry *v;
	size_t cap;

	if (ex->n == ex->cap) {
		cap = ex->cap ? 2 * ex->cap : 64;
		if ((v = realloc(ex->v, cap * sizeof(*v))) == NULL)
			return -VSE_ERR_NOMEM;
		ex->v = v;
		ex->cap = cap;
	}
	ex->v[ex->n++] = *e;
	return 0;
}

/* One line: blank, comment, or "TRACE MODE VERDICT [FRAME]". */
static int
parse_line(struct replay_expect *ex, char *line, unsigned lineno,
    const char *dir, char *msg, size_t msglen)
{
	char *w[5], *save = NULL, *word, *hash;
	struct expect_entry e;
	unsigned n = 0;
	int err;

	if ((hash = strchr(line, '#')) != NULL)
		*hash = '\0';
	for (word = strtok_r(line, " \t\r", &save); word != NULL && n < 5;
	    word = strtok_r(NULL, " \t\r", &save))
		w[n++] = word;
	if (n == 0)
		return 0;
	memset(&e, 0, sizeof(e));
	e.x.line = lineno;
	if (n < 3 || n > 4 || parse_words(w[1], w[2], &e) < 0 ||
	    (n == 4 && (e.x.verdict != REPLAY_DIVERGED ||
	    parse_frame(w[3], &e.x.frame) < 0))) {
		snprintf(msg, msglen, "line %u: expected \"TRACE MODE VERDICT "
		    "[FRAME]\": MODE semantic or strict, VERDICT pass, "
		    "diverged or unusable, FRAME (a frame number) only after "
		    "diverged", lineno);
		return -VSE_ERR_INVAL;
	}
	if ((e.trace = strdup(w[0])) == NULL)
		return -VSE_ERR_NOMEM;
	entry_locate(&e, dir);
	if ((err = expect_add(ex, &e)) < 0)
		free(e.trace);
	return err;
}

int
replay_expect_parse(const char *text, const char *dir,
    struct replay_expect **out, char *msg, size_t msglen)
{
	struct replay_expect *ex = calloc(1, sizeof(*ex));
	char *copy = strdup(text), *line, *next;
	unsigned lineno = 1;
	int e = 0;

	*out = NULL;
	if (ex == NULL || copy == NULL) {
		free(ex);
		free(copy);
		return -VSE_ERR_NOMEM;
	}
	for (line = copy; line != NULL && e == 0; line = next, lineno++) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		e = parse_line(ex, line, lineno, dir, msg, msglen);
	}
	free(copy);
	if (e < 0) {
		replay_expect_free(ex);
		return e;
	}
	*out = ex;
	return 0;
}

const struct replay_expectation *
replay_expect_find(const struct replay_expect *ex, const char *path,
    enum replay_mode mode)
{
	struct stat st;
	size_t i;

	/* Standard input has no name in a manifest; stat never reads. */
	if (strcmp(path, "-") == 0 || stat(path, &st) != 0)
		return NULL;
	for (i = ex->n; i > 0; i--)
		if (ex->v[i - 1].found && ex->v[i - 1].mode == mode &&
		    ex->v[i - 1].dev == st.st_dev &&
		    ex->v[i - 1].ino == st.st_ino)
			return &ex->v[i - 1].x;
	return NULL;
}

bool
replay_expect_met(const struct replay_expectation *x,
    const struct replay_result *res)
{
	if (res->verdict != x->verdict)
		return false;
	return x->verdict != REPLAY_DIVERGED || x->frame == 0 ||
	    res->div.frame == x->frame;
}

void
replay_expect_free(struct replay_expect *ex)
{
	size_t i;

	if (ex == NULL)
		return;
	for (i = 0; i < ex->n; i++)
		free(ex->v[i].trace);
	free(ex->v);
	free(ex);
}

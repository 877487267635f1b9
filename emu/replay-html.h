/* replay-html.h - `replay --html`: each replayed trace drawn as ladders, its verdict on top and its divergence marked. */
#ifndef VSOCKEMU_REPLAY_HTML_H
#define VSOCKEMU_REPLAY_HTML_H

#include "ladder-html.h"
#include "replay.h"

/*
 * Draws the trace at path (read again: it must be a regular file) onto p
 * with res's verdict (NULL: the trace was skipped), the diverging frame
 * marked with the expected and actual values beside it. 0, or -1 with a
 * message in err (the section then says why it has no ladder).
 */
int replay_html_add(struct ladder_page *p, const char *path,
    const struct replay_result *res, char *err, size_t errlen);

#endif

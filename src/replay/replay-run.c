/* replay-run.c - replay a capture file through the raw guest driver. */
#include "config.h"

#include "rawguest.h"
#include "replay-run.h"

enum replay_verdict
replay_run_file(const char *path, const struct replay_options *o,
    struct replay_result *res)
{
	struct rawguest g;

	return replay_file(path, o, &rawguest_replay_ops, &g, res);
}

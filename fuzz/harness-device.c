/* harness-device.c - fuzz the whole device: bytes are an action stream (fuzz.h); any finding aborts. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "harness.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_result res;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (fuzz_exec(data, size, NULL, &res) < 0)
		return 0;	/* no memory for the rig: not the device's fault */
	if (res.finding != FUZZ_OK) {
		/* A harness is a program: it may say why before aborting. */
		fprintf(stderr, "finding %s at action %zu: %s\n",
		    fuzz_finding_name(res.finding), res.action, res.what);
		abort();
	}
	return 0;
}

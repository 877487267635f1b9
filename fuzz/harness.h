/* harness.h - the libFuzzer entry point every fuzz/harness-*.c defines. */
#ifndef VSE_FUZZ_HARNESS_H
#define VSE_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* Runs one input; a violated property aborts (a finding). Returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif

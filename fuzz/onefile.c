/* onefile.c - runs a fuzz harness over corpus files and directories without libFuzzer (libpcap's onefile idea). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "harness.h"

#define ONEFILE_MAX	(1024 * 1024)

/* Runs the harness on one file; 0, or -1 when it cannot be read. */
static int
run_file(const char *path)
{
	static uint8_t buf[ONEFILE_MAX];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	/* A copy of exactly n bytes, so ASan sees any read past the input. */
	{
		uint8_t *copy = malloc(n ? n : 1);

		if (copy == NULL)
			return -1;
		memcpy(copy, buf, n);
		LLVMFuzzerTestOneInput(copy, n);
		free(copy);
	}
	return 0;
}

/* Runs every regular file of dir in name order; returns files run or -1. */
static int
run_dir(const char *dir)
{
	char **paths;
	size_t n, i;
	int ran = 0;

	if (fuzz_corpus_files(dir, &paths, &n) < 0) {
		perror(dir);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (run_file(paths[i]) < 0)
			ran = -1;
		else if (ran >= 0)
			ran++;
	}
	fuzz_corpus_files_free(paths, n);
	return ran;
}

int
main(int argc, char **argv)
{
	struct stat st;
	int i, n, total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			n = run_dir(argv[i]);
		else
			n = run_file(argv[i]) < 0 ? -1 : 1;
		if (n < 0)
			return 2;
		total += n;
	}
	printf("%s: %d inputs, no finding\n", argv[0], total);
	return 0;
}

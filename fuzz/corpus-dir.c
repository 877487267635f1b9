/* corpus-dir.c - the files of a corpus directory, in name order, for the fuzzer and the corpus runner alike. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* qsort order of two names. */
static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends dir/name to *paths when it is a regular file. */
static void
add_if_file(char ***paths, size_t *n, const char *dir, const char *name)
{
	char path[4096], **q;
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path) || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	if ((q = realloc(*paths, (*n + 1) * sizeof(*q))) == NULL)
		return;
	*paths = q;
	if ((q[*n] = strdup(path)) != NULL)
		(*n)++;
}

int
fuzz_corpus_files(const char *dir, char ***paths, size_t *n)
{
	char **names = NULL, **q;
	struct dirent *de;
	size_t nn = 0, i;
	DIR *d;

	*paths = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    (q = realloc(names, (nn + 1) * sizeof(*q))) == NULL)
			continue;
		names = q;
		if ((names[nn] = strdup(de->d_name)) != NULL)
			nn++;
	}
	closedir(d);
	if (nn > 0)
		qsort(names, nn, sizeof(*names), cmp_names);
	for (i = 0; i < nn; i++) {
		add_if_file(paths, n, dir, names[i]);
		free(names[i]);
	}
	free(names);
	return 0;
}

void
fuzz_corpus_files_free(char **paths, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

/* flight.c - the flight recorder: the last packets a test's device tapped, in a file that outlives the test. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "flight-int.h"

struct flight {
	struct flight_file *ff;
	char path[512];
};

long flight_runner;

/* $VSE_FLIGHT_DIR, else ".". */
const char *
flight_dir(void)
{
	const char *d = getenv("VSE_FLIGHT_DIR");

	return d != NULL && *d != '\0' ? d : ".";
}

struct flight *
flight_open_in(const char *dir, long runner, const char *test)
{
	struct flight *f = calloc(1, sizeof(*f));
	void *p;
	int fd;

	if (f == NULL)
		return NULL;
	snprintf(f->path, sizeof(f->path), "%s/flight-%ld-%s-%ld.ring", dir,
	    runner, test, (long)getpid());
	fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	/* Sparse: only the slots written take space. */
	if (fd < 0 || ftruncate(fd, sizeof(struct flight_file)) < 0 ||
	    (p = mmap(NULL, sizeof(struct flight_file), PROT_READ |
	    PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		if (fd >= 0) {
			close(fd);
			unlink(f->path);
		}
		free(f);
		return NULL;	/* recording is a help, never a failure */
	}
	close(fd);
	f->ff = p;
	memcpy(f->ff->magic, FLIGHT_MAGIC, sizeof(f->ff->magic));
	return f;
}

struct flight *
flight_open(void)
{
	const char *name;

	/* Outside run_suite (make bench) there is no test to explain. */
	if (flight_runner == 0)
		return NULL;
	name = tcase_name();
	return flight_open_in(flight_dir(), flight_runner,
	    name != NULL ? name : "test");
}

void
flight_tap(void *ctx, const struct vsock_tap_record *rec)
{
	struct flight *f = ctx;
	struct flight_slot *s;
	uint64_t seq;

	if (f == NULL)
		return;
	seq = f->ff->next_seq + 1;
	s = &f->ff->slot[(seq - 1) % FLIGHT_SLOTS];
	s->now = rec->now;
	s->dir = rec->dir;
	s->dropped = rec->dropped;
	s->payload_len = rec->payload_len < sizeof(s->payload) ?
	    rec->payload_len : (uint32_t)sizeof(s->payload);
	memcpy(s->raw, rec->raw, sizeof(s->raw));
	if (s->payload_len > 0)
		memcpy(s->payload, rec->payload, s->payload_len);
	s->seq = seq;
	f->ff->next_seq = seq;
}

void
flight_close(struct flight *f)
{
	if (f == NULL)
		return;
	munmap(f->ff, sizeof(struct flight_file));
	unlink(f->path);
	free(f);
}

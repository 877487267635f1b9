/* flight.c - a failing test leaves a pcap of the last packets that crossed its device. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flight.h"
#include "pcap-writer.h"
#include "pkt.h"

#define FLIGHT_MAGIC	"vseflt1"	/* 8 bytes with its NUL */

/* One tapped packet, whole (a device never carries more than 64 KiB). */
struct flight_slot {
	uint64_t seq;			/* 0: never written */
	uint64_t now;
	uint32_t dir, dropped, payload_len;
	uint8_t raw[VSOCK_HDR_SIZE];
	uint8_t payload[VIRTIO_VSOCK_MAX_PKT_BUF_SIZE];
};

/* The ring file, mapped shared: it outlives the child that writes it. */
struct flight_file {
	char magic[8];
	uint64_t next_seq;		/* packets recorded so far */
	struct flight_slot slot[FLIGHT_SLOTS];
};

struct flight {
	struct flight_file *ff;
	char path[512];
};

long flight_runner;

static const char *
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

/* Writes ring ff, oldest packet first, as a pcap at out; packets written. */
static uint64_t
ring_to_pcap(const struct flight_file *ff, const char *out)
{
	struct vsock_pcap_writer *w;
	struct vsock_tap_record rec;
	const struct flight_slot *s;
	uint64_t seq, n = 0;
	char msg[256];

	if (vsock_pcap_writer_open(out, &w, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "flight recorder: %s\n", msg);
		return 0;
	}
	seq = ff->next_seq > FLIGHT_SLOTS ? ff->next_seq - FLIGHT_SLOTS + 1 : 1;
	for (; seq <= ff->next_seq; seq++) {
		s = &ff->slot[(seq - 1) % FLIGHT_SLOTS];
		if (s->seq != seq)
			continue;	/* the child died mid-write */
		memset(&rec, 0, sizeof(rec));
		rec.dir = (enum vsock_tap_dir)s->dir;
		rec.dropped = s->dropped != 0;
		rec.now = s->now;
		memcpy(rec.raw, s->raw, sizeof(rec.raw));
		vsock_hdr_decode(rec.raw, &rec.hdr);
		rec.payload = s->payload;
		rec.payload_len = s->payload_len;
		if (vsock_pcap_writer_write(w, &rec) == 0)
			n++;
	}
	vsock_pcap_writer_close(w);
	return n;
}

/* Converts one ring file (name in dir, "<test>-<pid>" after prefix). */
static int
collect_one(const char *dir, const char *name, size_t prefix_len)
{
	char ring[768], out[768];
	const struct flight_file *ff;
	struct stat st;
	uint64_t n;
	int fd;

	snprintf(ring, sizeof(ring), "%s/%s", dir, name);
	snprintf(out, sizeof(out), "%s/%.*s.pcap", dir,
	    (int)(strlen(name) - prefix_len - strlen(".ring")),
	    name + prefix_len);
	fd = open(ring, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || st.st_size != sizeof(*ff) ||
	    (ff = mmap(NULL, sizeof(*ff), PROT_READ, MAP_SHARED, fd, 0)) ==
	    MAP_FAILED) {
		close(fd);
		return 0;
	}
	close(fd);
	n = memcmp(ff->magic, FLIGHT_MAGIC, sizeof(ff->magic)) == 0 ?
	    ring_to_pcap(ff, out) : 0;
	munmap((void *)ff, sizeof(*ff));
	unlink(ring);
	if (n == 0)
		return 0;
	fprintf(stderr, "flight recorder: the last %" PRIu64 " packets of a "
	    "test that did not finish: %s\n", n, out);
	return 1;
}

int
flight_collect(const char *dir, long runner)
{
	char prefix[64];
	struct dirent *de;
	size_t plen, len;
	DIR *d;
	int n = 0;

	if (dir == NULL)
		dir = flight_dir();
	snprintf(prefix, sizeof(prefix), "flight-%ld-", runner);
	plen = strlen(prefix);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len > plen + 5 && strncmp(de->d_name, prefix, plen) == 0 &&
		    strcmp(de->d_name + len - 5, ".ring") == 0)
			n += collect_one(dir, de->d_name, plen);
	}
	closedir(d);
	return n;
}

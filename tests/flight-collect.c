/* flight-collect.c - turns the rings that failed tests left into pcaps (trace layer: links libpcap). */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flight-int.h"
#include "pcap-writer.h"

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

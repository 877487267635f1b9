/* cpu-spare.c - whether a CPU is to spare now: runnable tasks (/proc/loadavg) against the CPUs online, the question KVM's halt polling asks before each turn. */
#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include "cpu-spare.h"

void
cpu_spare_open(struct cpu_spare *c, const char *loadavg)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	c->cpus = n > 0 ? (unsigned long)n : 1;
	c->fd = open(loadavg != NULL ? loadavg : "/proc/loadavg",
	    O_RDONLY | O_CLOEXEC);
}

void
cpu_spare_close(struct cpu_spare *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Skips one field and the spaces after it; NULL past the end. */
static const char *
skip_field(const char *p, const char *end)
{
	while (p < end && *p != ' ')
		p++;
	while (p < end && *p == ' ')
		p++;
	return p < end ? p : NULL;
}

int
cpu_spare_parse(const char *buf, size_t len, unsigned long *running)
{
	const char *p = buf, *end = buf + len;
	unsigned long n = 0;
	int i, digits = 0;

	for (i = 0; i < 3 && p != NULL; i++)
		p = skip_field(p, end);
	if (p == NULL)
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
		if (n > (unsigned long)-1 / 10 - 1)
			return -1;
		n = n * 10 + (unsigned long)(*p - '0');
	}
	if (digits == 0 || p == end || *p != '/')
		return -1;
	*running = n;
	return 0;
}

bool
cpu_spare_now(struct cpu_spare *c)
{
	char buf[128];
	unsigned long running;
	ssize_t n;

	if (c->fd < 0 || (n = pread(c->fd, buf, sizeof(buf), 0)) <= 0)
		return false;
	if (cpu_spare_parse(buf, (size_t)n, &running) < 0)
		return false;
	return running <= c->cpus;
}

/* mem.c - guest RAM for the fake guest, with guard pages between regions. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "mem.h"

static size_t
page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (size_t)ps : 4096;
}

static uint64_t
round_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

/* Maps one region at addr inside the reservation. */
static int
map_region(struct fg_mem_region *r, uint8_t *addr, unsigned flags)
{
	void *p;

	r->fd = -1;
	if (flags & FG_MEM_MEMFD) {
		r->fd = memfd_create("vsockemu-guest-ram", MFD_CLOEXEC);
		if (r->fd < 0 || ftruncate(r->fd, (off_t)r->size) < 0)
			return -VSE_ERR_NOMEM;
		p = mmap(addr, r->size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_FIXED | MAP_NORESERVE, r->fd, 0);
	} else {
		p = mmap(addr, r->size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		    -1, 0);
	}
	if (p == MAP_FAILED)
		return -VSE_ERR_NOMEM;
	r->hva = p;
	return 0;
}

int
fg_mem_init(struct fg_mem *m, const struct fg_mem_spec *spec, unsigned n,
    unsigned flags)
{
	size_t ps = page_size(), total = ps;
	uint8_t *at;
	unsigned i;
	int e;

	memset(m, 0, sizeof(*m));
	guestmem_init(&m->gm);
	if (n == 0 || n > GUESTMEM_MAX_REGIONS)
		return -VSE_ERR_INVAL;
	for (i = 0; i < n; i++)
		total += round_up(spec[i].size, ps) + ps;
	m->reservation = mmap(NULL, total, PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->reservation == MAP_FAILED) {
		m->reservation = NULL;
		return -VSE_ERR_NOMEM;
	}
	m->reservation_len = total;
	at = m->reservation + ps;
	for (i = 0; i < n; i++) {
		struct fg_mem_region *r = &m->region[i];

		r->gpa = spec[i].gpa;
		r->size = round_up(spec[i].size, ps);
		m->nregions++;
		if ((e = map_region(r, at, flags)) < 0 ||
		    (e = guestmem_add_region(&m->gm, r->gpa, r->size,
		    r->hva)) < 0) {
			fg_mem_destroy(m);
			return e;
		}
		at += r->size + ps;
	}
	return 0;
}

int
fg_mem_init_simple(struct fg_mem *m, uint64_t size)
{
	struct fg_mem_spec spec = { .gpa = 0x100000, .size = size };

	return fg_mem_init(m, &spec, 1, 0);
}

void
fg_mem_destroy(struct fg_mem *m)
{
	unsigned i;

	for (i = 0; i < m->nregions; i++)
		if (m->region[i].fd >= 0)
			close(m->region[i].fd);
	if (m->reservation != NULL)
		munmap(m->reservation, m->reservation_len);
	memset(m, 0, sizeof(*m));
}

/* Takes size bytes from region ri's unused end; the offset, or UINT64_MAX. */
static uint64_t
bump(struct fg_mem *m, unsigned ri, uint64_t size, uint64_t align)
{
	struct fg_mem_region *r;
	uint64_t off;

	if (ri >= m->nregions || align == 0 || (align & (align - 1)) != 0)
		return UINT64_MAX;
	r = &m->region[ri];
	/* Align the guest address, not the offset: regions may start anywhere. */
	off = round_up(r->gpa + r->brk, align) - r->gpa;
	if (off > r->size || size > r->size - off)
		return UINT64_MAX;
	r->brk = off + size;
	return off;
}

uint64_t
fg_mem_alloc_in(struct fg_mem *m, unsigned ri, uint64_t size, uint64_t align)
{
	uint64_t off = bump(m, ri, size, align);

	if (off == UINT64_MAX)
		return FG_GPA_NONE;
	memset(m->region[ri].hva + off, 0, size);
	return m->region[ri].gpa + off;
}

uint64_t
fg_mem_alloc_untouched(struct fg_mem *m, uint64_t size, uint64_t align)
{
	uint64_t off;
	unsigned i;

	for (i = 0; i < m->nregions; i++)
		if ((off = bump(m, i, size, align)) != UINT64_MAX)
			return m->region[i].gpa + off;
	return FG_GPA_NONE;
}

uint64_t
fg_mem_alloc(struct fg_mem *m, uint64_t size, uint64_t align)
{
	unsigned i;
	uint64_t gpa;

	for (i = 0; i < m->nregions; i++)
		if ((gpa = fg_mem_alloc_in(m, i, size, align)) != FG_GPA_NONE)
			return gpa;
	return FG_GPA_NONE;
}

void *
fg_mem_ptr(const struct fg_mem *m, uint64_t gpa, uint64_t len)
{
	void *p = guestmem_map(&m->gm, gpa, len, NULL);

	if (p == NULL)
		abort();
	return p;
}

void
fg_mem_write(const struct fg_mem *m, uint64_t gpa, const void *src,
    size_t len)
{
	if (guestmem_write(&m->gm, gpa, src, len) < 0)
		abort();
}

void
fg_mem_read(const struct fg_mem *m, uint64_t gpa, void *dst, size_t len)
{
	if (guestmem_read(&m->gm, gpa, dst, len) < 0)
		abort();
}

/* harness-virtq.c - fuzz the chain walker: bytes become a descriptor table, an avail ring and buffer contents. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mem.h"
#include "ring.h"
#include "virtq.h"

/* Two adjacent regions (split copies) and one far away, all guarded. */
static const struct fg_mem_spec harness_spec[3] = {
	{ 0x100000, 0x10000 }, { 0x110000, 0x10000 }, { 0x400000, 0x1000 },
};

/* Reads bytes from the input, zeros past its end. */
struct cursor {
	const uint8_t *p;
	size_t n, off;
};

static uint64_t
take(struct cursor *c, unsigned bytes)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < bytes; i++, c->off++)
		if (c->off < c->n)
			v |= (uint64_t)c->p[c->off] << (8 * i);
	return v;
}

/*
 * A guest address from 8 input bytes: mostly inside one of the regions
 * (so chains get deep), sometimes exactly as given (holes, wraps).
 */
static uint64_t
guest_addr(uint64_t raw)
{
	const struct fg_mem_spec *s = &harness_spec[(raw >> 56) % 3];

	if (raw >> 63)
		return raw;
	return s->gpa + (raw & 0xffffffffu) % (s->size + 16);
}

/* Everything a popped chain promises: its buffers are guest memory. */
static void
check_chain(struct fg_mem *m, const struct virtq *vq,
    const struct virtq_chain *ch)
{
	static uint8_t buf[512];
	struct iovec iov[8];
	uint64_t rl = 0, wl = 0;
	uint32_t mapped, n;
	unsigned i;

	if (ch->nread > ch->nseg || ch->nseg > VIRTQ_CHAIN_MAX_SEGS)
		abort();
	for (i = 0; i < ch->nseg; i++) {
		if (guestmem_check(&m->gm, ch->seg[i].gpa, ch->seg[i].len) != 0)
			abort();
		/* The kept host address is the one-region translation. */
		if (ch->seg[i].hva != guestmem_map(&m->gm, ch->seg[i].gpa,
		    ch->seg[i].len, NULL))
			abort();
		if (i < ch->nread)
			rl += ch->seg[i].len;
		else
			wl += ch->seg[i].len;
	}
	if (rl != ch->read_len || wl != ch->write_len)
		abort();
	n = ch->read_len < sizeof(buf) ? ch->read_len : sizeof(buf);
	if (virtq_chain_read(vq, ch, 0, buf, n) != 0)
		abort();
	n = ch->write_len < sizeof(buf) ? ch->write_len : sizeof(buf);
	if (virtq_chain_write(vq, ch, 0, buf, n) != 0)
		abort();
	if (virtq_chain_iov(vq, ch, false, 0, ch->read_len, iov, 8,
	    &mapped) < 0 || mapped > ch->read_len)
		abort();
	if (virtq_chain_iov(vq, ch, true, 0, ch->write_len, iov, 8,
	    &mapped) < 0 || mapped > ch->write_len)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtq_chain ch;
	struct cursor c = { data, size, 0 };
	uint32_t num = 1u << (take(&c, 1) % 5), i, npub;
	uint64_t f = VIRTIO_FEATURE(VIRTIO_F_VERSION_1), sel = take(&c, 1);
	struct fg_mem m;
	struct fg_ring r;
	struct virtq vq;
	int e;

	if (sel & 1)
		f |= VIRTIO_FEATURE(VIRTIO_RING_F_INDIRECT_DESC);
	if (sel & 2)
		f |= VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX);
	if (fg_mem_init(&m, harness_spec, 3, 0) < 0)
		return 0;
	if (fg_ring_init(&r, &m, num, f) < 0) {
		fg_mem_destroy(&m);
		return 0;
	}
	npub = (uint32_t)(take(&c, 1) % (2 * num + 1));
	for (i = 0; i < num; i++) {
		uint64_t addr = guest_addr(take(&c, 8));
		uint32_t len = (uint32_t)take(&c, 4);
		uint16_t flags = (uint16_t)take(&c, 2);

		fg_ring_raw_desc(&r, i, addr, len % 2 ? len : len % 0x2000,
		    flags, (uint16_t)take(&c, 2));
	}
	for (i = 0; i < npub; i++)
		fg_ring_raw_publish(&r, (uint16_t)(take(&c, 1) % (num + 1)));
	/* The rest fills the second region: indirect tables, headers. */
	if (c.off < size)
		fg_mem_write(&m, harness_spec[1].gpa, data + c.off,
		    size - c.off < harness_spec[1].size ? size - c.off :
		    harness_spec[1].size);
	if (virtq_setup(&vq, &m.gm, num, r.desc_gpa, r.avail_gpa, r.used_gpa,
	    f) != 0)
		abort();	/* the fake guest's own rings are valid */
	for (i = 0, e = 0; i < num + 2; i++) {
		e = virtq_pop(&vq, &ch);
		if (e <= 0)
			break;
		check_chain(&m, &vq, &ch);
		if (virtq_push(&vq, ch.head, ch.write_len) != 0)
			abort();
		e = 0;
	}
	/* A refused chain leaves the queue broken for good. */
	if (e < 0 && (!virtq_is_broken(&vq) || virtq_pop(&vq, &ch) >= 0))
		abort();
	fg_ring_destroy(&r);
	fg_mem_destroy(&m);
	return 0;
}

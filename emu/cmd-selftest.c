/* cmd-selftest.c - `vsockemu selftest`: the fake guest against the device's rings. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "badchain.h"
#include "error.h"
#include "mem.h"
#include "options.h"
#include "ring.h"
#include "virtq.h"
#include "vsockemu.h"

static const char selftest_usage[] =
"usage: vsockemu selftest [--chains N] [--queue-size N] [-q | -v]\n"
"\n"
"Drives the built-in fake guest driver against the device side of a split\n"
"virtqueue: N well-formed chains (direct and indirect, readable and writable\n"
"parts, buffers split over two guest memory regions) must arrive byte-exact,\n"
"and every malformed chain of the adversarial builder must be refused with\n"
"its own error and leave the queue broken.\n"
"\n"
"  --chains N      well-formed chains to send (default 100000)\n"
"  --queue-size N  queue size, a power of two up to 32768 (default 256)\n"
"  -q, --quiet     print only the summary line\n"
"  -v, --verbose   print each adversarial case (the default)\n"
"  -h, --help      show this help\n"
"  -V, --version   show the version\n";

static const struct opt_cmd selftest_cmd = {
	"selftest", "vsockemu selftest [--chains N] [--queue-size N] [-q | -v]",
	selftest_usage,
};

/* Features the selftest negotiates for the well-formed run. */
#define SELFTEST_FEATURES (VIRTIO_FEATURE(VIRTIO_F_VERSION_1) | \
	VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX) | \
	VIRTIO_FEATURE(VIRTIO_RING_F_INDIRECT_DESC))

/* Sends n chains through one queue; returns the number that went wrong. */
static unsigned long
roundtrip(unsigned long n, uint32_t qsize)
{
	/* Two adjacent regions: buffers straddling them are split copies. */
	struct fg_mem_spec spec[2] = {
		{ 0x100000, 1 << 20 }, { 0x200000, 1 << 20 },
	};
	static struct virtq_chain chain;
	struct fg_mem mem;
	struct fg_ring ring;
	struct virtq vq;
	uint8_t pattern[96], got[96];
	struct fg_buf out[3], in[1];
	unsigned long i, bad = 0;
	uint64_t straddle;
	uint32_t len;
	int e;

	if (fg_mem_init(&mem, spec, 2, 0) < 0 ||
	    fg_ring_init(&ring, &mem, qsize, SELFTEST_FEATURES) < 0)
		return n;
	if ((e = virtq_setup(&vq, &mem.gm, qsize, ring.desc_gpa,
	    ring.avail_gpa, ring.used_gpa, SELFTEST_FEATURES)) < 0) {
		fprintf(stderr, "vsockemu selftest: virtq_setup: %s\n",
		    vse_strerror(e));
		return n;
	}
	straddle = 0x200000 - 40;
	for (i = 0; i < n; i++) {
		unsigned nout = 1 + i % 3;

		memset(pattern, (int)(i & 0xff), sizeof(pattern));
		out[0] = (struct fg_buf){ straddle, 80 };
		out[1] = (struct fg_buf){ 0x100000 + 0x80000, 8 };
		out[2] = (struct fg_buf){ 0x100000 + 0x80100, 8 };
		in[0] = (struct fg_buf){ 0x100000 + 0x90000, 96 };
		fg_mem_write(&mem, straddle, pattern, 80);
		if (fg_ring_add(&ring, out, nout, in, 1, &ring, i & 1) < 0 ||
		    virtq_pop(&vq, &chain) != 1 ||
		    chain.read_len != 80 + 8 * (nout - 1) ||
		    chain.write_len != 96 ||
		    virtq_chain_read(&vq, &chain, 0, got, 80) < 0 ||
		    memcmp(got, pattern, 80) != 0 ||
		    virtq_chain_write(&vq, &chain, 0, pattern, 96) < 0 ||
		    virtq_push(&vq, chain.head, 96) < 0 ||
		    fg_ring_get_used(&ring, &len) != &ring || len != 96) {
			bad++;
			break;
		}
	}
	fg_ring_destroy(&ring);
	fg_mem_destroy(&mem);
	return bad;
}

/* Publishes one malformed chain; 1 when the walker refused it as it must. */
static int
adversarial(enum fg_bad kind, int verbose)
{
	const struct fg_bad_info *in = fg_bad_info(kind);
	static struct virtq_chain chain;
	uint64_t features = VIRTIO_FEATURE(VIRTIO_F_VERSION_1);
	uint32_t qsize = in->min_queue < 4 ? 4 : in->min_queue;
	struct fg_mem mem;
	struct fg_ring ring;
	struct virtq vq;
	int e, ok;

	if (in->indirect != 0)
		features |= VIRTIO_FEATURE(VIRTIO_RING_F_INDIRECT_DESC);
	if (fg_mem_init_simple(&mem, in->min_region + (4 << 20)) < 0)
		return 0;
	ok = fg_ring_init(&ring, &mem, qsize, features) == 0 &&
	    virtq_setup(&vq, &mem.gm, qsize, ring.desc_gpa, ring.avail_gpa,
	    ring.used_gpa, features) == 0 &&
	    fg_bad_publish(&ring, kind) == 0;
	e = ok ? virtq_pop(&vq, &chain) : 0;
	ok = ok && e == in->expected && virtq_is_broken(&vq) &&
	    virtq_pop(&vq, &chain) == -VSE_ERR_VQ_BROKEN;
	if (verbose)
		printf("  %-26s %-34s %s\n", in->name, vse_errname(e),
		    ok ? "refused" : "NOT REFUSED AS REQUIRED");
	fg_ring_destroy(&ring);
	fg_mem_destroy(&mem);
	return ok;
}

int
cmd_selftest(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "chains", required_argument, NULL, 'n' },
		{ "queue-size", required_argument, NULL, 's' },
		OPT_COMMON_LONG,
		{ NULL, 0, NULL, 0 },
	};
	unsigned long chains = 100000, qsize = 256, bad;
	enum opt_verbosity verbosity = OPT_NORMAL;
	int c, verbose, refused = 0, k;
	char *end;

	while ((c = opt_next(&selftest_cmd, argc, argv, "n:s:", opts,
	    &verbosity)) != OPT_END) {
		switch (c) {
		case 'n':
			chains = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0') {
				return opt_usage(&selftest_cmd, "--chains: "
				    "not a number: '%s'", optarg);
			}
			break;
		case 's':
			qsize = strtoul(optarg, &end, 10);
			if (*end != '\0' || !virtq_size_valid(qsize) ||
			    qsize < 4) {
				return opt_usage(&selftest_cmd, "--queue-size: "
				    "need a power of two in 4..32768, got '%s'",
				    optarg);
			}
			break;
		case OPT_EXIT_OK:
			return 0;
		default:
			return 2;	/* said by opt_next */
		}
	}
	if (optind != argc)
		return opt_usage(&selftest_cmd, "unexpected argument '%s'",
		    argv[optind]);
	verbose = verbosity != OPT_QUIET;
	bad = roundtrip(chains, (uint32_t)qsize);
	if (verbose) {
		printf("well-formed: %lu chains through a %lu-entry queue: %s\n",
		    chains, qsize, bad ? "FAILED" : "byte-exact");
		printf("adversarial chains (each must break the queue):\n");
	}
	for (k = 0; k < FG_BAD__COUNT; k++)
		refused += adversarial((enum fg_bad)k, verbose);
	printf("selftest: %lu/%lu chains ok, %d/%d malformed chains refused\n",
	    chains - bad, chains, refused, FG_BAD__COUNT);
	return bad == 0 && refused == FG_BAD__COUNT ? 0 : 1;
}

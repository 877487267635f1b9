/* cmd-dump.c - `vsockemu dump`: print a vsockmon capture one frame a line. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "ladder-html.h"
#include "options.h"
#include "pcap-reader.h"
#include "trace-format.h"
#include "vsockemu.h"

static const char dump_usage[] =
"usage: vsockemu dump [-x] [-q | -v] [--html OUT.html] FILE...\n"
"\n"
"Prints a vsockmon capture (pcap or pcapng, link type 271 LINKTYPE_VSOCK, as\n"
"written by `tcpdump -i vsockmon0 -w FILE`, Wireshark or vsockemu itself) one\n"
"packet a line:\n"
"\n"
"  3 1.291039 3:1024 > 2:1234 STREAM RW flags 0 len 6 buf_alloc 262144 fwd_cnt 0\n"
"\n"
"frame number, seconds since the file's first frame, source CID:port >\n"
"destination CID:port, socket type, operation, flags (SHUTDOWN: RCV|SEND,\n"
"SEQPACKET RW: EOM|EOR, otherwise hex), then len, buf_alloc and fwd_cnt of\n"
"the virtio header. Marks follow in brackets: [dropped] for a packet\n"
"vsockemu's device refused (its header is shown as the guest wrote it), and\n"
"[split-tap: N bytes tapped] for a host->guest RW that Linux 6.1's\n"
"vhost-vsock recorded with more payload than its len (shown trimmed to len),\n"
"and [cut: N of M payload bytes] for a record a snapshot length cut inside\n"
"its payload (`tcpdump -s N`): its header is whole, -x shows the N bytes.\n"
"FILE '-' is standard input. Each FILE is read once, front to back, so a pipe,\n"
"a FIFO, /dev/stdin or a process substitution works; gzip-compressed data is\n"
"uncompressed on the way (`tcpdump -w - | vsockemu dump -`).\n"
"\n"
"  -x, --hex      also print each payload as hex and ASCII, 16 bytes a line\n"
"  --html OUT.html\n"
"                 instead of lines, write one self-contained HTML page of\n"
"                 ladder diagrams: per connection the guest's and the\n"
"                 host's lanes, one arrow a packet (op, flags, len, credit;\n"
"                 payload on hover), long RW/CREDIT runs folded; several\n"
"                 FILEs get a summary table (doc/ladder.md). Opens in any\n"
"                 browser, runs no script, loads nothing\n"
"  -q, --quiet    print no frame: only check that each FILE is a readable\n"
"                 capture (the exit status says)\n"
"  -v, --verbose  after each FILE, its frame count on stderr\n"
"  -h, --help     show this help\n"
"  -V, --version  show the version\n"
"\n"
"Every file is checked as it is read: a file that is not a capture, has\n"
"another link type, or holds a record whose lengths do not add up stops\n"
"with one line naming the file and the frame, and exit status 2. A reader\n"
"that stops reading (`vsockemu dump FILE | head`) ends dump quietly.\n";

/* Prints the payload as hexdump -C does, offsets relative to the payload. */
static void
dump_hex(const uint8_t *p, uint32_t n)
{
	uint32_t off, i;

	for (off = 0; off < n; off += 16) {
		printf("  %04" PRIx32 " ", off);
		for (i = off; i < off + 16; i++) {
			if (i % 8 == 0)
				putchar(' ');
			if (i < n)
				printf("%02x ", p[i]);
			else
				fputs("   ", stdout);
		}
		fputs(" |", stdout);
		for (i = off; i < off + 16 && i < n; i++)
			putchar(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.');
		fputs("|\n", stdout);
	}
}

/* One frame: the line, its marks, and with -x its payload. */
static void
dump_frame(const struct vsock_pcap_frame *f, uint64_t first, int hex)
{
	/* A hostile file's time may run backwards: print a sign. */
	int back = f->ts_ns < first;
	uint64_t us = (back ? first - f->ts_ns : f->ts_ns - first) / 1000;
	char line[TRACE_FORMAT_HDR_LEN];

	trace_format_hdr(&f->hdr, line, sizeof(line));
	printf("%" PRIu64 " %s%" PRIu64 ".%06" PRIu64 " %s", f->number,
	    back ? "-" : "", us / 1000000, us % 1000000, line);
	if (f->dropped)
		fputs(" [dropped]", stdout);
	if (f->split_tap)
		printf(" [split-tap: %" PRIu32 " bytes tapped]", f->tapped_len);
	if (f->cut)
		printf(" [cut: %" PRIu32 " of %" PRIu32 " payload bytes]",
		    f->payload_len, f->hdr.len);
	putchar('\n');
	if (hex)
		dump_hex(f->payload, f->payload_len);
}

/*
 * Standard output failed. SIGPIPE is ignored (serve must outlive its
 * capture's reader), so a reader that stopped reading (`| head`) shows up
 * here as EPIPE and ends dump quietly; anything else is reported. Returns
 * the exit status.
 */
static int
output_failed(int err)
{
	if (err == EPIPE)
		return 0;
	fprintf(stderr, "vsockemu dump: standard output: %s\n",
	    strerror(err));
	return 2;
}

/* Dumps one file (quiet: only reads it); 0 when all was readable, else 2. */
static int
dump_file(const char *path, int hex, enum opt_verbosity verbosity)
{
	struct vsock_pcap_reader *r;
	struct vsock_pcap_frame f;
	uint64_t first = 0, frames = 0;
	char msg[640];
	int e;

	/* A snaplen cut inside a payload (tcpdump -s N) still shows every header. */
	if (vsock_pcap_reader_open(path, VSOCK_PCAP_TRIM_SPLIT |
	    VSOCK_PCAP_ACCEPT_CUT, &r, msg,
	    sizeof(msg)) < 0) {
		fflush(stdout);
		fprintf(stderr, "vsockemu dump: %s\n", msg);
		return 2;
	}
	while ((e = vsock_pcap_reader_next(r, &f, msg, sizeof(msg))) == 1) {
		if (f.number == 1)
			first = f.ts_ns;
		frames++;
		if (verbosity != OPT_QUIET)
			dump_frame(&f, first, hex);
		if (ferror(stdout)) {
			e = errno;	/* the failed write's */
			vsock_pcap_reader_close(r);
			return output_failed(e);
		}
	}
	vsock_pcap_reader_close(r);
	fflush(stdout);
	if (e != 0) {
		fprintf(stderr, "vsockemu dump: %s\n", msg);
		return 2;
	}
	if (verbosity == OPT_VERBOSE)
		fprintf(stderr, "vsockemu dump: %s: %" PRIu64 " frame%s\n", path,
		    frames, frames == 1 ? "" : "s");
	return 0;
}

static const struct opt_cmd dump_cmd = {
	"dump", "vsockemu dump [-x] [-q | -v] [--html OUT.html] FILE...",
	dump_usage,
};

/* --html: every FILE's ladders on one page; 0, or 2 (said on stderr). */
static int
dump_html(const char *out, char **files, int n, enum opt_verbosity verbosity)
{
	struct ladder_page *p;
	struct ladder l;
	char msg[640];
	int i, status = 0;

	if (ladder_page_open(&p, out, "vsockemu dump", msg, sizeof(msg)) < 0) {
		fprintf(stderr, "vsockemu dump: %s\n", msg);
		return 2;
	}
	for (i = 0; i < n; i++) {
		ladder_init(&l);
		if (ladder_read_file(&l, files[i], msg, sizeof(msg)) < 0) {
			fprintf(stderr, "vsockemu dump: %s\n", msg);
			status = 2;
		}
		ladder_page_trace(p, files[i], &l, NULL);
		if (verbosity == OPT_VERBOSE)
			fprintf(stderr, "vsockemu dump: %s: %llu frames, %u "
			    "connections\n", files[i],
			    (unsigned long long)l.frames, l.nconns);
		ladder_free(&l);
	}
	if (ladder_page_close(p, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "vsockemu dump: %s\n", msg);
		return 2;
	}
	return status;
}

/* Parses options and dumps each file; one bad file does not stop the rest. */
int
cmd_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hex", no_argument, NULL, 'x' },
		{ "html", required_argument, NULL, 'H' },
		OPT_COMMON_LONG,
		{ NULL, 0, NULL, 0 },
	};
	enum opt_verbosity verbosity = OPT_NORMAL;
	int c, hex = 0, status = 0, i;
	const char *html = NULL;

	while ((c = opt_next(&dump_cmd, argc, argv, "x", opts,
	    &verbosity)) != OPT_END) {
		switch (c) {
		case 'x':
			hex = 1;
			break;
		case 'H':
			html = optarg;
			break;
		case OPT_EXIT_OK:
			return 0;
		default:
			return 2;
		}
	}
	if (optind == argc)
		return opt_usage(&dump_cmd, "no capture file given");
	if (hex && verbosity == OPT_QUIET)
		return opt_usage(&dump_cmd, "-x and -q conflict");
	if (html != NULL && hex)
		return opt_usage(&dump_cmd, "-x and --html conflict (the page "
		    "shows payloads on hover)");
	if (html != NULL)
		return dump_html(html, argv + optind, argc - optind, verbosity);
	for (i = optind; i < argc; i++) {
		if (argc - optind > 1 && verbosity != OPT_QUIET)
			printf("%s%s:\n", i > optind ? "\n" : "", argv[i]);
		if (dump_file(argv[i], hex, verbosity) != 0)
			status = 2;
		if (ferror(stdout))
			break;	/* said by dump_file */
	}
	return status;
}

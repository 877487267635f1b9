/* cmd-replay.c - `vsockemu replay`: verify the device against recorded vsockmon traces. */
#include "config.h"

#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "options.h"
#include "pcap-writer.h"
#include "rawguest.h"
#include "replay.h"
#include "vsockemu.h"

static const char replay_usage[] =
"usage: vsockemu replay [--semantic | --strict] [--profile linux|firecracker]\n"
"                       [--host-script FILE] [--host-initiated]\n"
"                       [--guest-cid CID] [--guest-rx-buf BYTES]\n"
"                       [--format text|tap|json] [--pcap-out FILE]\n"
"                       [--expect MANIFEST] TRACE...\n"
"\n"
"Replays recorded vsockmon traces (pcap or pcapng, link type 271, from\n"
"`tcpdump -i vsockmon0 -w FILE` or vsockemu's pcap writer) against the\n"
"emulated device and says whether the device behaves as the recorded host\n"
"did, or where it does not.\n"
"\n"
"Per connection the endpoint with CID 2 is the host; its frames are what the\n"
"device must produce. The other endpoint is the guest: its frames go onto\n"
"the device's TX ring exactly as recorded. With equal CIDs (loopback) the\n"
"sender of a connection's first REQUEST is the guest. The host application's\n"
"actions are read from the trace: it listens where the host answered a\n"
"REQUEST with RESPONSE, writes what the host sent, reads when the host's\n"
"fwd_cnt advances, and shuts down or closes where the host sent SHUTDOWN.\n"
"Time is the capture's: the same trace gives the same report, byte for byte.\n"
"\n"
"Each TRACE is read once, front to back: '-' (standard input), a pipe, a FIFO,\n"
"/dev/stdin or <(...) work, gzip-compressed or not (`tcpdump -w - | vsockemu\n"
"replay -`). Memory follows the live connections, not the trace's length; a\n"
"trace beyond replay's limits (65536 packets between two guest frames, 16 MiB\n"
"held one way on a connection) is unusable, naming the frame.\n"
"\n"
"  --semantic        (default) per connection the same outcome, the same\n"
"                    RST and SHUTDOWN events between the same guest frames,\n"
"                    the same bytes each way; credit packets may differ but\n"
"                    the credit rules must hold at every step\n"
"  --strict          also every header field of every host frame, in order;\n"
"                    buf_alloc and profile are taken from the trace\n"
"  --profile P       the device to behave as: linux (Linux 6.1's host: 256\n"
"                    KiB, its credit updates and close rules) or firecracker\n"
"                    (64 KiB, Firecracker's rules);\n"
"                    default: inferred from the host's first packet\n"
"  --host-script F   the host application per port instead of inferring it:\n"
"                    lines \"PORT accept|refuse|echo|infer\", # comments\n"
"  --host-initiated  with equal CIDs, a first REQUEST came from the host\n"
"  --guest-cid CID   replay the guest with this CID, skipping the frames\n"
"                    of other guests (a host's vsockmon sees every VM);\n"
"                    default: the first frame's guest, another diverges\n"
"  --guest-rx-buf N  payload bytes of each RX buffer the replayed guest\n"
"                    posts (1 to 65536); default: read off the trace (a\n"
"                    SEQPACKET fragment without EOM fills exactly one;\n"
"                    no packet is larger than one), else 4096. Linux 6.1\n"
"                    under vhost-user posts 3732\n"
"  --format F        text (default), tap (TAP 13) or json (one object a line)\n"
"  --pcap-out FILE   write what the device produced, with the replayed guest\n"
"                    frames, as a capture (one trace only)\n"
"  --expect M        gate on the verdicts manifest M expects (testvectors/\n"
"                    MANIFEST's format: \"TRACE MODE pass|diverged [FRAME]|\n"
"                    unusable\" a line, TRACE relative to M's directory);\n"
"                    a TRACE M does not name in this mode is skipped\n"
"  -h, --help        show this help\n"
"\n"
"The last line gives the totals: \"N traces: P passed, D diverged, U unusable\".\n"
"Exit status: 1 if a trace diverged (the report names trace, frame,\n"
"connection, field, expected and actual values), else 2 if one was unusable\n"
"(not a capture, another link type, a corrupt record, no frame) or on bad\n"
"usage, else 0. With --expect, only verdicts the manifest does not expect\n"
"count: 1 if one of them passed or diverged, else 2 if one was unusable.\n"
"Examples: vsockemu replay testvectors/*.pcap*\n"
"          vsockemu replay --strict --expect testvectors/MANIFEST testvectors/*\n";

/* Reads a whole (small) host script file; NULL with a message on error. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			char *q = realloc(buf, cap + 65536);

			if (q == NULL || cap > (1u << 20))
				break;
			buf = q;
			cap += 65536;
		}
		if ((n = fread(buf + len, 1, cap - len - 1, f)) == 0)
			break;
		len += n;
	}
	if (ferror(f) || buf == NULL) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* Options after parsing. */
struct replay_args {
	struct replay_options o;
	enum replay_format fmt;
	const char *pcap_out;
	const char *script_path;
	const char *expect_path;	/* --expect: the manifest */
	struct replay_expect *expect;
};

/* Parses one option value; returns -1 on a bad one. */
static int
parse_value(struct replay_args *a, int c, const char *v)
{
	switch (c) {
	case 'p':
		if (strcmp(v, "linux") == 0)
			a->o.profile = VSOCK_PROFILE_LINUX;
		else if (strcmp(v, "firecracker") == 0)
			a->o.profile = VSOCK_PROFILE_FIRECRACKER;
		else
			return -1;
		return 0;
	case 'f':
		if (strcmp(v, "text") == 0)
			a->fmt = REPLAY_FORMAT_TEXT;
		else if (strcmp(v, "tap") == 0)
			a->fmt = REPLAY_FORMAT_TAP;
		else if (strcmp(v, "json") == 0)
			a->fmt = REPLAY_FORMAT_JSON;
		else
			return -1;
		return 0;
	}
	return -1;
}

/* getopt_long over argv; 0, or 2 for bad usage (message printed). */
static int
parse_args(int argc, char **argv, struct replay_args *a, int *help)
{
	static const struct option opts[] = {
		{ "semantic", no_argument, NULL, 's' },
		{ "strict", no_argument, NULL, 'S' },
		{ "profile", required_argument, NULL, 'p' },
		{ "host-script", required_argument, NULL, 'H' },
		{ "host-initiated", no_argument, NULL, 'I' },
		{ "guest-rx-buf", required_argument, NULL, 'r' },
		{ "guest-cid", required_argument, NULL, 'C' },
		{ "format", required_argument, NULL, 'f' },
		{ "pcap-out", required_argument, NULL, 'o' },
		{ "expect", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t n;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->o.mode = REPLAY_SEMANTIC;
			break;
		case 'S':
			a->o.mode = REPLAY_STRICT;
			break;
		case 'I':
			a->o.host_initiated = true;
			break;
		case 'H':
			a->script_path = optarg;
			break;
		case 'o':
			a->pcap_out = optarg;
			break;
		case 'E':
			a->expect_path = optarg;
			break;
		case 'r':
			if (opt_u64(optarg, VIRTIO_VSOCK_MAX_PKT_BUF_SIZE,
			    &n) < 0 || n == 0) {
				fprintf(stderr, "vsockemu replay: bad "
				    "--guest-rx-buf '%s': want 1 to %u bytes\n",
				    optarg, VIRTIO_VSOCK_MAX_PKT_BUF_SIZE);
				return 2;
			}
			a->o.guest_rx_buf = (uint32_t)n;
			break;
		case 'C':
			/* 0, 1 and 2 are never a guest's; -1 is "any". */
			if (opt_u64(optarg, UINT32_MAX - 1, &n) < 0 || n < 3) {
				fprintf(stderr, "vsockemu replay: bad "
				    "--guest-cid '%s': want 3 to %u\n", optarg,
				    UINT32_MAX - 1);
				return 2;
			}
			a->o.guest_cid = n;
			break;
		case 'p':
		case 'f':
			if (parse_value(a, c, optarg) < 0) {
				fprintf(stderr, "vsockemu replay: bad --%s "
				    "value '%s' (try vsockemu replay --help)\n",
				    c == 'p' ? "profile" : "format", optarg);
				return 2;
			}
			break;
		case 'h':
			*help = 1;
			return 0;
		default:
			fputs(replay_usage, stderr);
			return 2;
		}
	}
	return 0;
}

/* Loads --host-script; 0 or 2 with a message. */
static int
load_script(const char *path, struct replay_script **out)
{
	char msg[128] = "";
	char *text;
	int e;

	if ((text = slurp(path)) == NULL) {
		fprintf(stderr, "vsockemu replay: cannot read host script "
		    "%s\n", path);
		return 2;
	}
	e = replay_script_parse(text, out, msg, sizeof(msg));
	free(text);
	if (e < 0) {
		fprintf(stderr, "vsockemu replay: %s: %s\n", path, msg);
		return 2;
	}
	return 0;
}

/* Loads --expect's manifest; 0 or 2 with a message. */
static int
load_expect(struct replay_args *a)
{
	char msg[256] = "", *text, *dir;
	int e;

	if ((text = slurp(a->expect_path)) == NULL) {
		fprintf(stderr, "vsockemu replay: cannot read the manifest "
		    "%s\n", a->expect_path);
		return 2;
	}
	/* Trace names in a manifest are relative to its directory. */
	if ((dir = strdup(a->expect_path)) == NULL) {
		free(text);
		fprintf(stderr, "vsockemu replay: out of memory\n");
		return 2;
	}
	e = replay_expect_parse(text, dirname(dir), &a->expect, msg,
	    sizeof(msg));
	free(dir);
	free(text);
	if (e < 0) {
		fprintf(stderr, "vsockemu replay: %s: %s\n", a->expect_path,
		    e == -VSE_ERR_NOMEM ? "out of memory" : msg);
		return 2;
	}
	return 0;
}

/* Prints a report made by one of replay_report*(). */
static void
print_report(char *text)
{
	if (text == NULL)
		return;
	fputs(text, stdout);
	free(text);
}

/* Replays path into res; 0, or 2 (message printed) without memory or output. */
static int
replay_into(const struct replay_args *a, const char *path,
    struct replay_result *res)
{
	struct vsock_pcap_writer *w = NULL;
	struct replay_options o = a->o;
	struct rawguest g;
	char msg[640];

	if (a->pcap_out != NULL) {
		if (vsock_pcap_writer_open(a->pcap_out, &w, msg,
		    sizeof(msg)) < 0) {
			fprintf(stderr, "vsockemu replay: %s\n", msg);
			return 2;
		}
		o.tap = vsock_pcap_writer_tap;
		o.tap_ctx = w;
	}
	(void)replay_file(path, &o, &rawguest_replay_ops, &g, res);
	if (w != NULL && vsock_pcap_writer_close(w) < 0) {
		fprintf(stderr, "vsockemu replay: cannot write %s\n",
		    a->pcap_out);
		res->verdict = REPLAY_UNUSABLE;
		snprintf(res->error, sizeof(res->error), "%s: its --pcap-out "
		    "capture %s could not be written", path, a->pcap_out);
	}
	return 0;
}

/*
 * Replays one trace (with --expect: only one the manifest names in this
 * mode), prints its report and counts it.
 */
static void
replay_one(const struct replay_args *a, const char *path, unsigned index,
    unsigned total, struct replay_totals *t)
{
	const struct replay_expectation *x = NULL;
	struct replay_result *res;

	if (a->expect != NULL &&
	    (x = replay_expect_find(a->expect, path, a->o.mode)) == NULL) {
		print_report(replay_report_skipped(path, a->expect_path,
		    a->o.mode, a->fmt, index, total));
		replay_totals_expected(t, NULL, NULL);
		return;
	}
	if ((res = calloc(1, sizeof(*res))) == NULL) {
		fprintf(stderr, "vsockemu replay: out of memory\n");
		replay_totals_add(t, REPLAY_UNUSABLE);
		return;
	}
	if (replay_into(a, path, res) != 0)
		res->verdict = REPLAY_UNUSABLE;
	else if (x != NULL)
		print_report(replay_report_expected(path, res, x,
		    a->expect_path, a->fmt, index, total));
	else
		print_report(replay_report(path, res, a->fmt, index, total));
	replay_totals_add(t, res->verdict);
	if (a->expect != NULL)
		replay_totals_expected(t, x, res);
	free(res);
}

int
cmd_replay(int argc, char **argv)
{
	struct replay_args a;
	struct replay_script *script = NULL;
	struct replay_totals totals;
	int help = 0, i, e;
	char *text;

	memset(&a, 0, sizeof(a));
	replay_options_defaults(&a.o);
	if ((e = parse_args(argc, argv, &a, &help)) != 0)
		return e;
	if (help) {
		fputs(replay_usage, stdout);
		return 0;
	}
	if (optind == argc) {
		fprintf(stderr, "vsockemu replay: no trace given "
		    "(try vsockemu replay --help)\n");
		return 2;
	}
	if (a.pcap_out != NULL && argc - optind > 1) {
		fprintf(stderr, "vsockemu replay: --pcap-out takes one trace "
		    "only\n");
		return 2;
	}
	if (a.script_path != NULL && (e = load_script(a.script_path,
	    &script)) != 0)
		return e;
	if (a.expect_path != NULL && (e = load_expect(&a)) != 0) {
		replay_script_free(script);
		return e;
	}
	a.o.script = script;
	memset(&totals, 0, sizeof(totals));
	for (i = optind; i < argc; i++) {
		replay_one(&a, argv[i], (unsigned)(i - optind + 1),
		    (unsigned)(argc - optind), &totals);
		fflush(stdout);
	}
	replay_script_free(script);
	replay_expect_free(a.expect);
	if ((text = replay_totals_report(&totals, a.fmt)) != NULL) {
		fputs(text, stdout);
		free(text);
	}
	return replay_totals_status(&totals);
}

/* cmd-replay.c - `vsockemu replay`: verify the device against recorded vsockmon traces. */
#include "config.h"

#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "options.h"
#include "pcap-writer.h"
#include "progress.h"
#include "replay-jobs.h"
#include "replay-live.h"
#include "rawguest.h"
#include "replay.h"
#include "replay-html.h"
#include "vsockemu.h"

static const char replay_usage[] =
"usage: vsockemu replay [--semantic | --strict] [--profile linux|firecracker]\n"
"                       [--host-script FILE] [--host-initiated]\n"
"                       [--guest-cid CID] [--guest-rx-buf BYTES]\n"
"                       [--format text|tap|json] [--pcap-out FILE]\n"
"                       [--expect MANIFEST] [--jobs N] [--shard K/N]\n"
"                       [--html OUT.html]\n"
"                       [--host UDS | --guest UDS] [--live-timeout MS]\n"
"                       [--ready-fd N] [--pidfile FILE] [-q | -v] TRACE...\n"
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
"held one way on a connection) is unusable, naming the frame. Records the\n"
"snapshot length cut inside their payload (tcpdump -s 76) replay with filler\n"
"of their len: lengths and credit compared, the bytes not (the report counts).\n"
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
"  --format F        text (default), tap (TAP 13) or json (one object a line,\n"
"                    \"schema\":1, documented in doc/replay.md)\n"
"  --pcap-out FILE   write what the device produced, with the replayed guest\n"
"                    frames, as a capture (one trace only)\n"
"  --expect M        gate on the verdicts manifest M expects (testvectors/\n"
"                    MANIFEST's format: \"TRACE MODE pass|diverged [FRAME]|\n"
"                    unusable\" a line, TRACE relative to M's directory);\n"
"                    a TRACE M does not name in this mode is skipped\n"
"  -j, --jobs N      replay N traces at a time in worker processes (1 to\n"
"                    256; default 1); the report is the same, in order\n"
"  --shard K/N       replay only the traces of shard K of N (1 <= K <= N):\n"
"                    a trace's shard is FNV-1a of its file name without\n"
"                    directories, mod N, plus 1, so N machines given the\n"
"                    same files and K = 1..N replay each trace once\n"
"  --html OUT.html   also draw each trace as ladder diagrams on one HTML\n"
"                    page (as `dump --html`): its verdict on top, the\n"
"                    diverging frame marked, expected and actual side by\n"
"                    side; several traces get a summary table. Each TRACE\n"
"                    is read again to draw it: regular files only\n"
"  --host UDS        replay against a live host program instead of the\n"
"                    inferred one: a muxer at UDS as serve's (the program\n"
"                    connects and sends \"CONNECT PORT\" where the trace's\n"
"                    host connected, listens at UDS_PORT where the guest\n"
"                    did); its bytes, shutdowns, closes and refusals must\n"
"                    be the trace's host's, per connection, packets and\n"
"                    timing aside (semantic only; doc/replay.md)\n"
"  --guest UDS       replay against a live guest program run by\n"
"                    `vsockemu run --guest UDS -- PROG` (start it once\n"
"                    replay is ready: --ready-fd): its sockets are the\n"
"                    simulated guest's through UDS.guest, as serve's; the\n"
"                    trace's host is played back (it accepts, refuses,\n"
"                    connects to the program's listeners, writes, shuts\n"
"                    down and closes as recorded); the program's bytes,\n"
"                    shutdowns, closes and refusals must be the trace's\n"
"                    guest's, as with --host\n"
"  --live-timeout MS how long --host or --guest waits for the program's\n"
"                    next step or, --guest, for its listener where the\n"
"                    trace's host connects (1 to 3600000; default 5000):\n"
"                    a silent program diverges naming the frame it owes\n"
"  --ready-fd N      with --host or --guest: once the first trace's\n"
"                    sockets listen, write \"READY uds=UDS\" to fd N and\n"
"                    close it (NOTIFY_SOCKET: READY=1), so a script starts\n"
"                    the program then, with no sleep\n"
"  --pidfile FILE    with --host or --guest: write the process id there\n"
"  -q, --quiet       text: report only the traces that did not pass (with\n"
"                    --expect: not as expected) and the totals; no progress\n"
"  -v, --verbose     also name each trace on stderr as its replay starts\n"
"  -h, --help        show this help\n"
"  -V, --version     show the version\n"
"\n"
"The last line gives the totals: \"N traces: P passed, D diverged, U unusable\".\n"
"With several traces and stderr not a terminal (a CI log), a progress line\n"
"every 10 s: \"vsockemu replay: 10 s: 12 of 40 traces: 11 passed, ...\".\n"
"Exit status: 1 if a trace diverged (the report names trace, frame,\n"
"connection, field, expected and actual values), else 2 if one was unusable\n"
"(not a capture, another link type, a corrupt record, no frame) or on bad\n"
"usage, else 0. With --expect, only verdicts the manifest does not expect\n"
"count: 1 if one of them passed or diverged, else 2 if one was unusable.\n"
"Examples: vsockemu replay testvectors/*.pcap*\n"
"          vsockemu replay --strict --expect testvectors/MANIFEST testvectors/*\n"
"          vsockemu replay --host ./v.sock session.pcap  (your host program\n"
"          listening at ./v.sock_PORT plays the recorded host)\n";

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
	const char *html_path;		/* --html: the page */
	struct replay_expect *expect;
	enum opt_verbosity verbosity;	/* -q: failures only; -v: each trace */
	unsigned jobs;			/* --jobs: workers (1: none) */
	unsigned shard_k, shard_n;	/* --shard K/N; shard_n 0: all */
	struct replay_live_options live;	/* --host, --guest: uds set */
	struct ready ready;		/* --ready-fd, --pidfile */
};

/* Parses one option value; returns -1 on a bad one. */
static int
parse_value(struct replay_args *a, int c, const char *v)
{
	switch (c) {
	case 'p': {
		enum vsock_profile p;

		if (opt_profile(v, &p) < 0)
			return -1;
		a->o.profile = (int)p;
		return 0;
	}
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

static const struct opt_cmd replay_cmd = {
	"replay", "vsockemu replay [options] TRACE...", replay_usage,
};

/* Takes one value option (c, its argument v); 0, or -1 when v is bad. */
static int
parse_valued(struct replay_args *a, int c, const char *v)
{
	uint64_t n;

	switch (c) {
	case 'H':
		a->script_path = v;
		return 0;
	case 'o':
		a->pcap_out = v;
		return 0;
	case 'E':
		a->expect_path = v;
		return 0;
	case 'L':
		a->html_path = v;
		return 0;
	case 'r':
		if (opt_u64(v, VIRTIO_VSOCK_MAX_PKT_BUF_SIZE, &n) < 0 || n == 0)
			return -1;
		a->o.guest_rx_buf = (uint32_t)n;
		return 0;
	case 'C':
		/* 0, 1 and 2 are never a guest's; -1 is "any". */
		if (opt_u64(v, UINT32_MAX - 1, &n) < 0 || n < 3)
			return -1;
		a->o.guest_cid = n;
		return 0;
	case 'j':
		if (opt_u64(v, REPLAY_JOBS_MAX, &n) < 0 || n == 0)
			return -1;
		a->jobs = (unsigned)n;
		return 0;
	case 'K':
		return replay_shard_parse(v, &a->shard_k, &a->shard_n);
	case 'U':
	case 'G':
		a->live.uds = v;
		a->live.guest = c == 'G';
		return 0;
	case 'T':
		if (opt_u64(v, REPLAY_LIVE_TIMEOUT_MAX, &n) < 0 || n == 0)
			return -1;
		a->live.timeout_ms = (unsigned)n;
		return 0;
	}
	return parse_value(a, c, v);
}

/* The long name of option c, for messages. */
static const char *
long_name(const struct option *opts, int c)
{
	for (; opts->name != NULL; opts++)
		if (opts->val == c)
			return opts->name;
	return "?";
}

/* The index of the first operand that is not a regular file, or 0. */
static int
regular_files(int argc, char **argv)
{
	struct stat st;
	int i;

	for (i = optind; i < argc; i++)
		if (stat(argv[i], &st) < 0 || !S_ISREG(st.st_mode))
			return i;
	return 0;
}

/*
 * Parses argv into a; -1 to go on, else the exit status (0 after --help or
 * --version, 2 after bad usage, reported).
 */
static int
parse_args(int argc, char **argv, struct replay_args *a)
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
		{ "jobs", required_argument, NULL, 'j' },
		{ "shard", required_argument, NULL, 'K' },
		{ "html", required_argument, NULL, 'L' },
		{ "host", required_argument, NULL, 'U' },
		{ "guest", required_argument, NULL, 'G' },
		{ "live-timeout", required_argument, NULL, 'T' },
		READY_LONG,
		OPT_COMMON_LONG,
		{ NULL, 0, NULL, 0 },
	};
	bool semantic = false, strict = false;
	const char *live;
	int c;

	while ((c = opt_next(&replay_cmd, argc, argv, "j:", opts,
	    &a->verbosity)) != OPT_END) {
		switch (c) {
		case OPT_EXIT_OK:
			return 0;
		case OPT_EXIT_USAGE:
			return 2;
		case 's':
			semantic = true;
			break;
		case 'S':
			strict = true;
			break;
		case 'I':
			a->o.host_initiated = true;
			break;
		case READY_OPT_FD:
		case READY_OPT_PIDFILE: {
			const char *why = NULL;

			if (ready_option(&a->ready, c, optarg, &why) < 0)
				return opt_usage(&replay_cmd, "bad --%s '%s': "
				    "%s", long_name(opts, c), optarg, why);
			break;
		}
		case 'U':
		case 'G':
			if (a->live.uds != NULL)
				return opt_usage(&replay_cmd, "--host and "
				    "--guest conflict: one live program at a "
				    "time");
			if (parse_valued(a, c, optarg) < 0)
				return opt_usage(&replay_cmd, "bad --%s '%s'",
				    long_name(opts, c), optarg);
			break;
		default:
			if (parse_valued(a, c, optarg) < 0)
				return opt_usage(&replay_cmd, "bad --%s '%s'",
				    long_name(opts, c), optarg);
			break;
		}
	}
	if (semantic && strict)
		return opt_usage(&replay_cmd, "--semantic and --strict "
		    "conflict");
	a->o.mode = strict ? REPLAY_STRICT : REPLAY_SEMANTIC;
	if (optind == argc)
		return opt_usage(&replay_cmd, "no trace given");
	if (a->pcap_out != NULL && (argc - optind > 1 || a->shard_n != 0))
		return opt_usage(&replay_cmd, "--pcap-out takes one trace "
		    "only, without --shard");
	if (a->html_path != NULL && (c = regular_files(argc, argv)) > 0)
		return opt_usage(&replay_cmd, "--html reads each trace again to "
		    "draw it: '%s' is not a regular file", argv[c]);
	live = a->live.guest ? "--guest" : "--host";
	if (a->live.uds != NULL && (strict || a->script_path != NULL ||
	    a->pcap_out != NULL || a->jobs > 1 || a->o.host_initiated ||
	    a->o.guest_cid != 0))
		return opt_usage(&replay_cmd, "%s takes none of --strict, "
		    "--host-script, --pcap-out, --jobs, --host-initiated, "
		    "--guest-cid", live);
	if (a->live.uds != NULL && a->html_path != NULL)
		return opt_usage(&replay_cmd, "%s and --html conflict", live);
	if (a->live.uds == NULL && (a->ready.fd >= 0 ||
	    a->ready.pidfile != NULL))
		return opt_usage(&replay_cmd, "--ready-fd and --pidfile go "
		    "with --host or --guest");
	return -1;
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

/* Prints a report made by one of replay_report*(), unless quiet drops it. */
static void
print_report(char *text, bool quiet)
{
	if (text == NULL)
		return;
	if (!quiet)
		fputs(text, stdout);
	free(text);
}

/* Does -q drop this trace's report? Text only: TAP and JSON stay whole. */
static bool
quiet_drops(const struct replay_args *a, const struct replay_expectation *x,
    const struct replay_result *res)
{
	if (a->verbosity != OPT_QUIET || a->fmt != REPLAY_FORMAT_TEXT)
		return false;
	if (res == NULL)
		return true;	/* skipped */
	return x != NULL ? replay_expect_met(x, res) : res->verdict ==
	    REPLAY_PASS;
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

	if (a->live.uds != NULL) {
		struct replay_live_options lo = a->live;

		lo.profile = a->o.profile;
		lo.guest_rx_buf = a->o.guest_rx_buf;
		lo.ready = (struct ready *)&a->ready;
		if (lo.guest)
			(void)replay_live_guest_file(path, &lo, res);
		else
			(void)replay_live_file(path, &lo, res);
		return 0;
	}
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

/* A run over the traces selected: what the steps of each trace share. */
struct replay_run {
	const struct replay_args *a;
	char **paths;			/* the traces of this shard, in order */
	unsigned n;
	struct replay_totals totals;
	struct progress log;
	double start;
	struct ladder_page *page;	/* --html */
};

/* Is trace i replayed (with --expect: named by the manifest in this mode)? */
static bool
run_wants(void *ctx, unsigned i)
{
	const struct replay_run *r = ctx;

	return r->a->expect == NULL || replay_expect_find(r->a->expect,
	    r->paths[i], r->a->o.mode) != NULL;
}

/* Replays trace i into res (in a --jobs worker, or here). */
static void
run_trace(void *ctx, unsigned i, struct replay_result *res)
{
	const struct replay_run *r = ctx;

	if (r->a->verbosity == OPT_VERBOSE)
		fprintf(stderr, "vsockemu replay: replaying %s\n", r->paths[i]);
	if (replay_into(r->a, r->paths[i], res) != 0)
		res->verdict = REPLAY_UNUSABLE;
}

/* The line a CI log gets every PROGRESS_INTERVAL when stderr is no terminal. */
static void
progress_line(const struct replay_totals *t, double elapsed, unsigned total)
{
	fprintf(stderr, "vsockemu replay: %.0f s: %u of %u traces: %u passed, "
	    "%u diverged, %u unusable\n", elapsed, t->traces, total,
	    t->passed, t->diverged, t->unusable);
}

/* --html: trace path's section of the page (a failure is said, not fatal). */
static void
draw_trace(struct ladder_page *p, const char *path,
    const struct replay_result *res)
{
	char msg[640];

	if (replay_html_add(p, path, res, msg, sizeof(msg)) < 0)
		fprintf(stderr, "vsockemu replay: --html: %s\n", msg);
}

/* Reports trace i (res NULL: skipped) and counts it; always in order. */
static void
run_done(void *ctx, unsigned i, const struct replay_result *res)
{
	struct replay_run *r = ctx;
	const struct replay_args *a = r->a;
	const char *path = r->paths[i];
	const struct replay_expectation *x = a->expect != NULL ?
	    replay_expect_find(a->expect, path, a->o.mode) : NULL;
	double now;

	if (res == NULL) {
		print_report(replay_report_skipped(path, a->expect_path,
		    a->o.mode, a->fmt, i + 1, r->n), quiet_drops(a, NULL,
		    NULL));
		replay_totals_expected(&r->totals, NULL, NULL);
	} else {
		print_report(x != NULL ? replay_report_expected(path, res, x,
		    a->expect_path, a->fmt, i + 1, r->n) : replay_report(path,
		    res, a->fmt, i + 1, r->n), quiet_drops(a, x, res));
		replay_totals_add(&r->totals, res->verdict);
		if (a->expect != NULL)
			replay_totals_expected(&r->totals, x, res);
	}
	fflush(stdout);
	if (r->page != NULL)
		draw_trace(r->page, path, res);
	if (i + 1 < r->n && progress_due(&r->log, now = progress_now()))
		progress_line(&r->totals, now - r->start, r->n);
}

/* Every trace in order, here: what --jobs 1 (the default) does. */
static int
run_serial(struct replay_run *r)
{
	struct replay_result *res;
	unsigned i;

	for (i = 0; i < r->n; i++) {
		if (!run_wants(r, i)) {
			run_done(r, i, NULL);
			continue;
		}
		if ((res = calloc(1, sizeof(*res))) == NULL)
			return -1;
		run_trace(r, i, res);
		run_done(r, i, res);
		free(res);
	}
	return 0;
}

/* Keeps the operands of shard K/N (all without --shard), in order. */
static unsigned
select_shard(const struct replay_args *a, char **argv, int argc, char **out)
{
	unsigned n = 0;
	int i;

	for (i = 0; i < argc; i++)
		if (a->shard_n == 0 || replay_shard_of(argv[i], a->shard_n) ==
		    a->shard_k)
			out[n++] = argv[i];
	return n;
}

/* Replays the selected traces, serially or with --jobs; prints the totals. */
static int
replay_all(const struct replay_args *a, char **operands, int count)
{
	static const struct replay_jobs_ops ops = {
		run_wants, run_trace, run_done,
	};
	struct replay_run r;
	char *text, msg[640];
	int e;

	memset(&r, 0, sizeof(r));
	r.a = a;
	if ((r.paths = calloc((size_t)count, sizeof(*r.paths))) == NULL) {
		fprintf(stderr, "vsockemu replay: out of memory\n");
		return 2;
	}
	r.n = select_shard(a, operands, count, r.paths);
	if (a->html_path != NULL && ladder_page_open(&r.page, a->html_path,
	    "vsockemu replay", msg, sizeof(msg)) < 0) {
		fprintf(stderr, "vsockemu replay: %s\n", msg);
		free(r.paths);
		return 2;
	}
	r.start = progress_now();
	progress_start(&r.log, r.start, a->verbosity == OPT_QUIET || r.n < 2);
	e = a->jobs > 1 ? replay_jobs_run(a->jobs, r.n, &ops, &r) :
	    run_serial(&r);
	free(r.paths);
	if (r.page != NULL && ladder_page_close(r.page, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "vsockemu replay: %s\n", msg);
		return 2;
	}
	if (e < 0) {
		fprintf(stderr, "vsockemu replay: out of memory\n");
		return 2;
	}
	if ((text = replay_totals_report(&r.totals, a->fmt)) != NULL) {
		fputs(text, stdout);
		free(text);
	}
	return replay_totals_status(&r.totals);
}

int
cmd_replay(int argc, char **argv)
{
	struct replay_args a;
	struct replay_script *script = NULL;
	int e;

	memset(&a, 0, sizeof(a));
	replay_options_defaults(&a.o);
	a.verbosity = OPT_NORMAL;
	a.jobs = 1;
	a.live.timeout_ms = REPLAY_LIVE_TIMEOUT_MS;
	ready_init(&a.ready, "replay");
	if ((e = parse_args(argc, argv, &a)) >= 0)
		return e;
	if (a.live.uds != NULL) {
		char msg[256];

		if (ready_prepare(&a.ready, msg, sizeof(msg)) < 0) {
			fprintf(stderr, "vsockemu replay: %s\n", msg);
			return 2;
		}
	}
	if (a.script_path != NULL && (e = load_script(a.script_path,
	    &script)) != 0)
		return e;
	if (a.expect_path != NULL && (e = load_expect(&a)) != 0) {
		replay_script_free(script);
		return e;
	}
	a.o.script = script;
	e = replay_all(&a, argv + optind, argc - optind);
	ready_finish(&a.ready);
	replay_script_free(script);
	replay_expect_free(a.expect);
	return e;
}

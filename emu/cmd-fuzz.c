/* cmd-fuzz.c - `vsockemu fuzz`: the built-in deterministic fuzzer, its progress line, findings and replay. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend-script.h"
#include "error.h"
#include "fuzz.h"
#include "options.h"
#include "pcap-writer.h"
#include "progress.h"
#include "vsockemu.h"

static const char fuzz_usage[] =
"usage: vsockemu fuzz [--seed N] [--runs N | --seconds S] [--corpus DIR]\n"
"                     [--save DIR] [-q | -v]\n"
"       vsockemu fuzz --replay FILE [--pcap OUT]\n"
"\n"
"Runs the device against a hostile fake guest and a scripted host, many\n"
"times. Each run is a fresh device and a stream of actions: guest packets\n"
"(every op and type, lying lengths, flags, credit counters near 2^32,\n"
"shrinking buf_alloc, spoofed CIDs, floods of REQUEST, RST, SHUTDOWN,\n"
"zero-length RW and CREDIT_REQUEST), host events (accept, refuse, slow\n"
"reads, EOF, errors), time jumps, and ring attacks (malformed chains,\n"
"avail-index jumps, descriptors changed after publication). After every\n"
"action the invariants of doc/fuzzing.md are checked: no write outside the\n"
"guest's writable buffers, payload within credit, one answer per REQUEST,\n"
"nothing after RST, no RST for an RST, fwd_cnt = bytes delivered, bytes\n"
"in order each way, limits kept, bounded work per event.\n"
"\n"
"The same seed and run count give the same runs and the same digest.\n"
"\n"
"  --seed N        seed of the action streams (default 1)\n"
"  --runs N        stop after N runs (default 1000 without --seconds)\n"
"  --seconds S     stop after S seconds of wall time\n"
"  --corpus DIR    start from DIR's files: pcap/pcapng captures are turned\n"
"                  into actions, other files are action streams\n"
"  --save DIR      write each finding there, minimised: NAME.actions (the\n"
"                  stream), NAME.pcap (its packets, for vsockemu dump or\n"
"                  Wireshark) and NAME.txt (what and how to reproduce)\n"
"  --replay FILE   run one action stream and print its verdict\n"
"  --pcap OUT      with --replay, record its packets to OUT\n"
"  -q, --quiet     no progress line, summary only\n"
"  -v, --verbose   report every finding, not only the first of each kind\n"
"  -h, --help      show this help\n"
"  -V, --version   show the version\n"
"\n"
"Progress: on a terminal, a line updated in place; otherwise (a CI log) a\n"
"line every 10 s: \"vsockemu fuzz: 10 s: runs N, X execs/s, ...\".\n"
"\n"
"Exit status: 0 no finding, 1 findings, 2 bad usage or unreadable input.\n";

#define POOL_MAX	256	/* inputs kept because they reached new cells */

struct input {
	uint8_t *data;
	size_t len;
};

struct fuzz_opts {
	uint64_t seed;
	uint64_t runs;
	double seconds;
	const char *corpus, *save, *replay, *pcap;
	enum opt_verbosity verbosity;	/* -q: summary only; -v: every finding */
};

/* The campaign: corpus, pool, counters. */
struct campaign {
	struct fuzz_opts o;
	struct input *corpus;
	size_t ncorpus;
	struct input pool[POOL_MAX];
	size_t npool;
	uint32_t cover[FUZZ_NSTATES][FUZZ_NOPS];
	uint64_t findings[FUZZ__COUNT];
	uint64_t runs, digest;
	double start;
};

/* For the death and watchdog handlers: the run in flight. */
static const uint8_t *crash_data;
static size_t crash_len;
static uint64_t crash_seed, crash_run;
static char crash_path[4096];

/* Writes the run in flight where --save said; async-signal-safe. */
static void
crash_save(void)
{
	int fd;

	if (crash_path[0] == '\0' || crash_data == NULL)
		return;
	if ((fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0) {
		if (write(fd, crash_data, crash_len) < 0)
			crash_path[0] = '\0';
		close(fd);
	}
}

/* A sanitizer report or a hang: save the input before dying. */
static void
on_death(void)
{
	static const char m[] = "vsockemu fuzz: run died; input saved if "
	    "--save was given (reproduce with the same --seed and --runs)\n";

	crash_save();
	if (write(2, m, sizeof(m) - 1) < 0)
		return;
}

static void
on_signal(int sig)
{
	on_death();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Sanitizer runtimes offer a death callback; absent without them. */
extern void __sanitizer_set_death_callback(void (*)(void))
    __attribute__((weak));

static void
install_handlers(void)
{
	if (__sanitizer_set_death_callback != NULL)
		__sanitizer_set_death_callback(on_death);
	signal(SIGALRM, on_signal);	/* one run spun for too long */
	signal(SIGSEGV, on_signal);
	signal(SIGBUS, on_signal);
	signal(SIGABRT, on_signal);
}

/* Reads a whole file (at most FUZZ_MAX_INPUT bytes). */
static int
read_file(const char *path, struct input *in)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return -1;
	if ((in->data = malloc(FUZZ_MAX_INPUT)) == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(in->data, 1, FUZZ_MAX_INPUT, f);
	fclose(f);
	in->len = n;
	return 0;
}

static int
has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

/* One corpus file: a capture becomes actions, anything else is actions. */
static int
load_one(const char *path, struct input *in)
{
	char msg[640];

	if (!has_suffix(path, ".pcap") && !has_suffix(path, ".pcapng"))
		return read_file(path, in);
	if ((in->data = malloc(FUZZ_MAX_INPUT)) == NULL)
		return -1;
	if (fuzz_from_pcap(path, in->data, FUZZ_MAX_INPUT, &in->len, msg,
	    sizeof(msg)) < 0) {
		fprintf(stderr, "vsockemu fuzz: %s\n", msg);
		free(in->data);
		return -1;
	}
	return 0;
}

/* Loads every regular file of dir, in name order (reproducible). */
static int
load_corpus(struct campaign *cp, const char *dir)
{
	char **paths;
	size_t n, i;

	if (fuzz_corpus_files(dir, &paths, &n) < 0) {
		fprintf(stderr, "vsockemu fuzz: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	cp->corpus = calloc(n ? n : 1, sizeof(*cp->corpus));
	for (i = 0; i < n; i++)
		if (cp->corpus != NULL &&
		    load_one(paths[i], &cp->corpus[cp->ncorpus]) == 0)
			cp->ncorpus++;
	fuzz_corpus_files_free(paths, n);
	return 0;
}

/* Run i's input: corpus first, then mutants of corpus and pool, or fresh. */
static size_t
make_input(struct campaign *cp, uint64_t i, uint8_t *buf)
{
	struct fuzz_rng r;
	const struct input *src;
	size_t nsrc = cp->ncorpus + cp->npool;
	uint64_t k;

	if (i < cp->ncorpus) {
		memcpy(buf, cp->corpus[i].data, cp->corpus[i].len);
		return cp->corpus[i].len;
	}
	fuzz_rng_init(&r, cp->o.seed, i);
	if (nsrc == 0 || fuzz_rng_next(&r) % 2 == 0)
		return fuzz_generate(&r, buf, FUZZ_MAX_INPUT);
	k = fuzz_rng_next(&r) % nsrc;
	src = k < cp->ncorpus ? &cp->corpus[k] : &cp->pool[k - cp->ncorpus];
	return fuzz_mutate(&r, src->data, src->len, buf, FUZZ_MAX_INPUT);
}

/* Cells of the op x state matrix reached so far. */
static unsigned
cells(const struct campaign *cp)
{
	unsigned s, o, n = 0;

	for (s = 0; s < FUZZ_NSTATES; s++)
		for (o = 0; o < FUZZ_NOPS; o++)
			n += cp->cover[s][o] != 0;
	return n;
}

/* Adds a run's coverage; keeps its input if it reached a new cell. */
static void
account(struct campaign *cp, const struct fuzz_result *res,
    const uint8_t *data, size_t len)
{
	unsigned s, o;
	int fresh = 0;

	for (s = 0; s < FUZZ_NSTATES; s++)
		for (o = 0; o < FUZZ_NOPS; o++) {
			fresh |= cp->cover[s][o] == 0 && res->cover[s][o] != 0;
			cp->cover[s][o] += res->cover[s][o];
		}
	if (fresh && cp->npool < POOL_MAX &&
	    (cp->pool[cp->npool].data = malloc(len ? len : 1)) != NULL) {
		memcpy(cp->pool[cp->npool].data, data, len);
		cp->pool[cp->npool++].len = len;
	}
}

/* Writes len bytes to path; 0 or -1 (reported). */
static int
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "vsockemu fuzz: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Replays data into a vsockmon pcap at path. */
static int
record_pcap(const char *path, const uint8_t *data, size_t len,
    struct fuzz_result *res)
{
	struct fuzz_exec_opts eo = { vsock_pcap_writer_tap, NULL };
	struct vsock_pcap_writer *w;
	char msg[512];

	if (vsock_pcap_writer_open(path, &w, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "vsockemu fuzz: %s\n", msg);
		return -1;
	}
	eo.tap_ctx = w;
	fuzz_exec(data, len, &eo, res);
	return vsock_pcap_writer_close(w) < 0 ? -1 : 0;
}

/* Minimises a finding and saves it as .actions, .pcap and .txt. */
static void
save_finding(struct campaign *cp, uint64_t run, uint8_t *data, size_t len,
    const struct fuzz_result *res)
{
	const char *kind = fuzz_finding_name(res->finding);
	char base[1024], path[1100], txt[6000];
	struct fuzz_result again;
	size_t small;

	small = fuzz_minimize(data, len, res->finding, 400);
	snprintf(base, sizeof(base), "%s/%s-seed%" PRIu64 "-run%" PRIu64,
	    cp->o.save, kind, cp->o.seed, run);
	snprintf(path, sizeof(path), "%s.actions", base);
	write_file(path, data, small);
	snprintf(path, sizeof(path), "%s.pcap", base);
	record_pcap(path, data, small, &again);
	snprintf(txt, sizeof(txt), "finding: %s\nwhat: %s\nat action: %zu "
	    "of %zu (minimised from %zu to %zu bytes)\nfound by: vsockemu "
	    "fuzz --seed %" PRIu64 " --runs %" PRIu64 "\nreplay: vsockemu "
	    "fuzz --replay %s.actions\nafter minimising: %s\n", kind,
	    res->what, again.action, again.nactions, len, small, cp->o.seed,
	    run + 1, base, again.what);
	snprintf(path, sizeof(path), "%s.txt", base);
	write_file(path, txt, strlen(txt));
	fprintf(stderr, "vsockemu fuzz: saved %s.{actions,pcap,txt}\n", base);
}

/* Reports a finding; the first of each kind is minimised and saved. */
static void
finding(struct campaign *cp, uint64_t run, uint8_t *data, size_t len,
    const struct fuzz_result *res)
{
	if (cp->findings[res->finding]++ > 0 && cp->o.verbosity !=
	    OPT_VERBOSE)
		return;
	if (cp->o.verbosity != OPT_QUIET && isatty(2))
		fputc('\n', stderr);	/* ends the in-place line */
	fprintf(stderr, "vsockemu fuzz: FINDING %s in run %" PRIu64 " "
	    "(action %zu): %s\n  reproduce: vsockemu fuzz --seed %" PRIu64
	    " --runs %" PRIu64 "\n", fuzz_finding_name(res->finding), run,
	    res->action, res->what, cp->o.seed, run + 1);
	if (cp->o.save != NULL && cp->findings[res->finding] == 1)
		save_finding(cp, run, data, len, res);
}

static uint64_t
total_findings(const struct campaign *cp)
{
	uint64_t n = 0;
	int k;

	for (k = 1; k < FUZZ__COUNT; k++)
		n += cp->findings[k];
	return n;
}

static void
progress(const struct campaign *cp, double t)
{
	fprintf(stderr, "\rruns %" PRIu64 "  %.0f execs/s  findings %" PRIu64
	    "  op x state cells %u/%u  pool %zu   ", cp->runs,
	    cp->runs / (t > 0 ? t : 1e-9), total_findings(cp), cells(cp),
	    FUZZ_NSTATES * FUZZ_NOPS, cp->npool);
}

/* The line a CI log gets every PROGRESS_INTERVAL when stderr is no terminal. */
static void
progress_line(const struct campaign *cp, double t)
{
	fprintf(stderr, "vsockemu fuzz: %.0f s: runs %" PRIu64 ", %.0f "
	    "execs/s, findings %" PRIu64 ", op x state cells %u/%u, pool %zu\n",
	    t, cp->runs, cp->runs / (t > 0 ? t : 1e-9), total_findings(cp),
	    cells(cp), FUZZ_NSTATES * FUZZ_NOPS, cp->npool);
}

/* The op x state matrix, one row per state, counts per guest op. */
static void
print_matrix(const struct campaign *cp)
{
	static const char *const states[FUZZ_NSTATES] = { "none",
	    "g-connecting", "h-connecting", "established", "closing",
	    "killed" };
	static const char *const ops[FUZZ_NOPS] = { "INVAL", "REQ", "RESP",
	    "RST", "SHUT", "RW", "CR_UPD", "CR_REQ", "other" };
	unsigned s, o;

	printf("%-13s", "state\\op");
	for (o = 0; o < FUZZ_NOPS; o++)
		printf(" %7s", ops[o]);
	putchar('\n');
	for (s = 0; s < FUZZ_NSTATES; s++) {
		printf("%-13s", states[s]);
		for (o = 0; o < FUZZ_NOPS; o++)
			printf(" %7" PRIu32, cp->cover[s][o]);
		putchar('\n');
	}
}

static void
summary(const struct campaign *cp, double t)
{
	int k;

	if (cp->o.verbosity != OPT_QUIET && isatty(2))
		fputc('\n', stderr);	/* ends the in-place line */
	printf("runs %" PRIu64 " in %.1f s, %.0f execs/s, seed %" PRIu64
	    ", corpus %zu, pool %zu\n", cp->runs, t,
	    cp->runs / (t > 0 ? t : 1e-9), cp->o.seed, cp->ncorpus,
	    cp->npool);
	printf("findings %" PRIu64, total_findings(cp));
	for (k = 1; k < FUZZ__COUNT; k++)
		if (cp->findings[k] > 0)
			printf("  %s %" PRIu64, fuzz_finding_name(k),
			    cp->findings[k]);
	printf("\nop x state cells %u/%u (guest packets the device "
	    "processed):\n", cells(cp), FUZZ_NSTATES * FUZZ_NOPS);
	print_matrix(cp);
	printf("digest %016" PRIx64 "\n", cp->digest);
}

/* The campaign loop: one run at a time until runs or seconds are spent. */
static int
campaign(struct campaign *cp)
{
	static uint8_t buf[FUZZ_MAX_INPUT];
	struct fuzz_result res;
	double t = 0, last = 0;
	struct progress log;
	size_t len;

	cp->start = progress_now();
	progress_start(&log, cp->start, cp->o.verbosity == OPT_QUIET);
	cp->digest = SCRIPT_HASH_INIT;
	for (cp->runs = 0; cp->o.runs == 0 || cp->runs < cp->o.runs;) {
		len = make_input(cp, cp->runs, buf);
		crash_data = buf;
		crash_len = len;
		crash_run = cp->runs;
		if (cp->o.save != NULL)
			snprintf(crash_path, sizeof(crash_path), "%s/crash-seed%"
			    PRIu64 "-run%" PRIu64 ".actions", cp->o.save,
			    crash_seed, crash_run);
		alarm(20);
		if (fuzz_exec(buf, len, NULL, &res) < 0) {
			fprintf(stderr, "vsockemu fuzz: out of memory\n");
			return 2;
		}
		alarm(0);
		cp->digest = script_hash(cp->digest, &res.digest,
		    sizeof(res.digest));
		account(cp, &res, buf, len);
		if (res.finding != FUZZ_OK)
			finding(cp, cp->runs, buf, len, &res);
		cp->runs++;
		t = progress_now() - cp->start;
		if (cp->o.seconds > 0 && t >= cp->o.seconds)
			break;
		if (cp->o.verbosity != OPT_QUIET && isatty(2) &&
		    t - last >= 0.5) {
			progress(cp, t);
			last = t;
		}
		if (progress_due(&log, t + cp->start))
			progress_line(cp, t);
	}
	crash_data = NULL;
	summary(cp, t);
	return total_findings(cp) > 0 ? 1 : 0;
}

/* --replay: one stream, its verdict, optionally its packets. */
static int
replay(const struct fuzz_opts *o)
{
	struct fuzz_result res;
	struct input in;

	if (read_file(o->replay, &in) < 0) {
		fprintf(stderr, "vsockemu fuzz: %s: %s\n", o->replay,
		    strerror(errno));
		return 2;
	}
	crash_data = in.data;
	crash_len = in.len;
	if (o->pcap != NULL ? record_pcap(o->pcap, in.data, in.len,
	    &res) < 0 : fuzz_exec(in.data, in.len, NULL, &res) < 0) {
		free(in.data);
		return 2;
	}
	printf("%s: %zu actions, %" PRIu64 " packets to the host, %" PRIu64
	    " to the guest, digest %016" PRIx64 "\n", o->replay, res.nactions,
	    res.g2h, res.h2g, res.digest);
	if (res.finding != FUZZ_OK)
		printf("FINDING %s at action %zu: %s\n",
		    fuzz_finding_name(res.finding), res.action, res.what);
	else
		printf("no finding\n");
	free(in.data);
	return res.finding != FUZZ_OK;
}

static const struct opt_cmd fuzz_cmd = {
	"fuzz", "vsockemu fuzz [options] | vsockemu fuzz --replay FILE "
	    "[--pcap OUT]", fuzz_usage,
};

/* The options --replay runs without; a campaign's. */
static bool
campaign_options(const struct fuzz_opts *o, bool seed_given)
{
	return seed_given || o->runs != 0 || o->seconds > 0 ||
	    o->corpus != NULL || o->save != NULL;
}

/* Takes option c's argument; 0, or -1 when it is bad. */
static int
parse_valued(struct fuzz_opts *o, int c, const char *v)
{
	uint64_t n;

	switch (c) {
	case 's':
		return opt_u64(v, UINT64_MAX, &o->seed);
	case 'r':
		return opt_u64(v, UINT64_MAX, &o->runs) < 0 || o->runs == 0 ?
		    -1 : 0;
	case 't':
		if (opt_u64(v, UINT32_MAX, &n) < 0 || n == 0)
			return -1;
		o->seconds = (double)n;
		return 0;
	case 'c': o->corpus = v; return 0;
	case 'o': o->save = v; return 0;
	case 'p': o->replay = v; return 0;
	case 'w': o->pcap = v; return 0;
	}
	return -1;
}

/* -1 to go on, else the exit status (0: --help/--version; 2: reported). */
static int
parse_opts(int argc, char **argv, struct fuzz_opts *o)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "runs", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 't' },
		{ "corpus", required_argument, NULL, 'c' },
		{ "save", required_argument, NULL, 'o' },
		{ "replay", required_argument, NULL, 'p' },
		{ "pcap", required_argument, NULL, 'w' },
		OPT_COMMON_LONG,
		{ NULL, 0, NULL, 0 },
	};
	bool seed_given = false;
	int c, i;

	while ((c = opt_next(&fuzz_cmd, argc, argv, "", opts,
	    &o->verbosity)) != OPT_END) {
		if (c == OPT_EXIT_OK)
			return 0;
		if (c == OPT_EXIT_USAGE)
			return 2;
		seed_given |= c == 's';
		if (parse_valued(o, c, optarg) < 0) {
			for (i = 0; opts[i].val != c; i++)
				continue;
			return opt_usage(&fuzz_cmd, "bad --%s '%s'",
			    opts[i].name, optarg);
		}
	}
	if (optind != argc)
		return opt_usage(&fuzz_cmd, "unexpected operand '%s'",
		    argv[optind]);
	if (o->runs != 0 && o->seconds > 0)
		return opt_usage(&fuzz_cmd, "--runs and --seconds conflict");
	if (o->replay != NULL && campaign_options(o, seed_given))
		return opt_usage(&fuzz_cmd, "--replay runs one stream: no "
		    "--seed, --runs, --seconds, --corpus or --save");
	if (o->pcap != NULL && o->replay == NULL)
		return opt_usage(&fuzz_cmd, "--pcap needs --replay");
	if (o->runs == 0 && o->seconds == 0)
		o->runs = 1000;
	return -1;
}

int
cmd_fuzz(int argc, char **argv)
{
	static struct campaign cp;
	int e;

	memset(&cp, 0, sizeof(cp));
	cp.o.seed = 1;
	cp.o.verbosity = OPT_NORMAL;
	if ((e = parse_opts(argc, argv, &cp.o)) >= 0)
		return e;
	crash_seed = cp.o.seed;
	install_handlers();
	if (cp.o.replay != NULL)
		return replay(&cp.o);
	if (cp.o.save != NULL && mkdir(cp.o.save, 0755) < 0 &&
	    errno != EEXIST) {
		fprintf(stderr, "vsockemu fuzz: %s: %s\n", cp.o.save,
		    strerror(errno));
		return 2;
	}
	if (cp.o.corpus != NULL && load_corpus(&cp, cp.o.corpus) < 0)
		return 2;
	return campaign(&cp);
}

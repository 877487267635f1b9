/* cmd-serve.c - `vsockemu serve`: a Firecracker-compatible vsock endpoint with a simulated guest. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend-muxer.h"
#include "capture.h"
#include "device.h"
#include "error.h"
#include "event-log.h"
#include "guest-apps.h"
#include "guest-endpoint.h"
#include "guest-thread.h"
#include "host-side.h"
#include "loop.h"
#include "mem.h"
#include "options.h"
#include "progress.h"
#include "ready.h"
#include "serve-control.h"
#include "serve-stats.h"
#include "sim-guest.h"
#include "vm-serve.h"
#include "vm-spec.h"
#include "sock.h"
#include "vsock.h"
#include "vsockemu.h"

#define SERVE_MAX_GUEST		64
/* --halt-poll-ns's bound: 10 ms, fifty times KVM's default. */
#define SERVE_HALT_POLL_MAX_NS	UINT64_C(10000000)

static const char serve_usage[] =
"usage: vsockemu serve [options]\n"
"\n"
"Runs an emulated virtio-vsock device whose host side speaks Firecracker's\n"
"and Cloud Hypervisor's AF_UNIX protocol, with a simulated guest inside the\n"
"same process. Host software written for a microVM talks to it unchanged:\n"
"\n"
"  host -> guest  connect to the main socket, send \"CONNECT <port>\\n\",\n"
"                 read \"OK <local_port>\\n\", then talk to the guest service\n"
"                 (a SEQPACKET service: the same from a SOCK_SEQPACKET\n"
"                 client of the main socket's path + .seqpacket, e.g.\n"
"                 ./v.sock.seqpacket; each line is one message there, and\n"
"                 each message stays one)\n"
"  guest -> host  the guest connects to host port P: vsockemu connects to\n"
"                 the AF_UNIX socket PATH_P (e.g. ./v.sock_1234), of type\n"
"                 SOCK_SEQPACKET for a SEQPACKET connection\n"
"\n"
"Options:\n"
"  --uds PATH             main host socket (default ./v.sock)\n"
"                         (PATH.guest too: programs under 'vsockemu run\n"
"                         --guest' get guest sockets there)\n"
"  --cid N                guest CID (default 3; 3 to 0xfffffffe)\n"
"  --vsock cid=N,socket=PATH[,iommu=on|off][,id=ID][,pci_segment=N]\n"
"                         the same in Cloud Hypervisor's form (iommu,\n"
"                         id and pci_segment are accepted and have no\n"
"                         effect here; iommu=on says so)\n"
"  --vm cid=N,uds=PATH[,groups=G1+G2][,guest=PORT=SERVICE]...\n"
"                         one more simulated VM in this process, with\n"
"                         its own device, host socket and services\n"
"                         (guest= as --guest; default 52=echo);\n"
"                         repeatable, not with --uds, --cid, --vsock,\n"
"                         --guest or --guest-connect. A guest connecting\n"
"                         to another VM's CID reaches that VM's guest when\n"
"                         they share a group (default \"default\"), as\n"
"                         vhost-device-vsock does; otherwise RST.\n"
"                         PATH.guest's \"CONNECT <cid> <port>\" starts\n"
"                         such a connection from a local client. Not yet\n"
"                         with --log or --control; --ready-fd's line has\n"
"                         one cid= uds= pair per VM\n"
"  --guest PORT=SERVICE[,seqpacket]\n"
"                         what listens in the guest on PORT (repeatable);\n"
"                         SERVICE is echo, discard, source:BYTES (sends that\n"
"                         many pattern bytes, then closes) or unix:PATH (each\n"
"                         connection is bridged to the AF_UNIX server PATH,\n"
"                         which plays the guest application; when PATH\n"
"                         takes no connection the guest refuses: no OK).\n"
"                         ,seqpacket: a SEQPACKET socket (a unix: server\n"
"                         is then SOCK_SEQPACKET; messages up to 64 KiB).\n"
"                         Default 52=echo\n"
"  --guest-connect PATH=PORT[,seqpacket]\n"
"                         listen on PATH; each local client becomes a guest\n"
"                         connection to host port PORT (so it reaches\n"
"                         UDS_PORT), letting a local program play a guest\n"
"                         client (repeatable); ,seqpacket: PATH and the\n"
"                         connection are SEQPACKET\n"
"  --seqpacket            every service and --guest-connect is SEQPACKET, as\n"
"                         if each said ,seqpacket. With either form the\n"
"                         device offers VIRTIO_VSOCK_F_SEQPACKET and host\n"
"                         clients of SEQPACKET services use PATH.seqpacket\n"
"                         (--uds PATH); a client of the other socket type\n"
"                         is closed without OK, as Linux refuses it\n"
"  --profile NAME         what the device reproduces (buffers, credit, close\n"
"                         and reset rules): firecracker (Firecracker's, 64\n"
"                         KiB, asks for credit, keeps half-close; default)\n"
"                         or linux (Linux 6.1's vhost-vsock host, 256 KiB,\n"
"                         never asks for credit; see doc/connection-states.md)\n"
"  --max-conns N          connection limit (default 1023, Firecracker's)\n"
"  --pcap FILE            record every packet crossing the device, both ways,\n"
"                         as a vsockmon pcap (LINKTYPE_VSOCK) that Wireshark\n"
"                         and tcpdump open; '-' writes to stdout, e.g.\n"
"                         vsockemu serve --pcap - | wireshark -k -i -\n"
"                         A write that fails (Wireshark closed: EPIPE)\n"
"                         stops the capture with one message; serving goes on\n"
"  --line-timeout MS      close host sockets that have not sent a complete\n"
"                         CONNECT line within MS milliseconds (default 5000)\n"
"  --log FILE             write one JSON line per connection change and\n"
"                         device event to FILE ('-': stderr); the schema is\n"
"                         doc/events.md\n"
"  --ready-fd N           once every socket listens, write one line to fd N\n"
"                         (above 2) and close it: READY cid=3 uds=./v.sock\n"
"                         With NOTIFY_SOCKET set (a path or @abstract), send\n"
"                         READY=1, MAINPID= and STATUS= there as sd_notify\n"
"                         does (STOPPING=1 at exit); failures there warn\n"
"  --pidfile PATH         write the pid there (atomically) before readiness;\n"
"                         removed at exit\n"
"  --guest-thread         run the simulated guest (its stack and the --guest\n"
"                         and --guest-connect services) on its own thread,\n"
"                         as a VM's vCPU: it meets the device only in guest\n"
"                         memory and two eventfds (kick, interrupt), so the\n"
"                         credit window pipelines over two cores. Not with\n"
"                         --vm yet\n"
"  --halt-poll-ns NS      with --guest-thread: the guest thread polls for an\n"
"                         interrupt up to NS before it sleeps, adapted as a\n"
"                         KVM vCPU's halt polling (default 200000, KVM's),\n"
"                         and only while no task waits for a CPU (runnable\n"
"                         tasks in /proc/loadavg against the CPUs online).\n"
"                         0: it sleeps at once\n"
"  --control PATH         a control socket taking one command a line, each\n"
"                         answered with one JSON line (vsockemu ctl PATH\n"
"                         COMMAND sends one): reset [cid=N], refuse PORT,\n"
"                         accept PORT, delay PORT MS, rst PORT|all,\n"
"                         pause-rx, resume-rx, stats (doc/faults.md)\n"
"  -v, --verbose          say each connection change on stderr, one line\n"
"                         each (why a connect was refused, who reset), print\n"
"                         counters when stopping and, when stderr is no\n"
"                         terminal, a liveness line every 10 s:\n"
"                         vsockemu serve: 60 s: connections 2 open, 9 total,\n"
"                         bytes 4096 to host, 512 to guest\n"
"  --progress-interval MS  that line's interval (default 10000)\n"
"  -q, --quiet            print nothing but errors (no 'guest CID 3 on\n"
"                         ./v.sock' line once every socket listens)\n"
"  -h, --help             show this help\n"
"  -V, --version          show the version\n"
"\n"
"Example (the Firecracker documentation's, unchanged):\n"
"  vsockemu serve &\n"
"  socat - UNIX-CONNECT:./v.sock     # type: CONNECT 52\n"
"                                    # get:  OK 1073741824, then an echo\n"
"\n"
"SIGINT, SIGTERM or SIGHUP resets every connection, removes the socket\n"
"files vsockemu created and exits 0; SIGPIPE is ignored. At the fd limit\n"
"(ulimit -n) host clients wait in the listen backlog, one message says so,\n"
"and accepting resumes as fds are freed. Bad options or unusable paths:\n"
"exit 2.\n"
"SIGUSR1 prints one line of live counters to stderr (even with -q):\n"
"  vsockemu serve: stats guest_sockets=N guest_apps=N device_conns=N conns_opened=N\n";

static const struct opt_cmd serve_cmd = {
	"serve", "vsockemu serve [options]", serve_usage,
};

struct serve_opts {
	const char *uds;
	uint64_t cid;
	struct gapp_listen_spec guest[SERVE_MAX_GUEST];
	unsigned nguest;
	struct gapp_connect_spec gconn[SERVE_MAX_GUEST];
	unsigned ngconn;
	bool seqpacket;
	enum vsock_profile profile;
	uint32_t max_conns;
	uint64_t line_timeout_ms;
	const char *pcap;
	const char *log;		/* --log FILE */
	const char *control;		/* --control PATH */
	enum opt_verbosity verbose;
	struct ready ready;		/* --ready-fd, --pidfile */
	double progress_interval;	/* seconds between -v liveness lines */
	struct vm_spec vm[VM_MAX];	/* --vm: several VMs (vm-serve.c) */
	unsigned nvm;
	bool single_vm_given;		/* --uds, --cid, --vsock, --guest* */
	bool guest_thread;		/* --guest-thread */
	uint64_t halt_poll_ns;		/* --halt-poll-ns */
	const char *halt_poll_arg;	/* as given, NULL: not */
};

struct serve {
	struct serve_opts o;
	struct loop *loop;
	struct fg_mem mem;
	struct fg_vsock *vs;
	struct vsock_device *dev;
	struct host_side host;		/* the muxer on s->loop */
	struct gapps *apps;
	struct gep *gep;			/* UDS.guest: run --guest */
	struct capture cap;
	struct event_log *events;	/* --log, -v */
	struct serve_control ctl;	/* --control */
	struct guest_thread *gt;	/* --guest-thread, else NULL */
	struct sim_guest_signals sig;	/* the guest's kick, the device's irq */
};

/* Reports a bad option argument; the caller exits 2. */
static int
bad(const char *opt, const char *arg, const char *why)
{
	opt_usage(&serve_cmd, "%s '%s': %s", opt, arg, why);
	return -1;
}

/*
 * Cuts a trailing ",seqpacket" off arg: that service or connection is
 * SEQPACKET (0 leaves it to --seqpacket). Only at the end, so a unix:
 * PATH may hold commas.
 */
static uint16_t
cut_type(char *arg)
{
	static const char suffix[] = ",seqpacket";
	size_t n = strlen(arg), k = sizeof(suffix) - 1;

	if (n <= k || strcmp(arg + n - k, suffix) != 0)
		return 0;
	arg[n - k] = '\0';
	return VIRTIO_VSOCK_TYPE_SEQPACKET;
}

/* --guest PORT=SERVICE[,seqpacket] */
static int
parse_guest(struct serve_opts *o, char *arg)
{
	char *eq = strchr(arg, '=');
	struct gapp_listen_spec *s = &o->guest[o->nguest];
	uint64_t port;
	uint16_t type = cut_type(arg);

	if (o->nguest == SERVE_MAX_GUEST)
		return bad("--guest", arg, "too many");
	if (eq == NULL)
		return bad("--guest", arg, "want PORT=SERVICE, e.g. 52=echo");
	*eq = '\0';
	if (opt_u64(arg, UINT32_MAX - 1, &port) < 0)
		return bad("--guest", arg, "port is not a number below 2^32-1");
	memset(s, 0, sizeof(*s));
	s->port = (uint32_t)port;
	s->type = type;
	if (gapp_parse_service(eq + 1, s) < 0)
		return bad("--guest", eq + 1, "service must be echo, discard, "
		    "source:BYTES or unix:PATH, then ,seqpacket if it is one");
	o->nguest++;
	return 0;
}

/* --guest-connect PATH=PORT[,seqpacket] */
static int
parse_gconn(struct serve_opts *o, char *arg)
{
	uint16_t type = cut_type(arg);
	char *eq = strrchr(arg, '=');
	uint64_t port;

	if (o->ngconn == SERVE_MAX_GUEST)
		return bad("--guest-connect", arg, "too many");
	if (eq == NULL || eq == arg)
		return bad("--guest-connect", arg, "want PATH=PORT");
	*eq = '\0';
	if (opt_u64(eq + 1, UINT32_MAX - 1, &port) < 0)
		return bad("--guest-connect", eq + 1, "port is not a number");
	o->gconn[o->ngconn].path = arg;
	o->gconn[o->ngconn].port = (uint32_t)port;
	o->gconn[o->ngconn].type = type;
	o->ngconn++;
	return 0;
}

/* --vsock cid=N,socket=PATH[,iommu=..,id=..,pci_segment=..] (Cloud Hypervisor's). */
static int
parse_ch_vsock(struct serve_opts *o, char *arg)
{
	struct vm_spec v;
	char err[256];

	if (vm_spec_parse(arg, VM_FORM_CH, &v, err, sizeof(err)) < 0)
		return bad("--vsock", arg, err);
	o->cid = v.cid;
	o->uds = v.socket;
	/*
	 * Cloud Hypervisor's iommu=on puts its device behind its
	 * virtio-iommu (VsockConfig, vm_config.rs); a simulated guest has
	 * no IOMMU, so nothing changes: said, not refused.
	 */
	if (v.iommu)
		fprintf(stderr, "vsockemu serve: --vsock iommu=on has no "
		    "effect: the simulated guest has no IOMMU\n");
	return 0;
}

/* --vm cid=N,uds=PATH[,groups=...][,guest=PORT=SERVICE]... */
static int
parse_vm(struct serve_opts *o, char *arg)
{
	char err[256];

	if (o->nvm == VM_MAX)
		return bad("--vm", arg, "too many VMs");
	if (vm_spec_parse(arg, VM_FORM_SERVE, &o->vm[o->nvm], err,
	    sizeof(err)) < 0)
		return bad("--vm", arg, err);
	o->nvm++;
	return 0;
}

/* Several VMs (--vm): checked together; the single VM's options refused. */
static int
check_vms(const struct serve_opts *o)
{
	char err[256];

	if (o->single_vm_given)
		snprintf(err, sizeof(err), "does not go with --uds, --cid, "
		    "--vsock, --guest or --guest-connect");
	/* Not built for several VMs yet: refused, never silently ignored. */
	else if (o->log != NULL || o->control != NULL)
		snprintf(err, sizeof(err), "does not go with --log or "
		    "--control yet (one VM only)");
	else if (vm_specs_check(o->vm, o->nvm, err, sizeof(err)) == 0)
		return 0;
	opt_usage(&serve_cmd, "--vm: %s", err);
	return -1;
}

/*
 * Does the device offer VIRTIO_VSOCK_F_SEQPACKET (and the muxer listen on
 * UDS.seqpacket)? With --seqpacket, or when one service or --guest-connect
 * is SEQPACKET by itself.
 */
static bool
offer_seqpacket(const struct serve_opts *o)
{
	unsigned i;

	if (o->seqpacket)
		return true;
	for (i = 0; i < o->nguest; i++)
		if (o->guest[i].type == VIRTIO_VSOCK_TYPE_SEQPACKET)
			return true;
	for (i = 0; i < o->ngconn; i++)
		if (o->gconn[i].type == VIRTIO_VSOCK_TYPE_SEQPACKET)
			return true;
	return false;
}

static int
parse_opts(int argc, char **argv, struct serve_opts *o)
{
	static const struct option opts[] = {
		{ "uds", required_argument, NULL, 'u' },
		{ "cid", required_argument, NULL, 'c' },
		{ "vsock", required_argument, NULL, 'k' },
		{ "guest", required_argument, NULL, 'g' },
		{ "guest-connect", required_argument, NULL, 'G' },
		{ "seqpacket", no_argument, NULL, 's' },
		{ "profile", required_argument, NULL, 'p' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "line-timeout", required_argument, NULL, 't' },
		{ "pcap", required_argument, NULL, 'P' },
		{ "log", required_argument, NULL, 'L' },
		READY_LONG,
		PROGRESS_LONG,
		{ "control", required_argument, NULL, 'C' },
		{ "vm", required_argument, NULL, 'M' },
		{ "guest-thread", no_argument, NULL, 'T' },
		{ "halt-poll-ns", required_argument, NULL, 'H' },
		OPT_COMMON_LONG,
		{ NULL, 0, NULL, 0 },
	};
	const char *why;
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	ready_init(&o->ready, "serve");
	o->progress_interval = PROGRESS_INTERVAL;
	o->uds = "./v.sock";
	o->cid = 3;
	o->max_conns = VSOCK_DEFAULT_MAX_CONNS;
	o->line_timeout_ms = 5000;
	o->halt_poll_ns = GUEST_THREAD_HALT_POLL_NS;
	o->verbose = OPT_NORMAL;
	optind = 1;
	while ((c = opt_next(&serve_cmd, argc, argv, "", opts,
	    &o->verbose)) != OPT_END) {
		switch (c) {
		case 'u':
			o->uds = optarg;
			break;
		case 'c':
			if (opt_u64(optarg, UINT64_MAX, &o->cid) < 0)
				return bad("--cid", optarg, "not a number");
			break;
		case 'k':
			if (parse_ch_vsock(o, optarg) < 0)
				return -1;
			break;
		case 'g':
			if (parse_guest(o, optarg) < 0)
				return -1;
			break;
		case 'G':
			if (parse_gconn(o, optarg) < 0)
				return -1;
			break;
		case 's':
			o->seqpacket = true;
			break;
		case 'p':
			if (opt_profile(optarg, &o->profile) < 0)
				return bad("--profile", optarg,
				    "want firecracker or linux");
			break;
		case 'm':
			if (opt_u64(optarg, UINT32_C(1) << 30, &v) < 0 ||
			    v == 0)
				return bad("--max-conns", optarg,
				    "want a number from 1 to 2^30");
			o->max_conns = (uint32_t)v;
			break;
		case 't':
			if (opt_u64(optarg, 3600000, &o->line_timeout_ms) < 0 ||
			    o->line_timeout_ms == 0)
				return bad("--line-timeout", optarg,
				    "want milliseconds from 1 to 3600000");
			break;
		case 'P':
			o->pcap = optarg;
			break;
		case 'L':
			o->log = optarg;
			break;
		case READY_OPT_FD:
		case READY_OPT_PIDFILE:
			if (ready_option(&o->ready, c, optarg, &why) < 0)
				return bad(c == READY_OPT_FD ? "--ready-fd" :
				    "--pidfile", optarg, why);
			break;
		case PROGRESS_OPT_INTERVAL:
			if (progress_option(optarg, &o->progress_interval,
			    &why) < 0)
				return bad("--progress-interval", optarg, why);
			break;
		case 'C':
			o->control = optarg;
			break;
		case 'T':
			o->guest_thread = true;
			break;
		case 'H':
			if (opt_u64(optarg, SERVE_HALT_POLL_MAX_NS,
			    &o->halt_poll_ns) < 0)
				return bad("--halt-poll-ns", optarg,
				    "want nanoseconds from 0 to 10000000");
			o->halt_poll_arg = optarg;
			break;
		case 'M':
			if (parse_vm(o, optarg) < 0)
				return -1;
			break;
		case OPT_EXIT_OK:
			return 1;
		default:
			return -1;	/* said by opt_next */
		}
		/* Only a char: strchr finds READY_OPT_FD (0x200) as NUL. */
		if (c > 0 && c <= UCHAR_MAX && strchr("uckgG", c) != NULL)
			o->single_vm_given = true;
	}
	if (optind != argc)
		return bad("serve", argv[optind], "unexpected argument");
	if (o->nvm > 0 && o->guest_thread)
		return bad("--guest-thread", "--vm", "not together yet");
	if (o->halt_poll_arg != NULL && !o->guest_thread)
		return bad("--halt-poll-ns", o->halt_poll_arg,
		    "only with --guest-thread (only the guest thread polls)");
	if (o->nvm > 0)
		return check_vms(o);
	if (!vsock_cid_valid(o->cid)) {
		char num[24];

		snprintf(num, sizeof(num), "%llu", (unsigned long long)o->cid);
		return bad("--cid", num, "not a guest CID (0, 1, 2 and "
		    "0xffffffff are reserved, above 32 bits unsupported)");
	}
	if (o->nguest == 0) {
		o->guest[0].port = 52;
		o->guest[0].service = GAPP_ECHO;
		o->nguest = 1;
	}
	return 0;
}

/* Opens the capture, if asked for; the device is tapped into it when made. */
static int
start_pcap(struct serve *s, char *err, size_t errlen)
{
	if (s->o.pcap == NULL)
		return 0;
	return capture_open(&s->cap, "serve", s->o.pcap, err, errlen);
}

/* Opens the event log (--log FILE, -v one-liners). */
static int
start_events(struct serve *s, char *err, size_t errlen)
{
	struct event_log_config c = { .cmd = "serve", .path = s->o.log,
	    .human = s->o.verbose >= OPT_VERBOSE, .uds = s->o.uds,
	    .clock = loop_now };

	return event_log_open(&c, &s->events, err, errlen);
}

/* The guest's applications' round (sim_guest_apps_fn). */
static bool
run_apps(void *ctx, uint64_t now)
{
	return gapps_run(ctx, now);
}

/* Lets guest, device and guest applications run until nothing moves. */
static void
settle(struct serve *s, uint64_t now)
{
	sim_guest_settle(&s->sig, s->dev, s->vs, run_apps, s->apps, now);
}

static uint64_t
min3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a < b ? a : b;

	return m < c ? m : c;
}

/* Builds the guest memory, the guest stack and the device over it. */
static int
build_guest(struct serve *s, char *err, size_t errlen)
{
	struct host_device_opts ho = { .cid = s->o.cid,
	    .profile = s->o.profile, .seqpacket = offer_seqpacket(&s->o),
	    .max_conns = s->o.max_conns, .events = s->events };
	const char *why = NULL;
	int e;

	if ((e = host_device_new(&s->host, &ho, &s->cap, &s->dev, &why)) < 0) {
		snprintf(err, errlen, "%s", why ? why : vse_strerror(e));
		return -1;
	}
	if (s->gt != NULL) {
		/* The device's interrupt and the guest's kick cross threads. */
		vsock_device_set_notify(s->dev, guest_thread_irq, s->gt);
		return sim_guest_new(s->dev, s->o.cid, s->o.max_conns +
		    SERVE_MAX_GUEST + 16, guest_thread_kick, s->gt, &s->mem,
		    &s->vs, err, errlen);
	}
	vsock_device_set_notify(s->dev, sim_guest_on_irq, &s->sig);
	return sim_guest_new(s->dev, s->o.cid, s->o.max_conns +
	    SERVE_MAX_GUEST + 16, sim_guest_on_kick, &s->sig, &s->mem, &s->vs,
	    err, errlen);
}

/* --guest-thread: the guest kicked (on G); the device's turn (on D). */
static void
on_kick_fd(void *ctx, int fd, unsigned events, uint64_t now)
{
	struct serve *s = ctx;

	(void)fd;
	(void)events;
	if (guest_thread_take_kick(s->gt))
		vsock_device_kick(s->dev, VSOCK_QUEUE_TX, now);
}

/* --guest-thread: G's turn for the guest's services (run_apps). */
static const struct guest_thread_ops apps_on_g = { .run = run_apps };

/*
 * --guest-thread: the thread and its eventfds before the guest (its kick
 * hook), and the loop the guest's services watch their fds on.
 */
static int
start_guest_thread(struct serve *s, char *err, size_t errlen)
{
	if (!s->o.guest_thread)
		return 0;
	if (guest_thread_new(loop_now, &s->gt) < 0) {
		snprintf(err, errlen, "cannot create the guest thread");
		return -1;
	}
	guest_thread_set_halt_poll(s->gt, s->o.halt_poll_ns, false, NULL);
	return 0;
}

/* The loop the guest's services use: G's with --guest-thread. */
static struct loop *
guest_loop(struct serve *s)
{
	return s->gt != NULL ? guest_thread_loop(s->gt) : s->loop;
}

/* Prints counters when stopping (-v). */
static void
print_stats(const struct serve *s)
{
	const struct vsock_device_stats *d = vsock_device_stats(s->dev);
	const struct muxer_stats *m = muxer_stats(s->host.mx);

	fprintf(stderr, "vsockemu serve: %llu connections, packets %llu to host / "
	    "%llu to guest, bytes %llu / %llu, RST sent %llu; host sockets "
	    "%llu accepted, %llu bad lines, %llu line timeouts, %llu accept "
	    "pauses (fd limit)\n",
	    (unsigned long long)d->conns_opened,
	    (unsigned long long)d->g2h_packets,
	    (unsigned long long)d->h2g_packets,
	    (unsigned long long)d->g2h_bytes, (unsigned long long)d->h2g_bytes,
	    (unsigned long long)d->rst_sent, (unsigned long long)m->accepted,
	    (unsigned long long)m->bad_lines,
	    (unsigned long long)m->line_timeouts,
	    (unsigned long long)m->accept_backoffs);
}

/* SIGUSR1: one line of live counters on stderr (make soak reads it). */
static void
print_counters(const struct serve *s)
{
	struct serve_counters c;
	char line[160];

	if (s->gt != NULL)
		guest_thread_lock(s->gt);	/* vs and apps are G's */
	serve_counters_get(s->vs, s->apps, s->dev, &c);
	if (s->gt != NULL)
		guest_thread_unlock(s->gt);
	serve_counters_format(&c, line, sizeof(line));
	fprintf(stderr, "vsockemu serve: %s\n", line);
}

/*
 * Every socket listens now (main, .seqpacket, .guest, --guest-connect):
 * tell the supervisor, and without -q the operator.
 */
static void
say_ready(struct serve *s, bool seqpacket)
{
	char what[600], status[600];

	snprintf(what, sizeof(what), "cid=%llu uds=%s",
	    (unsigned long long)s->o.cid, s->o.uds);
	snprintf(status, sizeof(status), "guest CID %llu on %s%s%s",
	    (unsigned long long)s->o.cid, s->o.uds, seqpacket ? " and " : "",
	    seqpacket ? muxer_seqpacket_path(s->host.mx) : "");
	/* Said first: a supervisor woken by readiness finds it there. */
	if (s->o.verbose)
		fprintf(stderr, "vsockemu serve: %s\n", status);
	ready_signal(&s->o.ready, what, status);
}

static void
teardown(struct serve *s)
{
	uint64_t now = loop_now();

	serve_control_close(&s->ctl);
	/* From here on this thread owns the guest again. */
	guest_thread_stop(s->gt);
	gep_free(s->gep, now);
	gapps_free(s->apps, now);
	/* Releasing the connections closes their host sockets. */
	vsock_device_free(s->dev);
	muxer_free(s->host.mx);
	capture_close(&s->cap);
	event_log_close(s->events);
	if (s->vs != NULL)
		fg_vsock_free(s->vs);
	fg_mem_destroy(&s->mem);
	guest_thread_free(s->gt);	/* after the services left its loop */
	loop_free(s->loop);
	ready_finish(&s->o.ready);
}

/* serve --vm: every VM in emu/vm-serve.c. */
static int
serve_vms(struct serve_opts *o)
{
	struct vm_serve_config c = { .vm = o->vm, .nvm = o->nvm,
	    .profile = o->profile, .max_conns = o->max_conns,
	    .seqpacket = o->seqpacket, .line_timeout_ms = o->line_timeout_ms,
	    .pcap = o->pcap, .verbose = o->verbose,
	    .ready = &o->ready };

	return vm_serve_run(&c);
}

int
cmd_serve(int argc, char **argv)
{
	struct serve s;
	struct muxer_config mc;
	struct progress alive;
	char err[512];
	uint64_t now, next;
	double start;
	int r;

	memset(&s, 0, sizeof(s));
	r = parse_opts(argc, argv, &s.o);
	if (r != 0)
		return r > 0 ? 0 : 2;
	if (s.o.nvm > 0)
		return serve_vms(&s.o);
	if (loop_new(&s.loop) < 0 || loop_catch_info_signal(s.loop) < 0) {
		fprintf(stderr, "vsockemu serve: cannot create event loop\n");
		return 1;
	}
	muxer_config_defaults(&mc);
	mc.uds_path = s.o.uds;
	mc.line_timeout = s.o.line_timeout_ms * 1000000u;
	mc.seqpacket = offer_seqpacket(&s.o);
	mc.log = vse_log;
	mc.log_ctx = "serve";
	if (start_events(&s, err, sizeof(err)) < 0) {
		fprintf(stderr, "vsockemu serve: %s\n", err);
		teardown(&s);
		return 2;
	}
	event_log_hook_muxer(s.events, &mc);
	if (ready_prepare(&s.o.ready, err, sizeof(err)) < 0 ||
	    host_side_open(&s.host, s.loop, &mc, err, sizeof(err)) < 0 ||
	    start_pcap(&s, err, sizeof(err)) < 0 ||
	    start_guest_thread(&s, err, sizeof(err)) < 0 ||
	    build_guest(&s, err, sizeof(err)) < 0 ||
	    gapps_new(s.vs, guest_loop(&s), s.o.guest, s.o.nguest, s.o.gconn,
	    s.o.ngconn, s.o.seqpacket ? VIRTIO_VSOCK_TYPE_SEQPACKET :
	    VIRTIO_VSOCK_TYPE_STREAM, &s.apps, err, sizeof(err)) < 0 ||
	    gep_new(guest_loop(&s), s.o.uds, s.apps, mc.seqpacket, &s.gep, err,
	    sizeof(err)) < 0 ||
	    serve_control_open(&s.ctl, s.loop, s.o.control, s.dev, s.vs,
	    s.apps, err, sizeof(err)) < 0) {
		fprintf(stderr, "vsockemu serve: %s\n", err);
		teardown(&s);
		return 2;
	}
	if (s.o.verbose)
		gapps_set_log(s.apps, vse_log, "serve");
	s.ctl.gt = s.gt;
	fg_vsock_start(s.vs);
	if (s.gt != NULL && (loop_watch(s.loop, guest_thread_kick_fd(s.gt),
	    VSOCK_EV_READ, on_kick_fd, &s) < 0 ||
	    guest_thread_start(s.gt, s.vs, &apps_on_g, s.apps) < 0)) {
		fprintf(stderr, "vsockemu serve: cannot start the guest "
		    "thread\n");
		teardown(&s);
		return 1;
	}
	say_ready(&s, mc.seqpacket);
	start = (double)loop_now() / 1e9;
	progress_start_live(&alive, start, s.o.verbose >= OPT_VERBOSE,
	    s.o.progress_interval);
	do {
		now = loop_now();
		vsock_device_run(s.dev, now);
		muxer_run(s.host.mx, now);
		if (s.gt == NULL) {
			fg_vsock_poll(s.vs, now);
			settle(&s, now);
		}
		if (loop_info_requested(s.loop))
			print_counters(&s);
		progress_say_alive(&alive, "serve", s.dev, start, now);
		next = min3(vsock_device_next_deadline(s.dev),
		    muxer_next_deadline(s.host.mx), s.gt != NULL ? UINT64_MAX :
		    fg_vsock_next_deadline(s.vs));
		if (progress_deadline_ns(&alive) < next)
			next = progress_deadline_ns(&alive);
		/* G kicked while D was awake (no eventfd): no sleep. */
		if (s.gt != NULL && guest_thread_poll_kick(s.gt))
			next = 0;
	} while (loop_wait(s.loop, next));
	if (s.o.verbose >= 2)
		print_stats(&s);
	if (s.o.verbose)
		fprintf(stderr, "vsockemu serve: stopped by signal %d\n",
		    loop_stop_signal(s.loop));
	teardown(&s);
	return 0;
}

/* cmd-vhost-user.c - `vsockemu vhost-user`: the vsock device for a real QEMU guest. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend-muxer.h"
#include "capture.h"
#include "device.h"
#include "error.h"
#include "event-log.h"
#include "host-side.h"
#include "loop.h"
#include "options.h"
#include "progress.h"
#include "ready.h"
#include "uds-path.h"
#include "vhu-control.h"
#include "vhost-user.h"
#include "vm-group.h"
#include "vm-spec.h"
#include "vsockemu.h"

static const char vhu_usage[] =
"usage: vsockemu vhost-user --socket PATH [options]\n"
"       vsockemu vhost-user --vm guest-cid=N,socket=PATH,uds-path=PATH"
"[,groups=G1+G2] [--vm ...] [options]\n"
"\n"
"Serves QEMU guests as a vhost-user vsock back-end: QEMU's\n"
"vhost-user-vsock-pci device hands the whole device to vsockemu, whose host\n"
"side is the same Firecracker-compatible AF_UNIX protocol as `serve`:\n"
"\n"
"  vsockemu vhost-user --socket /tmp/vhu.sock --uds-path ./v.sock \\\n"
"    --guest-cid 3 &\n"
"  qemu-system-x86_64 ... \\\n"
"    -object memory-backend-memfd,id=mem0,size=512M,share=on \\\n"
"    -machine memory-backend=mem0 \\\n"
"    -chardev socket,id=c0,path=/tmp/vhu.sock \\\n"
"    -device vhost-user-vsock-pci,chardev=c0\n"
"\n"
"The options are vhost-device-vsock's. Each --vm is one more VM in this\n"
"process, with its own device, front-end socket and host socket, all on one\n"
"event loop. A guest that connects to another VM's CID reaches that VM's\n"
"guest when the two share a group (groups=, '+' between names; default\n"
"\"default\", so without groups= every VM reaches every other), as\n"
"vhost-device-vsock's sibling forwarding does; otherwise its connect gets\n"
"RST. Duplicate CIDs or paths and reserved CIDs are refused (exit 2).\n"
"\n"
"Guest memory must be shared (share=on), each region inside its file;\n"
"sealable memfds are sealed against shrinking. A front-end that breaks the\n"
"protocol, or shrinks guest memory under us anyway, has its session ended\n"
"and stderr says why; a kick or call fd that fails is dropped, said once.\n"
"When QEMU goes away, every connection is reset and vsockemu waits for the\n"
"next one; until it comes, host CONNECT lines are closed without OK, as\n"
"for a refused port.\n"
"\n"
"Options:\n"
"  --socket PATH     where QEMU connects (required without --vm)\n"
"  --uds-path PATH   main host socket (default ./v.sock); also --uds\n"
"  --guest-cid N     guest CID, given to the guest in config space\n"
"                    (default 3; 3 to 0xfffffffe); also --cid\n"
"  --groups G1+G2    the groups of this VM (with --vm: groups=)\n"
"  --vm guest-cid=N,socket=PATH,uds-path=PATH[,groups=G1+G2][,id=NAME]\n"
"                    one VM (repeatable; not with the four above);\n"
"                    guest_cid, uds_path and uds are accepted too\n"
"  --pcap FILE       record every packet as a vsockmon capture ('-': stdout)\n"
"  --seqpacket       offer VIRTIO_VSOCK_F_SEQPACKET; SOCK_SEQPACKET host\n"
"                    clients use PATH.seqpacket (--uds PATH)\n"
"  --profile NAME    the device to behave as: firecracker (default) or\n"
"                    linux (Linux 6.1's vhost-vsock host)\n"
"  --max-conns N     connection limit (default 1023)\n"
"  --once            exit after the first front-end disconnects\n"
"  --log FILE        write one JSON line per connection change, device\n"
"                    event and front-end attached/left to FILE ('-':\n"
"                    stderr), every VM's in one (each line names its\n"
"                    \"cid\"); the schema is doc/events.md\n"
"  --ready-fd N      once every --socket and --uds listens, write one line\n"
"                    to fd N and close it: READY socket=PATH cid=3\n"
"                    uds=./v.sock (one such triple per VM, in --vm order);\n"
"                    NOTIFY_SOCKET gets READY=1 as for serve\n"
"  --pidfile PATH    write the pid there before readiness; removed at exit\n"
"  --control PATH    a control socket (vsockemu ctl PATH COMMAND): stats\n"
"                    and rst PORT|all (the device resets connections);\n"
"                    reset and the guest-side faults are refused, as a\n"
"                    back-end cannot do them to a real guest\n"
"                    (doc/faults.md); one VM only: not with two --vm\n"
"  -v, --verbose     report each front-end, each connection change (one\n"
"                    line each) and the counters; when stderr is no\n"
"                    terminal, a liveness line every 10 s (as serve's),\n"
"                    one per VM\n"
"  --progress-interval MS  that line's interval (default 10000)\n"
"  -q, --quiet       print nothing but errors\n"
"  -h, --help        show this help\n"
"  -V, --version     show the version\n"
"\n"
"SIGINT, SIGTERM or SIGHUP resets every connection, removes its sockets\n"
"and exits 0; SIGPIPE is ignored (a call fd nobody reads is an error, not\n"
"a death). At the fd limit host clients wait in the listen backlog.\n";

static const struct opt_cmd vhu_cmd = {
	"vhost-user", "vsockemu vhost-user --socket PATH [options]", vhu_usage,
};

/* What applies to every VM of the process. */
struct vhu_opts {
	const char *pcap, *log;
	const char *control;		/* --control PATH: one VM only */
	struct ready ready;		/* --ready-fd, --pidfile */
	double progress_interval;	/* seconds between -v liveness lines */
	bool seqpacket, once;
	enum vsock_profile profile;
	uint32_t max_conns;
	enum opt_verbosity verbose;
	struct vm_spec vm[VM_MAX];	/* --vm, or the single VM's options */
	unsigned nvm;
};

struct vhu_run;

/* One VM: its front-end socket, session, device and host side. */
struct vhu_vm {
	struct vhu_run *run;
	const struct vm_spec *spec;
	struct vm_member *member;	/* its place among the siblings */
	int listen_fd, conn_fd;
	struct host_side host;		/* the muxer on run->loop */
	struct vsock_device *dev;
	struct vhu *v;
	int kicks[VSOCK_NUM_QUEUES];	/* kick fds the loop watches */
	struct progress alive;		/* -v liveness line */
	char label[128];		/* "vhost-user (CID 4)" in that line */
};

struct vhu_run {
	struct vhu_opts o;
	struct loop *loop;
	struct capture cap;
	struct event_log *events;	/* --log, -v: every VM's */
	struct vhu_control ctl;		/* --control: VM 0's device */
	struct vm_router router;
	struct vhu_vm vm[VM_MAX];
	unsigned nvm;			/* set up so far */
	bool closing;
};

/* Reports bad usage; the caller exits 2. */
static int __attribute__((format(printf, 1, 2)))
bad(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	opt_usage(&vhu_cmd, "%s", msg);
	return -1;
}

/* The single VM's options (--socket, --uds-path, ...) as one spec. */
struct single_vm {
	const char *socket, *uds, *groups;
	const char *cid;
	bool given;			/* any of them: not with --vm */
};

/* Turns the single VM's options into spec 0. */
static int
single_spec(struct vhu_opts *o, const struct single_vm *sv)
{
	struct vm_spec *v = &o->vm[0];
	char err[256];

	memset(v, 0, sizeof(*v));
	v->socket = sv->socket;
	v->uds = sv->uds != NULL ? sv->uds : "./v.sock";
	v->cid = 3;
	if (sv->cid != NULL && opt_u64(sv->cid, UINT64_MAX, &v->cid) < 0)
		return bad("--guest-cid '%s': not a number", sv->cid);
	vm_groups_default(&v->groups);
	if (sv->groups != NULL &&
	    vm_groups_parse(sv->groups, &v->groups, err, sizeof(err)) < 0)
		return bad("--groups: %s", err);
	if (v->socket == NULL)
		return bad("--socket PATH is required");
	o->nvm = 1;
	return 0;
}

/* --vm guest-cid=N,socket=PATH,uds-path=PATH[,groups=...] */
static int
add_vm(struct vhu_opts *o, char *arg)
{
	char err[256];

	if (o->nvm == VM_MAX)
		return bad("--vm: at most %d VMs", VM_MAX);
	if (vm_spec_parse(arg, VM_FORM_VHOST_USER, &o->vm[o->nvm], err,
	    sizeof(err)) < 0)
		return bad("--vm: %s", err);
	o->nvm++;
	return 0;
}

/* Options common to every VM. */
static int
parse_common(struct vhu_opts *o, int c)
{
	const char *why;
	uint64_t n;

	switch (c) {
	case 'P': o->pcap = optarg; return 0;
	case 'L': o->log = optarg; return 0;
	case 'C': o->control = optarg; return 0;
	case READY_OPT_FD:
	case READY_OPT_PIDFILE:
		if (ready_option(&o->ready, c, optarg, &why) < 0)
			return bad("%s '%s': %s", c == READY_OPT_FD ?
			    "--ready-fd" : "--pidfile", optarg, why);
		return 0;
	case PROGRESS_OPT_INTERVAL:
		if (progress_option(optarg, &o->progress_interval, &why) < 0)
			return bad("--progress-interval '%s': %s", optarg,
			    why);
		return 0;
	case 'S': o->seqpacket = true; return 0;
	case 'o': o->once = true; return 0;
	case 'p':
		if (opt_profile(optarg, &o->profile) < 0)
			return bad("--profile '%s': want firecracker or "
			    "linux", optarg);
		return 0;
	case 'm':
		if (opt_u64(optarg, UINT32_C(1) << 30, &n) < 0 || n == 0)
			return bad("--max-conns '%s': want 1 to 2^30",
			    optarg);
		o->max_conns = (uint32_t)n;
		return 0;
	default:
		return -1;	/* said by opt_next */
	}
}

static int
parse(int argc, char **argv, struct vhu_opts *o)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "uds", required_argument, NULL, 'u' },
		{ "uds-path", required_argument, NULL, 'u' },
		{ "cid", required_argument, NULL, 'c' },
		{ "guest-cid", required_argument, NULL, 'c' },
		{ "groups", required_argument, NULL, 'g' },
		{ "vm", required_argument, NULL, 'M' },
		{ "pcap", required_argument, NULL, 'P' },
		{ "seqpacket", no_argument, NULL, 'S' },
		{ "profile", required_argument, NULL, 'p' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "once", no_argument, NULL, 'o' },
		{ "log", required_argument, NULL, 'L' },
		{ "control", required_argument, NULL, 'C' },
		READY_LONG,
		PROGRESS_LONG,
		OPT_COMMON_LONG,
		{ NULL, 0, NULL, 0 },
	};
	struct single_vm sv = { NULL, NULL, NULL, NULL, false };
	char err[256];
	int c;

	memset(o, 0, sizeof(*o));
	o->max_conns = VSOCK_DEFAULT_MAX_CONNS;
	o->verbose = OPT_NORMAL;
	ready_init(&o->ready, "vhost-user");
	o->progress_interval = PROGRESS_INTERVAL;
	optind = 1;
	while ((c = opt_next(&vhu_cmd, argc, argv, "", opts,
	    &o->verbose)) != OPT_END) {
		switch (c) {
		case 's': sv.socket = optarg; sv.given = true; break;
		case 'u': sv.uds = optarg; sv.given = true; break;
		case 'c': sv.cid = optarg; sv.given = true; break;
		case 'g': sv.groups = optarg; sv.given = true; break;
		case 'M':
			if (add_vm(o, optarg) < 0)
				return -1;
			break;
		case OPT_EXIT_OK:
			return 1;
		default:
			if (parse_common(o, c) < 0)
				return -1;
			break;
		}
	}
	if (optind != argc)
		return bad("'%s': unexpected argument", argv[optind]);
	/* vhost-device-vsock: --vm conflicts with the single VM's options. */
	if (o->nvm > 0 && sv.given)
		return bad("--vm does not go with --socket, --uds-path, "
		    "--guest-cid or --groups");
	if (o->nvm == 0 && single_spec(o, &sv) < 0)
		return -1;
	if (vm_specs_check(o->vm, o->nvm, err, sizeof(err)) < 0)
		return bad("%s", err);
	/* vhu-control acts on one device: which VM's would be a guess. */
	if (o->control != NULL && o->nvm > 1)
		return bad("--control does not go with several --vm (one VM "
		    "only)");
	return 0;
}

/* "", or " (CID N)" when the process serves several VMs. */
static const char *
vm_name(const struct vhu_vm *vm, char *buf, size_t len)
{
	if (vm->run->o.nvm <= 1)
		return "";
	if (vm->spec->id != NULL)
		snprintf(buf, len, " (%s)", vm->spec->id);
	else
		snprintf(buf, len, " (CID %llu)",
		    (unsigned long long)vm->spec->cid);
	return buf;
}

static void sync_kicks(struct vhu_vm *vm, int old[VSOCK_NUM_QUEUES]);

/* A kick eventfd: which queue is it? */
static void
on_kick(void *ctx, int fd, unsigned events, uint64_t now)
{
	struct vhu_vm *vm = ctx;
	unsigned q;

	(void)events;
	for (q = 0; q < VSOCK_NUM_QUEUES; q++)
		if (vm->v != NULL && vhu_kick_fd(vm->v, q) == fd)
			vhu_kicked(vm->v, q, now);
	sync_kicks(vm, vm->kicks);	/* a failed kick fd was dropped */
}

/* Watches exactly the kick fds the session has now. */
static void
sync_kicks(struct vhu_vm *vm, int old[VSOCK_NUM_QUEUES])
{
	unsigned q;
	int fd;

	for (q = 0; q < VSOCK_NUM_QUEUES; q++) {
		fd = vm->v != NULL ? vhu_kick_fd(vm->v, q) : -1;
		if (fd == old[q])
			continue;
		if (old[q] >= 0)
			loop_watch(vm->run->loop, old[q], 0, NULL, NULL);
		if (fd >= 0)
			loop_watch(vm->run->loop, fd, VSOCK_EV_READ, on_kick,
			    vm);
		old[q] = fd;
	}
}

/* Ends the session with the VM's current front-end. */
static void
end_session(struct vhu_vm *vm)
{
	unsigned q;

	for (q = 0; q < VSOCK_NUM_QUEUES; q++)
		if (vm->kicks[q] >= 0) {
			loop_watch(vm->run->loop, vm->kicks[q], 0, NULL, NULL);
			vm->kicks[q] = -1;
		}
	vhu_free(vm->v);
	vm->v = NULL;
	/* Siblings stop routing to it before it goes. */
	if (vm->member != NULL)
		vm_member_attach(vm->member, NULL);
	vsock_device_free(vm->dev);	/* resets every connection */
	vm->dev = NULL;
	if (vm->host.mx != NULL)
		muxer_attach(vm->host.mx, NULL);	/* until the next one */
	if (vm->conn_fd >= 0) {
		loop_watch(vm->run->loop, vm->conn_fd, 0, NULL, NULL);
		close(vm->conn_fd);
		vm->conn_fd = -1;
	}
}

/*
 * VM vm's front-end came or went: an event (why: our own words, or NULL).
 * Its "cid" names the VM: CIDs are unique in the process (vm-spec.c).
 */
static void
frontend_event(struct vhu_vm *vm, const char *ev, const char *why)
{
	struct event_log *l = vm->run->events;
	struct event_line e;

	if (!event_log_active(l))
		return;
	event_line_begin(l, &e, ev, loop_now());
	event_line_u64(&e, "cid", vm->spec->cid);
	if (why != NULL)
		event_line_str(&e, "why", why, strlen(why));
	/* -v says so already (front-end connected / gone). */
	event_log_emit(l, &e, NULL);
}

/* Ends the session for why, saying so unless quiet. */
static void
drop_frontend(struct vhu_vm *vm, const char *why)
{
	char name[96];

	frontend_event(vm, "frontend-left", why ? why : "error");
	if (vm->run->o.verbose)
		fprintf(stderr, "vsockemu vhost-user: front-end gone%s: %s\n",
		    vm_name(vm, name, sizeof(name)), why ? why : "error");
	end_session(vm);
	vm->run->closing = vm->run->o.once;
}

/* A message from QEMU. */
static void
on_frontend(void *ctx, int fd, unsigned events, uint64_t now)
{
	struct vhu_vm *vm = ctx;
	const char *why = NULL;

	(void)fd;
	(void)events;
	if (vhu_handle(vm->v, vm->conn_fd, now, &why) < 0) {
		drop_frontend(vm, why);
		return;
	}
	sync_kicks(vm, vm->kicks);
}

/* The session's report of a ring fd it dropped. */
static void
on_vhu_log(void *ctx, const char *msg)
{
	struct vhu_vm *vm = ctx;
	char name[96];

	if (vm->run->o.verbose)
		fprintf(stderr, "vsockemu vhost-user%s: %s\n",
		    vm_name(vm, name, sizeof(name)), msg);
}

/* QEMU connects: a fresh device and session for it. */
static void
on_listen(void *ctx, int fd, unsigned events, uint64_t now)
{
	struct vhu_vm *vm = ctx;
	const struct vhu_opts *o = &vm->run->o;
	struct host_device_opts ho = { .cid = vm->spec->cid,
	    .profile = o->profile, .seqpacket = o->seqpacket,
	    .max_conns = o->max_conns, .events = vm->run->events };
	struct timeval tv = { 1, 0 };
	const char *why = NULL;
	int c;

	(void)events;
	(void)now;
	if ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return;
	if (vm->conn_fd >= 0) {
		/* QEMU will say only "Failed to write msg": say why. */
		fprintf(stderr, "vsockemu vhost-user: refused a second "
		    "front-end on %s: one front-end at a time\n",
		    vm->spec->socket);
		close(c);
		return;
	}
	/*
	 * A front-end that stalls mid-message, or stops reading our
	 * replies, is dropped after 1 s, not waited on forever.
	 */
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (host_device_new(&vm->host, &ho, &vm->run->cap, &vm->dev,
	    &why) < 0 || vhu_new(vm->dev, &vm->v) < 0) {
		fprintf(stderr, "vsockemu vhost-user: %s\n",
		    why ? why : "out of memory");
		close(c);
		vsock_device_free(vm->dev);
		vm->dev = NULL;
		return;
	}
	vhu_set_log(vm->v, on_vhu_log, vm);
	vsock_device_set_notify(vm->dev, vhu_notify, vm->v);
	vm_member_attach(vm->member, vm->dev);
	vm->conn_fd = c;
	loop_watch(vm->run->loop, c, VSOCK_EV_READ, on_frontend, vm);
	frontend_event(vm, "frontend-attached", NULL);
	if (o->verbose >= 2) {
		char name[96];

		fprintf(stderr, "vsockemu vhost-user: front-end connected%s\n",
		    vm_name(vm, name, sizeof(name)));
	}
}

static int
listen_on(const char *path, char *err, size_t errlen)
{
	return uds_listen(path, SOCK_STREAM, 4, err, errlen);
}

/* Listens for VM i's front-end and opens its host side. */
static int
vm_open(struct vhu_run *r, const struct vm_spec *spec, char *err,
    size_t errlen)
{
	struct vhu_vm *vm = &r->vm[r->nvm];
	struct muxer_config mc;
	char name[96];

	memset(vm, 0, sizeof(*vm));
	vm->run = r;
	vm->spec = spec;
	vm->conn_fd = vm->listen_fd = -1;
	vm->kicks[0] = vm->kicks[1] = vm->kicks[2] = -1;
	vm->member = vm_router_add(&r->router, spec->cid, &spec->groups);
	r->nvm++;
	muxer_config_defaults(&mc);
	mc.uds_path = spec->uds;
	mc.seqpacket = r->o.seqpacket;
	mc.log = vse_log;
	mc.log_ctx = "vhost-user";
	event_log_hook_muxer(r->events, &mc);
	if ((vm->listen_fd = listen_on(spec->socket, err, errlen)) < 0 ||
	    host_side_open(&vm->host, r->loop, &mc, err, errlen) < 0)
		return -1;
	loop_watch(r->loop, vm->listen_fd, VSOCK_EV_READ, on_listen, vm);
	if (r->o.verbose)
		fprintf(stderr, "vsockemu vhost-user: waiting for QEMU on %s; "
		    "host side on %s\n", spec->socket, spec->uds);
	snprintf(vm->label, sizeof(vm->label), "vhost-user%s",
	    vm_name(vm, name, sizeof(name)));
	return 0;
}

/* Ends VM vm's session and closes its sockets. */
static void
vm_close(struct vhu_vm *vm)
{
	end_session(vm);
	muxer_free(vm->host.mx);
	vm->host.mx = NULL;
	if (vm->listen_fd >= 0) {
		close(vm->listen_fd);
		unlink(vm->spec->socket);
	}
}

/* Opens the event log (--log FILE, -v one-liners), one for every VM. */
static int
start_events(struct vhu_run *r, char *err, size_t errlen)
{
	/*
	 * uds names a refused guest connect's host socket (UDS_PORT): with
	 * several VMs one path would be wrong for the others, so none.
	 */
	struct event_log_config c = { .cmd = "vhost-user", .path = r->o.log,
	    .human = r->o.verbose >= OPT_VERBOSE,
	    .uds = r->o.nvm == 1 ? r->o.vm[0].uds : NULL, .clock = loop_now };

	return event_log_open(&c, &r->events, err, errlen);
}

/*
 * Every VM listens for its front-end and for host clients: ready (a
 * front-end may connect now; the guest comes with it). The line has one
 * "socket= cid= uds=" triple per VM, as many as fit, then "...".
 */
static void
say_ready(struct vhu_run *r)
{
	char what[3072], triple[600], status[600];
	size_t len = 0;
	unsigned i;
	int n;

	what[0] = '\0';
	for (i = 0; i < r->nvm; i++) {
		const struct vm_spec *v = r->vm[i].spec;

		n = snprintf(triple, sizeof(triple), "%ssocket=%s cid=%llu "
		    "uds=%s", i > 0 ? " " : "", v->socket,
		    (unsigned long long)v->cid, v->uds);
		if (n < 0 || (size_t)n >= sizeof(triple) ||
		    len + (size_t)n + sizeof(" ...") > sizeof(what)) {
			memcpy(what + len, " ...", sizeof(" ..."));
			break;
		}
		memcpy(what + len, triple, (size_t)n + 1);
		len += (size_t)n;
	}
	if (r->nvm == 1)
		snprintf(status, sizeof(status), "waiting for QEMU on %s; "
		    "host side on %s", r->vm[0].spec->socket,
		    r->vm[0].spec->uds);
	else
		snprintf(status, sizeof(status), "waiting for QEMU on %u "
		    "front-end sockets", r->nvm);
	ready_signal(&r->o.ready, what, status);
}

/* Starts each VM's -v liveness line at start (seconds). */
static void
start_alive(struct vhu_run *r, double start)
{
	unsigned i;

	for (i = 0; i < r->nvm; i++)
		progress_start_live(&r->vm[i].alive, start,
		    r->o.verbose >= OPT_VERBOSE, r->o.progress_interval);
}

/* Runs every VM's device and host side; the earliest deadline. */
static uint64_t
run_all(struct vhu_run *r, uint64_t now, double start)
{
	uint64_t next = UINT64_MAX, d;
	const char *why = NULL;
	unsigned i;

	for (i = 0; i < r->nvm; i++) {
		struct vhu_vm *vm = &r->vm[i];

		/*
		 * Whatever ran the device last (a kick, a message, a host
		 * socket, a timer, a sibling's packet) may have met memory
		 * the front-end took away: end that session before running
		 * the device again.
		 */
		if (vm->v != NULL && vhu_check_memory(vm->v, &why) < 0)
			drop_frontend(vm, why);
		if (vm->dev != NULL) {
			vsock_device_run(vm->dev, now);
			if ((d = vsock_device_next_deadline(vm->dev)) < next)
				next = d;
		}
		muxer_run(vm->host.mx, now);
		if ((d = muxer_next_deadline(vm->host.mx)) < next)
			next = d;
		progress_say_alive(&vm->alive, vm->label, vm->dev, start, now);
		if ((d = progress_deadline_ns(&vm->alive)) < next)
			next = d;
	}
	return next;
}

int
cmd_vhost_user(int argc, char **argv)
{
	struct vhu_run *r;
	char err[512];
	uint64_t next;
	double start;
	unsigned i;
	int rc = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return 1;
	rc = parse(argc, argv, &r->o);
	if (rc != 0) {
		free(r);
		return rc > 0 ? 0 : 2;
	}
	if (loop_new(&r->loop) < 0) {
		free(r);
		return 1;
	}
	err[0] = '\0';
	rc = start_events(r, err, sizeof(err));
	if (rc == 0)
		rc = ready_prepare(&r->o.ready, err, sizeof(err));
	for (i = 0; i < r->o.nvm && rc == 0; i++)
		rc = vm_open(r, &r->o.vm[i], err, sizeof(err));
	if (rc == 0 && r->o.pcap != NULL)
		rc = capture_open(&r->cap, "vhost-user", r->o.pcap, err,
		    sizeof(err));
	/* parse() allowed --control with one VM only. */
	if (rc == 0)
		rc = vhu_control_open(&r->ctl, r->loop, r->o.control,
		    &r->vm[0].dev, r->vm[0].host.mx, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "vsockemu vhost-user: %s\n", err);
		rc = 2;
	} else {
		say_ready(r);
		start = (double)loop_now() / 1e9;
		start_alive(r, start);
		do {
			next = run_all(r, loop_now(), start);
		} while (!r->closing && loop_wait(r->loop, next));
	}
	vhu_control_close(&r->ctl);	/* it reads VM 0's device */
	for (i = 0; i < r->nvm; i++)
		vm_close(&r->vm[i]);
	capture_close(&r->cap);
	event_log_close(r->events);
	loop_free(r->loop);
	ready_finish(&r->o.ready);
	free(r);
	return rc;
}

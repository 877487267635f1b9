/* cmd-vhost-user.c - `vsockemu vhost-user`: the vsock device for a real QEMU guest. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
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
#include "host-side.h"
#include "loop.h"
#include "options.h"
#include "progress.h"
#include "ready.h"
#include "uds-path.h"
#include "vhost-user.h"
#include "vhu-control.h"
#include "vsockemu.h"

static const char vhu_usage[] =
"usage: vsockemu vhost-user --socket PATH [options]\n"
"\n"
"Serves one QEMU guest at a time as a vhost-user vsock back-end: QEMU's\n"
"vhost-user-vsock-pci device hands the whole device to vsockemu, whose host\n"
"side is the same Firecracker-compatible AF_UNIX protocol as `serve`:\n"
"\n"
"  vsockemu vhost-user --socket /tmp/vhu.sock --uds ./v.sock --cid 3 &\n"
"  qemu-system-x86_64 ... \\\n"
"    -object memory-backend-memfd,id=mem0,size=512M,share=on \\\n"
"    -machine memory-backend=mem0 \\\n"
"    -chardev socket,id=c0,path=/tmp/vhu.sock \\\n"
"    -device vhost-user-vsock-pci,chardev=c0\n"
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
"  --socket PATH     where QEMU connects (required)\n"
"  --uds PATH        main host socket (default ./v.sock)\n"
"  --cid N           guest CID, given to the guest in config space\n"
"                    (default 3; 3 to 0xfffffffe)\n"
"  --pcap FILE       record every packet as a vsockmon capture ('-': stdout)\n"
"  --seqpacket       offer VIRTIO_VSOCK_F_SEQPACKET; SOCK_SEQPACKET host\n"
"                    clients use PATH.seqpacket (--uds PATH)\n"
"  --profile NAME    the device to behave as: firecracker (default) or\n"
"                    linux (Linux 6.1's vhost-vsock host)\n"
"  --max-conns N     connection limit (default 1023)\n"
"  --once            exit after the first front-end disconnects\n"
"  --log FILE        write one JSON line per connection change, device\n"
"                    event and front-end attached/left to FILE ('-':\n"
"                    stderr); the schema is doc/events.md\n"
"  --ready-fd N      once --socket and --uds listen, write one line to fd N\n"
"                    and close it: READY socket=PATH cid=3 uds=./v.sock;\n"
"                    NOTIFY_SOCKET gets READY=1 as for serve\n"
"  --pidfile PATH    write the pid there before readiness; removed at exit\n"
"  --control PATH    a control socket (vsockemu ctl PATH COMMAND): stats\n"
"                    and rst PORT|all (the device resets connections);\n"
"                    reset and the guest-side faults are refused, as a\n"
"                    back-end cannot do them to a real guest\n"
"                    (doc/faults.md)\n"
"  -v, --verbose     report each front-end, each connection change (one\n"
"                    line each) and the counters; when stderr is no\n"
"                    terminal, a liveness line every 10 s (as serve's)\n"
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

struct vhu_opts {
	const char *socket, *uds, *pcap, *log;
	const char *control;		/* --control PATH */
	uint64_t cid;
	bool seqpacket, once;
	enum vsock_profile profile;
	uint32_t max_conns;
	enum opt_verbosity verbose;
	struct ready ready;		/* --ready-fd, --pidfile */
	double progress_interval;	/* seconds between -v liveness lines */
};

struct vhu_run {
	struct vhu_opts o;
	struct loop *loop;
	int listen_fd, conn_fd;
	struct host_side host;		/* the muxer on loop */
	struct vsock_device *dev;
	struct vhu *v;
	struct capture cap;
	struct event_log *events;	/* --log, -v */
	struct vhu_control ctl;		/* --control */
	int kicks[VSOCK_NUM_QUEUES];	/* kick fds the loop watches */
	bool closing;
};

static int
parse(int argc, char **argv, struct vhu_opts *o)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "uds", required_argument, NULL, 'u' },
		{ "cid", required_argument, NULL, 'c' },
		{ "pcap", required_argument, NULL, 'P' },
		{ "seqpacket", no_argument, NULL, 'S' },
		{ "profile", required_argument, NULL, 'p' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "once", no_argument, NULL, 'o' },
		{ "log", required_argument, NULL, 'L' },
		READY_LONG,
		PROGRESS_LONG,
		{ "control", required_argument, NULL, 'C' },
		OPT_COMMON_LONG,
		{ NULL, 0, NULL, 0 },
	};
	const char *why;
	uint64_t n;
	int c;

	memset(o, 0, sizeof(*o));
	ready_init(&o->ready, "vhost-user");
	o->progress_interval = PROGRESS_INTERVAL;
	o->uds = "./v.sock";
	o->cid = 3;
	o->max_conns = VSOCK_DEFAULT_MAX_CONNS;
	o->verbose = OPT_NORMAL;
	optind = 1;
	while ((c = opt_next(&vhu_cmd, argc, argv, "", opts,
	    &o->verbose)) != OPT_END) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'u': o->uds = optarg; break;
		case 'P': o->pcap = optarg; break;
		case 'S': o->seqpacket = true; break;
		case 'o': o->once = true; break;
		case 'L': o->log = optarg; break;
		case 'C': o->control = optarg; break;
		case 'c':
			if (opt_u64(optarg, UINT64_MAX, &o->cid) < 0 ||
			    !vsock_cid_valid(o->cid)) {
				opt_usage(&vhu_cmd, "--cid '%s': not a usable "
				    "guest CID", optarg);
				return -1;
			}
			break;
		case 'p':
			if (opt_profile(optarg, &o->profile) < 0) {
				opt_usage(&vhu_cmd, "--profile '%s': want "
				    "firecracker or linux", optarg);
				return -1;
			}
			break;
		case 'm':
			if (opt_u64(optarg, UINT32_C(1) << 30, &n) < 0 ||
			    n == 0) {
				opt_usage(&vhu_cmd, "--max-conns '%s': want 1 "
				    "to 2^30", optarg);
				return -1;
			}
			o->max_conns = (uint32_t)n;
			break;
		case READY_OPT_FD:
		case READY_OPT_PIDFILE:
			if (ready_option(&o->ready, c, optarg, &why) < 0) {
				opt_usage(&vhu_cmd, "%s '%s': %s",
				    c == READY_OPT_FD ? "--ready-fd" :
				    "--pidfile", optarg, why);
				return -1;
			}
			break;
		case PROGRESS_OPT_INTERVAL:
			if (progress_option(optarg, &o->progress_interval,
			    &why) < 0) {
				opt_usage(&vhu_cmd, "--progress-interval "
				    "'%s': %s", optarg, why);
				return -1;
			}
			break;
		case OPT_EXIT_OK:
			return 1;
		default:
			return -1;	/* said by opt_next */
		}
	}
	if (optind != argc || o->socket == NULL) {
		opt_usage(&vhu_cmd, "%s", optind != argc ? "unexpected "
		    "argument" : "--socket PATH is required");
		return -1;
	}
	return 0;
}

static void sync_kicks(struct vhu_run *r, int old[VSOCK_NUM_QUEUES]);

/* A kick eventfd: which queue is it? */
static void
on_kick(void *ctx, int fd, unsigned events, uint64_t now)
{
	struct vhu_run *r = ctx;
	unsigned q;

	(void)events;
	for (q = 0; q < VSOCK_NUM_QUEUES; q++)
		if (r->v != NULL && vhu_kick_fd(r->v, q) == fd)
			vhu_kicked(r->v, q, now);
	sync_kicks(r, r->kicks);	/* a failed kick fd was dropped */
}

/* Watches exactly the kick fds the session has now. */
static void
sync_kicks(struct vhu_run *r, int old[VSOCK_NUM_QUEUES])
{
	unsigned q;
	int fd;

	for (q = 0; q < VSOCK_NUM_QUEUES; q++) {
		fd = r->v != NULL ? vhu_kick_fd(r->v, q) : -1;
		if (fd == old[q])
			continue;
		if (old[q] >= 0)
			loop_watch(r->loop, old[q], 0, NULL, NULL);
		if (fd >= 0)
			loop_watch(r->loop, fd, VSOCK_EV_READ, on_kick, r);
		old[q] = fd;
	}
}

/* Ends the session with the current front-end. */
static void
end_session(struct vhu_run *r, int kicks[VSOCK_NUM_QUEUES])
{
	unsigned q;

	for (q = 0; q < VSOCK_NUM_QUEUES; q++)
		if (kicks[q] >= 0) {
			loop_watch(r->loop, kicks[q], 0, NULL, NULL);
			kicks[q] = -1;
		}
	vhu_free(r->v);
	r->v = NULL;
	vsock_device_free(r->dev);	/* resets every connection */
	r->dev = NULL;
	muxer_attach(r->host.mx, NULL);	/* until the next front-end */
	if (r->conn_fd >= 0) {
		loop_watch(r->loop, r->conn_fd, 0, NULL, NULL);
		close(r->conn_fd);
		r->conn_fd = -1;
	}
}

/* The front-end came or went: an event (why: our own words, or NULL). */
static void
frontend_event(struct vhu_run *r, const char *ev, const char *why)
{
	struct event_line e;

	if (!event_log_active(r->events))
		return;
	event_line_begin(r->events, &e, ev, loop_now());
	event_line_u64(&e, "cid", r->o.cid);
	if (why != NULL)
		event_line_str(&e, "why", why, strlen(why));
	/* -v says so already (front-end connected / gone). */
	event_log_emit(r->events, &e, NULL);
}

/* Ends the session for why, saying so unless quiet. */
static void
drop_frontend(struct vhu_run *r, const char *why)
{
	frontend_event(r, "frontend-left", why ? why : "error");
	if (r->o.verbose)
		fprintf(stderr, "vsockemu vhost-user: front-end gone: %s\n",
		    why ? why : "error");
	end_session(r, r->kicks);
	r->closing = r->o.once;
}

/* A message from QEMU. */
static void
on_frontend(void *ctx, int fd, unsigned events, uint64_t now)
{
	struct vhu_run *r = ctx;
	const char *why = NULL;

	(void)fd;
	(void)events;
	if (vhu_handle(r->v, r->conn_fd, now, &why) < 0) {
		drop_frontend(r, why);
		return;
	}
	sync_kicks(r, r->kicks);
}

/* The session's report of a ring fd it dropped. */
static void
on_vhu_log(void *ctx, const char *msg)
{
	if (((struct vhu_run *)ctx)->o.verbose)
		fprintf(stderr, "vsockemu vhost-user: %s\n", msg);
}

/* QEMU connects: a fresh device and session for it. */
static void
on_listen(void *ctx, int fd, unsigned events, uint64_t now)
{
	struct vhu_run *r = ctx;
	struct host_device_opts ho = { .cid = r->o.cid,
	    .profile = r->o.profile, .seqpacket = r->o.seqpacket,
	    .max_conns = r->o.max_conns, .events = r->events };
	struct timeval tv = { 1, 0 };
	const char *why = NULL;
	int c;

	(void)events;
	(void)now;
	if ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return;
	if (r->conn_fd >= 0) {
		/* QEMU will say only "Failed to write msg": say why. */
		fprintf(stderr, "vsockemu vhost-user: refused a second "
		    "front-end on %s: one front-end at a time\n", r->o.socket);
		close(c);
		return;
	}
	/*
	 * A front-end that stalls mid-message, or stops reading our
	 * replies, is dropped after 1 s, not waited on forever.
	 */
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (host_device_new(&r->host, &ho, &r->cap, &r->dev, &why) < 0 ||
	    vhu_new(r->dev, &r->v) < 0) {
		fprintf(stderr, "vsockemu vhost-user: %s\n",
		    why ? why : "out of memory");
		close(c);
		vsock_device_free(r->dev);
		r->dev = NULL;
		return;
	}
	vhu_set_log(r->v, on_vhu_log, r);
	vsock_device_set_notify(r->dev, vhu_notify, r->v);
	r->conn_fd = c;
	loop_watch(r->loop, c, VSOCK_EV_READ, on_frontend, r);
	frontend_event(r, "frontend-attached", NULL);
	if (r->o.verbose >= 2)
		fprintf(stderr, "vsockemu vhost-user: front-end connected\n");
}

/* Opens the event log (--log FILE, -v one-liners). */
static int
start_events(struct vhu_run *r, char *err, size_t errlen)
{
	struct event_log_config c = { .cmd = "vhost-user", .path = r->o.log,
	    .human = r->o.verbose >= OPT_VERBOSE, .uds = r->o.uds,
	    .clock = loop_now };

	return event_log_open(&c, &r->events, err, errlen);
}

static int
listen_on(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	if (uds_path_prepare(path, err, errlen) < 0)
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 4) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * Listening for the front-end and for host clients: ready (a front-end
 * may connect now; the guest comes with it).
 */
static void
say_ready(struct vhu_run *r)
{
	char what[600], status[600];

	snprintf(what, sizeof(what), "socket=%s cid=%llu uds=%s",
	    r->o.socket, (unsigned long long)r->o.cid, r->o.uds);
	snprintf(status, sizeof(status), "waiting for QEMU on %s; host side "
	    "on %s", r->o.socket, r->o.uds);
	/* Said first: a supervisor woken by readiness finds it there. */
	if (r->o.verbose)
		fprintf(stderr, "vsockemu vhost-user: %s\n", status);
	ready_signal(&r->o.ready, what, status);
}

int
cmd_vhost_user(int argc, char **argv)
{
	struct vhu_run r;
	struct muxer_config mc;
	struct progress alive;
	const char *why = NULL;
	char err[512];
	uint64_t now, next;
	double start;
	int rc;

	memset(&r, 0, sizeof(r));
	r.conn_fd = r.listen_fd = -1;
	r.kicks[0] = r.kicks[1] = r.kicks[2] = -1;
	rc = parse(argc, argv, &r.o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (loop_new(&r.loop) < 0)
		return 1;
	muxer_config_defaults(&mc);
	mc.uds_path = r.o.uds;
	mc.seqpacket = r.o.seqpacket;
	mc.log = vse_log;
	mc.log_ctx = "vhost-user";
	if (start_events(&r, err, sizeof(err)) < 0) {
		fprintf(stderr, "vsockemu vhost-user: %s\n", err);
		loop_free(r.loop);
		return 2;
	}
	event_log_hook_muxer(r.events, &mc);
	if (ready_prepare(&r.o.ready, err, sizeof(err)) < 0 ||
	    (r.listen_fd = listen_on(r.o.socket, err, sizeof(err))) < 0 ||
	    host_side_open(&r.host, r.loop, &mc, err, sizeof(err)) < 0 ||
	    (r.o.pcap != NULL && capture_open(&r.cap, "vhost-user", r.o.pcap,
	    err, sizeof(err)) < 0) ||
	    vhu_control_open(&r.ctl, r.loop, r.o.control, &r.dev, r.host.mx,
	    err, sizeof(err)) < 0) {
		fprintf(stderr, "vsockemu vhost-user: %s\n", err);
		if (r.listen_fd >= 0) {
			close(r.listen_fd);
			unlink(r.o.socket);
		}
		muxer_free(r.host.mx);
		event_log_close(r.events);
		loop_free(r.loop);
		ready_finish(&r.o.ready);
		return 2;
	}
	loop_watch(r.loop, r.listen_fd, VSOCK_EV_READ, on_listen, &r);
	say_ready(&r);
	start = (double)loop_now() / 1e9;
	progress_start_live(&alive, start, r.o.verbose >= OPT_VERBOSE,
	    r.o.progress_interval);
	do {
		/*
		 * Whatever ran the device last (a kick, a message, a host
		 * socket, a timer) may have met memory the front-end took
		 * away: end that session before running the device again.
		 */
		if (r.v != NULL && vhu_check_memory(r.v, &why) < 0)
			drop_frontend(&r, why);
		if (r.closing)
			break;
		now = loop_now();
		next = UINT64_MAX;
		if (r.dev != NULL) {
			vsock_device_run(r.dev, now);
			next = vsock_device_next_deadline(r.dev);
		}
		muxer_run(r.host.mx, now);
		if (muxer_next_deadline(r.host.mx) < next)
			next = muxer_next_deadline(r.host.mx);
		progress_say_alive(&alive, "vhost-user", r.dev, start, now);
		if (progress_deadline_ns(&alive) < next)
			next = progress_deadline_ns(&alive);
	} while (!r.closing && loop_wait(r.loop, next));
	end_session(&r, r.kicks);
	vhu_control_close(&r.ctl);
	muxer_free(r.host.mx);
	capture_close(&r.cap);
	event_log_close(r.events);
	close(r.listen_fd);
	unlink(r.o.socket);
	loop_free(r.loop);
	ready_finish(&r.o.ready);
	return 0;
}

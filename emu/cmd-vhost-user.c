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
"  --control PATH    a control socket (vsockemu ctl PATH COMMAND): stats\n"
"                    and rst PORT|all (the device resets connections);\n"
"                    reset and the guest-side faults are refused, as a\n"
"                    back-end cannot do them to a real guest\n"
"                    (doc/faults.md)\n"
"  -v, --verbose     report each front-end and the counters\n"
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
	const char *socket, *uds, *pcap;
	const char *control;		/* --control PATH */
	uint64_t cid;
	bool seqpacket, once;
	enum vsock_profile profile;
	uint32_t max_conns;
	enum opt_verbosity verbose;
};

struct vhu_run {
	struct vhu_opts o;
	struct loop *loop;
	int listen_fd, conn_fd;
	struct host_side host;		/* the muxer on loop */
	struct vsock_device *dev;
	struct vhu *v;
	struct capture cap;
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
		{ "control", required_argument, NULL, 'C' },
		OPT_COMMON_LONG,
		{ NULL, 0, NULL, 0 },
	};
	uint64_t n;
	int c;

	memset(o, 0, sizeof(*o));
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

/* Ends the session for why, saying so unless quiet. */
static void
drop_frontend(struct vhu_run *r, const char *why)
{
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
	    .max_conns = r->o.max_conns };
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
	if (r->o.verbose >= 2)
		fprintf(stderr, "vsockemu vhost-user: front-end connected\n");
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

int
cmd_vhost_user(int argc, char **argv)
{
	struct vhu_run r;
	struct muxer_config mc;
	const char *why = NULL;
	char err[512];
	uint64_t now, next;
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
	if ((r.listen_fd = listen_on(r.o.socket, err, sizeof(err))) < 0 ||
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
		loop_free(r.loop);
		return 2;
	}
	loop_watch(r.loop, r.listen_fd, VSOCK_EV_READ, on_listen, &r);
	if (r.o.verbose)
		fprintf(stderr, "vsockemu vhost-user: waiting for QEMU on %s; "
		    "host side on %s\n", r.o.socket, r.o.uds);
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
	} while (!r.closing && loop_wait(r.loop, next));
	end_session(&r, r.kicks);
	vhu_control_close(&r.ctl);
	muxer_free(r.host.mx);
	capture_close(&r.cap);
	close(r.listen_fd);
	unlink(r.o.socket);
	loop_free(r.loop);
	return 0;
}

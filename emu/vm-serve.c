/* vm-serve.c - `vsockemu serve --vm ...`: several simulated guests in one process, siblings routed between them. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend-muxer.h"
#include "capture.h"
#include "error.h"
#include "guest-apps.h"
#include "guest-endpoint.h"
#include "host-side.h"
#include "loop.h"
#include "serve-stats.h"
#include "sim-guest.h"
#include "vm-group.h"
#include "vm-serve.h"
#include "vsockemu.h"

/* Rounds of one settle before the loop looks at its fds again. */
#define SETTLE_ROUNDS	100000

struct vm_serve;

/* One simulated VM: guest, device, host side, services. */
struct serve_vm {
	struct vm_serve *srv;
	const struct vm_spec *spec;
	struct vm_member *member;
	struct host_side host;		/* the muxer on srv->loop */
	struct vsock_device *dev;
	struct fg_mem mem;
	struct fg_vsock *vs;
	struct gapps *apps;
	struct gep *gep;		/* UDS.guest: run --guest, CONNECT */
	struct sim_guest_signals sig;	/* the guest's kick, the device's irq */
};

struct vm_serve {
	const struct vm_serve_config *cfg;
	struct loop *loop;
	struct capture cap;
	struct vm_router router;
	struct serve_vm vm[VM_MAX];
	unsigned nvm;			/* set up so far */
};

/* The host side, the device and the simulated guest of one VM. */
static int
vm_build(struct serve_vm *vm, char *err, size_t errlen)
{
	const struct vm_serve_config *c = vm->srv->cfg;
	struct host_device_opts ho = { .cid = vm->spec->cid,
	    .profile = c->profile, .seqpacket = c->seqpacket,
	    .max_conns = c->max_conns };
	struct muxer_config mc;
	const char *why = NULL;
	int e;

	muxer_config_defaults(&mc);
	mc.uds_path = vm->spec->uds;
	mc.line_timeout = c->line_timeout_ms * 1000000u;
	mc.seqpacket = c->seqpacket;
	mc.log = vse_log;
	mc.log_ctx = "serve";
	if (host_side_open(&vm->host, vm->srv->loop, &mc, err, errlen) < 0)
		return -1;
	if ((e = host_device_new(&vm->host, &ho, &vm->srv->cap, &vm->dev,
	    &why)) < 0) {
		snprintf(err, errlen, "%s", why ? why : vse_strerror(e));
		return -1;
	}
	vsock_device_set_notify(vm->dev, sim_guest_on_irq, &vm->sig);
	vm_member_attach(vm->member, vm->dev);
	return sim_guest_new(vm->dev, vm->spec->cid, c->max_conns +
	    VM_SPEC_GUESTS + 16, sim_guest_on_kick, &vm->sig, &vm->mem, &vm->vs, err, errlen);
}

/* The VM's services (default 52=echo, as serve's) and UDS.guest. */
static int
vm_start_apps(struct serve_vm *vm, char *err, size_t errlen)
{
	const struct vm_serve_config *c = vm->srv->cfg;
	static const struct gapp_listen_spec echo = { .port = 52,
	    .service = GAPP_ECHO };
	const struct gapp_listen_spec *ls = vm->spec->guest;
	unsigned nls = vm->spec->nguest;

	if (nls == 0) {
		ls = &echo;
		nls = 1;
	}
	if (gapps_new(vm->vs, vm->srv->loop, ls, nls, NULL, 0,
	    c->seqpacket ? VIRTIO_VSOCK_TYPE_SEQPACKET :
	    VIRTIO_VSOCK_TYPE_STREAM, &vm->apps, err, errlen) < 0 ||
	    gep_new(vm->srv->loop, vm->spec->uds, vm->apps, c->seqpacket,
	    &vm->gep, err, errlen) < 0)
		return -1;
	fg_vsock_start(vm->vs);
	return 0;
}

/* Lets every guest, device and service run until nothing moves. */
static void
settle_all(struct vm_serve *s, uint64_t now)
{
	unsigned rounds, i;
	bool moved;

	for (rounds = 0; rounds < SETTLE_ROUNDS; rounds++) {
		moved = false;
		for (i = 0; i < s->nvm; i++) {
			struct serve_vm *vm = &s->vm[i];

			moved |= sim_guest_deliver(&vm->sig, vm->dev, vm->vs,
			    now);
			moved |= gapps_run(vm->apps, now);
		}
		if (!moved)
			return;
	}
}

/* Runs every VM's timers and host side; the earliest next deadline. */
static uint64_t
run_all(struct vm_serve *s, uint64_t now)
{
	uint64_t next = UINT64_MAX, d;
	unsigned i;

	for (i = 0; i < s->nvm; i++) {
		vsock_device_run(s->vm[i].dev, now);
		muxer_run(s->vm[i].host.mx, now);
		fg_vsock_poll(s->vm[i].vs, now);
	}
	settle_all(s, now);
	for (i = 0; i < s->nvm; i++) {
		struct serve_vm *vm = &s->vm[i];

		if ((d = vsock_device_next_deadline(vm->dev)) < next)
			next = d;
		if ((d = muxer_next_deadline(vm->host.mx)) < next)
			next = d;
		if ((d = fg_vsock_next_deadline(vm->vs)) < next)
			next = d;
	}
	return next;
}

/* SIGUSR1: one line of live counters per VM on stderr, as serve's. */
static void
print_counters(const struct vm_serve *s)
{
	struct serve_counters c;
	char line[160];
	unsigned i;

	for (i = 0; i < s->nvm; i++) {
		serve_counters_get(s->vm[i].vs, s->vm[i].apps, s->vm[i].dev,
		    &c);
		serve_counters_format(&c, line, sizeof(line));
		fprintf(stderr, "vsockemu serve: cid=%llu %s\n",
		    (unsigned long long)s->vm[i].spec->cid, line);
	}
}

/* Frees every VM: no sibling routes to a device being freed. */
static void
teardown(struct vm_serve *s)
{
	uint64_t now = loop_now();
	unsigned i;

	for (i = 0; i < s->nvm; i++)
		vm_member_attach(s->vm[i].member, NULL);
	for (i = 0; i < s->nvm; i++) {
		struct serve_vm *vm = &s->vm[i];

		gep_free(vm->gep, now);
		gapps_free(vm->apps, now);
		vsock_device_free(vm->dev);	/* closes host sockets */
		muxer_free(vm->host.mx);
		if (vm->vs != NULL)
			fg_vsock_free(vm->vs);
		fg_mem_destroy(&vm->mem);
	}
	capture_close(&s->cap);
	loop_free(s->loop);
}

/* Sets up VM i; its sockets exist once this returns 0. */
static int
vm_open(struct vm_serve *s, const struct vm_spec *spec, char *err,
    size_t errlen)
{
	struct serve_vm *vm = &s->vm[s->nvm++];

	vm->srv = s;
	vm->spec = spec;
	vm->member = vm_router_add(&s->router, spec->cid, &spec->groups);
	if (vm_build(vm, err, errlen) < 0 || vm_start_apps(vm, err,
	    errlen) < 0)
		return -1;
	if (s->cfg->verbose)
		fprintf(stderr, "vsockemu serve: guest CID %llu on %s\n",
		    (unsigned long long)spec->cid, spec->uds);
	return 0;
}

/*
 * Every VM's sockets listen: ready. The line has one "cid= uds=" pair per
 * VM, in --vm order, as many as fit, then "..." (vhost-user's say_ready()
 * does the same with its triples).
 */
static void
say_ready(const struct vm_serve *s)
{
	char what[3072], pair[600], status[128];
	size_t len = 0;
	unsigned i;
	int n;

	what[0] = '\0';
	for (i = 0; i < s->nvm; i++) {
		const struct vm_spec *v = s->vm[i].spec;

		n = snprintf(pair, sizeof(pair), "%scid=%llu uds=%s",
		    i > 0 ? " " : "", (unsigned long long)v->cid, v->uds);
		if (n < 0 || (size_t)n >= sizeof(pair) ||
		    len + (size_t)n + sizeof(" ...") > sizeof(what)) {
			memcpy(what + len, " ...", sizeof(" ..."));
			break;
		}
		memcpy(what + len, pair, (size_t)n + 1);
		len += (size_t)n;
	}
	snprintf(status, sizeof(status), "%u simulated guests", s->nvm);
	if (s->cfg->verbose)
		fprintf(stderr, "vsockemu serve: %s\n", status);
	ready_signal(s->cfg->ready, what, status);
}

int
vm_serve_run(const struct vm_serve_config *c)
{
	struct vm_serve *s;
	char err[512];
	unsigned i;
	int rc = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return 1;
	s->cfg = c;
	if (loop_new(&s->loop) < 0 || loop_catch_info_signal(s->loop) < 0) {
		loop_free(s->loop);
		free(s);
		return 1;
	}
	if (ready_prepare(c->ready, err, sizeof(err)) < 0 ||
	    (c->pcap != NULL && capture_open(&s->cap, "serve", c->pcap, err,
	    sizeof(err)) < 0))
		rc = -1;
	for (i = 0; i < c->nvm && rc == 0; i++)
		rc = vm_open(s, &c->vm[i], err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "vsockemu serve: %s\n", err);
		rc = 2;
	} else {
		say_ready(s);
		for (;;) {
			uint64_t next = run_all(s, loop_now());

			if (loop_info_requested(s->loop))
				print_counters(s);
			if (!loop_wait(s->loop, next))
				break;
		}
		if (c->verbose)
			fprintf(stderr, "vsockemu serve: stopped by signal "
			    "%d\n", loop_stop_signal(s->loop));
	}
	teardown(s);
	ready_finish(c->ready);
	free(s);
	return rc;
}

/*
 * echo.c - libvsockemu's example (doc/api.md): a simulated Linux guest opens
 * a vsock socket to a host application that is a plain callback table, and
 * checks that what it sends comes back. Given a file name, it also records
 * the session as a vsockmon pcap and replays that capture against a fresh
 * device.
 *
 *   cc echo.c $(pkg-config --cflags --libs vsockemu) -o echo
 *   ./echo [CAPTURE.pcap]
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <vsockemu/vsockemu.h>

#define ECHO_PORT	1234		/* the host application listens here */
#define GUEST_CID	42

/* The host application: the device calls it through struct vsock_backend_ops. */
struct echo_host {
	struct vsock_device *dev;
	vsock_time_t now;
};

/* One connection's bytes, received and not yet echoed. */
struct echo_conn {
	unsigned char buf[4096];
	size_t len;
	bool full;		/* we refused bytes: tell the device when not */
	bool eof;		/* the guest will send no more */
};

/* A guest connects: accept STREAM connections on ECHO_PORT, at once. */
static int
echo_connect(void *ctx, struct vsock_conn *c, uint32_t port, uint16_t type)
{
	struct echo_conn *e;

	(void)ctx;
	if (port != ECHO_PORT || type != VIRTIO_VSOCK_TYPE_STREAM)
		return -ECONNREFUSED;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -ENOMEM;
	vsock_conn_set_backend_data(c, e);
	return 0;
}

/* Only for connections the host opens (vsock_device_host_connect). */
static void
echo_established(void *ctx, struct vsock_conn *c)
{
	(void)ctx;
	(void)c;
}

/* Guest bytes arrive: keep what fits and say there is data to read. */
static ssize_t
echo_write(void *ctx, struct vsock_conn *c, const struct iovec *iov,
    int iovcnt, uint32_t flags)
{
	struct echo_host *h = ctx;
	struct echo_conn *e = vsock_conn_backend_data(c);
	size_t n = 0, k;
	int i;

	(void)flags;
	for (i = 0; i < iovcnt; i++) {
		k = iov[i].iov_len;
		if (k > sizeof(e->buf) - e->len)
			k = sizeof(e->buf) - e->len;
		memcpy(e->buf + e->len, iov[i].iov_base, k);
		e->len += k;
		n += k;
	}
	if (n == 0) {
		e->full = true;		/* the device asks again once told */
		return -EAGAIN;
	}
	vsock_device_host_readable(h->dev, c, h->now);
	return (ssize_t)n;
}

/* The device reads what goes back to the guest: the same bytes, then EOF. */
static ssize_t
echo_read(void *ctx, struct vsock_conn *c, const struct iovec *iov,
    int iovcnt, uint32_t *flags)
{
	struct echo_host *h = ctx;
	struct echo_conn *e = vsock_conn_backend_data(c);
	size_t n = 0, k;
	int i;

	*flags = 0;
	if (e->len == 0)
		return e->eof ? 0 : -EAGAIN;
	for (i = 0; i < iovcnt && n < e->len; i++) {
		k = iov[i].iov_len < e->len - n ? iov[i].iov_len : e->len - n;
		memcpy(iov[i].iov_base, e->buf + n, k);
		n += k;
	}
	memmove(e->buf, e->buf + n, e->len - n);
	e->len -= n;
	if (e->full) {
		e->full = false;
		vsock_device_host_writable(h->dev, c, h->now);
	}
	return (ssize_t)n;
}

/* The guest shut a direction; after its SHUT_WR we end our stream too. */
static void
echo_shutdown(void *ctx, struct vsock_conn *c, int how)
{
	struct echo_host *h = ctx;
	struct echo_conn *e = vsock_conn_backend_data(c);

	if (how == VSOCK_SHUT_WR) {
		e->eof = true;
		vsock_device_host_readable(h->dev, c, h->now);
	}
}

/* Readiness is reported as it happens (all in memory): nothing to watch. */
static void
echo_want(void *ctx, struct vsock_conn *c, unsigned events)
{
	(void)ctx;
	(void)c;
	(void)events;
}

/* The connection is gone. */
static void
echo_release(void *ctx, struct vsock_conn *c, enum vsock_release why)
{
	(void)ctx;
	(void)why;
	free(vsock_conn_backend_data(c));
}

static const struct vsock_backend_ops echo_ops = {
	.connect = echo_connect,
	.established = echo_established,
	.write = echo_write,
	.read = echo_read,
	.shutdown = echo_shutdown,
	.want = echo_want,
	.release = echo_release,
};

/* The guest side: connect, send, read the echo back, close. */
static int
guest_echo(struct fg_guest *g, vsock_time_t now)
{
	static const char msg[] = "hello, vsock";
	struct fg_vsock *vs = fg_guest_vsock(g);
	char back[sizeof(msg)];
	ssize_t n;
	int fd;

	if ((fd = fg_sock_open(vs, VIRTIO_VSOCK_TYPE_STREAM)) < 0 ||
	    fg_sock_connect(vs, fd, VMADDR_CID_HOST, ECHO_PORT, now) !=
	    -EINPROGRESS || !fg_guest_settle(g, now) ||
	    fg_sock_state(vs, fd) != FG_SS_CONNECTED) {
		fprintf(stderr, "echo: connect failed\n");
		return -1;
	}
	if (fg_sock_send(vs, fd, msg, sizeof(msg), 0) != (ssize_t)sizeof(msg) ||
	    !fg_guest_settle(g, now)) {
		fprintf(stderr, "echo: send failed\n");
		return -1;
	}
	n = fg_sock_recv(vs, fd, back, sizeof(back), NULL);
	if (n != (ssize_t)sizeof(msg) || memcmp(back, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "echo: got %zd bytes back, not the %zu sent\n",
		    n, sizeof(msg));
		return -1;
	}
	fg_sock_close(vs, fd, now);
	/* Linux's close: SHUTDOWN, the peer's RST, or RST after 8 s. */
	fg_guest_settle(g, now);
	fg_guest_settle(g, fg_guest_next_deadline(g));
	return 0;
}

/* The device (Linux profile, our CID) with the echo host and a guest. */
static int
run_session(const char *capture)
{
	struct vsock_pcap_writer *w = NULL;
	struct vsock_device_config cfg;
	struct echo_host host = { 0 };
	struct fg_guest *g = NULL;
	const char *why = NULL;
	char msg[256];
	int e, rc = -1;

	vsock_device_config_defaults(&cfg);
	cfg.profile = VSOCK_PROFILE_LINUX;
	cfg.guest_cid = GUEST_CID;
	if ((e = vsock_device_new(&cfg, &echo_ops, &host, &host.dev,
	    &why)) < 0) {
		fprintf(stderr, "echo: %s\n", why != NULL ? why :
		    vse_strerror(e));
		return -1;
	}
	if (capture != NULL) {
		if (vsock_pcap_writer_open(capture, &w, msg, sizeof(msg)) < 0) {
			fprintf(stderr, "echo: %s\n", msg);
			goto out;
		}
		vsock_device_set_tap(host.dev, vsock_pcap_writer_tap, w);
	}
	if ((e = fg_guest_new(host.dev, NULL, &g)) < 0) {
		fprintf(stderr, "echo: guest: %s\n", vse_strerror(e));
		goto out;
	}
	rc = guest_echo(g, host.now);
	if (rc == 0 && fg_guest_violation(g) != NULL) {
		fprintf(stderr, "echo: %s\n", fg_guest_violation(g));
		rc = -1;
	}
out:
	vsock_device_free(host.dev);	/* first: its queues are in g's RAM */
	fg_guest_free(g);
	if (w != NULL && vsock_pcap_writer_close(w) < 0)
		rc = -1;
	return rc;
}

/*
 * Replays the capture: a fresh device, fed the guest's frames, must show the
 * outcomes, events and byte streams the capture shows (REPLAY_SEMANTIC).
 */
static int
replay_capture(const char *capture)
{
	struct replay_options o;
	struct replay_result *res = malloc(sizeof(*res));
	char *report;
	int rc;

	if (res == NULL)
		return -1;
	replay_options_defaults(&o);
	rc = replay_run_file(capture, &o, res) == REPLAY_PASS ? 0 : -1;
	if ((report = replay_report(capture, res, REPLAY_FORMAT_TEXT, 1,
	    1)) != NULL) {
		fputs(report, stdout);
		free(report);
	}
	free(res);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *capture = argc > 1 ? argv[1] : NULL;

	if (run_session(capture) < 0)
		return 1;
	printf("echo ok\n");
	if (capture != NULL && replay_capture(capture) < 0)
		return 1;
	return 0;
}

/* soak-client.c - the processes of make soak: churning host clients of serve, a talking unix: service, a slot filler. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* The guest services soak.sh starts serve with. */
#define PORT_ECHO	52
#define PORT_DISCARD	53
#define PORT_SOURCE	54
#define PORT_UNIX	56
/* Nothing may take longer than this; more is a stall, not bad luck. */
#define IO_TIMEOUT_S	10
#define CHUNK		(64 * 1024)
#define TALKER_MAX	1024

static uint64_t rng_state;
static unsigned long refusals;	/* CONNECTs closed without OK */

/* xorshift64*: the churn is the same for the same seed. */
static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

/* A number in [lo, hi]. */
static size_t
rng_range(size_t lo, size_t hi)
{
	return lo + (size_t)(rng() % (hi - lo + 1));
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * recv and send, retried after EINTR: with SO_RCVTIMEO / SO_SNDTIMEO set,
 * Linux fails them with EINTR once the process is stopped and continued
 * (signal(7)), which soak.sh does to one client all along.
 */
static ssize_t
xrecv(int fd, void *buf, size_t n, int flags)
{
	ssize_t r;

	while ((r = recv(fd, buf, n, flags)) < 0 && errno == EINTR)
		;
	return r;
}

static ssize_t
xsend(int fd, const void *buf, size_t n, int flags)
{
	ssize_t r;

	while ((r = send(fd, buf, n, flags | MSG_NOSIGNAL)) < 0 &&
	    errno == EINTR)
		;
	return r;
}

/* A blocking AF_UNIX stream to path whose reads and writes time out. */
static int
uds_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Firecracker's handshake: "CONNECT port\n", then "OK n\n" read a byte
 * at a time so that no data is taken with it. Returns the fd, -1 when
 * refused (closed without OK), -2 when serve did not answer in time.
 */
static int
connect_port(const char *uds, unsigned port)
{
	char line[64];
	int fd = uds_connect(uds), i, n;

	if (fd < 0)
		return -1;
	n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (xsend(fd, line, (size_t)n, 0) != n)
		goto refused;
	for (i = 0; i < (int)sizeof(line) - 1; i++) {
		n = (int)xrecv(fd, line + i, 1, 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			close(fd);
			return -2;
		}
		if (n != 1)
			goto refused;
		if (line[i] == '\n')
			break;
	}
	if (strncmp(line, "OK ", 3) == 0)
		return fd;
refused:
	close(fd);
	return -1;
}

/* Reads up to n bytes (fewer at EOF); -1 on a timeout or an error. */
static ssize_t
read_some(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = xrecv(fd, buf + got, n - got, 0);
		if (r == 0)
			break;
		if (r < 0)
			return -1;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Sends what the socket takes now, up to n bytes; returns how many. */
static size_t
send_what_fits(int fd, const uint8_t *buf, size_t n)
{
	size_t sent = 0;
	ssize_t r;

	while (sent < n && (r = send(fd, buf + sent, n - sent > CHUNK ?
	    CHUNK : n - sent, MSG_DONTWAIT | MSG_NOSIGNAL)) > 0)
		sent += (size_t)r;
	return sent;
}

static uint8_t out[512 * 1024], in[512 * 1024];

/* Echo, half-closed: every byte must come back, then end of stream. */
static int
echo_half_close(int fd)
{
	size_t n = rng_range(1, CHUNK), i;
	ssize_t got;

	for (i = 0; i < n; i++)
		out[i] = (uint8_t)rng();
	if (xsend(fd, out, n, 0) != (ssize_t)n || shutdown(fd, SHUT_WR) < 0)
		return -1;
	got = read_some(fd, in, n + 1);
	if (got != (ssize_t)n || memcmp(in, out, n) != 0) {
		fprintf(stderr, "soak-client: echo of %zu bytes came back as "
		    "%zd\n", n, got);
		return -1;
	}
	return 0;
}

/* Reads slowly, 1 KiB a millisecond, for a while, then leaves. */
static int
slow_reader(int fd)
{
	struct timespec ms = { 0, 1000000 };
	unsigned k, rounds = (unsigned)rng_range(5, 60);

	for (k = 0; k < rounds; k++) {
		if (read_some(fd, in, 1024) != 1024) {
			fprintf(stderr, "soak-client: slow reader: %s\n",
			    strerror(errno));
			return -1;
		}
		nanosleep(&ms, NULL);
	}
	return 0;
}

/* One client: connect to a service, do something, vanish. */
static int
one_client(const char *uds)
{
	static const unsigned ports[] = { PORT_ECHO, PORT_ECHO, PORT_DISCARD,
	    PORT_SOURCE, PORT_SOURCE, PORT_UNIX, PORT_UNIX };
	unsigned kind = (unsigned)(rng() % 9), port;
	int fd, e = 0;

	if (kind == 7 || kind == 8) {
		/* Leaves before (or while) saying its line. */
		if ((fd = uds_connect(uds)) < 0)
			return 0;
		send(fd, kind == 7 ? "CONNECT 52\n" : "CONN", kind == 7 ? 11 : 4,
		    MSG_NOSIGNAL);
		close(fd);
		return 0;
	}
	port = ports[kind];
	fd = connect_port(uds, port);
	if (fd == -2) {
		fprintf(stderr, "soak-client: no answer to CONNECT %u\n", port);
		return -1;
	}
	if (fd < 0) {
		/* A few churners never fill --max-conns: a leak does. */
		refusals++;
		return 0;
	}
	if (port == PORT_ECHO && rng() % 2 == 0) {
		e = echo_half_close(fd);
	} else if (port == PORT_SOURCE && rng() % 3 == 0) {
		e = slow_reader(fd);
	} else {
		/* Mid-transfer: send some, read some, vanish. */
		size_t sent = 0, want = rng_range(1, sizeof(in));

		if (port != PORT_SOURCE)
			sent = send_what_fits(fd, out, rng_range(1,
			    sizeof(out)));
		/* Echo sends back no more than it got. */
		if (port == PORT_ECHO && want > sent)
			want = sent;
		if (port != PORT_DISCARD && want > 0 &&
		    read_some(fd, in, want) != (ssize_t)want) {
			fprintf(stderr, "soak-client: port %u: %zu bytes did "
			    "not come: %s\n", port, want, strerror(errno));
			e = -1;
		}
	}
	close(fd);
	return e;
}

/*
 * churn UDS SECONDS SEED: clients one after another until time is up.
 * Exit 1 if an echo came back wrong, serve stalled, or a CONNECT was
 * refused (a handful of churners never fill the connection table).
 */
static int
churn(const char *uds, double seconds, uint64_t seed)
{
	double end = now_s() + seconds;
	unsigned long n = 0, bad = 0;

	rng_state = seed * 2 + 1;
	while (now_s() < end) {
		if (one_client(uds) < 0)
			bad++;
		n++;
	}
	printf("soak-client: %lu clients, %lu failed, %lu refused\n", n, bad,
	    refusals);
	return bad == 0 && refusals == 0 ? 0 : 1;
}

/* A listening AF_UNIX socket at path. */
static int
uds_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 128) < 0)
		return -1;
	return fd;
}

/*
 * talker PATH: the unix: service. Every connection is sent bytes for as
 * long as it takes them and read from until its end; it is closed only
 * when a send fails, so a bridge that never gives up would keep it.
 */
static int
talker(const char *path)
{
	struct pollfd p[TALKER_MAX + 1];
	unsigned n = 1, i;
	int fd;

	if ((p[0].fd = uds_listen(path)) < 0) {
		perror("soak-client: talker");
		return 2;
	}
	p[0].events = POLLIN;
	for (;;) {
		if (poll(p, n, -1) < 0 && errno != EINTR)
			return 2;
		if ((p[0].revents & POLLIN) && n <= TALKER_MAX &&
		    (fd = accept4(p[0].fd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) >= 0) {
			p[n].fd = fd;
			p[n++].events = POLLIN | POLLOUT;
		}
		for (i = 1; i < n; i++) {
			if ((p[i].revents & POLLIN) &&
			    recv(p[i].fd, in, CHUNK, MSG_DONTWAIT) == 0)
				p[i].events &= (short)~POLLIN;
			if (!(p[i].revents & (POLLOUT | POLLERR | POLLHUP)) ||
			    send(p[i].fd, out, CHUNK, MSG_DONTWAIT |
			    MSG_NOSIGNAL) >= 0 || errno == EAGAIN)
				continue;
			close(p[i].fd);
			p[i--] = p[--n];
		}
	}
}

/*
 * fill UDS PORT N: N connections to an echo port all get OK and echo, at
 * once; one more is refused (the limit is the limit). Exit 0 on success.
 */
static int
fill(const char *uds, unsigned port, unsigned n)
{
	int *fds = calloc(n, sizeof(*fds)), extra, e = 0;
	unsigned i, opened;
	char c;

	if (fds == NULL)
		return 2;
	for (opened = 0; opened < n && e == 0; opened++) {
		fds[opened] = connect_port(uds, port);
		if (fds[opened] < 0 || xsend(fds[opened], "x", 1, 0) != 1 ||
		    xrecv(fds[opened], &c, 1, 0) != 1 || c != 'x') {
			fprintf(stderr, "soak-client: connection %u of %u "
			    "failed\n", opened + 1, n);
			e = 1;
		}
	}
	if (e == 0 && (extra = connect_port(uds, port)) != -1) {
		fprintf(stderr, "soak-client: connection %u of %u was not "
		    "refused\n", n + 1, n);
		if (extra >= 0)
			close(extra);
		e = 1;
	}
	for (i = 0; i < opened; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	if (e == 0)
		printf("soak-client: %u connections at once, the next "
		    "refused\n", n);
	return e;
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 5 && strcmp(argv[1], "churn") == 0)
		return churn(argv[2], atof(argv[3]),
		    strtoull(argv[4], NULL, 10));
	if (argc == 3 && strcmp(argv[1], "talker") == 0)
		return talker(argv[2]);
	if (argc == 5 && strcmp(argv[1], "fill") == 0)
		return fill(argv[2], (unsigned)atoi(argv[3]),
		    (unsigned)atoi(argv[4]));
	fprintf(stderr, "usage: soak-client churn UDS SECONDS SEED\n"
	    "       soak-client talker PATH\n"
	    "       soak-client fill UDS PORT N\n");
	return 2;
}

/* vsock-play.c - a scripted AF_VSOCK peer for capture scenarios (runs in the guest). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

/*
 * usage: vsock-play [-rs] [-n COUNT] [-b BUFSIZE] [-B BACKLOG] [-R REFUSED]
 *            listen|bind|hold|nothing|connect CID PORT [ACTION...]
 * listen accepts COUNT connections (each served by a child running the
 * actions); bind only binds and runs the actions (sleep) on the bound
 * socket; hold listens with the backlog and never accepts; nothing opens no
 * socket at all (a port where nothing listens) and prints "ready"; connect
 * makes COUNT connections at once (each in a child). -s is SOCK_SEQPACKET,
 * -b sets SO_VM_SOCKETS_BUFFER_SIZE before connect or listen, -B is
 * listen()'s backlog (default max(COUNT, 64)); -r: every connect must be
 * refused; -R K: exactly K of the COUNT connects are refused, the others
 * run the actions. Actions run in order on each connection:
 *   send:N[:CHUNK]    write N bytes of a fixed text pattern, CHUNK at a time
 *                     (SEQPACKET: each CHUNK is one message)
 *   flood:N[:CHUNK]   like send, but the peer must stop it first: a write
 *                     failing with EPIPE or ECONNRESET ends it (exit 1 if
 *                     all N bytes went)
 *   bufsize:N         SO_VM_SOCKETS_BUFFER_SIZE on the connected socket
 *   msg:N[:eor]       one sendmsg of N bytes, with MSG_EOR if asked
 *   line:TEXT         write TEXT and a newline
 *   recv:N[:CHUNK[:MS]] read N bytes (CHUNK per read, MS ms between reads)
 *   drain             read until EOF, echo nothing
 *   echo              write back whatever is read, until EOF
 *   msgs:N            receive N messages, printing each one's size and flags
 *   sleep:MS          wait MS milliseconds
 *   shutwr | shutrd   shutdown(SHUT_WR) / shutdown(SHUT_RD)
 *   eof               like drain, one byte per read: wait for the peer's
 *                     SHUTDOWN SEND (or close)
 * The socket is closed after the last action. Exit 0 if every action
 * succeeded; a refused connect prints "refused" and exits 0 only with -r.
 */

static const char pattern[] = "vsockemu-capture-0123456789abcdef\n";
static int seqpacket, expect_refused, want_refused = -1, backlog = -1;
static unsigned buffer_size;

/* A connect refused under -R: the parent counts these exit statuses. */
#define EXIT_REFUSED	3

/* Prints a failed call's name and errno, then exits 1. */
static void
die(const char *what)
{
	fprintf(stderr, "vsock-play: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Sleeps ms milliseconds. */
static void
nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Fills buf with n bytes of the pattern, continuing at stream offset off. */
static void
fill(char *buf, size_t n, unsigned long long off)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = pattern[(off + i) % (sizeof(pattern) - 1)];
}

/* Writes all n bytes of buf, retrying short writes; 0, or the errno. */
static int
write_some(int fd, const char *buf, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = send(fd, buf, n, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes all n bytes of buf, retrying short writes. */
static void
write_all(int fd, const char *buf, size_t n)
{
	if ((errno = write_some(fd, buf, n)) != 0)
		die("send");
}

/*
 * send:N[:CHUNK] and flood:N[:CHUNK] - N pattern bytes in writes of CHUNK
 * (default 64 KiB). The pattern is laid out once, a period longer than a
 * chunk, and each write starts at its stream offset within it: a
 * multi-GiB transfer costs no per-byte work in the sender.
 */
static void
act_send(int fd, unsigned long long n, size_t chunk, int flood)
{
	const size_t period = sizeof(pattern) - 1;
	unsigned long long off = 0;
	char *buf;
	size_t k;
	int e = 0;

	if (chunk == 0)
		chunk = 65536;
	if ((buf = malloc(chunk + period)) == NULL)
		die("malloc");
	fill(buf, chunk + period, 0);
	while (off < n && e == 0) {
		k = n - off < chunk ? (size_t)(n - off) : chunk;
		if ((e = write_some(fd, buf + off % period, k)) == 0)
			off += k;
	}
	free(buf);
	if (e != 0 && (!flood || (e != EPIPE && e != ECONNRESET))) {
		errno = e;
		die("send");
	}
	if (flood) {
		printf("flood: %s after %llu bytes\n", e != 0 ? strerror(e) :
		    "not stopped", off);
		fflush(stdout);
		if (e == 0)
			exit(1);
	}
}

/* bufsize:N - SO_VM_SOCKETS_BUFFER_SIZE on a connected socket. */
static void
set_buffer_size(int fd, unsigned long long n)
{
	if (setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &n,
	    sizeof(n)) < 0)
		die("SO_VM_SOCKETS_BUFFER_SIZE");
}

/* msg:N[:eor] - one message of N bytes. */
static void
act_msg(int fd, size_t n, int eor)
{
	char *buf;

	if ((buf = malloc(n + 1)) == NULL)
		die("malloc");
	fill(buf, n, 0);
	if (send(fd, buf, n, MSG_NOSIGNAL | (eor ? MSG_EOR : 0)) != (ssize_t)n)
		die("sendmsg");
	free(buf);
}

/* recv:N[:CHUNK[:MS]] - read N bytes (all, if N is 0, until EOF). */
static void
act_recv(int fd, unsigned long long n, size_t chunk, long ms, int echo)
{
	unsigned long long got = 0;
	char *buf;
	ssize_t r;

	if (chunk == 0)
		chunk = 65536;
	if ((buf = malloc(chunk)) == NULL)
		die("malloc");
	while (n == 0 || got < n) {
		r = recv(fd, buf, n == 0 || n - got > chunk ? chunk :
		    (size_t)(n - got), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("recv");
		if (r == 0)
			break;
		if (echo)
			write_all(fd, buf, (size_t)r);
		got += (unsigned long long)r;
		if (ms > 0)
			nap(ms);
	}
	if (n != 0 && got < n) {
		fprintf(stderr, "vsock-play: EOF after %llu of %llu bytes\n",
		    got, n);
		exit(1);
	}
	free(buf);
}

/* msgs:N - receive N messages and print their sizes and EOR flags. */
static void
act_msgs(int fd, int n)
{
	static char buf[256 * 1024];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	while (n-- > 0) {
		if ((r = recvmsg(fd, &mh, 0)) < 0)
			die("recvmsg");
		printf("msg %zd%s%s\n", r, mh.msg_flags & MSG_EOR ? " eor" : "",
		    mh.msg_flags & MSG_TRUNC ? " trunc" : "");
	}
	fflush(stdout);
}

/* eof - read and drop until the peer's SHUTDOWN SEND ends the stream. */
static void
act_eof(int fd)
{
	char c;
	ssize_t r;

	while ((r = recv(fd, &c, 1, 0)) > 0)
		;
	if (r < 0)
		die("recv");
}

/* Runs one action word on fd. */
static void
act(int fd, const char *word)
{
	unsigned long long a = 0, b = 0, c = 0;
	const char *arg = strchr(word, ':');
	char *end;

	if (arg != NULL) {
		a = strtoull(arg + 1, &end, 0);
		if (*end == ':')
			b = strtoull(end + 1, &end, 0);
		if (*end == ':')
			c = strtoull(end + 1, &end, 0);
	}
	if (strncmp(word, "send:", 5) == 0)
		act_send(fd, a, (size_t)b, 0);
	else if (strncmp(word, "flood:", 6) == 0)
		act_send(fd, a, (size_t)b, 1);
	else if (strncmp(word, "bufsize:", 8) == 0)
		set_buffer_size(fd, a);
	else if (strncmp(word, "msg:", 4) == 0)
		act_msg(fd, (size_t)a, strstr(word, ":eor") != NULL);
	else if (strncmp(word, "line:", 5) == 0) {
		write_all(fd, word + 5, strlen(word + 5));
		write_all(fd, "\n", 1);
	} else if (strncmp(word, "recv:", 5) == 0)
		act_recv(fd, a, (size_t)b, (long)c, 0);
	else if (strcmp(word, "drain") == 0)
		act_recv(fd, 0, 0, 0, 0);
	else if (strcmp(word, "echo") == 0)
		act_recv(fd, 0, 0, 0, 1);
	else if (strncmp(word, "msgs:", 5) == 0)
		act_msgs(fd, (int)a);
	else if (strncmp(word, "sleep:", 6) == 0)
		nap((long)a);
	else if (strcmp(word, "shutwr") == 0) {
		if (shutdown(fd, SHUT_WR) < 0)
			die("shutdown");
	} else if (strcmp(word, "shutrd") == 0) {
		if (shutdown(fd, SHUT_RD) < 0)
			die("shutdown");
	} else if (strcmp(word, "eof") == 0)
		act_eof(fd);
	else {
		fprintf(stderr, "vsock-play: unknown action %s\n", word);
		exit(2);
	}
}

/* A vsock socket of the chosen type, with the chosen buffer size. */
static int
new_socket(void)
{
	int fd;

	fd = socket(AF_VSOCK, seqpacket ? SOCK_SEQPACKET : SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	if (buffer_size != 0)
		set_buffer_size(fd, buffer_size);
	return fd;
}

/* Runs the actions on fd and closes it; the child's exit status. */
static int
play(int fd, int nact, char **acts)
{
	int i;

	for (i = 0; i < nact; i++)
		act(fd, acts[i]);
	close(fd);
	return 0;
}

/*
 * Waits for every child; 0 if all exited 0, or under -R if exactly
 * want_refused of them were refused and the others exited 0.
 */
static int
reap(void)
{
	int st, bad = 0, refused = 0;

	while (wait(&st) > 0) {
		if (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_REFUSED &&
		    want_refused >= 0)
			refused++;
		else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad = 1;
	}
	if (want_refused >= 0 && refused != want_refused) {
		fprintf(stderr, "vsock-play: %d refused, not %d\n", refused,
		    want_refused);
		bad = 1;
	}
	return bad;
}

/* One connection to cid:port running the actions (in the caller). */
static int
do_connect(unsigned cid, unsigned port, int nact, char **acts)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = cid,
	    .svm_port = port };
	int fd = new_socket();

	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == ECONNREFUSED || errno == ECONNRESET) {
			printf("refused\n");
			fflush(stdout);
			if (want_refused >= 0)
				return EXIT_REFUSED;
			return expect_refused ? 0 : 1;
		}
		die("connect");
	}
	if (expect_refused) {
		fprintf(stderr, "vsock-play: connect succeeded\n");
		return 1;
	}
	printf("connected\n");
	fflush(stdout);
	return play(fd, nact, acts);
}

/* Runs the actions (sleep) on a socket that carries no connection. */
static int
idle(int fd, const char *say, int nact, char **acts)
{
	int i;

	printf("%s\n", say);
	fflush(stdout);
	for (i = 0; i < nact; i++)
		act(fd, acts[i]);
	if (fd >= 0)
		close(fd);
	return 0;
}

/*
 * Binds cid:port (role 'b'), listens without accepting ('h'), or listens
 * and serves count connections ('l').
 */
static int
do_listen(unsigned cid, unsigned port, int count, int role, int nact,
    char **acts)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = cid,
	    .svm_port = port };
	int fd = new_socket(), c, i;

	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind");
	if (role == 'b')
		return idle(fd, "bound", nact, acts);
	if (listen(fd, backlog >= 0 ? backlog : count > 64 ? count : 64) < 0)
		die("listen");
	if (role == 'h')
		return idle(fd, "listening, never accepting", nact, acts);
	printf("listening\n");
	fflush(stdout);
	for (i = 0; i < count; i++) {
		if ((c = accept(fd, NULL, NULL)) < 0)
			die("accept");
		if (fork() == 0) {
			close(fd);
			exit(play(c, nact, acts));
		}
		close(c);
	}
	close(fd);
	return reap();
}

int
main(int argc, char **argv)
{
	unsigned cid, port;
	int opt, count = 1, i;

	while ((opt = getopt(argc, argv, "+sn:b:B:R:r")) != -1) {
		switch (opt) {
		case 's': seqpacket = 1; break;
		case 'n': count = atoi(optarg); break;
		case 'b': buffer_size = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'B': backlog = atoi(optarg); break;
		case 'R': want_refused = atoi(optarg); break;
		case 'r': expect_refused = 1; break;
		default: return 2;
		}
	}
	if (argc - optind < 3 || count < 1) {
		fprintf(stderr, "usage: vsock-play [-rs] [-n COUNT] [-b BUFSIZE] "
		    "[-B BACKLOG] [-R REFUSED] "
		    "listen|bind|hold|nothing|connect CID PORT [ACTION...]\n");
		return 2;
	}
	cid = (unsigned)strtoul(argv[optind + 1], NULL, 0);
	port = (unsigned)strtoul(argv[optind + 2], NULL, 0);
	argv += optind + 3;
	argc -= optind + 3;
	if (strcmp(argv[-3], "nothing") == 0)
		return idle(-1, "ready", argc, argv);
	if (strcmp(argv[-3], "listen") == 0 || strcmp(argv[-3], "bind") == 0 ||
	    strcmp(argv[-3], "hold") == 0)
		return do_listen(cid, port, count, argv[-3][0], argc, argv);
	if (count == 1 && want_refused < 0)
		return do_connect(cid, port, argc, argv);
	for (i = 0; i < count; i++)
		if (fork() == 0)
			exit(do_connect(cid, port, argc, argv));
	return reap();
}

/* cmd-ctl.c - `vsockemu ctl PATH COMMAND...`: sends one command to a --control socket and prints its JSON answer. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "options.h"
#include "vsockemu.h"

/* How long the answer may take (the loop answers at once). */
#define CTL_TIMEOUT_SEC	10

static const char ctl_usage[] =
"usage: vsockemu ctl [options] PATH COMMAND [ARG...]\n"
"\n"
"Sends one command to the control socket PATH of `vsockemu serve\n"
"--control PATH` (or `vhost-user --control PATH`) and prints its answer,\n"
"one JSON object, on stdout:\n"
"\n"
"  reset [cid=N]     VIRTIO_VSOCK_EVENT_TRANSPORT_RESET (the guest CID\n"
"                    becomes N first, as after a snapshot restore): every\n"
"                    connection is dropped\n"
"  refuse PORT       the guest refuses (RST) new connections to PORT\n"
"  accept PORT       ... and accepts them again (clears delay too)\n"
"  delay PORT MS     the guest holds its RESPONSE to new connections to\n"
"                    PORT for MS milliseconds (0 to 3600000)\n"
"  rst PORT|all      the guest resets its established connections on PORT\n"
"                    (its own port or the host's), or all of them\n"
"  pause-rx          the guest stops posting RX buffers (back-pressure)\n"
"  resume-rx         ... and posts them again\n"
"  stats             counters\n"
"\n"
"Answers: {\"ok\":true,\"command\":\"NAME\",...} or {\"ok\":false,\"error\":\"...\"}.\n"
"Exit status: 0 ok, 1 an error answer, 2 bad usage, no socket or no\n"
"answer within 10 s.\n"
"\n"
"Options:\n"
"  -q, --quiet       accepted (ctl prints only the answer and errors)\n"
"  -v, --verbose     accepted, the same\n"
"  -h, --help        show this help\n"
"  -V, --version     show the version\n"
"\n"
"Example:\n"
"  vsockemu serve --control ./ctl.sock &\n"
"  vsockemu ctl ./ctl.sock reset cid=5\n";

static const struct opt_cmd ctl_cmd = {
	"ctl", "vsockemu ctl [options] PATH COMMAND [ARG...]", ctl_usage,
};

/* The command line: the words joined by spaces, then a newline. */
static int
join_line(int argc, char **argv, char *line, size_t len)
{
	size_t k = 0, n;
	int i;

	for (i = 0; i < argc; i++) {
		n = strlen(argv[i]);
		if (k + n + 2 > len || memchr(argv[i], '\n', n) != NULL)
			return -1;
		memcpy(line + k, argv[i], n);
		k += n;
		line[k++] = i + 1 < argc ? ' ' : '\n';
	}
	line[k] = '\0';
	return 0;
}

/* A socket connected to path with the answer timeout set, or -1. */
static int
connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { CTL_TIMEOUT_SEC, 0 };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Reads one answer line (at most CONTROL_ANSWER_MAX bytes): its length, or -1. */
static ssize_t
read_answer(int fd, char *buf, size_t len)
{
	size_t k = 0;
	ssize_t n;

	while (k + 1 < len) {
		n = recv(fd, buf + k, len - 1 - k, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		k += (size_t)n;
		if (memchr(buf, '\n', k) != NULL)
			break;
	}
	buf[k] = '\0';
	return memchr(buf, '\n', k) != NULL ? (ssize_t)k : -1;
}

int
cmd_ctl(int argc, char **argv)
{
	static const struct option opts[] = {
		OPT_COMMON_LONG,
		{ NULL, 0, NULL, 0 },
	};
	enum opt_verbosity verbose = OPT_NORMAL;
	char line[CONTROL_LINE_MAX + 1], answer[CONTROL_ANSWER_MAX + 1];
	const char *path;
	int c, fd;

	optind = 1;
	while ((c = opt_next(&ctl_cmd, argc, argv, "", opts,
	    &verbose)) != OPT_END) {
		if (c == OPT_EXIT_OK)
			return 0;
		return 2;
	}
	if (argc - optind < 2)
		return opt_usage(&ctl_cmd, "want PATH and a COMMAND");
	path = argv[optind];
	if (join_line(argc - optind - 1, argv + optind + 1, line,
	    sizeof(line)) < 0)
		return opt_usage(&ctl_cmd, "command longer than %d bytes",
		    CONTROL_LINE_MAX - 1);
	if ((fd = connect_to(path)) < 0) {
		fprintf(stderr, "vsockemu ctl: %s: %s\n", path,
		    strerror(errno));
		return 2;
	}
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0 ||
	    read_answer(fd, answer, sizeof(answer)) < 0) {
		fprintf(stderr, "vsockemu ctl: %s: no answer\n", path);
		close(fd);
		return 2;
	}
	close(fd);
	fputs(answer, stdout);
	return strncmp(answer, "{\"ok\":true", 10) == 0 ? 0 : 1;
}

/* replay-bench.c - the replay rows' two tools: a bare libpcap loop (the floor) and a command's CPU time. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <pcap/pcap.h>

/*
 * The floor replay is measured against: libpcap reading every record of
 * path and nothing else. Prints the number of records.
 */
static int
pcap_loop_only(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *data;
	unsigned long long frames = 0, bytes = 0;
	pcap_t *p = pcap_open_offline(path, err);

	if (p == NULL) {
		fprintf(stderr, "replay-bench: %s\n", err);
		return 1;
	}
	while (pcap_next_ex(p, &ph, &data) == 1) {
		frames++;
		bytes += ph->caplen;
	}
	pcap_close(p);
	printf("%llu frames %llu bytes\n", frames, bytes);
	return 0;
}

/*
 * Runs argv with its output thrown away and prints the CPU seconds (user
 * plus system) it used: everything here runs on one thread, so CPU time
 * is the figure a shared machine does not disturb (issue 20). The
 * command's exit status is not judged: a diverging trace costs CPU too.
 */
static int
cpu_of(char **argv)
{
	struct rusage ru;
	int status, fd;
	pid_t pid;

	if ((pid = fork()) < 0) {
		perror("replay-bench: fork");
		return 1;
	}
	if (pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid) {
		perror("replay-bench: wait4");
		return 1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		fprintf(stderr, "replay-bench: cannot run %s\n", argv[0]);
		return 1;
	}
	printf("%.6f\n", (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	return 0;
}

static void
usage(void)
{
	fputs("usage: replay-bench pcap-loop FILE\n"
	    "       replay-bench cpu CMD [ARG...]\n"
	    "  pcap-loop: read every record with libpcap, print the count\n"
	    "  cpu: run CMD (output discarded), print its CPU seconds\n",
	    stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "pcap-loop") == 0)
		return pcap_loop_only(argv[2]);
	if (argc >= 3 && strcmp(argv[1], "cpu") == 0)
		return cpu_of(argv + 2);
	usage();
	return 2;
}

/* slow-reader.c - a deliberately slow host application for the serve tests. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "backend-script.h"

/*
 * usage: slow-reader UDS PORT BYTES CHUNK DELAY_US
 * Connects through Firecracker's protocol, then reads BYTES bytes of the
 * guest's source:BYTES pattern CHUNK bytes at a time, sleeping DELAY_US
 * between reads, and checks every byte. Exit 0 only if all arrived intact
 * and the stream then ended.
 */
int
main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec ts;
	unsigned long long want, got = 0;
	size_t chunk;
	char line[64], *buf;
	int fd, i;
	ssize_t n;

	if (argc != 6) {
		fprintf(stderr, "usage: slow-reader UDS PORT BYTES CHUNK "
		    "DELAY_US\n");
		return 2;
	}
	want = strtoull(argv[3], NULL, 10);
	chunk = strtoul(argv[4], NULL, 10);
	ts.tv_sec = 0;
	ts.tv_nsec = strtol(argv[5], NULL, 10) * 1000;
	if ((buf = malloc(chunk)) == NULL || chunk == 0 ||
	    strlen(argv[1]) >= sizeof(sa.sun_path))
		return 2;
	strcpy(sa.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("slow-reader: connect");
		return 1;
	}
	snprintf(line, sizeof(line), "CONNECT %s\n", argv[2]);
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		return 1;
	/* The "OK <port>\n" line, byte by byte so no data is taken with it. */
	for (i = 0; i < (int)sizeof(line) - 1; i++) {
		if (read(fd, line + i, 1) != 1)
			return 1;
		if (line[i] == '\n')
			break;
	}
	if (strncmp(line, "OK ", 3) != 0)
		return 1;
	while ((n = read(fd, buf, chunk)) > 0) {
		if (!script_pattern_check(got, buf, (size_t)n)) {
			fprintf(stderr, "slow-reader: wrong byte near %llu\n",
			    got);
			return 1;
		}
		got += (unsigned long long)n;
		nanosleep(&ts, NULL);
	}
	printf("%llu\n", got);
	free(buf);
	close(fd);
	return got == want ? 0 : 1;
}

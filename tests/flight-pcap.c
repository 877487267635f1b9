/* flight-pcap.c - `flight-pcap DIR RUNNER`: the pcaps of the rings a suite's failed tests left (run_suite runs it). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "flight.h"

int
main(int argc, char **argv)
{
	char *end;
	long runner;

	if (argc != 3 || (runner = strtol(argv[2], &end, 10)) <= 0 ||
	    *end != '\0') {
		fprintf(stderr, "usage: flight-pcap DIR RUNNER-PID\n");
		return 2;
	}
	flight_collect(argv[1], runner);
	return 0;
}

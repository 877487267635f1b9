/* flight.h - a failing test leaves a pcap of the last packets that crossed its device. */
#ifndef VSE_TESTS_FLIGHT_H
#define VSE_TESTS_FLIGHT_H

#include <stdint.h>

#include "device.h"

/*
 * Check runs each test in a child that _exit()s on the first failed
 * assertion: no teardown, no atexit. So the recorder keeps the last
 * FLIGHT_SLOTS packets (whole, as tapped) in a file the child maps shared,
 * <dir>/flight-<runner>-<test>-<pid>.ring, written with plain stores. A
 * test that gets to its rig's free unlinks it; after the suite,
 * run_suite() runs tests/flight-pcap, which turns every ring its children
 * left into <dir>/<test>-<pid>.pcap (vsockmon, opens in Wireshark and
 * `vsockemu dump`) and names it. The converter is a program of its own so
 * that suites of the core link no capture library.
 * <dir> is $VSE_FLIGHT_DIR (make check: the build's tests/), else ".".
 */
#define FLIGHT_SLOTS	128

struct flight;

/* The runner's pid, set by run_suite before its children fork. */
extern long flight_runner;

/*
 * A recorder for the running test (Check's tcase_name()); NULL if none,
 * and always NULL outside run_suite (benchmarks record nothing).
 */
struct flight *flight_open(void);

/* The same in dir for runner and test name (for testing the recorder). */
struct flight *flight_open_in(const char *dir, long runner, const char *test);

/* A vsock_tap_fn: ctx is the flight (NULL: nothing recorded). */
void flight_tap(void *ctx, const struct vsock_tap_record *rec);

/* The test got here: drop the ring, keep nothing (NULL is allowed). */
void flight_close(struct flight *f);

/*
 * Converts every ring runner's children left in dir into a pcap, printing
 * one line per file to stderr. Returns how many were written. In
 * flight-collect.c, which links the trace layer: core suites never call it.
 */
int flight_collect(const char *dir, long runner);

#endif

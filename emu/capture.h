/* capture.h - the program's tap into a pcap file: wall-clock stamps, and a writer that fails stops the capture, never the program. */
#ifndef VSOCKEMU_CAPTURE_H
#define VSOCKEMU_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "pcap-writer.h"

/* A --pcap capture; zeroed means none. */
struct capture {
	struct vsock_pcap_writer *w;	/* NULL: none, or it stopped */
	const char *cmd;		/* "serve": names the messages */
	const char *path;
	uint64_t epoch;			/* wall ns minus loop_now() at open */
};

/*
 * Opens path ("-": standard output) for cmd's capture. Returns 0, or -1
 * with one line in err.
 */
int capture_open(struct capture *c, const char *cmd, const char *path,
    char *err, size_t errlen);

/*
 * A vsock_tap_fn (ctx: the capture). The device's clock is monotonic, a
 * capture wants wall-clock time, so the record is shifted here (never in
 * the device). The first write that fails (the reader of a pipe went
 * away, a full disk) closes the capture and says so once on stderr;
 * serving goes on and later records are not written.
 */
void capture_tap(void *ctx, const struct vsock_tap_record *rec);

/* Flushes and closes the capture, saying so if its end was lost. */
void capture_close(struct capture *c);

#endif

/* bridge-gate.h - a unix: bridge connects to its service when the guest is asked, so the guest refuses when the service does. */
#ifndef VSOCKEMU_BRIDGE_GATE_H
#define VSOCKEMU_BRIDGE_GATE_H

#include <stdbool.h>
#include <stdint.h>

/* Where a gate says that its service takes no connections (or again). */
struct bridge_log {
	void (*fn)(void *ctx, const char *msg);	/* NULL: nowhere */
	void *ctx;
};

struct bridge_gate;

/*
 * A gate for guest port's listener bridged to the AF_UNIX server path of
 * SOCK_STREAM or SOCK_SEQPACKET type sotype; path and log must outlive it.
 * NULL when out of memory.
 */
struct bridge_gate *bridge_gate_new(const char *path, int sotype,
    uint32_t port, const struct bridge_log *log);

/*
 * The listener's fg_sock_gate_fn (ctx: the gate): connects to the service
 * for the REQUEST of peer_cid:peer_port and keeps the socket for
 * bridge_gate_take; false (refuse) when the connect failed.
 */
bool bridge_gate_ask(void *ctx, uint64_t peer_cid, uint32_t peer_port);

/* The socket bridge_gate_ask made for that peer (now the caller's), or -1. */
int bridge_gate_take(struct bridge_gate *b, uint64_t peer_cid,
    uint32_t peer_port);

/*
 * Closes the sockets nobody took: once the listener's accept queue is
 * empty, they belonged to connections that ended before accept.
 */
void bridge_gate_flush(struct bridge_gate *b);

/* Closes what it holds and frees it (NULL is fine). */
void bridge_gate_free(struct bridge_gate *b);

/* Non-blocking AF_UNIX socket of sotype connected to path, or -errno. */
int bridge_connect(const char *path, int sotype);

#endif

/* guest-endpoint.h - serve's UDS.guest: `vsockemu run --guest` programs' sockets become guest sockets. */
#ifndef VSOCKEMU_GUEST_ENDPOINT_H
#define VSOCKEMU_GUEST_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "guest-apps.h"
#include "loop.h"

struct gep;

/*
 * Listens on UDS.guest (SOCK_STREAM) and, with seqpacket, on
 * UDS.guest.seqpacket. A client's first line asks for one guest socket:
 *   "CONNECT <cid> <port> [eor] [buf=N]\n"  a guest connection, bridged
 *       to the client once "OK <local port>\n" or "ERR <errno>\n" told
 *       how it went;
 *   "LISTEN <port> stream|seqpacket|seqpacket-eor [buf=N] [peer] <path>\n"
 *       the guest listens on port, each connection bridged to the AF_UNIX
 *       listener path, answered "OK\n" or "ERR <errno>\n"; the listener
 *       lasts as long as the client's connection;
 *   "BIND <port>\n"  is the port free in the guest now? "OK\n" or
 *       "ERR 98\n" (EADDRINUSE); nothing held.
 * "eor" (on UDS.guest.seqpacket) and "seqpacket-eor" opt in to the EOR
 * byte before every bridged message (seq-frame.h); buf=N (at most 64 MiB
 * is used) is the guest socket's SO_VM_SOCKETS_BUFFER_SIZE, the buf_alloc
 * it advertises; "peer" starts each bridged connection with
 * "PEER <cid> <port>\n", the guest socket's peer. err gets one line on
 * failure.
 */
int gep_new(struct loop *loop, const char *uds, struct gapps *apps,
    bool seqpacket, struct gep **out, char *err, size_t errlen);

/* Closes every client and listener and removes the socket files. */
void gep_free(struct gep *e, uint64_t now);

#endif

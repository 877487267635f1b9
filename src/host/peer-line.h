/* peer-line.h - the opt-in "PEER <cid> <port>" line that names an accepted connection's vsock peer. */
#ifndef VSOCKEMU_PEER_LINE_H
#define VSOCKEMU_PEER_LINE_H

/*
 * Firecracker's convention connects a guest's connection to host port P
 * to the listener at PATH_P and carries nothing about who connected, while
 * Linux's accept() gives the vsock peer (the guest's CID and source port:
 * vsock_accept(), the child's remote_addr). A listener that opts in, by
 * its file name PATH_P.peer (SOCK_SEQPACKET: PATH_P.eor.peer, the EOR
 * byte's opt-in too, seq-frame.h), gets one line "PEER <cid> <port>\n"
 * first on every connection, before any data, unframed (one message on
 * SEQPACKET). The guest role's LISTEN ... peer asks for the same line.
 * A listener at PATH_P sees exactly Firecracker's bytes.
 */
#define PEER_LINE_OPTIN		"peer"

/* Room for the longest line: "PEER 18446744073709551615 4294967295\n". */
#define PEER_LINE_MAX		48

#endif

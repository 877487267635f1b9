/* seq-frame.h - SOCK_SEQPACKET messages over AF_UNIX with vsock's EOR bit: the opt-in "eor" framing. */
#ifndef VSOCKEMU_SEQ_FRAME_H
#define VSOCKEMU_SEQ_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/*
 * AF_UNIX SOCK_SEQPACKET keeps message bounds but has no MSG_EOR, while a
 * vsock SEQPACKET message carries VIRTIO_VSOCK_SEQ_EOR when its sender
 * passed MSG_EOR (Linux: virtio_transport_seqpacket_enqueue()), and the
 * receiver sees MSG_EOR in msg_flags (virtio_transport_seqpacket_
 * do_dequeue()). A connection that opted in (a "CONNECT <port> eor" line,
 * a listener at PATH_<port>.eor, guest role "CONNECT <cid> <port> eor" or
 * "LISTEN <port> seqpacket-eor <path>") prefixes every message with one
 * flag byte. Every message then has at least one byte, so an empty read is
 * the end of the connection. Unknown flag bits are ignored.
 */
#define SEQ_FRAME_EOR		0x01u

/* The word that opts a CONNECT line (or a listener file) in. */
#define SEQ_FRAME_OPTIN		"eor"

/* Longest iovec array a framed message may have (UIO_MAXIOV less ours). */
#define SEQ_FRAME_IOV_MAX	1023

/* The sendmsg / recvmsg to call underneath (libc's, or a preload's next). */
typedef ssize_t (*seq_frame_sendmsg_fn)(int, const struct msghdr *, int);
typedef ssize_t (*seq_frame_recvmsg_fn)(int, struct msghdr *, int);

/*
 * Sends m's bytes as one framed message, EOR set when eor. Returns the
 * payload bytes sent (the flag byte not counted), or -1 with errno
 * (EMSGSIZE for more than SEQ_FRAME_IOV_MAX iovecs). An empty message is
 * not sent and 0 returned, as Linux sends no empty RW packet.
 */
ssize_t seq_frame_sendmsg(int fd, const struct msghdr *m, int flags, bool eor,
    seq_frame_sendmsg_fn snd);

/*
 * Receives one framed message into m as recvmsg(2) would: returns the
 * payload length (its full length with MSG_TRUNC in flags), 0 at the end
 * of the connection, -1 with errno. msg_flags gets MSG_EOR from the flag
 * byte and keeps the carrier's MSG_TRUNC; *eor (may be NULL) too. A
 * message of no payload (the flag byte alone: no Linux peer sends one) is
 * dropped and the next one read, so 0 means the end, never a message.
 */
ssize_t seq_frame_recvmsg(int fd, struct msghdr *m, int flags, bool *eor,
    seq_frame_recvmsg_fn rcv);

/*
 * Does the first line of a connection, "…\n" of len bytes, end in
 * " eor\n"? Then the word is cut (the line keeps its "\n", *len shrinks)
 * and true is returned; the rest of the line is parsed as before.
 */
bool seq_frame_take_optin(char *line, size_t *len);

#endif

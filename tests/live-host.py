#!/usr/bin/env python3
# live-host.py - a host program for tests/replay-live.sh: an echo server on
# a serve-style UDS_PORT listener (or a CONNECT client), with mutations that
# make it diverge from a recorded trace in one known way.
# Usage: live-host.py listen[-seqpacket] PATH MODE [ARG]  |
#        live-host.py connect UDS PORT MODE [ARG]
#   (listen-seqpacket: SOCK_SEQPACKET, messages of $LIVE_MSG bytes)
#        live-host.py client PATH LINE...  (a guest client, for recording)
# MODE: echo (shut down writing at EOF, then close) | close (echo, close
#   at EOF) | flip N (flip byte N of what it sends) | short N (send at most
#   N bytes, then close) | silent (accept, never answer) | unread (close with
#   the guest's data unread) | pattern N:M (send N bytes of vsockemu's
#   script pattern, read M bytes, close) | halfclose N (send N bytes of
#   the matrix's text, shut down writing, read to EOF, close) | noshut N
#   (the same without the shutdown) | upper, upper-flip N, upper-short N
#   (echo, flip, short upper-casing what they echo)
import os, socket, sys, time

MSG = 2000	# bytes per write or message of halfclose / noshut


def echo(s, mode, arg):
    sent = 0
    # upper, upper-flip N, upper-short N: the same, upper-casing what it echoes
    upper = mode.startswith("upper")
    if upper:
        mode = mode[6:] if mode.startswith("upper-") else "echo"
    if mode == "silent":
        s.recv(1)
        while s.recv(65536):
            pass
        return
    if mode == "unread":
        s.recv(1)
        return
    if mode in ("halfclose", "noshut"):
        # testvectors/capture/vsock-play.c's payload; half-close as the
        # matrix's shutwr actor: send, shut down writing, read to EOF
        line = b"vsockemu-capture-0123456789abcdef\n"
        data = (line * (int(arg) // len(line) + 1))[:int(arg)]
        # as vsock-play's send:N:2000, one message (or write) per 2000
        for k in range(0, len(data), MSG):
            s.sendall(data[k:k + MSG])
        if mode == "halfclose":
            s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
        return
    if mode == "pattern":
        # backend-script.c's script_pattern_fill(), as emu traces hold it
        n, want = (int(x) for x in arg.split(":"))
        s.sendall(bytes((k * 131 + (k >> 8) * 7 + 1) & 0xff
                        for k in range(n)))
        got = 0
        while got < want:
            b = s.recv(want - got)
            if not b:
                break
            got += len(b)
        return
    while True:
        b = s.recv(65536)
        if not b:
            if mode != "close":
                s.shutdown(socket.SHUT_WR)
            return
        b = bytearray(b.upper() if upper else b)
        if mode == "flip" and sent <= int(arg) < sent + len(b):
            b[int(arg) - sent] ^= 0x01
        if mode == "short" and sent + len(b) > int(arg):
            s.sendall(b[:int(arg) - sent])
            return
        s.sendall(b)
        sent += len(b)


def client(path, lines):
    """The guest side when recording (serve --guest-connect): each line sent
    and its echo read whole, then shutdown(SHUT_WR) and read to EOF."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    for line in lines:
        s.sendall(line.encode() + b"\n")
        want = len(line) + 1
        while want > 0:
            b = s.recv(want)
            if not b:
                return 1
            want -= len(b)
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    s.close()
    return 0


def main():
    if sys.argv[1] == "client":
        return client(sys.argv[2], sys.argv[3:])
    how, path, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    i = 4
    if how == "connect":
        port, mode = sys.argv[3], sys.argv[4]
        i = 5
    arg = sys.argv[i] if len(sys.argv) > i else "0"
    global MSG
    kind = socket.SOCK_STREAM
    if how == "listen-seqpacket":	# a SEQPACKET UDS_PORT listener
        how, kind = "listen", socket.SOCK_SEQPACKET
        MSG = int(os.environ.get("LIVE_MSG", "2000"))
    if how == "listen":
        l = socket.socket(socket.AF_UNIX, kind)
        l.bind(path + ".tmp")
        l.listen(1)
        os.rename(path + ".tmp", path)	# appears only when listening
        s, _ = l.accept()
    else:
        # vsockemu replay creates the UDS (bound before it listens): retry
        # the connect until it is accepted, bounded (10 s). $LIVE_STARTED
        # names a file made first, so the test starts replay (and its
        # --live-timeout) only once Python is up on a loaded machine.
        if os.environ.get("LIVE_STARTED"):
            open(os.environ["LIVE_STARTED"], "w").close()
        for _ in range(1000):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                time.sleep(0.01)
        else:
            return 1
        s.sendall(b"CONNECT %s\n" % port.encode())
        line = b""
        while not line.endswith(b"\n"):
            c = s.recv(1)
            if not c:
                return 1
            line += c
    echo(s, mode, arg)
    s.close()
    return 0


sys.exit(main())

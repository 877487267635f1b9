#!/usr/bin/env python3
# live-guest.py - a guest program for tests/replay-live-guest.sh, run under
# `vsockemu run --guest UDS`: a client of host port PORT, or a listener on
# guest port PORT, with mutations that make it diverge from a recorded
# trace in one known way.
# Usage: live-guest.py connect PORT LINE MODE [ARG]
#          send LINE + "\n", read the answer to its newline, close.
#          MODE: ok | flip N (flip byte N) | short (send all but the last
#          byte, close, reading nothing) | early N (the same after N bytes)
#          | silent (exit without connecting)
#        live-guest.py listen PORT MODE N
#          accept one connection, read N bytes, send them back
#          upper-cased, read to the host's EOF, close. MODE: ok | refuse
#          (accept and close at once, reading nothing) | none (never
#          listen; exit). $LIVE_LISTENING names a file made once it listens.
import os, socket, sys


def read_line(s):
    line = b""
    while not line.endswith(b"\n"):
        c = s.recv(4096)
        if not c:
            break
        line += c
    return line


def connect(port, line, mode, arg):
    if mode == "silent":
        return 0
    data = bytearray(line.encode() + b"\n")
    if mode == "short":
        mode, arg = "early", len(data) - 1
    elif mode == "flip":
        data[arg] ^= 1
    if mode == "early":
        data = data[:arg]
    s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    s.connect((2, port))
    s.sendall(data)
    if mode != "early":
        sys.stdout.write(read_line(s).decode(errors="replace"))
    s.close()
    return 0


def listen(port, mode, n):
    if mode == "none":
        return 0
    l = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    l.bind((socket.VMADDR_CID_ANY, port))
    l.listen(1)
    if os.environ.get("LIVE_LISTENING"):
        open(os.environ["LIVE_LISTENING"], "w").close()
    s, _ = l.accept()
    if mode != "refuse":
        got = b""
        while len(got) < n:
            c = s.recv(n - len(got))
            if not c:
                break
            got += c
        s.sendall(got.upper())
        while s.recv(4096):	# to the host's EOF: the host closes first
            pass
    s.close()
    l.close()
    return 0


def main():
    how, port = sys.argv[1], int(sys.argv[2])
    if how == "connect":
        arg = int(sys.argv[5]) if len(sys.argv) > 5 else 0
        return connect(port, sys.argv[3], sys.argv[4], arg)
    return listen(port, sys.argv[3], int(sys.argv[4]))


sys.exit(main())

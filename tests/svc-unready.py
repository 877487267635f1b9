#!/usr/bin/env python3
"""svc-unready.py - AF_UNIX services that take no connection, for refuse.sh.

Usage: svc-unready.py NOT_LISTENING_PATH BACKLOG_FULL_PATH
Binds the first without listen(), makes the second listen with a backlog
of 0 and fills it (non-blocking connects until EAGAIN), prints "ready" and
holds both until stdin ends.
"""
import errno
import socket
import sys

held = []
quiet = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
quiet.bind(sys.argv[1])
held.append(quiet)
full = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
full.bind(sys.argv[2])
full.listen(0)
held.append(full)
for _ in range(64):                     # bounded: Linux fills at 1
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect(sys.argv[2])
    except OSError as e:
        if e.errno != errno.EAGAIN:
            raise
        c.close()
        break
    held.append(c)
else:
    sys.exit("the backlog never filled")
print("ready", flush=True)
sys.stdin.read()

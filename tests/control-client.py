#!/usr/bin/env python3
# control-client.py - the host clients of tests/control.sh: live connections
# through serve's Firecracker socket while `vsockemu ctl` injects a fault.
#   ended UDS PORT[,PORT...] -- CMD...   connections echo, CMD runs, each ends
#   connect-time UDS PORT                 seconds until OK, or "refused"
#   session CTLSOCK LINE...               one control connection, every answer
#   backpressure UDS CTLSOCK EMU PID      pause-rx holds host data, resume-rx
#                                         delivers all of it
# Every wait is bounded; nothing waits on a sleep.
import json
import os
import socket
import subprocess
import sys
import threading
import time


def host_connect(uds, port, timeout=10):
    """A host client of guest port: returns (socket, OK line) or (None, '')."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(uds)
    s.sendall(b"CONNECT %d\n" % port)
    line = b""
    while not line.endswith(b"\n"):
        b = s.recv(1)
        if not b:
            s.close()
            return None, ""
        line += b
    return s, line.decode()


def echo_ok(s, data=b"ping\n"):
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        b = s.recv(len(data) - len(got))
        if not b:
            return False
        got += b
    return got == data


def has_ended(s, timeout=10):
    """True once the peer closed or reset s (within timeout)."""
    s.settimeout(timeout)
    try:
        while True:
            if not s.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def ended(argv):
    uds, ports = argv[0], [int(p) for p in argv[1].split(",")]
    cmd = argv[argv.index("--") + 1:]
    conns = []
    for p in ports:
        s, ok = host_connect(uds, p)
        if s is None or not ok.startswith("OK ") or not echo_ok(s):
            print("port %d: no echo before the fault" % p)
            return 1
        conns.append(s)
    out = subprocess.run(cmd, stdout=subprocess.PIPE, check=False)
    sys.stdout.write(out.stdout.decode())
    if out.returncode != 0:
        return 1
    for p, s in zip(ports, conns):
        if not has_ended(s):
            print("port %d: still open after the fault" % p)
            return 1
    return 0


def connect_time(argv):
    t0 = time.monotonic()
    s, ok = host_connect(argv[0], int(argv[1]), timeout=30)
    if s is None:
        print("refused")
        return 0
    print("%.3f" % (time.monotonic() - t0))
    s.close()
    return 0


def session(argv):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(argv[0])
    s.sendall("".join(l + "\n" for l in argv[1:]).encode())
    f = s.makefile("rb")
    for _ in argv[1:]:
        sys.stdout.write(f.readline().decode())
    return 0


def ctl(emu, sock, *words):
    out = subprocess.run([emu, "ctl", sock] + list(words),
                         stdout=subprocess.PIPE, check=True)
    return json.loads(out.stdout)


def cpu_ticks(pid):
    with open("/proc/%s/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def backpressure(argv):
    uds, sock, emu, pid = argv
    total = 2 << 20
    data = os.urandom(total)
    s, ok = host_connect(uds, 52)
    if s is None or not echo_ok(s):
        print("no echo before pause-rx")
        return 1
    ctl(emu, sock, "pause-rx")
    sender = threading.Thread(target=s.sendall, args=(data,), daemon=True)
    sender.start()
    got = bytearray()
    s.settimeout(0.05)
    # Read echoes until the guest holds no RX buffer: it can take nothing.
    deadline = time.monotonic() + 20
    while ctl(emu, sock, "stats")["rx_buffers_posted"] != 0:
        if time.monotonic() > deadline:
            print("the device still holds RX buffers")
            return 1
        try:
            got += s.recv(1 << 20)
        except socket.timeout:
            pass
    before = ctl(emu, sock, "stats")
    t0 = cpu_ticks(pid)
    end = time.monotonic() + 1.0     # a measurement interval, not a wait
    while time.monotonic() < end:
        try:
            got += s.recv(1 << 20)
        except socket.timeout:
            pass
    t1 = cpu_ticks(pid)
    after = ctl(emu, sock, "stats")
    print("paused: h2g_bytes %d -> %d, echoed %d of %d, serve %d ticks"
          % (before["h2g_bytes"], after["h2g_bytes"], len(got), total,
             t1 - t0))
    if after["h2g_bytes"] != before["h2g_bytes"] or len(got) >= total:
        return 1
    if t1 - t0 > 10 or not after["rx_paused"]:
        return 1
    ctl(emu, sock, "resume-rx")
    s.settimeout(30)
    while len(got) < total:
        b = s.recv(1 << 20)
        if not b:
            break
        got += b
    print("resumed: echoed %d of %d" % (len(got), total))
    return 0 if bytes(got) == data else 1


def main():
    cmds = {"ended": ended, "connect-time": connect_time,
            "session": session, "backpressure": backpressure}
    return cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""ready-check.py - issue 18 item 2: once serve / vhost-user say they are
ready (--ready-fd, NOTIFY_SOCKET), every socket they serve takes a
connection at once, with no retry, run after run; --pidfile holds the pid
and is gone after SIGTERM.

Usage: ready-check.py VSOCKEMU WORKDIR RUNS. Prints PASS:/FAIL: lines;
exits 1 on any failure. Every wait is bounded (30 s), none is a sleep.
"""
import os
import select
import signal
import socket
import subprocess
import sys

emu, work, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
failures = 0
WAIT = 30


def check(desc, ok):
    global failures
    print(("PASS: " if ok else "FAIL: ") + desc, flush=True)
    if not ok:
        failures += 1
    return ok


def serve_args(d):
    """serve with every kind of socket it makes: main, .seqpacket,
    .guest and .guest.seqpacket, two --guest-connect."""
    return (["serve", "-q", "--uds", d + "/v.sock", "--seqpacket",
             "--guest-connect", d + "/gc1=1234",
             "--guest-connect", d + "/gc2=1235"],
            [(d + "/v.sock", socket.SOCK_STREAM),
             (d + "/v.sock.seqpacket", socket.SOCK_SEQPACKET),
             (d + "/v.sock.guest", socket.SOCK_STREAM),
             (d + "/v.sock.guest.seqpacket", socket.SOCK_SEQPACKET),
             (d + "/gc1", socket.SOCK_SEQPACKET),
             (d + "/gc2", socket.SOCK_SEQPACKET)])


def vhu_args(d):
    """vhost-user: the front-end's socket and the host side's."""
    return (["vhost-user", "-q", "--socket", d + "/vhu.sock",
             "--uds", d + "/v.sock"],
            [(d + "/vhu.sock", socket.SOCK_STREAM),
             (d + "/v.sock", socket.SOCK_STREAM)])


def connect_all(socks):
    """Connects to every socket once, now: the names of those that fail."""
    bad = []
    for path, kind in socks:
        s = socket.socket(socket.AF_UNIX, kind)
        try:
            s.connect(path)
        except OSError as e:
            bad.append("%s (%s)" % (os.path.basename(path), e.strerror))
        s.close()
    return bad


def read_line(fd):
    """The ready line, then end of file: (line, eof) within WAIT s."""
    data = b""
    while True:
        r, _, _ = select.select([fd], [], [], WAIT)
        if not r:
            return data, False
        chunk = os.read(fd, 4096)
        if not chunk:
            return data, True
        data += chunk


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(WAIT)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait()


def run_ready_fd(cmd, run):
    """One run with --ready-fd and --pidfile: True when all held."""
    d = "%s/%s-fd-%d" % (work, cmd, run)
    os.mkdir(d)
    args, socks = serve_args(d) if cmd == "serve" else vhu_args(d)
    rfd, wfd = os.pipe()
    pidfile = d + "/pid"
    p = subprocess.Popen([emu] + args + ["--ready-fd", str(wfd),
                         "--pidfile", pidfile], pass_fds=[wfd])
    os.close(wfd)
    line, eof = read_line(rfd)
    os.close(rfd)
    bad = connect_all(socks)
    ok = not bad
    want = b"READY " + (b"socket=%s/vhu.sock " % d.encode()
                        if cmd == "vhost-user" else b"") + \
        b"cid=3 uds=%s/v.sock\n" % d.encode()
    ok &= line == want and eof
    try:
        with open(pidfile) as f:
            pid_ok = f.read() == "%d\n" % p.pid
    except OSError:
        pid_ok = False
    ok &= pid_ok
    rc = stop(p)
    ok &= rc == 0 and not os.path.exists(pidfile)
    if not ok:
        print("  run %d: line %r eof %s, refused %s, pidfile %s, exit %d, "
              "pidfile left %s" % (run, line, eof, bad, pid_ok, rc,
                                   os.path.exists(pidfile)))
    return ok


def recv_notify(s):
    r, _, _ = select.select([s], [], [], WAIT)
    return s.recv(4096).decode() if r else ""


def run_notify(cmd, run, abstract):
    """One run with NOTIFY_SOCKET (abstract @name or a path)."""
    d = "%s/%s-notify-%d-%d" % (work, cmd, run, abstract)
    os.mkdir(d)
    args, socks = serve_args(d) if cmd == "serve" else vhu_args(d)
    n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if abstract:
        name = "vse-ready-%d-%s-%d" % (os.getpid(), cmd, run)
        n.bind("\0" + name)
        env = "@" + name
    else:
        env = d + "/notify"
        n.bind(env)
    p = subprocess.Popen([emu] + args,
                         env=dict(os.environ, NOTIFY_SOCKET=env))
    msg = recv_notify(n)
    bad = connect_all(socks)
    fields = msg.split("\n")
    ok = not bad and "READY=1" in fields and \
        "MAINPID=%d" % p.pid in fields and \
        any(f.startswith("STATUS=") and len(f) > 7 for f in fields)
    rc = stop(p)
    bye = recv_notify(n)
    n.close()
    ok &= rc == 0 and bye == "STOPPING=1\n"
    if not ok:
        print("  run %d: got %r, refused %s, exit %d, then %r" %
              (run, msg, bad, rc, bye))
    return ok


for cmd in ("serve", "vhost-user"):
    good = sum(run_ready_fd(cmd, k) for k in range(runs))
    check("%s --ready-fd: every socket connects at once, the line, EOF, "
          "the pidfile and its removal: %d of %d runs" % (cmd, good, runs),
          good == runs)
    good = sum(run_notify(cmd, k, k % 2 == 0) for k in range(runs))
    check("%s NOTIFY_SOCKET (@abstract and path): READY=1, MAINPID, "
          "STATUS, every socket connects, STOPPING=1: %d of %d runs" %
          (cmd, good, runs), good == runs)
sys.exit(1 if failures else 0)

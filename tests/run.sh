#!/bin/sh
# run.sh - `vsockemu run`: unmodified socat (and Python, if present) with
# AF_VSOCK sockets as host and as guest programs of one `serve`.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
emu=$(cd "${top_builddir:-.}" && pwd)/emu/vsockemu
command -v socat >/dev/null 2>&1 || { echo "SKIP: socat not installed"; exit 77; }
socat -V 2>/dev/null | grep -q 'WITH_VSOCK 1' ||
    { echo "SKIP: socat without VSOCK"; exit 77; }

work=$(mktemp -d /tmp/vsockemu-run-XXXXXX)
cd "$work" || exit 99
export TMPDIR="$work"
fail=0
pid=""
helpers=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; [ -n "$helpers" ] && kill $helpers 2>/dev/null; cd /; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT

bg_ready ./ready "$emu" serve -q --ready-fd 9 --guest 52=echo \
    --guest 53=echo,seqpacket --uds ./v.sock 2>serve.err
rc=$?
pid=$bg_pid
[ $rc -eq 0 ] || { cat serve.err; exit 99; }

head -c 10485760 /dev/urandom > a.bin
head -c 10485760 /dev/urandom > b.bin

# listening PATTERN LOG: socat -d -d said it listens.
listening() { grep -q "listening on" "$1"; }

# --- guest server, host client: 10 MiB each way, half-close host -> guest ---
"$emu" run --guest ./v.sock -- socat -d -d -t 30 VSOCK-LISTEN:5000 \
    SYSTEM:'cat > g_in.bin; cat b.bin' 2> gsrv.log &
helpers="$helpers $!"; gsrv=$!
wait_for listening gsrv.log || cat gsrv.log
timeout 60 "$emu" run --host ./v.sock -- socat -t 30 - VSOCK-CONNECT:3:5000 \
    < a.bin > h_in.bin
wait $gsrv
check "guest socat server got the host's 10 MiB (sha256), EOF by half-close" \
    test "$(sha256sum < a.bin)" = "$(sha256sum < g_in.bin)"
check "host socat client got the guest's 10 MiB after its half-close" \
    test "$(sha256sum < b.bin)" = "$(sha256sum < h_in.bin)"

# --- host server, guest client: the same, half-close guest -> host ---
rm -f g_in.bin h_in.bin
"$emu" run --host ./v.sock -- socat -d -d -t 30 VSOCK-LISTEN:6000 \
    SYSTEM:'cat > h_in.bin; cat b.bin' 2> hsrv.log &
helpers="$helpers $!"; hsrv=$!
wait_for listening hsrv.log || cat hsrv.log
timeout 60 "$emu" run --guest ./v.sock -- socat -t 30 - VSOCK-CONNECT:2:6000 \
    < a.bin > g_in.bin
wait $hsrv
check "host socat server got the guest's 10 MiB (sha256), EOF by half-close" \
    test "$(sha256sum < a.bin)" = "$(sha256sum < h_in.bin)"
check "guest socat client got the host's 10 MiB after its half-close" \
    test "$(sha256sum < b.bin)" = "$(sha256sum < g_in.bin)"

# --- errors as Linux gives them ---
timeout 10 "$emu" run --host ./v.sock -- socat - VSOCK-CONNECT:3:9999 \
    < /dev/null 2> refused.err
check "host connect to a guest port nobody listens on: ECONNRESET" \
    grep -q "Connection reset by peer" refused.err
timeout 10 "$emu" run --guest ./v.sock -- socat - VSOCK-CONNECT:2:9999 \
    < /dev/null 2> grefused.err
check "guest connect to a host port nobody listens on: ECONNRESET" \
    grep -q "Connection reset by peer" grefused.err
timeout 10 "$emu" run --host ./v.sock -- socat - VSOCK-CONNECT:7:52 \
    < /dev/null 2> nodev.err
check "host connect to a CID with no guest: ENODEV (vhost_transport_send_pkt)" \
    grep -q "No such device" nodev.err
echo ping | timeout 10 "$emu" run --host ./v.sock -- socat -t 5 - \
    VSOCK-CONNECT:3:52 > echo.out 2>&1
check "host client reaches the guest's echo service" \
    grep -q ping echo.out

# --- Python's socket.AF_VSOCK in both roles (skipped without python3) ---
cat > srv.py <<'PY'
import socket, sys
s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
s.bind((socket.VMADDR_CID_ANY, int(sys.argv[1])))
s.listen(1)
print("listening on", s.getsockname(), flush=True)
c, addr = s.accept()
data = b""
while True:
    b = c.recv(65536)
    if not b:
        break
    data += b
c.sendall(data[::-1])
print("peer", addr[0], "local", c.getsockname()[0], "port", addr[1],
      flush=True)
c.close()
PY
cat > cli.py <<'PY'
import socket, sys
c = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
c.connect((int(sys.argv[1]), int(sys.argv[2])))
c.sendall(b"vsock from python")
c.shutdown(socket.SHUT_WR)
data = b""
while True:
    b = c.recv(65536)
    if not b:
        break
    data += b
print(data.decode(), "peer", c.getpeername(), "local", c.getsockname()[0],
      "lport", c.getsockname()[1])
PY
if command -v python3 >/dev/null 2>&1; then
	"$emu" run --guest ./v.sock -- python3 srv.py 7000 > gpy.log 2>&1 &
	helpers="$helpers $!"; gpy=$!
	wait_for grep -q listening gpy.log
	timeout 30 "$emu" run --host ./v.sock -- python3 cli.py 3 7000 > hpy.log 2>&1
	wait $gpy
	check "python guest server / host client: data, half-close, addresses" \
	    sh -c "grep -q 'nohtyp morf kcosv peer (3, 7000) local 2' hpy.log &&
	    grep -q 'listening on (3, 7000)' gpy.log &&
	    grep -q 'peer 2 local 3' gpy.log"
	gport=$(sed -n 's/.* port \([0-9]*\)$/\1/p' gpy.log)
	check "python guest server: accept's peer port ($gport) is the host client's" \
	    sh -c "[ -n '$gport' ] && [ '$gport' != 4294967295 ] &&
	    grep -q 'lport $gport\$' hpy.log"
	"$emu" run --host ./v.sock -- python3 srv.py 7001 > hpy.log 2>&1 &
	helpers="$helpers $!"; hpy=$!
	wait_for grep -q listening hpy.log
	timeout 30 "$emu" run --guest ./v.sock -- python3 cli.py 2 7001 > gpy.log 2>&1
	wait $hpy
	check "python host server / guest client: data, half-close, addresses" \
	    sh -c "grep -q 'nohtyp morf kcosv peer (2, 7001) local 3' gpy.log &&
	    grep -q 'listening on (2, 7001)' hpy.log &&
	    grep -q 'peer 3 local 2' hpy.log"
	# The muxer's PEER line to the opted-in UDS_7001.peer (peer-line.h).
	hport=$(sed -n 's/.* port \([0-9]*\)$/\1/p' hpy.log)
	check "python host server: accept's peer port ($hport) is the guest client's" \
	    sh -c "[ -n '$hport' ] && [ '$hport' != 4294967295 ] &&
	    grep -q 'lport $hport\$' gpy.log"
else
	echo "SKIP: python3 not installed: no Python AF_VSOCK pair"
fi

# --- SEQPACKET message bounds, MSG_EOR and MSG_TRUNC through both hops ---
# (Python's socket.AF_VSOCK; vsock_test's "msg bounds" checks the same.)
cat > seqsrv.py <<'PY'
import socket, sys
s = socket.socket(socket.AF_VSOCK, socket.SOCK_SEQPACKET)
s.bind((socket.VMADDR_CID_ANY, int(sys.argv[1])))
s.listen(1)
print("listening", flush=True)
c, addr = s.accept()
for i in range(3):
    data, anc, flags, a = c.recvmsg(64)
    print("got", data.decode(), "eor" if flags & socket.MSG_EOR else "-",
          flush=True)
c.send(b"r1", socket.MSG_EOR)
c.sendmsg([b"r", b"22"])
c.send(b"0123456789")
print("eof" if c.recv(64) == b"" else "more", flush=True)
c.close()
PY
cat > seqcli.py <<'PY'
import socket, sys
c = socket.socket(socket.AF_VSOCK, socket.SOCK_SEQPACKET)
c.connect((int(sys.argv[1]), int(sys.argv[2])))
c.send(b"a", socket.MSG_EOR)
c.sendmsg([b"b", b"b"])
c.sendmsg([b"ccc"], [], socket.MSG_EOR)
for i in range(2):
    data, anc, flags, a = c.recvmsg(64)
    print("got", data.decode(), "eor" if flags & socket.MSG_EOR else "-")
data, anc, flags, a = c.recvmsg(4)
print("trunc", data.decode(), "yes" if flags & socket.MSG_TRUNC else "no")
c.close()
PY
# seq_pair SERVER_ROLE CLIENT_ROLE PEER_CID PORT
seq_pair() {
	"$emu" run --"$1" ./v.sock -- python3 seqsrv.py "$4" > seqsrv.log 2>&1 &
	helpers="$helpers $!"; spy=$!
	wait_for grep -q listening seqsrv.log
	timeout 30 "$emu" run --"$2" ./v.sock -- python3 seqcli.py "$3" "$4" \
	    > seqcli.log 2>&1
	wait $spy
	check "seqpacket $1 server / $2 client: bounds and MSG_EOR both ways" \
	    sh -c "printf 'listening\ngot a eor\ngot bb -\ngot ccc eor\neof\n' |
	    cmp -s - seqsrv.log && printf 'got r1 eor\ngot r22 -\ntrunc 0123 yes\n' |
	    cmp -s - seqcli.log"
}
if command -v python3 >/dev/null 2>&1; then
	seq_pair guest host 3 7200
	seq_pair host guest 2 7201
	# Plain SOCK_SEQPACKET clients (no preload, no "eor") keep Firecracker's
	# framing on both hops: exactly their bytes, no flag byte.
	cat > plain.py <<'PY'
import socket, os
l = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
l.bind("./v.sock_7300")
l.listen(1)
c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
c.connect("./v.sock.guest.seqpacket")
c.send(b"CONNECT 2 7300\n")
print(c.recv(64).decode().split()[0])
a, _ = l.accept()
c.send(b"plain")
print(a.recv(64).decode())
a.send(b"back")
print(c.recv(64).decode())
# A Firecracker-style STREAM listener at UDS_P: no PEER line, no byte added.
l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
l.bind("./v.sock_7301")
l.listen(1)
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect("./v.sock.guest")
c.send(b"CONNECT 2 7301\n")
print(c.recv(64).decode().split()[0])
a, _ = l.accept()
c.send(b"plain")
c.shutdown(socket.SHUT_WR)
got = b""
while True:
    b = a.recv(64)
    if not b:
        break
    got += b
print(got.decode())
PY
	timeout 30 python3 plain.py > plain.log 2>&1
	check "plain SEQPACKET and STREAM guest connects to a plain UDS_P: bytes unchanged" \
	    sh -c "printf 'OK\nplain\nback\nOK\nplain\n' | cmp -s - plain.log"
	rm -f ./v.sock_7300 ./v.sock_7301
else
	echo "SKIP: python3 not installed: no SEQPACKET pairs"
fi

# --- sendmmsg / recvmmsg on SEQPACKET: each message whole, MSG_EOR kept
# (Linux's __sys_sendmmsg() / do_recvmmsg() loop over sendmsg / recvmsg;
# Python has neither call: libc's, through ctypes, which finds ours) ---
cat > mmsg.py <<'PY'
import ctypes, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
class MsgHdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint),
                ("iov", ctypes.POINTER(IoVec)), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]
class MMsgHdr(ctypes.Structure):
    _fields_ = [("hdr", MsgHdr), ("len", ctypes.c_uint)]
keep = []
def vec(bufs):
    v = (MMsgHdr * len(bufs))()
    for i, b in enumerate(bufs):
        iov = IoVec(ctypes.cast(b, ctypes.c_void_p), len(b))
        keep.append(iov)
        v[i].hdr.iov = ctypes.pointer(iov)
        v[i].hdr.iovlen = 1
    return v
def send(s, msgs, flags):
    bufs = [ctypes.create_string_buffer(m, len(m)) for m in msgs]
    keep.extend(bufs)
    print("sent", libc.sendmmsg(s.fileno(), vec(bufs), len(bufs), flags),
          flush=True)
def recv(s, n, flags):
    bufs = [ctypes.create_string_buffer(16) for _ in range(n)]
    v = vec(bufs)
    got = libc.recvmmsg(s.fileno(), v, n, flags, None)
    for i in range(got):
        print("got", bufs[i].raw[:v[i].len].decode(),
              "eor" if v[i].hdr.flags & socket.MSG_EOR else "-", flush=True)
if sys.argv[1] == "server":
    l = socket.socket(socket.AF_VSOCK, socket.SOCK_SEQPACKET)
    l.bind((socket.VMADDR_CID_ANY, int(sys.argv[2])))
    l.listen(1)
    print("listening", flush=True)
    s, _ = l.accept()
    recv(s, 3, 0)
    send(s, [b"r1", b"r22"], 0)
    print("eof" if s.recv(16) == b"" else "more", flush=True)
else:
    s = socket.socket(socket.AF_VSOCK, socket.SOCK_SEQPACKET)
    s.connect((int(sys.argv[2]), int(sys.argv[3])))
    send(s, [b"a", b"bb", b"ccc"], socket.MSG_EOR)
    recv(s, 2, 0)
    s.close()
PY
# mm_pair SERVER_ROLE CLIENT_ROLE PEER_CID PORT
mm_pair() {
	# Bounded both sides: a client refused once left the server
	# waiting for ever in accept(), and make check with it.
	timeout 30 "$emu" run --"$1" ./v.sock -- python3 mmsg.py server "$4" \
	    > mmsrv.log 2>&1 &
	helpers="$helpers $!"; mpy=$!
	wait_for grep -q listening mmsrv.log
	timeout 30 "$emu" run --"$2" ./v.sock -- python3 mmsg.py client "$3" \
	    "$4" > mmcli.log 2>&1
	wait $mpy
	if printf 'listening\ngot a eor\ngot bb eor\ngot ccc eor\nsent 2\neof\n' |
	    cmp -s - mmsrv.log &&
	    printf 'sent 3\ngot r1 -\ngot r22 -\n' | cmp -s - mmcli.log; then
		pass "sendmmsg/recvmmsg, $1 server / $2 client: bounds and MSG_EOR"
	else
		failed "sendmmsg/recvmmsg, $1 server / $2 client: bounds and MSG_EOR"
		echo "# server:"; cat mmsrv.log; echo "# client:"; cat mmcli.log
		echo "# serve's stderr:"; tail -n 20 serve.err
	fi
}
if command -v python3 >/dev/null 2>&1; then
	mm_pair guest host 3 7210
	mm_pair host guest 2 7211
fi

# --- non-blocking connect: EINPROGRESS, then POLLOUT and SO_ERROR (Linux's
# vsock_connect() with O_NONBLOCK, vsock_poll()) ---
cat > nbcli.py <<'PY'
import errno, select, socket, sys
cid, good, bad = (int(a) for a in sys.argv[1:4])
def name(e):
    return errno.errorcode.get(e, str(e))
def start(port):
    s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    s.setblocking(False)
    print("connect", name(s.connect_ex((cid, port))))
    return s
def so_error(s):
    return name(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
s = start(good)
p = select.poll()
p.register(s, select.POLLOUT)
ev = p.poll(10000)[0][1]
print("poll", "OUT" if ev & select.POLLOUT else "-",
      "ERR" if ev & select.POLLERR else "-", "so_error", so_error(s))
print("again", name(s.connect_ex((cid, good))))
s.setblocking(True)
s.sendall(b"ping")
print("echo", s.recv(16).decode())
s.close()
s = start(bad)
p = select.poll()
p.register(s, select.POLLOUT)
ev = p.poll(10000)[0][1]
print("poll", "OUT" if ev & select.POLLOUT else "-",
      "ERR" if ev & select.POLLERR else "-", "so_error", so_error(s),
      "then", so_error(s))
s.close()
s = start(good)
r, w, x = select.select([], [s], [], 10)
print("select", "w" if w else "-", "so_error", so_error(s))
s.close()
for port in (good, bad):
    s = start(port)
    ep = select.epoll()
    ep.register(s.fileno(), select.EPOLLOUT | select.EPOLLIN)
    ev = ep.poll(10)[0][1]
    print("epoll", "OUT" if ev & select.EPOLLOUT else "-",
          "ERR" if ev & select.EPOLLERR else "-",
          "HUP" if ev & select.EPOLLHUP else "-", "so_error", so_error(s))
    s.close()
PY
nb_want='connect EINPROGRESS
poll OUT - so_error 0
again EISCONN
echo ping
connect EINPROGRESS
poll OUT ERR so_error ECONNRESET then 0
connect EINPROGRESS
select w so_error 0
connect EINPROGRESS
epoll OUT - - so_error 0
connect EINPROGRESS
epoll OUT ERR - so_error ECONNRESET'
if command -v python3 >/dev/null 2>&1; then
	timeout 30 "$emu" run --host ./v.sock -- python3 nbcli.py 3 52 9999 \
	    > nbh.log 2>&1
	check "non-blocking connect, host role: EINPROGRESS, POLLOUT, SO_ERROR" \
	    sh -c "echo '$nb_want' | cmp -s - nbh.log"
	socat UNIX-LISTEN:./v.sock_7400,fork EXEC:cat 2>/dev/null &
	helpers="$helpers $!"
	wait_for test -S ./v.sock_7400
	timeout 30 "$emu" run --guest ./v.sock -- python3 nbcli.py 2 7400 9999 \
	    > nbg.log 2>&1
	check "non-blocking connect, guest role: EINPROGRESS, POLLOUT, SO_ERROR" \
	    sh -c "echo '$nb_want' | cmp -s - nbg.log"
	# A connect nobody answers yet (its serve stopped): no POLLOUT, no
	# select() writability, SO_ERROR 0, EALREADY, ENOTCONN; once serve
	# runs again, POLLOUT and the echo.
	cat > nbwait.py <<'PY'
import ctypes, errno, select, socket, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
def name(e):
    return errno.errorcode.get(e, str(e))
# SO_VM_SOCKETS_CONNECT_TIMEOUT 60 s, not 2 s: this connect waits for us.
def patient(s):
    tv = ctypes.create_string_buffer(struct.pack("qq", 60, 0))
    assert libc.setsockopt(s.fileno(), socket.AF_VSOCK, 6, tv, 16) == 0
s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
patient(s)
s.setblocking(False)
print("connect", name(s.connect_ex((3, 52))))
p = select.poll()
p.register(s, select.POLLOUT)
print("poll", p.poll(300))
print("select", select.select([], [s], [], 0.3)[1])
print("so_error", name(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)))
# ppoll and pselect, which Python lacks, through libc (ours comes first).
class PollFd(ctypes.Structure):
    _fields_ = [("fd", ctypes.c_int), ("events", ctypes.c_short),
                ("revents", ctypes.c_short)]
def ppoll():
    pf = PollFd(s.fileno(), select.POLLOUT, 0)
    ts = (ctypes.c_long * 2)(0, 300000000)
    return libc.ppoll(ctypes.byref(pf), 1, ts, None), pf.revents
def pselect():
    w = (ctypes.c_ulong * 16)()
    w[s.fileno() // 64] = 1 << (s.fileno() % 64)
    ts = (ctypes.c_long * 2)(0, 300000000)
    return libc.pselect(s.fileno() + 1, None, w, None, ts, None)
print("ppoll", *ppoll(), "pselect", pselect())
ep = select.epoll()
ep.register(s.fileno(), select.EPOLLOUT)
print("epoll", ep.poll(0.3))
# Registered before its connect, edge-triggered, in a second epoll set.
t = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
patient(t)
t.setblocking(False)
ep2 = select.epoll()
ep2.register(t.fileno(), select.EPOLLOUT | select.EPOLLET)
print("connect", name(t.connect_ex((3, 52))))
ep.register(t.fileno(), select.EPOLLOUT)
print("epoll", ep.poll(0.3), ep2.poll(0.3))
print("again", name(s.connect_ex((3, 52))))
try:
    s.send(b"x")
except OSError as e:
    print("send", name(e.errno))
print("waiting", flush=True)
sys.stdin.readline()
print("poll", "OUT" if p.poll(10000)[0][1] & select.POLLOUT else "-")
print("ppoll", *ppoll(), "pselect", pselect())
def outs(evs):
    return sorted(("s" if fd == s.fileno() else "t") +
                  ("OUT" if ev & select.EPOLLOUT else "-") +
                  ("ERR" if ev & select.EPOLLERR else "")
                  for fd, ev in evs)
got = set(outs(ep.poll(10)))	# level-triggered: s again until t comes
while len(got) < 2:
    got |= set(outs(ep.poll(10)))
print("epoll", *sorted(got), *outs(ep2.poll(10)))
for c in (s, t):
    c.setblocking(True)
    c.sendall(b"late")
    print("echo", c.recv(16).decode())
PY
	# Stopped only once every socket listens (--ready-fd): a stop
	# between bind and listen would refuse instead of hanging. In a
	# session of its own (setsid): a stopped process whose group becomes
	# orphaned gets SIGHUP and SIGCONT from the kernel (POSIX; a CI
	# runner's exit or a reparented helper's can do it), and serve takes
	# SIGHUP as a stop. CI saw it gone, ready line written, status 0.
	mkfifo w.ready
	setsid "$emu" serve -q --guest 52=echo --uds ./w.sock --ready-fd 3 \
	    3> w.ready 2>w.err &
	wpid=$!
	helpers="$helpers $wpid"
	timeout 30 head -n 1 w.ready > w.line
	# Once seen under distcheck: serve gone before the stop. Say why.
	kill -STOP $wpid || { echo "--- serve (w.sock):"; cat w.err; }
	mkfifo go
	timeout 30 "$emu" run --host ./w.sock -- python3 nbwait.py < go \
	    > nbw.log 2>&1 &
	nbw=$!
	exec 9> go
	wait_for grep -q waiting nbw.log
	kill -CONT $wpid
	echo >&9
	exec 9>&-
	wait $nbw
	kill $wpid 2>/dev/null || { echo "--- serve (w.sock) gone;" \
	    "ready line: '$(cat w.line)'"; cat w.err; wait $wpid;
	    echo "--- its exit status: $?"; }
	check "non-blocking connect still waiting: nothing from poll, ppoll, select, pselect, epoll; EALREADY, ENOTCONN" \
	    sh -c "printf 'connect EINPROGRESS\npoll []\nselect []\nso_error 0\nppoll 0 0 pselect 0\nepoll []\nconnect EINPROGRESS\nepoll [] []\nagain EALREADY\nsend ENOTCONN\nwaiting\npoll OUT\nppoll 1 4 pselect 1\nepoll sOUT tOUT tOUT\necho late\necho late\n' |
	    cmp -s - nbw.log"
fi

# --- SO_VM_SOCKETS_CONNECT_TIMEOUT (_OLD, _NEW): a connect nobody answers
# (serve stopped) fails with ETIMEDOUT once it passed, blocking or not
# (Linux's vsock_connect(), vsock_connect_timeout()). 2.5 s is longer than
# the 2 s default, so an elapsed time of at least 2.5 s (a bound that load
# cannot break) shows the option was used; 20 s bounds the wait. ---
cat > tmo.py <<'PY'
import ctypes, errno, select, socket, struct, sys, threading, time
OLD, NEW = 6, 8		# SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD, _NEW
cid, port = int(sys.argv[1]), int(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
def name(e):
    return errno.errorcode.get(e, str(e))
# Python's setsockopt takes only integers at level AF_VSOCK: libc's, then.
def set_timeout(s, opt, sec, usec):
    tv = ctypes.create_string_buffer(struct.pack("qq", sec, usec))
    assert libc.setsockopt(s.fileno(), socket.AF_VSOCK, opt, tv, 16) == 0
def get_timeout(s, opt):
    tv, n = ctypes.create_string_buffer(16), ctypes.c_uint(16)
    assert libc.getsockopt(s.fileno(), socket.AF_VSOCK, opt, tv,
                           ctypes.byref(n)) == 0
    return struct.unpack("qq", tv.raw)
def sock(opt, blocking):
    s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    set_timeout(s, opt, 2, 500000)
    s.setblocking(blocking)
    return s
def so_error(s):
    return name(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
z = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
set_timeout(z, OLD, 0, 0)
print("zero is", get_timeout(z, NEW))
out = {}
def blocking():
    s = sock(OLD, True)
    t = time.monotonic()
    e = s.connect_ex((cid, port))
    out["b"] = (name(e), time.monotonic() - t >= 2.5)
th = threading.Thread(target=blocking)
t0 = time.monotonic()
th.start()
a, b, c = sock(NEW, False), sock(OLD, False), sock(NEW, False)
print("connect", *(name(x.connect_ex((cid, port))) for x in (a, b, c)))
p = select.poll()
p.register(a, select.POLLOUT)
ev = p.poll(20000)[0][1]
print("poll", "OUT" if ev & select.POLLOUT else "-",
      "ERR" if ev & select.POLLERR else "-", so_error(a),
      time.monotonic() - t0 >= 2.5)
ep = select.epoll()
ep.register(b.fileno(), select.EPOLLOUT)
ev = ep.poll(20)[0][1]
print("epoll", "OUT" if ev & select.EPOLLOUT else "-",
      "ERR" if ev & select.EPOLLERR else "-", so_error(b))
print("select", select.select([], [c], [], 20)[1] == [c], so_error(c))
th.join()
print("blocking", *out["b"])
PY
tmo_want='zero is (2, 0)
connect EINPROGRESS EINPROGRESS EINPROGRESS
poll OUT ERR ETIMEDOUT True
epoll OUT ERR ETIMEDOUT
select True ETIMEDOUT
blocking ETIMEDOUT True'
if command -v python3 >/dev/null 2>&1; then
	# Stopped only once every socket listens (--ready-fd); in a session
	# of its own, as w.sock's above.
	mkfifo t.ready
	setsid "$emu" serve -q --guest 52=echo --uds ./t.sock --ready-fd 3 \
	    3> t.ready 2>t.err &
	tpid=$!
	helpers="$helpers $tpid"
	timeout 30 head -n 1 t.ready > t.line
	# Once seen under distcheck: serve gone before the stop. Say why.
	kill -STOP $tpid || { echo "--- serve (t.sock):"; cat t.err; }
	timeout 60 "$emu" run --host ./t.sock -- python3 tmo.py 3 52 \
	    > tmoh.log 2>&1 &
	tmoh=$!
	timeout 60 "$emu" run --guest ./t.sock -- python3 tmo.py 2 52 \
	    > tmog.log 2>&1
	wait $tmoh
	# If serve is gone after all (before setsid: SIGHUP, status 0), say
	# what it printed and how it ended.
	kill -CONT $tpid 2>/dev/null || { echo "--- serve (t.sock) gone;" \
	    "ready line: '$(cat t.line)'"; cat t.err; wait $tpid;
	    echo "--- its exit status: $?"; }
	kill $tpid 2>/dev/null
	check "SO_VM_SOCKETS_CONNECT_TIMEOUT, host role: ETIMEDOUT blocking, poll, epoll, select" \
	    sh -c "echo '$tmo_want' | cmp -s - tmoh.log"
	echo "$tmo_want" | cmp -s - tmoh.log || { echo "--- tmoh.log:"; cat tmoh.log; }
	check "SO_VM_SOCKETS_CONNECT_TIMEOUT, guest role: ETIMEDOUT blocking, poll, epoll, select" \
	    sh -c "echo '$tmo_want' | cmp -s - tmog.log"
	echo "$tmo_want" | cmp -s - tmog.log || { echo "--- tmog.log:"; cat tmog.log; }
fi

# --- /dev/vsock: IOCTL_VM_SOCKETS_GET_LOCAL_CID answers the role's CID ---
cat > cid.py <<'PY'
import fcntl, os, socket, struct
fd = os.open("/dev/vsock", os.O_RDONLY | os.O_CLOEXEC)
cid = struct.unpack("I", fcntl.ioctl(fd, socket.IOCTL_VM_SOCKETS_GET_LOCAL_CID,
                                     b"\0" * 4))[0]
try:
    fcntl.ioctl(fd, 0x7b00, b"\0" * 4)
    other = "answered"
except OSError as e:
    other = os.strerror(e.errno)
os.close(fd)
print(cid, other)
PY
if command -v python3 >/dev/null 2>&1; then
	"$emu" run --guest ./v.sock -- python3 cid.py > gcid.log 2>&1
	"$emu" run --guest ./v.sock --cid 7 -- python3 cid.py > g7cid.log 2>&1
	"$emu" run --host ./v.sock -- python3 cid.py > hcid.log 2>&1
	check "/dev/vsock GET_LOCAL_CID: the guest's CID (3, --cid 7), the host's 2" \
	    sh -c "grep -qx '3 Inappropriate ioctl for device' gcid.log &&
	    grep -qx '7 Inappropriate ioctl for device' g7cid.log &&
	    grep -qx '2 Inappropriate ioctl for device' hcid.log"
fi

# --- SO_VM_SOCKETS_BUFFER_SIZE is what the guest socket advertises ---
cat > bufsrv.py <<'PY'
import socket, sys
s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
s.setsockopt(socket.AF_VSOCK, socket.SO_VM_SOCKETS_BUFFER_SIZE, 32768)
s.bind((socket.VMADDR_CID_ANY, 7500))
s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
c.setsockopt(socket.AF_VSOCK, socket.SO_VM_SOCKETS_BUFFER_SIZE, 20000)
c.sendall(c.recv(16))
c.close()
s.setsockopt(socket.AF_VSOCK, socket.SO_VM_SOCKETS_BUFFER_SIZE, 24576)
print("resized", flush=True)
c, _ = s.accept()
c.sendall(c.recv(16))
c.close()
PY
cat > bufcli.py <<'PY'
import socket, sys
c = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
if sys.argv[3] != "0":
    c.setsockopt(socket.AF_VSOCK, socket.SO_VM_SOCKETS_BUFFER_SIZE,
                 int(sys.argv[3]))
c.connect((int(sys.argv[1]), int(sys.argv[2])))
if len(sys.argv) > 4:
    c.setsockopt(socket.AF_VSOCK, socket.SO_VM_SOCKETS_BUFFER_SIZE,
                 int(sys.argv[4]))
c.sendall(b"buf")
print(c.recv(16).decode())
PY
if command -v python3 >/dev/null 2>&1; then
	"$emu" serve -q --guest 52=echo --uds ./b.sock --pcap ./buf.pcap \
	    2>/dev/null &
	bpid=$!
	helpers="$helpers $bpid"
	wait_for test -S ./b.sock.guest
	socat UNIX-LISTEN:./b.sock_7501,fork EXEC:cat 2>/dev/null &
	helpers="$helpers $!"
	wait_for test -S ./b.sock_7501
	timeout 30 "$emu" run --guest ./b.sock -- python3 bufcli.py 2 7501 \
	    65536 > bufc.log 2>&1
	timeout 30 "$emu" run --guest ./b.sock -- python3 bufcli.py 2 7501 \
	    0 40000 >> bufc.log 2>&1
	"$emu" run --guest ./b.sock -- python3 bufsrv.py > bufs.log 2>&1 &
	bs=$!
	wait_for grep -q listening bufs.log
	timeout 30 "$emu" run --host ./b.sock -- python3 bufcli.py 3 7500 0 \
	    >> bufc.log 2>&1
	wait_for grep -q resized bufs.log
	timeout 30 "$emu" run --host ./b.sock -- python3 bufcli.py 3 7500 0 \
	    >> bufc.log 2>&1
	wait $bs
	# A STREAM receive into a bad buffer: EFAULT, the bytes stay readable
	# (Linux 6.1: virtio_transport_stream_do_dequeue() returns the copy's
	# error before it consumes anything).
	cat > invbuf.py <<'PY'
import ctypes, errno, select, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
c = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
c.connect((int(sys.argv[1]), int(sys.argv[2])))
c.sendall(b"abcd")
select.select([c], [], [], 10)
r = libc.recv(c.fileno(), ctypes.c_void_p(8), 4, 0)
print(r, errno.errorcode.get(ctypes.get_errno()), c.recv(4).decode())
PY
	timeout 30 "$emu" run --guest ./b.sock -- python3 invbuf.py 2 7501 \
	    > invbuf.log 2>&1
	timeout 30 "$emu" run --host ./b.sock -- python3 invbuf.py 3 52 \
	    >> invbuf.log 2>&1
	check "STREAM receive into a bad buffer: EFAULT, then the data (both roles)" \
	    sh -c "printf -- '-1 EFAULT abcd\n-1 EFAULT abcd\n' | cmp -s - invbuf.log"
	kill $bpid
	wait $bpid
	"$emu" dump ./buf.pcap > buf.txt 2>&1
	check "SO_VM_SOCKETS_BUFFER_SIZE: the guest's REQUEST / RESPONSE advertise it" \
	    sh -c "test \"\$(cat bufc.log)\" = 'buf
buf
buf
buf' && grep 'REQUEST' buf.txt | grep -q 'buf_alloc 65536 ' &&
	    grep 'RESPONSE' buf.txt | grep -q 'buf_alloc 32768 '"
	# Linux: vsock_update_buffer_size() -> notify_buffer_size(): a
	# CREDIT_UPDATE with the new size, on a connected and an accepted socket
	check "SO_VM_SOCKETS_BUFFER_SIZE after connect / accept: a CREDIT_UPDATE announces it" \
	    sh -c "grep -q '^[0-9]* [0-9.]* 3:[0-9]* > 2:7501 STREAM CREDIT_UPDATE .*buf_alloc 40000 ' buf.txt &&
	    grep -q '^[0-9]* [0-9.]* 3:7500 > 2:[0-9]* STREAM CREDIT_UPDATE .*buf_alloc 20000 ' buf.txt"
	# ... and a listener's, set after listen, is its later children's
	check "SO_VM_SOCKETS_BUFFER_SIZE on a listener after listen: the next RESPONSE advertises it" \
	    sh -c "grep 'RESPONSE' buf.txt | grep -q 'buf_alloc 24576 '"
fi

# --- serve dies under a running program, then comes back ---
# A connection whose serve is gone reads EOF and writes EPIPE (the carrier's
# peer is gone, as after Linux's virtio_transport_reset of a vanished
# transport the socket is closed); a connect meanwhile is ECONNREFUSED (a
# socket file with nobody listening); once serve is back, connects work.
cat > restart.py <<'PY'
import socket, sys
def conn():
    c = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    c.connect((int(sys.argv[1]), int(sys.argv[2])))
    return c
def said(what, f):
    try:
        print(what, f(), flush=True)
    except OSError as e:
        print(what, e.strerror, flush=True)
c = conn(); c.sendall(b"hi"); print("up", c.recv(2).decode(), flush=True)
sys.stdin.readline()
said("recv", lambda: len(c.recv(2)))
said("send", lambda: c.send(b"x"))
said("connect", lambda: conn() and "ok")
sys.stdin.readline()
c = conn(); c.sendall(b"yo"); print("back", c.recv(2).decode(), flush=True)
PY
# start_serve NAME: a serve for the restart test, once every socket listens
start_serve() {
	rm -f "$1.ready"
	mkfifo "$1.ready"
	"$emu" serve -q --guest 52=echo --uds "./$1" --ready-fd 3 \
	    3> "$1.ready" 2>/dev/null &
	rpid=$!
	helpers="$helpers $rpid"
	timeout 30 head -n 1 "$1.ready" > /dev/null
}
if command -v python3 >/dev/null 2>&1; then
	socat UNIX-LISTEN:./r.sock_7801,fork EXEC:cat 2>/dev/null &
	helpers="$helpers $!"
	wait_for test -S ./r.sock_7801
	for role in host guest; do
		[ $role = host ] && to="3 52" || to="2 7801"
		start_serve r.sock
		rm -f r.in
		mkfifo r.in
		timeout 60 "$emu" run --$role ./r.sock -- python3 restart.py \
		    $to < r.in > r.$role.log 2>&1 &
		rr=$!
		exec 8> r.in
		wait_for grep -q '^up' r.$role.log
		kill -9 $rpid
		wait $rpid 2>/dev/null
		echo >&8
		wait_for grep -q '^connect' r.$role.log
		start_serve r.sock
		echo >&8
		exec 8>&-
		wait $rr
		kill $rpid
		wait $rpid 2>/dev/null
		check "serve killed under a $role program: EOF, EPIPE, ECONNREFUSED; back once serve is" \
		    sh -c "printf 'up hi\nrecv 0\nsend Broken pipe\nconnect Connection refused\nback yo\n' |
		    cmp -s - r.$role.log || cat r.$role.log >&2"
	done
fi

# --- bind() of a port in use: EADDRINUSE (Linux: __vsock_bind_connectible) ---
cat > bind.py <<'PY'
import errno, socket, sys
for port in sys.argv[1:]:
    s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    try:
        s.bind((socket.VMADDR_CID_ANY, int(port)))
        print(port, "ok")
    except OSError as e:
        print(port, errno.errorcode[e.errno])
    s.close()
PY
if command -v python3 >/dev/null 2>&1; then
	socat UNIX-LISTEN:./v.sock_7601 EXEC:cat 2>/dev/null &
	helpers="$helpers $!"
	wait_for test -S ./v.sock_7601
	"$emu" run --guest ./v.sock -- python3 bind.py 52 7600 > gbind.log 2>&1
	"$emu" run --host ./v.sock -- python3 bind.py 7601 7602 > hbind.log 2>&1
	check "bind of a port in use: EADDRINUSE in both roles, a free one binds" \
	    sh -c "printf '52 EADDRINUSE\n7600 ok\n' | cmp -s - gbind.log &&
	    printf '7601 EADDRINUSE\n7602 ok\n' | cmp -s - hbind.log"
fi

# --- UDS.guest takes untrusted lines: a bad one is closed, nothing else ---
long=$(head -c 300 /dev/zero | tr '\0' 'x')
for line in '\n' 'CONNECT\n' 'CONNECT 2\n' 'CONNECT 2 4294967296\n' \
    'CONNECT x 5\n' 'LISTEN 5000 dgram /tmp/x\n' 'LISTEN 4294967295 stream /x\n' \
    'LISTEN 5000 stream\n' 'FOO\n' 'CONNECT 2 52 9\n' "$long\\n" \
    'CONNECT 2 52 eor\n' 'LISTEN 5000 stream-eor /tmp/x\n' \
    'CONNECT 2 52 buf=0\n' 'CONNECT 2 52 buf=x\n' 'CONNECT 2 52 buf=1 buf=2\n' \
    'CONNECT 2 52 buf=4294967296\n' 'LISTEN 5000 stream buf=9\n' \
    'BIND x\n' 'BIND 4294967295\n' 'LISTEN 5000 stream peer peer /tmp/x\n' \
    'SETBUF 1024 2 52\n' 'SETBUF 1024 2 52 buf=0\n' 'SETBUF 1024 2 52 9\n' \
    'SETBUF 1024 2 52 buf=9 buf=9\n' 'SETBUF x 2 52 buf=9\n' \
    'SETBUF 1024 4294967296 52 buf=9\n'; do
	printf "$line" | socat -t 5 - UNIX-CONNECT:./v.sock.guest > bad.out
	rc=$?	# 0: connected, then closed by serve
	shown=$(printf %s "$line" | tr -d '\\' | cut -c1-40)
	check "UDS.guest, bad line '$shown': closed, no answer" \
	    sh -c "[ $rc = 0 ] && test ! -s bad.out"
done
printf 'LISTEN 52 stream %s/x\n' "$work" | socat -t 5 - \
    UNIX-CONNECT:./v.sock.guest > inuse.out
check "UDS.guest LISTEN on a port the guest uses: ERR EADDRINUSE" \
    grep -q "^ERR 98$" inuse.out
printf 'SETBUF 1024 2 9999 buf=4096\n' | socat -t 5 - \
    UNIX-CONNECT:./v.sock.guest > setbuf.out
check "UDS.guest SETBUF of no connection: ERR ENOTCONN" \
    grep -q "^ERR 107$" setbuf.out

# --- run itself: no serve, a static binary ---
timeout 10 "$emu" run --host ./nothing.sock -- socat - VSOCK-CONNECT:3:52 \
    < /dev/null 2> noserve.err
rc=$?
check "no serve behind UDS: exit 2 with one line" \
    sh -c "[ $rc = 2 ] && grep -q 'no vsockemu serve answers' noserve.err"
if [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; then
	timeout 10 "$emu" run --host ./v.sock -- /bin/busybox true 2> static.err
	rc=$?
	check "a static binary is refused: exit 2, said plainly" \
	    sh -c "[ $rc = 2 ] && grep -q 'statically linked' static.err"
fi

exit $fail

# concurrent-50: 50 connections at once, each one line echoed, half-closed
# by the guest and closed by the host.
INITIATOR=guest PORT=1244 TIMEOUT=120
server() { vsock-play -n 50 listen 0xffffffff $PORT echo; }
client() { vsock-play -n 50 connect "$1" $PORT line:hello shutwr drain; }

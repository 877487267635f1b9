# bulk-g2h: 4 MiB guest -> host in 64 KiB writes: full 64 KiB packets,
# credit updates as the 256 KiB receive buffer drains; then SHUT_WR, close.
INITIATOR=guest PORT=1237 GZIP=1 TIMEOUT=200
server() { vsock-play listen 0xffffffff $PORT recv:4194304 eof; }
client() { vsock-play connect "$1" $PORT send:4194304:65536 shutwr eof; }

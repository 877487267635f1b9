# slow-reader: the host reads 4 KiB every 10 ms with a 64 KiB buffer while
# the guest writes 512 KiB: the guest runs out of credit again and again.
INITIATOR=guest PORT=1239 GZIP=1 TIMEOUT=120
server() { vsock-play -b 65536 listen 0xffffffff $PORT recv:524288:4096:10 eof; }
client() { vsock-play connect "$1" $PORT send:524288:65536 shutwr eof; }

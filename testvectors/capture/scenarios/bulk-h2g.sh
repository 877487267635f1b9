# bulk-h2g: 4 MiB host -> guest after the guest's "go". Over vhost the
# host writes 2 KiB at a time so no packet is split over the guest's 4 KiB
# RX buffers (Linux 6.1's split tap, see split-tap); over loopback 64 KiB.
INITIATOR=guest PORT=1238 GZIP=1 TIMEOUT=200
chunk() { [ "$VSE_MODE" = nested ] && echo 2048 || echo 65536; }
server() { vsock-play listen 0xffffffff $PORT recv:3 send:4194304:$(chunk) shutwr eof; }
client() { vsock-play connect "$1" $PORT line:go recv:4194304 eof; }

# split-tap: one 16 KiB host -> guest write. Over vhost the packet fills
# four 4 KiB guest RX buffers, and Linux 6.1 taps each fragment with its
# own len but all of the remaining payload (fixed upstream by 5f344d809e01).
INITIATOR=guest PORT=1246 MODES=nested
server() { vsock-play listen 0xffffffff $PORT recv:3 send:16384:16384 shutwr eof; }
client() { vsock-play connect "$1" $PORT line:go recv:16384 eof; }

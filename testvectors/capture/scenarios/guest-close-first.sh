# guest-close-first: request, answer, and the guest closes first; the host
# sees the end of the stream and closes too.
INITIATOR=guest PORT=1242
server() { vsock-play listen 0xffffffff $PORT recv:3 line:ok drain; }
client() { vsock-play connect "$1" $PORT line:hi recv:3 sleep:100; }

# host-close-first: request, answer, and the host closes first; the guest
# sees the end of the stream and closes too.
INITIATOR=guest PORT=1241
server() { vsock-play listen 0xffffffff $PORT recv:3 line:ok; }
client() { vsock-play connect "$1" $PORT line:hi recv:3 drain; }

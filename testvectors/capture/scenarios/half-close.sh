# half-close: the guest sends a request and shuts down its sending side;
# the host goes on sending three replies after that, then closes.
INITIATOR=guest PORT=1240
server() {
	vsock-play listen 0xffffffff $PORT eof line:reply-1 sleep:200 \
	    line:reply-2 sleep:200 send:6000:2000
}
client() { vsock-play connect "$1" $PORT line:request shutwr drain; }

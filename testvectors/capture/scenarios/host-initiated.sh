# host-initiated: the host connects to a service in the guest, sends two
# lines, shuts down its sending side and reads the echo until the guest
# closes.
INITIATOR=host PORT=1245
server() { vsock-play listen 0xffffffff $PORT echo; }
client() {
	vsock-play connect "$1" $PORT line:from-host sleep:100 line:again \
	    shutwr drain
}

# echo: three lines typed into socat, echoed back, then a clean close
# (the guest shuts down its sending side; the host closes after the echo).
INITIATOR=guest PORT=1234
server() { vsock-play listen 0xffffffff $PORT echo; }
client() {
	(echo one; sleep 0.2; echo two; sleep 0.2; echo three; sleep 0.5) |
	    socat -t 3 - "VSOCK-CONNECT:$1:$PORT"
}

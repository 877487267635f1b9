# bound-not-listening: the port is bound but not listening: still RST.
INITIATOR=guest PORT=1236
server() { vsock-play bind 0xffffffff $PORT sleep:4000; }
client() { vsock-play -r connect "$1" $PORT; }

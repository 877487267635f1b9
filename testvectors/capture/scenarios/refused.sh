# refused: a connect to a port nobody has bound is answered by RST.
INITIATOR=guest PORT=1235
server() { :; }
client() { vsock-play -r connect "$1" $PORT; }

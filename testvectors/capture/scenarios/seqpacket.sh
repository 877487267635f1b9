# seqpacket: SOCK_SEQPACKET messages of 1 B to 70000 B (over 64 KiB: two
# packets, EOM on the last) with and without MSG_EOR, and two replies.
INITIATOR=guest PORT=1243
server() { vsock-play -s listen 0xffffffff $PORT msgs:6 msg:10:eor msg:2000; }
client() {
	vsock-play -s connect "$1" $PORT msg:1:eor msg:100 msg:200:eor \
	    msg:4000 msg:70000:eor msg:3000 msgs:2
}

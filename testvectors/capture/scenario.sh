# scenario.sh - find a capture scenario by name: scenarios/NAME.sh or a row of matrix.table.
#
# Sourced by capture.sh (on the recording machine) and by guest-init.sh (in
# the capture guests), so both read a scenario the same way:
#   scenario_names        every scenario's name, one a line
#   scenario_load NAME    sets PORT INITIATOR MODES GZIP TIMEOUT SNAPLEN
#                         SUBDIR and defines server() and client CID
# SCENARIO_DIR holds the hand-written NAME.sh files, SCENARIO_TABLE is the
# table (matrix.table describes its format; its rows expand here).

SCENARIO_DIR=${SCENARIO_DIR:-/scenarios}
SCENARIO_TABLE=${SCENARIO_TABLE:-/matrix.table}

# scenario_rows: the table's rows expanded, one scenario a line:
# NAME PORT WHO TYPE INIT MODES FLAGS ACTOR-ARGS | PEER-ARGS
scenario_rows() {
	awk '
	/^[ \t]*(#|$)/ { next }
	{
		rest = $0
		for (i = 1; i <= 7; i++)
			sub(/^[ \t]*[^ \t]+/, "", rest)
		nw = split($3, who, ",")
		nt = split($4, type, ",")
		for (w = 1; w <= nw; w++)
			for (t = 1; t <= nt; t++)
				print "m-" who[w] "-" $1 "-" type[t], \
				    $2 + (who[w] == "host" ? 2 : 0) + \
				    (type[t] == "seqpacket" ? 1 : 0), \
				    who[w], type[t], $5, $6, $7, rest
	}' "$SCENARIO_TABLE"
}

# scenario_names: the hand-written scenarios, then the table's.
scenario_names() {
	(cd "$SCENARIO_DIR" && ls) | sed -n 's/\.sh$//p'
	scenario_rows | awk '{ print $1 }'
}

# scenario_side ARGS ROLE: split one side's arguments into sc_opts (leading
# options), sc_role (a role word, else ROLE) and sc_acts (the actions).
scenario_side() {
	sc_opts= sc_role=$2 sc_acts= sc_phase=opts
	for sc_w in $1; do
		case $sc_phase:$sc_w in
		opts:-*) sc_opts="$sc_opts $sc_w" ;;
		opts:listen|opts:bind|opts:hold|opts:nothing|opts:connect)
			sc_role=$sc_w sc_phase=acts ;;
		*) sc_acts="$sc_acts $sc_w" sc_phase=acts ;;
		esac
	done
}

# scenario_load NAME: the scenario's settings and its server() and client().
scenario_load() {
	INITIATOR=guest GZIP= TIMEOUT= SNAPLEN= SUBDIR= MODES="loopback nested"
	if [ -f "$SCENARIO_DIR/$1.sh" ]; then
		. "$SCENARIO_DIR/$1.sh"
		return 0
	fi
	sl_row=$(scenario_rows | awk -v n="$1" '$1 == n')
	[ -n "$sl_row" ] || return 1
	set -f
	# shellcheck disable=SC2086
	set -- $sl_row
	set +f
	PORT=$2 INITIATOR=$5 SUBDIR=matrix
	[ "$4" = seqpacket ] && SC_TYPE=-s || SC_TYPE=
	[ "$6" = all ] || MODES=$6
	for sl_f in $(echo "$7" | tr ',' ' '); do
		case $sl_f in
		gzip) GZIP=1 ;;
		timeout=*) TIMEOUT=${sl_f#timeout=} ;;
		snap=*) SNAPLEN=${sl_f#snap=} ;;
		esac
	done
	# The actor is the WHO side; the client is the side that connects.
	[ "$3" = "$5" ] && sl_cl=actor || sl_cl=peer
	shift 7
	sl_rest="$*"
	sl_actor=${sl_rest%%|*} sl_peer=${sl_rest#*|}
	if [ $sl_cl = actor ]; then
		sl_c=$sl_actor sl_s=$sl_peer
	else
		sl_c=$sl_peer sl_s=$sl_actor
	fi
	scenario_side "$sl_s" listen
	SC_SERVER="$sc_opts $sc_role 0xffffffff $PORT $sc_acts"
	scenario_side "$sl_c" connect
	SC_CLIENT_OPTS="$sc_opts $sc_role" SC_CLIENT_ACTS=$sc_acts
	# server: the listening side; client CID: the connecting side.
	# shellcheck disable=SC2086
	server() { vsock-play $SC_TYPE $SC_SERVER; }
	# shellcheck disable=SC2086
	client() { vsock-play $SC_TYPE $SC_CLIENT_OPTS "$1" $PORT $SC_CLIENT_ACTS; }
	return 0
}

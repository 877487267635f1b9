# events-schema.jq - the event log (`serve --log`, `vhost-user --log`),
# schema 1 (doc/events.md), as a jq check: run with `jq -e -s -f`, it is
# true when every line is a valid event object of the schema and "t" never
# goes back, and false otherwise.

def uint: type == "number" and . >= 0 and . == floor;
def secs: type == "number" and . >= 0;
def str: type == "string";
def keys_in($allowed): (keys - $allowed) == [];
def has_all($need): . as $o | all($need[]; . as $k | $o | has($k));
def side: . == "guest" or . == "host" or . == "device";
def oneof($names): . as $x | $names | index([$x]) != null;

def reasons: ["no-listener", "limit", "timeout", "wrong-type",
    "path-too-long", "host-error", "protocol", "credit-overrun",
    "message-too-long", "peer-reset", "closed", "aborted", "transport-reset",
    "no-memory"];

# The fields every connection event has, plus the kind's own ($extra).
def conn_base: ["v", "t", "ev", "from", "who", "cid", "host_port",
    "guest_port", "type"];
def conn($extra; $need):
  keys_in(conn_base + $extra + ["truncated"]) and has_all(conn_base + $need)
  and (.from | side) and (.who | side)
  and (.cid | uint) and (.host_port | uint) and (.guest_port | uint)
  and (.type | oneof(["stream", "seqpacket"]));

def event:
  type == "object" and .v == 1 and (.t | secs) and (.ev | str)
  and (
    ((.ev == "requested" or .ev == "established") and conn([]; []))
    or (.ev == "refused" and has("host_port")
      and conn(["why", "errno", "error", "path"]; ["why"])
      and (.why | oneof(reasons))
      and ((.errno // 0) | uint) and ((.error // "") | str)
      and ((.path // "") | str))
    or (.ev == "refused" and (has("host_port") | not)
      and keys_in(["v", "t", "ev", "from", "who", "why", "line",
          "truncated"])
      and has_all(["from", "who", "why", "line"])
      and .from == "host" and .who == "device"
      and (.why | oneof(["bad-line", "line-timeout", "no-device"]))
      and (.line | str))
    or (.ev == "shutdown" and conn(["flags"]; ["flags"])
      and (.flags | oneof(["RCV", "SEND", "RCV|SEND"])))
    or (.ev == "reset" and conn(["why"]; ["why"])
      and (.why | oneof(reasons)))
    or (.ev == "closed"
      and conn(["bytes_to_host", "bytes_to_guest", "duration"];
          ["bytes_to_host", "bytes_to_guest", "duration"])
      and (.bytes_to_host | uint) and (.bytes_to_guest | uint)
      and (.duration | secs))
    or (.ev == "transport-reset"
      and keys_in(["v", "t", "ev", "old_cid", "new_cid"])
      and has_all(["old_cid", "new_cid"])
      and (.old_cid | uint) and (.new_cid | uint))
    or (.ev == "queue-broken" and keys_in(["v", "t", "ev", "queue", "why"])
      and has_all(["queue", "why"])
      and (.queue | oneof(["rx", "tx", "event"]))
      and (.why | test("^VSE_ERR_[A-Z_]+$")))
    or ((.ev == "frontend-attached" or .ev == "frontend-left")
      and keys_in(["v", "t", "ev", "cid", "why", "truncated"])
      and has_all(["cid"]) and (.cid | uint) and ((.why // "") | str))
  );

length > 0 and all(.[]; event) and ([.[].t] == ([.[].t] | sort))

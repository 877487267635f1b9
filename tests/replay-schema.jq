# replay-schema.jq - `vsockemu replay --format json`, schema 1 (doc/replay.md,
# "JSON report"), as a jq check: run with `jq -e -s -f`, it is true when every
# line of the report is a valid object of the schema, in the right order
# (trace objects, then one totals object last), and false otherwise.

def uint: type == "number" and . >= 0 and . == floor;
def str: type == "string";
def keys_in($allowed): (keys - $allowed) == [];
def has_all($need): . as $o | all($need[]; . as $k | $o | has($k));

# A frame of a divergence's context.
def frame:
  type == "object"
  and keys_in(["frame", "time_ns", "from", "src_cid", "src_port", "dst_cid",
      "dst_port", "type", "op", "flags", "len", "buf_alloc", "fwd_cnt",
      "divergent"])
  and has_all(["frame", "time_ns", "from", "src_cid", "src_port", "dst_cid",
      "dst_port", "type", "op", "flags", "len", "buf_alloc", "fwd_cnt",
      "divergent"])
  and (.frame | uint) and (.time_ns | uint)
  and (.from == "guest" or .from == "host")
  and all(.src_cid, .src_port, .dst_cid, .dst_port, .len, .buf_alloc,
      .fwd_cnt; uint)
  and (.type | str) and (.op | str)
  and (.flags | type == "array" and all(.[];
      str and test("^(RCV|SEND|EOM|EOR|0x[0-9a-f]+)$")))
  and (.divergent | type == "boolean");

def divergence:
  type == "object"
  and keys_in(["frame", "at_end", "connection", "field", "what", "expected",
      "actual", "context"])
  and has_all(["frame", "at_end", "connection", "field", "what", "expected",
      "actual", "context"])
  and (.frame | uint) and (.at_end | type == "boolean")
  and all(.connection, .field, .what, .expected, .actual; str)
  and (.context | type == "array" and length <= 5 and all(.[]; frame))
  and ([.context[] | select(.divergent)] | length <= 1);

def expectation:
  type == "object"
  and keys_in(["verdict", "frame", "manifest", "line", "met"])
  and has_all(["verdict", "manifest", "line", "met"])
  and (.verdict | IN("pass", "diverged", "unusable"))
  and ((has("frame") | not) or (.frame | uint))
  and (.manifest | str) and (.line | uint) and (.met | type == "boolean");

def summary_keys: ["mode", "profile", "buf_alloc", "guest_rx_buf", "frames",
  "guest_frames", "host_frames", "connections", "bytes_guest_to_host",
  "bytes_host_to_guest", "split_taps", "repeated_rsts", "other_guest_frames"];

# Optional: records cut by the snapshot length, replayed with filler.
def cut:
  type == "object"
  and keys_in(["records", "snaplen", "bytes_not_compared"])
  and has_all(["records", "snaplen", "bytes_not_compared"])
  and all(.records, .snaplen, .bytes_not_compared; uint)
  and .records > 0;

def replayed:
  has_all(summary_keys)
  and (.mode | IN("semantic", "strict"))
  and (.profile | IN("linux", "firecracker"))
  and all(.[summary_keys[2:][]]; uint)
  and ((has("cut") | not) or (.cut | cut));

def trace:
  type == "object" and .schema == 1 and (.trace | str)
  and ((has("expected") | not) or (.expected | expectation))
  and (if .verdict == "pass" then
      keys_in(["schema", "trace", "verdict", "expected", "cut"]
          + summary_keys)
      and replayed
    elif .verdict == "diverged" then
      keys_in(["schema", "trace", "verdict", "expected", "divergence", "cut"]
          + summary_keys)
      and replayed and (.divergence | divergence)
    elif .verdict == "unusable" then
      keys_in(["schema", "trace", "verdict", "expected", "error"])
      and (.error | str)
    elif .verdict == "skipped" then
      keys_in(["schema", "trace", "verdict", "manifest", "mode"])
      and (.manifest | str) and (.mode | IN("semantic", "strict"))
    else false end);

def totals:
  type == "object" and keys_in(["schema", "totals"]) and .schema == 1
  and (.totals | type == "object"
    and keys_in(["traces", "passed", "diverged", "unusable", "expected"])
    and has_all(["traces", "passed", "diverged", "unusable"])
    and all(.traces, .passed, .diverged, .unusable; uint)
    and .traces == .passed + .diverged + .unusable
    and ((has("expected") | not) or (.expected | type == "object"
      and keys_in(["met", "unexpected", "skipped"])
      and has_all(["met", "unexpected", "skipped"])
      and all(.met, .unexpected, .skipped; uint))));

length >= 1 and (.[-1] | totals) and all(.[:-1][]; trace)

#!/bin/bash
# 80-mcp.sh -- `cgops mcp` under the official MCP SDK client, and its
# JSON-RPC edges fed raw
#
# The client (tests/mcp/client.mjs, @modelcontextprotocol/sdk pinned with
# integrity in tests/mcp/package-lock.json, installed by tests/mcp/install.sh
# into a cache) lists the tools and calls every one against parkfix
# (-noagent -park N: N goroutines parked in main.parkMany) and agentfix (an
# agent), checking the answers against what this script knows; then the
# runtime's own SIGQUIT dump of parkfix is the ground truth for the
# goroutine counts the tool gave.  No npm, no network and no cache is a
# failure, not a skip.
. "$(dirname "$0")/lib.sh"

PARK_N=37

# ---- the raw protocol: errors, ping after them, a line over 1 MiB, EOF ----
# A silent agent (accepts, never answers) to cancel a call on.
start_fixture -n "silent agent" /usr/bin/python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print("ready", s.getsockname()[1], flush=True)
time.sleep(3600)' || finish
SILENT=127.0.0.1:${READY#ready }
{
    echo '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}'
    echo '{"jsonrpc":"2.0","method":"notifications/initialized"}'
    echo 'not json'
    echo '[{"jsonrpc":"2.0","id":2,"method":"ping"}]'
    echo '{"jsonrpc":"2.0","id":3,"method":"no/such"}'
    echo '{"jsonrpc":"2.0","id":null,"method":"ping"}'
    echo '{"jsonrpc":"1.0","id":4,"method":"ping"}'
    echo '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"process_info"}}'
    echo '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"process_info","arguments":{"pid":1.5}}}'
    /usr/bin/python3 -c 'print("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\",\"params\":{\"x\":\"" + "a" * (1 << 20) + "\"}}")'
    echo '{"jsonrpc":"2.0","id":8,"method":"ping"}'
    echo '{"jsonrpc":"2.0","id":9,"method":"initialize","params":{"protocolVersion":"1999-01-01","capabilities":{}}}'
    echo '{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"stack","arguments":{"target":"'"$SILENT"'"}}}'
    echo '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":11,"reason":"test"}}'
    printf '{"jsonrpc":"2.0","id":10,"method":"ping"}'
} >"$T/raw.in"
timeout 60 "$CGOPS" mcp <"$T/raw.in" >"$T/raw.out" 2>"$T/raw.err"
RC=$?
ERR=$(cat "$T/raw.err")
expect_rc 0 "cgops mcp ends at end of input"
jq -e . "$T/raw.out" >/dev/null && pass "every reply is JSON" || fail "a reply is not JSON: $(head -c 600 "$T/raw.out")"
[ "$(wc -l <"$T/raw.out")" = 12 ] && pass "12 replies (none for the notification)" || fail "replies: $(cat "$T/raw.out")"
reply() { jq -c --argjson id "$1" 'select(.id == $id)' "$T/raw.out"; }
code_of() { jq -r --argjson id "$1" 'select(.id == $id) | .error.code' "$T/raw.out"; }
[ "$(jq -r 'select(.id == 1) | .result.protocolVersion' "$T/raw.out")" = 2025-06-18 ] &&
    pass "initialize agrees on 2025-06-18" || fail "initialize: $(reply 1)"
[ "$(jq -r 'select(.id == 9) | .result.protocolVersion' "$T/raw.out")" = 2025-06-18 ] &&
    pass "an unknown revision is answered with ours" || fail "initialize 1999: $(reply 9)"
nullerr=$(jq -r 'select(.id == null) | .error.code' "$T/raw.out" | tr '\n' ' ')
[ "$nullerr" = "-32700 -32600 -32600 -32600 " ] &&
    pass "parse error, batch, null id, over 1 MiB: -32700 -32600 -32600 -32600 with id null" ||
    fail "id-null errors: $nullerr"
[ "$(code_of 3)" = -32601 ] && pass "unknown method: -32601" || fail "no/such: $(reply 3)"
[ "$(code_of 4)" = -32600 ] && pass "jsonrpc 1.0: -32600" || fail "jsonrpc 1.0: $(reply 4)"
[ "$(code_of 5)" = -32602 ] && [ "$(code_of 6)" = -32602 ] && pass "missing and fractional pid: -32602" ||
    fail "bad params: $(reply 5) $(reply 6)"
[ -z "$(reply 11)" ] && pass "a cancelled call gets no reply" || fail "cancelled call answered: $(reply 11)"
[ -z "$(reply 7)" ] && [ "$(reply 8)" = '{"jsonrpc":"2.0","id":8,"result":{}}' ] &&
    pass "the line over 1 MiB is skipped, the next one answered" || fail "after the long line: $(reply 7) $(reply 8)"
[ "$(reply 10)" = '{"jsonrpc":"2.0","id":10,"result":{}}' ] && pass "a last line without newline is answered" ||
    fail "last line: $(reply 10)"

# A non-blocking stdin (a client may pass one): EAGAIN is not the end of
# input.  The request comes after cgops has started reading.
got=$(timeout 60 /usr/bin/python3 -c '
import fcntl, os, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_NONBLOCK)
p = subprocess.Popen([sys.argv[1], "mcp"], stdin=r, stdout=subprocess.PIPE)
os.close(r)
time.sleep(0.5)
os.write(w, b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n")
os.close(w)
sys.stdout.write(p.communicate(timeout=30)[0].decode())' "$CGOPS")
[ "$got" = '{"jsonrpc":"2.0","id":1,"result":{}}' ] && pass "a non-blocking stdin is read, not taken for its end" ||
    fail "non-blocking stdin: '$got'"

# The binary replaced under a running server (a package upgrade): its tools
# still run, as the server's own version (/proc/self/exe).
cp "$CGOPS" "$T/cgops-old"
mkfifo "$T/fifo"
"$T/cgops-old" mcp <"$T/fifo" >"$T/old.out" 2>"$T/old.err" &
OLDPID=$!
STARTED="$STARTED $OLDPID"
exec 7>"$T/fifo"
echo '{"jsonrpc":"2.0","id":1,"method":"ping"}' >&7
for _ in $(seq 300); do grep -q '"id":1' "$T/old.out" && break; sleep 0.1; done
rm -f "$T/cgops-old"
readlink "/proc/$OLDPID/exe" | grep -q ' (deleted)$' && pass "the running server's binary is deleted" ||
    fail "exe: $(readlink "/proc/$OLDPID/exe")"
echo '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"process_info","arguments":{"pid":'"$$"'}}}' >&7
exec 7>&-
wait "$OLDPID"
got=$(jq -r 'select(.id == 2) | "\(.result.isError) \(.result.structuredContent.pid)"' "$T/old.out")
[ "$got" = "false $$" ] && pass "after the binary was deleted, tools still run" ||
    fail "deleted binary: '$got' $(cat "$T/old.out" "$T/old.err")"

# ---- the official SDK client ----
if ! SDK=$(sh "$CGOPS_SRC/tests/mcp/install.sh" 2>"$T/install.err"); then
    fail "cannot install the MCP SDK client: $(cat "$T/install.err")"
    finish
fi
pass "MCP SDK client installed in $SDK"
cp "$CGOPS_SRC/tests/mcp/client.mjs" "$SDK/client.mjs"

start_parkfix parkfix -noagent -park "$PARK_N" || finish
PARK_PID=$PFPID
start_agent agentfix || finish
run "$CGOPS" pprof-heap --no-launch -o "$T/heap.pb.gz" "$APID"
expect_rc 0 "a heap profile saved for profile_top's file"

OUT_DIR=$T SCRIPT_PID=$$ PARK_PID=$PARK_PID PARK_N=$PARK_N AGENT_PID=$APID HEAP_FILE=$T/heap.pb.gz \
    MCP_CPU=${MCP_CPU:-1} timeout 240 node "$SDK/client.mjs" >"$T/client.out" 2>"$T/client.err"
RC=$?
cat "$T/client.out"
grep -q '^FAIL' "$T/client.out" && FAILS=$((FAILS + $(grep -c '^FAIL' "$T/client.out")))
PASSES=$((PASSES + $(grep -c '^ok' "$T/client.out")))
[ "$RC" = 0 ] && pass "the SDK client ran every check" || fail "client exit $RC: $(tail -c 1500 "$T/client.err")"

# The runtime's own dump: the goroutines the tool counted, by state.
if [ -s "$T/goroutines.json" ] && quit_dump "$PARK_PID" "$T/park.quit"; then
    gotrace counts "$T/park.quit" >"$T/qc"
    for st in "chan receive" "chan send" select sleep semacquire; do
        want=$(awk -v s="$st" -F'\t' '$2 == s {print $1}' "$T/qc")
        got=$(jq -r --arg s "$st" '.by_status[$s] // 0' "$T/goroutines.json")
        [ "${want:-0}" = "$got" ] && pass "goroutines tool: [$st] $got, as the runtime's dump" ||
            fail "goroutines tool: [$st] $got, the runtime's dump ${want:-0}"
    done
    want=$(grep -c '^goroutine [1-9]' "$T/park.quit")
    got=$(jq .count "$T/goroutines.json")
    [ "$want" = "$got" ] && pass "goroutines tool counts $got, as the runtime's dump" ||
        fail "goroutines tool counts $got, the runtime's dump $want"
fi
finish

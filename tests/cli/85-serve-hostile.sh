#!/bin/bash
# 85-serve-hostile.sh -- cgops serve and cgops mcp against clients that
# misbehave in the ways a hostile test found after issue 11 merged: each
# case is a defect that was fixed (see git log of this file)
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || skip_all "curl not installed (Debian's curl)"
# serve's private directory: a SIGKILLed serve (below) cannot remove it.
export TMPDIR="$T"
ST="$CGOPS_SRC/tests/cli/servetool.py"

# ---- cgops metrics --state: a FIFO planted where the state file goes ------
# (a shared directory): the run ends in its bound instead of blocking in
# open(2) for ever, and says the file is not one it can use.
mkfifo "$T/state.fifo"
run timeout 60 "$CGOPS" metrics --timeout 2s --state "$T/state.fifo"
[ "$RC" != 124 ] && pass "metrics --state FIFO: ends (rc $RC)" || fail "metrics --state FIFO: still blocked after 60 s"
expect_err_contains "not a regular file" "... says the state file is not a regular file"

# ---- cgops mcp whose client stops reading ------------------------------------
# The client closes our stdout and then its stdin: cgops mcp ends without
# an error message (a closed pipe is quiet, as for every command); it used
# to report "write error" with whatever errno reaping a child had left.
printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' \
    '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"process_info","arguments":{"pid":1}}}' \
    >"$T/mcp.in"
{ cat "$T/mcp.in"; sleep 2; } | timeout 60 "$CGOPS" mcp 2>"$T/mcp.err" | head -c 1 >/dev/null
[ ! -s "$T/mcp.err" ] && pass "mcp with its stdout closed: no message" ||
    fail "mcp with its stdout closed says: $(head -c 300 "$T/mcp.err")"

start_serve --listen 127.0.0.1:0 || finish

# A POST body over the 4 KiB limit: answered 413, not left waiting (MHD
# takes no answer while a body comes in; the refusal used to be lost and
# the client waited until the connection was cut, without an answer).
for how in "5000" "100000" "5000 chunked"; do
    got=$(timeout 60 /usr/bin/python3 "$ST" body "$SADDR" /api/v1/processes/1/gc $how 2>&1)
    [ "$got" = "status 413" ] && pass "a POST body of $how bytes: 413" ||
        fail "a POST body of $how bytes: $got, want status 413"
done
got=$(timeout 60 /usr/bin/python3 "$ST" body "$SADDR" /api/v1/processes/1/gc 100 2>&1)
[ "$got" = "status 403" ] && pass "a small POST body: on to the route (403 read-only)" ||
    fail "a small POST body: $got, want status 403"

kill -TERM "$SPID"
wait "$SPID"

start_fault silent || finish
printf '%s' "$FPORT" >"$GOPS_CONFIG_DIR/$FPID"

# ---- /metrics keeps refreshing while clients hold every slot ----------------
# 24 CPU profiles of a silent "agent" take the 8 slots for 45 s each and
# fill the queue; the figures must still be refreshed meanwhile (they used
# to wait for a slot behind the profiles: their age grew for as long as a
# client kept the queue full).
start_serve --listen 127.0.0.1:0 --min-interval 1s --allow-write || finish
curl -s -m 60 -o /dev/null "http://$SADDR/metrics" # the first figures
CURLS=
for _ in $(seq 24); do
    curl -s -m 90 -o /dev/null "http://$SADDR/api/v1/processes/$FPID/profile/cpu" &
    CURLS="$CURLS $!"
done
sleep 2 # the figures are now older than --min-interval
curl -s -m 60 -o /dev/null "http://$SADDR/metrics" # starts a refresh
fresh=
for _ in $(seq 60); do
    sleep 0.5
    age=$(curl -s -m 60 "http://$SADDR/metrics" | sed -n 's/^cgops_serve_metrics_age_seconds //p')
    running=$(ps -o pid= --ppid "$SPID" | wc -l)
    if awk -v a="$age" 'BEGIN {exit !(a != "" && a < 1.5)}' && [ "$running" -ge 8 ]; then
        fresh=$age
        break
    fi
done
[ -n "$fresh" ] && pass "/metrics refreshed while the slots are busy (age $fresh s)" ||
    fail "/metrics not refreshed while every slot is busy (age $age s)"
# SIGKILL, not SIGTERM (which waits for the profiles): the children go
# with serve (the test below).
kill -KILL "$SPID"
for c in $CURLS; do kill "$c" 2>/dev/null; done
wait $CURLS "$SPID" 2>/dev/null

# ---- one client cannot take the API from the others ---------------------------
# 150 heap profiles of the silent "agent" (10 s each) from 127.0.0.1 used to
# take the 8 slots and the whole queue of 128: a request from anyone else
# got 503 until the flood ended.  Now one address holds at most 16 commands
# (protocol/API.md): 134 of the 150 get 429 at once, and a request from
# 127.0.0.2 (another client; serve listens on 127.0.0.1, all of 127/8 is
# this host), sent once serve has taken the 150, is queued behind those 16
# and answered.
start_serve --listen 127.0.0.1:0 || finish
got=$(timeout 240 /usr/bin/python3 "$ST" flood "$SADDR" 150 "/api/v1/processes/$FPID/profile/heap" 8 \
      127.0.0.2 /api/v1/processes 2>&1)
n429=$(printf '%s\n' "$got" | awk '$1 == "status" && $2 == 429 {print $3}')
n503=$(printf '%s\n' "$got" | awk '$1 == "status" && $2 == 503 {print $3}')
[ "${n429:-0}" = 134 ] && [ -z "$n503" ] && pass "one client's 150 commands: 16 held, 134 answered 429" ||
    fail "one client's 150 commands: 429 x${n429:-0}, 503 x${n503:-0}, want 429 x134: $got"
other=$(printf '%s\n' "$got" | sed -n 's/^other //p')
[ "$other" = 200 ] && pass "another client is served meanwhile (200)" ||
    fail "another client during the flood: ${other:-no answer}, want 200: $got"
# The 429 says when to come back, in the shape of the other errors.
printf '%s\n' "$got" | grep -qx "429 retry-after 1 json-status 429" &&
    pass "429: Retry-After: 1, a JSON error with status 429" || fail "429 answer: $got"
kill -KILL "$SPID"
wait "$SPID" 2>/dev/null

# ---- a SIGKILLed serve leaves no command running ------------------------------
# A CPU profile of a silent "agent" keeps its child waiting 45 s; serve is
# SIGKILLed meanwhile: the child (its own session, so no signal reaches it
# from the killer) must go at once, not run on to its own deadline.
start_serve --listen 127.0.0.1:0 --allow-write || finish
curl -s -m 90 -o /dev/null "http://$SADDR/api/v1/processes/$FPID/profile/cpu" &
CURL=$!
kids=
for _ in $(seq 100); do
    kids=$(ps -o pid= --ppid "$SPID" | tr -d ' ')
    [ -n "$kids" ] && break
    sleep 0.1
done
[ -n "$kids" ] && pass "serve runs a child for the profile" || fail "serve started no child"
kill -KILL "$SPID"
wait "$SPID" 2>/dev/null
alive() { # PID: running, not a zombie
    [ -r "/proc/$1/stat" ] && ! awk '{exit !($3 == "Z")}' "/proc/$1/stat" 2>/dev/null
}
left=$kids
for _ in $(seq 150); do
    left=
    for k in $kids; do alive "$k" && left="$left $k"; done
    [ -z "$left" ] && break
    sleep 0.1
done
[ -z "$left" ] && pass "SIGKILLed serve: its child is gone" ||
    fail "SIGKILLed serve: child$left still running 15 s later"
for k in $left; do kill -KILL "$k" 2>/dev/null; done
kill "$CURL" 2>/dev/null
wait "$CURL" 2>/dev/null
finish

#!/bin/bash
# 62-agentless-cli.sh -- top (a leak grows, a busy goroutine's CPU), --stop
# (a consistent snapshot, and a target that runs on when cgops is killed
# while it is stopped), the fallback of stack, permissions, containers and
# bad arguments of the agentless commands.
. "$(dirname "$0")/lib.sh"

# Bad arguments: usage errors (2), before anything is read.
for args in "goroutines" "goroutines abc" "goroutines 0" "goroutines 1 2" "goroutines --depth 0 1" \
    "goroutines --depth 101 1" "summary --by nowhere 1" "top -n 0 1" "top -n x 1" "top --by x 1" \
    "top -d 0 1" "memstats --agentless --agent-only 1"; do
    run "$CGOPS" $args
    expect_rc 2 "cgops $args"
done
run "$CGOPS" goroutines $$
expect_rc 1 "goroutines of a shell"
expect_err_contains "not a Go program" "goroutines of a shell"
run "$CGOPS" goroutines 2147483647
expect_rc 1 "goroutines of no process"
expect_err_contains "no such process" "goroutines of no process"
run "$CGOPS" summary 2
expect_rc 1 "summary of a kernel thread"

# stack without an agent reads the goroutines from memory and says so.
start_fixture "$FIXTURES/parkfix" -noagent || finish
# A thread id is not a process id.
tid=$(ls "/proc/$RPID/task" | grep -vx "$RPID" | head -1)
run "$CGOPS" goroutines "$tid"
expect_rc 1 "goroutines of a thread id"
expect_err_contains "is a thread of process $RPID" "a thread id is named as such"
run "$CGOPS" stack "$RPID"
expect_rc 0 "stack without an agent"
expect_err_contains "reading its goroutines from its memory instead" "stack says it reads memory"
expect_out_contains "main.parkChanRecv" "stack's agentless dump"
run "$CGOPS" stack --agent-only "$RPID"
expect_rc 1 "stack --agent-only without an agent"
expect_out_lacks "goroutine 1" "--agent-only prints no dump"
run "$CGOPS" stack --json "$RPID"
expect_rc 0 "stack --json without an agent"
validate goroutines.schema.json "$T/out"
run "$CGOPS" "$RPID"
expect_rc 0 "cgops PID"
expect_out_contains "goroutines:	" "cgops PID counts goroutines"
n=$(jq length <<<"$("$CGOPS" goroutines --json "$RPID" | jq '.goroutines')")
got=$("$CGOPS" "$RPID" --json | jq .goroutines)
[ "$got" = "$n" ] && pass "cgops PID --json counts the goroutines the dump lists ($n)" || fail "cgops PID: $got, dump: $n"
"$CGOPS" --goroutines --json >"$T/list"
validate list.schema.json "$T/list"
got=$(jq --argjson p "$RPID" '.[] | select(.pid == $p) | .goroutines' "$T/list")
[ "$got" = "$n" ] && pass "the listing's --goroutines agrees" || fail "listing: $got, dump: $n"

# top: a growing leak shows as a growing row, in text and in JSON lines.
start_fixture "$FIXTURES/parkfix" -noagent -leak 40 || finish
run "$CGOPS" top -b -n 3 -d 0.5 "$RPID"
expect_rc 0 "top -b"
[ "$(grep -c '^cgops top' "$T/out")" = 3 ] && pass "top -b -n 3 prints three tables" || fail "tables: $OUT"
awk '$4 == "main.leakOne" {print $1}' "$T/out" >"$T/counts"
[ "$(wc -l <"$T/counts")" = 3 ] && [ "$(sort -n "$T/counts" | tr '\n' ' ')" = "$(tr '\n' ' ' <"$T/counts")" ] &&
    [ "$(head -1 "$T/counts")" -lt "$(tail -1 "$T/counts")" ] && pass "the leak's row grows: $(tr '\n' ' ' <"$T/counts")" ||
    fail "leak row: $(cat "$T/counts")"
awk '$4 == "main.leakOne" {print $2}' "$T/out" | tail -2 | grep -qv '^+0$' && pass "its change is shown" || fail "no change shown"
run "$CGOPS" top --json -n 2 -d 0.5 "$RPID"
expect_rc 0 "top --json"
[ "$(wc -l <"$T/out")" = 2 ] && pass "one JSON document per refresh" || fail "json lines: $OUT"
i=0
while read -r line; do
    i=$((i + 1))
    printf '%s\n' "$line" >"$T/doc$i"
    validate top.schema.json "$T/doc$i"
done <"$T/out"
[ "$(jq '.groups[] | select(.key == "main.leakOne") | .delta' "$T/doc2")" -gt 0 ] && pass "JSON delta of the leak > 0" ||
    fail "json delta: $(cat "$T/doc2")"
run "$CGOPS" top -b -n 1 --by creator --filter leaker "$RPID"
expect_rc 0 "top --by creator --filter"
expect_out_contains "main.leaker" "grouped by creator"
expect_out_lacks "main.main" "the filter hides other groups"

# top: the busy goroutine's thread CPU is charged to it.
start_fixture "$FIXTURES/parkfix" -noagent -busy || finish
busy=$RPID
run "$CGOPS" top -b -n 2 -d 1 "$busy"
expect_rc 0 "top -b on a busy process"
top_row=$(awk '/^cgops top/ {n++} n == 2 && /^ *[0-9]/ {print; exit}' "$T/out")
cpu=$(awk '{print int($3)}' <<<"$top_row")
[[ "$top_row" == *main.spinBusy* ]] && [ "$cpu" -ge 10 ] && pass "top charges ${cpu}% CPU to main.spinBusy" ||
    fail "busiest row: '$top_row' in $OUT"

# --stop: a consistent snapshot; the running goroutine gets its frames
# from its thread's registers; the process is released and runs on.
run "$CGOPS" goroutines --stop "$busy"
expect_rc 0 "goroutines --stop"
expect_out_lacks "stack unavailable" "--stop has every running goroutine's stack"
awk '/^goroutine .*\[running\]/ {on=1; next} on && /^$/ {on=0} on' "$T/out" | grep -q '^main.spinBusy' &&
    pass "--stop unwinds the running goroutine" || fail "running goroutine under --stop: $OUT"
grep -q '^TracerPid:	0$' "/proc/$busy/status" && pass "released: no tracer" || fail "still traced"
[[ "$(thread_states "$busy")" != *t* ]] && pass "released: no thread stopped" || fail "threads: $(thread_states "$busy")"
run "$CGOPS" goroutines --stop --json "$busy"
expect_rc 0 "goroutines --stop --json"
validate goroutines.schema.json "$T/out"
[ "$(jq .stopped "$T/out")" = true ] && pass "--json says stopped" || fail "stopped flag"

# SIGKILL cgops while it holds the process stopped: catch cgops in the act
# (a thread of the target in tracing stop), freeze it with SIGSTOP (which
# it cannot catch: it still holds the target), check the target is held,
# then SIGKILL it.  The process must run on, untraced.
start_fixture "$FIXTURES/parkfix" -noagent -busy -park 50000 || finish
big=$RPID
caught=
for attempt in 1 2 3 4 5; do
    "$CGOPS" goroutines --stop "$big" >/dev/null 2>&1 &
    cg=$!
    caught=$(signal_when_held "$big" "$cg" STOP)
    [ "$caught" = yes ] && break
    wait "$cg" 2>/dev/null
done
if [ "$caught" = yes ]; then
    sleep 0.2
    [[ "$(thread_states "$big")" == *t* ]] && pass "a frozen cgops holds the process stopped" ||
        fail "not held: $(thread_states "$big")"
    kill -9 "$cg"
    wait "$cg" 2>/dev/null
    sleep 0.2
    [[ "$(thread_states "$big")" != *t* ]] && pass "after SIGKILL no thread is stopped" || fail "left stopped: $(thread_states "$big")"
    grep -q '^TracerPid:	0$' "/proc/$big/status" && pass "after SIGKILL no tracer" || fail "left traced"
    t1=$(awk '{print $14}' "/proc/$big/stat")
    sleep 0.5
    t2=$(awk '{print $14}' "/proc/$big/stat")
    [ "$t2" -gt "$t1" ] && pass "the process runs on (utime $t1 -> $t2)" || fail "no progress: $t1 -> $t2"
else
    fail "never caught cgops holding the process stopped in 5 tries"
fi

# A full pipe (a pager) on stdout does not keep the process stopped: the
# snapshot is written to a temp file while stopped, then copied out.
mkfifo "$T/fifo"
"$CGOPS" goroutines --stop "$big" >"$T/fifo" &
cg=$!
exec 3<"$T/fifo"
sleep 1
[[ "$(thread_states "$big")" != *t* ]] && pass "output waiting on a full pipe does not hold the process" ||
    fail "held while output waits: $(thread_states "$big")"
cat <&3 >"$T/big.out"
exec 3<&-
wait "$cg"
[ "$?" = 0 ] && grep -c '^goroutine ' "$T/big.out" | awk '{exit !($1 > 50000)}' &&
    pass "the whole snapshot arrives once read" || fail "snapshot: $(grep -c '^goroutine ' "$T/big.out") goroutines"

# Another user without CAP_SYS_PTRACE: a message naming what is missing.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    run setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$CGOPS" goroutines "$busy"
    expect_rc 1 "goroutines of root's process as nobody"
    [[ "$ERR" == *CAP_SYS_PTRACE* || "$ERR" == *"another user"* ]] && pass "the message names what is missing: $ERR" ||
        fail "permission message: $ERR"
else
    skip "not root: cannot run as another user"
fi

# A process in its own pid and mount namespace (a container): read through
# /proc/PID/exe; the runtime's thread ids are the container's.
if unshare -p -f --mount-proc true 2>/dev/null; then
    unshare -p -f --mount-proc "$FIXTURES/parkfix-stripped" -noagent >"$T/ns.out" 2>&1 &
    STARTED="$STARTED $!"
    for _ in $(seq 100); do grep -q ready "$T/ns.out" && break; sleep 0.1; done
    inner=$(pgrep -P $! -x parkfix-strippe | head -1)
    [ -n "$inner" ] || inner=$(pgrep -f "parkfix-stripped -noagent" -n)
    run "$CGOPS" summary --json "$inner"
    expect_rc 0 "summary of a process in another pid namespace"
    [ "$(jq '.ms | length' "$T/out")" -ge 1 ] && pass "its Ms are found (thread ids as the container sees them)" ||
        fail "no Ms: $OUT"
    run "$CGOPS" goroutines "$inner"
    expect_out_contains "main.parkChanRecv" "its goroutines"
else
    skip "cannot make a pid namespace here"
fi

# A binary whose function names hold terminal escapes (names are only
# metadata: the program runs the same): never printed raw.
python3 - "$FIXTURES/parkfix" "$T/evilfix" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
evil = b"main.\x1b]0;PWNED\x07cv"
assert len(evil) == len(b"main.parkChanRecv")
open(sys.argv[2], "wb").write(data.replace(b"main.parkChanRecv", evil))
PY
chmod +x "$T/evilfix"
start_fixture "$T/evilfix" -noagent || finish
for c in goroutines summary "top -b -n 1 -d 0.1"; do
    run "$CGOPS" $c "$RPID"
    expect_rc 0 "$c of a binary with escapes in its names"
    if LC_ALL=C grep -q $'\x1b\|\x07' "$T/out" "$T/err"; then
        fail "$c printed a terminal escape from the binary"
    else
        pass "$c shows no escape from the binary"
    fi
done
expect_out_contains "main.?]0;PWNED?cv" "the name is shown with the escapes replaced"

# The process exits while top watches: an error, exit 1.
start_fixture "$FIXTURES/parkfix" -noagent || finish
( sleep 0.7; kill "$RPID" ) &
run "$CGOPS" top -b -n 50 -d 0.2 "$RPID"
expect_rc 1 "top of a process that exits"
expect_err_contains "exited" "top says the process exited"

finish

#!/bin/bash
# 31-agent-faults.sh -- every way an agent or the command line can go wrong:
# the exact message and exit status for each, and nothing left behind.
. "$(dirname "$0")/lib.sh"

start_fault refused; A=127.0.0.1:$FPORT
run "$CGOPS" memstats "$A"
expect_rc 1 "connection refused"
expect_err_eq "cgops: $A: cannot connect: connection refused" "refused message"

start_fault silent; A=127.0.0.1:$FPORT
run "$CGOPS" memstats "$A" --timeout 1s
expect_rc 1 "silent agent with --timeout"
expect_err_eq "cgops: $A: timed out after 1s waiting for the memstats reply (0 bytes received)" "silent + --timeout message"
# The default idle timeout (10 s) ends a silent agent too.
run "$CGOPS" version "$A"
expect_rc 1 "silent agent, default timeout"
expect_err_eq "cgops: $A: timed out after 10s waiting for the version reply" "silent default message"
run "$CGOPS" pprof-heap "$A" -o "$T/partial" --timeout 500ms
expect_rc 1 "silent pprof-heap"
expect_err_eq "cgops: $A: timed out after 500ms waiting for the pprof-heap reply (0 bytes received)" "pprof timeout message"
[ ! -e "$T/partial" ] && pass "no partial profile left" || fail "partial profile left behind"

# A failed fetch never harms what -o names: an existing file keeps its
# contents, a symlink stays a symlink, a FIFO stays; no temp file is left.
echo old >"$T/real.prof"; ln -s real.prof "$T/link.prof"
run "$CGOPS" pprof-heap "$A" -o "$T/link.prof" --timeout 500ms
expect_rc 1 "silent pprof-heap into a symlinked file"
[ -L "$T/link.prof" ] && [ "$(cat "$T/real.prof")" = old ] && pass "failed -o: file and symlink untouched" ||
    fail "failed -o harmed $(ls -l "$T/link.prof" "$T/real.prof" 2>&1)"
mkfifo "$T/fifo"; cat "$T/fifo" >"$T/fifo.out" & CATPID=$!
run "$CGOPS" pprof-heap "$A" -o "$T/fifo" --timeout 500ms
wait "$CATPID"
expect_rc 1 "silent pprof-heap into a FIFO"
[ -p "$T/fifo" ] && pass "failed -o: the FIFO is not removed" || fail "FIFO removed"
[ -z "$(ls -A "$T" | grep cgops-)" ] && pass "no temp file left beside -o" || fail "temp left: $(ls -A "$T")"

# A name server that never answers: the timeout names the lookup, and
# cgops ends then, not when the resolver gives up (30 s here; `timeout 20`
# only keeps a regression from hanging the suite).
if [ "$(id -u)" -eq 0 ]; then
    printf 'nameserver 127.0.0.1\noptions timeout:30 attempts:1\n' >"$T/resolv.conf"
    # The name server must be bound before the query, or the query is
    # refused at once ("temporary failure"): it says so through a file.
    run unshare -mn sh -c 'ip link set lo up && mount --bind "$1" /etc/resolv.conf &&
        python3 -c "import socket, sys, time; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((\"127.0.0.1\", 53)); open(sys.argv[1], \"w\").close(); time.sleep(25)" "$3" &
        i=0; while [ ! -e "$3" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
        exec timeout 20 "$2" version --timeout 1s slowhost.invalid:80' sh "$T/resolv.conf" "$CGOPS" "$T/dns.ready"
    expect_rc 1 "silent name server"
    expect_err_eq "cgops: slowhost.invalid:80: timed out after 1s looking up host 'slowhost.invalid'" "lookup timeout message"
else
    skip "silent name server (needs root for a private /etc/resolv.conf)"
fi

start_fault close-mid; A=127.0.0.1:$FPORT
run "$CGOPS" memstats "$A"
expect_rc 1 "close mid-reply"
expect_err_eq "cgops: $A: memstats reply truncated: connection closed after 117 bytes" "close-mid message"
run "$CGOPS" memstats "$A" --json
expect_rc 1 "close mid-reply --json"
printf '%s\n' "$OUT" >"$T/trunc.json"; validate agent-error.schema.json "$T/trunc.json"
[ "$(jq -r .error "$T/trunc.json")" = "$A: memstats reply truncated: connection closed after 117 bytes" ] &&
    pass "a truncated reply gives an error object, not a result" || fail "truncated --json: $OUT"
# A profile or trace reply that is not one (here 117 bytes of memstats
# text) is an error, and no file is left to be mistaken for a profile.
run "$CGOPS" pprof-heap "$A" -o "$T/cm.prof"
expect_rc 1 "pprof-heap reply that is text"
expect_err_eq "cgops: $A: the pprof-heap reply is not a gzip-compressed profile" "not-gzip message"
run "$CGOPS" trace "$A" -o "$T/cm.trace"
expect_rc 1 "trace reply that is text"
expect_err_eq "Tracing now, will take 5 secs...
cgops: $A: the trace reply is not a Go execution trace" "not-trace message"
[ ! -e "$T/cm.prof" ] && [ ! -e "$T/cm.trace" ] && pass "no file from a reply of the wrong kind" || fail "wrong-kind file left"

start_fault reset; A=127.0.0.1:$FPORT
run "$CGOPS" memstats "$A"
expect_rc 1 "reset"
expect_err_eq "cgops: $A: connection reset by the agent after 117 bytes of the memstats reply" "reset message"

start_fault garbage; A=127.0.0.1:$FPORT
run "$CGOPS" memstats "$A" --json
expect_rc 1 "garbage memstats --json"
expect_err_eq "cgops: $A: malformed memstats reply: not text" "garbage memstats message"
run "$CGOPS" stack "$A" --json
expect_rc 1 "garbage stack --json"
expect_err_eq "cgops: $A: malformed goroutine dump: the reply does not start with 'goroutine N ['" "garbage stack message"
run "$CGOPS" pprof-cpu "$A" --no-launch
expect_rc 1 "garbage pprof-cpu"
expect_err_eq "Profiling CPU now, will take 30 secs...
cgops: $A: the pprof-cpu reply is not a gzip-compressed profile" "garbage pprof-cpu message"
run "$CGOPS" stats "$A"
expect_rc 1 "garbage stats text"
expect_err_eq "cgops: $A: malformed stats reply: not text" "garbage text message"

start_fault halfclose; A=127.0.0.1:$FPORT
run "$CGOPS" stats "$A"
expect_rc 1 "empty reply"
expect_err_eq "cgops: $A: the agent closed the connection without a stats reply" "empty reply message"

# An endless reply streams with flat memory and ends at the runtime's own
# 64 MiB limit for a goroutine dump (no agent sends more), in text mode and
# with --json.  The memory bound: a run that reads 64 MiB peaks at no more
# than 40 MiB (room for ASan's quarantine) over a run that reads a few
# hundred bytes.
start_agent agentfix || fail "agent for the baseline"
peak_rss "$CGOPS" version "$APID"; base=$PEAK
start_fault endless; A=127.0.0.1:$FPORT
for mode in "" --json; do
    peak_rss "$CGOPS" stack "$A" $mode --timeout 60s
    [ "$RC" -eq 1 ] && pass "endless stack $mode: exit 1" || fail "endless stack $mode: exit $RC"
    [ "$(cat "$T/peak.err")" = "cgops: $A: stack reply larger than the Go runtime's 64 MiB limit: not a goroutine dump" ] &&
        pass "endless $mode: cut at the runtime's limit" || fail "endless message: $(cat "$T/peak.err")"
    [ $((PEAK - base)) -lt 40960 ] && pass "endless $mode RSS flat ($base -> $PEAK KiB)" || fail "RSS grew $base -> $PEAK KiB"
done

# A --json stack cut short still prints a well-formed array, and fails.
"$CGOPS" stack "$A" --json --timeout 1s >"$T/cut.json" 2>/dev/null; rc=$?
[ $rc -eq 1 ] && [ "$(jq length "$T/cut.json")" -gt 0 ] && pass "cut --json stack: valid array, exit 1" ||
    fail "cut --json stack: rc $rc, $(tail -c 80 "$T/cut.json")"
rm -f "$T/cut.json"

# An output file that cannot be created.
run "$CGOPS" pprof-heap "$A" -o "$T/no/such/dir/heap"
expect_rc 1 "unwritable -o"
expect_err_eq "cgops: cannot create '$T/no/such/dir/heap': directory '$T/no' does not exist" "unwritable -o message"
# An unwritable --binary is reported before the agent is asked for anything
# (a CPU profile takes 30 s), and --json names no file that was not written.
run "$CGOPS" pprof-cpu "$A" --json -o "$T/cpu-never" --binary "$T/no/such/dir/bin"
expect_rc 1 "unwritable --binary"
expect_err_eq "cgops: cannot create '$T/no/such/dir/bin': directory '$T/no' does not exist" "unwritable --binary message, at once"
expect_out_eq "" "unwritable --binary: no JSON"
[ ! -e "$T/cpu-never" ] && [ -z "$(ls -A "$T" | grep cgops-)" ] && pass "unwritable --binary: nothing left" || fail "left: $(ls -A "$T")"

# A dump the Go runtime cut at its 64 MiB limit is complete, not truncated.
start_fault cap64; A=127.0.0.1:$FPORT
run "$CGOPS" stack "$A"
expect_rc 0 "64 MiB runtime-capped dump"
expect_err_eq "cgops: $A: the Go runtime cut the goroutine dump at 64 MiB" "cap warning"
[ "$(stat -c %s "$T/out")" = 67108864 ] && pass "all 64 MiB streamed to stdout" || fail "stdout size $(stat -c %s "$T/out")"
# With several targets the warning comes in target order, after the
# message of the silent target before it.
CAP=$A; start_fault silent; S=127.0.0.1:$FPORT
"$CGOPS" stack "$S" "$CAP" --timeout 10s >/dev/null 2>"$T/e"; RC=$?
expect_rc 1 "silent then capped"
[ "$(cat "$T/e")" = "cgops: $S: timed out after 10s waiting for the stack reply (0 bytes received)
cgops: $CAP: the Go runtime cut the goroutine dump at 64 MiB" ] && pass "cap warning in target order" || fail "order: $(cat "$T/e")"
A=$CAP
"$CGOPS" stack "$A" --json >"$T/cap.json" 2>/dev/null; RC=$?
expect_rc 0 "64 MiB dump --json"
[ "$(jq length "$T/cap.json")" -gt 400000 ] && pass "capped dump parsed into goroutines" || fail "capped json"

# Exactly the command bytes, in one write: setgc sends 0x10 + 10 bytes.
start_fault listen -record "$T/rec"; A=127.0.0.1:$FPORT
run "$CGOPS" setgc "$A" 200
expect_rc 1 "setgc to a non-agent"
[ "$(od -An -tx1 "$T/rec" | tr -d ' \n')" = "1090030000000000000000" ] &&
    pass "setgc 200 sent 10 90 03 + zero padding (11 bytes)" || fail "setgc bytes: $(od -An -tx1 "$T/rec")"
: >"$T/rec"
"$CGOPS" setgc "$A" off 2>/dev/null
[ "$(od -An -tx1 "$T/rec" | tr -d ' \n')" = "1001000000000000000000" ] && pass "setgc off sent -1 as 01" || fail "setgc off bytes"
: >"$T/rec"
"$CGOPS" memstats "$A" 2>/dev/null
[ "$(od -An -tx1 "$T/rec" | tr -d ' \n')" = "03" ] && pass "memstats sent one byte" || fail "memstats bytes"

# Targets that do not resolve.
run "$CGOPS" memstats 999999
expect_rc 1 "nonexistent pid"
expect_err_eq "cgops: couldn't resolve addr or pid 999999 to TCPAddress: no such process" "nonexistent pid message"
start_fixture -e "$FIXTURES/sleeper" "$FIXTURES/sleeper"
run "$CGOPS" stats "$BGPID"
expect_rc 1 "pid without agent"
expect_err_eq "cgops: couldn't resolve addr or pid $BGPID to TCPAddress: no port file for pid $BGPID" "no port file message"
run "$CGOPS" stats nosuchhost.invalid:1
expect_rc 1 "unknown host"
expect_err_contains "cgops: nosuchhost.invalid:1: cannot resolve host 'nosuchhost.invalid'" "unknown host message"
run "$CGOPS" stats abc
expect_rc 1 "neither pid nor address"
expect_err_eq "cgops: couldn't resolve addr or pid abc to TCPAddress: not a pid or host:port" "bad target message"

# Bad command lines: exit 2 before anything is sent.
: >"$T/rec"
for v in 1e3 abc "" 2147483648 -2147483649 " 5" 5x; do
    run "$CGOPS" setgc "$A" "$v"
    expect_rc 2 "setgc '$v'"
done
[ ! -s "$T/rec" ] && pass "nothing sent for invalid setgc values" || fail "bytes sent for invalid setgc"
run "$CGOPS" setgc "$A" 1e3
expect_err_eq "cgops: invalid GC percent '1e3': want an integer or 'off'
hint: see 'cgops help setgc'" "setgc invalid message"
run "$CGOPS" setgc "$A" 2147483648
expect_err_eq "cgops: invalid GC percent '2147483648': out of range -2147483648..2147483647
hint: see 'cgops help setgc'" "setgc range message"
run "$CGOPS" setgc "$A"
expect_rc 2 "setgc without value"
run "$CGOPS" stats
expect_rc 2 "no target"
expect_err_eq "cgops: missing target: a pid or host:port
hint: see 'cgops help stats'" "no target message"
run "$CGOPS" stats "$A" --bogus
expect_rc 2 "unknown option"
expect_err_eq "cgops: unknown option '--bogus'
hint: see 'cgops help stats'" "unknown option message"
run "$CGOPS" stats "$A" --timeout soon
expect_rc 2 "bad --timeout"
run "$CGOPS" pprof-heap "$A" "$A"
expect_rc 2 "pprof with two targets"
run "$CGOPS" stats "$A" -o x
expect_rc 2 "-o on a text command"
finish

#!/bin/bash
# 33-agent-limits.sh -- replies a broken or hostile peer sends: a malformed
# dump, endless function lines, a reply that trickles, a banner that is not
# a reply; failures in --json; a closed pipe; many targets; the command line
# rules shared by every command.
. "$(dirname "$0")/lib.sh"

start_agent agentfix -goroutines 3 || fail "agent"; P=$APID

# A dump whose frame has no location line, then garbage: an error, never a
# crash, and the other targets' output stays whole.
printf 'goroutine 1 [running]:\nmain.f()\nbogus\n' >"$T/malformed"
start_fault file -file "$T/malformed"; M=127.0.0.1:$FPORT
run "$CGOPS" stack "$M" --json
expect_rc 1 "malformed dump --json"
[[ "$ERR" == "cgops: $M: malformed goroutine dump"* ]] && pass "malformed dump message" || fail "malformed: $ERR"
run "$CGOPS" stack "$P" "$M" "$P" --json
expect_rc 1 "malformed dump among good targets"
printf '%s\n' "$OUT" >"$T/multi.json"
validate agent-multi.schema.json "$T/multi.json"
[ "$(jq -c '[.[] | has("error")]' "$T/multi.json")" = "[false,true,false]" ] &&
    [ "$(jq '[.[0].result[], .[2].result[]] | length' "$T/multi.json")" -ge 6 ] &&
    pass "the good targets' goroutines are all there" || fail "multi: $(head -c 300 "$T/multi.json")"

# Function lines without location lines, forever: memory stays flat (a
# bound on peak memory, measured against a tiny request).
peak_rss "$CGOPS" version "$P"; base=$PEAK
start_fault funclines; F=127.0.0.1:$FPORT
for mode in "" --json; do
    peak_rss "$CGOPS" stack "$F" $mode --timeout 60s
    [ "$RC" -eq 1 ] && pass "endless function lines $mode: exit 1" || fail "funclines $mode: exit $RC"
    [ -s "$T/peak.err" ] && pass "funclines $mode: says why" || fail "funclines $mode: no message"
    [ $((PEAK - base)) -lt 40960 ] && pass "funclines $mode: RSS flat ($base -> $PEAK KiB)" ||
        fail "funclines $mode: RSS grew $base -> $PEAK KiB"
done

# A reply that trickles a byte every 300 ms never lets the silence bound
# fire; the total deadline ends it.
start_fault trickle; TR=127.0.0.1:$FPORT
run timeout 30 "$CGOPS" stack "$TR" --timeout 2s
expect_rc 1 "trickling reply"
[[ "$ERR" == "cgops: $TR: timed out after 2s waiting for the stack reply ("*" bytes received)" ]] &&
    pass "the total deadline ends a trickle" || fail "trickle: $ERR"

# Something that is not an agent (an SSH server's banner) fails in text
# mode as in --json, for every command that reads a whole reply.
printf 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n' >"$T/banner"
start_fault file -file "$T/banner"; B=127.0.0.1:$FPORT
for c in stats memstats version gc stack; do
    run "$CGOPS" $c "$B"
    [ "$RC" -eq 1 ] && [ -z "$OUT" ] && [[ "$ERR" == "cgops: $B: "* ]] &&
        pass "$c: an SSH banner is refused" || fail "$c banner: rc $RC out '$OUT' err '$ERR'"
done
run "$CGOPS" setgc "$B" 50
[ "$RC" -eq 1 ] && [ -z "$OUT" ] && pass "setgc: an SSH banner is refused" || fail "setgc banner: $RC '$OUT'"

# A refused target with --json: an error object, not an empty dump.
start_fault refused; DEAD=127.0.0.1:$FPORT
run "$CGOPS" stack "$DEAD" --json
expect_rc 1 "refused stack --json"
printf '%s\n' "$OUT" >"$T/refused.json"
validate agent-error.schema.json "$T/refused.json"

# stdout closed early: one quiet failure, not one message per target.
"$CGOPS" version "$P" "$P" "$P" "$P" "$P" "$P" 2>"$T/pipe.err" | true
[ ! -s "$T/pipe.err" ] && pass "a closed pipe is not reported per target" || fail "pipe: $(cat "$T/pipe.err")"

# Many failing targets are linear: 100,000 of them end well within the
# hang guard (the quadratic version took four minutes).
seq 4000001 4100000 >"$T/many"
timeout 120 "$CGOPS" version $(cat "$T/many") >/dev/null 2>"$T/many.err"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$T/many.err")" -eq 100000 ] && pass "100,000 failing targets, one message each" ||
    fail "many targets: rc $rc, $(wc -l <"$T/many.err") messages"

# One rule per thing on the command line, whichever command reads it.
for w in "--timeout 1e3" "--timeout 0" "--timeout inf"; do
    run "$CGOPS" version "$P" $w; expect_rc 2 "version $w"
done
run "$CGOPS" "$P" 1e3; expect_rc 2 "PERIOD 1e3"
run "$CGOPS" process "$P" 1e3; expect_rc 2 "process PERIOD 1e3"
run "$CGOPS" 5000000
expect_rc 1 "cgops 5000000"
A=$ERR
run "$CGOPS" process 5000000
expect_rc 1 "cgops process 5000000"
[ "$A" = "$ERR" ] && [[ "$ERR" == *"no such process"* ]] && pass "one answer for a pid over the limit" ||
    fail "pid limits: '$A' vs '$ERR'"
run "$CGOPS" -- "$P"; expect_rc 0 "cgops -- PID"
run "$CGOPS" process -- "$P"; expect_rc 0 "cgops process -- PID"
run "$CGOPS" pprof-heap "$P" -o ''
expect_rc 2 "-o ''"
run "$CGOPS" pprof-heap "$P" --binary=
expect_rc 2 "--binary="
ls -A "$T" | grep -q '^\.cgops-' && fail "a temp file was left behind" || pass "no temp file left by -o ''"

# Terminal escapes in a process's name and arguments are not printed raw.
cp "$FIXTURES/sleeper" "$T/$(printf 'evil\033]0;pwned\007')"
EVIL="$T/$(printf 'evil\033]0;pwned\007')"
start_fixture -n "sleeper with escapes in its name" -e "$EVIL" "$EVIL" "$(printf 'arg\033[2J')"
run "$CGOPS"
[[ "$OUT" == *"evil?]0;pwned?"* ]] && [[ "$OUT" != *$'\033'* ]] && pass "listing escapes control characters" ||
    fail "listing: $(printf '%s' "$OUT" | grep evil | od -c | head -3)"
run "$CGOPS" "$RPID"
[[ "$OUT" == *"arg?[2J"* ]] && [[ "$OUT" != *$'\033'* ]] && pass "cgops PID escapes control characters" ||
    fail "process: $OUT"
"$CGOPS" --json | jq -e --arg p "$RPID" '.[] | select(.pid == ($p | tonumber)) | .name | test("\u001b")' >/dev/null &&
    pass "JSON keeps the name as it is (escaped by JSON)" || fail "json name"
finish

#!/bin/bash
# 30-agent.sh -- every agent command against a real Go program with our test
# agent, in text and --json, with plausible values.
. "$(dirname "$0")/lib.sh"

export CGOPS_TEST_CPU_SECONDS=1 CGOPS_TEST_TRACE_SECONDS=1
start_agent agentfix -goroutines 25 -alloc || finish
P=$APID
WANTVER=$(go version "$FIXTURES/agentfix" | awk '{print $2}')

run "$CGOPS" version "$P"
expect_rc 0 "version"
expect_out_eq "$WANTVER" "version text is runtime.Version()"
"$CGOPS" version "$P" --json >"$T/v.json"; validate agent-version.schema.json "$T/v.json"
[ "$(jq -r . "$T/v.json")" = "$WANTVER" ] && pass "version json" || fail "version json"
run "$CGOPS" version "127.0.0.1:$APORT"
expect_out_eq "$WANTVER" "version by host:port"
run "$CGOPS" version "localhost:$APORT"
expect_out_eq "$WANTVER" "version by host name"
# A name with several addresses, ::1 first (glibc's order), while the agent
# listens on 127.0.0.1 only: each address is tried, as Go's net.Dial does.
if [ "$(id -u)" -eq 0 ]; then
    printf '::1 dualhost\n127.0.0.1 dualhost\n' >"$T/hosts"
    run unshare -m sh -c 'mount --bind "$1" /etc/hosts && exec "$2" version "dualhost:$3"' sh "$T/hosts" "$CGOPS" "$APORT"
    expect_rc 0 "a name whose first address refuses"
    expect_out_eq "$WANTVER" "version through the name's second address"
    run unshare -m sh -c 'mount --bind "$1" /etc/hosts && exec "$2" version "dualhost:1"' sh "$T/hosts" "$CGOPS"
    expect_rc 1 "every address refuses"
    expect_err_eq "cgops: dualhost:1: cannot connect: connection refused" "every address refuses: message"
else
    skip "several addresses per name (needs root for a private /etc/hosts)"
fi

run "$CGOPS" stats "$P"
expect_rc 0 "stats"
g=$(printf '%s\n' "$OUT" | awk -F': ' '$1 == "goroutines" {print $2}')
[ "${g:-0}" -ge 25 ] && pass "stats goroutines $g >= 25" || fail "stats goroutines '$g'"
[ "$(printf '%s\n' "$OUT" | cut -d: -f1 | tr '\n' ,)" = "goroutines,OS threads,GOMAXPROCS,num CPU," ] &&
    pass "stats lines as gops" || fail "stats lines: $OUT"
"$CGOPS" stats --json "$P" >"$T/s.json"; validate agent-stats.schema.json "$T/s.json"
[ "$(jq '.goroutines >= 25 and .num_cpu >= 1' "$T/s.json")" = true ] && pass "stats json values" || fail "stats json"

run "$CGOPS" memstats "$P"
expect_rc 0 "memstats"
expect_out_contains "heap-alloc: " "memstats text"
printf '%s\n' "$OUT" | head -n1 | grep -Eq '^alloc: [0-9.]+(bytes|[KMGTP]B \([0-9]+ bytes\))' &&
    pass "memstats size format" || fail "memstats first line: $(printf '%s\n' "$OUT" | head -n1)"
"$CGOPS" memstats "$P" --json >"$T/m.json"; validate agent-memstats.schema.json "$T/m.json"
[ "$(jq '.heap_alloc > 0 and .sys >= .heap_sys and (.enable_gc == true) and (.gc_cpu_fraction | type == "number")' "$T/m.json")" = true ] &&
    pass "memstats json typed and plausible" || fail "memstats json: $(cat "$T/m.json")"

run "$CGOPS" gc "$P"
expect_rc 0 "gc"
expect_out_eq "" "gc prints nothing"
"$CGOPS" gc "$P" --json >"$T/g.json"; validate agent-gc.schema.json "$T/g.json"
n1=$("$CGOPS" memstats "$P" --json | jq .num_forced_gc)
"$CGOPS" gc "$P"
n2=$("$CGOPS" memstats "$P" --json | jq .num_forced_gc)
[ "$n2" -gt "$n1" ] && pass "gc really forced a collection ($n1 -> $n2)" || fail "num_forced_gc $n1 -> $n2"

run "$CGOPS" setgc "$P" 200
expect_out_eq "New GC percent set to 200. Previous value was 100." "setgc 200"
run "$CGOPS" setgc "$P" 200
expect_out_eq "New GC percent set to 200. Previous value was 200." "setgc 200 again"
run "$CGOPS" setgc "$P" off
expect_out_eq "New GC percent set to -1. Previous value was 200." "setgc off"
"$CGOPS" setgc "$P" 100 --json >"$T/sg.json"; validate agent-setgc.schema.json "$T/sg.json"
[ "$(jq -c . "$T/sg.json")" = '{"new":100,"previous":-1}' ] && pass "setgc json" || fail "setgc json $(cat "$T/sg.json")"
run "$CGOPS" setgc "$P" -5
expect_out_eq "New GC percent set to -5. Previous value was 100." "setgc negative value"
# (the runtime stores any negative percent as -1)
"$CGOPS" setgc "$P" -7 --json >"$T/sg2.json"
[ "$(jq -c . "$T/sg2.json")" = '{"new":-7,"previous":-1}' ] && pass "setgc negative value before an option" ||
    fail "setgc -7 --json: $(cat "$T/sg2.json")"
run "$CGOPS" setgc --timeout 5s -- "$P" 100
expect_out_eq "New GC percent set to 100. Previous value was -1." "setgc after --"

# Words after "--" are targets, never dropped.
run "$CGOPS" version "$P" -- "127.0.0.1:$APORT"
expect_rc 0 "targets on both sides of --"
expect_out_eq "==> $P <==
$WANTVER

==> 127.0.0.1:$APORT <==
$WANTVER" "the target after -- is queried"

run "$CGOPS" stack "$P"
expect_rc 0 "stack"
expect_out_contains "main.blockForever(" "stack names the function the fixture blocks in"
c=$(printf '%s\n' "$OUT" | grep -c '^main.blockForever(')
[ "$c" -ge 25 ] && pass "stack shows $c blocked goroutines" || fail "stack blocked goroutines: $c"
"$CGOPS" stack "$P" --json >"$T/st.json"; validate agent-stack.schema.json "$T/st.json"
[ "$(jq '[.[] | select(.state == "chan receive" and .frames[0].function == "main.blockForever" and .created_by.function == "main.main")] | length >= 25' "$T/st.json")" = true ] &&
    pass "stack json goroutines structured" || fail "stack json"

run "$CGOPS" pprof-heap "$P" -o "$T/heap.pb.gz"
expect_rc 0 "pprof-heap"
expect_out_eq "Profile dump saved to: $T/heap.pb.gz" "pprof-heap message"
gzip -t "$T/heap.pb.gz" && pass "heap profile is gzip" || fail "heap profile not gzip"
[ "$(gzip -dc "$T/heap.pb.gz" | wc -c)" -gt 100 ] && pass "heap profile decodes" || fail "heap profile empty"
# -o through a symlink replaces the file it names, whole; into a FIFO the
# profile is streamed in place.
echo old >"$T/real.prof"; chmod 640 "$T/real.prof"; ln -s real.prof "$T/link.prof"
run "$CGOPS" pprof-heap "$P" -o "$T/link.prof"
expect_rc 0 "pprof-heap through a symlink"
[ -L "$T/link.prof" ] && gzip -t "$T/real.prof" && [ "$(stat -c %a "$T/real.prof")" = 640 ] &&
    pass "symlink kept, the file it names holds the profile, mode kept" || fail "-o symlink: $(ls -l "$T"/*.prof)"
mkfifo "$T/fifo"; cat "$T/fifo" >"$T/fifo.out" & CATPID=$!
run "$CGOPS" pprof-heap "$P" -o "$T/fifo"
wait "$CATPID"
expect_rc 0 "pprof-heap into a FIFO"
[ -p "$T/fifo" ] && gzip -t "$T/fifo.out" && pass "profile streamed through a FIFO" || fail "-o FIFO"
run env TMPDIR="$T" "$CGOPS" pprof-heap "$P" --no-launch
f=${OUT#Profile dump saved to: }
case "$f" in "$T"/heap_profile*) [ -s "$f" ] && pass "pprof-heap temp file $f" || fail "temp profile empty" ;;
    *) fail "pprof-heap temp output: $OUT" ;; esac
"$CGOPS" pprof-heap "$P" --json -o "$T/h2" >"$T/hp.json"; validate agent-profile.schema.json "$T/hp.json"
[ "$(jq -r .path "$T/hp.json")" = "$T/h2" ] && [ "$(jq .size "$T/hp.json")" = "$(stat -c %s "$T/h2")" ] &&
    pass "profile json path and size" || fail "profile json"

run "$CGOPS" pprof-cpu "$P" -o "$T/cpu.pb.gz" --binary "$T/bin"
expect_rc 0 "pprof-cpu"
expect_err_eq "Profiling CPU now, will take 30 secs..." "pprof-cpu progress on stderr"
expect_out_eq "Profile dump saved to: $T/cpu.pb.gz
Binary file saved to: $T/bin" "pprof-cpu messages"
gzip -t "$T/cpu.pb.gz" && pass "cpu profile is gzip" || fail "cpu profile"
cmp -s "$T/bin" "$FIXTURES/agentfix" && pass "binary dump equals the executable" || fail "binary dump differs"

# On a terminal with `go` on PATH, gops fetches the binary and starts
# `go tool pprof BINARY PROFILE` / `go tool trace FILE`; a stand-in `go`
# records how it was called.  script(1) gives cgops a real terminal.
mkdir -p "$T/gobin"
printf '#!/bin/sh\necho "$@" > "%s/go.args"\n' "$T" >"$T/gobin/go"
chmod +x "$T/gobin/go"
PATH="$T/gobin:$PATH" TMPDIR="$T" script -qec "'$CGOPS' pprof-heap $P" /dev/null >"$T/tty.out" 2>&1
set -- $(cat "$T/go.args" 2>/dev/null)
[ "${1:-} ${2:-}" = "tool pprof" ] && pass "go tool pprof launched on a terminal" || fail "go not launched: $(cat "$T/tty.out")"
cmp -s "${3:-/nonexistent}" "$FIXTURES/agentfix" && pass "pprof got the fetched binary" || fail "binary arg ${3:-}"
gzip -t "${4:-/nonexistent}" 2>/dev/null && pass "pprof got the profile" || fail "profile arg ${4:-}"
grep -q "Binary file saved to: $T/binary" "$T/tty.out" && pass "binary message" || fail "binary message: $(cat "$T/tty.out")"
rm -f "$T/go.args"
PATH="$T/gobin:$PATH" TMPDIR="$T" script -qec "'$CGOPS' pprof-heap $P --no-launch" /dev/null >"$T/tty.out" 2>&1
[ ! -e "$T/go.args" ] && pass "--no-launch does not start go" || fail "--no-launch started go"
PATH="$T/gobin:$PATH" TMPDIR="$T" script -qec "'$CGOPS' trace $P" /dev/null >"$T/tty.out" 2>&1
set -- $(cat "$T/go.args" 2>/dev/null)
[ "${1:-} ${2:-}" = "tool trace" ] && [ "$(head -c 13 "${3:-/nonexistent}")" = "go 1.19 trace" ] &&
    pass "go tool trace launched with the trace" || fail "trace launch: $(cat "$T/go.args" 2>/dev/null)"

run "$CGOPS" trace "$P" -o "$T/trace.out"
expect_rc 0 "trace"
expect_err_eq "Tracing now, will take 5 secs..." "trace progress"
expect_out_eq "Trace dump saved to: $T/trace.out" "trace message"
[ "$(head -c 14 "$T/trace.out")" = "go 1.19 trace" ] || [ "$(head -c 11 "$T/trace.out")" = "go 1.19 tra" ] &&
    pass "trace has Go's header" || fail "trace header: $(head -c 16 "$T/trace.out" | od -c | head -1)"
finish

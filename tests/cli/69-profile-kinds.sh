#!/bin/bash
# 69-profile-kinds.sh -- `cgops profile` on the profiles a real
# net/http/pprof server serves: httpfix under /admin, fetched over HTTP
# (allocs, goroutine, block, mutex, heap, threadcreate, a 5 s CPU profile,
# a second allocs profile later, and a 2 s delta allocs profile, which
# net/http/pprof re-encodes itself).  For each, the header and the first
# 20 rows are byte-identical to `go tool pprof -top` (heap under all four
# sample indexes), --base of the two allocs profiles (and of heap against
# allocs) is pprof's -base, and --folded sums to pprof's total.  Then the
# fixture's own flags, as tests/fixtures/README.md documents them.
# 67-profile.sh does the same and more (--cum, --top, --focus, --json,
# --svg, broken files) on files runtime/pprof writes directly (proffix).
. "$(dirname "$0")/lib.sh"

command -v go >/dev/null 2>&1 || skip_all "no 'go' on PATH to compare with"
export GOTELEMETRY=off GOFLAGS= HOME="${HOME:-$T}"
P="$T/prof"
mkdir -p "$P"

start_httpfix -prefix /admin || finish
case $HTTPFIX_URL in
http://127.0.0.1:[0-9]*/admin) pass "httpfix serves under $HTTPFIX_URL" ;;
*) fail "httpfix's URL: '$HTTPFIX_URL'" ;;
esac

# fetch NAME PATH: PREFIX/debug/pprof/PATH into $P/NAME.pb.gz, which must
# be a gzipped profile (pprof.Index answers a path it does not see as a
# profile's with its HTML index)
fetch() {
    if ! http_get "$HTTPFIX_URL/debug/pprof/$2" "$P/$1.pb.gz" 2>"$T/get.err"; then
        fail "GET $2: $(cat "$T/get.err")"
    elif [ "$(head -c 2 "$P/$1.pb.gz" | od -An -tx1 | tr -d ' ')" != 1f8b ]; then
        fail "GET $2: not gzip: $(head -c 100 "$P/$1.pb.gz")"
    else
        pass "GET /admin/debug/pprof/$2: a gzipped profile"
    fi
}
fetch allocs allocs
fetch goroutine goroutine
fetch block block
fetch mutex mutex
fetch heap heap
fetch threadcreate threadcreate
fetch cpu "profile?seconds=5"
fetch allocs2 allocs
fetch dallocs "allocs?seconds=2"

# The fixture's work is in them, as go tool pprof reads them.
# has FILE [-sample_index=X] FUNCTION...: each FUNCTION is a row of pprof's -top
has() {
    local f=$1 si= fn rows
    shift
    case ${1:-} in -sample_index=*) si=$1; shift ;; esac
    rows=$( (cd "$P" && go tool pprof -top $si "$f" 2>/dev/null) | sed -n '/^ *flat  flat%/,$p' | awk 'NR > 1 { print $NF }')
    for fn in "$@"; do
        printf '%s\n' "$rows" | grep -qxF "$fn" && pass "$f${si:+ $si}: go tool pprof shows $fn" ||
            fail "$f${si:+ $si}: no $fn row in go tool pprof -top"
    done
}
(cd "$P" && go tool pprof -top goroutine.pb.gz 2>/dev/null) >"$T/g.top"
parked=$(awk '$6 == "main.parkMany" { print $4 }' "$T/g.top")
[ "$parked" = 50 ] && pass "goroutine: 50 in main.parkMany" || fail "goroutine: main.parkMany cum '$parked', want 50"
has cpu.pb.gz main.spinBusy
has block.pb.gz main.blockRecv main.contendMutex
has mutex.pb.gz main.contendMutex
has heap.pb.gz -sample_index=inuse_space main.allocSmall main.allocBig
has heap.pb.gz -sample_index=alloc_space main.allocSmall main.allocBig main.churn
has allocs2.pb.gz main.allocSmall main.allocBig main.churn

# cgops against pprof: the header and the first 20 rows.
export SAME_ROWS=20
for k in allocs goroutine block mutex heap threadcreate cpu allocs2 dallocs; do
    same "$k" "$P/$k.pb.gz" -top "$k.pb.gz"
done
for si in inuse_space inuse_objects alloc_space alloc_objects; do
    same "heap --sample-index $si" "$P/heap.pb.gz --sample-index $si" -top -sample_index=$si heap.pb.gz
    same "delta allocs --sample-index $si" "$P/dallocs.pb.gz --sample-index $si" -top -sample_index=$si dallocs.pb.gz
done
same "allocs --base" "$P/allocs2.pb.gz --base $P/allocs.pb.gz" -top -base allocs.pb.gz allocs2.pb.gz
same "allocs --base, inuse_space" "$P/allocs2.pb.gz --base $P/allocs.pb.gz --sample-index inuse_space" \
    -top -sample_index=inuse_space -base allocs.pb.gz allocs2.pb.gz
same "allocs --base reversed" "$P/allocs.pb.gz --base $P/allocs2.pb.gz" -top -base allocs2.pb.gz allocs.pb.gz
# A heap profile names no default sample type, an allocs profile does:
# pprof's merge takes the first set, so alloc_space.
same "heap --base allocs" "$P/heap.pb.gz --base $P/allocs.pb.gz" -top -base allocs.pb.gz heap.pb.gz
same "cpu --cum" "$P/cpu.pb.gz --cum" -top -cum cpu.pb.gz
unset SAME_ROWS

# --folded: every line STACK VALUE, the values summing to pprof's total of
# the default sample index (of the one asked for the delta profile).
for spec in "allocs B" "goroutine" "block ns" "mutex ns" "heap B" "threadcreate" "cpu ns" \
    "allocs2 B" "dallocs B alloc_space"; do
    set -- $spec
    folded_check "$1.pb.gz" "${2:-}" "${3:-}"
done

# The fixture itself: the index under the prefix, nothing outside it,
# /debug/vars and -sched-vars, -no-expvar, -tls, -agent, -stdin-exit.
http_get "$HTTPFIX_URL/debug/pprof/" "$T/index" && grep -q "href='allocs?debug=1'" "$T/index" &&
    pass "the index page under the prefix" || fail "no index page under /admin"
http_get "${HTTPFIX_URL%/admin}/debug/pprof/heap" "$T/x" 2>"$T/get.err"
[ $? -ne 0 ] && grep -q 404 "$T/get.err" && pass "nothing outside the prefix (404)" ||
    fail "outside the prefix: $(cat "$T/get.err")"
http_get "$HTTPFIX_URL/debug/vars" "$T/vars" && jq -e '.memstats.HeapAlloc > 0 and (has("GOMAXPROCS") | not)' "$T/vars" >/dev/null &&
    pass "/admin/debug/vars: expvar's memstats, no GOMAXPROCS without -sched-vars" || fail "/debug/vars: $(head -c 200 "$T/vars")"
kill "$HTTPFIX_PID"
mkdir -p "$T/tls"
start_httpfix -tls "$T/tls" -no-expvar -sched-vars -agent -park 3 || finish
case $HTTPFIX_URL in
https://127.0.0.1:[0-9]*[0-9]) pass "-tls: $HTTPFIX_URL" ;;
*) fail "-tls: URL '$HTTPFIX_URL'" ;;
esac
http_get "$HTTPFIX_URL/debug/pprof/goroutine?debug=1" "$T/gr" && grep -q '^goroutine profile: total' "$T/gr" &&
    pass "-tls: served over HTTPS, trusted with DIR/cert.pem" || fail "-tls: no goroutine profile"
HTTPFIX_CA= http_get "$HTTPFIX_URL/debug/pprof/cmdline" "$T/x" 2>"$T/get.err"
[ $? -ne 0 ] && grep -qi "certificate verify failed" "$T/get.err" && pass "-tls: not trusted without cert.pem" ||
    fail "-tls: without cert.pem: $(cat "$T/get.err")"
http_get "$HTTPFIX_URL/debug/vars" "$T/x" 2>"$T/get.err"
grep -q 404 "$T/get.err" && pass "-no-expvar: 404" || fail "-no-expvar: $(cat "$T/get.err")"
[ -n "$HTTPFIX_PORTFILE" ] && [ "$(cat "$HTTPFIX_PORTFILE" 2>/dev/null)" = "$HTTPFIX_PORT" ] &&
    pass "-agent: port file $HTTPFIX_PORTFILE names port $HTTPFIX_PORT" || fail "-agent: no port file ('$HTTPFIX_PORTFILE')"
run "$CGOPS" stats "$HTTPFIX_PID"
expect_rc 0 "-agent: cgops stats through the agent"
expect_out_contains "goroutines:" "-agent: the agent answers"
kill -TERM "$HTTPFIX_PID"
for _ in $(seq 100); do [ -e "$HTTPFIX_PORTFILE" ] || break; sleep 0.1; done
[ -e "$HTTPFIX_PORTFILE" ] && fail "SIGTERM left the port file" || pass "SIGTERM: the port file is removed"
start_httpfix -sched-vars -busy 0 -park 0 || finish
http_get "$HTTPFIX_URL/debug/vars" "$T/vars" &&
    jq -e '(.GOMAXPROCS | type == "number" and . > 0) and (.NumCPU | type == "number" and . > 0)' "$T/vars" >/dev/null &&
    pass "-sched-vars: GOMAXPROCS and NumCPU are numbers" || fail "-sched-vars: $(head -c 200 "$T/vars")"
kill "$HTTPFIX_PID"
# -stdin-exit: stdin a FIFO whose only writer is a sleep; killing it
# closes stdin.  (start_httpfix cannot: bash gives a background command
# /dev/null for stdin unless the command redirects it itself.)
mkfifo "$T/stdin"
sleep 600 >"$T/stdin" &
writer=$!
STARTED="$STARTED $writer"
start_fixture -n "httpfix -stdin-exit" sh -c 'exec "$0" -stdin-exit -busy 0 -park 0 <"$1"' "$FIXTURES/httpfix" "$T/stdin" || finish
kill -0 "$BGPID" 2>/dev/null && pass "-stdin-exit: runs while stdin is open" || fail "-stdin-exit: ended with stdin open"
kill "$writer"
for _ in $(seq 100); do
    case $(awk '{print $3}' "/proc/$BGPID/stat" 2>/dev/null) in "" | Z | X) break ;; esac
    sleep 0.1
done
wait "$BGPID" 2>/dev/null
kill -0 "$BGPID" 2>/dev/null && fail "-stdin-exit: still runs 10 s after stdin closed" ||
    pass "-stdin-exit: exits when stdin closes"

finish

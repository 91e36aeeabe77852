#!/bin/bash
# 71-http-hostile.sh -- HTTP targets that misbehave (tests/helpers/httpsrv.py,
# a real server): errors, silence, redirect loops, 1 GB bodies, garbage, and
# expvar documents, heap trailers and debug=1 profiles that lie.  Every case:
# a clear message, exit 1, no crash, no hang, memory bounded.
. "$(dirname "$0")/lib.sh"

F=$T/files
mkdir -p "$F"
start_fixture -n httpsrv /usr/bin/python3 "$CGOPS_SRC/tests/helpers/httpsrv.py" --forever --files "$F" || finish
set -- $READY
H=http://127.0.0.1:$2
G=1000000000

# Every command that reads an HTTP target, as "NAME ARGS" (the base URL last).
CMDS="stack|stats|memstats|gc|pprof-heap --no-launch -o $T/p.out|pprof-allocs --no-launch -o $T/p.out"
CMDS="$CMDS|pprof-block --no-launch -o $T/p.out|pprof-mutex --no-launch -o $T/p.out"
CMDS="$CMDS|pprof-goroutine --no-launch -o $T/p.out|pprof-threadcreate --no-launch -o $T/p.out"
CMDS="$CMDS|pprof-cpu --seconds 1 --no-launch -o $T/p.out|trace --seconds 1 --no-launch -o $T/p.out"

# each_cmd BASE WANT WHAT [TIMEOUT]: every command against BASE (and
# `cgops profile BASE heap`) exits 1 within TIMEOUT (default 30) seconds,
# leaves no -o file, and says WANT on stderr
each_cmd() {
    local base=$1 want=$2 what=$3 bound=${4:-30} c
    local IFS='|'
    for c in $CMDS "profile"; do
        rm -f "$T/p.out"
        IFS=' '
        if [ "$c" = profile ]; then
            # shellcheck disable=SC2086
            run timeout "$bound" "$CGOPS" profile ${PROFILE_OPTS:-} "$base" heap
        else
            # shellcheck disable=SC2086
            run timeout "$bound" "$CGOPS" $c "$base"
        fi
        IFS='|'
        if [ "$RC" = 1 ] && [ ! -e "$T/p.out" ]; then
            case $ERR in
            *"$want"*) pass "$what: ${c%% *}: exit 1, '$want'" ;;
            *) fail "$what: ${c%% *}: stderr lacks '$want': $ERR" ;;
            esac
        else
            fail "$what: ${c%% *}: exit $RC$([ -e "$T/p.out" ] && echo ", -o file left"): $ERR"
        fi
        case $ERR in *AddressSanitizer* | *"runtime error"*) fail "$what: ${c%% *}: sanitizer: $ERR" ;; esac
    done
}

# ---- HTTP errors, garbage, redirect loops --------------------------------
each_cmd "$H/m/404" "HTTP 404 Not Found from /m/404/debug/" "404"
each_cmd "$H/m/404" ": No such page" "404 (body's first line, tags dropped)"
each_cmd "$H/m/500" "HTTP 500 Internal Server Error from /m/500/debug/" "500"
each_cmd "$H/m/500" ": first line: database ?[31mdown? ??" "500 (body's first line, made printable)"
each_cmd "$H/m/garbage" "not an HTTP reply" "garbage"
each_cmd "$H/m/loop" "more than 5 redirects" "redirect loop"
CMDS=$(printf '%s' "$CMDS" | sed 's/|/ --timeout 2|/g; s/$/ --timeout 2/') PROFILE_OPTS="--timeout 2"
each_cmd "$H/m/hang" "no complete reply within 2s" "hang, --timeout 2" 15

# The default bounds (request.c), all at once: a silent server holds no
# command for longer than its idle bound (10 s, 11 s for a 1 s profile).
pids=
for c in stats memstats gc "pprof-heap --no-launch -o $T/d.out" "pprof-cpu --seconds 1 --no-launch -o $T/d2.out"; do
    n=$(printf '%s' "$c" | tr -c 'a-z0-9\n' _)
    # shellcheck disable=SC2086
    (timeout 40 "$CGOPS" $c "$H/m/hang" >"$T/def.$n.out" 2>"$T/def.$n.err"; echo $? >"$T/def.$n.rc") &
    pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
for c in stats memstats gc "pprof-heap --no-launch -o $T/d.out" "pprof-cpu --seconds 1 --no-launch -o $T/d2.out"; do
    n=$(printf '%s' "$c" | tr -c 'a-z0-9\n' _)
    rc=$(cat "$T/def.$n.rc")
    if [ "$rc" = 1 ] && grep -q "no data for 1[01]s" "$T/def.$n.err"; then
        pass "default bound: ${c%% *} against a silent server: $(cat "$T/def.$n.err")"
    else
        fail "default bound: ${c%% *}: exit $rc (124: still running after 40 s): $(cat "$T/def.$n.err")"
    fi
done

# Header lines that look like status lines: no overflow (UBSan aborts on
# one), and a 302 is not taken for a 200, so the cross-host check holds.
run "$CGOPS" stack "$H/m/fakestatus"
expect_rc 1 "stack: a header line 'HTTP/1.1 999...9'"
expect_err_contains "malformed goroutine dump" "stack: a header line 'HTTP/1.1 999...9': the body judged"
case $ERR in *"runtime error"* | *Sanitizer*) fail "fake status line: $ERR" ;; *) pass "fake status line: no undefined behaviour" ;; esac
run "$CGOPS" stack -H 'X-Api-Key: k3y' "$H/m/fakeredirect"
expect_rc 1 "stack -H: a 302 with a fake 'HTTP/1.1 200' header line"
expect_err_contains "to another host refused" "stack -H: the cross-host redirect is still refused"

# ---- 1 GB bodies: each stops at its rule; memory stays small -------------
# Under AddressSanitizer (shadow memory, freed blocks held in quarantine)
# the same work takes more: the bounds double there.
ASAN=1
grep -q __asan_init "$CGOPS" 2>/dev/null && ASAN=2
bounded() { # MAXKB WANT WHAT CMD...
    local max=$(($1 * ASAN)) want=$2 what=$3
    shift 3
    peak_rss timeout 120 "$@"
    ERR=$(cat "$T/peak.err")
    if [ "$RC" = 1 ] && [ "$PEAK" -le "$max" ]; then
        case $ERR in
        *"$want"*) pass "$what: exit 1 with '$want', peak RSS $PEAK KiB" ;;
        *) fail "$what: stderr lacks '$want': $ERR" ;;
        esac
    else
        fail "$what: exit $RC, peak RSS $PEAK KiB (at most $max): $ERR"
    fi
}
bounded 65536 "larger than the Go runtime's 64 MiB limit" "stack of 1 GB" "$CGOPS" stack "$H/m/bigstack/$G"
bounded 65536 "/debug/vars larger than 16 MiB" "memstats of 1 GB" "$CGOPS" memstats "$H/m/big/$G"
bounded 65536 "is longer than a profile's header" "stats of 1 GB" "$CGOPS" stats "$H/m/big/$G"
bounded 65536 "is not a gzip-compressed profile" "pprof-heap of 1 GB of text" "$CGOPS" pprof-heap --no-launch -o "$T/p.out" "$H/m/big/$G"
bounded 65536 "malformed goroutine dump" "stack of an endless body of text" "$CGOPS" stack --timeout 30 "$H/m/endless/x"
bounded 65536 "/debug/vars larger than 16 MiB" "memstats of an endless body" "$CGOPS" memstats --timeout 30 "$H/m/endless/x"
# The target appears once in a message, not once per layer.
run "$CGOPS" memstats "$H/m/big/$G"
[ "$(printf '%s\n' "$ERR" | grep -o "$H/m/big/$G" | wc -l)" = 1 ] && pass "memstats of 1 GB: the target named once" ||
    fail "memstats of 1 GB: $ERR"
run "$CGOPS" stats "$H/m/big/$G"
[ "$(printf '%s\n' "$ERR" | grep -o "$H/m/big/$G" | wc -l)" = 1 ] && pass "stats of 1 GB: the target named once" ||
    fail "stats of 1 GB: $ERR"
# A gzip header followed by 1 GB of junk is a profile as far as the first
# bytes tell: saved whole (as gops does), in bounded memory, and then
# refused by the decoder when read here.
peak_rss timeout 120 "$CGOPS" pprof-heap --no-launch -o "$T/gz.out" "$H/m/gzbig/$G"
[ "$RC" = 0 ] && [ "$PEAK" -le $((65536 * ASAN)) ] && pass "pprof-heap of a 1 GB gzip of junk: saved with peak RSS $PEAK KiB" ||
    fail "pprof-heap gzbig: exit $RC, peak $PEAK KiB: $(cat "$T/peak.err")"
rm -f "$T/gz.out"
run env PATH=/nonexistent "$CGOPS" pprof-heap -o "$T/gz.out" "$H/m/gzbig/100000"
expect_rc 1 "pprof-heap of gzip junk without go (the top table cannot be made)"
expect_err_contains "gzip:" "pprof-heap of gzip junk without go: says gzip"
rm -f "$T/gz.out"
# cgops profile reads a fetched profile whole (PROFILE_MAX_FILE, 1 GiB):
# memory is bounded by that, and the temp file is removed.
tmpd=$T/tmpdir
mkdir -p "$tmpd"
peak_rss env TMPDIR="$tmpd" timeout 120 "$CGOPS" profile "$H/m/gzbig/$G/debug/pprof/heap"
ERR=$(cat "$T/peak.err")
[ "$RC" = 1 ] && [ "$PEAK" -le $(((1100 + 300 * (ASAN - 1)) * 1024)) ] && pass "profile of a 1 GB gzip of junk: exit 1 ($ERR), peak RSS $PEAK KiB" ||
    fail "profile gzbig: exit $RC, peak $PEAK KiB: $ERR"
case $ERR in
"cgops: $H/m/gzbig/$G/debug/pprof/heap: gzip: "*) pass "profile URL: the message names the URL, not a removed temp file" ;;
*) fail "profile URL: message '$ERR'" ;;
esac
peak_rss env TMPDIR="$tmpd" timeout 120 "$CGOPS" profile "$H/m/gzbomb/$G" heap
ERR=$(cat "$T/peak.err")
[ "$RC" = 1 ] && [ "$PEAK" -le $((65536 * ASAN)) ] && pass "profile of a gzip bomb (1 GB of zeros): exit 1, peak RSS $PEAK KiB: $ERR" ||
    fail "profile gzip bomb: exit $RC, peak $PEAK KiB: $ERR"
case $ERR in "cgops: $H/m/gzbomb/$G heap: "*) pass "profile TARGET KIND: the message names them" ;; *) fail "profile TARGET KIND: '$ERR'" ;; esac
[ -z "$(ls -A "$tmpd")" ] && pass "profile: no temp file left" || fail "profile left $(ls "$tmpd")"

# A signal while cgops profile waits for a profile leaves no temp file.
tmpk=$T/tmpkill
mkdir -p "$tmpk"
TMPDIR=$tmpk "$CGOPS" profile "$H/m/hang" heap >/dev/null 2>&1 &
cg=$!
i=0
while [ $i -lt 100 ] && [ -z "$(ls -A "$tmpk")" ]; do sleep 0.1; i=$((i + 1)); done
[ -n "$(ls -A "$tmpk")" ] && pass "profile: its temp file exists while it waits" || fail "profile made no temp file in TMPDIR"
kill -TERM "$cg"
wait "$cg"
rc=$?
[ "$rc" = 143 ] && [ -z "$(ls -A "$tmpk")" ] && pass "profile killed by SIGTERM while fetching: no temp file left" ||
    fail "profile killed by SIGTERM: exit $rc, left: $(ls "$tmpk")"

# ---- empty 200 replies -------------------------------------------------------
mkdir -p "$F/empty/debug/pprof"
for f in "goroutine@debug=2" "goroutine@debug=1" heap "heap@debug=1" allocs; do : >"$F/empty/debug/pprof/$f"; done
: >"$F/empty/debug/vars"
run "$CGOPS" stack "$H/f/empty"
expect_rc 1 "stack of an empty 200"
expect_err_eq "cgops: $H/f/empty: the server sent an empty body for stack" "stack of an empty 200: no agent in the message"
run "$CGOPS" stack --json "$H/f/empty"
expect_rc 1 "stack --json of an empty 200"
[ "$(printf '%s' "$OUT" | jq -r .error)" = "$H/f/empty: the server sent an empty body for stack" ] &&
    pass "stack --json of an empty 200: the error" || fail "stack --json of an empty 200: $OUT"
run "$CGOPS" stats "$H/f/empty"
expect_rc 1 "stats of an empty 200"
expect_err_eq "cgops: $H/f/empty: /debug/pprof/goroutine?debug=1 does not start as a debug=1 profile ('NAME profile: total N')" \
    "stats of an empty 200: the path, the target once"
run "$CGOPS" pprof-heap --no-launch -o "$T/p.out" "$H/f/empty"
expect_rc 1 "pprof-heap of an empty 200"
expect_err_contains "the server sent an empty body" "pprof-heap of an empty 200: says so"
[ ! -e "$T/p.out" ] && pass "pprof-heap of an empty 200: no file" || fail "pprof-heap of an empty 200 left -o"
run "$CGOPS" memstats "$H/f/empty"
expect_rc 1 "memstats of empty 200s"
expect_err_contains "/debug/vars is not a JSON object" "memstats of empty 200s: says why expvar did not do"
expect_err_contains "has no runtime.MemStats trailer" "memstats of empty 200s: and why the trailer did not"

# ---- expvar documents that lie ----------------------------------------------
# Each case is a directory served under /f/CASE; no heap profile there, so
# memstats has only /debug/vars to go on.
GOOD='"Alloc":1,"TotalAlloc":2,"Sys":3,"Lookups":0,"Mallocs":4,"Frees":5,"HeapAlloc":1,"HeapSys":7,"HeapIdle":8,"HeapInuse":9,"HeapReleased":1,"HeapObjects":2,"StackInuse":3,"StackSys":4,"MSpanInuse":5,"MSpanSys":6,"MCacheInuse":7,"MCacheSys":8,"BuckHashSys":9,"GCSys":1,"OtherSys":2,"NextGC":3,"LastGC":0,"PauseTotalNs":0,"NumGC":0,"NumForcedGC":0,"GCCPUFraction":0,"EnableGC":true,"DebugGC":false'
vars_case() { # NAME JSON
    mkdir -p "$F/$1/debug"
    printf '%s\n' "$2" >"$F/$1/debug/vars"
}
vars_case good "{\"memstats\": {$GOOD}}"
vars_case string "{\"memstats\": {${GOOD/\"Sys\":3/\"Sys\":\"3\"}}}"
vars_case negative "{\"memstats\": {${GOOD/\"Sys\":3/\"Sys\":-3}}}"
vars_case two64 "{\"memstats\": {${GOOD/\"Sys\":3/\"Sys\":18446744073709551616}}}"
vars_case numgc32 "{\"memstats\": {${GOOD/\"NumGC\":0/\"NumGC\":4294967296}}}"
vars_case float "{\"memstats\": {${GOOD/\"Sys\":3/\"Sys\":3.5}}}"
vars_case cpufrac "{\"memstats\": {${GOOD/\"GCCPUFraction\":0/\"GCCPUFraction\":1e999}}}"
vars_case pause300 "{\"memstats\": {$GOOD,\"PauseNs\":[$(seq -s, 1 300)]}}"
vars_case nullms '{"memstats": null}'
vars_case notjson '<html><body>expvar is off</body></html>'
vars_case trailing "{\"memstats\": {$GOOD}} {\"x\":"
vars_case deep "{\"a\":$(printf '[%.0s' $(seq 1 500))$(printf ']%.0s' $(seq 1 500)),\"memstats\": {$GOOD}}"
vars_case deeper "{\"a\":$(printf '[%.0s' $(seq 1 100000))$(printf ']%.0s' $(seq 1 100000)),\"memstats\": {$GOOD}}"

run "$CGOPS" memstats "$H/f/good"
expect_rc 0 "memstats of a small well-formed expvar"
expect_out_contains "sys: 3 bytes" "memstats of a small expvar: sys"
expect_out_contains "last-gc: -" "memstats: LastGC 0 is '-'"
for c in string negative two64 numgc32 float cpufrac pause300; do
    run timeout 30 "$CGOPS" memstats "$H/f/$c"
    expect_rc 1 "memstats, expvar with a bad value ($c)"
    expect_err_contains "malformed memstats in /debug/vars" "memstats ($c): the message says what is wrong with /debug/vars"
    expect_err_contains "HTTP 404 Not Found from /f/$c/debug/pprof/heap?debug=1" "memstats ($c): and that the trailer is not there"
done
for c in nullms notjson trailing; do
    run timeout 30 "$CGOPS" memstats "$H/f/$c"
    expect_rc 1 "memstats, expvar that is not one ($c)"
    case $ERR in *"/debug/vars"*) pass "memstats ($c): names /debug/vars: $ERR" ;; *) fail "memstats ($c): $ERR" ;; esac
done
run timeout 30 "$CGOPS" memstats "$H/f/deep"
expect_rc 0 "memstats: 500 nested arrays beside memstats"
expect_out_contains "sys: 3 bytes" "memstats: 500 nested arrays: the values"
# Deeper than cJSON's nesting limit (1000): refused, as cJSON refuses it.
run timeout 30 "$CGOPS" memstats "$H/f/deeper"
expect_rc 1 "memstats: 100000 nested arrays"
expect_err_contains "/debug/vars is not a JSON object" "memstats: 100000 nested arrays: says so"
# A 16 MiB expvar of "[0,0,0,...]": checked without building a tree.
bounded 102400 "no memstats" "memstats of a 16 MB JSON array" "$CGOPS" memstats "$H/m/jsonbomb/16000000"
peak_rss timeout 60 "$CGOPS" stats "$H/m/jsonbomb/16000000"
[ "$PEAK" -le $((102400 * ASAN)) ] && pass "stats with a 16 MB expvar: peak RSS $PEAK KiB" || fail "stats jsonbomb: peak $PEAK KiB"

# ---- heap trailers and debug=1 first lines that lie -----------------------
heap_case() { # NAME TEXT
    mkdir -p "$F/$1/debug/pprof"
    printf '%s' "$2" >"$F/$1/debug/pprof/heap@debug=1"
}
heap_case notrailer 'heap profile: 1: 2 [3: 4] @ heap/1048576
'
heap_case badvalue 'heap profile: 1: 2 [3: 4] @ heap/1048576

# runtime.MemStats
# Alloc = x
# Sys = 5
'
heap_case badstack 'heap profile: 1: 2 [3: 4] @ heap/1048576

# runtime.MemStats
# Alloc = 1
# Sys = 5
# Stack = 5 /
'
heap_case shortpause "heap profile: 1: 2 [3: 4] @ heap/1048576

# runtime.MemStats
# Alloc = 1
# Sys = 5
# PauseNs = [1 2 3]
"
heap_case noalloc 'heap profile: 1: 2 [3: 4] @ heap/1048576

# runtime.MemStats
# Sys = 5
'
heap_case noise "heap profile: 1: 2 [3: 4] @ heap/1048576

# runtime.MemStats
# Alloc = 1
# Sys = 5
garbage line
"
for c in badvalue badstack shortpause noise; do
    run timeout 30 "$CGOPS" memstats "$H/f/$c"
    expect_rc 1 "memstats, malformed trailer ($c)"
    expect_err_contains "malformed runtime.MemStats trailer" "memstats ($c): says the trailer is malformed"
done
run timeout 30 "$CGOPS" memstats "$H/f/notrailer"
expect_rc 1 "memstats, heap profile without a trailer"
expect_err_contains "has no runtime.MemStats trailer" "memstats (no trailer): says so"
run timeout 30 "$CGOPS" memstats "$H/f/noalloc"
expect_rc 1 "memstats, trailer without Alloc"
expect_err_contains "no Alloc or Sys" "memstats (no Alloc): says so"

line_case() { # NAME GOROUTINE-FIRST-LINE [THREADCREATE-FIRST-LINE]
    mkdir -p "$F/$1/debug/pprof"
    printf '%s\n1 @ 0x1\n' "$2" >"$F/$1/debug/pprof/goroutine@debug=1"
    printf '%s\n1 @\n' "${3:-threadcreate profile: total 7}" >"$F/$1/debug/pprof/threadcreate@debug=1"
}
line_case okline 'goroutine profile: total 12'
line_case wrongname 'heap profile: total 12'
line_case negative 'goroutine profile: total -1'
line_case huge 'goroutine profile: total 99999999999999999999999'
line_case words 'goroutine profile: total twelve'
line_case noline ''
line_case badthreads 'goroutine profile: total 12' 'threadcreate profile: total 7 extra'
run "$CGOPS" stats "$H/f/okline"
expect_rc 0 "stats of well-formed debug=1 lines"
expect_out_eq "goroutines: 12
OS threads: 7" "stats: the totals of the first lines"
for c in wrongname negative huge words noline badthreads; do
    run timeout 30 "$CGOPS" stats "$H/f/$c"
    expect_rc 1 "stats, debug=1 first line that lies ($c)"
    expect_err_contains "does not start as a debug=1 profile" "stats ($c): says so"
done

# ---- options that are wrong ------------------------------------------------
run "$CGOPS" stats -H 'no colon' "$H/f/okline"
expect_rc 2 "-H without a colon"
expect_err_contains "cgops: -H: bad header" "-H without a colon: says so"
expect_out_lacks "-H: -H" "-H message"
case $ERR in *"-H: -H"*) fail "-H: the option is named twice: $ERR" ;; *) pass "-H: the option named once" ;; esac
run "$CGOPS" pprof-heap -H "@$T/nonexistent" "$H/f/okline"
expect_rc 2 "-H @missing"
case $ERR in *"-H: -H"*) fail "-H @FILE: the option is named twice: $ERR" ;; *"No such file"*) pass "-H @missing: says so" ;; *) fail "-H @missing: $ERR" ;; esac
# A malformed line of a token file is not echoed: the secret stays off
# stderr (and so off CI logs) as it stays off ps.
printf 'Authorization Bearer s3cret-tok\n' >"$T/tok1"
printf 's3cret-tok-only\n' >"$T/tok2"
printf 'X-Token: s3cret-tok\001\n' >"$T/tok3"
for f in tok1 tok2 tok3; do
    run "$CGOPS" stats -H "@$T/$f" "$H/f/okline"
    expect_rc 2 "-H @FILE with a malformed line ($f)"
    case $ERR in
    *s3cret*) fail "-H @FILE ($f): the secret is in the message: $ERR" ;;
    *"bad header"*) pass "-H @FILE ($f): refused without quoting the secret: $ERR" ;;
    *) fail "-H @FILE ($f): $ERR" ;;
    esac
done
# A percent-encoded host decodes to bytes nobody typed: refused.
run "$CGOPS" stats 'http://a%99b:1/x'
expect_rc 1 "a host with a percent-encoded byte"
expect_err_contains "bad host name" "a host with a percent-encoded byte: says so"
# "12%30" decodes to "120", which is the address 0.0.0.120 to curl.
run "$CGOPS" stats 'http://12%30:1/x'
expect_rc 1 "a host with a percent-encoded digit"
expect_err_contains "bad host name (percent-encoded)" "a host with a percent-encoded digit: says so"
mkfifo "$T/fifo"
run timeout 10 "$CGOPS" stats -H "@$T/fifo" "$H/f/okline"
expect_rc 2 "-H @FIFO: refused without waiting for a writer"
run "$CGOPS" pprof-cpu --seconds 0 "$H/f/okline"
expect_rc 2 "--seconds 0"
run "$CGOPS" pprof-cpu --seconds 99999999999 "$H/f/okline"
expect_rc 2 "--seconds too large"
run "$CGOPS" pprof-heap --seconds 5 "$H/f/okline"
expect_rc 2 "--seconds on pprof-heap"
# --seconds where it means nothing is refused, as pprof-heap refuses it.
run "$CGOPS" profile --seconds 5 "$H/f/okline" heap
expect_rc 1 "profile TARGET heap --seconds"
expect_err_contains "--seconds is for a CPU profile" "profile TARGET heap --seconds: says so"
run "$CGOPS" profile --seconds 5 "$H/f/okline/debug/pprof/goroutine"
expect_rc 1 "profile URL/goroutine --seconds"
: >"$T/some.pb.gz"
run "$CGOPS" profile --seconds 5 "$T/some.pb.gz"
expect_rc 1 "profile FILE --seconds"
expect_err_contains "--seconds is for a CPU profile" "profile FILE --seconds: says so"
run "$CGOPS" profile "$H/debug/pprof/heap?gc=1"
expect_rc 1 "profile URL with an unknown query"
run "$CGOPS" profile "$H/debug/pprof/cmdline"
expect_rc 1 "profile URL of a non-profile endpoint"
run "$CGOPS" pprof-heap --binary "$T/bin" "$H/f/okline"
expect_rc 2 "--binary with an HTTP target"

finish

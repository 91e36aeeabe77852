#!/bin/bash
# 70-http-targets.sh -- every command of issue 10's table against httpfix, a
# real net/http/pprof and expvar server, checked against what the server
# itself says when asked directly (python's urllib, go tool pprof), never
# against cgops' own output.
. "$(dirname "$0")/lib.sh"

command -v go >/dev/null || skip_all "no go: the fixtures and go tool pprof need Debian's golang-go"
GOBIN_DIR=$(dirname "$(readlink -f "$(command -v go)")")

# py: a python3 snippet with ARGS
py() {
    local code=$1
    shift
    /usr/bin/python3 -c "$code" "$@"
}

# expvar KEY FILE: memstats[KEY] (or the top-level KEY) of a /debug/vars file
expvar() {
    py 'import json, sys
d = json.load(open(sys.argv[2]))
print(d["memstats"][sys.argv[1]] if sys.argv[1] in d["memstats"] else d[sys.argv[1]])' "$1" "$2"
}

# trailer KEY FILE: "# KEY = N" of a heap?debug=1 file
trailer() {
    sed -n "s/^# $1 = //p" "$2" | tail -n 1
}

# between LO X HI WHAT
between() {
    if [ -n "$2" ] && [ "$1" -le "$2" ] && [ "$2" -le "$3" ]; then
        pass "$4: $1 <= $2 <= $3"
    else
        fail "$4: '$2' not within $1..$3"
    fi
}

# memstats_value KEY: the exact count of KEY in $OUT ("1.00KB (1024 bytes)"
# -> 1024, "12 bytes" -> 12, "when heap-alloc >= ..." likewise, "5" -> 5)
memstats_value() {
    printf '%s\n' "$OUT" | sed -n "s/^$1: //p" | sed -E 's/.*\(([0-9]+) bytes\)$/\1/; s/^(when heap-alloc >= )?([0-9]+) bytes$/\2/'
}

# check_sizes: every SIZE line of $OUT is written as PROTOCOL.md 4.1 says,
# recomputed here from its exact count
check_sizes() {
    if printf '%s\n' "$OUT" | py 'import re, sys
bad = []
n = 0
for line in sys.stdin:
    k, _, v = line.rstrip("\n").partition(": ")
    if k in ("lookups", "mallocs", "frees", "heap-objects", "num-gc", "num-forced-gc", "gc-pause",
             "gc-pause-end", "last-gc", "gc-pause-total", "gc-cpu-fraction", "enable-gc", "debug-gc"):
        continue
    if k == "next-gc":
        v = v.removeprefix("when heap-alloc >= ")
    m = re.fullmatch(r"(\d+) bytes|(\d+\.\d\d)([KMGTP]B) \((\d+) bytes\)", v)
    if not m:
        bad.append(line)
        continue
    count = int(m.group(1) or m.group(4))
    if count < 1024:
        want = "%d bytes" % count
    else:
        x, unit = float(count), ""
        for u in ("KB", "MB", "GB", "TB", "PB"):
            if x < 1024:
                break
            x /= 1024
            unit = u
        want = "%.2f%s (%d bytes)" % (x, unit, count)
    if v != want:
        bad.append("%s (want %s)" % (line.strip(), want))
    n += 1
if bad or n < 10:
    sys.exit("%d sizes; bad: %s" % (n, bad))'; then
        pass "$1: every SIZE written as PROTOCOL.md 4.1 says"
    else
        fail "$1: SIZE format"
    fi
}

# ---- stack, stats, memstats, gc over plain HTTP under a prefix -----------
# GOMAXPROCS=3 in its environment: a value the runtime takes from there,
# not from the machine, so "GOMAXPROCS: 3" can only come from the program.
GOMAXPROCS=3 start_httpfix -prefix /admin -sched-vars -park 37 -busy 5 || finish
U=$HTTPFIX_URL
case $U in http://127.0.0.1:*/admin) pass "httpfix URL $U" ;; *) fail "httpfix URL '$U'" ;; esac

# stack: the server's own debug=2 dump, fetched before and after
http_get "$U/debug/pprof/goroutine?debug=2" "$T/g2a.txt" || fail "fetch goroutine?debug=2"
run "$CGOPS" stack "$U"
expect_rc 0 "stack over HTTP"
http_get "$U/debug/pprof/goroutine?debug=2" "$T/g2b.txt" || fail "fetch goroutine?debug=2"
first=$(printf '%s\n' "$OUT" | head -n 1)
case $first in "goroutine "[0-9]*" ["*"]:") pass "stack starts as the runtime's dump: $first" ;; *) fail "stack starts with '$first'" ;; esac
for f in parkMany contendMutex blockRecv blockSend; do
    want=$(grep -c "^main\.$f(" "$T/g2a.txt")
    want2=$(grep -c "^main\.$f(" "$T/g2b.txt")
    got=$(printf '%s\n' "$OUT" | grep -c "^main\.$f(")
    if [ "$want" = "$want2" ] && [ "$got" = "$want" ] && [ "$want" -gt 0 ]; then
        pass "stack: $got goroutines in main.$f, as the server's own dump"
    else
        fail "stack: main.$f: cgops $got, server $want then $want2"
    fi
done
[ "$(printf '%s\n' "$OUT" | grep -c '^main\.parkMany(')" = 37 ] && pass "stack: the 37 parked goroutines (-park 37)" ||
    fail "stack: not 37 main.parkMany"
na=$(grep -c '^goroutine [0-9]* \[' "$T/g2a.txt"); nb=$(grep -c '^goroutine [0-9]* \[' "$T/g2b.txt")
n=$(printf '%s\n' "$OUT" | grep -c '^goroutine [0-9]* \[')
lo=$((na < nb ? na : nb)); hi=$((na > nb ? na : nb))
between $((lo - 3)) "$n" $((hi + 3)) "stack: goroutine headers vs the server's dumps"
"$CGOPS" stack --json "$U" >"$T/stack.json"
validate agent-stack.schema.json "$T/stack.json"
[ "$(jq '[.. | objects | select(has("frames")) | select(any(.frames[]; .function == "main.parkMany"))] | length' "$T/stack.json" 2>/dev/null)" = 37 ] &&
    pass "stack --json: 37 goroutines with a main.parkMany frame" || fail "stack --json: parkMany count"

# stats: the debug=1 totals, fetched independently around the call
http_get "$U/debug/pprof/goroutine?debug=1" "$T/g1a.txt"
http_get "$U/debug/pprof/threadcreate?debug=1" "$T/t1a.txt"
run "$CGOPS" stats "$U"
expect_rc 0 "stats over HTTP"
http_get "$U/debug/pprof/goroutine?debug=1" "$T/g1b.txt"
http_get "$U/debug/pprof/threadcreate?debug=1" "$T/t1b.txt"
ga=$(sed -n '1s/^goroutine profile: total //p' "$T/g1a.txt"); gb=$(sed -n '1s/^goroutine profile: total //p' "$T/g1b.txt")
ta=$(sed -n '1s/^threadcreate profile: total //p' "$T/t1a.txt"); tb=$(sed -n '1s/^threadcreate profile: total //p' "$T/t1b.txt")
g=$(printf '%s\n' "$OUT" | sed -n 's/^goroutines: //p'); th=$(printf '%s\n' "$OUT" | sed -n 's/^OS threads: //p')
lo=$((ga < gb ? ga : gb)); hi=$((ga > gb ? ga : gb))
between $((lo - 2)) "$g" $((hi + 2)) "stats goroutines vs goroutine?debug=1"
between "$ta" "$th" "$tb" "stats OS threads vs threadcreate?debug=1 (only grows)"
NCPU=$(nproc)
expect_out_contains "GOMAXPROCS: 3" "stats GOMAXPROCS from expvar (the fixture's GOMAXPROCS=3)"
expect_out_contains "num CPU: $NCPU" "stats num CPU from expvar = nproc"
"$CGOPS" stats --json "$U" >"$T/stats.json"
validate agent-stats.schema.json "$T/stats.json"
[ "$(jq -r '"\(.gomaxprocs) \(.num_cpu)"' "$T/stats.json")" = "3 $NCPU" ] && pass "stats --json gomaxprocs, num_cpu" ||
    fail "stats --json: $(cat "$T/stats.json")"

# memstats from expvar: monotonic counters between two fetches of
# /debug/vars, and the formats of PROTOCOL.md 4.1
http_get "$U/debug/vars" "$T/va.json"
run "$CGOPS" memstats "$U"
expect_rc 0 "memstats over HTTP (expvar)"
http_get "$U/debug/vars" "$T/vb.json"
for kv in TotalAlloc:total-alloc Mallocs:mallocs Frees:frees NumGC:num-gc PauseTotalNs:- ; do
    k=${kv%%:*} key=${kv#*:}
    [ "$key" = - ] && continue
    between "$(expvar "$k" "$T/va.json")" "$(memstats_value "$key")" "$(expvar "$k" "$T/vb.json")" "memstats $key vs expvar $k"
done
for key in alloc total-alloc sys lookups mallocs frees heap-alloc heap-sys heap-idle heap-in-use heap-released \
    heap-objects stack-in-use stack-sys mspan-in-use mspan-sys mcache-in-use mcache-sys buck-hash-sys other-sys \
    gc-sys next-gc last-gc gc-pause-total gc-pause gc-pause-end num-gc num-forced-gc gc-cpu-fraction enable-gc debug-gc; do
    printf '%s\n' "$OUT" | grep -q "^$key: " || fail "memstats (expvar) lacks $key"
done
pass "memstats (expvar): the agent's 31 keys checked"
[ "$(printf '%s\n' "$OUT" | cut -d: -f1 | tr '\n' ' ')" = "alloc total-alloc sys lookups mallocs frees heap-alloc heap-sys heap-idle heap-in-use heap-released heap-objects stack-in-use stack-sys mspan-in-use mspan-sys mcache-in-use mcache-sys buck-hash-sys other-sys gc-sys next-gc last-gc gc-pause-total gc-pause gc-pause-end num-gc num-forced-gc gc-cpu-fraction enable-gc debug-gc " ] &&
    pass "memstats (expvar): the agent's key order (PROTOCOL.md 4.1)" || fail "memstats key order: $(printf '%s\n' "$OUT" | cut -d: -f1 | tr '\n' ' ')"
check_sizes "memstats (expvar)"
printf '%s\n' "$OUT" | grep -Eq '^last-gc: 20[0-9]{2}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9](\.[0-9]+)? \+0000 UTC$' &&
    pass "last-gc is a Go time string" || fail "last-gc: $(printf '%s\n' "$OUT" | grep '^last-gc')"
printf '%s\n' "$OUT" | grep -Eq '^gc-pause-total: [0-9.]+(ns|µs|ms|s)$|^gc-pause-total: ([0-9]+m)?[0-9.]+s$' &&
    pass "gc-pause-total is a Go duration" || fail "gc-pause-total: $(printf '%s\n' "$OUT" | grep '^gc-pause-total')"
expect_out_contains "enable-gc: true" "enable-gc from expvar"
expect_out_contains "lookups: $(expvar Lookups "$T/va.json")" "lookups equal expvar's"
# sys and heap-sys move (the scavenger returns memory while the fixture
# churns): of the same order as the server's figures around the call
for kv in Sys:sys HeapSys:heap-sys StackSys:stack-sys; do
    k=${kv%%:*} key=${kv#*:}
    a=$(expvar "$k" "$T/va.json"); b=$(expvar "$k" "$T/vb.json"); got=$(memstats_value "$key")
    lo=$((a < b ? a : b)); hi=$((a > b ? a : b))
    between $((lo / 2)) "$got" $((hi * 2)) "memstats $key near expvar $k"
done
"$CGOPS" memstats --json "$U" >"$T/ms.json"
validate agent-memstats.schema.json "$T/ms.json"

# gc: says so; the server's forced-GC count grows
http_get "$U/debug/vars" "$T/gca.json"
run "$CGOPS" gc "$U"
expect_rc 0 "gc over HTTP"
expect_err_contains "GC run by /debug/pprof/heap?gc=1" "gc says how the GC was run"
http_get "$U/debug/vars" "$T/gcb.json"
a=$(expvar NumForcedGC "$T/gca.json"); b=$(expvar NumForcedGC "$T/gcb.json")
[ "$b" -ge $((a + 1)) ] && pass "gc: NumForcedGC $a -> $b" || fail "gc: NumForcedGC $a -> $b"
"$CGOPS" gc --json "$U" >"$T/gc.json" 2>/dev/null
validate agent-gc.schema.json "$T/gc.json"

# version, setgc: no endpoint
run "$CGOPS" version "$U"
expect_rc 1 "version over HTTP"
expect_err_contains "version is not available over HTTP" "version over HTTP: message"
run "$CGOPS" setgc "$U" 50
expect_rc 1 "setgc over HTTP"
expect_err_contains "setgc is not available over HTTP" "setgc over HTTP: message"

# ---- profiles: saved files that go tool pprof reads ----------------------
P=$T/prof
mkdir -p "$P"
for k in heap allocs block mutex goroutine threadcreate; do
    run "$CGOPS" "pprof-$k" --no-launch -o "$P/$k.pb.gz" "$U"
    expect_rc 0 "pprof-$k over HTTP"
    if (cd "$P" && go tool pprof -top "$k.pb.gz") >"$T/top.$k" 2>"$T/top.$k.err"; then
        pass "pprof-$k: go tool pprof reads it ($(sed -n 's/^Type: //p' "$T/top.$k"))"
    else
        fail "pprof-$k: go tool pprof: $(head -3 "$T/top.$k.err")"
    fi
done
grep -q 'main.allocSmall\|main.allocBig' "$T/top.heap" && pass "pprof-heap shows the fixture's allocators" || fail "heap top lacks main.alloc*"
grep -q 'main.contendMutex\|sync.(\*Mutex).Unlock' "$T/top.mutex" && pass "pprof-mutex shows the contended mutex" || fail "mutex top"
grep -q 'main.blockRecv\|runtime.chanrecv' "$T/top.block" && pass "pprof-block shows the channel receive" || fail "block top"
run "$CGOPS" pprof-cpu --seconds 2 --no-launch -o "$P/cpu.pb.gz" "$U"
expect_rc 0 "pprof-cpu --seconds 2"
expect_err_contains "will take 2 secs" "pprof-cpu says 2 s"
(cd "$P" && go tool pprof -top cpu.pb.gz) >"$T/top.cpu" 2>&1 && grep -q '^Duration: 2' "$T/top.cpu" &&
    pass "pprof-cpu: a 2 s profile go tool pprof reads" || fail "pprof-cpu: $(head -5 "$T/top.cpu")"
run "$CGOPS" trace --seconds 1 --no-launch -o "$P/trace.out" "$U"
expect_rc 0 "trace --seconds 1"
[ "$(head -c 5 "$P/trace.out")" = "go 1." ] && pass "trace starts with 'go 1.'" || fail "trace header: $(head -c 16 "$P/trace.out" | od -c | head -2)"
run "$CGOPS" pprof-heap --no-launch --json "$U"
expect_rc 0 "pprof-heap --json"
printf '%s\n' "$OUT" >"$T/pj.json"; validate agent-profile.schema.json "$T/pj.json"
rm -f "$(jq -r .path "$T/pj.json")"

# cgops profile URL and TARGET KIND against go tool pprof on a file fetched
# at about the same time: the goroutine profile of parked goroutines is
# stable (main.parkMany's cum is -park), the heap's top functions overlap
http_get "$U/debug/pprof/goroutine" "$P/gr.pb.gz"
(cd "$P" && go tool pprof -top gr.pb.gz) >"$T/g.top" 2>/dev/null
for src in "$U/debug/pprof/goroutine" "$U goroutine"; do
    run "$CGOPS" profile $src
    expect_rc 0 "profile $src"
    # The totals move a little between the fetches: their digits are not compared.
    [ "$(printf '%s\n' "$OUT" | sed -n '1,2p;4,5p' | sed -E 's/[0-9]+(\.[0-9]+)?/N/g')" = "$(sed -n '1,2p;4,5p' "$T/g.top" | sed -E 's/[0-9]+(\.[0-9]+)?/N/g')" ] &&
        pass "profile $src: header lines shaped as go tool pprof's" || fail "profile $src header: $(printf '%s\n' "$OUT" | head -4)"
    want=$(awk '$6 == "main.parkMany" {print $4}' "$T/g.top")
    got=$(printf '%s\n' "$OUT" | awk '$6 == "main.parkMany" {print $4}')
    [ -n "$want" ] && [ "$got" = "$want" ] && [ "$want" = 37 ] && pass "profile $src: main.parkMany cum $got as pprof's" ||
        fail "profile $src: main.parkMany cum '$got', pprof '$want'"
done
http_get "$U/debug/pprof/heap" "$P/h.pb.gz"
(cd "$P" && go tool pprof -top h.pb.gz) 2>/dev/null | awk '/flat%/ {h=1; next} h && n++ < 10 {print $6}' | sort >"$T/h.want"
run "$CGOPS" profile "$U/debug/pprof/heap"
expect_rc 0 "profile URL/debug/pprof/heap"
printf '%s\n' "$OUT" | awk '/flat%/ {h=1; next} h && n++ < 10 {print $6}' | sort >"$T/h.got"
common=$(comm -12 "$T/h.want" "$T/h.got" | wc -l)
[ "$common" -ge 3 ] && pass "profile heap: $common of the top 10 functions as pprof's" || fail "profile heap: top functions differ: $(cat "$T/h.got")"
printf '%s\n' "$OUT" | sed -n 2p | grep -qx 'Type: inuse_space' && pass "profile heap: Type: inuse_space" || fail "profile heap: $(printf '%s\n' "$OUT" | sed -n 2p)"
rm -f "${TMPDIR:-/tmp}"/nothing 2>/dev/null

# No go on PATH: pprof-heap prints the top table
run env PATH=/nonexistent "$CGOPS" pprof-heap -o "$P/nogo.pb.gz" "$U"
expect_rc 0 "pprof-heap without go"
expect_out_contains "flat  flat%   sum%        cum   cum%" "pprof-heap without go prints the top table"
expect_out_contains "Type: inuse_space" "pprof-heap without go: the heap's type"

# ---- an agent and an HTTP target in one call -----------------------------
start_httpfix -agent -park 11 -busy 0 || finish
V=$HTTPFIX_URL A=$HTTPFIX_PID
run "$CGOPS" stats "$A" "$V"
expect_rc 0 "stats PID URL"
[ "$(printf '%s\n' "$OUT" | grep '^==> ')" = "$(printf '==> %s <==\n==> %s <==' "$A" "$V")" ] &&
    pass "stats PID URL: both blocks, in order" || fail "stats PID URL: $(printf '%s\n' "$OUT" | grep '^==>')"
"$CGOPS" stats --json "$A" "$V" >"$T/multi.json" 2>/dev/null
validate agent-multi.schema.json "$T/multi.json"
[ "$(jq -r '[.[].target] | join(" ")' "$T/multi.json")" = "$A $V" ] && pass "stats --json: an array with both, in order" ||
    fail "stats --json: $(cat "$T/multi.json")"
[ "$(jq '.[0].result.goroutines > 0 and .[1].result.goroutines > 0' "$T/multi.json")" = true ] &&
    pass "stats --json: both have goroutines" || fail "stats --json results"
run "$CGOPS" pprof-allocs "$A"
expect_rc 1 "pprof-allocs on an agent target"
expect_err_contains "a gops agent has no allocs profile" "pprof-allocs on an agent: says so"
run "$CGOPS" pprof-cpu --seconds 2 "$A"
expect_rc 1 "--seconds on an agent target"
expect_err_contains "--seconds needs an http:// target" "--seconds on an agent: says so"

# ---- no expvar: memstats from the heap profile's trailer -----------------
start_httpfix -no-expvar -busy 0 || finish
W=$HTTPFIX_URL
http_get "$W/debug/pprof/heap?debug=1" "$T/ha.txt"
run "$CGOPS" memstats "$W"
expect_rc 0 "memstats without expvar"
http_get "$W/debug/pprof/heap?debug=1" "$T/hb.txt"
for kv in TotalAlloc:total-alloc Mallocs:mallocs NumGC:num-gc; do
    k=${kv%%:*} key=${kv#*:}
    between "$(trailer "$k" "$T/ha.txt")" "$(memstats_value "$key")" "$(trailer "$k" "$T/hb.txt")" "memstats (trailer) $key vs # $k"
done
expect_out_lacks "gc-pause-total:" "memstats (trailer): no gc-pause-total (the trailer lacks PauseTotalNs)"
expect_out_lacks "enable-gc:" "memstats (trailer): no enable-gc"
expect_out_contains "debug-gc: false" "memstats (trailer): debug-gc"
check_sizes "memstats (trailer)"
"$CGOPS" memstats --json "$W" >"$T/ms2.json"
validate agent-memstats.schema.json "$T/ms2.json"
run "$CGOPS" stats "$W"
expect_rc 0 "stats without expvar"
expect_out_lacks "GOMAXPROCS" "stats without expvar: no GOMAXPROCS"
expect_err_contains "known only when the program publishes them" "stats without expvar: says why"

# ---- HTTPS: the certificate is checked unless --insecure -----------------
mkdir -p "$T/tls"
start_httpfix -tls "$T/tls" -busy 0 || finish
S=$HTTPFIX_URL
case $S in https://*) pass "httpfix -tls: $S" ;; *) fail "httpfix -tls URL $S" ;; esac
run "$CGOPS" stats "$S"
expect_rc 1 "https with a self-signed certificate"
case $ERR in *[Cc]ertificate*) pass "https refused: the message says certificate" ;; *) fail "https refused: $ERR" ;; esac
run "$CGOPS" stats --insecure "$S"
expect_rc 0 "https --insecure"
http_get "$S/debug/pprof/goroutine?debug=1" "$T/sg.txt" "$HTTPFIX_CA"
expect_out_contains "goroutines: " "https --insecure: stats"
# No proxy from the environment: debug endpoints and their tokens stay
# off a proxy set up for other traffic (a dead one here).
run env https_proxy=http://127.0.0.1:1 HTTPS_PROXY=http://127.0.0.1:1 ALL_PROXY=http://127.0.0.1:1 \
    "$CGOPS" stats --insecure "$S"
expect_rc 0 "https --insecure with a dead proxy in the environment"
run env http_proxy=http://127.0.0.1:1 HTTP_PROXY=http://127.0.0.1:1 all_proxy=http://127.0.0.1:1 "$CGOPS" stats "$W"
expect_rc 0 "http with a dead proxy in the environment"
run "$CGOPS" pprof-goroutine --insecure --no-launch -o "$P/tls-gr.pb.gz" "$S"
expect_rc 0 "pprof-goroutine over https --insecure"
run "$CGOPS" profile "$S" goroutine
expect_rc 1 "profile TARGET KIND over https without --insecure"
# --cacert: the service's own CA trusted, the host name still checked.
run "$CGOPS" stats --cacert "$HTTPFIX_CA" "$S"
expect_rc 0 "https --cacert with the server's certificate"
expect_out_contains "goroutines: " "https --cacert: stats"
run "$CGOPS" profile --cacert "$HTTPFIX_CA" --top 3 "$S" goroutine
expect_rc 0 "profile TARGET KIND over https --cacert"
expect_out_contains "Type: goroutine" "profile over https --cacert: a goroutine profile"
run "$CGOPS" stats --cacert /etc/ssl/certs/ca-certificates.crt "$S"
expect_rc 1 "https --cacert with other CAs"
case $ERR in *[Cc]ertificate*) pass "--cacert with other CAs: the message says certificate" ;; *) fail "--cacert other CAs: $ERR" ;; esac
run "$CGOPS" stats --cacert "$T/no-such-ca.pem" "$S"
expect_rc 2 "--cacert of a file that does not exist is a usage error"
expect_err_contains "no-such-ca.pem" "--cacert: the message names the file"

# ---- -H reaches the server; @FILE keeps the token out of ps --------------
start_fixture -n httpsrv /usr/bin/python3 "$CGOPS_SRC/tests/helpers/httpsrv.py" --forever --files "$T/files" || finish
set -- $READY
H=http://127.0.0.1:$2
mkdir -p "$T/files/auth/debug/pprof"
cp "$T/g1a.txt" "$T/files/auth/debug/pprof/goroutine@debug=1"
cp "$T/t1a.txt" "$T/files/auth/debug/pprof/threadcreate@debug=1"
echo 'X-Token: s3cret-value' >"$T/files/auth/.header"
run "$CGOPS" stats "$H/f/auth"
expect_rc 1 "stats without the header the server requires"
expect_err_contains "401" "without the header: HTTP 401"
run "$CGOPS" stats -H 'X-Token: s3cret-value' "$H/f/auth"
expect_rc 0 "stats -H 'X-Token: ...'"
expect_out_contains "goroutines: $ga" "stats -H: the file the server serves ($ga goroutines)"
printf '# the token\nX-Token: s3cret-value\r\n' >"$T/hdr"
chmod 600 "$T/hdr"
run "$CGOPS" stats -H "@$T/hdr" "$H/f/auth"
expect_rc 0 "stats -H @FILE"
expect_out_contains "goroutines: $ga" "stats -H @FILE: served"
run "$CGOPS" stats "http://user:s3cret-value@127.0.0.1:$2/f/auth"
expect_rc 1 "credentials in the URL"
expect_err_contains "credentials in the URL would show in ps" "credentials in the URL: refused, with why"
# While a request hangs, nothing in ps shows the token.
"$CGOPS" stats -H "@$T/hdr" --timeout 10 "$H/m/hang" >/dev/null 2>&1 &
cg=$!
sleep 1
if ps -eo args | grep -q '[s]3cret-value'; then fail "the token of -H @FILE is in ps"; else pass "the token of -H @FILE is not in ps"; fi
tr '\0' ' ' <"/proc/$cg/cmdline" | grep -q "@$T/hdr" && pass "ps shows @FILE instead" || fail "cmdline: $(tr '\0' ' ' <"/proc/$cg/cmdline")"
kill "$cg" 2>/dev/null; wait "$cg" 2>/dev/null
# A redirect to another host is refused while -H headers are set.
run "$CGOPS" stats -H 'X-Token: s3cret-value' "$H/m/xhost"
expect_rc 1 "a redirect to another host with -H"
case $ERR in *redirect*) pass "cross-host redirect refused: $ERR" ;; *) fail "cross-host redirect: $ERR" ;; esac

finish

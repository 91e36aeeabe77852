# lib.sh -- helpers for the command-line tests (sourced by tests/cli/NN-*.sh)
#
# Every test gets a private scratch dir and a private gops config dir, and
# every process it starts is killed on exit, so tests can run in parallel.
# Checks report through pass/fail; what cannot run here goes through skip or
# skip_all, so ctest never counts a check that did not run as passed.
set -u

: "${CGOPS:?CGOPS must point at the cgops binary (run through ctest)}"
: "${FIXTURES:?FIXTURES must point at the built fixtures (run through ctest)}"
: "${CGOPS_SRC:?}"

mkdir -p "${TEST_TMPDIR:-/tmp}"
T=$(mktemp -d "${TEST_TMPDIR:-/tmp}/cli.XXXXXX")
chmod 755 "$T"
export GOPS_CONFIG_DIR="$T/gops"
mkdir -p "$GOPS_CONFIG_DIR"
STARTED=""
FAILS=0
PASSES=0
SKIPS=0
NBG=0
DONE=0

# Every process a test starts inherits this tag, so cleanup also finds the
# ones that were orphaned (a killed parent's children): a survivor holding
# the test's stdout would keep ctest waiting until its timeout.
export CGOPS_TEST_TAG="$T"

# cleanup: the EXIT trap.  A script ends through finish or skip_all; one
# that ends anywhere else (a syntax error, which bash reports and then
# exits on, an unset variable under set -u, a stray exit) fails, even if
# its status was 0, since the checks after that point never ran.
cleanup() {
    rc=$?
    if [ "$DONE" != 1 ]; then
        echo "FAIL: the script ended before finish (status $rc): the checks after that point did not run" >&2
        rc=1
    fi
    for p in $STARTED; do kill -9 "$p" 2>/dev/null; done
    for e in /proc/[0-9]*/environ; do
        p=${e#/proc/}; p=${p%/environ}
        [ "$p" = $$ ] && continue
        if { tr '\0' '\n' <"$e"; } 2>/dev/null | grep -qxF "CGOPS_TEST_TAG=$T"; then
            kill -9 "$p" 2>/dev/null
        fi
    done
    wait 2>/dev/null
    rm -rf "$T"
    exit "$rc"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}

pass() {
    echo "ok: $*"
    PASSES=$((PASSES + 1))
}

# skip WHAT: checks that cannot run here (no root, no IPv6, ...); the
# script goes on with the others
skip() {
    echo "skip: $*"
    SKIPS=$((SKIPS + 1))
}

# skip_all WHY: nothing in this script can run here; ctest shows the entry
# as skipped (SKIP_RETURN_CODE 77 in CMakeLists.txt), not as passed
skip_all() {
    echo "skip: $*"
    DONE=1
    exit 77
}

# finish: exit status of the test: 1 if a check failed, 77 (skipped) if
# checks were skipped and none ran, else 0
finish() {
    echo "$PASSES check(s) passed, $FAILS failed, $SKIPS group(s) skipped"
    DONE=1
    if [ "$FAILS" -ne 0 ]; then
        exit 1
    fi
    if [ "$PASSES" -eq 0 ] && [ "$SKIPS" -ne 0 ]; then
        exit 77
    fi
    exit 0
}

# start_fixture [-n NAME] [-e EXE] CMD...: start CMD in the background (a
# fixture, perhaps under a wrapper that execs it: unshare, setpriv, env,
# chroot, sh -c) and wait, up to 30 s, until it is ready:
#   - by default until it prints a "ready ..." line (agentfix: "ready PID
#     PORT PORTFILE", faultsrv: "ready PORT"), kept in READY and, read as
#     agentfix's, split into RPID RPORT RPORTFILE;
#   - with -e EXE, for programs that print nothing (sleep, sleeper,
#     csleeper, shsleeper.sh, mkelf's files), until /proc/PID/exe is EXE
#     (a bare name is looked up in PATH; a script's is its interpreter):
#     the process has exec'd it, so a listing sees the program, not the
#     shell that forked it.  RPID is then the started process.
# Sets BGPID (the process started: the wrapper if there is one) and BGOUT
# (its stdout and stderr).  If CMD is not ready in time, or exits first, a
# check fails ("NAME did not start", NAME defaulting to CMD) and it returns 1.
start_fixture() {
    local name= exe= i=0
    while :; do
        case $1 in
        -n) name=$2; shift 2 ;;
        -e) exe=$2; shift 2 ;;
        *) break ;;
        esac
    done
    [ -n "$name" ] || name=$(printf '%.200s' "$*")
    case $exe in
    "" | */*) ;;
    *) exe=$(command -v "$exe") ;;
    esac
    [ -z "$exe" ] || exe=$(readlink -f "$exe")
    NBG=$((NBG + 1))
    BGOUT="$T/bg.$NBG"
    "$@" >"$BGOUT" 2>&1 &
    BGPID=$!
    STARTED="$STARTED $BGPID"
    READY= RPID= RPORT= RPORTFILE=
    while [ $i -lt 300 ]; do
        if [ -n "$exe" ]; then
            if [ "$(readlink "/proc/$BGPID/exe" 2>/dev/null)" = "$exe" ]; then
                RPID=$BGPID
                return 0
            fi
        else
            READY=$(grep -a -m1 '^ready' "$BGOUT" 2>/dev/null)
            if [ -n "$READY" ]; then
                set -- $READY
                RPID=${2:-} RPORT=${3:-} RPORTFILE=${4:-}
                return 0
            fi
        fi
        if ! kill -0 "$BGPID" 2>/dev/null; then
            # Gone: ready only if it printed the line first (faultsrv
            # -mode refused prints it and exits).
            [ -z "$exe" ] && grep -q '^ready' "$BGOUT" 2>/dev/null && continue
            break
        fi
        sleep 0.1
        i=$((i + 1))
    done
    fail "$name did not start: $(printf '%.500s' "$(cat "$BGOUT")")"
    return 1
}

# start_agent [FIXTURE [ARGS...]]: start_fixture for an agentfix flavour;
# sets APID APORT APORTFILE
start_agent() {
    local fx=${1:-agentfix}
    [ $# -gt 0 ] && shift
    APID= APORT= APORTFILE=
    start_fixture "$FIXTURES/$fx" "$@" || return 1
    APID=$RPID APORT=$RPORT APORTFILE=$RPORTFILE
}

# start_fault MODE [ARGS...]: start_fixture for faultsrv; sets FPID FPORT
start_fault() {
    FPID= FPORT=
    start_fixture "$FIXTURES/faultsrv" -mode "$@" || return 1
    FPID=$BGPID FPORT=${READY#ready }
}

# start_httpfix [FLAGS...]: start_fixture for httpfix (net/http/pprof and
# expvar, tests/fixtures/README.md) with -ready FILE and FLAGS; waits for its
# ready line and FILE.  Sets HTTPFIX_URL (the base URL in FILE, e.g.
# http://127.0.0.1:PORT/admin), HTTPFIX_PID, HTTPFIX_OUT (stdout and
# stderr), HTTPFIX_PORT and HTTPFIX_PORTFILE (the agent's with -agent, else
# "0" and "-") and, with -tls DIR, HTTPFIX_CA (DIR/cert.pem).  Killed on
# exit like every fixture.
start_httpfix() {
    local rf a prev=
    HTTPFIX_URL= HTTPFIX_PID= HTTPFIX_OUT= HTTPFIX_PORT= HTTPFIX_PORTFILE= HTTPFIX_CA=
    for a in "$@"; do
        [ "$prev" = -tls ] && HTTPFIX_CA=$a/cert.pem
        prev=$a
    done
    rf="$T/httpfix.$((NBG + 1)).url"
    start_fixture -n "httpfix $*" "$FIXTURES/httpfix" -ready "$rf" "$@" || return 1
    if [ ! -s "$rf" ]; then
        fail "httpfix $*: ready, but no URL in $rf"
        return 1
    fi
    HTTPFIX_URL=$(cat "$rf") HTTPFIX_PID=$RPID HTTPFIX_OUT=$BGOUT
    HTTPFIX_PORT=$RPORT HTTPFIX_PORTFILE=$RPORTFILE
}

# start_serve ARGS...: cgops serve ARGS in the background, until it says
# where it listens; sets SPID, SADDR (host:port as printed) and SOUT (its
# stdout; stderr in $SOUT.err).  Killed on exit like every fixture.  If it
# exits or says nothing for 30 s, a check fails and it returns 1.
start_serve() {
    local i=0
    NBG=$((NBG + 1))
    SOUT="$T/serve.$NBG"
    "$CGOPS" serve "$@" >"$SOUT" 2>"$SOUT.err" &
    SPID=$!
    STARTED="$STARTED $SPID"
    SADDR=
    while [ $i -lt 300 ]; do
        SADDR=$(sed -n 's|^serving http://\(.*\)/$|\1|p' "$SOUT")
        [ -n "$SADDR" ] && return 0
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    fail "cgops serve $* did not start: $(cat "$SOUT.err")"
    return 1
}

# http_get URL FILE [CAFILE]: fetch URL into FILE with python3's urllib
# (curl is not a test package), trusting CAFILE (default $HTTPFIX_CA) for
# https; 60 s at most.  Returns 1 on any error, with the reason on stderr.
http_get() {
    /usr/bin/python3 - "$1" "$2" "${3:-${HTTPFIX_CA:-}}" <<'PY'
import ssl, sys, urllib.request
url, out, ca = sys.argv[1:4]
ctx = ssl.create_default_context(cafile=ca) if ca else None
try:
    with urllib.request.urlopen(url, timeout=60, context=ctx) as r, open(out, "wb") as f:
        f.write(r.read())
except Exception as e:
    sys.exit(f"http_get {url}: {e}")
PY
}

# run CMD...: run it; stdout in $OUT (and $T/out), stderr in $ERR, status in $RC
run() {
    "$@" >"$T/out" 2>"$T/err"
    RC=$?
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
}

expect_rc() { # EXPECTED WHAT
    if [ "$RC" -eq "$1" ]; then pass "$2: exit $1"; else fail "$2: exit $RC, want $1 (stderr: $ERR)"; fi
}

expect_out_contains() { # NEEDLE WHAT
    case "$OUT" in *"$1"*) pass "$2" ;; *) fail "$2: stdout lacks '$1': $(printf '%.300s' "$OUT")" ;; esac
}

expect_out_lacks() { # NEEDLE WHAT
    case "$OUT" in *"$1"*) fail "$2: stdout has '$1'" ;; *) pass "$2" ;; esac
}

expect_out_eq() { # EXACT WHAT
    if [ "$OUT" = "$1" ]; then pass "$2"; else fail "$2: stdout is '$OUT', want '$1'"; fi
}

expect_err_eq() { # EXACT WHAT
    if [ "$ERR" = "$1" ]; then pass "$2"; else fail "$2: stderr is '$ERR', want '$1'"; fi
}

expect_err_contains() { # NEEDLE WHAT
    case "$ERR" in *"$1"*) pass "$2" ;; *) fail "$2: stderr lacks '$1': $ERR" ;; esac
}

# validate SCHEMA FILE: JSON Schema check with python3-jsonschema
validate() {
    if /usr/bin/python3 "$CGOPS_SRC/tests/validate-json" "$CGOPS_SRC/protocol/schemas/$1" "$2"; then
        pass "$(basename "$2") validates against $1"
    else
        fail "$(basename "$2") does not validate against $1"
    fi
}

# line_of PID: the listing line of PID in $OUT
line_of() {
    printf '%s\n' "$OUT" | awk -v p="$1" '$1 == p'
}

# peak_rss CMD...: run CMD (stdout to $T/peak.out, stderr to $T/peak.err);
# sets RC and PEAK, its peak resident memory in KiB (getrusage of the
# child), so a test can bound memory without sampling at chosen times.
peak_rss() {
    set -- $(/usr/bin/python3 -c 'import resource, subprocess, sys
with open(sys.argv[1], "wb") as o, open(sys.argv[2], "wb") as e:
    rc = subprocess.call(sys.argv[3:], stdout=o, stderr=e)
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$T/peak.out" "$T/peak.err" "$@")
    RC=$1
    PEAK=$2
}

# start_tiny_agent: a fake agent that answers pprof-heap with a gzip magic
# and the binary dump with an ELF magic (a few bytes each), for tests of
# where profiles are written; sets TINY (its host:port)
start_tiny_agent() {
    start_fixture -n "tiny agent" /usr/bin/python3 -c '
import socket, threading
R = {5: b"\x1f\x8bHEAP", 9: b"\x7fELFBIN"}
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print("ready", s.getsockname()[1], flush=True)
def serve(c):
    b = c.recv(64); c.sendall(R.get(b[0], b"?")); c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()'
    TINY=127.0.0.1:${READY#ready }
}

# ---- agentless tests (issue 9): parkfix, real Go binaries, runtime dumps ----

# outfile_of PID: the file start_parkfix or start_gobin sent PID's stdout
# and stderr to (empty when PID was not started by them)
outfile_of() {
    awk -v p="$1" '$1 == p {f = $2} END {print f}' "$T/outfiles" 2>/dev/null
}

# start_parkfix [VARIANT [ARGS...]]: start_fixture for a parkfix build
# (default "parkfix") under GOTRACEBACK=system, so quit_dump can take the
# runtime's dump; sets PFPID PFPORT PFPORTFILE (the agent's, "0 -" with
# -noagent) and PFOUT (its stdout and stderr)
start_parkfix() {
    local fx=${1:-parkfix}
    [ $# -gt 0 ] && shift
    PFPID= PFPORT= PFPORTFILE= PFOUT=
    start_fixture -n "$fx $*" env GOTRACEBACK=system "$FIXTURES/$fx" "$@" || return 1
    PFPID=$RPID PFPORT=$RPORT PFPORTFILE=$RPORTFILE PFOUT=$BGOUT
    echo "$PFPID $PFOUT" >>"$T/outfiles"
}

# parkfix_want [VARIANT]: "FUNCTION<TAB>STATE" for each place parkfix parks
# a goroutine (tests/fixtures/README.md), STATE being the runtime's wait
# reason (Go 1.19) for that operation; main.parkCgo only for parkfix-cgo,
# not main.spinBusy (running or runnable) nor -park/-leak's
parkfix_want() {
    printf '%s\t%s\n' main.parkChanRecv "chan receive" main.parkChanSend "chan send" \
        main.parkSelect select main.parkMutex semacquire main.parkWaitGroup semacquire \
        main.parkSleep sleep main.parkIOWait "IO wait" main.parkSyscall syscall \
        main.waitForever sleep
    [ "${1:-}" = parkfix-cgo ] && printf 'main.parkCgo\tsyscall\n'
    return 0
}

# start_gobin NAME: run the Go binary NAME of tests/fixtures/gobins.sh (an
# esbuild of another Go release) as a live process: `esbuild
# --serve=127.0.0.1:PORT --servedir=DIR` on an empty DIR, no entry point,
# stdin a FIFO this shell holds open (newer esbuilds stop serving when stdin
# closes), GOTRACEBACK=system.  Waits until it says it serves, then 0.5 s
# for its goroutines to settle.  Sets GBPID GBPORT GBEXE GBOUT (stdout and
# stderr).  Returns 77 without a check when gobins.sh cannot fetch NAME here
# (the caller skips), 1 after a failed check otherwise.
start_gobin() {
    local name=$1 dir try i port rc=0 fd
    GBPID= GBPORT= GBEXE= GBOUT=
    GBEXE=$(sh "$CGOPS_SRC/tests/fixtures/gobins.sh" "$name" 2>"$T/gobins.err") || rc=$?
    case $rc in
    0) ;;
    77) echo "note: $name: $(cat "$T/gobins.err")"; return 77 ;;
    *) fail "gobins.sh $name: exit $rc: $(cat "$T/gobins.err")"; return 1 ;;
    esac
    NBG=$((NBG + 1))
    dir=$T/gobin.$NBG
    mkdir -p "$dir/www"
    echo '<p>cgops</p>' >"$dir/www/index.html"
    mkfifo "$dir/stdin"
    exec {fd}<>"$dir/stdin"
    # The port is picked free, then bound by esbuild: another process may
    # take it in between, so a failed start is retried on a new one.
    for try in 1 2 3; do
        port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        start_fixture -n "esbuild ($name)" -e "$GBEXE" sh -c 'GOTRACEBACK=system exec "$0" --serve=127.0.0.1:"$1" --servedir="$2" <"$3"' \
            "$GBEXE" "$port" "$dir/www" "$dir/stdin" || return 1
        i=0
        while [ $i -lt 300 ] && kill -0 "$BGPID" 2>/dev/null; do
            if grep -q "http://127.0.0.1:$port" "$BGOUT" 2>/dev/null; then
                sleep 0.5
                GBPID=$BGPID GBPORT=$port GBOUT=$BGOUT
                echo "$GBPID $GBOUT" >>"$T/outfiles"
                return 0
            fi
            sleep 0.1
            i=$((i + 1))
        done
        kill -9 "$BGPID" 2>/dev/null
    done
    fail "esbuild ($name) did not serve: $(printf '%.500s' "$(cat "$BGOUT")")"
    return 1
}

# quit_dump PID FILE: SIGQUIT to PID, a process of start_parkfix or
# start_gobin (GOTRACEBACK=system), wait up to 30 s for it to exit, and copy
# the runtime's dump (from its "SIGQUIT: quit" line on) to FILE.  Returns 1
# after a failed check when PID does not exit or prints no dump.
quit_dump() {
    local pid=$1 file=$2 out i=0
    out=$(outfile_of "$pid")
    if [ -z "$out" ]; then
        fail "quit_dump: $pid was not started by start_parkfix or start_gobin"
        return 1
    fi
    kill -QUIT "$pid" 2>/dev/null
    # A child of this shell stays a zombie until reaped: "Z" counts as gone.
    while [ $i -lt 300 ]; do
        case $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) in
        "" | Z | X) break ;;
        esac
        sleep 0.1
        i=$((i + 1))
    done
    if [ $i -ge 300 ]; then
        fail "quit_dump: $pid still runs 30 s after SIGQUIT"
        return 1
    fi
    wait "$pid" 2>/dev/null
    sed -n '/^SIGQUIT: quit/,$p' "$out" >"$file"
    if ! grep -q '^goroutine [0-9]' "$file"; then
        fail "quit_dump: no goroutine dump from $pid: $(printf '%.300s' "$(cat "$out")")"
        return 1
    fi
}

# gotrace ARGS...: tests/cli/gotrace.py (parse, summary, counts, compare)
gotrace() {
    /usr/bin/python3 "$CGOPS_SRC/tests/cli/gotrace.py" "$@"
}

# thread_states PID: the state letter of every thread of PID, sorted
# (a "t" is a thread in tracing stop)
thread_states() {
    local t
    for t in /proc/"$1"/task/*/stat; do
        sed 's/.*) //' "$t" 2>/dev/null | cut -c1
    done | sort | tr -d '\n'
}

# signal_when_held TARGET CGPID SIG: wait (10 s at most) until a thread of
# TARGET is in tracing stop (cgops --stop holds it), then send SIG to CGPID
# at once; prints "yes", or "no" when cgops ended first.  Polled from one
# python process: a shell loop is too slow to catch a short hold.
signal_when_held() {
    /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import os, signal, sys, time
target, cg, sig = sys.argv[1], int(sys.argv[2]), getattr(signal, "SIG" + sys.argv[3])
end = time.time() + 10
while time.time() < end:
    try:
        for tid in os.listdir(f"/proc/{target}/task"):
            with open(f"/proc/{target}/task/{tid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "t":
                    os.kill(cg, sig)
                    print("yes")
                    sys.exit(0)
    except (FileNotFoundError, ProcessLookupError):
        pass
    try:
        os.kill(cg, 0)
    except ProcessLookupError:
        break
print("no")
PY
}

# ---- cgops profile against go tool pprof (67-profile, 69-profile-kinds) ----
# Both run go tool pprof in $P, the directory of the profiles, so the file
# names in its arguments are relative to it.

# top_rows N: stdin up to the column header of a -top table ("flat  flat%
# sum% ..."), and the first N rows after it
top_rows() {
    awk -v n="$1" 'h && n-- <= 0 { exit } { print } /^ *flat  flat%/ { h = 1 }'
}

# same NAME "CGOPS ARGS" PPROF ARGS...: `cgops profile CGOPS ARGS` and `go
# tool pprof PPROF ARGS` print the same bytes; with SAME_ROWS=N, only their
# headers and first N rows (top_rows) are compared
same() {
    local name=$1 cargs=$2 what="identical to go tool pprof"
    shift 2
    # shellcheck disable=SC2086
    "$CGOPS" profile $cargs >"$T/c.txt" 2>"$T/c.err"
    local rc=$?
    (cd "$P" && go tool pprof "$@") >"$T/g.txt" 2>"$T/g.err" || {
        fail "$name: go tool pprof failed: $(cat "$T/g.err")"
        return
    }
    if [ -n "${SAME_ROWS:-}" ]; then
        top_rows "$SAME_ROWS" <"$T/c.txt" >"$T/c.rows" && mv "$T/c.rows" "$T/c.txt"
        top_rows "$SAME_ROWS" <"$T/g.txt" >"$T/g.rows" && mv "$T/g.rows" "$T/g.txt"
        what="header and first $SAME_ROWS rows identical to go tool pprof's"
    fi
    if [ $rc -ne 0 ]; then
        fail "$name: cgops exited $rc: $(cat "$T/c.err")"
    elif cmp -s "$T/c.txt" "$T/g.txt"; then
        pass "$name: $what ($(wc -l <"$T/g.txt") lines)"
    else
        fail "$name: differs from go tool pprof: $(diff "$T/c.txt" "$T/g.txt" | head -20)"
    fi
}

# pprof_total FILE [UNIT [SAMPLE_INDEX]]: pprof's total in the sample's
# base unit (-unit=ns, -unit=B; counts as is).
pprof_total() {
    (cd "$P" && go tool pprof -top ${2:+-unit=$2} ${3:+-sample_index=$3} "$1" 2>/dev/null) |
        sed -n 's/^Showing nodes accounting for .* of \([0-9]*\)[a-zA-Z]* total$/\1/p'
}

# folded_check FILE [UNIT [INDEX]]: `cgops profile $P/FILE --folded`
# (--sample-index INDEX if given) ends 0, every line is STACK VALUE and the
# values sum to pprof_total FILE UNIT INDEX (of a delta profile, whose
# in-use values may be negative: pprof's total sums |value|).  Sets
# PPROF_TOTAL (pprof's total) and leaves the run's OUT.
folded_check() {
    local got bad want
    want=$(pprof_total "$1" "${2:-}" "${3:-}")
    PPROF_TOTAL=$want
    run "$CGOPS" profile "$P/$1" --folded ${3:+--sample-index $3}
    expect_rc 0 "--folded $1"
    got=$(printf '%s\n' "$OUT" | awk '{ s += $NF } END { printf "%.0f", s }')
    [ -n "$want" ] && [ "$got" = "$want" ] && pass "--folded $1 sums to pprof's total $want" ||
        fail "--folded $1: sum $got, pprof's total '$want'"
    bad=$(printf '%s\n' "$OUT" | grep -cvE '^[^ ]+( [^ ]+)* -?[0-9]+$')
    [ "$bad" = 0 ] && pass "--folded $1: every line is STACK VALUE" || fail "--folded $1: $bad odd lines"
}

# ---- headless Chromium (68-flame, 67-profile) ----------------------------
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

# png_check FILE: decode a PNG with zlib only and print "W H COLOURS HOT
# MAGENTA": distinct colours, pixels of the flame palette (red high, blue
# low, not the pale background) and pixels of the search highlight.
png_check() {
    /usr/bin/python3 - "$1" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6) and interlace == 0, "unexpected PNG format"
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
colours, hot, magenta = set(), 0, 0
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    if f == 1:
        for i in range(bpp, stride):
            line[i] = (line[i] + line[i - bpp]) & 0xff
    elif f == 2:
        for i in range(stride):
            line[i] = (line[i] + prev[i]) & 0xff
    elif f == 3:
        for i in range(stride):
            line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 0xff
    elif f == 4:
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xff
    for x in range(0, stride, bpp):
        r, g, b = line[x], line[x + 1], line[x + 2]
        colours.add((r, g, b))
        if r >= 200 and b <= 60:
            hot += 1
        if (r, g, b) == (230, 0, 230):
            magenta += 1
    prev = line
print(w, h, len(colours), hot, magenta)
EOF
}

# chrome URL OUT [--dump-dom]: one headless Chromium run with a fresh
# profile, nothing fetched in the background.
chrome() {
    local url=$1 png=$2
    shift 2
    rm -rf "$T/chrome"
    mkdir -p "$T/chrome"
    HOME="$T/chrome" timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
        --disable-quic --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --user-data-dir="$T/chrome" \
        --screenshot="$png" --window-size=1200,800 "$@" "$url"
}


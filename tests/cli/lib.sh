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

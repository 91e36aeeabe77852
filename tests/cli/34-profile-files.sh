#!/bin/bash
# 34-profile-files.sh -- where pprof-heap, pprof-cpu and trace write, as a
# local attacker and Ctrl-C see it: a symlink planted in a sticky directory
# is not followed for root, an interrupted profile leaves nothing behind.
. "$(dirname "$0")/lib.sh"

export CGOPS_TEST_CPU_SECONDS=30
start_agent agentfix || { fail "agent"; finish; }
P=$APID

if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
    # /tmp's shape: sticky and world-writable, owned by root.  nobody plants
    # a link to a file root owns; root's -o through it must not replace it.
    mkdir -m 1777 "$T/sticky"
    echo "precious" >"$T/precious"
    ln -s "$T/precious" "$T/sticky/out.prof"
    chown -h nobody "$T/sticky/out.prof"
    run "$CGOPS" pprof-heap "$P" -o "$T/sticky/out.prof"
    expect_rc 1 "-o through a planted symlink"
    [ "$(cat "$T/precious")" = precious ] && [ -L "$T/sticky/out.prof" ] &&
        pass "the file behind a planted symlink is untouched" || fail "planted symlink followed"
    ls -A "$T/sticky" | grep -q '^\.cgops-' && fail "temp file left in the sticky dir" || pass "no temp file left"
    # The same link owned by the caller is the caller's own: followed.
    chown -h root "$T/sticky/out.prof"
    run "$CGOPS" pprof-heap "$P" -o "$T/sticky/out.prof"
    expect_rc 0 "-o through the caller's own symlink"
    gzip -t "$T/precious" && pass "the caller's own link is followed" || fail "own link"
else
    skip "the planted-symlink checks need root and the user nobody"
fi

# Interrupted in the middle of a CPU profile (SIGTERM here: a background
# job of a script ignores SIGINT, and cgops leaves ignored signals alone,
# as under nohup; the handler is the same for SIGINT, see test-outfile.c):
# neither the temp file beside -o nor a $TMPDIR profile is left, and the
# exit shows the signal.
mkdir "$T/saved" "$T/tmp"
for o in "-o $T/saved/cpu.prof" ""; do
    TMPDIR="$T/tmp" "$CGOPS" pprof-cpu "$P" $o --no-launch >/dev/null 2>"$T/int.err" &
    C=$!
    i=0; while ! grep -q "Profiling CPU now" "$T/int.err" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    kill -TERM $C
    wait $C; rc=$?
    [ $rc -eq 143 ] && pass "interrupted pprof-cpu ${o:-(TMPDIR)}: killed by SIGTERM" || fail "interrupted: exit $rc: $(cat "$T/int.err")"
    [ -z "$(ls -A "$T/saved" "$T/tmp" | grep -v '^/\|^$\|:$')" ] &&
        pass "interrupted pprof-cpu ${o:-(TMPDIR)}: nothing left behind" || fail "left: $(ls -A "$T/saved" "$T/tmp")"
done
finish

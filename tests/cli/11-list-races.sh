#!/bin/bash
# 11-list-races.sh -- processes that vanish, cannot be read, are zombies or
# kernel threads, or run deleted executables: never an error, never garbage.
. "$(dirname "$0")/lib.sh"

# Kernel threads have no executable: skipped silently.
run "$CGOPS"
expect_rc 0 "listing with kernel threads"
[ -z "$ERR" ] && pass "kernel threads skipped silently" || fail "stderr: $ERR"
[ -z "$(line_of 2)" ] && pass "kthreadd not listed" || fail "kthreadd listed"

# Processes exiting while cgops walks /proc: churn short-lived Go and non-Go
# processes in the background and list repeatedly.
touch "$T/churn.on"
( while [ -e "$T/churn.on" ]; do
      "$FIXTURES/sleeper" & p1=$!
      /bin/true &
      "$FIXTURES/csleeper" & p2=$!
      kill -9 $p1 $p2 2>/dev/null
      wait 2>/dev/null
  done ) >/dev/null 2>&1 &
CHURN=$!
bad=0
for i in $(seq 1 40); do
    "$CGOPS" >"$T/churn.out" 2>"$T/churn.err" || bad=1
    [ -s "$T/churn.err" ] && bad=1
    # Every line must be complete: six fields at least, a version, a path.
    awk 'NF < 5 || $NF !~ /^\// { exit 1 }' "$T/churn.out" || bad=1
done
rm -f "$T/churn.on"; wait $CHURN 2>/dev/null
[ $bad -eq 0 ] && pass "40 listings during process churn: exit 0, no stderr, whole lines" ||
    fail "listing during churn: $(cat "$T/churn.err")"

# A zombie (its parent never reaps it) has no executable any more.
start_fixture sh -c "\"$FIXTURES/sleeper\" & echo ready \$!; exec sleep 1000"; ZPID=$RPID
kill -9 "$ZPID"
for i in $(seq 50); do [ "$(awk '{print $3}' /proc/$ZPID/stat 2>/dev/null)" = Z ] && break; sleep 0.1; done
[ "$(awk '{print $3}' /proc/$ZPID/stat)" = Z ] && pass "zombie made" || fail "no zombie"
run "$CGOPS"
expect_rc 0 "listing with a zombie"
[ -z "$(line_of "$ZPID")" ] && pass "zombie not listed" || fail "zombie listed: $(line_of "$ZPID")"
[ -z "$ERR" ] && pass "zombie skipped silently" || fail "stderr: $ERR"

# A deleted executable is still listed, with gops's " (deleted)" path.
cp "$FIXTURES/agentfix" "$T/delme"
start_fixture "$T/delme" -noagent; DPID=$RPID
rm -f "$T/delme"
run "$CGOPS"
expect_out_contains "$T/delme (deleted)" "deleted executable listed"
"$CGOPS" --json >"$T/d.json"
[ "$(jq --argjson p "$DPID" '.[] | select(.pid == $p) | .deleted' "$T/d.json")" = true ] &&
    pass "json deleted flag" || fail "json deleted flag"

# An unprivileged user cannot read root's /proc/PID/exe: those processes are
# skipped silently, and -v says why.  Its own Go process is listed.
chmod 755 "$T"
cp "$FIXTURES/sleeper" "$T/mine"; chmod 755 "$T/mine"
start_fixture -e "$T/mine" setpriv --reuid=nobody --regid=nogroup --clear-groups "$T/mine"
NPID=$RPID
start_agent agentfix
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
run as_nobody "$CGOPS"
expect_rc 0 "listing as nobody"
[ -z "$ERR" ] && pass "unreadable processes skipped silently" || fail "stderr as nobody: $ERR"
[ -n "$(line_of "$NPID")" ] && pass "nobody's own Go process listed" || fail "nobody's process missing: $OUT"
[ -z "$(line_of "$APID")" ] && pass "root's Go process not listed to nobody" || fail "root's process listed"
run as_nobody "$CGOPS" -v
expect_rc 0 "listing as nobody -v"
expect_err_contains "pid $APID: skipped: cannot read executable: Permission denied" "-v says why a pid was skipped"
finish

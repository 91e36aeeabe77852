#!/bin/bash
# 81-metrics.sh -- `cgops metrics`: promtool accepts the exposition; a
# parkfix's goroutines equal the runtime's own dump; an agent's memstats
# equal what the agent says; a hostile executable name is escaped; a silent
# agent costs its bound, no more, and counts a timeout; OpenMetrics parses
# with an OpenMetrics parser and ends with # EOF; --state carries the
# counters from run to run.
# ctest: run serial (the error counters must not count other tests' silent agents)
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || skip_all "promtool (Debian's prometheus) is not installed"

# mval FILE METRIC PID [STATE]: the value of METRIC for PID, parsed by
# prometheus_client's parser of the text format (not by looking at lines),
# "absent" when there is no such series.
mval() {
    /usr/bin/python3 - "$@" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
path, name, pid = sys.argv[1:4]
state = sys.argv[4] if len(sys.argv) > 4 else None
for fam in text_string_to_metric_families(open(path, encoding="utf-8").read()):
    for s in fam.samples:
        if s.name == name and s.labels.get("pid") == pid and (state is None or s.labels.get("state") == state):
            v = s.value
            print(int(v) if v == int(v) else v)
            sys.exit(0)
print("absent")
PY
}

# gval FILE METRIC [LABEL=VALUE]: a series without process labels
gval() {
    /usr/bin/python3 - "$@" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
path, name = sys.argv[1:3]
want = dict(a.split("=", 1) for a in sys.argv[3:])
for fam in text_string_to_metric_families(open(path, encoding="utf-8").read()):
    for s in fam.samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in want.items()):
            print(int(s.value) if s.value == int(s.value) else s.value)
            sys.exit(0)
print("absent")
PY
}

# Command line.
run "$CGOPS" metrics extra
expect_rc 2 "an argument"
run "$CGOPS" metrics --timeout nonsense
expect_rc 2 "a bad --timeout"

# Two processes of each executable: the second is read through the tables
# parsed for the first (and PIE ones load at other addresses).
PFS=""
for fx in parkfix parkfix parkfix-pie parkfix-pie; do
    start_parkfix "$fx" -noagent || finish
    PFS="$PFS $PFPID"
done
start_agent agentfix -goroutines 5 || finish
AF=$APID
start_fault silent || finish
SPID=$FPID
# A port file for the port faultsrv holds: an "agent" that never answers.
echo "$FPORT" >"$GOPS_CONFIG_DIR/$SPID"
# An executable whose path has a double quote, a backslash, a newline and
# a byte that is not UTF-8.
HOSTILE=$(printf '%s/we"ird\\na\nme\xff' "$T")
cp "$FIXTURES/sleeper" "$HOSTILE"
start_fixture -n "hostile sleeper" -e "$HOSTILE" "$HOSTILE" || finish
HPID=$RPID

"$CGOPS" memstats --json "$AF" >"$T/ms.before" || fail "memstats before"
"$CGOPS" stats --json "$AF" >"$T/stats.before" || fail "stats before"
start=$(date +%s)
timeout 20 "$CGOPS" metrics --timeout 5s >"$T/m.txt" 2>"$T/m.err"
RC=$?
end=$(date +%s)
ERR=$(cat "$T/m.err")
expect_rc 0 "cgops metrics"
"$CGOPS" memstats --json "$AF" >"$T/ms.after" || fail "memstats after"
promtool check metrics <"$T/m.txt" >"$T/promtool.out" 2>&1 && pass "promtool check metrics accepts it" ||
    fail "promtool: $(cat "$T/promtool.out")"

# The silent agent: the run ends at the process's 2 s bound, not the run's
# 5 s (20 s is only the guard against a hang); its process still has its
# own figures, and a timeout is counted.
[ $((end - start)) -lt 5 ] && pass "a silent agent holds the run at most its process's bound" ||
    fail "the run took $((end - start)) s with a silent agent"
[ "$(mval "$T/m.txt" cgops_agent_up "$SPID")" = 0 ] && pass "silent agent: cgops_agent_up 0" ||
    fail "silent agent: up $(mval "$T/m.txt" cgops_agent_up "$SPID")"
n=$(gval "$T/m.txt" cgops_scrape_errors_total reason=timeout)
[ "$n" != absent ] && [ "$n" -ge 1 ] && pass "silent agent: a timeout counted ($n)" || fail "timeouts: $n"
[ "$(mval "$T/m.txt" go_goroutines "$SPID")" != absent ] && pass "silent agent: goroutines read from memory instead" ||
    fail "silent agent: no go_goroutines"

# agentfix: its agent answers, and the figures are the agent's.
[ "$(mval "$T/m.txt" cgops_agent_up "$AF")" = 1 ] && pass "agentfix: cgops_agent_up 1" || fail "agentfix: not up"
a=$(jq -r .goroutines "$T/stats.before")
g=$(mval "$T/m.txt" go_goroutines "$AF")
# Each connection to the agent has a goroutine while served; metrics has
# two open at once.
[ "$g" -ge "$a" ] && [ "$g" -le $((a + 1)) ] && pass "agentfix: go_goroutines $g is the agent's ($a, +1 connection)" ||
    fail "agentfix: go_goroutines $g, agent says $a"
for pair in "cgops_gc_cycles_total num_gc" "go_memstats_next_gc_bytes next_gc"; do
    set -- $pair
    b=$(jq -r ".$2" "$T/ms.before") af=$(jq -r ".$2" "$T/ms.after") got=$(mval "$T/m.txt" "$1" "$AF")
    [ "$b" = "$af" ] || { skip "$1: changed between two reads of the agent ($b, $af)"; continue; }
    [ "$got" = "$b" ] && pass "agentfix: $1 = the agent's $2 ($b)" || fail "agentfix: $1 $got, agent $b"
done
# Monotonic figures lie between a read before and a read after.
for pair in "go_memstats_mallocs_total mallocs" "go_memstats_frees_total frees" "go_memstats_alloc_bytes_total total_alloc"; do
    set -- $pair
    b=$(jq -r ".$2" "$T/ms.before") af=$(jq -r ".$2" "$T/ms.after") got=$(mval "$T/m.txt" "$1" "$AF")
    [ "$got" != absent ] && [ "$got" -ge "$b" ] && [ "$got" -le "$af" ] &&
        pass "agentfix: $1 $got within the agent's $b..$af" || fail "agentfix: $1 $got not within $b..$af"
done
got=$(mval "$T/m.txt" go_memstats_heap_sys_bytes "$AF") b=$(jq -r .heap_sys "$T/ms.before") af=$(jq -r .heap_sys "$T/ms.after")
[ "$got" = "$b" ] || [ "$got" = "$af" ] && pass "agentfix: heap_sys as the agent says" || fail "agentfix: heap_sys $got, agent $b / $af"

# The hostile name: the label values parse back to the path and to the
# name as the listing escapes it, the invalid byte as U+FFFD.
/usr/bin/python3 - "$T/m.txt" "$HPID" "$HOSTILE" <<'PY' && pass "hostile exe and name: escaped, and parse back" || fail "hostile name: see above"
import os, sys
from prometheus_client.parser import text_string_to_metric_families
path, pid, exe = sys.argv[1], sys.argv[2], os.fsencode(sys.argv[3]).decode("utf-8", "replace")
base = exe.rsplit("/", 1)[1]
want_name = base.replace("\\", "\\\\").replace("\n", "\\n")
for fam in text_string_to_metric_families(open(path, encoding="utf-8").read()):
    for s in fam.samples:
        if s.labels.get("pid") == pid:
            if s.labels["exe"] != exe or s.labels["name"] != want_name:
                print(f"exe {s.labels['exe']!r} want {exe!r}; name {s.labels['name']!r} want {want_name!r}")
                sys.exit(1)
            sys.exit(0)
print("no series for the hostile process")
sys.exit(1)
PY
grep -q "exe=\"[^\"]*we\\\\\"ird\\\\\\\\na\\\\nme" "$T/m.txt" && pass "hostile exe: \\\", \\\\ and \\n escapes in the text" ||
    fail "hostile exe escapes: $(grep "pid=\"$HPID\"" "$T/m.txt" | head -1)"

# OpenMetrics: the same figures, parsed by an OpenMetrics parser (which
# refuses a family declared twice or anything after # EOF).
run "$CGOPS" metrics --openmetrics --timeout 5s
expect_rc 0 "--openmetrics"
[ "$(tail -n 1 "$T/out")" = "# EOF" ] && pass "OpenMetrics ends with # EOF" || fail "last line: $(tail -n 1 "$T/out")"
/usr/bin/python3 - "$T/out" "$AF" <<'PY' >"$T/om.check" 2>&1 && pass "OpenMetrics parser accepts it" || fail "OpenMetrics: $(cat "$T/om.check")"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1], encoding="utf-8").read())}
assert fams["go_memstats_mallocs"].type == "counter", fams["go_memstats_mallocs"].type
assert any(s.name == "go_memstats_mallocs_total" and s.labels["pid"] == sys.argv[2] for s in fams["go_memstats_mallocs"].samples)
assert fams["cgops_agent_up"].type == "gauge"
PY
if promtool check metrics <"$T/out" >"$T/promtool.out" 2>&1; then
    pass "promtool accepts the OpenMetrics text too"
else
    # promtool reads only the Prometheus text format: OpenMetrics' counter
    # families without _total and the unknown type are not its grammar.
    skip "promtool does not read OpenMetrics: $(head -c 200 "$T/promtool.out")"
fi

# The parkfixes without an agent: their goroutines from memory equal the
# runtime's own dump (SIGQUIT, GOTRACEBACK=system): go_goroutines counts as
# runtime.NumGoroutine (the runtime's goroutines left out), the states sum
# to every goroutine.
for PF in $PFS; do
    g=$(mval "$T/m.txt" go_goroutines "$PF")
    sum=0
    for st in running runnable waiting syscall idle copystack preempted; do
        v=$(mval "$T/m.txt" cgops_goroutines "$PF" "$st")
        [ "$v" = absent ] || sum=$((sum + v))
    done
    sys=$(mval "$T/m.txt" cgops_goroutines "$PF" syscall)
    quit_dump "$PF" "$T/pf.quit" || continue
    user=$(gotrace parse --user "$T/pf.quit" | jq length)
    all=$(gotrace parse "$T/pf.quit" | jq '[.[] | select(.id != 0)] | length')
    insys=$(gotrace parse "$T/pf.quit" | jq '[.[] | select(.id != 0 and .state == "syscall")] | length')
    [ "$g" = "$user" ] && pass "parkfix $PF: go_goroutines $g = the runtime dump's user goroutines" ||
        fail "parkfix $PF: go_goroutines $g, runtime's dump $user"
    [ "$sum" = "$all" ] && pass "parkfix $PF: cgops_goroutines sum to the dump's $all goroutines" ||
        fail "parkfix $PF: states sum to $sum, dump has $all"
    [ "$sys" = "$insys" ] && pass "parkfix $PF: $sys in syscall, as in the dump" ||
        fail "parkfix $PF: syscall $sys, dump $insys"
done

# --state: the counters carry over; a file that is not a state file starts
# them again with a message; a state file that cannot be written fails.
run "$CGOPS" metrics --timeout 3s --state "$T/state"
expect_rc 0 "--state, first run"
n1=$(gval "$T/out" cgops_scrape_errors_total reason=timeout)
grep -qx "timeout $n1" "$T/state" && pass "the state file holds the count ($n1)" || fail "state: $(cat "$T/state")"
run "$CGOPS" metrics --timeout 3s --state "$T/state"
n2=$(gval "$T/out" cgops_scrape_errors_total reason=timeout)
[ "$n2" -gt "$n1" ] && pass "--state: the timeouts add up ($n1, then $n2)" || fail "--state: $n1 then $n2"
echo "garbage" >"$T/state"
run "$CGOPS" metrics --timeout 3s --state "$T/state"
expect_rc 0 "--state with garbage"
expect_err_contains "counting from zero" "garbage state file: said"
n3=$(gval "$T/out" cgops_scrape_errors_total reason=timeout)
[ "$n3" -le "$n1" ] && pass "garbage state: counting restarted ($n3)" || fail "garbage state: $n3"
run "$CGOPS" metrics --timeout 3s --state "$T/nodir/state"
expect_rc 1 "--state in a missing directory"
expect_err_contains "cannot write state file" "unwritable state: said"
expect_out_contains "cgops_processes" "unwritable state: the text is still printed"

finish

#!/bin/bash
# 32-agent-multi.sh -- several targets and --all: target order kept, one dead
# target does not stop the others, exit status says whether all succeeded.
# ctest: run serial (--all must see no other test's agents)
. "$(dirname "$0")/lib.sh"

start_agent agentfix -goroutines 3; P1=$APID APORT1=$APORT
start_agent agentfix-static -goroutines 7; P2=$APID
start_fault refused; DEAD=127.0.0.1:$FPORT
start_fault silent; SILENT=127.0.0.1:$FPORT SPID=$FPID SPORT=$FPORT
V=$(go version "$FIXTURES/agentfix" | awk '{print $2}')

run "$CGOPS" version "$P1" "$P2"
expect_rc 0 "two good targets"
expect_out_eq "==> $P1 <==
$V

==> $P2 <==
$V" "text blocks in target order"

# The silent target is first: the others finish meanwhile and wait, spooled,
# for their turn; the dead one reports its error in its place.
run "$CGOPS" stats "$SILENT" "$P2" "$DEAD" "$P1" --timeout 2s
expect_rc 1 "one silent and one dead target"
printf '%s\n' "$OUT" | grep '^==>' >"$T/heads"
[ "$(cat "$T/heads")" = "==> $SILENT <==
==> $P2 <==
==> $DEAD <==
==> $P1 <==" ] && pass "headers in target order" || fail "headers: $(cat "$T/heads")"
[ "$(printf '%s\n' "$OUT" | grep -c '^goroutines: ')" = 2 ] && pass "both live targets answered" || fail "answers: $OUT"
expect_err_eq "cgops: $SILENT: timed out after 2s waiting for the stats reply (0 bytes received)
cgops: $DEAD: cannot connect: connection refused" "errors in target order"

# A waiting target's reply larger than the in-memory spool (64 KiB) moves
# to a temp file and still comes out whole, in its place.
start_agent agentfix -goroutines 2000; P3=$APID
run "$CGOPS" stack "$SILENT" "$P3" "$P1" --timeout 2s
expect_rc 1 "silent first, big stack second"
printf '%s\n' "$OUT" | awk '/^==> /{h=$0} /^goroutine /{n[h]++} END{for (k in n) print k, n[k]}' | sort >"$T/counts"
n3=$(awk -v h="==> $P3 <==" 'index($0, h) == 1 {print $NF}' "$T/counts")
n1=$(awk -v h="==> $P1 <==" 'index($0, h) == 1 {print $NF}' "$T/counts")
[ "${#OUT}" -gt 200000 ] && [ "${n3:-0}" -ge 2000 ] && [ "${n1:-0}" -ge 3 ] &&
    pass "spilled spool: big block whole, next block follows" || fail "spill: $(cat "$T/counts") size ${#OUT}"
[ "$(printf '%s\n' "$OUT" | grep '^==>' | tr '\n' ' ')" = "==> $SILENT <== ==> $P3 <== ==> $P1 <== " ] &&
    pass "spilled spool keeps target order" || fail "spill order"
# Nowhere to spill ($TMPDIR, which cgops honours, does not exist): a clear
# error and exit 1, never a silently shortened block.
run env TMPDIR="$T/none" "$CGOPS" stack "$SILENT" "$P3" --timeout 1s
expect_rc 1 "spool cannot spill"
expect_err_eq "cgops: $SILENT: timed out after 1s waiting for the stack reply (0 bytes received)
cgops: $P3: cannot spool the reply in a temporary file: No such file or directory" "spill failure message"
# More targets than descriptors (ulimit -n 32): requests go in waves, and
# spilled spools count against the same budget, so none fails with "too
# many open files".
many=$(for i in $(seq 30); do printf '%s ' "$P3"; done)
(ulimit -n 32; exec "$CGOPS" stack "$SILENT" $many --timeout 2s) >"$T/many.out" 2>"$T/many.err"; RC=$?
expect_rc 1 "30 big stacks behind a silent target, 32 descriptors"
[ "$(grep -c '^==> ' "$T/many.out")" = 31 ] && [ "$(grep -c '^goroutine ' "$T/many.out")" -ge 60000 ] &&
    pass "every block whole within 32 descriptors" || fail "many: $(grep -c '^goroutine ' "$T/many.out") goroutines"
[ "$(cat "$T/many.err")" = "cgops: $SILENT: timed out after 2s waiting for the stack reply (0 bytes received)" ] &&
    pass "only the silent target failed" || fail "many errors: $(sort "$T/many.err" | uniq -c)"
many=$(for i in $(seq 40); do printf '%s 127.0.0.1:%s ' "$P1" "$APORT1"; done)
(ulimit -n 32; exec "$CGOPS" version $many) >"$T/many.out" 2>"$T/many.err"; RC=$?
expect_rc 0 "80 targets by pid and address, 32 descriptors"
[ "$(grep -c '^go' "$T/many.out")" = 80 ] && pass "80 versions within 32 descriptors" || fail "many versions: $(head -3 "$T/many.err")"
rm -f "$T/many.out"

kill "$P3"; wait "$P3" 2>/dev/null; rm -f "$GOPS_CONFIG_DIR/$P3"

"$CGOPS" stats "$P1" "$DEAD" "$P2" --json >"$T/m.json"; RC=$?
expect_rc 1 "--json with a dead target"
validate agent-multi.schema.json "$T/m.json"
[ "$(jq -c '[.[] | .target]' "$T/m.json")" = "[\"$P1\",\"$DEAD\",\"$P2\"]" ] && pass "json order" || fail "json order"
[ "$(jq -r '.[1].error' "$T/m.json")" = "$DEAD: cannot connect: connection refused" ] && pass "json error object" || fail "json error"
[ "$(jq '.[0].result.goroutines >= 3 and .[2].result.goroutines >= 7' "$T/m.json")" = true ] && pass "json results" || fail "json results"

"$CGOPS" stack "$P1" "$P2" --json >"$T/s.json"
validate agent-multi.schema.json "$T/s.json"
[ "$(jq '[.[1].result[] | select(.frames[0].function == "main.blockForever")] | length' "$T/s.json")" -ge 7 ] &&
    pass "multi-target stack json streams each target" || fail "multi stack json"

# --all: every local process with a verified agent (ours: private config dir).
run "$CGOPS" stats --all
expect_rc 0 "--all"
expect_out_contains "==> $P1 <==" "--all includes agent 1"
expect_out_contains "==> $P2 <==" "--all includes agent 2"
[ "$(printf '%s\n' "$OUT" | grep -c '^==>')" = 2 ] && pass "--all has exactly our two agents" || fail "--all: $OUT"
"$CGOPS" version --all --json >"$T/a.json"
validate agent-multi.schema.json "$T/a.json"
# --all queries each agent as soon as discovery finds it.  A silent one
# among them (faultsrv, given a port file for the port it holds) does not
# hold up the others: blocks and errors still come in pid order.
echo "$SPORT" >"$GOPS_CONFIG_DIR/$SPID"
run "$CGOPS" stats --all --timeout 2s
expect_rc 1 "--all with a silent agent"
want=$(printf '%s\n' "$P1" "$P2" "$SPID" | sort -n | sed 's/.*/==> & <==/')
[ "$(printf '%s\n' "$OUT" | grep '^==>')" = "$want" ] && pass "--all blocks in pid order" || fail "--all order: $OUT"
[ "$(printf '%s\n' "$OUT" | grep -c '^goroutines: ')" = 2 ] && pass "--all: the live agents answered" || fail "--all answers: $OUT"
expect_err_eq "cgops: $SPID: timed out after 2s waiting for the stats reply (0 bytes received)" "--all: the silent agent's error"
"$CGOPS" stats --all --json --timeout 2s >"$T/as.json"; RC=$?
expect_rc 1 "--all --json with a silent agent"
validate agent-multi.schema.json "$T/as.json"
[ "$(jq -c '[.[].pid]' "$T/as.json")" = "$(printf '%s\n' "$P1" "$P2" "$SPID" | sort -n | jq -sc .)" ] &&
    pass "--all --json in pid order" || fail "--all json order: $(cat "$T/as.json")"
[ "$(jq -r ".[] | select(.pid == $SPID) | .error" "$T/as.json")" = "$SPID: timed out after 2s waiting for the stats reply (0 bytes received)" ] &&
    pass "--all --json error object" || fail "--all json error"
rm -f "$GOPS_CONFIG_DIR/$SPID"

run "$CGOPS" stats --all "$P1"
expect_rc 2 "--all with targets"
rm -f "$GOPS_CONFIG_DIR"/*
run env HOME=/nonexistent "$CGOPS" stats --all
expect_rc 1 "--all without agents"
expect_err_eq "cgops: no process with a gops agent found" "--all without agents message"
finish

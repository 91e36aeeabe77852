#!/bin/bash
# 10-list.sh -- cgops lists every fixture flavour with the version `go version`
# reports, marks agents, and leaves non-Go programs out; --json validates.
. "$(dirname "$0")/lib.sh"

declare -A PIDS
for fx in agentfix-stripped agentfix-pie agentfix-static agentfix-cgo agentfix-trimpath; do
    start_fixture "$FIXTURES/$fx" -noagent
    PIDS[$fx]=$RPID
done
start_agent agentfix || fail "agentfix did not start"
PIDS[agentfix]=$APID
start_fixture -e "$FIXTURES/csleeper" "$FIXTURES/csleeper"; CPID=$RPID
start_fixture -e /bin/sh "$FIXTURES/shsleeper.sh"; SHPID=$RPID
start_fixture -e sleep sleep 1000; SLPID=$RPID

run "$CGOPS"
expect_rc 0 "cgops"
[ -z "$ERR" ] && pass "no stderr without -v" || fail "stderr without -v: $ERR"
for fx in "${!PIDS[@]}"; do
    pid=${PIDS[$fx]}
    want=$(go version "$FIXTURES/$fx" | awk '{print $2}')
    line=$(line_of "$pid")
    # pid ppid name [*] version path: drop the marker to split the fields
    set -- ${line//\*/ }
    [ "${5:-}" = "$FIXTURES/$fx" ] && [ "$4" = "$want" ] && pass "$fx listed with $want" ||
        fail "$fx: line '$line', want version $want and path $FIXTURES/$fx"
done
for pid in $CPID $SHPID $SLPID; do
    [ -z "$(line_of "$pid")" ] && pass "non-Go pid $pid not listed" || fail "non-Go pid $pid listed: $(line_of "$pid")"
done

# The agent is marked with '*' right after the padded name, others are not.
line=$(line_of "${PIDS[agentfix]}")
[[ "$line" =~ ^[0-9]+\ +[0-9]+\ +agentfix\ *\*\ go ]] && pass "agent marked" || fail "agent not marked: '$line'"
line=$(line_of "${PIDS[agentfix-pie]}")
case "$line" in *"*"*) fail "non-agent marked: '$line'" ;; *) pass "non-agent unmarked" ;; esac

# Column layout: every line has the same offset for the version column.
cols=$(printf '%s\n' "$OUT" | awk '{ print index($0, " go") }' | sort -u | wc -l)
[ "$cols" -eq 1 ] && pass "version column aligned" || fail "version column not aligned: $OUT"
# Sorted by pid.
printf '%s\n' "$OUT" | awk '{print $1}' | sort -n -c && pass "sorted by pid" || fail "not sorted by pid"

# --json: same processes, typed fields, valid against the schema.
"$CGOPS" --json >"$T/list.json"; RC=$?
expect_rc 0 "cgops --json"
validate list.schema.json "$T/list.json"
for fx in "${!PIDS[@]}"; do
    pid=${PIDS[$fx]}
    want=$(go version "$FIXTURES/$fx" | awk '{print $2}')
    got=$(jq -r --argjson p "$pid" '.[] | select(.pid == $p) | .go_version' "$T/list.json")
    [ "$got" = "$want" ] && pass "json $fx go_version" || fail "json $fx go_version '$got' want '$want'"
done
[ "$(jq --argjson p "${PIDS[agentfix]}" '.[] | select(.pid == $p) | .agent and .agent_verified' "$T/list.json")" = true ] &&
    pass "json agent verified" || fail "json agent flag"
[ "$(jq --argjson p "${PIDS[agentfix]}" '.[] | select(.pid == $p) | .agent_port' "$T/list.json")" = "$APORT" ] &&
    pass "json agent port" || fail "json agent port"
[ "$(jq --argjson p "${PIDS[agentfix-static]}" '.[] | select(.pid == $p) | .static' "$T/list.json")" = true ] &&
    pass "json static" || fail "json static flag"
[ "$(jq --argjson p "${PIDS[agentfix-pie]}" '.[] | select(.pid == $p) | .pie' "$T/list.json")" = true ] &&
    pass "json pie" || fail "json pie flag"
[ "$(jq --argjson p "${PIDS[agentfix-stripped]}" '.[] | select(.pid == $p) | .stripped' "$T/list.json")" = true ] &&
    pass "json stripped" || fail "json stripped flag"
[ "$(jq --argjson p "${PIDS[agentfix]}" -r '.[] | select(.pid == $p) | .main_module' "$T/list.json")" = cgops.test/fixtures ] &&
    pass "json main module" || fail "json main module"
for pid in $CPID $SHPID $SLPID; do
    [ "$(jq --argjson p "$pid" '[.[] | select(.pid == $p)] | length' "$T/list.json")" = 0 ] &&
        pass "json: non-Go $pid absent" || fail "json: non-Go $pid present"
done

# A port file removed: no '*' any more.
rm -f "$APORTFILE"
run "$CGOPS"
case "$(line_of "${PIDS[agentfix]}")" in *"*"*) fail "marked without port file" ;; *) pass "unmarked without port file" ;; esac

# tree: "..." first, the fixtures under their parent, agent form "[*]  PID (NAME) {VER}".
echo -n 5 > "$GOPS_CONFIG_DIR/x"  # unrelated file in the dir must not matter
printf '%s' "$APORT" > "$APORTFILE"
run "$CGOPS" tree
expect_rc 0 "cgops tree"
[ "$(printf '%s\n' "$OUT" | head -n1)" = "..." ] && pass "tree starts with ..." || fail "tree first line: $OUT"
[ "$(tail -c 2 "$T/out" | od -An -c | tr -d ' ')" = '\n\n' ] && pass "tree ends with an empty line" || fail "tree ending"
want=$(go version "$FIXTURES/agentfix" | awk '{print $2}')
expect_out_contains "── [*]  ${PIDS[agentfix]} (agentfix) {$want}" "tree agent node"
expect_out_contains "── ${PIDS[agentfix-pie]} (agentfix-pie) {$want}" "tree plain node"
expect_out_contains "── $$" "tree parent node is the test shell"
"$CGOPS" tree --json >"$T/tree.json"
validate tree.schema.json "$T/tree.json"
[ "$(jq --argjson p $$ --argjson c "${PIDS[agentfix]}" '[.. | objects | select(.pid == $p) | .children[] | select(.pid == $c)] | length' "$T/tree.json")" = 1 ] &&
    pass "tree json nests the fixture under its parent" || fail "tree json nesting"

# A Go program whose file name is not UTF-8, or holds a newline: the text
# listing keeps one process per line (the name escaped as in
# /proc/PID/status, then, as ps does, '?' for a byte that is not UTF-8 and
# for a control character in the path), the JSON stays valid (bad bytes
# become U+FFFD).
odd="$T/$(printf 'bad\377\nname')"
cp "$FIXTURES/sleeper" "$odd"
start_fixture -e "$odd" "$odd"; OPID=$RPID
run "$CGOPS"
[ "$(printf '%s\n' "$OUT" | awk -v p="$OPID" '$1 == p' | wc -l)" = 1 ] &&
    [ "$(printf '%s\n' "$OUT" | awk -v p="$OPID" '$1 == p {print $3}')" = 'bad?\nname' ] &&
    [ "$(printf '%s\n' "$OUT" | awk -v p="$OPID" '$1 == p {print $NF}')" = "$T/bad??name" ] &&
    pass "odd name: one line, newline escaped" || fail "odd name: $(printf '%s\n' "$OUT" | grep -a -A1 "^$OPID ")"
"$CGOPS" --json >"$T/odd.json"
validate list.schema.json "$T/odd.json"
[ "$(jq -r --argjson p "$OPID" '.[] | select(.pid == $p) | .name' "$T/odd.json")" = "$(printf 'bad\357\277\275\\nname')" ] &&
    pass "odd name in JSON: U+FFFD for the bad byte" || fail "odd json name: $(jq -c --argjson p "$OPID" '.[] | select(.pid == $p)' "$T/odd.json")"
"$CGOPS" tree --json >"$T/odd-tree.json"
validate tree.schema.json "$T/odd-tree.json"
finish

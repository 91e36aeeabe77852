#!/bin/bash
# 66-memstats-agentless.sh -- memstats read from the runtime's globals
# (DWARF) without asking the agent, against the agent's own figures on the
# same idle process: values that cannot move between the calls are equal,
# counters lie between the agent's answer before and after; the stripped
# build (no DWARF) is refused with a message, never guessed.
. "$(dirname "$0")/lib.sh"

start_agent agentfix || finish
run "$CGOPS" memstats --json "$APID"
expect_rc 0 "the agent's memstats"
cp "$T/out" "$T/before"
run "$CGOPS" memstats --agentless --json "$APID"
expect_rc 0 "memstats --agentless --json"
cp "$T/out" "$T/less"
validate agent-memstats.schema.json "$T/less"
run "$CGOPS" memstats --json "$APID"
cp "$T/out" "$T/after"
for k in $(jq -r 'keys[]' "$T/less"); do
    b=$(jq -c ".$k" "$T/before") l=$(jq -c ".$k" "$T/less") a=$(jq -c ".$k" "$T/after")
    case $k in
    mallocs | frees | total_alloc | lookups)
        # Monotonic: between the agent's answers before and after.
        [ "$b" -le "$l" ] && [ "$l" -le "$a" ] || fail "$k: $l not within [$b, $a]" ;;
    alloc | heap_alloc | heap_objects | heap_idle | heap_in_use | heap_released | stack_in_use | stack_sys | \
        mspan_in_use | mcache_in_use | sys | heap_sys | other_sys | gc_sys | mspan_sys)
        # Moved by the agent's own requests: only where both agent calls agree.
        [ "$b" != "$a" ] || [ "$l" = "$b" ] || fail "$k: agentless $l, agent $b both times" ;;
    *)
        [ "$b" != "$a" ] || [ "$l" = "$b" ] || fail "$k: agentless $l, agent $b both times" ;;
    esac
done
n=$(jq 'keys | length' "$T/less")
[ "$n" -ge 20 ] && pass "$n keys read without the agent agree with the agent's" || fail "only $n keys: $(cat "$T/less")"
run "$CGOPS" memstats --agentless "$APID"
expect_rc 0 "memstats --agentless (text)"
expect_out_contains "heap-alloc: " "the agent's text format"
expect_out_contains "next-gc: when heap-alloc >= " "the agent's next-gc line"
# The text goes through the agent's parser to the same JSON.
grep -c ': ' "$T/out" | grep -qx "$n" && pass "text and JSON have the same keys" || fail "text lines vs $n keys"

# summary shows the scheduler's counters and the GC figures from DWARF.
run "$CGOPS" summary --json "$APID"
expect_rc 0 "summary with DWARF"
validate summary.schema.json "$T/out"
[ "$(jq .gc.num_gc "$T/out")" = "$(jq .num_gc "$T/after")" ] && pass "summary's GC count is the agent's" ||
    fail "summary num_gc $(jq .gc.num_gc "$T/out"), agent $(jq .num_gc "$T/after")"
[ "$(jq '.scheduler.idle_ps' "$T/out")" -le "$(jq '.ps | length' "$T/out")" ] && pass "idle Ps within the Ps" ||
    fail "scheduler: $(jq -c .scheduler "$T/out")"
run "$CGOPS" summary "$APID"
expect_out_contains "run queue:" "summary text: the scheduler line"
expect_out_contains "gc:  " "summary text: the GC line"

# No agent: memstats falls back to memory and says so.
start_fixture "$FIXTURES/parkfix" -noagent || finish
run "$CGOPS" memstats "$RPID"
expect_rc 0 "memstats without an agent"
expect_err_contains "from its memory instead" "says it reads memory"
expect_out_contains "num-gc: " "figures printed"
run "$CGOPS" memstats --agent-only "$RPID"
expect_rc 1 "memstats --agent-only without an agent"

# Stripped: no DWARF, nothing guessed.
start_fixture "$FIXTURES/parkfix-stripped" -noagent || finish
run "$CGOPS" memstats "$RPID"
expect_rc 1 "memstats of a stripped binary without an agent"
expect_err_contains "DWARF" "the message says why"
[ -z "$OUT" ] && pass "nothing printed on stdout" || fail "printed: $OUT"
run "$CGOPS" summary --json "$RPID"
expect_rc 0 "summary of a stripped binary"
[ "$(jq -r .scheduler "$T/out")" = null ] && [[ "$(jq -r .dwarf_figures_error "$T/out")" == *DWARF* ]] &&
    pass "summary without DWARF: no guessed figures, and why" || fail "stripped summary: $(jq -c '{scheduler, gc, dwarf_figures_error}' "$T/out")"
finish

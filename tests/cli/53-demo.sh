#!/bin/bash
# 53-demo.sh -- README's first command ends with scripts/demo.sh: it must show
# the example in the listing, its stats and memstats, then stop it.
. "$(dirname "$0")/lib.sh"

run sh "$CGOPS_SRC/scripts/demo.sh" "$CGOPS"
expect_rc 0 "demo"
pid=$(printf '%s\n' "$OUT" | sed -n 's/^Started the example Go program (pid \([0-9]*\)).*/\1/p')
[ -n "$pid" ] && pass "demo started the example ($pid)" || fail "no pid: $OUT"
# The name column is as wide as the longest name listed, other tests'
# fixtures included (agentfix-stripped): the '*' follows the padding.
printf '%s\n' "$OUT" | grep -Eq "^$pid +[0-9]+ +agentfix *\\* +go1\\." && pass "listing shows the example with '*'" || fail "listing: $OUT"
expect_out_contains "goroutines: " "stats shown"
printf '%s\n' "$OUT" | sed -n '/memstats .* --json$/,/^}$/p' | sed '1d' | jq -e .heap_alloc >/dev/null &&
    pass "memstats --json shown and valid" || fail "memstats json"
# demo.sh kills and reaps the example before it exits; the wait is only a
# bound in case the pid lingers (a zombie being reaped by init).
for i in $(seq 100); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
[ ! -e "/proc/$pid" ] && pass "the example was stopped" || fail "example $pid still running"
finish

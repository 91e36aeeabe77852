#!/bin/bash
# 52-exit-codes.sh -- the documented exit statuses: 0 success, 1 a target or
# the operation failed, 2 usage error; results on stdout, errors on stderr.
. "$(dirname "$0")/lib.sh"

start_agent agentfix
start_fault refused; DEAD=127.0.0.1:$FPORT

ok() { run "$@"; expect_rc 0 "$*"; }
failed() { run "$@"; expect_rc 1 "$*"; [ -n "$ERR" ] || fail "$*: no message on stderr"; }
usage() { run "$@"; expect_rc 2 "$*"; [[ "$ERR" == cgops:*$'\n'hint:* ]] && pass "one-line error plus hint" || fail "$*: stderr '$ERR'"; }

ok "$CGOPS"
ok "$CGOPS" tree
ok "$CGOPS" --help
ok "$CGOPS" "$APID"
ok "$CGOPS" stats "$APID"
ok "$CGOPS" stats "$APID" "$APID"
failed "$CGOPS" stats "$DEAD"
failed "$CGOPS" stats "$APID" "$DEAD"
failed "$CGOPS" 4000000
failed "$CGOPS" memstats 4000000
usage "$CGOPS" frobnicate
usage "$CGOPS" --frobnicate
usage "$CGOPS" tree --frobnicate
usage "$CGOPS" stats
usage "$CGOPS" setgc "$APID" lots
usage "$CGOPS" process "$APID" 1 2

# --json keeps stdout a single document and errors out of it.
"$CGOPS" memstats "$APID" --json 2>"$T/e" | jq -e .heap_alloc >/dev/null && [ ! -s "$T/e" ] &&
    pass "memstats --json | jq works, stderr empty" || fail "json pipe"
"$CGOPS" memstats "$DEAD" --json >"$T/o" 2>"$T/e"
validate agent-error.schema.json "$T/o"
[ "$(jq -r .target "$T/o")" = "$DEAD" ] && [ -s "$T/e" ] &&
    pass "a failed --json command prints an error object, the message on stderr" || fail "failed json stdout"

# Too few descriptors: a plain refusal (exit 1), not a libuv abort or a
# listing that silently skips processes; 16 is enough.
for args in "" "version $APID" "$APID"; do
    (ulimit -n 8; exec "$CGOPS" $args) >"$T/o" 2>"$T/e"; rc=$?
    [ $rc -eq 1 ] && [ ! -s "$T/o" ] &&
        [ "$(cat "$T/e")" = "cgops: too few open files allowed (ulimit -n 8); cgops needs at least 16" ] &&
        pass "ulimit -n 8, '${args:-(listing)}': refused, exit 1" || fail "ulimit -n 8 '$args': rc $rc $(cat "$T/e")"
done
(ulimit -n 16; exec "$CGOPS" stats "$APID") >"$T/o" 2>"$T/e"; rc=$?
[ $rc -eq 0 ] && grep -q '^goroutines: ' "$T/o" && pass "ulimit -n 16 is enough" || fail "ulimit -n 16: rc $rc $(cat "$T/e")"

# A write error on stdout is a failure, not a silent success.
if [ -w /dev/full ]; then
    "$CGOPS" --help >/dev/full 2>"$T/e"; rc=$?
    [ $rc -eq 1 ] && grep -q "write error" "$T/e" && pass "write error on stdout: exit 1" || fail "write error: rc $rc $(cat "$T/e")"
else
    skip "write error on stdout (no writable /dev/full)"
fi
finish

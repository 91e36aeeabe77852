#!/bin/bash
# 12-synthetic-elf.sh -- running processes whose executables Go 1.19 cannot
# produce (old build info, pclntab only) or that are corrupt: listed right,
# or skipped, never a crash.
. "$(dirname "$0")/lib.sh"

declare -A P
for k in old inline pclntab note plain badptr hugelen varint sect-past-eof shoff-past-eof; do
    "$CGOPS_BUILD/mkelf" "$k" "$T/elf-$k" && chmod +x "$T/elf-$k" || fail "mkelf $k"
    start_fixture -e "$T/elf-$k" "$T/elf-$k"
    P[$k]=$RPID
done
run "$CGOPS"
expect_rc 0 "listing with synthetic ELF processes"
[ -z "$ERR" ] && pass "no stderr" || fail "stderr: $ERR"
check() { # KIND VERSION
    line=$(line_of "${P[$1]}")
    set -- "$1" "$2" ${line//\*/ }
    [ "${6:-}" = "$2" ] && pass "$1 listed as $2" || fail "$1: line '$line', want version $2"
}
check old go1.16.15
check inline go1.21.4
check pclntab unknown
check note unknown
check shoff-past-eof go1.21.4
for k in plain badptr hugelen varint sect-past-eof; do
    [ -z "$(line_of "${P[$k]}")" ] && pass "$k not listed" || fail "$k listed: $(line_of "${P[$k]}")"
done
"$CGOPS" --json >"$T/l.json"
validate list.schema.json "$T/l.json"
[ "$(jq --argjson p "${P[pclntab]}" '.[] | select(.pid == $p) | .go_version' "$T/l.json")" = null ] &&
    pass "json: unknown version is null" || fail "json unknown version"
run "$CGOPS" -v
expect_rc 0 "-v with corrupt executables"
finish

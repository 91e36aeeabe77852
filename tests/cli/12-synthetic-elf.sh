#!/bin/bash
# 12-synthetic-elf.sh -- running processes whose executables Go 1.19 cannot
# produce (old build info, pclntab only, a version only in
# runtime.buildVersion) or that are corrupt or claim gigabytes (sparse
# files): listed right, or skipped, never a crash or a stall.
. "$(dirname "$0")/lib.sh"

declare -A P
KINDS="old inline pclntab note plain badptr hugelen varint sect-past-eof shoff-past-eof
       sparse sparse-go sparse-shnum buildversion buildversion-rc buildversion-exp
       buildversion-ambiguous buildversion-notgo"
for k in $KINDS; do
    "$CGOPS_BUILD/mkelf" "$k" "$T/elf-$k" && chmod +x "$T/elf-$k" || fail "mkelf $k"
    start_fixture -e "$T/elf-$k" "$T/elf-$k"
    P[$k]=$RPID
done
# A real release binary without build info or symbols: Debian's Go with
# -s -w, .go.buildinfo removed.  Its version is only in runtime.buildVersion.
objcopy --strip-all --remove-section .go.buildinfo "$FIXTURES/agentfix-stripped" "$T/nobuildinfo" ||
    fail "objcopy"
start_fixture "$T/nobuildinfo"
P[nobuildinfo]=$RPID

# The sparse files claim 2 GiB sections (and 2^24 section headers): the
# listing must not read them.  Its peak RSS shows that (the reader from
# before the caps grew to 2-3 GiB on these files; ASan builds need more
# than plain ones: 14 MiB here, hence the loose bound).
# (python3 is already a test dependency; GNU time is not.)
run /usr/bin/python3 -c '
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:], stdout=open(sys.argv[1], "w"))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(rc)' "$T/listing.out" "$CGOPS"
rss=$(tail -n 1 <<<"$ERR"); ERR=$(head -n -1 <<<"$ERR"); OUT=$(cat "$T/listing.out")
expect_rc 0 "listing with synthetic ELF processes"
[ -z "$ERR" ] && pass "no stderr" || fail "stderr: $ERR"
[ "$rss" -lt 131072 ] && pass "peak RSS $rss KiB" || fail "peak RSS $rss KiB, want < 128 MiB"
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
check sparse-go go1.21.4
check buildversion go1.26.5
check buildversion-rc go1.27rc1
check buildversion-exp go1.26.5-X:nodwarf5
check buildversion-ambiguous unknown
check nobuildinfo "$(go version "$FIXTURES/agentfix-stripped" | awk '{print $2}')"
for k in plain badptr hugelen varint sect-past-eof sparse sparse-shnum buildversion-notgo; do
    [ -z "$(line_of "${P[$k]}")" ] && pass "$k not listed" || fail "$k listed: $(line_of "${P[$k]}")"
done
"$CGOPS" --json >"$T/l.json"
validate list.schema.json "$T/l.json"
[ "$(jq --argjson p "${P[pclntab]}" '.[] | select(.pid == $p) | .go_version' "$T/l.json")" = null ] &&
    pass "json: unknown version is null" || fail "json unknown version"
run "$CGOPS" -v
expect_rc 0 "-v with corrupt executables"
finish

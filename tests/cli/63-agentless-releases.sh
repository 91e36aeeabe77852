#!/bin/bash
# 63-agentless-releases.sh -- the agentless reader on real Go binaries of
# other releases (esbuild from npm, pinned by checksum: Go 1.16, 1.17,
# 1.20, 1.23 and 1.26, all built -s -w, static), running live: every
# goroutine's id, state and first user frame equal the runtime's own dump
# on SIGQUIT (GOTRACEBACK=system).
. "$(dirname "$0")/lib.sh"

ran=0
for name in go1.16 go1.17 go1.20 go1.23 go1.26; do
    start_gobin "$name"
    case $? in
    0) ;;
    77) continue ;;
    *) continue ;;
    esac
    ran=$((ran + 1))
    pid=$GBPID
    run "$CGOPS" goroutines "$pid"
    expect_rc 0 "$name: goroutines"
    cp "$T/out" "$T/$name.cgops"
    run "$CGOPS" summary --json "$pid"
    expect_rc 0 "$name: summary"
    validate summary.schema.json "$T/out"
    want=${name#go}
    jq -e --arg v "go$want" '.go_version | startswith($v)' "$T/out" >/dev/null &&
        pass "$name: summary names the release ($(jq -r .go_version "$T/out"))" || fail "$name: version $(jq -r .go_version "$T/out")"
    [ "$(jq '.ms | length' "$T/out")" -ge 1 ] && [ "$(jq '.ps | length' "$T/out")" -ge 1 ] &&
        pass "$name: its Ms and Ps are read" || fail "$name: Ms/Ps missing"
    run "$CGOPS" goroutines --json "$pid"
    validate goroutines.schema.json "$T/out"
    quit_dump "$pid" "$T/$name.quit" || continue
    # Every goroutine the runtime printed but goroutine 0 (newer runtimes
    # print the g0 stack of the thread that took SIGQUIT: not a goroutine).
    gotrace summary "$T/$name.quit" | awk -F'\t' '$1 != 0' | sort -n >"$T/q"
    gotrace summary "$T/$name.cgops" | sort -n >"$T/c"
    n=$(wc -l <"$T/q")
    [ "$n" -ge 4 ] || fail "$name: only $n goroutines in the runtime's dump"
    diff -u "$T/q" "$T/c" >"$T/d" && pass "$name: $n goroutines: ids, states and first user frames equal the runtime's dump" ||
        fail "$name: differs from the runtime's dump: $(cat "$T/d")"
    # The frames themselves: the serving goroutine's whole stack.
    grep -q 'net.(\*netFD).accept\|net.(\*TCPListener).accept' "$T/$name.cgops" &&
        pass "$name: the accept loop's frames are there" || fail "$name: no accept frames"
done
[ "$ran" -ge 4 ] || skip_all "Go binaries of other releases not available here (npm unreachable?)"
finish

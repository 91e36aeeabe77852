#!/bin/bash
# 61-agentless-truth.sh -- `cgops goroutines` and `summary` read without an
# agent agree with two ground truths on every build flavour of parkfix
# (default, -s -w, PIE internal and external link, static, cgo, -trimpath):
# (a) the agent's own `stack` reply, (b) the runtime's dump on SIGQUIT
# with GOTRACEBACK=system.  Compared: goroutine ids, states (wait reasons)
# and the first user frame of every goroutine parked by the fixture, and
# the counts by wait reason.
. "$(dirname "$0")/lib.sh"


# The parked goroutines of a dump: "ID<TAB>STATE<TAB>FRAME" for each whose
# first user frame is one of parkfix's park* functions, sorted by id.
parked() {
    gotrace summary "$1" | awk -F'\t' '$3 ~ /^main\.park/' | sort -n
}

for fx in parkfix parkfix-stripped parkfix-pie parkfix-pie-ext parkfix-static parkfix-cgo parkfix-trimpath; do
    GOTRACEBACK=system start_fixture "$FIXTURES/$fx" -count 2 || continue
    pid=$RPID
    run "$CGOPS" goroutines "$pid"
    expect_rc 0 "$fx: goroutines"
    cp "$T/out" "$T/$fx.cgops"
    run "$CGOPS" goroutines --json "$pid"
    expect_rc 0 "$fx: goroutines --json"
    validate goroutines.schema.json "$T/out"
    cp "$T/out" "$T/$fx.json"
    run "$CGOPS" summary --json "$pid"
    expect_rc 0 "$fx: summary --json"
    validate summary.schema.json "$T/out"
    cp "$T/out" "$T/$fx.summary"
    run "$CGOPS" stack --agent-only "$pid"
    expect_rc 0 "$fx: the agent's stack"
    cp "$T/out" "$T/$fx.agent"
    # The runtime's own dump, then the process exits.
    : >"$T/$fx.quit"
    kill -QUIT "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    cp "$BGOUT" "$T/$fx.quit"

    # Every parked goroutine: same id, state and first user frame.
    parked "$T/$fx.cgops" >"$T/a"
    parked "$T/$fx.quit" >"$T/b"
    parked "$T/$fx.agent" >"$T/c"
    n=$(wc -l <"$T/a")
    [ "$n" -ge 16 ] || fail "$fx: only $n parked goroutines in cgops's dump: $(cat "$T/a")"
    diff -u "$T/b" "$T/a" >"$T/d" && pass "$fx: $n parked goroutines equal the runtime's SIGQUIT dump" ||
        fail "$fx: differs from the runtime's dump: $(cat "$T/d")"
    diff -u "$T/c" "$T/a" >"$T/d" && pass "$fx: they equal the agent's stack reply" ||
        fail "$fx: differs from the agent's stack: $(cat "$T/d")"
    # Each park* function appears with the state the runtime gives it.
    for want in "parkChanRecv chan receive" "parkChanSend chan send" "parkSelect select" \
        "parkSleep sleep" "parkIOWait IO wait" "parkSyscall syscall"; do
        f=${want%% *} st=${want#* }
        grep -q "^[0-9]*	$st	main\.$f$" "$T/b" || fail "$fx: the runtime's dump lacks $f in [$st]: $(cat "$T/b")"
    done
    # Counts by wait reason: the summary's against the runtime's dump, for
    # every state that only parked goroutines have (the agent's own
    # goroutines and the dump's may differ in the rest).
    gotrace counts "$T/$fx.quit" >"$T/qc"
    for st in "chan receive" "chan send" "select" "sleep" "semacquire" "sync.Mutex.Lock" "sync.WaitGroup.Wait"; do
        want=$(awk -v s="$st" -F'\t' '$2 == s {print $1}' "$T/qc")
        got=$(jq -r --arg s "$st" '[.goroutines.by_wait_reason[] | select(.key == $s) | .count] | add // 0' "$T/$fx.summary")
        [ "${want:-0}" = "$got" ] || fail "$fx: summary counts $got goroutines in [$st], the runtime's dump ${want:-0}"
    done
    pass "$fx: counts by wait reason equal the runtime's dump"
    # JSON and text agree.
    jt=$(jq -r '.goroutines[] | "\(.id) \(.wait_reason // .status)"' "$T/$fx.json" | sort -n | md5sum)
    tt=$(gotrace summary "$T/$fx.cgops" | awk -F'\t' '{print $1 " " $2}' | sort -n | md5sum)
    [ "$jt" = "$tt" ] && pass "$fx: --json lists the same goroutines and states as the text" ||
        fail "$fx: json and text differ"
done

# --user hides the runtime's goroutines and frames, as the runtime's
# default dump does.
start_fixture "$FIXTURES/parkfix" -noagent || finish
run "$CGOPS" goroutines --user "$RPID"
expect_rc 0 "goroutines --user"
expect_out_lacks "runtime.gopark" "--user frames"
expect_out_lacks "[GC sweep wait]" "--user goroutines"
expect_out_contains "main.parkChanRecv" "--user keeps user frames"
run "$CGOPS" goroutines --depth 2 --json "$RPID"
expect_rc 0 "--depth 2"
[ "$(jq '[.goroutines[].frames | length] | max' "$T/out")" -le 2 ] && pass "--depth bounds the frames" ||
    fail "--depth 2 gave more frames"
[ "$(jq '[.goroutines[] | select(.frames_truncated)] | length' "$T/out")" -gt 0 ] &&
    pass "--depth marks cut goroutines" || fail "no goroutine marked truncated"

finish

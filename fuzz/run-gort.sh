#!/bin/sh
# run-gort.sh FUZZER SEEDDIR -- fuzz the agentless reader (fuzz-gort.c)
# over recordings of live fixtures: parkfix-stripped (the globals found by
# scanning) and parkfix (by symbols), half of FUZZ_SECONDS each.
set -eu
fuzzer=$1
seeds=$2
secs=${FUZZ_SECONDS:-20}
: "${FIXTURES:?FIXTURES not set}" "${CGOPS_BUILD:?CGOPS_BUILD not set}"
work=$(mktemp -d)
pids=
trap 'kill $pids 2>/dev/null; rm -rf "$work"' EXIT
for fx in parkfix-stripped parkfix; do
    "$FIXTURES/$fx" -noagent >"$work/$fx.out" 2>&1 &
    pids="$pids $!"
    i=0
    until grep -q '^ready' "$work/$fx.out" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 100 ] || { echo "run-gort.sh: $fx did not start" >&2; exit 1; }
        sleep 0.1
    done
    pid=$(awk '{print $2; exit}' "$work/$fx.out")
    "$CGOPS_BUILD/gorecord" "$pid" "$work/$fx.img" >/dev/null
    mkdir -p "$work/corpus-$fx"
    cp -r "$seeds"/. "$work/corpus-$fx/"
    CGOPS_FUZZ_GOEXE="$FIXTURES/$fx" CGOPS_FUZZ_GOIMG="$work/$fx.img" \
        "$fuzzer" -max_total_time=$((secs / 2)) -max_len=4096 -timeout=10 -rss_limit_mb=512 \
        -artifact_prefix="$work/" "$work/corpus-$fx"
done

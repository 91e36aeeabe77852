#!/bin/sh
# demo.sh CGOPS -- a first run that shows something, even on a machine with no
# Go process: start the example Go program (the test fixture, which links our
# gops agent), list the Go processes, ask the agent for stats and memstats,
# then stop the example.
set -eu
cgops=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
top=$(cd "$(dirname "$0")/.." && pwd)
fx=${FIXTURES:-$top/build/fixtures}

sh "$top/tests/fixtures/build.sh" "$fx"
work=$(mktemp -d)
export GOPS_CONFIG_DIR="$work/gops"
"$fx/agentfix" -goroutines 10 -alloc >"$work/ready" 2>&1 &
example=$!
cleanup() { kill $example 2>/dev/null || true; wait $example 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM HUP PIPE
i=0
until grep -q '^ready' "$work/ready" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then
        echo "demo: the example program did not start: $(cat "$work/ready")" >&2
        exit 1
    fi
    sleep 0.1
done
pid=$(awk '{print $2}' "$work/ready")

show() {
    echo
    echo "\$ $*"
    "$@"
}
echo "Started the example Go program (pid $pid) with a gops agent."
show "$cgops"
show "$cgops" stats "$pid"
show "$cgops" memstats "$pid" --json
echo
echo "Stopping the example. Try 'cgops --help' and 'man -l man/cgops.1'."

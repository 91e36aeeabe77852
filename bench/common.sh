# common.sh -- shared set-up of the benchmark scripts (sourced)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
CGOPS=${CGOPS:-$top/build/cgops}
FX=${FIXTURES:-$top/build/fixtures}
W=$(mktemp -d)
PIDS=""
cleanup() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT INT TERM
if [ ! -x "$CGOPS" ]; then
    cmake -S "$top" -B "$top/build" >/dev/null && cmake --build "$top/build" -j2 >/dev/null
fi
sh "$top/tests/fixtures/build.sh" "$FX"
cc -O2 -o "$W/measure" "$top/bench/measure.c"
export GOPS_CONFIG_DIR="$W/gops"
mkdir -p "$GOPS_CONFIG_DIR"

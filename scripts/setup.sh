#!/bin/sh
# setup.sh -- the whole set-up of cgops on a Debian machine, in one command.
#
#   sh scripts/setup.sh run    install what is missing, build, run the demo
#   sh scripts/setup.sh test   install what is missing, build twice (plain,
#                              and ASan+UBSan with the fuzz targets) and run
#                              every test through ctest in both builds
#
# Packages come from Debian's archive only; nothing is downloaded otherwise.
# Needs root (or sudo) only when a package is missing.
set -eu

mode=${1:-run}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

run_pkgs="cmake make gcc pkg-config libuv1-dev libcjson-dev libelf-dev libdw-dev libncurses-dev libprotobuf-c-dev protobuf-c-compiler zlib1g-dev libcurl4-openssl-dev libmicrohttpd-dev golang-go"

test_pkgs="$run_pkgs nodejs tmux clang libclang-rt-14-dev python3 python3-jsonschema jq man-db groff-base iproute2 util-linux procps gzip chromium"
# tests/cli/82-deploy.sh: the manifests (YAML), the scrape configs (promtool),
# the unit (systemd-analyze); 81-metrics.sh: promtool and an OpenMetrics parser
test_pkgs="$test_pkgs python3-yaml prometheus systemd python3-prometheus-client"
# tests/cli/83-serve.sh and 84-prometheus.sh: curl as a client
test_pkgs="$test_pkgs curl"

install_missing() {
    missing=""
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
            missing="$missing $p"
        fi
    done
    [ -z "$missing" ] && return 0
    echo "setup: installing:$missing" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
}

jobs=$(nproc 2>/dev/null || echo 2)

case "$mode" in
run)
    install_missing $run_pkgs
    cmake -S . -B build -DBUILD_TESTING=OFF >/dev/null
    cmake --build build -j "$jobs"
    exec sh scripts/demo.sh build/cgops
    ;;
test)
    install_missing $test_pkgs
    # tests/cli/80-mcp.sh: the MCP SDK comes from npm.  NodeSource's nodejs
    # carries npm and conflicts with Debian's npm package: install that only
    # when no npm is there.
    command -v npm >/dev/null 2>&1 || install_missing npm
    cmake -S . -B build -DCGOPS_WERROR=ON -DBUILD_TESTING=ON
    cmake --build build -j "$jobs"
    (cd build && ctest --output-on-failure -j "$jobs")
    CC=clang cmake -S . -B build/asan -DCGOPS_WERROR=ON -DBUILD_TESTING=ON \
        -DCGOPS_SANITIZE=ON -DCGOPS_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug
    cmake --build build/asan -j "$jobs"
    (cd build/asan && ctest --output-on-failure -j "$jobs")
    ;;
*)
    echo "usage: sh scripts/setup.sh run|test" >&2
    exit 2
    ;;
esac

#!/bin/sh
# run.sh FUZZER SEEDDIR -- run a libFuzzer target briefly from its seed corpus
# (in a scratch copy, so the repository is never written); fails on a crash.
set -eu
fuzzer=$1
seeds=$2
secs=${FUZZ_SECONDS:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$seeds"/. "$work/"
"$fuzzer" -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=512 \
    -artifact_prefix="$work/" "$work"

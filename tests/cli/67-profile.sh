#!/bin/bash
# 67-profile.sh -- `cgops profile FILE` against `go tool pprof` on real
# profiles: proffix (a Go fixture) writes CPU, heap, allocs, goroutine,
# block and mutex profiles, and for each kind, sample index, --cum,
# --top N (-nodecount), --focus/--ignore and --base the whole output must
# be byte-identical to pprof's -top; --folded and --json must add up to
# pprof's total; broken and hostile files are refused with a message.
. "$(dirname "$0")/lib.sh"

command -v go >/dev/null 2>&1 || skip_all "no 'go' on PATH to compare with"
export GOTELEMETRY=off GOFLAGS= HOME="${HOME:-$T}"
P="$T/prof"
mkdir -p "$P"
run "$FIXTURES/proffix" "$P" 1
expect_rc 0 "proffix writes its profiles"
for k in cpu heap allocs goroutine block mutex heap2; do
    [ -s "$P/$k.pb.gz" ] || fail "proffix wrote no $k profile"
done

# same and pprof_total: lib.sh
for k in cpu heap allocs goroutine block mutex; do
    same "$k" "$P/$k.pb.gz" -top "$k.pb.gz"
    same "$k --cum" "$P/$k.pb.gz --cum" -top -cum "$k.pb.gz"
    same "$k --top 20" "$P/$k.pb.gz --top 20" -top -nodecount=20 "$k.pb.gz"
    same "$k --top 3" "$P/$k.pb.gz --top 3" -top -nodecount=3 "$k.pb.gz"
done
for si in inuse_space inuse_objects alloc_space alloc_objects; do
    same "heap --sample-index $si" "$P/heap.pb.gz --sample-index $si" -top -sample_index=$si heap.pb.gz
    same "allocs --sample-index $si" "$P/allocs.pb.gz --sample-index $si" -top -sample_index=$si allocs.pb.gz
done
same "cpu --sample-index samples" "$P/cpu.pb.gz --sample-index samples" -top -sample_index=samples cpu.pb.gz
same "block --sample-index contentions" "$P/block.pb.gz --sample-index contentions" -top -sample_index=contentions block.pb.gz
same "mutex --sample-index 0" "$P/mutex.pb.gz --sample-index 0" -top -sample_index=0 mutex.pb.gz
same "heap --base" "$P/heap2.pb.gz --base $P/heap.pb.gz" -top -base heap.pb.gz heap2.pb.gz
same "heap --base, alloc_space" "$P/heap2.pb.gz --base $P/heap.pb.gz --sample-index alloc_space" \
    -top -sample_index=alloc_space -base heap.pb.gz heap2.pb.gz
same "heap --base reversed --cum" "$P/heap.pb.gz --base $P/heap2.pb.gz --cum" -top -cum -base heap2.pb.gz heap.pb.gz
same "cpu --focus" "$P/cpu.pb.gz --focus spinB" -top -focus=spinB cpu.pb.gz
same "cpu --ignore" "$P/cpu.pb.gz --ignore spinC" -top -ignore=spinC cpu.pb.gz
same "allocs --focus --ignore" "$P/allocs.pb.gz --focus main --ignore churn" -top -focus=main -ignore=churn allocs.pb.gz
grep -q "(inline)" "$T/c.txt" || {
    "$CGOPS" profile "$P/cpu.pb.gz" | grep -q "(inline)" &&
        pass "the CPU profile has (inline) rows to compare" || skip "no inlined frame sampled this run"
}

for spec in "cpu.pb.gz ns" "heap.pb.gz B" "allocs.pb.gz B alloc_space" "goroutine.pb.gz" "block.pb.gz ns" "mutex.pb.gz ns"; do
    set -- $spec
    folded_check "$1" "${2:-}" "${3:-}"
    run "$CGOPS" profile "$P/$1" --json ${3:+--sample-index $3}
    expect_rc 0 "--json $1"
    printf '%s\n' "$OUT" >"$T/prof.json"
    validate profile.schema.json "$T/prof.json"
    jt=$(printf '%s\n' "$OUT" | jq -r .total)
    [ "$jt" = "$PPROF_TOTAL" ] && pass "--json $1 total is pprof's" || fail "--json $1 total $jt, pprof's $PPROF_TOTAL"
    jn=$(printf '%s\n' "$OUT" | jq -r '.functions[].name')
    pn=$( (cd "$P" && go tool pprof -top ${3:+-sample_index=$3} "$1" 2>/dev/null) |
        sed -n '/^ *flat  flat%/,$p' | tail -n +2 | awk '{ print $6 }')
    [ "$jn" = "$pn" ] && pass "--json $1 functions in pprof's order" || fail "--json $1 names: $jn / $pn"
done
run "$CGOPS" profile "$P/cpu.pb.gz" --folded --focus spinB
want=$( (cd "$P" && go tool pprof -top -unit=ns -focus=spinB cpu.pb.gz 2>/dev/null) |
    sed -n 's/^Showing nodes accounting for \([0-9]*\)ns,.*/\1/p')
got=$(printf '%s\n' "$OUT" | awk '{ s += $NF } END { printf "%.0f", s }')
[ "$got" = "$want" ] && pass "--folded --focus keeps pprof's samples" || fail "--folded --focus: $got, pprof $want"

# Bad command lines and bad files.
run "$CGOPS" profile
expect_rc 2 "no file"
run "$CGOPS" profile "$P/cpu.pb.gz" --top zero
expect_rc 2 "--top zero"
run "$CGOPS" profile "$P/cpu.pb.gz" --folded --json
expect_rc 2 "--folded with --json"
run "$CGOPS" profile "$P/heap.pb.gz" --sample-index nosuch
expect_rc 1 "unknown sample index"
expect_err_contains "alloc_objects alloc_space inuse_objects inuse_space" "lists the sample types"
run "$CGOPS" profile "$P/heap.pb.gz" --base "$P/cpu.pb.gz"
expect_rc 1 "a base of another kind"
expect_err_contains "not the same kind of profile" "says why"
run "$CGOPS" profile "$P/cpu.pb.gz" --focus "("
expect_rc 1 "a bad regex"
expect_err_contains "not a valid regular expression" "says so"
run "$CGOPS" profile "$T/nonexistent"
expect_rc 1 "a missing file"
expect_err_contains "cannot read" "says it cannot read"
head -c 300 "$P/heap.pb.gz" >"$T/cut.gz"
run "$CGOPS" profile "$T/cut.gz"
expect_rc 1 "a truncated gzip file"
expect_err_contains "truncated" "says truncated"
# Its last byte cut off: the last field is cut in two.  (A cut at a fixed
# offset may fall between two fields of a run's profile: a shorter message
# that then fails on a string it lacks, not as truncated.)
zcat "$P/heap.pb.gz" | head -c -1 >"$T/cut.pb"
run "$CGOPS" profile "$T/cut.pb"
expect_rc 1 "a truncated protobuf"
expect_err_contains "truncated" "says truncated"
printf 'this is not a profile\n' >"$T/text"
run "$CGOPS" profile "$T/text"
expect_rc 1 "a text file"
expect_err_contains "malformed" "says malformed"
# A gigabyte of zeros, gzipped (1 MB): refused as soon as it starts.
head -c 1100M /dev/zero | gzip -1 >"$T/zeros.gz"
run "$CGOPS" profile "$T/zeros.gz"
expect_rc 1 "1.1 GB of zeros"
expect_err_contains "field number 0" "refused at the first field"
# --svg: a flame graph of the CPU profile.  Valid XML; the root's tooltip
# is the profile's total (the sum of --folded); the function with the most
# flat time is named in it; headless Chromium draws it (not blank).
run "$CGOPS" profile --folded "$P/cpu.pb.gz"
total=$(awk '{s += $NF} END {print s}' "$T/out")
top_fn=$("$CGOPS" profile --top 1 "$P/cpu.pb.gz" | awk '/^ *[0-9.]+[a-z]* +[0-9.]+%/ {print $NF; exit}')
run "$CGOPS" profile --svg "$T/cpu.svg" "$P/cpu.pb.gz"
expect_rc 0 "profile --svg"
[ -z "$OUT" ] && pass "--svg FILE prints nothing" || fail "printed: $OUT"
/usr/bin/python3 - "$T/cpu.svg" "$total" "$top_fn" <<'PY'
import re, sys
from xml.dom import minidom
doc = minidom.parse(sys.argv[1])
titles = [t.firstChild.data for t in doc.getElementsByTagName("title") if t.firstChild]
vals = [int(m.group(1).replace(",", "")) for t in titles for m in [re.search(r"\(([\d,]+) ", t)] if m]
assert vals and max(vals) == int(sys.argv[2]), (max(vals) if vals else None, sys.argv[2])
text = open(sys.argv[1]).read()
assert sys.argv[3] in text, sys.argv[3]
PY
expect_rc 0 "the SVG parses, its root is the total ($total) and names $top_fn"
run "$CGOPS" profile --svg - "$P/cpu.pb.gz"
expect_rc 0 "profile --svg -"
expect_out_contains "<svg" "--svg - writes the SVG on standard output"
run "$CGOPS" profile --svg "$T/x.svg" --top 3 "$P/cpu.pb.gz"
expect_rc 2 "--svg with --top"
if [ -x "$CHROMIUM" ]; then
    chrome "file://$T/cpu.svg" "$T/cpu.png" >"$T/chrome.out" 2>&1
    set -- $(png_check "$T/cpu.png" 2>/dev/null)
    [ "${3:-0}" -gt 50 ] && [ "${4:-0}" -gt 5000 ] && pass "chromium draws the flame graph: $3 colours, $4 flame pixels" ||
        fail "blank or no PNG: ${*:-none} $(head -c 300 "$T/chrome.out")"
else
    skip "no $CHROMIUM"
fi

# pprof-heap without Go on the host: the saved profile's top 20, read by
# cgops, byte for byte what `go tool pprof -top -nodecount=20` prints of
# the same file; --no-launch only saves; trace says where to read it.
start_agent agentfix -alloc || finish
mkdir -p "$T/nogo"
run env PATH="$T/nogo" "$CGOPS" pprof-heap -o "$T/heap.out" "$APID"
expect_rc 0 "pprof-heap without go on PATH"
expect_out_contains "Profile dump saved to: $T/heap.out" "the file is saved"
sed -n '2,$p' "$T/out" >"$T/ours"
go tool pprof -top -nodecount=20 "$T/heap.out" 2>/dev/null >"$T/theirs"
cmp -s "$T/ours" "$T/theirs" && pass "its top 20 is byte-identical to go tool pprof -top -nodecount=20" ||
    fail "top 20 differs: $(diff "$T/theirs" "$T/ours" | head -10)"
run env PATH="$T/nogo" "$CGOPS" pprof-heap --no-launch -o "$T/heap2.out" "$APID"
expect_rc 0 "pprof-heap --no-launch"
[ "$(wc -l <"$T/out")" = 1 ] && pass "--no-launch only saves" || fail "--no-launch printed: $OUT"
run env PATH="$T/nogo" "$CGOPS" trace -o "$T/trace.out" "$APID"
expect_rc 0 "trace without go on PATH"
expect_err_contains "go tool trace $T/trace.out" "trace names go tool trace"

finish

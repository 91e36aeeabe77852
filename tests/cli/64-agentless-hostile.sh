#!/bin/bash
# 64-agentless-hostile.sh -- the agentless commands against targets that
# fight back: a process that changes while it is read, cgops suspended while
# it holds a process stopped, and binaries patched by a local user.
. "$(dirname "$0")/lib.sh"

# cgops suspended (SIGTSTP: Ctrl-Z) while it holds the process stopped for
# --stop: the process must not stay stopped for as long as cgops is
# suspended.  cgops is caught holding it (a thread in tracing stop) and
# sent SIGTSTP at that moment.
start_fixture "$FIXTURES/parkfix" -noagent -park 50000 || finish
big=$RPID
caught=
for attempt in 1 2 3 4 5; do
    "$CGOPS" goroutines --stop "$big" >"$T/tstp.out" 2>"$T/tstp.err" &
    cg=$!
    caught=$(signal_when_held "$big" "$cg" TSTP)
    [ "$caught" = yes ] && break
    wait "$cg" 2>/dev/null
done
[ "$caught" = yes ] && pass "cgops caught holding the process stopped" || fail "never caught cgops holding it"
# Suspended, or (in an orphaned process group, where the kernel discards
# SIGTSTP) on its way: either way the process is let go.
for _ in $(seq 200); do
    [ "$(sed 's/.*) //' "/proc/$cg/stat" 2>/dev/null | cut -c1)" = T ] && break
    [[ "$(thread_states "$big")" != *t* ]] && break
    sleep 0.05
done
[ "$(sed 's/.*) //' "/proc/$cg/stat" 2>/dev/null | cut -c1)" = T ] && pass "cgops is suspended" ||
    skip "SIGTSTP does not suspend cgops here (an orphaned process group)"
[[ "$(thread_states "$big")" != *t* ]] && pass "suspended cgops holds no thread stopped" ||
    fail "suspended cgops left the process stopped: $(thread_states "$big")"
grep -q '^TracerPid:	0$' "/proc/$big/status" && pass "suspended cgops traces it no more" || fail "still traced"
kill -CONT "$cg" 2>/dev/null
wait "$cg"
rc=$?
[ "$rc" = 0 ] && pass "goroutines goes on after it is resumed" || fail "after resume: status $rc: $(cat "$T/tstp.err")"
grep -q "not a consistent snapshot" "$T/tstp.err" && pass "it says the snapshot was let go early" ||
    fail "it said nothing: $(cat "$T/tstp.err")"
n=$(grep -c '^goroutine ' "$T/tstp.out")
[ "$n" -ge 50000 ] && pass "the dump is whole ($n goroutines)" || fail "the dump has $n goroutines"

# A process that changes while it is read (goroutines start and end at a
# high rate, recursing to grow and move their stacks; pairs pass a value
# back and forth; the GC runs all the time): no crash, no error; a
# goroutine found running on a re-read shows no frames of its earlier
# state; every goroutine not flagged as changed has its whole stack, down
# to runtime.goexit (a goroutine that ran and parked again at the same
# place looks unchanged, but its stack was overwritten while it ran), and
# real lines only.
start_fixture "$FIXTURES/churnfix" || finish
churn=$RPID
bad=0 errs=0 flagged=0 total=0 stale=0
for i in $(seq 150); do
    if ! "$CGOPS" goroutines --json "$churn" >"$T/churn.json" 2>"$T/churn.err"; then
        errs=$((errs + 1))
        [ $errs = 1 ] && fail "goroutines of a changing process failed: $(cat "$T/churn.err")"
        continue
    fi
    set -- $(jq -r '[.goroutines | length,
                     ([.[] | select(.changed_while_read)] | length),
                     ([.[] | select((.changed_while_read or .stack_unavailable or .frames_truncated) | not)
                           | select((.frames | length) == 0 or .frames[-1].function != "runtime.goexit"
                                    or any(.frames[]; .line <= 0 or .file == "?"))] | length),
                     ([.[] | select(.stack_unavailable and (.frames | length) > 0)] | length)] | @tsv' \
        "$T/churn.json")
    total=$((total + $1)) flagged=$((flagged + $2)) stale=$((stale + $4))
    if [ "$3" != 0 ]; then
        bad=$((bad + $3))
        cp "$T/churn.json" "$T/churn.bad"
    fi
done
[ $errs = 0 ] && pass "150 reads of a changing process succeed ($total goroutines, $flagged flagged as changed)"
[ $stale = 0 ] && pass "no goroutine running on a thread shows frames" ||
    fail "$stale goroutines running on a thread (stack unavailable) show the frames of an earlier read"
[ $bad = 0 ] && pass "every goroutine not flagged as changed has its whole stack" ||
    fail "$bad goroutines not flagged as changed have a partial or garbage stack: $(jq -c '[.goroutines[] | select((.changed_while_read or .stack_unavailable or .frames_truncated) | not) | select(.frames[-1].function != "runtime.goexit") | {id, status, f: [.frames[].function]}][0]' "$T/churn.bad")"

# summary reads the goroutines after the Ms (the walk reads them again):
# what it prints of the Ms must be what it read, each M's thread one of the
# process's (under ASan: no use of the array the walk freed).
for fx in churnfix parkfix; do
    args=
    [ $fx = parkfix ] && args=-noagent
    start_fixture "$FIXTURES/$fx" $args || continue
    run "$CGOPS" summary "$RPID"
    expect_rc 0 "summary of $fx"
    run "$CGOPS" summary --json "$RPID"
    expect_rc 0 "summary --json of $fx"
    tids=$(jq -r '.ms[] | select(.thread != null and .thread != 0) | .thread' "$T/out" | tr '\n' ' ')
    bad=
    for tid in $tids; do [ -d "/proc/$RPID/task/$tid" ] || bad="$bad $tid"; done
    [ -n "$tids" ] && [ -z "$bad" ] && pass "summary of $fx: every M's thread is one of its threads" ||
        fail "summary of $fx: Ms' threads '$tids', not the process's:$bad"
done

# A stripped binary whose bss points 4096 times into a ring of objects
# shaped like runtime.m: the scan for runtime.allm follows each chain of
# alllink once in all, so summary, goroutines and the listing end (they
# followed every pointer up to 100,000 steps: hours).  The timeout is a hang
# guard only, hundreds of times the normal run.
start_fixture "$FIXTURES/ringfix-stripped" || finish
for c in summary goroutines; do
    run timeout 60 "$CGOPS" $c "$RPID"
    expect_rc 0 "$c of a binary with endless alllink chains"
done
expect_out_contains "main.main" "its goroutines are read"
run timeout 60 "$CGOPS" --goroutines --json
expect_rc 0 "the listing with --goroutines, with that process among the others"
[ "$(jq --argjson p "$RPID" '.[] | select(.pid == $p) | .goroutines' "$T/out")" -ge 1 ] &&
    pass "the listing counts its goroutines" || fail "listing: $(jq -c --argjson p "$RPID" '.[] | select(.pid == $p)' "$T/out")"

# A binary whose type descriptors declare runtime.p's id a bool at the
# struct's last byte (only metadata: the program runs the same): read as 4
# bytes it ran past cgops's copy of each P.  Now a plain error, exit 1.
python3 - "$FIXTURES/parkfix" "$T/narrowfix" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
phoff = struct.unpack_from("<Q", data, 0x20)[0]
phnum = struct.unpack_from("<H", data, 0x38)[0]
loads = []
for i in range(phnum):
    typ, _, off, vaddr, _, filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * 56)
    if typ == 1:
        loads.append((vaddr, off, filesz))
def o2v(o):
    return next((va + o - off for va, off, sz in loads if off <= o < off + sz), None)
def field_entries(name):  # structField entries {name, typ, offset} naming it
    out, pat = [], bytes([len(name)]) + name.encode()
    i = data.find(pat)
    while i > 0:
        a = o2v(i - 1)
        j = data.find(struct.pack("<Q", a)) if a else -1
        while j >= 0:
            if j % 8 == 0:
                out.append(j)
            j = data.find(struct.pack("<Q", a), j + 1)
        i = data.find(pat, i + 1)
    return out
booltyp = struct.unpack_from("<Q", data, field_entries("spinning")[0] + 8)[0]  # runtime.m.spinning
e = field_entries("runqhead")[0]  # runtime.p's fields
while struct.unpack_from("<Q", data, e + 16)[0] != 0:
    e -= 24  # back to its first field, id at offset 0
hdr = data.find(struct.pack("<Q", o2v(e)))  # the structType's fields slice
size = struct.unpack_from("<Q", data, hdr - 56)[0]  # _type.size, 48 + pkgPath before it
assert 1000 < size < 65536, size
struct.pack_into("<QQ", data, e + 8, booltyp, size - 1)
open(sys.argv[2], "wb").write(data)
PY
chmod +x "$T/narrowfix"
start_fixture "$T/narrowfix" -noagent || finish
for c in summary goroutines; do
    run "$CGOPS" $c "$RPID"
    expect_rc 1 "$c of a binary declaring runtime.p.id a bool"
    expect_err_contains "layout unsupported" "$c says the layout is not one it reads"
done

finish

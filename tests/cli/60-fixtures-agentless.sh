#!/bin/bash
# 60-fixtures-agentless.sh -- the agentless tests' own infrastructure: the
# dump reader tests/cli/gotrace.py (on texts written here from the runtime's
# format, then on real dumps), parkfix in every build (its goroutines where
# the fixture says, the same in the agent's reply and the runtime's SIGQUIT
# dump), lib.sh's start_parkfix/start_gobin/quit_dump, and
# tests/fixtures/gobins.sh (checksums, cache, offline skip, esbuild of five
# Go releases as live processes).
. "$(dirname "$0")/lib.sh"

# ---- gotrace.py on a dump written by hand in the runtime's format ----
# Go 1.26's header form and goexit({}), Go 1.16's plain form, fp/sp
# suffixes, an inlined frame without +0x, elided frames, a running
# goroutine without a stack, the text around the blocks.
cat >"$T/hand.txt" <<'EOF'
ready 1 0 -
SIGQUIT: quit
PC=0x46d3c1 m=0 sigcode=0

goroutine 0 gp=0xee7400 m=0 mp=0xee83a0 [idle]:
runtime.futex(0x62b988, 0x80, 0x0, 0x0, 0x0, 0x0)
	/usr/lib/go/src/runtime/sys_linux_amd64.s:559 +0x21 fp=0x7ffdb50116d0 sp=0x7ffdb50116c8 pc=0x46d3c1
runtime.mcall()
	/usr/lib/go/src/runtime/asm_amd64.s:448 +0x43 fp=0x7ffdb5011840 sp=0x7ffdb5011830 pc=0x4692a3

goroutine 7 gp=0x3ee9dbc701e0 m=nil [chan receive, 3 minutes, locked to thread]:
runtime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)
	/usr/lib/go/src/runtime/proc.go:462 +0xce fp=0x3ee9dbcb1f58 sp=0x3ee9dbcb1f38 pc=0x485f4e
runtime.chanrecv1(0x0?, 0x0?)
	/usr/lib/go/src/runtime/chan.go:442 +0x18
main.worker({0xc000010000, 0x1, 0x1})
	/src/app/main.go:45 +0x2c
main.main.gowrap1()
	/src/app/main.go:60 +0x26
runtime.goexit({})
	/usr/lib/go/src/runtime/asm_amd64.s:1700 +0x1
created by main.main in goroutine 1
	/src/app/main.go:60 +0x4aa

goroutine 8 [semacquire]:
runtime.gopark(0x904a40, 0xb7ebb0, 0x1411, 0x1)
	/usr/lib/go/src/runtime/proc.go:336 +0xe5
runtime.goparkunlock(...)
	/usr/lib/go/src/runtime/proc.go:342
sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x0?)
	/usr/lib/go/src/runtime/sema.go:77 +0x25
sync.(*Mutex).lockSlow(0xc0000a8230)
	/usr/lib/go/src/sync/mutex.go:171 +0x165
sync.(*Mutex).Lock(...)
	/usr/lib/go/src/sync/mutex.go:90
example.com/x/store.(*DB).Get(0xc0000a8230)
	/src/x/store/db.go:12 +0x45
runtime.goexit()
	/usr/lib/go/src/runtime/asm_amd64.s:1594 +0x1
created by example.com/x/store.Open
	/src/x/store/db.go:8 +0x4aa

goroutine 9 [running]:
	goroutine running on other thread; stack unavailable
created by main.main
	/src/app/main.go:70 +0x5

goroutine 2 [force gc (idle), 12 minutes]:
runtime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)
	/usr/lib/go/src/runtime/proc.go:363 +0xd6
runtime.forcegchelper()
	/usr/lib/go/src/runtime/proc.go:302 +0xad
runtime.goexit()
	/usr/lib/go/src/runtime/asm_amd64.s:1594 +0x1
created by runtime.init.6
	/usr/lib/go/src/runtime/proc.go:290 +0x25

goroutine 10 [IO wait]:
internal/poll.runtime_pollWait(0x7fe6f4155e90, 0x72)
	/usr/lib/go/src/runtime/netpoll.go:305 +0x89
net.(*netFD).Read(0xc0000bc080, {0xc00001a090, 0x1, 0x1})
	/usr/lib/go/src/net/fd_posix.go:55 +0x29
...additional frames elided...

rax    0xca
rip    0x46d3c1
EOF
gotrace parse "$T/hand.txt" >"$T/hand.json"
j() { jq -c "$1" "$T/hand.json"; }
[ "$(j '[.[].id]')" = '[0,7,8,9,2,10]' ] && pass "gotrace: every block, in order, nothing else" || fail "gotrace ids: $(j '[.[].id]')"
[ "$(j '.[1] | [.state, .wait_minutes, .locked, .gp, .m]')" = '["chan receive",3,true,"0x3ee9dbc701e0","nil"]' ] &&
    pass "gotrace: Go 1.23+ header, minutes, locked to thread" || fail "gotrace header: $(j '.[1]')"
[ "$(j '.[1].frames | map(.function)')" = '["runtime.gopark","runtime.chanrecv1","main.worker","main.main.gowrap1","runtime.goexit"]' ] &&
    pass "gotrace: function names, args dropped" || fail "gotrace frames: $(j '.[1].frames')"
[ "$(j '.[1].frames[0] | [.file, .line]')" = '["/usr/lib/go/src/runtime/proc.go",462]' ] &&
    pass "gotrace: file and line, fp/sp/pc dropped" || fail "gotrace file: $(j '.[1].frames[0]')"
[ "$(j '.[1].created_by')" = '{"function":"main.main","file":"/src/app/main.go","line":60,"goroutine":1}' ] &&
    pass "gotrace: created by ... in goroutine N" || fail "gotrace created_by: $(j '.[1].created_by')"
[ "$(j '.[2] | [.state, .wait_minutes, .locked, .created_by.goroutine, (.frames[4] | [.function, .line])]')" = \
    '["semacquire",null,false,null,["sync.(*Mutex).Lock",90]]' ] &&
    pass "gotrace: old header, inlined frame, created by without goroutine" || fail "gotrace old form: $(j '.[2]')"
[ "$(j '.[3] | [.state, .stack_unavailable, (.frames | length), .created_by.function]')" = '["running",true,0,"main.main"]' ] &&
    pass "gotrace: stack unavailable" || fail "gotrace running: $(j '.[3]')"
[ "$(j '.[4] | [.state, .wait_minutes]')" = '["force gc (idle)",12]' ] &&
    pass "gotrace: a state with parentheses" || fail "gotrace force gc: $(j '.[4]')"
[ "$(j '.[5] | [.elided, (.frames | length)]')" = '[true,2]' ] &&
    pass "gotrace: elided frames" || fail "gotrace elided: $(j '.[5]')"

printf '0\tidle\truntime.mcall\n7\tchan receive\tmain.worker\n8\tsemacquire\texample.com/x/store.(*DB).Get\n9\trunning\t-\n2\tforce gc (idle)\truntime.forcegchelper\n10\tIO wait\tnet.(*netFD).Read\n' >"$T/want"
gotrace summary "$T/hand.txt" >"$T/got"
cmp -s "$T/got" "$T/want" && pass "gotrace summary: user frames" || fail "gotrace summary: $(diff "$T/want" "$T/got")"
printf '7\tchan receive\tmain.worker\n8\tsemacquire\tsync.(*Mutex).lockSlow\n9\trunning\t-\n10\tIO wait\tnet.(*netFD).Read\n' >"$T/want"
gotrace summary --frame nonruntime --user "$T/hand.txt" >"$T/got"
cmp -s "$T/got" "$T/want" && pass "gotrace summary --frame nonruntime --user" || fail "gotrace nonruntime: $(diff "$T/want" "$T/got")"
printf '1\tIO wait\n1\tchan receive\n1\tforce gc (idle)\n1\tidle\n1\trunning\n1\tsemacquire\n' >"$T/want"
gotrace counts "$T/hand.txt" >"$T/got"
cmp -s "$T/got" "$T/want" && pass "gotrace counts" || fail "gotrace counts: $(diff "$T/want" "$T/got")"

# compare: the same file, a changed state, a changed frame, a missing one
run gotrace compare "$T/hand.txt" "$T/hand.txt"
expect_rc 0 "gotrace compare: a dump equals itself"
sed 's/^goroutine 8 \[semacquire\]/goroutine 8 [sync.Mutex.Lock]/' "$T/hand.txt" >"$T/h2.txt"
run gotrace compare "$T/hand.txt" "$T/h2.txt"
expect_rc 1 "gotrace compare: a changed state"
expect_out_contains "+8	sync.Mutex.Lock	example.com/x/store.(*DB).Get" "gotrace compare names the goroutine that differs"
run gotrace compare "$T/hand.txt" "$T/h2.txt" --ids 7 10
expect_rc 0 "gotrace compare --ids: only those"
sed 's/^main\.worker(/main.other(/' "$T/hand.txt" >"$T/h3.txt"
run gotrace compare "$T/hand.txt" "$T/h3.txt" --match '^main\.'
expect_rc 1 "gotrace compare --match: a changed top frame"
sed '/^goroutine 10 /,$d' "$T/hand.txt" >"$T/h4.txt"
run gotrace compare "$T/hand.txt" "$T/h4.txt"
expect_rc 1 "gotrace compare: a goroutine missing"
expect_out_contains "+10	(absent)" "gotrace compare: the missing one named"
: >"$T/empty.txt"
run gotrace summary "$T/empty.txt"
expect_rc 2 "gotrace: a file without goroutines"

# ---- parkfix, every build: the agent's reply and the runtime's dump ----
# parked FILE: "FRAME<TAB>STATE" of the main.* goroutines, one line each
# kind, "FRAME<TAB>STATE<TAB>xN" when N of them
parked() {
    gotrace summary "$1" | awk -F'\t' '$3 ~ /^main\./ {print $3 "\t" $2}' | sort | uniq -c |
        awk '{n = $1; sub(/^ *[0-9]+ /, ""); print (n == 1 ? $0 : $0 "\tx" n)}'
}
for v in parkfix parkfix-stripped parkfix-pie parkfix-pie-ext parkfix-static parkfix-cgo parkfix-trimpath; do
    start_parkfix "$v" -count 2 || continue
    "$CGOPS" stack "$PFPID" >"$T/$v.stack" 2>"$T/$v.stack.err" || fail "$v: cgops stack: $(cat "$T/$v.stack.err")"
    quit_dump "$PFPID" "$T/$v.quit" || continue
    parkfix_want "$v" | awk '{print $0 (/waitForever/ ? "" : "\tx2")}' | sort >"$T/want"
    parked "$T/$v.quit" >"$T/got"
    cmp -s "$T/got" "$T/want" && pass "$v: SIGQUIT dump: each goroutine parked where it should" ||
        fail "$v: SIGQUIT dump: $(diff "$T/want" "$T/got")"
    parked "$T/$v.stack" >"$T/got"
    cmp -s "$T/got" "$T/want" && pass "$v: agent's stack: each goroutine parked where it should" ||
        fail "$v: agent's stack: $(diff "$T/want" "$T/got")"
    run gotrace compare "$T/$v.stack" "$T/$v.quit" --match '^main\.'
    expect_rc 0 "$v: agent and runtime agree on the ids, states and frames of main's goroutines"
    ids=$(gotrace summary "$T/$v.quit" | awk -F'\t' '$3 ~ /^main\./ {print $1}')
    run gotrace compare "$T/$v.stack" "$T/$v.quit" --frame nonruntime --ids $ids
    expect_rc 0 "$v: ... and on their first non-runtime frames"
done

# The ready line waits for every goroutine: all of -park are parked in the
# dump taken right after it; with -noagent, no agent's goroutine.
start_parkfix parkfix -noagent -count 0 -park 3000 &&
    [ "$(printf '%s\n' "$READY" | awk '{print $3, $4}')" = "0 -" ] && pass "-noagent: ready PID 0 -" || fail "-noagent ready: $READY"
if quit_dump "$PFPID" "$T/many.quit"; then
    gotrace counts --by frame --user "$T/many.quit" >"$T/got"
    printf '3000\tmain.parkMany\n1\tmain.waitForever\n' >"$T/want"
    cmp -s "$T/got" "$T/want" && pass "-park 3000 -count 0 -noagent: 3000 parked, nothing else of main's" ||
        fail "-park: $(diff "$T/want" "$T/got")"
    [ "$(gotrace summary "$T/many.quit" | awk -F'\t' '$3 == "main.parkMany" && $2 != "chan receive"' | wc -l)" = 0 ] &&
        pass "-park: every one in chan receive" || fail "-park: some not in chan receive"
fi

# -busy: the busy goroutine is on a CPU or preempted, never parked;
# -leak: main.leakOne grows (the agent's replies, polled up to 30 s).
start_parkfix parkfix -busy -leak 50
"$CGOPS" stack "$PFPID" >"$T/busy.stack"
s=$(gotrace summary "$T/busy.stack" | awk -F'\t' '$3 == "main.spinBusy" {print $2}')
case $s in running | runnable) pass "-busy: main.spinBusy $s" ;; *) fail "-busy: main.spinBusy '$s'" ;; esac
n1=$(gotrace counts --by frame "$T/busy.stack" | awk -F'\t' '$2 == "main.leakOne" {print $1}')
n2=${n1:-0} i=0
while [ "$n2" -le "${n1:-0}" ] && [ $i -lt 60 ]; do
    sleep 0.5
    "$CGOPS" stack "$PFPID" >"$T/leak.stack"
    n2=$(gotrace counts --by frame "$T/leak.stack" | awk -F'\t' '$2 == "main.leakOne" {print $1}')
    n2=${n2:-0} i=$((i + 1))
done
[ "$n2" -gt "${n1:-0}" ] && pass "-leak: main.leakOne grows (${n1:-0} -> $n2)" || fail "-leak: main.leakOne ${n1:-0} -> $n2"
[ "$(gotrace summary "$T/leak.stack" | awk -F'\t' '$3 == "main.leakOne" && $2 != "chan receive"' | wc -l)" = 0 ] &&
    pass "-leak: leaked goroutines in chan receive" || fail "-leak: states"
quit_dump "$PFPID" "$T/busy.quit" && pass "quit_dump of a busy fixture"

# (quit_dump reports through fail: that one failed check is the one expected)
f0=$FAILS
run quit_dump 1 "$T/x"
if [ "$RC" = 1 ] && [ "$FAILS" = $((f0 + 1)) ]; then
    FAILS=$f0
    pass "quit_dump refuses a process it did not start"
else
    fail "quit_dump of pid 1: exit $RC, $((FAILS - f0)) failed check(s)"
fi

# ---- gobins.sh ----
G="$CGOPS_SRC/tests/fixtures/gobins.sh"
run sh "$G" --list
[ "$(printf '%s\n' "$OUT" | awk '{print $1 "=" $2}' | tr '\n' ' ')" = \
    "go1.16=go1.16.3 go1.17=go1.17.2 go1.20=go1.20.4 go1.23=go1.23.12 go1.26=go1.26.5 " ] &&
    pass "gobins.sh --list: five releases" || fail "gobins.sh --list: $OUT"
run sh "$G" go1.99
expect_rc 2 "gobins.sh: unknown name"
run sh "$G"
expect_rc 2 "gobins.sh: no name"
run env CGOPS_CACHE="$T/nocache" CGOPS_GOBINS_OFFLINE=1 sh "$G" go1.16
expect_rc 77 "gobins.sh: offline and not cached: 77"

# A pin whose checksum does not match what the registry serves: refused,
# nothing left in the cache.
sed 's/^\(go1\.16 .* sha512-\)M4QD/\1N4QD/' "$G" >"$T/gobins-bad.sh"
grep -q 'sha512-N4QD' "$T/gobins-bad.sh" || fail "gobins.sh: no go1.16 pin to alter"
run env CGOPS_CACHE="$T/badcache" sh "$T/gobins-bad.sh" go1.16
case $RC in
77) skip "gobins.sh: checksum refusal (cannot fetch here: $ERR)" ;;
*)
    expect_rc 1 "gobins.sh: a download that does not match its pin"
    expect_err_contains "not used" "gobins.sh: says why"
    [ -z "$(find "$T/badcache" -type f 2>/dev/null)" ] && pass "gobins.sh: nothing cached after a mismatch" ||
        fail "gobins.sh left $(find "$T/badcache" -type f)"
    ;;
esac

# Each release as a live process: its version, its dump.
for name in go1.16 go1.17 go1.20 go1.23 go1.26; do
    ver=$(sh "$G" --list | awk -v n="$name" '$1 == n {print $2}')
    start_gobin "$name"
    case $? in
    77) skip "$name: cannot fetch here"; continue ;;
    1) continue ;;
    esac
    [ "$(CGOPS_GOBINS_OFFLINE=1 sh "$G" "$name")" = "$GBEXE" ] && pass "$name: cached" || fail "$name: not cached"
    grep -aqF "$ver" "$GBEXE" && pass "$name: the binary names $ver" || fail "$name: no $ver in $GBEXE"
    "$CGOPS" >"$T/list" 2>/dev/null
    awk -v p="$GBPID" '$1 == p' "$T/list" | grep -qF " $ver " && pass "$name: cgops lists it as $ver" ||
        fail "$name: listing: $(awk -v p="$GBPID" '$1 == p' "$T/list")"
    quit_dump "$GBPID" "$T/$name.quit" || continue
    gotrace summary --user "$T/$name.quit" >"$T/$name.sum"
    awk -F'\t' '$1 == 1 && $3 ~ /^github\.com\/evanw\/esbuild\/pkg\/(api|cli)\./' "$T/$name.sum" | grep -q . &&
        pass "$name: goroutine 1 in esbuild's serve" || fail "$name: goroutine 1: $(head -3 "$T/$name.sum")"
    gotrace parse "$T/$name.quit" |
        jq -e 'any(.[]; .state == "IO wait" and any(.frames[]; .function == "net/http.(*Server).Serve"))' >/dev/null &&
        pass "$name: the HTTP server's goroutine in IO wait" || fail "$name: no IO wait in net/http.(*Server).Serve"
done

finish

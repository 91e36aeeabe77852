#!/bin/bash
# 35-hostile.sh -- defects found by the hostile test before issue 8 closed:
# a peer or a local user that misbehaves on purpose, and a caller whose
# standard descriptors or limits are not the usual ones.  Each check says
# what is expected; the ones marked "fails at 7162e13" failed when written.
. "$(dirname "$0")/lib.sh"

ESC=$(printf '\033')
C1=$(printf '\302\233') # U+009B, CSI: xterm and VTE act on it in UTF-8

# canned REPLY NAME: a faultsrv that answers every connection with the
# bytes of printf REPLY; sets A (its host:port)
canned() {
    printf "$1" >"$T/$2.reply"
    A=
    start_fault file -file "$T/$2.reply" && A=127.0.0.1:$FPORT
}

# --- 1. stack in text mode passes any bytes after a valid start -----------
# fails at 7162e13: cmd_agent.c:on_data streams the rest of a dump to
# stdout once proto_stack_head_check saw "goroutine N [", and
# proto_reply_check only wants a final newline: escape sequences, NUL and
# bytes that are not UTF-8 reach the terminal, exit 0.  --json refuses the
# same reply ("binary data").  With --all any local user's fake agent
# reaches root's terminal this way.
canned 'goroutine 1 [running]:\n\033]0;PWNED\007\033[2J\n' esc
run "$CGOPS" stack "$A"
expect_rc 1 "stack text: a dump with terminal escapes is refused"
case "$OUT" in *"$ESC"*) fail "stack text: an escape sequence from the peer reached stdout" ;;
*) pass "stack text: no escape sequence from the peer on stdout" ;; esac
canned 'goroutine 1 [running]:\nmain.f()\n\t/x.go:1\n\377\376\000binary\n' bin
"$CGOPS" stack "$A" >"$T/out" 2>"$T/err" # stdout has a NUL: not through run's $(cat)
RC=$? ERR=$(cat "$T/err")
expect_rc 1 "stack text: a dump with NUL and non-UTF-8 bytes is refused"
run "$CGOPS" stack "$A" --json
expect_rc 1 "stack --json: the same dump is refused (holds)"

# --- 2. --json member names collide with unknown keys ---------------------
# fails at 7162e13: proto.c:parse_kv maps every key through json_name and
# replaces what is there, so an unknown key spelled "Alloc" or
# "heap_alloc" overwrites the typed member with a string: the document
# breaks agent-memstats.schema.json and the exit status is 0.
for r in 'alloc: 5\nAlloc: bogus\n' 'heap-alloc: 5\nheap_alloc: bogus\n' 'gc_pause_total_ns: bogus\n'; do
    canned "$r" collide
    run "$CGOPS" memstats "$A" --json
    if [ "$RC" -eq 0 ]; then
        printf '%s\n' "$OUT" >"$T/collide.json"
        validate agent-memstats.schema.json "$T/collide.json"
    else
        pass "memstats --json '$r': refused (exit $RC)"
    fi
done

# --- 3. a reply of another command passes as memstats ---------------------
# fails at 7162e13: memstats keeps unknown keys, so a reply without a single
# memstats key (here a stats reply, as a wrong port would give) is printed
# as memstats with exit 0, in text and in --json.
canned 'goroutines: 1\nOS threads: 2\nGOMAXPROCS: 1\nnum CPU: 1\n' statsreply
run "$CGOPS" memstats "$A"
expect_rc 1 "memstats: a stats reply is not a memstats reply"
run "$CGOPS" memstats "$A" --json
expect_rc 1 "memstats --json: a stats reply is not a memstats reply"

# --- 4. closed standard descriptors ----------------------------------------
# fails at 7162e13: with fd 0, 1 or 2 closed the agent's socket gets that
# number and libuv aborts in uv__close ("Assertion `fd > STDERR_FILENO'
# failed"), SIGABRT and a core dump; with fd 2 closed, messages would go
# into whatever file took it.  main.c should open /dev/null on a closed
# 0/1/2 first (git's sanitize_stdfds).
canned 'goroutines: 1\nOS threads: 2\nGOMAXPROCS: 1\nnum CPU: 1\n' stats
for fd in 0 1 2; do
    eval "\"\$CGOPS\" stats \"\$A\" >\"\$T/fd.out\" 2>\"\$T/fd.err\" $fd>&-"
    RC=$?
    if [ "$RC" -lt 128 ]; then pass "stats with fd $fd closed: no crash (exit $RC)"; else
        fail "stats with fd $fd closed: killed by signal $((RC - 128))"; fi
done

# --- 5. the descriptor budget at the lowest limit cgops accepts -----------
# fails at 7162e13: main accepts ulimit -n 16, but cmd_agent.c:
# descriptor_budget gives 8 requests at once below 48 descriptors, more
# than are left, and targets fail with "too many open files" (16..19).
TGT=""
for i in 1 2 3 4 5 6 7 8 9 10; do TGT="$TGT $A"; done
run bash -c 'ulimit -n 16 && exec "$@"' sh "$CGOPS" stats $TGT
expect_rc 0 "ten targets under ulimit -n 16"
expect_err_eq "" "ten targets under ulimit -n 16: no error"

# --- 6. the Go version from an executable reaches the terminal raw ---------
# fails at 7162e13: gobin.c:copy_str stops only at bytes < 0x20 and 0x7f;
# out_list.c:out_list_text (and the tree, and cgops PID's "go version:")
# print the version without cg_text_safe, so a C1 control (U+009B, CSI)
# or bytes that are not UTF-8 from any local user's executable reach
# root's terminal; names and paths are escaped.
"$CGOPS_BUILD/mkelf" inline "$T/elf-inline" || fail "mkelf inline"
/usr/bin/python3 - "$T/elf-inline" "$T/c1ver" "$T/badver" <<'EOF'
import sys
d = open(sys.argv[1], "rb").read()
i = d.find(b"go1.21.4")
open(sys.argv[2], "wb").write(d[:i] + b"go1.2\xc2\x9bZ" + d[i + 8:])
open(sys.argv[3], "wb").write(d[:i] + b"go1.2\xff\xfeZ" + d[i + 8:])
EOF
chmod +x "$T/c1ver" "$T/badver"
start_fixture -e "$T/c1ver" "$T/c1ver"; C1PID=$RPID
start_fixture -e "$T/badver" "$T/badver"; BADPID=$RPID
run "$CGOPS"
for p in $C1PID $BADPID; do
    l=$(line_of "$p")
    [ -n "$l" ] || fail "listing: pid $p missing"
    case "$l" in *"$C1"* | *$'\377'*) fail "listing: raw control or non-UTF-8 version: $(printf '%s' "$l" | od -c | head -2)" ;;
    *) pass "listing: pid $p's version is made safe" ;; esac
done
for p in $C1PID $BADPID; do
    run "$CGOPS" "$p"
    case "$OUT" in *"$C1"* | *$'\377'*) fail "cgops $p: raw control or non-UTF-8 version" ;;
    *) pass "cgops $p: version made safe" ;; esac
done
run "$CGOPS" tree
case "$OUT" in *"$C1"* | *$'\377'*) fail "tree: raw control or non-UTF-8 version" ;; *) pass "tree: versions made safe" ;; esac

# --- 7. -o and --binary naming the same file --------------------------------
# fails at 7162e13: cmd_profile.c:cmd_profile saves the profile, then the
# binary renamed over it; --json still reports "path" with the binary's
# size, exit 0, and the profile is gone.
start_tiny_agent; P=$TINY
run "$CGOPS" pprof-heap "$P" -o "$T/same" --binary "$T/same" --no-launch
if [ "$RC" -eq 2 ]; then pass "-o and --binary the same file: usage error"
elif [ "$(head -c 2 "$T/same" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 1f8b ]; then pass "-o and --binary the same file: the profile kept"
else fail "-o and --binary the same file: exit $RC and the profile was replaced by the binary"; fi

# --- 8. a binary reply that does not start as one is written whole --------
# fails at 7162e13: cmd_profile.c:on_data writes every byte and checks the
# start (proto_binary_head_ok) only once the reply ends, so a peer that
# streams text makes cgops write up to 2 GiB before "larger than 2 GiB";
# the agent commands refuse a wrong start at once.
start_fault endless; E=127.0.0.1:$FPORT
run "$CGOPS" pprof-heap "$E" -o "$T/endless.prof" --no-launch
expect_rc 1 "pprof-heap of an endless text stream"
expect_err_contains "not a gzip-compressed profile" "pprof-heap: refused for its start, not its size"
[ ! -e "$T/endless.prof" ] && pass "no partial profile" || fail "partial profile left"

# --- 9. C1 controls and CR in the text replies -----------------------------
# fails at 7162e13: proto.c:proto_is_text accepts '\r' and every well-formed
# UTF-8 character, C1 controls (U+0080..U+009F) included, and the text
# commands print the reply as sent: a version "go1.22<CSI>2J" or a memstats
# value with '\r' (which rewrites the line shown) passes with exit 0.
# out_list.c:cg_text_safe already escapes both kinds for names and paths.
canned 'go1.22\302\2332J\n' c1version
run "$CGOPS" version "$A"
case "$OUT" in *"$C1"*) fail "version: a C1 control from the peer reached stdout" ;; *) pass "version: no C1 control on stdout" ;; esac
canned 'alloc: 5\nlast-gc: x\rnum-gc: 0\n' crvalue
run "$CGOPS" memstats "$A"
case "$OUT" in *$'\r'*) fail "memstats: a CR from the peer reached stdout" ;; *) pass "memstats: no CR on stdout" ;; esac

# --- 10. a port file in the caller's dir that is a symbolic link ----------
# failed before: portfile.c:read_port_at opened PID in the caller's config
# dir without O_NOFOLLOW, so in a shared dir another user's link PID ->
# (a FIFO here, a device elsewhere) was opened by root.  A writer waiting
# on the FIFO shows whether anybody opened it for reading.
mkdir -m 1777 "$T/shared"
mkfifo "$T/trap.fifo"
start_agent agentfix; SP=$APID
ln -s "$T/trap.fifo" "$T/shared/$SP"
sh -c 'exec 3>"$1"; : >"$2"' sh "$T/trap.fifo" "$T/trap.opened" &
W=$!
run env GOPS_CONFIG_DIR="$T/shared" "$CGOPS" version "$SP"
expect_rc 0 "a symlinked port file in the caller's dir: the target's own file serves"
run env GOPS_CONFIG_DIR="$T/shared" "$CGOPS"
[ ! -e "$T/trap.opened" ] && pass "the link in the caller's dir was not followed" ||
    fail "cgops opened what a planted link in the caller's dir names"
kill "$W" 2>/dev/null

# --- what held up, kept as guards -------------------------------------------
for r in 'goroutine 1 [running]:\r\nmain.f()\r\n\t/x.go:1 +0x1\r\n\r\n' \
         'goroutine 1 [x]:\ncreated by \n\t/a:1\n' \
         'goroutine 1 [x]:\nmain.\377()\n\t/a:1\n' \
         'goroutine 1 [x]:\nmain.\033[2J()\n\t/a:1\n'; do
    canned "$r" odd
    run "$CGOPS" stack "$A" --json
    if [ "$RC" -eq 0 ]; then printf '%s\n' "$OUT" >"$T/odd.json"; validate agent-stack.schema.json "$T/odd.json"
    else printf '%s\n' "$OUT" >"$T/odd.json"; validate agent-error.schema.json "$T/odd.json"; fi
done
for r in 'alloc: 18446744073709551616\n' 'num-gc: -3\n' 'gc-cpu-fraction: nan\n' 'gc-cpu-fraction: 1e999\n'; do
    canned "$r" num
    run "$CGOPS" memstats "$A"
    expect_rc 1 "memstats text '$r' refused"
done

finish

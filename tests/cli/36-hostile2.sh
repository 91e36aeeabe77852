#!/bin/bash
# 36-hostile2.sh -- defects found by the second hostile test before issue 8
# closed (after the fixes of 35-hostile.sh): the descriptor budget against
# spooled replies, a full $TMPDIR under --json, -o and --binary through a
# dangling link, a byte of a refused UTF-8 sequence on stdout, and a write
# error said twice, a target's config dir on stderr raw.  Each check says what is expected; all of them failed
# at b4914be when written.
. "$(dirname "$0")/lib.sh"

# A goroutine dump of about 300 KB (more than a spool keeps in memory, so a
# target that waits for an earlier one spills it to a temp file).
/usr/bin/python3 - "$T/big.reply" <<'EOF'
import sys
s, i = [], 1
while sum(map(len, s)) < 300000:
    s.append(b"goroutine %d [chan receive]:\nmain.blockForever(0xc000012345)\n"
             b"\t/src/main.go:20 +0x1d\ncreated by main.main\n\t/src/main.go:30 +0x3f\n\n" % i)
    i += 1
open(sys.argv[1], "wb").write(b"".join(s))
EOF
start_fault file -file "$T/big.reply"; BIG=127.0.0.1:$FPORT
start_fault silent; SIL=127.0.0.1:$FPORT
ESC=$(printf '\033')
C1=$(printf '\302\233') # U+009B, CSI

# --- 1. the descriptor budget counts a running target once -----------------
# fails at b4914be: fanout.c:fanout_pump starts targets while running +
# spilled < max_files (cmd_agent.c:descriptor_budget, the limit less what is
# open less 8), but a running target that spills holds two descriptors, its
# socket and its spool file.  With the first target silent every other one
# spills, and under ulimit -n 48 some fail with "cannot spool the reply in a
# temporary file: Too many open files" (2 or 3 of 20 here; 19 of 200 under
# ulimit -n 256).  Expected: only the silent target fails.
# The server holds every connection open after its dump until 20 are open
# (or no new one came for a second, so a cgops that starts fewer at once
# still ends): the 20 spilled spools are then open at the same time,
# whatever the scheduling.
start_fixture -n barrier /usr/bin/python3 -c '
import socket, sys, threading, time
data = open(sys.argv[1], "rb").read()
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print("ready", s.getsockname()[1], flush=True)
lock = threading.Lock(); st = {"n": 0, "last": time.time()}
def serve(c):
    c.recv(64); c.sendall(data)
    while True:
        with lock:
            if st["n"] >= 20 or time.time() - st["last"] > 1: break
        time.sleep(0.05)
    c.close()
while True:
    c, _ = s.accept()
    with lock: st["n"] += 1; st["last"] = time.time()
    threading.Thread(target=serve, args=(c,), daemon=True).start()' "$T/big.reply"
BAR=127.0.0.1:${READY#ready }
TGT=$SIL
for i in $(seq 20); do TGT="$TGT $BAR"; done
run bash -c 'ulimit -n 48 && exec "$@"' sh "$CGOPS" stack $TGT --timeout 10s
n=$(printf '%s\n' "$OUT" | grep -c '^goroutine 1 ')
[ "$n" -eq 20 ] && pass "ulimit -n 48, a silent target and 20 spilled dumps: all 20 dumps" ||
    fail "ulimit -n 48, a silent target and 20 spilled dumps: $n dumps whole"
case "$ERR" in *"cannot spool"*) fail "ulimit -n 48: a target failed to spool: $(printf '%s\n' "$ERR" | grep -m1 'cannot spool')" ;;
*) pass "ulimit -n 48: no target failed to spool" ;; esac

# --- 2. a full $TMPDIR keeps the --json document valid --------------------
# fails at b4914be: when a spool file fills the file system, spool.c:
# spool_write keeps what was written (a goroutine object cut in a string),
# the target's closing frame cannot be spooled either (cmd_agent.c:job_end
# ignores emit's result), and fanout.c:advance drains the cut bytes: the
# next target's member follows '{"id":1167,"state":"c' and stdout is not
# JSON.  Expected: the failing target ends as an error member (or its array
# closed), the document valid, exit 1.
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
    mkdir "$T/small"
    run unshare -m sh -c 'mount -t tmpfs -o size=1m tmpfs "$1" && shift && TMPDIR=$0 exec "$@"' \
        "$T/small" "$T/small" "$CGOPS" stack "$SIL" "$BIG" "$BIG" "$BIG" "$BIG" --json --timeout 3s
    expect_rc 1 "stack --json with a full TMPDIR"
    expect_err_contains "No space left on device" "stack --json with a full TMPDIR: the spool failure is said"
    printf '%s\n' "$OUT" >"$T/full.json"
    validate agent-multi.schema.json "$T/full.json"
else
    skip "a full TMPDIR: needs root and unshare -m for a small tmpfs"
fi

# The same without root: a TMPDIR that does not exist.  The spooled target
# keeps the 64 KiB its spool holds in memory; its closing ']}' cannot be
# spooled, so the document ends '...}}\n]' with the target's array open.
run env TMPDIR="$T/nonexistent" "$CGOPS" stack "$SIL" "$BIG" --json --timeout 3s
expect_rc 1 "stack --json with a TMPDIR that does not exist"
expect_err_contains "cannot spool" "stack --json with a TMPDIR that does not exist: the spool failure is said"
printf '%s\n' "$OUT" >"$T/notmp.json"
validate agent-multi.schema.json "$T/notmp.json"

# --- 3. -o and --binary through a dangling symbolic link -------------------
# fails at b4914be: cmd_profile.c:same_file compares inodes only when both
# names exist and otherwise the resolved directories and the last names as
# spelled, so -o LINK --binary FILE where LINK -> FILE (not yet there) pass;
# the profile is written through the link, the binary renamed over it, exit
# 0, and the profile is gone.
start_tiny_agent; P=$TINY
mkdir "$T/dl"
ln -s "$T/dl/prof" "$T/dl/link"
run "$CGOPS" pprof-heap "$P" -o "$T/dl/link" --binary "$T/dl/prof" --no-launch
if [ "$RC" -eq 2 ]; then pass "-o LINK --binary its dangling target: usage error"
elif [ "$(head -c 2 "$T/dl/prof" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 1f8b ]; then pass "-o LINK --binary its target: the profile kept"
else fail "-o LINK --binary its dangling target: exit $RC and the profile was replaced by the binary"; fi

# --- 4. no byte of a refused sequence reaches stdout -----------------------
# fails at b4914be: proto.c:proto_text_stream_check carries a sequence cut
# by a read's end to the next read, but cmd_agent.c:on_data writes the whole
# read, the carried lead byte included, so "\302" of an 8-bit CSI
# ("\302\233") sent in two writes is on stdout before the "\233" that gets
# the dump refused.  Expected: stdout ends before the unchecked byte.
start_fixture -n split /usr/bin/python3 -c '
import socket, sys, threading, time
parts = [b"goroutine 1 [running]:\nmain.f(\xc2", b"\x9b2J)\n\t/x.go:1\n"]
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print("ready", s.getsockname()[1], flush=True)
def serve(c):
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.recv(64)
    for p in parts:
        c.sendall(p); time.sleep(0.3) # two reads, whatever the timing: the byte is refused either way
    c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()'
SPL=127.0.0.1:${READY#ready }
"$CGOPS" stack "$SPL" >"$T/split.out" 2>"$T/split.err"
RC=$? ERR=$(cat "$T/split.err")
expect_rc 1 "stack text: a C1 control split over two reads is refused"
if od -An -tx1 "$T/split.out" | grep -qw c2; then
    fail "stack text: the lead byte of the refused sequence reached stdout"
else
    pass "stack text: no byte of the refused sequence on stdout"
fi

# --- 5. a write error is said once ------------------------------------------
# fails at b4914be: with several spooled targets (or one dump bigger than
# stdio's buffer) "write error on standard output" is printed twice for one
# failed stdout; fanout.c's "said once, by the command" is not so.
if [ -w /dev/full ]; then
    "$CGOPS" stack "$BIG" "$BIG" --timeout 5s >/dev/full 2>"$T/full.err"
    RC=$?
    expect_rc 1 "stack >/dev/full"
    n=$(grep -c 'write error' "$T/full.err")
    [ "$n" -eq 1 ] && pass "stack >/dev/full: the write error said once" ||
        fail "stack >/dev/full: the write error said $n times"
else
    skip "a write error: no /dev/full"
fi

# --- 6. a target's config dir reaches the terminal raw -----------------------
# fails at b4914be: portfile.c builds "bad port file %s: ..." from the path
# in the target's own config dir, which comes from its environment
# (GOPS_CONFIG_DIR), and cmd.c:vreport and the listing's -v notes print it
# as it is: any local user's process with an escape sequence or a C1
# control in that variable, and a port file there that is not a number,
# writes to root's terminal through `cgops version PID`, `cgops -v`,
# `cgops tree -v` and `cgops stats --all -v`.  Names, paths and versions
# are made safe (out_text_safe); --json escapes them.
EVIL="$T/e$ESC]0;PWNED$(printf '\007')${C1}x"
mkdir "$EVIL"
start_fixture env GOPS_CONFIG_DIR="$EVIL" "$FIXTURES/agentfix"
EPID=$RPID
if [ -n "$EPID" ] && [ -f "$EVIL/$EPID" ]; then
    printf 'abc' >"$EVIL/$EPID"
    for args in "version $EPID" "-v" "tree -v" "stats --all -v"; do
        run "$CGOPS" $args
        case "$ERR$OUT" in *"$ESC"* | *"$C1"*) fail "cgops $args: the target's config dir reached the terminal raw: $(printf '%s' "$ERR" | grep -a -m1 "pid $EPID\|addr or pid $EPID" | cat -v | cut -c1-160)" ;;
        *) pass "cgops $args: no escape or C1 control from the target's config dir" ;; esac
    done
else
    fail "agentfix with an escape in GOPS_CONFIG_DIR wrote no port file there"
fi

finish

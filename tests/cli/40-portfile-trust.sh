#!/bin/bash
# 40-portfile-trust.sh -- agents of other users and in other namespaces are
# found and reached; stale, spoofed and malformed port files are caught
# before anything is sent.  Runs as root (CI does); skips what needs root.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (setpriv, unshare, chroot)"
nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

# 1. An agent of another user, with its own HOME: root's config dir has no
#    file for it, its own environment says where it wrote one.
mkdir -p "$T/nobodyhome"; chown nobody:nogroup "$T/nobodyhome"
start_fixture -n "nobody's agent" setpriv --reuid=nobody --regid=nogroup --clear-groups env -u GOPS_CONFIG_DIR -u XDG_CONFIG_HOME HOME="$T/nobodyhome" "$FIXTURES/agentfix" -goroutines 4
UPID=$RPID
[ "$RPORTFILE" = "$T/nobodyhome/.config/gops/$UPID" ] && pass "agent wrote into its own HOME" || fail "port file at $RPORTFILE"
run "$CGOPS"
[[ "$(line_of "$UPID")" =~ agentfix\ *\* ]] && pass "other user's agent marked" || fail "not marked: $(line_of "$UPID")"
run "$CGOPS" stats "$UPID"
expect_rc 0 "stats of another user's agent"
expect_out_contains "goroutines: " "stats reply from another user's agent"

# 2. An agent in its own mount and network namespace, with a private HOME on
#    a tmpfs only that namespace sees, listening on its own loopback.
mkdir -p "$T/nshome"
start_fixture -n "namespaced agent" unshare --mount --net sh -c "ip link set lo up && mount -t tmpfs tmpfs '$T/nshome' &&
    exec env -u GOPS_CONFIG_DIR HOME='$T/nshome' '$FIXTURES/agentfix' -goroutines 6"
NPID=$RPID; NPORT=$RPORT
[ ! -e "$T/nshome/.config/gops/$NPID" ] && pass "its port file is invisible from the host" || fail "port file visible on host"
[ "$(readlink /proc/$NPID/ns/net)" != "$(readlink /proc/self/ns/net)" ] && pass "agent in another netns" || fail "same netns"
run "$CGOPS"
[[ "$(line_of "$NPID")" =~ agentfix\ *\* ]] && pass "namespaced agent marked" || fail "not marked: $(line_of "$NPID")"
run "$CGOPS" stats "$NPID"
expect_rc 0 "stats of a namespaced agent by pid"
g=$(printf '%s\n' "$OUT" | awk -F': ' '$1 == "goroutines" {print $2}')
[ "${g:-0}" -ge 6 ] && pass "namespaced stats: $g goroutines" || fail "namespaced stats: $OUT / $ERR"
"$CGOPS" memstats "$NPID" --json >"$T/ns.json" && validate agent-memstats.schema.json "$T/ns.json"
# host:port is not translated: from the host that port is closed.
run "$CGOPS" stats "127.0.0.1:$NPORT" --timeout 2s
expect_rc 1 "namespaced agent's port from the host netns"
# Without the right to enter the namespace, a clear error names it.
run nobody "$CGOPS" stats "$NPID"
expect_rc 1 "unprivileged caller, other netns"

# 3. An agent in a chroot (its root is not ours): found through
#    /proc/PID/root; a port file that is a symlink is refused.
R="$T/root"
mkdir -p "$R/home" "$R/tmp"
cp "$FIXTURES/agentfix-static" "$R/agentfix"
start_fixture -n "chrooted agent" env -u GOPS_CONFIG_DIR HOME=/home chroot "$R" /agentfix -goroutines 2
CPID=$RPID; CPORT=$RPORT
run "$CGOPS" version "$CPID"
expect_rc 0 "chrooted agent found through its root"
PF="$R/home/.config/gops/$CPID"
[ -f "$PF" ] && pass "chrooted agent wrote inside its root" || fail "no port file at $PF"
cp "$PF" "$T/saved"
rm -f "$PF"; ln -s /etc/passwd "$PF"
run "$CGOPS" stats "$CPID"
expect_rc 1 "symlinked port file"
expect_err_eq "cgops: couldn't resolve addr or pid $CPID to TCPAddress: bad port file ${PF#$R}: a symbolic link (not followed)" "symlink message"
run "$CGOPS" -v
[ -z "$(line_of "$CPID" | grep '\*')" ] && pass "symlinked port file: no mark" || fail "marked with symlinked port file"
# A directory symlink escaping the root is confined to it: ../../.. stops at
# the root, so the lookup stays inside and finds nothing outside.
rm -f "$PF"; mkdir -p "$R/x"; cp "$T/saved" "$PF"
mv "$(dirname "$PF")" "$R/x/gops"; ln -s ../../../../../../../../x/gops "$(dirname "$PF")"
run "$CGOPS" version "$CPID"
expect_rc 0 "relative directory link resolved inside the root"

# 4. A stale port file: a Go process without agent, its file names a closed port.
start_fault refused; CLOSED=$FPORT
start_fixture -e "$FIXTURES/sleeper" "$FIXTURES/sleeper"; SPID=$RPID
printf '%s' "$CLOSED" >"$GOPS_CONFIG_DIR/$SPID"
run "$CGOPS" -v
[ -z "$(line_of "$SPID" | grep '\*')" ] && pass "stale port file: no mark" || fail "stale marked"
expect_err_contains "pid $SPID: not marked as running an agent: port $CLOSED from $GOPS_CONFIG_DIR/$SPID is not held by pid $SPID (stale port file?)" "-v explains the stale file"
run "$CGOPS" stats "$SPID"
expect_rc 1 "stats with a stale port file"
expect_err_eq "cgops: port $CLOSED from $GOPS_CONFIG_DIR/$SPID is not held by pid $SPID (stale port file?)" "stale message"

# 5. A port file naming a port another (non-agent) process listens on:
#    refused, and nothing is sent to that process.
start_fault listen -record "$T/rec"; OTHER=$FPORT
printf '%s' "$OTHER" >"$GOPS_CONFIG_DIR/$SPID"
# (stack and memstats would read the process's memory instead: asked
# with --agent-only here, to see the refusal itself.)
for cmd in stats memstats version stack gc setgc; do
    only=
    case $cmd in stack | memstats) only=--agent-only ;; esac
    if [ $cmd = setgc ]; then run "$CGOPS" setgc "$SPID" 50; else run "$CGOPS" $cmd $only "$SPID"; fi
    [ "$RC" -eq 1 ] && [ "$ERR" = "cgops: port $OTHER from $GOPS_CONFIG_DIR/$SPID is not held by pid $SPID (stale port file?)" ] &&
        pass "$cmd refused for a port held by another process" || fail "$cmd: rc $RC err $ERR"
done
# Without --agent-only, stack says why the agent is not asked and reads
# the memory of the process instead, still sending nothing to the port.
run "$CGOPS" stack "$SPID"
[ "$RC" -eq 0 ] && [[ "$ERR" == *"is not held by pid $SPID (stale port file?); reading its goroutines from its memory instead"* ]] &&
    pass "stack falls back to memory and says why" || fail "stack fallback: rc $RC err $ERR"
run "$CGOPS"
[ -z "$(line_of "$SPID" | grep '\*')" ] && pass "spoofed port: no mark" || fail "spoofed marked"
[ ! -s "$T/rec" ] && pass "nothing was sent to the other process" || fail "bytes sent: $(od -An -tx1 "$T/rec")"

# 6. Malformed port files.
check_bad() { # CONTENT MESSAGE
    printf "$1" >"$GOPS_CONFIG_DIR/$SPID"
    run "$CGOPS" stats "$SPID"
    expect_rc 1 "port file '$1'"
    expect_err_eq "cgops: couldn't resolve addr or pid $SPID to TCPAddress: bad port file $GOPS_CONFIG_DIR/$SPID: $2" "port file '$1' message"
    run "$CGOPS"
    [ -z "$(line_of "$SPID" | grep '\*')" ] && pass "no mark for '$1'" || fail "marked for '$1'"
}
check_bad 'garbage\x01\x02' "not a port number"
check_bad '' "empty port file"
check_bad '70000' "port 70000 out of range 1-65535"
check_bad '0' "port 0 out of range 1-65535"

# 7. Port files that must not stall or fool cgops, and agents in places
#    the simple rules miss.
# 7a. A FIFO where the port file should be (any user can make one in their
#     own config dir): refused at once, never read; the listing goes on.
rm -f "$GOPS_CONFIG_DIR/$SPID"; mkfifo "$GOPS_CONFIG_DIR/$SPID"
run timeout 20 "$CGOPS" stats "$SPID"
expect_rc 1 "FIFO as the port file"
expect_err_eq "cgops: couldn't resolve addr or pid $SPID to TCPAddress: bad port file $GOPS_CONFIG_DIR/$SPID: not a regular file" "FIFO message"
run timeout 20 "$CGOPS"
expect_rc 0 "listing beside a FIFO port file"
[ -n "$(line_of "$SPID")" ] && [ -z "$(line_of "$SPID" | grep '\*')" ] && pass "FIFO: listed, no mark" || fail "FIFO listing: $(line_of "$SPID")"
rm -f "$GOPS_CONFIG_DIR/$SPID"

# 7b. A stale or garbage file in the caller's dir does not hide the agent's
#     own, valid one (nobody's agent of section 1).
for junk in 1 garbage; do
    printf '%s' "$junk" >"$GOPS_CONFIG_DIR/$UPID"
    run "$CGOPS" stats "$UPID"
    expect_rc 0 "caller's '$junk' file, agent's own file valid"
    run "$CGOPS"
    [[ "$(line_of "$UPID")" =~ agentfix\ *\* ]] && pass "marked despite the caller's '$junk' file" || fail "not marked: $(line_of "$UPID")"
done
rm -f "$GOPS_CONFIG_DIR/$UPID"

# 7c. An agent on [::1] only, while another process holds 127.0.0.1 on the
#     same port (where a pid's agent is dialled): no mark, nothing sent.
start_fault listen -record "$T/rec7"; LPORT=$FPORT
if ! grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null; then
    skip "[::1]-only agent (no IPv6 loopback here)"
elif start_agent agentfix -addr "[::1]:$LPORT"; then
    V6PID=$APID
    run "$CGOPS"
    [ -z "$(line_of "$V6PID" | grep '\*')" ] && pass "[::1]-only agent: no mark" || fail "[::1] marked"
    run "$CGOPS" version "$V6PID"
    expect_rc 1 "[::1]-only agent, 127.0.0.1 held by another"
    expect_err_eq "cgops: port $LPORT from $APORTFILE is not held by pid $V6PID (stale port file?)" "[::1] message"
    [ ! -s "$T/rec7" ] && pass "nothing sent to the process on 127.0.0.1" || fail "sent: $(od -An -tx1 "$T/rec7")"
fi

# 7d. A private mount over the very dir the caller reads (systemd's
#     PrivateTmp or ProtectHome): same path, same root, other mounts.
start_fixture -n "agent with a private config dir" \
    unshare --mount sh -c "mount -t tmpfs tmpfs '$GOPS_CONFIG_DIR' && exec '$FIXTURES/agentfix'"
PMPID=$RPID
[ ! -e "$GOPS_CONFIG_DIR/$PMPID" ] && pass "its port file is under its private mount" || fail "visible"
run "$CGOPS" version "$PMPID"
expect_rc 0 "agent behind a private mount of the same dir"
run "$CGOPS"
[[ "$(line_of "$PMPID")" =~ agentfix\ *\* ]] && pass "private-mount agent marked" || fail "not marked: $(line_of "$PMPID")"

# 7e. HOME set but empty: Go takes the passwd home (root's /root, a tmpfs
#     of its own here so nothing is written to the host's).
start_fixture -n "agent with an empty HOME" \
    unshare --mount sh -c "mount -t tmpfs tmpfs /root && exec env -i HOME= CGOPS_TEST_TAG='$T' '$FIXTURES/agentfix'"
EHPID=$RPID
[ "$RPORTFILE" = "/root/.config/gops/$EHPID" ] && pass "empty HOME: the agent used the passwd home" || fail "empty HOME port file $RPORTFILE"
run "$CGOPS" version "$EHPID"
expect_rc 0 "agent with an empty HOME"

# 7f. The variable that names the config dir after 300 KB of environment.
big=$(head -c 100000 /dev/zero | tr '\0' a)
mkdir -p "$T/bigenv"
start_fixture -n "agent with a large environment" \
    env -i A="$big" B="$big" C="$big" GOPS_CONFIG_DIR="$T/bigenv" CGOPS_TEST_TAG="$T" "$FIXTURES/agentfix"
run "$CGOPS" version "$RPID"
expect_rc 0 "config dir named after 300 KB of environment"

# 7g. A caller dir that may be searched but not listed (0300): the listing
#     still finds the caller's own files.
mkdir -p "$T/cfg0300"; chown nobody:nogroup "$T/cfg0300"; chmod 0300 "$T/cfg0300"
start_fixture -n "nobody's agent in a 0300 dir" nobody env GOPS_CONFIG_DIR="$T/cfg0300" "$FIXTURES/agentfix"
QPID=$RPID
run nobody env GOPS_CONFIG_DIR="$T/cfg0300" "$CGOPS"
[[ "$(line_of "$QPID")" =~ agentfix\ *\* ]] && pass "unlistable caller dir: marked" || fail "0300 dir: $(line_of "$QPID")"

# 7h. A directory on the way that may be searched but not read (0311), as a
#     path lookup allows.
mkdir -p "$T/d0311/gops"; chown nobody:nogroup "$T/d0311/gops"; chmod 0311 "$T/d0311"
start_fixture -n "nobody's agent under a 0311 dir" nobody env GOPS_CONFIG_DIR="$T/d0311/gops" "$FIXTURES/agentfix"
run nobody env GOPS_CONFIG_DIR="$T/elsewhere" "$CGOPS" version "$RPID"
expect_rc 0 "target's config dir under a search-only directory"

# 7j. No variable at all: the home of the agent's real uid in its own
#     /etc/passwd (a bind mount in its mount namespace), not in ours.
mkdir -p "$T/home6"
sed "s|^root:\([^:]*\):0:0:\([^:]*\):[^:]*:|root:\1:0:0:\2:$T/home6:|" /etc/passwd >"$T/passwd6"
start_fixture -n "agent with its own passwd" \
    unshare --mount sh -c "mount --bind '$T/passwd6' /etc/passwd && exec env -i CGOPS_TEST_TAG='$T' '$FIXTURES/agentfix'"
[ "$RPORTFILE" = "$T/home6/.config/gops/$RPID" ] && pass "the agent took its passwd home" || fail "passwd-home port file $RPORTFILE"
run "$CGOPS" version "$RPID"
expect_rc 0 "config dir from the target's own passwd"

# 7i. A symbolic-link loop on the way to the target's config dir.
ln -s loop "$T/loop"
start_fixture -n "process with a looping config dir" env GOPS_CONFIG_DIR="$T/loop/gops" "$FIXTURES/agentfix" -noagent
LPID=$RPID
run "$CGOPS" stats "$LPID"
expect_rc 1 "looping config dir"
expect_err_eq "cgops: couldn't resolve addr or pid $LPID to TCPAddress: no port file for pid $LPID (target's config dir: Too many levels of symbolic links)" "loop message"
# 8. A caller's config dir that is a file or a symbolic-link loop holds no
#    port file: the target's own dir is used, and -v says why.
start_fixture -n "agent with its own config dir" env GOPS_CONFIG_DIR="$T/own8" "$FIXTURES/agentfix"
OPID=$RPID
: >"$T/cfgfile"; ln -s cfgloop "$T/cfgloop"
for bad in "$T/cfgfile" "$T/cfgloop"; do
    run env GOPS_CONFIG_DIR="$bad" "$CGOPS" version "$OPID"
    expect_rc 0 "caller's config dir $(basename "$bad"): target's own dir used"
    run env GOPS_CONFIG_DIR="$bad" "$CGOPS" -v
    [[ "$(line_of "$OPID")" =~ agentfix\ *\* ]] && pass "listing marks it despite $(basename "$bad")" || fail "not marked: $(line_of "$OPID")"
    expect_err_contains "config dir $bad is not usable" "-v says why $(basename "$bad") was passed over"
done

# 9. host:port with a port outside 1-65535 is refused, as Go's net.Dial
#    does, instead of wrapping around to another port (P + 65536 is P).
for p in $((OPID * 0 + 65536 + RPORT)) 0 99999999 -1 +5 80x; do
    run "$CGOPS" version "127.0.0.1:$p"
    expect_rc 1 "port $p refused"
    expect_err_eq "cgops: couldn't resolve addr or pid 127.0.0.1:$p to TCPAddress: address $p: invalid port" "port $p message"
done

# 10. A pid that is not a Go process says so (a kernel thread has no
#     executable; a shell is not Go).
KT=$(awk '$1 == "2" {print 2}' /proc/2/stat 2>/dev/null)
if [ -n "$KT" ] && [ ! -e /proc/2/exe ] && ! readlink /proc/2/exe >/dev/null 2>&1; then
    run "$CGOPS" stats 2
    expect_rc 1 "a kernel thread"
    expect_err_eq "cgops: couldn't resolve addr or pid 2 to TCPAddress: pid 2 is not a Go process (a kernel thread)" "kernel thread message"
fi
start_fixture -e sleep sleep 1000; SLPID=$RPID
run "$CGOPS" stats "$SLPID"
expect_rc 1 "a process that is not Go"
expect_err_eq "cgops: couldn't resolve addr or pid $SLPID to TCPAddress: pid $SLPID is not a Go process" "not-Go message"

# 11. /proc mounted hidepid=2: another user's agent is invisible to a
#     non-root caller, whose own config dir has the port file.  The file is
#     trusted (the check cannot be made), as the manual says; -v says so.
mkdir -p "$T/hp"; chmod 755 "$T/hp"
cat >"$T/hp.sh" <<EOS
mount -o remount,hidepid=2 /proc || { echo "no hidepid"; exit 0; }
GOPS_CONFIG_DIR='$T/hp' '$FIXTURES/agentfix' >'$T/hp.ready' 2>&1 &
i=0; while ! grep -q '^ready' '$T/hp.ready' && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
set -- \$(cat '$T/hp.ready'); HPID=\$2
setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c "test -e /proc/\$HPID && echo visible"
setpriv --reuid=nobody --regid=nogroup --clear-groups env GOPS_CONFIG_DIR='$T/hp' '$CGOPS' version -v "\$HPID" >'$T/hp.out' 2>'$T/hp.err'
echo "rc \$?"
setpriv --reuid=nobody --regid=nogroup --clear-groups env GOPS_CONFIG_DIR='$T/hp' '$CGOPS' version 999999 >/dev/null 2>'$T/hp.gone'
echo "gone \$?"
kill \$!
EOS
run unshare --mount --pid --fork --mount-proc sh "$T/hp.sh"
if [ "$OUT" = "no hidepid" ]; then
    echo "SKIP: hidepid not available"
else
    case "$OUT" in *visible*) fail "hidepid=2 did not hide the agent" ;; esac
    expect_out_contains "rc 0" "hidepid=2: the caller's port file is trusted"
    grep -q '^go1' "$T/hp.out" &&
        pass "hidepid=2: the agent answered" || fail "hidepid=2: no reply: $(cat "$T/hp.out" "$T/hp.err")"
    grep -q "cannot verify that pid .* /proc does not show the process" "$T/hp.err" &&
        pass "hidepid=2: -v says the port was not verified" || fail "hidepid=2 -v: $(cat "$T/hp.err")"
    expect_out_contains "gone 1" "hidepid=2: a pid that does not exist still fails"
fi
finish

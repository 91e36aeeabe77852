#!/bin/bash
# 65-top-screen.sh -- `cgops top` on a real terminal: tmux runs it in a
# pane, keys are sent as a person types them, and the screen is read back
# (capture-pane).  Checks: the table draws, g/s/p// change what it shows,
# the screen follows a resize, q quits and gives the terminal back.
. "$(dirname "$0")/lib.sh"

command -v tmux >/dev/null || skip_all "tmux not installed"
start_fixture "$FIXTURES/parkfix" -noagent -leak 20 || finish
pid=$RPID
sock="$T/tmux.sock"
tm() { tmux -S "$sock" "$@"; }
screen() { tm capture-pane -p -t cg; }
# wait_screen TEXT: until the pane shows TEXT (5 s)
wait_screen() {
    local i
    for i in $(seq 50); do
        screen | grep -qF -- "$1" && return 0
        sleep 0.1
    done
    return 1
}
tm -f /dev/null new-session -d -s cg -x 120 -y 30 "TERM=xterm-256color '$CGOPS' top -d 0.5 $pid; echo TOP-EXITED=\$?; sleep 30"
STARTED="$STARTED $(tm display -p -t cg '#{pane_pid}')"
trap 'tm kill-server 2>/dev/null; cleanup' EXIT

wait_screen "main.leakOne" && pass "top draws the goroutine groups" || fail "screen: $(screen)"
wait_screen "q quit" && pass "the key help is on screen" || fail "no key help"
screen | grep -q "by location, sorted by cpu" && pass "starts by location, sorted by cpu" || fail "header: $(screen | head -3)"
tm send-keys -t cg g
wait_screen "by start" && pass "g groups by start function" || fail "after g: $(screen | head -3)"
wait_screen "START FUNCTION" && pass "the column says so" || fail "column: $(screen | sed -n 4p)"
tm send-keys -t cg s
wait_screen "sorted by count" && pass "s sorts by count" || fail "after s: $(screen | head -3)"
tm send-keys -t cg p
wait_screen "[paused]" && pass "p pauses" || fail "after p: $(screen | head -3)"
a=$(screen | grep leakOne)
sleep 1.2
b=$(screen | grep leakOne)
[ "$a" = "$b" ] && pass "nothing refreshes while paused" || fail "paused screen changed: $a / $b"
tm send-keys -t cg p
tm send-keys -t cg /
wait_screen "filter:" || fail "no filter prompt"
tm send-keys -t cg "leak" Enter
wait_screen "filter: leak" && pass "/ sets a filter" || fail "after /: $(screen | head -3)"
sleep 1
screen | sed -n '5,$p' | grep -q "main.parkChanRecv\|main.main" && fail "the filter shows other groups: $(screen)" ||
    pass "the filter hides other groups"
tm resize-window -t cg -x 60 -y 12 2>/dev/null || tm resize-pane -t cg -x 60 -y 12 2>/dev/null
sleep 1
[ "$(screen | awk '{ if (length($0) > m) m = length($0) } END {print m}')" -le 60 ] && pass "drawn within a narrower window" ||
    fail "lines wider than 60 columns after a resize"
tm send-keys -t cg q
wait_screen "TOP-EXITED=0" && pass "q quits with status 0" || fail "after q: $(screen)"
finish

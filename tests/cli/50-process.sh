#!/bin/bash
# 50-process.sh -- `cgops PID` prints gops's lines, each checked against
# values read independently from /proc, then the Go version and the agent.
. "$(dirname "$0")/lib.sh"

start_agent agentfix -goroutines 2 -alloc || finish
P=$APID
# Not a start wait (start_agent waited for the ready line): the checks below
# compare cgops's thread count and RSS with /proc read a moment later, and a
# Go program just started (GC workers, the -alloc loop) still changes both.
sleep 1.2
run "$CGOPS" "$P"
expect_rc 0 "cgops PID"
val() { printf '%s\n' "$OUT" | awk -F'\t' -v l="$1:" '$1 == l {print $2; exit}'; }

# Labels and order exactly as gops prints them.
labels=$(printf '%s\n' "$OUT" | cut -f1 | sed '/^local\/remote:/d' | tr '\n' '|')
[ "$labels" = "parent PID:|threads:|memory usage:|cpu usage:|username:|cmd+args:|elapsed time:|go version:|goroutines:|agent:|" ] &&
    pass "labels in gops order, extras last" || fail "labels: $labels"

read -r -a st < <(sed 's/^.*) //' /proc/$P/stat)   # fields from 3 (state) on
[ "$(val 'parent PID')" = "${st[1]}" ] && pass "parent PID" || fail "parent PID $(val 'parent PID') vs ${st[1]}"
threads=$(awk '/^Threads:/ {print $2}' /proc/$P/status)
[ "$(val threads)" = "$threads" ] && pass "threads" || fail "threads $(val threads) vs $threads"
[ "$(val username)" = "$(id -nu "$(awk '/^Uid:/ {print $2}' /proc/$P/status)")" ] && pass "username" || fail "username $(val username)"
[ "$(val 'cmd+args')" = "$(tr '\0' ' ' </proc/$P/cmdline | sed 's/ $//')" ] && pass "cmd+args" || fail "cmd+args '$(val 'cmd+args')'"
[[ "$(val 'elapsed time')" =~ ^([0-9]+-)?([0-9][0-9]:)?[0-9][0-9]:[0-9][0-9]$ ]] && pass "elapsed format" || fail "elapsed '$(val 'elapsed time')'"
secs=$(val 'elapsed time' | awk -F: '{print $NF + 60 * $(NF-1)}')
etimes=$(ps -o etimes= -p "$P" | tr -d ' ')
[ $((secs - etimes)) -le 1 ] && [ $((etimes - secs)) -le 1 ] && pass "elapsed $secs s ~ ps $etimes s" || fail "elapsed $secs vs ps $etimes"
# memory: RSS pages * page size / MemTotal, within rounding and drift
mem=$(val 'memory usage'); mem=${mem%\%}
rss_kb=$(awk '/^VmRSS:/ {print $2}' /proc/$P/status)
total_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
awk -v m="$mem" -v r="$rss_kb" -v t="$total_kb" 'BEGIN { e = 100 * r / t; exit !(m >= e * 0.8 - 0.001 && m <= e * 1.2 + 0.001) }' &&
    pass "memory usage $mem% ~ $(awk -v r="$rss_kb" -v t="$total_kb" 'BEGIN {printf "%.3f", 100*r/t}')%" || fail "memory usage $mem%"
[[ "$(val 'memory usage')" =~ ^[0-9]+\.[0-9]{3}%$ ]] && pass "memory format %.3f%%" || fail "memory format"
[[ "$(val 'cpu usage')" =~ ^[0-9]+\.[0-9]{3}%$ ]] && pass "cpu format %.3f%%" || fail "cpu format"
expect_out_contains "local/remote:	127.0.0.1:$APORT <-> 0.0.0.0:0 (LISTEN)" "agent's listening socket line"
want=$(go version "$FIXTURES/agentfix" | awk '{print $2}')
[ "$(val 'go version')" = "$want" ] && pass "go version" || fail "go version $(val 'go version')"
[ "$(val agent)" = "port $APORT ($APORTFILE)" ] && pass "agent line" || fail "agent '$(val agent)'"

run "$CGOPS" process "$P" 500ms
expect_rc 0 "process PID 500ms"
# (a tab written inside [[ =~ ]] is a syntax error: neither branch would run)
re=$'cpu usage \\(500ms\\):\t[0-9]+\\.[0-9]{3}%'
[[ "$OUT" =~ $re ]] && pass "cpu usage over a period" || fail "period line: $OUT"
run "$CGOPS" process "$P" 1
expect_out_contains "cpu usage (1s):	" "plain seconds period"

"$CGOPS" "$P" --json >"$T/p.json"; RC=$?
expect_rc 0 "cgops PID --json"
validate process.schema.json "$T/p.json"
[ "$(jq -r '.agent.port' "$T/p.json")" = "$APORT" ] && [ "$(jq -r .go_version "$T/p.json")" = "$want" ] &&
    pass "json agent and version" || fail "json agent/version"
[ "$(jq -r '.sockets[0].state' "$T/p.json")" = LISTEN ] && pass "json socket" || fail "json socket"

start_fixture -e sleep sleep 1000; S=$RPID
run "$CGOPS" "$S"
expect_rc 0 "non-Go process"
expect_out_contains "go version:	-" "non-Go has no Go version"
expect_out_contains "agent:	none" "non-Go has no agent"

run "$CGOPS" 4000000
expect_rc 1 "nonexistent pid"
expect_err_eq "cgops: pid 4000000: no such process" "nonexistent pid message"
run "$CGOPS" process "$P" soon
expect_rc 2 "bad period"
expect_err_eq "cgops: invalid period 'soon': want a duration such as 2s or 500ms, or seconds
hint: see 'cgops help process'" "bad period message"
# A command line longer than any fixed buffer is printed whole, as gops does.
long=$(head -c 10000 /dev/zero | tr '\0' x)
start_fixture -n "sleeper with a 10 KB argument" -e "$FIXTURES/sleeper" "$FIXTURES/sleeper" "$long"; LP=$RPID
run "$CGOPS" "$LP"
expect_rc 0 "process with a 10 KB command line"
[ "$(printf '%s\n' "$OUT" | grep '^cmd+args:' | cut -f2-)" = "$FIXTURES/sleeper $long" ] &&
    pass "10 KB cmd+args printed whole" || fail "cmd+args length $(printf '%s\n' "$OUT" | grep '^cmd+args:' | wc -c)"
run "$CGOPS" "$LP" 1e-10
expect_rc 2 "a period that rounds to nothing"

run "$CGOPS" process
expect_rc 2 "process without pid"
run "$CGOPS" process abc
expect_rc 2 "process with a bad pid"
finish

#!/bin/bash
# 51-help-man-install.sh -- help, the manual and completion cover the same
# commands; `cmake --install` installs all three; the manual renders cleanly.
. "$(dirname "$0")/lib.sh"

run "$CGOPS" --help
expect_rc 0 "--help"
cmds=$(printf '%s\n' "$OUT" | awk '/^Commands:/ {on=1; next} /^$/ {on=0} on {print $1}')
[ "$(printf '%s\n' "$cmds" | wc -l)" -ge 13 ] && pass "--help lists the commands" || fail "commands: $cmds"
for c in $cmds; do
    run "$CGOPS" help "$c"
    [ "$RC" -eq 0 ] && [[ "$OUT" == "usage: cgops $c"* ]] || fail "help $c: $OUT"
    grep -q "^\.B.*$(printf '%s' "$c" | sed 's/-/\\\\-/g')" "$CGOPS_SRC/man/cgops.1" ||
        grep -q "$(printf '%s' "$c" | sed 's/-/\\\\-/g')" "$CGOPS_SRC/man/cgops.1" || fail "man page lacks $c"
    grep -qw -- "$c" "$CGOPS_SRC/completions/cgops.bash" || fail "completion lacks $c"
done
pass "every command has help, a man entry and completion"
# Every option of every command's table (the table that parses them and
# prints their help) is in the manual.
for c in $cmds; do
    opts=$("$CGOPS" help --options "$c") || fail "help --options $c"
    [ -n "$opts" ] || fail "no options listed for $c"
    for o in $opts; do
        grep -q -- "$(printf '%s' "$o" | sed 's/-/\\\\-/g')" "$CGOPS_SRC/man/cgops.1" || fail "man lacks $c $o"
        "$CGOPS" help "$c" | grep -q -- "$o" || fail "help $c lacks $o"
    done
done
grep -q -- '\\-\\-version' "$CGOPS_SRC/man/cgops.1" || fail "man lacks --version"
pass "every option of every table is documented in man and help"
run "$CGOPS" --version
expect_rc 0 "--version"
[[ "$OUT" =~ ^cgops\ [0-9]+\.[0-9]+\.[0-9]+$ ]] && pass "--version format" || fail "--version: $OUT"
run "$CGOPS" help nosuch
expect_rc 2 "help for an unknown command"

# The manual renders without a single warning.
w=$(groff -man -ww -z "$CGOPS_SRC/man/cgops.1" 2>&1)
[ -z "$w" ] && pass "groff -man -ww: no warnings" || fail "groff warnings: $w"
w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l --warnings "$CGOPS_SRC/man/cgops.1" 2>&1 >/dev/null)
[ -z "$w" ] && pass "man -l: no warnings" || fail "man warnings: $w"
for s in "EXIT STATUS" "ENVIRONMENT" "TARGETS" "JSON OUTPUT" "EXAMPLES" GOPS_CONFIG_DIR XDG_CONFIG_HOME; do
    grep -q "$s" "$CGOPS_SRC/man/cgops.1" || fail "man lacks $s"
done
pass "man has exit status, environment, targets, JSON, examples"

# Completion: commands, per-command options, pids of Go processes with agents.
start_agent agentfix
complete_words() { # WORDS...: prints COMPREPLY
    bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _cgops; printf "%s\n" "${COMPREPLY[@]}"' \
        _ "$CGOPS_SRC/completions/cgops.bash" "$@"
}
export PATH="$(dirname "$CGOPS"):$PATH"
[ "$(complete_words cgops mem)" = memstats ] && pass "completes a command" || fail "command completion: $(complete_words cgops mem)"
complete_words cgops stats -- | grep -qx -- --timeout && pass "completes agent options" || fail "option completion"
complete_words cgops pprof-heap --no | grep -qx -- --no-launch && pass "completes profile options" || fail "profile options"
complete_words cgops stats "" | grep -qx "$APID" && pass "completes agent pids" || fail "pid completion: $(complete_words cgops stats '')"
start_fixture -e "$FIXTURES/sleeper" "$FIXTURES/sleeper"
complete_words cgops stats "" | grep -qx "$BGPID" && fail "offers a pid without agent" || pass "agent commands offer only agents"
complete_words cgops process "" | grep -qx "$BGPID" && pass "process offers every Go pid" || fail "process pids"

# cmake --install puts the binary, the manual and the completion in place.
cmake --install "$CGOPS_BUILD" --prefix "$T/inst" >/dev/null || fail "cmake --install"
[ -x "$T/inst/bin/cgops" ] && pass "installed binary" || fail "no installed binary"
[ -f "$T/inst/share/man/man1/cgops.1" ] && pass "installed man page" || fail "no man page"
[ -f "$T/inst/share/bash-completion/completions/cgops" ] && pass "installed completion" || fail "no completion"
MANPATH="$T/inst/share/man" man -w cgops >/dev/null 2>&1 && pass "man finds the installed page" || fail "man -w cgops"
finish

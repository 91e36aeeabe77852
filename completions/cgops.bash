# bash completion for cgops -- commands, options, and pids of Go processes

_cgops_pids() {
    # $1 = "agents" to offer only processes with a gops agent ('*').
    local line
    cgops 2>/dev/null | while read -r line; do
        if [ "$1" = agents ]; then
            case "$line" in *'*'*) ;; *) continue ;; esac
        fi
        printf '%s\n' "${line%% *}"
    done
}

# The options of a command, from cgops's own option table (the same table
# parses them and prints their help, so completion cannot drift).
_cgops_opts() {
    cgops help --options "$1" 2>/dev/null
}

_cgops() {
    local cur prev cmd i
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    local commands
    commands=$(cgops --help 2>/dev/null | awk '/^Commands:/ {on = 1; next} /^$/ {on = 0} on {print $1}')

    cmd=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in -*) ;; *) cmd=${COMP_WORDS[i]}; break ;; esac
    done

    case $prev in
        -o|--output|--binary) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        -H|--header) [[ $cur == @* ]] && COMPREPLY=($(compgen -P @ -f -- "${cur#@}")); return ;;
        --seconds) COMPREPLY=($(compgen -W "5 10 30 60" -- "$cur")); return ;;
        --timeout) COMPREPLY=($(compgen -W "1s 5s 10s 30s 1m" -- "$cur")); return ;;
        --by) COMPREPLY=($(compgen -W "location start creator wait" -- "$cur")); return ;;
        -d|--delay) COMPREPLY=($(compgen -W "1 2 5 10" -- "$cur")); return ;;
        -n|--iterations|--depth|--filter|--top|--focus|--ignore) return ;;
        --base|--state) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --token-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --listen|--min-interval) return ;;
        --sample-index) COMPREPLY=($(compgen -W "inuse_space inuse_objects alloc_space alloc_objects cpu samples contentions delay" -- "$cur")); return ;;
    esac

    if [ -z "$cmd" ]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--json --verbose --help --version" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands $(_cgops_pids)" -- "$cur"))
        fi
        return
    fi
    case $cmd in
        list|tree|metrics|mcp) COMPREPLY=($(compgen -W "$(_cgops_opts "$cmd")" -- "$cur")) ;;
        process|goroutines|summary|top)
            if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$(_cgops_opts process)" -- "$cur"))
            else COMPREPLY=($(compgen -W "$(_cgops_pids)" -- "$cur")); fi ;;
        pprof-heap|pprof-cpu|trace)
            if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$(_cgops_opts "$cmd")" -- "$cur"))
            else COMPREPLY=($(compgen -W "$(_cgops_pids agents)" -- "$cur")); fi ;;
        pprof-allocs|pprof-block|pprof-mutex|pprof-goroutine|pprof-threadcreate)
            # net/http/pprof only: a URL, nothing to offer but the options.
            if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$(_cgops_opts "$cmd")" -- "$cur")); fi ;;
        serve) COMPREPLY=($(compgen -W "$(_cgops_opts serve)" -- "$cur")) ;;
        profile)
            if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$(_cgops_opts "$cmd")" -- "$cur"))
            else COMPREPLY=($(compgen -f -- "$cur")); fi ;;
        setgc)
            if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$(_cgops_opts "$cmd")" -- "$cur"))
            else COMPREPLY=($(compgen -W "$(_cgops_pids agents) off" -- "$cur")); fi ;;
        memstats|stack)
            # Without an agent these read the process's memory: any Go pid.
            if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$(_cgops_opts "$cmd")" -- "$cur"))
            else COMPREPLY=($(compgen -W "$(_cgops_pids)" -- "$cur")); fi ;;
        gc|stats|version)
            if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$(_cgops_opts "$cmd")" -- "$cur"))
            else COMPREPLY=($(compgen -W "$(_cgops_pids agents)" -- "$cur")); fi ;;
        help) COMPREPLY=($(compgen -W "$commands $(_cgops_opts help)" -- "$cur")) ;;
        [0-9]*) COMPREPLY=($(compgen -W "$(_cgops_opts process)" -- "$cur")) ;;
    esac
}
complete -F _cgops cgops

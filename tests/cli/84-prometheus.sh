#!/bin/bash
# 84-prometheus.sh -- a real Prometheus (Debian's prometheus) scrapes cgops
# serve every second, with a bearer token; a PromQL query through its HTTP
# API returns the goroutine count of a parkfix, which the runtime's own
# dump confirms; promtool checks the exposition (issue 11)
. "$(dirname "$0")/lib.sh"

PROM=$(command -v prometheus) || skip_all "prometheus not installed (Debian's prometheus)"
command -v promtool >/dev/null || skip_all "promtool not installed (Debian's prometheus)"
command -v curl >/dev/null || skip_all "curl not installed"
command -v jq >/dev/null || skip_all "jq not installed"

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A parkfix without an agent: its goroutines are read from memory.
start_parkfix parkfix -noagent -park 37 || finish
PF=$PFPID

printf 'prom-token-84\n' >"$T/token"
chmod 600 "$T/token"
start_serve --listen 127.0.0.1:0 --token-file "$T/token" --min-interval 1s || finish
pass "cgops serve listens on $SADDR"

# promtool on what Prometheus will scrape (the text format).
curl -s -m 30 -H "Authorization: Bearer prom-token-84" "http://$SADDR/metrics" >"$T/metrics"
if promtool check metrics <"$T/metrics" >"$T/promtool.out" 2>&1; then
    pass "promtool check metrics on /metrics"
else
    fail "promtool check metrics: $(head -c 500 "$T/promtool.out")"
fi

# Prometheus: a scrape every second, storage in the scratch dir, the web
# port picked free (and picked again if another process takes it first).
cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: cgops
    authorization:
      type: Bearer
      credentials_file: $T/token
    static_configs:
      - targets: ['$SADDR']
EOF
if ! promtool check config "$T/prometheus.yml" >"$T/check.out" 2>&1; then
    fail "promtool check config: $(cat "$T/check.out")"
    finish
fi
PURL=
for try in 1 2 3; do
    PPORT=$(free_port)
    mkdir -p "$T/tsdb.$try"
    "$PROM" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb.$try" \
        --web.listen-address="127.0.0.1:$PPORT" --log.level=warn >"$T/prom.log" 2>&1 &
    PPID_=$!
    STARTED="$STARTED $PPID_"
    i=0
    while [ $i -lt 300 ] && kill -0 "$PPID_" 2>/dev/null; do
        if [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PPORT/-/ready")" = 200 ]; then
            PURL="http://127.0.0.1:$PPORT"
            break 2
        fi
        sleep 0.1
        i=$((i + 1))
    done
    kill -9 "$PPID_" 2>/dev/null
done
[ -n "$PURL" ] || { fail "prometheus did not start: $(tail -c 1000 "$T/prom.log")"; finish; }
pass "prometheus ready on $PURL"

# query PROMQL: the first sample's value, or empty
query() {
    curl -s -m 5 --data-urlencode "query=$1" "$PURL/api/v1/query" |
        jq -r 'if .status == "success" and (.data.result | length) > 0 then .data.result[0].value[1] else empty end' 2>/dev/null
}

# Wait (60 s at most) until PromQL sees the parkfix's goroutines.
V=
i=0
while [ -z "$V" ] && [ $i -lt 600 ]; do
    V=$(query "go_goroutines{pid=\"$PF\"}")
    [ -n "$V" ] || sleep 0.1
    i=$((i + 1))
done
[ -n "$V" ] && pass "PromQL go_goroutines{pid=\"$PF\"} = $V" ||
    fail "PromQL never returned go_goroutines of $PF: $(curl -s "$PURL/api/v1/targets" | head -c 600)"
up=$(query 'up{job="cgops"}')
[ "$up" = 1 ] && pass "prometheus: target up" || fail "prometheus: up is '$up'"
n=$(query 'cgops_serve_requests_total{code="200"}')
[ -n "$n" ] && [ "$n" -ge 1 ] && pass "prometheus sees serve's own series ($n answers 200)" ||
    fail "no cgops_serve_requests_total: '$n'"
parked=$(query "sum(cgops_goroutines{pid=\"$PF\"})")
[ -n "$parked" ] && pass "PromQL sum(cgops_goroutines) of the parkfix = $parked" || fail "no cgops_goroutines for $PF"

# The truth: the runtime's own dump (SIGQUIT, GOTRACEBACK=system).
# go_goroutines counts as runtime.NumGoroutine, the user goroutines; the
# parkfix parks 37 in main.parkMany besides its fixed ones.
if quit_dump "$PF" "$T/pf.quit"; then
    user=$(gotrace parse --user "$T/pf.quit" | jq length)
    many=$(gotrace parse "$T/pf.quit" | jq '[.[] | select(any(.frames[]; .function == "main.parkMany"))] | length')
    [ "$many" = 37 ] && pass "the dump has the 37 in main.parkMany" || fail "main.parkMany: $many"
    [ "$V" = "$user" ] && pass "PromQL's $V = the runtime dump's user goroutines" ||
        fail "PromQL says $V, the runtime's dump $user"
fi

kill -TERM "$SPID"
wait "$SPID"
rc=$?
[ "$rc" = 0 ] && pass "serve: exit 0 on SIGTERM" || fail "serve: exit $rc"
finish

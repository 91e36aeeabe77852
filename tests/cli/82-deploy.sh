#!/bin/bash
# 82-deploy.sh -- deploy/ is what operators install: each file is checked by
# the tool that will read it (systemd-analyze, promtool, apt-cache, a YAML
# parser), and against the contracts it must follow: the capabilities the
# unit and the DaemonSet grant are the same three, and every metric the
# Grafana dashboard queries is one protocol/METRICS.md promises.
. "$(dirname "$0")/lib.sh"

D="$CGOPS_SRC/deploy"
PY=/usr/bin/python3

# report: turn the "ok|fail|skip: what" lines of a checker into checks
report() {
    local kind msg
    while IFS= read -r line; do
        kind=${line%%: *}
        msg=${line#*: }
        case $kind in
        ok) pass "$msg" ;;
        fail) fail "$msg" ;;
        skip) skip "$msg" ;;
        *) fail "checker said: $line" ;;
        esac
    done
}

# check_py ARGS... <<'PY': run the Python checker on stdin with ARGS and
# count what it reports here, in this shell (a pipe into report would
# count in a subshell, and lose every result); a checker that crashes
# fails.
check_py() {
    "$PY" - "$@" >"$T/py.out" 2>"$T/py.err"
    local rc=$?
    report <"$T/py.out"
    [ "$rc" -eq 0 ] || fail "checker stopped (status $rc): $(tail -3 "$T/py.err")"
}

# ---- systemd unit ---------------------------------------------------------
unit="$D/systemd/cgops.service"
if ! command -v systemd-analyze >/dev/null; then
    skip "systemd-analyze not installed: the unit is not verified"
else
    # verify needs the ExecStart binary to exist: the one under test.
    sed "s#/usr/local/bin/cgops#$CGOPS#g" "$unit" >"$T/cgops.service"
    grep -q "^ExecStart=$CGOPS serve" "$T/cgops.service" && pass "unit starts cgops serve" ||
        fail "ExecStart of the unit is not /usr/local/bin/cgops serve"
    # An unknown key or a bad value is only a warning (exit status 0):
    # any output at all fails.
    run systemd-analyze verify "$T/cgops.service"
    if [ "$RC" -eq 0 ] && [ -z "$OUT$ERR" ]; then
        pass "systemd-analyze verify: no error, no warning"
    else
        fail "systemd-analyze verify (status $RC): $OUT $ERR"
    fi
    # systemd's own rating of the sandbox: 2.9 ("OK") as written; a lost
    # setting raises it.
    run systemd-analyze security --offline=yes --threshold=35 "$T/cgops.service"
    [ "$RC" -eq 0 ] && pass "systemd-analyze security: exposure at most 3.5" ||
        fail "systemd-analyze security: exposure above 3.5: $(printf '%s\n' "$OUT" | tail -1)"
fi

# The settings the unit must have, as systemd would read them: the last
# assignment of a key wins, except for the list-valued ones, which add up
# (and an empty assignment resets).
check_py "$unit" <<'PY'
import sys
vals, lists = {}, {}
LISTS = {"CapabilityBoundingSet", "AmbientCapabilities", "RestrictAddressFamilies", "SystemCallFilter"}
section = None
for raw in open(sys.argv[1]):
    line = raw.strip()
    if not line or line[0] in "#;":
        continue
    if line.startswith("["):
        section = line
        continue
    if section != "[Service]" or "=" not in line:
        continue
    k, v = line.split("=", 1)
    if k in LISTS:
        if v == "":
            lists[k] = []
        else:
            lists.setdefault(k, []).append(v.split())
    else:
        vals[k] = v

def want(key, value):
    got = vals.get(key)
    print("ok: unit %s=%s" % (key, value) if got == value else "fail: unit %s is %r, wanted %s" % (key, got, value))

for k, v in [("ProtectSystem", "strict"), ("ProtectHome", "read-only"), ("PrivateTmp", "yes"),
             ("NoNewPrivileges", "yes"), ("Restart", "on-failure")]:
    want(k, v)
caps = {"CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH", "CAP_SYS_ADMIN"}
for k in ("CapabilityBoundingSet", "AmbientCapabilities"):
    got = {c for words in lists.get(k, []) for c in words}
    neg = any(w.startswith("~") for words in lists.get(k, []) for w in words)
    print(("ok: unit %s is exactly the three capabilities" % k) if got == caps and not neg
          else "fail: unit %s is %s" % (k, sorted(got)))
fams = {f for words in lists.get("RestrictAddressFamilies", []) for f in words}
print("ok: unit RestrictAddressFamilies" if fams == {"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"}
      else "fail: unit RestrictAddressFamilies is %s" % sorted(fams))
allow = [w for words in lists.get("SystemCallFilter", []) if not words[0].startswith("~") for w in words]
for s in ("@system-service", "ptrace", "process_vm_readv", "setns"):
    print(("ok: unit allows %s" % s) if s in allow else "fail: SystemCallFilter lacks %s" % s)
for k in ("MemoryMax", "TasksMax"):
    print(("ok: unit sets %s" % k) if vals.get(k) else "fail: unit has no %s" % k)
print("ok: unit is not given DynamicUser=no or User=root" if vals.get("DynamicUser") == "yes" or
      (vals.get("User") not in (None, "root", "0")) else "fail: unit runs as root")
# Settings that would break cgops: each hides other users' processes or
# cuts it from the host's network, or empties its capabilities.
for k, bad in [("PrivateUsers", "yes"), ("PrivateNetwork", "yes"), ("ProtectProc", "invisible"),
               ("ProcSubset", "pid")]:
    print(("fail: unit sets %s=%s" % (k, bad)) if vals.get(k) == bad else "ok: unit has no %s=%s" % (k, bad))
PY

# ---- Kubernetes manifests -------------------------------------------------
if ! "$PY" -c 'import yaml' 2>/dev/null; then
    skip "python3-yaml not installed: the manifests and scrape configs are not parsed"
else
    check_py "$D" <<'PY'
import os, sys, yaml
d = sys.argv[1]
kdir = os.path.join(d, "kubernetes")
docs = []
for f in sorted(os.listdir(kdir)):
    if not f.endswith(".yaml"):
        continue
    try:
        these = [x for x in yaml.safe_load_all(open(os.path.join(kdir, f))) if x is not None]
    except yaml.YAMLError as e:
        print("fail: %s does not parse: %s" % (f, str(e).replace("\n", " ")))
        continue
    print("ok: kubernetes/%s parses (%d document(s))" % (f, len(these)))
    docs += [(f, x) for x in these]
    for x in these:
        if not (isinstance(x, dict) and x.get("apiVersion") and x.get("kind")):
            print("fail: %s: a document without apiVersion and kind" % f)

def one(kind):
    found = [x for _, x in docs if x.get("kind") == kind]
    if len(found) != 1:
        print("fail: %d %s(s) in deploy/kubernetes, wanted 1" % (len(found), kind))
        return None
    return found[0]

ds = one("DaemonSet")
if ds:
    spec = ds["spec"]["template"]["spec"]
    print("ok: DaemonSet hostPID" if spec.get("hostPID") is True else "fail: DaemonSet without hostPID: true")
    cs = spec.get("containers", [])
    if len(cs) != 1:
        print("fail: DaemonSet has %d containers, wanted 1" % len(cs))
    else:
        c = cs[0]
        sc = c.get("securityContext", {})
        cap = sc.get("capabilities", {})
        print("ok: DaemonSet drops ALL capabilities" if cap.get("drop") == ["ALL"]
              else "fail: DaemonSet capabilities.drop is %r" % cap.get("drop"))
        added = cap.get("add") or []
        print("ok: DaemonSet adds exactly SYS_PTRACE, DAC_READ_SEARCH, SYS_ADMIN"
              if sorted(added) == ["DAC_READ_SEARCH", "SYS_ADMIN", "SYS_PTRACE"]
              else "fail: DaemonSet capabilities.add is %r" % added)
        for k, v in [("readOnlyRootFilesystem", True), ("allowPrivilegeEscalation", False)]:
            print(("ok: DaemonSet %s: %s" % (k, v)) if sc.get(k) is v else "fail: DaemonSet %s is %r" % (k, sc.get(k)))
        print("fail: DaemonSet container is privileged" if sc.get("privileged") else "ok: not privileged")
        print("ok: DaemonSet says its uid" if "runAsUser" in sc else "fail: DaemonSet sets no runAsUser")
        lim = c.get("resources", {}).get("limits", {})
        print("ok: DaemonSet limits cpu and memory" if "cpu" in lim and "memory" in lim
              else "fail: DaemonSet limits are %r" % lim)
        args = c.get("args", [])
        listen = args[args.index("--listen") + 1] if "--listen" in args[:-1] else None
        # "[::]:PORT": every address of the pod's own namespace, IPv4 and
        # IPv6 alike (83-serve checks an IPv4 client reaches it).
        print("ok: DaemonSet listens on every pod address, IPv4 and IPv6" if listen and listen.startswith("[::]:")
              else "fail: DaemonSet --listen is %r" % listen)
        port = listen.rsplit(":", 1)[1] if listen else None
        # A non-loopback listener needs --token-file: it must be a file of a
        # mounted Secret.
        tok = args[args.index("--token-file") + 1] if "--token-file" in args[:-1] else None
        secrets = {v["name"]: v["secret"]["secretName"] for v in spec.get("volumes", []) if "secret" in v}
        mounted = [m for m in c.get("volumeMounts", []) if m["name"] in secrets and tok
                   and tok.startswith(m["mountPath"].rstrip("/") + "/")]
        print("ok: --token-file is in a mounted Secret" if mounted else "fail: --token-file %r is not in a Secret volume" % tok)
        cport = {p.get("name"): str(p["containerPort"]) for p in c.get("ports", [])}
        print("ok: containerPort is the listen port" if port in cport.values()
              else "fail: ports %r, listen port %r" % (cport, port))
        for probe in ("livenessProbe", "readinessProbe"):
            g = c.get(probe, {}).get("httpGet", {})
            p = g.get("port")
            p = cport.get(p, p) if isinstance(p, str) else str(p)
            print(("ok: %s on /healthz" % probe) if g.get("path") == "/healthz" and p == port
                  else "fail: %s is %r" % (probe, c.get(probe)))
        ann = ds["spec"]["template"]["metadata"].get("annotations", {})
        print("ok: prometheus.io annotations" if ann.get("prometheus.io/scrape") == "true"
              and ann.get("prometheus.io/port") == port else "fail: annotations %r" % ann)
        print("ok: TMPDIR (/tmp) is writable" if any(m["mountPath"] == "/tmp" for m in c.get("volumeMounts", []))
              else "fail: no volume on /tmp with a read-only root")
    labels = ds["spec"]["template"]["metadata"].get("labels", {})
    sel = ds["spec"]["selector"]["matchLabels"]
    print("ok: DaemonSet selector matches its pods" if all(labels.get(k) == v for k, v in sel.items())
          else "fail: selector %r, labels %r" % (sel, labels))
    ns = ds["metadata"].get("namespace")
    nss = [x["metadata"]["name"] for _, x in docs if x["kind"] == "Namespace"]
    print(("ok: namespace %s is defined" % ns) if ns in nss else "fail: namespace %r not in %r" % (ns, nss))
    san = spec.get("serviceAccountName")
    sas = [(x["metadata"]["name"], x["metadata"].get("namespace")) for _, x in docs if x["kind"] == "ServiceAccount"]
    print(("ok: service account %s is defined" % san) if (san, ns) in sas else "fail: service account %r not in %r" % (san, sas))
    svc = one("Service")
    if svc:
        s = svc["spec"]
        print("ok: headless Service selects the pods" if s.get("clusterIP") == "None" and
              all(labels.get(k) == v for k, v in s.get("selector", {}).items()) and s.get("selector")
              else "fail: Service %r" % s)
kust = [x for f, x in docs if x["kind"] == "Kustomization"]
if kust:
    res = set(kust[0].get("resources", []))
    files = {f for f in os.listdir(kdir) if f.endswith(".yaml") and f != "kustomization.yaml"}
    print("ok: kustomization lists every manifest" if res == files else "fail: kustomization %r, files %r" % (res, files))
PY

    # The capabilities the unit and the DaemonSet grant are the same.
    check_py "$unit" "$D/kubernetes/daemonset.yaml" <<'PY'
import sys, yaml
unit = {w for l in open(sys.argv[1]) if l.startswith("AmbientCapabilities=") for w in l.split("=", 1)[1].split()}
ds = [x for x in yaml.safe_load_all(open(sys.argv[2])) if x and x.get("kind") == "DaemonSet"][0]
k8s = {"CAP_" + c for c in ds["spec"]["template"]["spec"]["containers"][0]["securityContext"]["capabilities"]["add"]}
print("ok: unit and DaemonSet grant the same capabilities" if unit == k8s else "fail: unit %s, DaemonSet %s" % (sorted(unit), sorted(k8s)))
PY
fi

# ---- Prometheus -----------------------------------------------------------
if ! command -v promtool >/dev/null; then
    skip "promtool not installed: the scrape configs are not checked"
else
    # promtool also checks that the token file exists: one of ours.
    echo token >"$T/token"
    for f in prometheus.yml prometheus-kubernetes.yml; do
        sed "s#/etc/prometheus/secrets/cgops-token/token#$T/token#" "$D/prometheus/$f" >"$T/$f"
    done
    run promtool check config "$T/prometheus.yml"
    [ "$RC" -eq 0 ] && pass "promtool check config prometheus.yml" || fail "promtool: $OUT $ERR"
    # Debian's Prometheus is built without kubernetes_sd_configs.  Where
    # promtool has it, the file is checked whole; elsewhere its relabelling
    # (all of it but the discovery block) is checked in a job that uses a
    # static target instead.
    printf 'scrape_configs:\n  - job_name: x\n    kubernetes_sd_configs: [{role: pod}]\n' >"$T/probe.yml"
    if promtool check config "$T/probe.yml" >/dev/null 2>&1; then
        run promtool check config "$T/prometheus-kubernetes.yml"
        [ "$RC" -eq 0 ] && pass "promtool check config prometheus-kubernetes.yml" || fail "promtool: $OUT $ERR"
    elif "$PY" -c 'import yaml' 2>/dev/null; then
        skip "this promtool has no kubernetes_sd_configs (Debian's build): prometheus-kubernetes.yml checked without it"
        check_py "$T/prometheus-kubernetes.yml" "$T/k8s-static.yml" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
jobs = c["scrape_configs"]
sd = [j["kubernetes_sd_configs"] for j in jobs if "kubernetes_sd_configs" in j]
print("ok: a kubernetes_sd job with the pod role" if sd and all(s.get("role") == "pod" for s in sd[0])
      else "fail: no kubernetes_sd_configs with role pod")
keep = [r for j in jobs for r in j.get("relabel_configs", []) if r.get("action") == "keep"
        and r.get("source_labels") == ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"]]
print("ok: keeps pods annotated prometheus.io/scrape" if keep else "fail: no keep on the scrape annotation")
for j in jobs:
    if "kubernetes_sd_configs" in j:
        del j["kubernetes_sd_configs"]
        j["static_configs"] = [{"targets": ["127.0.0.1:9465"]}]
yaml.safe_dump(c, open(sys.argv[2], "w"))
PY
        run promtool check config "$T/k8s-static.yml"
        [ "$RC" -eq 0 ] && pass "promtool: the kubernetes job's relabelling and auth" || fail "promtool: $OUT $ERR"
    fi
    grep -q '"127.0.0.1:9465"' "$D/prometheus/prometheus.yml" && grep -q -- "--listen 127.0.0.1:9465 " "$unit" &&
        pass "static job scrapes the unit's address" || fail "static target and the unit's --listen differ"
fi

# ---- Grafana dashboard ----------------------------------------------------
# The metric names come from the tables of protocol/METRICS.md, so the
# dashboard cannot query a metric the contract does not promise.
check_py "$D/grafana/cgops-dashboard.json" "$CGOPS_SRC/protocol/METRICS.md" <<'PY'
import json, re, sys
try:
    dash = json.load(open(sys.argv[1]))
except ValueError as e:
    print("fail: dashboard JSON does not parse: %s" % e)
    sys.exit(0)
print("ok: dashboard parses")
types = {}
for line in open(sys.argv[2]):
    m = re.match(r"\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|\s*(counter|gauge|histogram|summary)\s*\|", line)
    if m:
        types[m.group(1)] = m.group(2)
if len(types) < 10:
    print("fail: only %d metrics read from METRICS.md: its table format changed" % len(types))
    sys.exit(0)
print("ok: %d metrics in METRICS.md" % len(types))
sv = dash.get("schemaVersion", 0)
print(("ok: schemaVersion %d" % sv) if isinstance(sv, int) and sv >= 36 else "fail: schemaVersion %r" % sv)
tv = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
print("ok: a datasource variable" if tv.get("datasource", {}).get("type") == "datasource"
      and tv["datasource"].get("query") == "prometheus" else "fail: no prometheus datasource variable")
for v in ("instance", "name"):
    print(("ok: variable %s" % v) if v in tv else "fail: no variable %s" % v)

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
            "and", "or", "unless", "inf", "nan"}
RATE = ("rate", "irate", "increase")

def metrics(expr, where):
    """Names of the series an expression selects: identifiers that are not
    functions, keywords, labels (inside {} or a by/without list) or
    variables."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)       # strings
    e = re.sub(r"\{[^}]*\}", "", e)                     # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                    # ranges
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\$\{?\w+\}?", "", e)                   # variables
    found = []
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", e):
        name, call = m.group(1), m.group(2)
        if call or name in KEYWORDS:
            continue
        before = e[:m.start()].rstrip()
        wrapped = any(before.endswith(f + "(") for f in RATE)
        found.append((name, wrapped))
    if not found:
        print("fail: %s: no metric in %r" % (where, expr))
    for name, wrapped in found:
        t = types.get(name)
        if t is None:
            print("fail: %s: %s is not in METRICS.md" % (where, name))
        elif t == "counter" and not wrapped:
            print("fail: %s: counter %s used without rate()/increase()" % (where, name))
        elif t != "counter" and wrapped:
            print("fail: %s: %s %s under rate()" % (where, t, name))
    return {n for n, _ in found}

used = set()
def walk(panels):
    for p in panels:
        walk(p.get("panels", []))
        if p.get("type") == "row":
            continue
        title = p.get("title", "?")
        ts = p.get("targets", [])
        if not ts:
            print("fail: panel %r has no query" % title)
        ds = p.get("datasource", {})
        if ds.get("uid") != "${datasource}":
            print("fail: panel %r does not use $datasource" % title)
        for t in ts:
            used.update(metrics(t.get("expr", ""), "panel %r" % title))
walk(dash.get("panels", []))
for name, v in tv.items():
    q = v.get("query")
    q = q.get("query", "") if isinstance(q, dict) else q
    m = re.match(r"\s*label_values\((.*),\s*\w+\)\s*$", q or "")
    if v.get("type") == "query":
        if not m:
            print("fail: variable %s: query %r is not label_values(...)" % (name, q))
        else:
            used.update(metrics(m.group(1), "variable %s" % name))
print("ok: every query of the dashboard uses metrics of METRICS.md (%d of them)" % len(used))
for want in ("go_goroutines", "cgops_goroutines", "go_memstats_heap_inuse_bytes", "cgops_gc_pause_seconds_total",
             "process_cpu_seconds_total", "process_resident_memory_bytes", "cgops_agent_up",
             "cgops_scrape_errors_total"):
    print(("ok: a panel shows %s" % want) if want in used else "fail: no panel shows %s" % want)
PY

# ---- Dockerfile -----------------------------------------------------------
df="$D/docker/Dockerfile"
froms=$(grep -iE '^FROM ' "$df" | awk '{print $2}' | sort -u)
[ "$froms" = "debian:12-slim" ] && pass "every stage is FROM debian:12-slim" || fail "FROM lines: $froms"
[ "$(grep -ciE '^FROM ' "$df")" -ge 2 ] && grep -qiE '^COPY --from=build ' "$df" &&
    pass "multi-stage: the runtime stage copies from the build" || fail "Dockerfile is not multi-stage"
grep -qxF .git "$D/docker/Dockerfile.dockerignore" && grep -qxF build "$D/docker/Dockerfile.dockerignore" &&
    pass "dockerignore keeps .git and build out" || fail "Dockerfile.dockerignore"

# The packages of each stage's apt-get install, continuation lines joined.
stage_pkgs() { # STAGE-NUMBER (1 build, 2 runtime)
    sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$df" |
        awk -v want="$1" 'toupper($1) == "FROM" {n++} n == want && /apt-get install/' |
        sed 's/.*apt-get install//; s/&&.*//' | tr ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | sort -u
}
build_pkgs=$(stage_pkgs 1)
run_pkgs=$(stage_pkgs 2)
[ -n "$build_pkgs" ] && [ -n "$run_pkgs" ] && pass "packages of both stages read" ||
    fail "no apt-get install read: build '$build_pkgs' runtime '$run_pkgs'"

# What scripts/setup.sh installs to build cgops must be in the build stage
# (golang-go builds the test fixtures only).
# (every assignment to run_pkgs, in order: a later line may add to it)
setup_run=$(sh -c "$(grep '^run_pkgs=' "$CGOPS_SRC/scripts/setup.sh")"'; echo $run_pkgs')
missing=""
for p in $setup_run; do
    [ "$p" = golang-go ] && continue
    printf '%s\n' "$build_pkgs" | grep -qxF "$p" || missing="$missing $p"
done
[ -n "$setup_run" ] && [ -z "$missing" ] && pass "build stage has setup.sh's run_pkgs" ||
    fail "build stage lacks:$missing (setup.sh run_pkgs: $setup_run)"

if ! command -v apt-cache >/dev/null || ! grep -q '^VERSION_ID="12"' /etc/os-release 2>/dev/null; then
    skip "not Debian 12: package names are not checked"
else
    # One apt-cache call (each costs seconds); a name it does not know
    # is simply absent from its answer.
    apt-cache show --no-all-versions $build_pkgs $run_pkgs 2>/dev/null | sed -n 's/^Package: //p' | sort -u >"$T/known"
    bad=""
    for p in $build_pkgs $run_pkgs; do
        grep -qxF "$p" "$T/known" || bad="$bad $p"
    done
    [ -z "$bad" ] && pass "every package of the Dockerfile is in Debian 12 ($(echo $build_pkgs $run_pkgs | wc -w))" ||
        fail "not in Debian 12:$bad"

    # The runtime stage must hold every shared library the binary loads,
    # save what debian:12-slim has already (the Essential packages and what
    # they depend on) and what apt installs with the stage's own packages
    # (libcurl4 brings its TLS, IDN, SSH libraries).  Sanitizer runtimes (an ASan build) are no part
    # of a release build.
    ess=$(apt-cache dumpavail | awk '/^Package:/ {p = $2} /^Essential: yes/ {print p}' | sort -u)
    apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
        --no-replaces --no-enhances $ess $run_pkgs 2>/dev/null | grep -v '^[ <]' | sort -u >"$T/base"
    missing=""
    nlib=0
    for lib in $(ldd "$CGOPS" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'); do
        pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null)
        pkg=${pkg%%:*}
        nlib=$((nlib + 1))
        case $pkg in
        '') missing="$missing $lib(no-package)" ;;
        libasan* | libubsan* | liblsan* | libclang*) ;;
        *) grep -qxF "$pkg" "$T/base" || printf '%s\n' "$run_pkgs" | grep -qxF "$pkg" || missing="$missing $pkg" ;;
        esac
    done
    [ "$nlib" -gt 0 ] && [ -z "$missing" ] && pass "the runtime stage has all $nlib libraries cgops loads" ||
        fail "runtime stage lacks:$missing"
fi

finish

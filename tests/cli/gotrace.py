#!/usr/bin/python3
"""gotrace.py -- read Go goroutine dumps, for the agentless tests

Reads the three texts the tests compare, which share one layout:
  - the runtime's dump on SIGQUIT (GOTRACEBACK=system: every goroutine, frames
    followed by " fp=... sp=... pc=..."; Go 1.23 and later head each goroutine
    "goroutine N gp=0x... m=... mp=... [STATE]:");
  - the agent's `stack` reply (runtime/pprof goroutine profile, debug=2);
  - cgops's own `goroutines` text, which follows the runtime's layout.
A goroutine is a block, ended by a blank line:
    goroutine N [STATE, M minutes, locked to thread]:
    function(args)
    \tfile:line +0xOFF
    ...
    created by function in goroutine M
    \tfile:line +0xOFF
Anything outside blocks (the "SIGQUIT: quit" header, registers, a program's
own output) is ignored, as are unknown lines inside one.

Usage:
  gotrace.py parse FILE                 JSON: a list of records {id, state,
                                        wait_minutes, locked, frames:
                                        [{function, file, line}], created_by:
                                        {function, file, line, goroutine},
                                        elided, stack_unavailable}
  gotrace.py summary [OPTS] FILE        one line per goroutine, in file order:
                                        ID<TAB>STATE<TAB>FRAME
  gotrace.py counts [OPTS] [--by state|frame|creator] FILE
                                        COUNT<TAB>KEY, by key (default state)
  gotrace.py compare [OPTS] A B [--ids ID...] [--match REGEX]
                                        exit 1 and print the differences when
                                        the goroutines named differ in STATE
                                        or FRAME between A and B
OPTS:
  --frame user|nonruntime   which frame names a goroutine (default user)
  --user                    leave out runtime goroutines and goroutine 0
FILE may be "-" for stdin.

STATE is the text in brackets less ", N minutes" and ", locked to thread"
(the wait reason for a waiting goroutine, else its status: "running",
"runnable", "syscall", ...).

FRAME, --frame user: the first frame outside the standard library: function
`main.*` or in a package whose import path's first element has a dot
(github.com/..., cgops.test/...), cgo's generated stubs (`_Cfunc_*`,
`_cgo_*`) excepted.  Without one, the nonruntime frame.
FRAME, --frame nonruntime: the first frame outside the runtime's machinery:
not `runtime.*`, not `internal/*` or `runtime/internal/*`, not a runtime
function linked into another package (`sync.runtime_Semacquire`,
`internal/poll.runtime_pollWait`: a name part starting `runtime_`), and not
`time.Sleep` (runtime code, linked into time).  Without one, the goroutine's
start function (its last frame before runtime.goexit), else "-".

A runtime goroutine (--user leaves them out) is one whose start function is
`runtime.*` other than runtime.main, as the runtime's own dump decides.

compare: the goroutines named are those of --ids, else those whose FRAME in
A or B matches --match (a Python regex, searched), else every goroutine in
A or B but goroutine 0 (a thread's g0 in SIGQUIT dumps).  Each must be in
both files with equal STATE and FRAME.  Exit 0 equal, 1 different, 2 bad
usage or a file with no goroutine.
"""
import json
import re
import sys

HEADER = re.compile(r"^goroutine (\d+)((?: [a-z]+=\S+)*) \[(.*)\]:\s*$")
FILELINE = re.compile(r"^\t(.*):(\d+)(?: \+0x[0-9a-fA-F]+)?(?: .*)?$")
CREATED = re.compile(r"^created by (.+?)(?: in goroutine (\d+))?\s*$")
FUNC = re.compile(r"^(\S.*?)\(([^()]*)\)\s*$")
MINUTES = re.compile(r"^(\d+) minutes?$")


def parse(text):
    """Return the goroutine records of a dump text, in order."""
    recs = []
    cur = None
    want_file = None  # the frame (or created_by) the next file line belongs to
    for line in text.splitlines():
        m = HEADER.match(line)
        if m:
            cur = header_record(m)
            recs.append(cur)
            want_file = None
            continue
        if cur is None:
            continue
        if line.strip() == "":
            cur = None
            continue
        m = FILELINE.match(line)
        if m:
            if want_file is not None:
                want_file["file"] = m.group(1)
                want_file["line"] = int(m.group(2))
                want_file = None
            continue
        want_file = None
        if line.strip().startswith("goroutine running on other thread"):
            cur["stack_unavailable"] = True
            continue
        if line.startswith("...") and "elided" in line:
            cur["elided"] = True
            continue
        m = CREATED.match(line)
        if m:
            cur["created_by"] = {"function": m.group(1), "file": None, "line": None,
                                 "goroutine": int(m.group(2)) if m.group(2) else None}
            want_file = cur["created_by"]
            continue
        m = FUNC.match(line)
        if m and not line.startswith(("runtime: ", "fatal error", "panic: ")):
            fr = {"function": m.group(1), "file": None, "line": None}
            cur["frames"].append(fr)
            want_file = fr
    return recs


def header_record(m):
    parts = [p.strip() for p in m.group(3).split(", ")]
    rec = {"id": int(m.group(1)), "state": parts[0], "wait_minutes": None,
           "locked": False, "extra": [], "frames": [], "created_by": None,
           "elided": False, "stack_unavailable": False}
    for k, v in (kv.split("=", 1) for kv in m.group(2).split()):
        rec[k] = v  # gp, m, mp (Go 1.23 and later)
    for p in parts[1:]:
        mm = MINUTES.match(p)
        if mm:
            rec["wait_minutes"] = int(mm.group(1))
        elif p == "locked to thread":
            rec["locked"] = True
        else:
            rec["extra"].append(p)
    return rec


def package_path(fn):
    """The import path of a function name: "net/http.(*Server).Serve" ->
    "net/http", "github.com/a/b.F.func1" -> "github.com/a/b"."""
    slash = fn.rfind("/")
    dot = fn.find(".", slash + 1)
    return fn if dot < 0 else fn[:dot]


def name_part(fn):
    return fn[len(package_path(fn)) + 1:]


def is_std(fn):
    path = package_path(fn)
    return path != "main" and "." not in path.split("/")[0]


def is_cgo_stub(fn):
    return name_part(fn).startswith(("_Cfunc_", "_cgo_", "_Cgo_"))


def is_runtime(fn):
    path = package_path(fn)
    if path == "runtime" or path.startswith(("runtime/internal/", "internal/")):
        return True
    if name_part(fn).startswith("runtime_") or fn == "time.Sleep":
        return True
    return is_cgo_stub(fn)


def start_function(rec):
    fns = [f["function"] for f in rec["frames"] if f["function"] != "runtime.goexit"]
    return fns[-1] if fns else None


def nonruntime_frame(rec):
    for f in rec["frames"]:
        if not is_runtime(f["function"]):
            return f["function"]
    return start_function(rec) or "-"


def user_frame(rec):
    for f in rec["frames"]:
        fn = f["function"]
        if not is_std(fn) and not is_cgo_stub(fn):
            return fn
    return nonruntime_frame(rec)


def is_system(rec):
    if rec["id"] == 0:
        return True
    fn = start_function(rec)
    return fn is not None and package_path(fn) == "runtime" and fn != "runtime.main"


FRAMES = {"user": user_frame, "nonruntime": nonruntime_frame}


def load(path, opts):
    if path == "-":
        text = sys.stdin.read()
    else:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    recs = parse(text)
    if not recs:
        print(f"gotrace.py: {path}: no goroutine in it", file=sys.stderr)
        sys.exit(2)
    if opts["user"]:
        recs = [r for r in recs if not is_system(r)]
    return recs


def usage(msg=None):
    if msg:
        print(f"gotrace.py: {msg}", file=sys.stderr)
    print(__doc__, file=sys.stderr)
    sys.exit(2)


def main(argv):
    if not argv:
        usage()
    cmd, args = argv[0], argv[1:]
    opts = {"frame": "user", "user": False, "by": "state", "ids": None, "match": None}
    files = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--user":
            opts["user"] = True
        elif a in ("--frame", "--by", "--match"):
            if i + 1 >= len(args):
                usage(f"{a} needs a value")
            opts[a[2:]] = args[i + 1]
            i += 1
        elif a == "--ids":
            opts["ids"] = []
            while i + 1 < len(args) and args[i + 1].isdigit():
                opts["ids"].append(int(args[i + 1]))
                i += 1
        elif a.startswith("--"):
            usage(f"unknown option {a}")
        else:
            files.append(a)
        i += 1
    if opts["frame"] not in FRAMES:
        usage("--frame is user or nonruntime")
    frame = FRAMES[opts["frame"]]

    if cmd == "parse" and len(files) == 1:
        json.dump(load(files[0], opts), sys.stdout, indent=1)
        print()
    elif cmd == "summary" and len(files) == 1:
        for r in load(files[0], opts):
            print(f"{r['id']}\t{r['state']}\t{frame(r)}")
    elif cmd == "counts" and len(files) == 1:
        key = {"state": lambda r: r["state"], "frame": frame,
               "creator": lambda r: (r["created_by"] or {}).get("function", "-")}.get(opts["by"])
        if key is None:
            usage("--by is state, frame or creator")
        counts = {}
        for r in load(files[0], opts):
            k = key(r)
            counts[k] = counts.get(k, 0) + 1
        for k in sorted(counts):
            print(f"{counts[k]}\t{k}")
    elif cmd == "compare" and len(files) == 2:
        return compare(load(files[0], opts), load(files[1], opts), files, frame, opts)
    else:
        usage(f"bad command line: {' '.join(argv)}")
    return 0


def compare(a, b, names, frame, opts):
    ga = {r["id"]: r for r in a}
    gb = {r["id"]: r for r in b}
    if opts["ids"] is not None:
        ids = opts["ids"]
    elif opts["match"] is not None:
        rx = re.compile(opts["match"])
        ids = sorted({r["id"] for r in a + b if rx.search(frame(r))})
    else:
        ids = sorted((set(ga) | set(gb)) - {0})
    if not ids:
        print("gotrace.py: no goroutine to compare", file=sys.stderr)
        return 1
    bad = 0
    for gid in ids:
        ra, rb = ga.get(gid), gb.get(gid)
        la = f"{gid}\t{ra['state']}\t{frame(ra)}" if ra else f"{gid}\t(absent)"
        lb = f"{gid}\t{rb['state']}\t{frame(rb)}" if rb else f"{gid}\t(absent)"
        if la != lb:
            if not bad:
                print(f"--- {names[0]}\n+++ {names[1]}")
            print(f"-{la}\n+{lb}")
            bad += 1
    if bad:
        print(f"gotrace.py: {bad} of {len(ids)} goroutine(s) differ", file=sys.stderr)
        return 1
    print(f"{len(ids)} goroutine(s) equal")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

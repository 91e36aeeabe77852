#!/bin/bash
# 68-flame.sh -- the flame graph SVG (flame.c, through tests/helpers/flamegen)
# as a reader gets it: an XML parser accepts it; every frame's tooltip value
# and percentage equal the sums of the folded stacks it was made from (hostile
# names included); frames under 0.1% are left out and counted; the widest
# frame's name is written in full.  Then a real browser, headless Chromium
# (Debian's chromium), renders it to a PNG that is not blank, and its script
# runs: a search given in the URL paints the matching frames and shows the
# matched share the stacks give.
. "$(dirname "$0")/lib.sh"

CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] || skip_all "no $CHROMIUM (sh scripts/setup.sh test installs Debian's chromium)"
FLAMEGEN="$CGOPS_BUILD/flamegen"

# Folded stacks with a known shape: a big "worker" root (the widest frame
# under "all", about 35%), a "main" tree of random stacks, hundreds of thin
# stacks under 0.1%, and frame names no XML writer should trust.
/usr/bin/python3 - "$T/stacks" <<'EOF'
import random, sys
random.seed(68)
out = []
names = [b"runtime.mallocgc", b"encoding/json.Marshal", b"net/http.(*conn).serve",
         b"sort.Slice", b"syscall.Syscall", b"fmt.Sprintf", b"bufio.(*Reader).Read",
         b"compress/gzip.(*Writer).Write", b"op new(unsigned long)",
         b"a&b<c>\"d'e]]>", b"ctl\x01\x1bx\x7f", b"bad\xff\xfe", b"cut\xe2\x82",
         b"sur\xed\xa0\x80", b"caf\xc3\xa9 \xf0\x9f\x94\xa5"]
for i in range(400):
    depth = random.randint(1, 14)
    out.append(b";".join([b"main"] + [random.choice(names) for _ in range(depth)])
               + b" %d" % random.randint(1, 300))
for i in range(300):   # thin: one sample each under a rare frame
    out.append(b"main;rare%d;leaf %d" % (i, 1))
out.append(b"worker.loop;worker.step;syscall.Syscall 50000")
out.append(b"worker.loop;worker.step 9000")
out.append(b"worker.loop 1000")
random.shuffle(out)
open(sys.argv[1], "wb").write(b"\n".join(out) + b"\n")
EOF

"$FLAMEGEN" "Flame <68> & co" samples <"$T/stacks" >"$T/flame.svg" 2>"$T/err"
RC=$? ERR=$(cat "$T/err")
expect_rc 0 "flamegen renders the stacks"

# The expectation comes from the stacks alone: sums per path, names shown
# as valid UTF-8 with each bad byte and control character spelled \xNN.
run /usr/bin/python3 - "$T/stacks" "$T/flame.svg" <<'EOF'
import collections, re, sys
import xml.dom.minidom

def shown(b):
    s = b.decode("utf-8", "backslashreplace")
    return "".join("\\x%02x" % ord(c) if ord(c) < 0x20 or ord(c) == 0x7f else c for c in s)

sums = collections.Counter()
total = 0
for line in open(sys.argv[1], "rb").read().splitlines():
    stack, v = line.rsplit(b" ", 1)
    v = int(v)
    total += v
    frames = stack.split(b";")
    for i in range(1, len(frames) + 1):
        sums[tuple(frames[:i])] += v

drawn = {p: v for p, v in sums.items() if v * 1000 >= total}
omitted = len(sums) - len(drawn)
want = collections.Counter((shown(p[-1]), v) for p, v in drawn.items())
want[("all", total)] += 1
problems = []

doc = xml.dom.minidom.parse(sys.argv[2])
print("parses as XML")
svg = doc.documentElement
width = float(svg.getAttribute("width"))
got = collections.Counter()
texts = {}
for g in svg.getElementsByTagName("g"):
    if g.getAttribute("class") != "f":
        continue
    title = g.getElementsByTagName("title")[0].firstChild.data
    m = re.fullmatch(r"(.*) \((\d+) samples, ([0-9.]+)%\)", title, re.S)
    if not m:
        problems.append("tooltip %r is not 'name (value samples, P%%)'" % title)
        continue
    name, v, pct = m.group(1), int(m.group(2)), float(m.group(3))
    got[(name, v)] += 1
    if abs(pct - 100.0 * v / total) > 0.0051:
        problems.append("%r: %.2f%%, want %.4f%%" % (name, pct, 100.0 * v / total))
    rect = g.getElementsByTagName("rect")[0]
    w = float(rect.getAttribute("width"))
    if abs(w - (width - 20) * v / total) > 0.011:
        problems.append("%r: width %.2f px for %d of %d" % (name, w, v, total))
    t = g.getElementsByTagName("text")[0]
    label = t.firstChild.data if t.firstChild else ""
    # flamegraph.pl's rule: 12 px text at 0.59 em per character, 3 px in.
    if label and len(label) * 12 * 0.59 > w - 3 + 0.01:
        problems.append("label %r overflows its %.2f px box" % (label, w))
    texts.setdefault(label, 0)
if got == want:
    print("every frame's tooltip value equals the stacks' sum (%d frames)" % sum(want.values()))
else:
    problems.append("frames differ: missing %s, extra %s" %
                    (list((want - got).items())[:5], list((got - want).items())[:5]))

widest = max((p for p in sums), key=lambda p: sums[p])
if shown(widest[-1]) in texts:
    print("the widest frame's name %r is written" % shown(widest[-1]))
else:
    problems.append("the widest frame %r has no label" % shown(widest[-1]))
notes = [t.firstChild.data for t in svg.getElementsByTagName("text")
         if t.getAttribute("id") == "omitted"]
if notes != ["%d frames narrower than 0.1%% not drawn" % omitted]:
    problems.append("omitted note %r, want %d frames" % (notes, omitted))
titles = [t.firstChild.data for t in svg.getElementsByTagName("text") if t.getAttribute("id") == "title"]
if titles != ["Flame <68> & co"]:
    problems.append("title %r" % titles)
if svg.getElementsByTagName("script")[0].getAttribute("src") or "http" in " ".join(
        e.getAttribute("href") + e.getAttribute("xlink:href") for e in svg.getElementsByTagName("*")):
    problems.append("something refers outside the file")
for p in problems:
    print("PROBLEM:", p)
sys.exit(1 if problems else 0)
EOF
expect_rc 0 "the SVG parses and its tooltips match the stacks ($(printf '%.600s' "$OUT"))"

chrome "file://$T/flame.svg" "$T/flame.png" >"$T/chrome.out" 2>&1
if [ -s "$T/flame.png" ]; then
    pass "chromium rendered the SVG to a PNG"
    set -- $(png_check "$T/flame.png")
    if [ "${1:-0}" = 1200 ] && [ "${3:-0}" -gt 50 ] && [ "${4:-0}" -gt 20000 ] && [ "${5:-1}" = 0 ]; then
        pass "the PNG is not blank: $3 colours, $4 pixels of flame colours"
    else
        fail "the PNG looks blank or wrong: size ${1:-?}x${2:-?}, ${3:-?} colours, ${4:-?} flame pixels, ${5:-?} highlighted"
    fi
    cp "$T/flame.png" "$CGOPS_BUILD/testtmp/68-flame.png" 2>/dev/null # to look at
else
    fail "chromium wrote no PNG: $(tail -c 600 "$T/chrome.out")"
fi

# Search through the URL (#s=REGEX), as a reader would type it: the script
# paints the matches and shows their share, which the stacks give: every
# stack under "worker.loop", 60000 samples.
WANT=$(/usr/bin/python3 -c '
import sys
t = sum(int(l.rsplit(b" ", 1)[1]) for l in open(sys.argv[1], "rb").read().splitlines())
print("Matched: %.2f%% (60000 samples)" % (100.0 * 60000 / t))' "$T/stacks")
chrome "file://$T/flame.svg#s=%5Eworker%5C.loop%24" "$T/search.png" >"$T/chrome.out" 2>&1
set -- $(png_check "$T/search.png" 2>/dev/null)
if [ "${5:-0}" -gt 5000 ]; then
    pass "a search paints the matching frames ($5 pixels)"
else
    fail "no frame painted by the search: $(tail -c 600 "$T/chrome.out")"
fi
rm -rf "$T/chrome"
HOME="$T" timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$T/chrome2" --dump-dom "file://$T/flame.svg#s=%5Eworker%5C.loop%24" \
    >"$T/dom" 2>"$T/chrome.out"
if grep -qF "$WANT" "$T/dom"; then
    pass "the search shows the matched share: $WANT"
else
    fail "the search shows $(grep -o 'id="matched"[^<]*' "$T/dom"), want $WANT"
fi

finish

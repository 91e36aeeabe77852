#!/usr/bin/python3
"""servetool.py -- clients that misbehave or crowd, for tests/cli/83-serve.sh
and bench/serve (python3 standard library only).

  servetool.py crowd HOST:PORT N PATH... [--token T]
      N clients at once, each on its own connection, each asking every PATH
      in turn; prints "STATUS COUNT" lines, then "errors N" (connections
      that failed without an HTTP answer).
  servetool.py slowloris HOST:PORT LIMIT
      sends a request head one byte a second; prints "closed SECONDS" when
      the server ends the connection, "open" if it is still open after
      LIMIT seconds, or "answered SECONDS" if it answered instead.
  servetool.py bighead HOST:PORT BYTES
      a request with a header of BYTES bytes; prints "status N" (the
      server's answer) or "closed" (no answer, the connection ended).
  servetool.py latency URL N [--token T]
      N requests one after the other on one keep-alive connection; prints
      "p50 MS p99 MS max MS" and "status CODE COUNT" lines.
  servetool.py body HOST:PORT PATH BYTES [chunked]
      a POST of PATH with a body of BYTES bytes (Content-Length, or one
      chunk); prints "status N" or "closed" (no answer within 30 s).
  servetool.py rate URL CLIENTS SECONDS [--token T]
      CLIENTS keep-alive clients asking URL for SECONDS; prints "requests N
      rps R" and "status CODE COUNT" lines.
  servetool.py flood HOST:PORT N PATH SLOTS OTHER_SOURCE OTHER_PATH
      N requests of PATH at once, each on its own connection, of a command
      that takes long; once serve has taken all N (those answered, plus
      cgops_serve_queued_commands of /metrics, plus SLOTS running, make N;
      or 60 s have passed), one request of OTHER_PATH from the source
      address OTHER_SOURCE (e.g. 127.0.0.2: another client); prints "status CODE COUNT" lines for the N answered so far,
      "429 retry-after VALUE json-status N" for the first 429 (its
      Retry-After header and the "status" of its JSON error), then
      "other STATUS" ("other none": no answer within 120 s).
"""
import collections
import http.client
import json
import socket
import sys
import threading
import time


def split(hostport):
    host, port = hostport.rsplit(":", 1)
    return host.strip("[]"), int(port)


def opts(argv):
    token = None
    rest = []
    i = 0
    while i < len(argv):
        if argv[i] == "--token":
            token = argv[i + 1]
            i += 2
        else:
            rest.append(argv[i])
            i += 1
    return rest, ({"Authorization": "Bearer " + token} if token else {})


def crowd(argv):
    rest, headers = opts(argv)
    host, port = split(rest[0])
    n = int(rest[1])
    paths = rest[2:]
    counts = collections.Counter()
    errors = []
    lock = threading.Lock()
    start = threading.Barrier(n)

    def one():
        try:
            start.wait(30)
        except threading.BrokenBarrierError:
            pass
        for p in paths:
            try:
                c = http.client.HTTPConnection(host, port, timeout=60)
                c.request("GET", p, headers=headers)
                r = c.getresponse()
                r.read()
                with lock:
                    counts[r.status] += 1
                c.close()
            except Exception as e:  # noqa: BLE001 -- every failure counts
                with lock:
                    errors.append(repr(e))

    ts = [threading.Thread(target=one) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for k, v in sorted(counts.items()):
        print(k, v)
    print("errors", len(errors))
    for e in errors[:5]:
        print("#", e, file=sys.stderr)


def slowloris(argv):
    host, port = split(argv[0])
    limit = float(argv[1])
    s = socket.create_connection((host, port), timeout=5)
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000 + b"\r\n\r\n"
    t0 = time.time()
    s.settimeout(1.0)
    for b in head:
        if time.time() - t0 > limit:
            print("open")
            return
        try:
            s.sendall(bytes([b]))
        except OSError:
            print("closed %.1f" % (time.time() - t0))
            return
        try:
            data = s.recv(4096)
            if not data:
                print("closed %.1f" % (time.time() - t0))
                return
            print("answered %.1f" % (time.time() - t0))
            return
        except socket.timeout:
            pass
        except OSError:
            print("closed %.1f" % (time.time() - t0))
            return
    print("open")


def print_answer(s):
    """What the server answered on socket s, once the request is sent (or
    refused part way): "status CODE", or "closed" if no HTTP answer came."""
    try:
        data = s.recv(4096)
    except OSError:
        data = b""
    if data.startswith(b"HTTP/1."):
        print("status", data.split()[1].decode())
    else:
        print("closed")


def bighead(argv):
    host, port = split(argv[0])
    size = int(argv[1])
    s = socket.create_connection((host, port), timeout=30)
    chunk = b"a" * 65536
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        while sent < size:
            s.sendall(chunk)
            sent += len(chunk)
        s.sendall(b"\r\n\r\n")
    except OSError:
        pass
    print_answer(s)


def body(argv):
    host, port = split(argv[0])
    path, size = argv[1], int(argv[2])
    chunked = len(argv) > 3 and argv[3] == "chunked"
    s = socket.create_connection((host, port), timeout=30)
    head = "POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" % path
    if chunked:
        req = (head + "Transfer-Encoding: chunked\r\n\r\n%x\r\n" % size).encode() + b"x" * size + b"\r\n0\r\n\r\n"
    else:
        req = (head + "Content-Length: %d\r\n\r\n" % size).encode() + b"x" * size
    try:
        s.sendall(req)
    except OSError:
        pass  # refused before all of it was read: the answer may be there
    print_answer(s)


def latency(argv):
    rest, headers = opts(argv)
    url, n = rest[0], int(rest[1])
    hostport, path = url.split("/", 3)[2], "/" + url.split("/", 3)[3]
    host, port = split(hostport)
    c = http.client.HTTPConnection(host, port, timeout=60)
    times, codes = [], collections.Counter()
    for _ in range(n):
        t0 = time.perf_counter()
        c.request("GET", path, headers=headers)
        r = c.getresponse()
        r.read()
        times.append((time.perf_counter() - t0) * 1000)
        codes[r.status] += 1
    times.sort()
    print("p50 %.2f p99 %.2f max %.2f" % (times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))], times[-1]))
    for k, v in sorted(codes.items()):
        print("status", k, v)


def rate(argv):
    rest, headers = opts(argv)
    url, clients, secs = rest[0], int(rest[1]), float(rest[2])
    hostport, path = url.split("/", 3)[2], "/" + url.split("/", 3)[3]
    host, port = split(hostport)
    codes = collections.Counter()
    lock = threading.Lock()
    end = time.time() + secs

    def one():
        c = http.client.HTTPConnection(host, port, timeout=60)
        while time.time() < end:
            try:
                c.request("GET", path, headers=headers)
                r = c.getresponse()
                r.read()
                st = r.status
            except Exception:  # noqa: BLE001
                c.close()
                c = http.client.HTTPConnection(host, port, timeout=60)
                st = "error"
            with lock:
                codes[st] += 1

    t0 = time.time()
    ts = [threading.Thread(target=one) for _ in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    total = sum(codes.values())
    print("requests %d rps %.1f" % (total, total / (time.time() - t0)))
    for k, v in sorted(codes.items(), key=str):
        print("status", k, v)


def read_answer(s):
    """(status, headers, body) of the answer on s (sent with Connection:
    close: read to its end), or None when there is none."""
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return None
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    return int(parts[1]), headers, body


def flood(argv):
    import select
    host, port = split(argv[0])
    n, path, slots = int(argv[1]), argv[2], int(argv[3])
    other_src, other_path = argv[4], argv[5]
    req = ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode()
    socks = []
    for _ in range(n):
        c = socket.create_connection((host, port), timeout=60)
        c.sendall(req)
        socks.append(c)
    codes = collections.Counter()
    first429 = None
    pending = list(socks)
    end = time.time() + 60
    while pending and time.time() < end:
        m = http.client.HTTPConnection(host, port, timeout=60)
        m.request("GET", "/metrics")
        queued = [ln.split()[1] for ln in m.getresponse().read().decode().splitlines()
                  if ln.startswith("cgops_serve_queued_commands ")]
        m.close()
        if queued and sum(codes.values()) + int(queued[0]) + slots >= n:
            break
        ready, _, _ = select.select(pending, [], [], 0.2)
        for c in ready:
            pending.remove(c)
            a = read_answer(c)
            codes[a[0] if a else "closed"] += 1
            if a and a[0] == 429 and first429 is None:
                first429 = a
    for k, v in sorted(codes.items(), key=str):
        print("status", k, v)
    if first429:
        try:
            doc = json.loads(first429[2])
        except ValueError:
            doc = None
        print("429 retry-after", first429[1].get("retry-after"), "json-status",
              doc.get("status") if isinstance(doc, dict) and isinstance(doc.get("error"), str) else None)
    o = socket.create_connection((host, port), timeout=120, source_address=(other_src, 0))
    o.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % other_path).encode())
    a = read_answer(o)
    print("other", a[0] if a else "none")
    for c in socks:
        c.close()
    o.close()


if __name__ == "__main__":
    {"crowd": crowd, "slowloris": slowloris, "bighead": bighead, "body": body, "latency": latency, "rate": rate,
     "flood": flood}[sys.argv[1]](sys.argv[2:])

#!/usr/bin/env python3
# httpsrv.py -- a real HTTP and HTTPS server for tests/test-http.c
#
# Listens on 127.0.0.1 (plain and TLS, with a self-signed certificate made
# at start by `openssl req -x509` in a temporary directory) and on 127.0.0.2
# (plain, the "other host" of a cross-host redirect), then prints
#   http=PORT https=PORT other=PORT
# on stdout and serves until stdin closes (so it dies with the test).
# The reply depends on the path:
#   /ok                 200, the body "hello from httpsrv\n"
#   /big?n=N            200, N bytes ('a'..'z' repeating), streamed in chunks
#   /404                404 with an HTML body
#   /500                500 with a multi-line plain text body
#   /status?code=N&body=B   status N with body B
#   /hang               accepts, reads the request, never answers
#   /hang-body          headers of a 200 with a length, then silence
#   /trickle?n=N        200, N bytes, one every 0.5 s
#   /redirect-loop      302 to itself
#   /redirect-to?url=U  302 to U
#   /redirect-other-host  302 to http://127.0.0.2:OTHER/echo-headers
#   /echo-headers       200, the request headers as the body
#   /garbage            bytes that are not HTTP, then close
#   /close              closes the connection at once
#   /short              200 announcing 100 bytes, sends 7, closes
# Under /m/MODE[/N]/REST the same faults answer any REST, so a command-line
# test can make one the base URL of a target (http://HOST:PORT/m/500):
#   /m/404/...  /m/500/...  /m/hang/...  /m/garbage/...  /m/loop/... (302 to
#   the same path and query)  /m/echo/... (the request headers)
#   /m/xhost/...        302 to /m/echo/... on the other host
#   /m/fakestatus/...   200 with a header line "HTTP/1.1 999...9 Nope:x"
#   /m/fakeredirect/... 302 to the other host, a header line "HTTP/1.1 200 OK:x" before its Location
#   /m/big/N/...        N bytes ('a'..'z' repeating)
#   /m/bigstack/N/...   "goroutine 1 [running]:", then N bytes of frames
#   /m/gzbig/N/...      a gzip member header, then N bytes of junk
#   /m/gzbomb/N/...     a valid gzip of N zero bytes (about N/1000 sent)
#   /m/jsonbomb/N/...   {"a":[0,0,...]} of about N bytes (valid JSON)
#   /m/endless/...      a chunked body that never ends
# With --files DIR, /f/CASE/REST is the file DIR/CASE/REST ('?' of the
# query spelled '@': /f/x/debug/pprof/heap?debug=1 is
# DIR/x/debug/pprof/heap@debug=1), 404 when absent; when DIR/CASE/.header
# holds "Name: value", a request without that header gets 401.
# With --forever it prints "ready HTTP HTTPS OTHER" instead and serves until
# killed (tests/cli: a background process has no stdin to close).
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OK_BODY = b"hello from httpsrv\n"
OTHER_PORT = 0
FILES = None
PATTERN = bytes((ord("a") + i % 26) for i in range(26 * 2520))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body, ctype="text/plain; charset=utf-8", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def stream(self, n, head=b"", pattern=PATTERN, tail=b""):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(head) + n + len(tail)))
        self.end_headers()
        try:
            self.wfile.write(head)
            left = n
            while left > 0:
                k = min(left, len(pattern))
                self.wfile.write(pattern[:k])
                left -= k
            self.wfile.write(tail)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

    def mode(self, u):
        parts = u.path.split("/", 4)  # "", "m", MODE, N or REST, REST
        mode = parts[2] if len(parts) > 2 else ""
        arg = parts[3] if len(parts) > 3 else ""
        if mode == "404":
            self.reply(404, b"<html><body><h1>No <b>such</b> page</h1>\n<p>second</p></body></html>\n",
                       "text/html; charset=utf-8")
        elif mode == "500":
            self.reply(500, b"\n  \nfirst line: database \x1b[31mdown\x07 \xff\xfe\nsecond line\nthird\n")
        elif mode == "hang":
            time.sleep(3600)
        elif mode == "garbage":
            self.wfile.write(b"\x00\x01garbage that is not HTTP at all\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True
        elif mode == "loop":
            self.reply(302, b"again\n", extra={"Location": self.path})
        elif mode == "echo":
            self.reply(200, str(self.headers).encode())
        elif mode == "fakestatus":
            # After the status line, header lines that look like status
            # lines (a peer may send anything that has a colon).
            self.wfile.write(b"HTTP/1.1 200 OK\r\nHTTP/1.1 " + b"9" * 40 + b" Nope:x\r\n"
                             b"Content-Length: 5\r\n\r\nhello")
            self.close_connection = True
        elif mode == "fakeredirect":
            self.wfile.write(b"HTTP/1.1 302 Found\r\nHTTP/1.1 200 OK:x\r\n"
                             b"Location: http://127.0.0.2:%d/m/echo/x\r\nContent-Length: 0\r\n\r\n" % OTHER_PORT)
            self.close_connection = True
        elif mode == "xhost":
            rest = self.path.split("/", 3)[3]
            self.reply(302, b"moved\n",
                       extra={"Location": "http://127.0.0.2:%d/m/echo/%s" % (OTHER_PORT, rest)})
        elif mode == "big":
            self.stream(int(arg))
        elif mode == "bigstack":
            self.stream(int(arg), b"goroutine 1 [running]:\n",
                        b"main.f(0x1)\n\t/src/x.go:1 +0x1\n" * 2048)
        elif mode == "gzbig":
            self.stream(int(arg), b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")
        elif mode == "gzbomb":
            n = int(arg)
            z = zlib.compressobj(9, zlib.DEFLATED, 31)
            zeros = bytes(1 << 20)
            whole, rest = divmod(n, 1 << 20)
            body = [z.compress(zeros) for _ in range(whole)]
            body.append(z.compress(bytes(rest)) + z.flush())
            body = b"".join(body)
            self.reply(200, body, "application/octet-stream")
        elif mode == "jsonbomb":
            n = max(int(arg), 16)
            self.stream((n - 9) // 2 * 2, b'{"a":[0', b",0" * 4096, b"]}")
        elif mode == "endless":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"%x\r\n%s\r\n" % (len(PATTERN), PATTERN)
            try:
                while True:
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass
        else:
            self.reply(404, b"no such mode\n")

    def files(self, u):
        parts = u.path.split("/", 3)  # "", "f", CASE, REST
        if FILES is None or len(parts) < 4 or parts[2] in ("", ".", "..") or ".." in parts[3].split("/"):
            self.reply(404, b"404 page not found\n")
            return
        case = os.path.join(FILES, parts[2])
        try:
            with open(os.path.join(case, ".header")) as f:
                name, _, value = f.read().strip().partition(":")
            if self.headers.get(name.strip()) != value.strip():
                self.reply(401, b"Unauthorized: no %s header\n" % name.strip().encode())
                return
        except FileNotFoundError:
            pass
        rest = parts[3] + ("@" + u.query if u.query else "")
        try:
            with open(os.path.join(case, rest), "rb") as f:
                body = f.read()
        except (FileNotFoundError, IsADirectoryError):
            self.reply(404, b"404 page not found\n")
            return
        self.reply(200, body, "application/octet-stream")

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        p = u.path
        if p.startswith("/m/"):
            self.mode(u)
        elif p.startswith("/f/"):
            self.files(u)
        elif p == "/ok":
            self.reply(200, OK_BODY)
        elif p == "/big":
            n = int(q.get("n", ["0"])[0])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.end_headers()
            chunk = bytes((ord("a") + i % 26) for i in range(26 * 2520))
            left = n
            try:
                while left > 0:
                    k = min(left, len(chunk))
                    self.wfile.write(chunk[:k])
                    left -= k
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif p == "/404":
            self.reply(404, b"<!DOCTYPE html>\n<html><head><title>Not here</title></head>\n"
                       b"<body>\n\n  <h1>No <b>such</b> page</h1>\n<p>second</p></body></html>\n",
                       "text/html; charset=utf-8")
        elif p == "/500":
            self.reply(500, b"\n  \nfirst line: database \x1b[31mdown\x07 \xff\xfe\nsecond line\nthird\n")
        elif p == "/status":
            code = int(q.get("code", ["418"])[0])
            body = q.get("body", [""])[0].encode()
            self.reply(code, body)
        elif p == "/hang":
            time.sleep(3600)
        elif p == "/hang-body":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"partial")
            self.wfile.flush()
            time.sleep(3600)
        elif p == "/trickle":
            n = int(q.get("n", ["10"])[0])
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            try:
                for _ in range(n):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.5)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif p == "/redirect-loop":
            self.reply(302, b"again\n", extra={"Location": "/redirect-loop"})
        elif p == "/redirect-to":
            self.reply(302, b"moved\n", extra={"Location": q.get("url", ["/ok"])[0]})
        elif p == "/redirect-other-host":
            self.reply(302, b"moved\n",
                       extra={"Location": "http://127.0.0.2:%d/echo-headers" % OTHER_PORT})
        elif p == "/echo-headers":
            self.reply(200, str(self.headers).encode())
        elif p == "/garbage":
            self.wfile.write(b"\x00\x01garbage that is not HTTP at all\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True
        elif p == "/short":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"partial")
            self.wfile.flush()
            self.close_connection = True
        elif p == "/close":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self.reply(404, b"404 page not found\n")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        pass  # clients that hang up early, plain HTTP on the TLS port: expected here


def main():
    global OTHER_PORT, FILES
    forever = "--forever" in sys.argv[1:]
    if "--files" in sys.argv[1:]:
        FILES = sys.argv[sys.argv.index("--files") + 1]
    tmp = tempfile.mkdtemp(prefix="httpsrv.")
    try:
        key, crt = os.path.join(tmp, "key.pem"), os.path.join(tmp, "crt.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", crt, "-days", "1", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        plain = Server(("127.0.0.1", 0), Handler)
        other = Server(("127.0.0.2", 0), Handler)
        tls = Server(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True, do_handshake_on_connect=False)
        OTHER_PORT = other.server_address[1]
        for s in (plain, other, tls):
            threading.Thread(target=s.serve_forever, daemon=True).start()
        if forever:
            sys.stdout.write("ready %d %d %d\n" %
                             (plain.server_address[1], tls.server_address[1], OTHER_PORT))
            sys.stdout.flush()
            while True:
                time.sleep(3600)
        sys.stdout.write("http=%d https=%d other=%d\n" %
                         (plain.server_address[1], tls.server_address[1], OTHER_PORT))
        sys.stdout.flush()
        sys.stdin.read()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

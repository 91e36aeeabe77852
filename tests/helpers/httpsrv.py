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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OK_BODY = b"hello from httpsrv\n"
OTHER_PORT = 0


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

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        p = u.path
        if p == "/ok":
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
    global OTHER_PORT
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
        sys.stdout.write("http=%d https=%d other=%d\n" %
                         (plain.server_address[1], tls.server_address[1], OTHER_PORT))
        sys.stdout.flush()
        sys.stdin.read()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

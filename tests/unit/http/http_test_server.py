#!/usr/bin/env python3
"""A tiny HTTP/1.1 (optionally HTTPS) server for the HttpClient unit tests.

Usage: http_test_server.py PORT_FILE [CERT KEY]
Listens on 127.0.0.1 on a free port, writes the port to PORT_FILE, serves until killed.
Routes: /echo (method, headers, body as JSON), /status/<n>, /slow/<ms>, /bearer (needs
`Authorization: Bearer secret-token`), /basic (user:pass), /conn (the client's source port,
to see connection reuse), /big/<n> (n bytes), /chunked (a chunked reply with extensions and a
trailer), /garbage (not HTTP), /drop (closes without a reply), /conn-then-close (/conn, then
closes the kept-alive connection), /conn-then-drop-next (/conn, then closes the connection at
its next request without replying).
"""
import base64
import gzip
import http.server
import json
import os
import socketserver
import ssl
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/json"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Test", "yes")
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if getattr(self, "drop_next", False):  # set by /conn-then-drop-next on this connection
            self.close_connection = True
            return
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        p = self.path
        if p.startswith("/echo"):
            self.reply(200, json.dumps({"method": self.command, "path": p,
                                        "headers": {k.lower(): v for k, v in self.headers.items()},
                                        "body": body.decode("utf-8", "replace")}))
        elif p.startswith("/status/"):
            self.reply(int(p.split("/")[2]), '{"status":%s}' % p.split("/")[2])
        elif p.startswith("/slow/"):
            time.sleep(int(p.split("/")[2]) / 1000.0)
            self.reply(200, "slow")
        elif p == "/bearer":
            if self.headers.get("Authorization") == "Bearer secret-token":
                self.reply(200, "authorized")
            else:
                self.reply(401, "unauthorized")
        elif p == "/basic":
            want = "Basic " + base64.b64encode(b"user:pass").decode()
            self.reply(200 if self.headers.get("Authorization") == want else 401, "basic")
        elif p == "/conn":
            self.reply(200, str(self.client_address[1]))
        elif p.startswith("/big/"):
            self.reply(200, "x" * int(p.split("/")[2]), "text/plain")
        elif p == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b'{"took":1,', b'"errors":false}'):
                self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\nX-Trailer: t\r\n\r\n")
        elif p == "/garbage":
            self.wfile.write(b"NOT HTTP AT ALL\r\n\r\n")
            self.close_connection = True
        elif p == "/drop":
            self.close_connection = True  # no reply at all
        elif p == "/conn-then-drop-next":
            # /conn, then the next request on this connection is read and the connection closed
            # without a reply (a server that closed it as the request arrived).
            self.reply(200, str(self.client_address[1]))
            self.drop_next = True
        elif p == "/conn-then-close":
            # Answers as if the connection stayed open, then closes it: the client's next
            # request on it finds it gone.
            self.reply(200, str(self.client_address[1]))
            self.close_connection = True
        else:
            self.reply(404, "not found")

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up early (cancel, timeout tests) are expected


def main():
    port_file = sys.argv[1]
    srv = Server(("127.0.0.1", 0), Handler)
    if len(sys.argv) >= 4:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()

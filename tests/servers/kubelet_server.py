#!/usr/bin/env python3
"""A fake kubelet (and minimal API server) for integration tests. Python stdlib + openssl.

    kubelet_server.py --dir DIR --pods FILE [--namespaces FILE] [--token TOKEN] [--plain]

- HTTPS with a CA generated at start by tests/servers/make_test_ca.sh into DIR/pki (the test
  gives DIR/pki/ca.crt to sluice as ca_file); --plain serves HTTP (the read-only port 10255).
- Every request needs `Authorization: Bearer TOKEN` (401 otherwise) unless --token is empty.
- GET /pods                  -> the PodList (FILE: a PodList/Pod JSON, or a fabric8 VCR cassette .yml
                                whose Pod body is wrapped into a PodList)
- GET /api/v1/pods?...       -> the same list (API server mode; the query is logged)
- GET /api/v1/namespaces?... -> NamespaceList from --namespaces (JSON or cassette), else empty
- Behaviour is switched at run time by writing DIR/control.json:
    {"mode": "ok" | "slow" | "401" | "403" | "500" | "truncated" | "garbage",
     "delay": seconds (for slow), "pods": path of another pods FILE}
- Each request is appended to DIR/requests.log as `<path> <auth ok 0/1> <mode>`.
- Writes the port to DIR/port when listening. Stopped by the test with SIGTERM/SIGKILL by PID.
"""
import argparse
import http.server
import json
import os
import socketserver
import ssl
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def load_json_or_cassette(path):
    if path.endswith(".yml") or path.endswith(".yaml"):
        import yaml  # PyYAML; only needed for cassettes
        with open(path) as f:
            doc = yaml.safe_load(f)
        body = doc["http_interactions"][0]["response"]["body"]["string"]
        return json.loads(body)
    with open(path) as f:
        return json.load(f)


def as_list(obj, kind):
    if obj.get("kind") == kind + "List" or "items" in obj:
        return obj
    return {"kind": kind + "List", "apiVersion": "v1", "metadata": {}, "items": [obj]}


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()

    def control(self):
        p = os.path.join(self.args.dir, "control.json")
        try:
            with open(p) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def pods_body(self, ctl):
        path = ctl.get("pods") or self.args.pods
        return json.dumps(as_list(load_json_or_cassette(path), "Pod")).encode()

    def namespaces_body(self):
        if not self.args.namespaces:
            return b'{"kind":"NamespaceList","apiVersion":"v1","metadata":{},"items":[]}'
        return json.dumps(as_list(load_json_or_cassette(self.args.namespaces), "Namespace")).encode()

    def log(self, line):
        with self.lock:
            with open(os.path.join(self.args.dir, "requests.log"), "a") as f:
                f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        st = self.state
        ctl = st.control()
        mode = str(ctl.get("mode", "ok"))
        want = st.args.token
        auth_ok = (not want) or self.headers.get("Authorization") == "Bearer " + want
        st.log("%s %d %s" % (self.path, 1 if auth_ok else 0, mode))
        if not auth_ok:
            return self.reply(401, b'{"kind":"Status","status":"Failure","message":"Unauthorized","code":401}')
        if mode in ("401", "403", "500"):
            return self.reply(int(mode), ('{"kind":"Status","code":%s}' % mode).encode())
        if mode == "slow":
            time.sleep(float(ctl.get("delay", 30)))
        path = self.path.split("?")[0]
        if path in ("/pods", "/api/v1/pods"):
            body = st.pods_body(ctl)
        elif path == "/api/v1/namespaces":
            body = st.namespaces_body()
        elif path in ("/api", "/api/v1"):
            body = b'{"kind":"APIVersions","versions":["v1"]}'
        else:
            return self.reply(404, b'{"kind":"Status","code":404}')
        if mode == "truncated":
            body = body[: len(body) // 2]
        elif mode == "garbage":
            body = b"<html><body>502 Bad Gateway</body></html>"
        try:
            self.reply(200, body)
        except (BrokenPipeError, ConnectionResetError):
            pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # clients that time out and hang up are part of the tests


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--pods", required=True)
    ap.add_argument("--namespaces")
    ap.add_argument("--token", default="test-token")
    ap.add_argument("--plain", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    Handler.state = State(args)
    srv = Server(("127.0.0.1", 0), Handler)
    if not args.plain:
        pki = os.path.join(args.dir, "pki")
        if not os.path.exists(os.path.join(pki, "server.crt")):
            subprocess.run([os.path.join(HERE, "make_test_ca.sh"), pki], check=True)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(pki, "server.crt"), os.path.join(pki, "server.key"))
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = os.path.join(args.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, os.path.join(args.dir, "port"))
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())

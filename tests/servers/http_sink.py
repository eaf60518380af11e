#!/usr/bin/env python3
"""An HTTP endpoint for tests of HTTP outputs (python3 stdlib only), standing for what Fluentd's
out_http is pointed at: Vector's or Logstash's http input, a custom collector, a SaaS intake.

Takes any POST or PUT and records it: method, path (with the query), header fields as received,
and the body decoded (a `Content-Encoding: gzip` body is gunzipped; `body_gzip` says it was).
Answers 200 `ok`, unless told otherwise:
  --answers 503,503,200    the next requests get these statuses in turn (then 200)
  --answer-body TEXT       the body of non-2xx answers (default: the status's reason phrase)
  --user U --password P    require this HTTP basic auth (else 401, not recorded as accepted)
  --tls-cert C --tls-key K serve HTTPS (`tls_version` of each request is recorded)
  --client-ca CA           require a client certificate signed by CA
  --aws-sigv4 REGION:SERVICE --aws-keys FILE
                           require AWS SigV4 signatures by these keys (else 403 with the reason,
                           as AWS answers); FILE: JSON list of [key id, secret, token or null]
Control (the control paths are never recorded):
  GET  /_requests          every request: [{"method","path","headers":[[k,v],...],"body",
                           "body_gzip","status"}], status being what it was answered
  POST /_answers           a JSON list of statuses to answer next (replaces the queue)

Usage: http_sink.py --port 0 --port-file /tmp/p [options]
"""
import argparse
import aws_sigv4_check
import base64
import gzip
import json
import threading
from http import HTTPStatus

from http_test_server import QuietHandler, serve


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.requests = []
        self.answers = [int(a) for a in args.answers.split(",") if a.strip()] if args.answers else []
        self.answer_body = args.answer_body
        self.auth = None
        self.aws_scope = args.aws_sigv4.split(":") if args.aws_sigv4 else None
        self.aws_keys = {}
        if args.aws_keys:
            with open(args.aws_keys) as f:
                self.aws_keys = {k: (secret, token) for k, secret, token in json.load(f)}
        if args.user is not None:
            token = base64.b64encode(("%s:%s" % (args.user, args.password or "")).encode()).decode()
            self.auth = "Basic " + token


class Handler(QuietHandler):
    max_body = 64 << 20

    def _reply(self, status, body, content_type="text/plain"):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        st = self.server.state
        if self.path == "/_requests":
            with st.lock:
                self._reply(200, json.dumps(st.requests), "application/json")
            return
        self._reply(404, "not found")

    def do_POST(self):
        st = self.server.state
        if self.path == "/_answers":
            answers = json.loads(self.read_body())
            with st.lock:
                st.answers = [int(a) for a in answers]
            self._reply(200, "{}", "application/json")
            return
        self._take()

    def do_PUT(self):
        self._take()

    def _take(self):
        st = self.server.state
        raw = self.read_body()
        gzipped = (self.headers.get("Content-Encoding") or "").lower() == "gzip"
        try:
            body = gzip.decompress(raw) if gzipped else raw
        except OSError as e:
            body = ("undecodable gzip body: %s" % e).encode()
        refusal = None
        if st.aws_scope:  # over the body as sent (gzipped or not)
            refusal, _ = aws_sigv4_check.verify(self.command, self.path, self.headers, raw, st.aws_keys,
                                                *st.aws_scope)
        with st.lock:
            if refusal:
                status = 403
            elif st.auth is not None and self.headers.get("Authorization") != st.auth:
                status = 401
            elif st.answers:
                status = st.answers.pop(0)
            else:
                status = 200
            st.requests.append({"method": self.command, "path": self.path,
                                "headers": [[k, v] for k, v in self.headers.items()],
                                "body": body.decode("utf-8", "surrogateescape"),
                                "body_gzip": gzipped, "status": status,
                                "tls_version": getattr(self.connection, "version", lambda: None)()})
        if 200 <= status < 300:
            self._reply(status, "ok")
            return
        text = refusal or st.answer_body
        if text is None:
            try:
                text = HTTPStatus(status).phrase
            except ValueError:
                text = "error"
        self._reply(status, text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--answers")
    ap.add_argument("--answer-body")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--client-ca")
    ap.add_argument("--aws-sigv4")
    ap.add_argument("--aws-keys")
    args = ap.parse_args()
    serve(Handler, State(args), args.port, args.port_file, args.tls_cert, args.tls_key,
          "http_sink listening on 127.0.0.1:%d", args.client_ca)


if __name__ == "__main__":
    main()

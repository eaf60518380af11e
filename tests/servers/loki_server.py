#!/usr/bin/env python3
"""A small Grafana Loki distributor stand-in for tests (python3 stdlib only).

Takes pushes as Loki does on `POST /loki/api/v1/push` with `Content-Type: application/json`
(optionally `Content-Encoding: gzip`): the body is `{"streams":[{"stream":{labels},"values":
[["<unix ns>","<line>"], ...]}]}`, validated like Loki's push handler and distributor (timestamps
must be strings of integers, lines strings, each stream needs at least one label, label names
must match [a-zA-Z_][a-zA-Z0-9_]*), answered 204. Loki's errors come back as text/plain bodies
with its own messages. With --user/--password it wants basic auth, with --token a bearer token
(401 otherwise); with --require-tenant it wants X-Scope-OrgID (401 "no org id", as Loki with
auth_enabled). Entries are stored per tenant and stream; invalid UTF-8 in lines is replaced with
U+FFFD, as Go's JSON decoding does.

Fault switches (POST /_control with a JSON object):
  fail_next   a list of statuses answered to the next pushes before taking them again
              (429: Loki's ingestion rate limit text, 5xx: an ingester error)
  strict_order true: a push with an entry older than its stream's newest is refused with 400
               'entry out of order', as Loki with unordered_writes false (which would still keep
               the push's other entries)

Control / inspection (no auth):
  GET  /_control/streams   {"<tenant>": [{"stream": {...}, "values": [[ts, line], ...]}]}
  GET  /_control/requests  every push: {"headers": {...}, "status": n, "bytes": n, "error": ...}
  POST /_control/reset     forget everything

Usage: loki_server.py --port 0 --port-file /tmp/p [--user u --password p | --token t]
                      [--require-tenant] [--tls-cert c.pem --tls-key k.pem [--client-ca ca.pem]]
"""
import argparse
import base64
import gzip
import json
import re
import threading

from http_test_server import BodyTooLarge, QuietHandler, serve

MAX_BODY = 64 << 20
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
MISSING_LABELS = "error at least one label pair is required per stream"
RATE_LIMITED = ("Ingestion rate limit exceeded for user %s (limit: 4194304 bytes/sec) while attempting to "
                "ingest '%d' lines totaling '%d' bytes, reduce log volume or contact your Loki administrator "
                "to see if the limit can be increased")
OUT_OF_ORDER = "entry with timestamp %s ignored, reason: 'entry out of order' for stream: %s"


class PushError(Exception):
    pass


def render_labels(labels):
    return "{" + ", ".join('%s="%s"' % (k, v.replace("\\", "\\\\").replace('"', '\\"'))
                           for k, v in sorted(labels.items())) + "}"


def parse_push(raw):
    """The streams of a push body, or PushError with Loki's message."""
    try:
        doc = json.loads(raw.decode("utf-8", "replace"))
    except ValueError as e:
        raise PushError("loghttp.PushRequest.Streams: ReadObjectCB: %s" % e)
    if not isinstance(doc, dict) or not isinstance(doc.get("streams"), list):
        raise PushError("loghttp.PushRequest.Streams: []*loghttp.LogProtoStream: decode slice: expect [ or n")
    out = []
    for s in doc["streams"]:
        labels = s.get("stream") if isinstance(s, dict) else None
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise PushError("loghttp.PushRequest.Streams: []*loghttp.LogProtoStream: ReadString: expects \" or n")
        values = s.get("values")
        if not isinstance(values, list):
            raise PushError("loghttp.PushRequest.Streams: []*loghttp.LogProtoStream: expects [ or n")
        entries = []
        for v in values:
            if not isinstance(v, list) or len(v) not in (2, 3):
                raise PushError("error reading entry: array must contains 2 values")
            ts, line = v[0], v[1]
            if not isinstance(ts, str):
                raise PushError("error reading entry timestamp: ReadString: expects \" or n, but found %s"
                                % json.dumps(ts)[:1])
            if not re.fullmatch(r"-?[0-9]+", ts):
                raise PushError('error reading entry timestamp: strconv.ParseInt: parsing "%s": invalid syntax' % ts)
            if not isinstance(line, str):
                raise PushError("ReadString: expects \" or n, but found %s" % json.dumps(line)[:1])
            entries.append([ts, line])
        # The distributor's validation.
        if not labels:
            raise PushError(MISSING_LABELS)
        for name in labels:
            if not LABEL_NAME.match(name):
                raise PushError("error parsing labels '%s' with error: invalid label name %s"
                                % (render_labels(labels), name))
        out.append((labels, entries))
    return out


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.user, self.password, self.token = args.user, args.password, args.token
        self.require_tenant = args.require_tenant
        self.reset()

    def reset(self):
        self.streams = {}  # tenant -> {frozen labels: (labels, values)}
        self.requests = []
        self.switches = {"fail_next": [], "strict_order": False}


class Handler(QuietHandler):
    server_version = "loki_server"
    max_body = MAX_BODY

    def reply(self, status, body=b"", ctype="text/plain; charset=utf-8"):
        if isinstance(body, str):
            body = (body + "\n").encode()
        self.send_response(status)
        if body:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        st = self.st
        with st.lock:
            if self.path == "/_control/streams":
                out = {t: [{"stream": l, "values": v} for l, v in s.values()] for t, s in st.streams.items()}
            elif self.path == "/_control/requests":
                out = st.requests
            elif self.path == "/ready":
                self.reply(200, "ready")
                return
            else:
                self.reply(404, "404 page not found")
                return
        self.reply(200, json.dumps(out).encode(), "application/json")

    def auth_problem(self):
        st = self.st
        auth = self.headers.get("Authorization", "")
        if st.user is not None:
            want = "Basic " + base64.b64encode(("%s:%s" % (st.user, st.password or "")).encode()).decode()
            if auth != want:
                return "unauthorized"
        if st.token is not None and auth != "Bearer " + st.token:
            return "unauthorized"
        if st.require_tenant and not self.headers.get("X-Scope-OrgID"):
            return "no org id"
        return None

    def do_POST(self):
        st = self.st
        try:
            body = self.read_body()
        except BodyTooLarge as e:
            self.reply(413, str(e))
            return
        if self.path.startswith("/_control"):
            self.reply(200, json.dumps(self.apply_control(body)).encode(), "application/json")
            return
        if self.path != "/loki/api/v1/push":
            self.reply(404, "404 page not found")
            return
        headers = {k: v for k, v in self.headers.items()}
        status, error = self.push(body)
        with st.lock:
            st.requests.append({"headers": headers, "status": status, "bytes": len(body), "error": error})
        self.reply(status, error or b"")

    def push(self, body):
        st = self.st
        problem = self.auth_problem()
        if problem:
            return 401, problem
        tenant = self.headers.get("X-Scope-OrgID") or "fake"
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return 415, "unsupported Content-Type %r" % self.headers.get("Content-Type", "")
        if self.headers.get("Content-Encoding", "") == "gzip":
            try:
                body = gzip.decompress(body)
            except OSError as e:
                return 400, "gzip: %s" % e
        with st.lock:
            if st.switches["fail_next"]:
                code = st.switches["fail_next"].pop(0)
                if code == 429:
                    return 429, RATE_LIMITED % (tenant, body.count(b'"],["') + 1, len(body))
                return code, "rpc error: code = Unavailable desc = ingester is shutting down"
        try:
            streams = parse_push(body)
        except PushError as e:
            return 400, str(e)
        with st.lock:
            store = st.streams.setdefault(tenant, {})
            if st.switches["strict_order"]:
                for labels, entries in streams:
                    key = tuple(sorted(labels.items()))
                    newest = int(store[key][1][-1][0]) if key in store and store[key][1] else None
                    for ts, _ in entries:
                        if newest is not None and int(ts) < newest:
                            return 400, OUT_OF_ORDER % (ts, render_labels(labels))
                        newest = int(ts)
            for labels, entries in streams:
                key = tuple(sorted(labels.items()))
                store.setdefault(key, (labels, []))[1].extend(entries)
        return 204, None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--token")
    ap.add_argument("--require-tenant", action="store_true")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--client-ca", help="with TLS: require client certificates signed by this CA")
    args = ap.parse_args()

    serve(Handler, State(args), args.port, args.port_file, args.tls_cert, args.tls_key,
          client_ca=args.client_ca)

if __name__ == "__main__":
    main()

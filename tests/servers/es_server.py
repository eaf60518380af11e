#!/usr/bin/env python3
"""A small Elasticsearch stand-in for tests (python3 stdlib only).

Speaks what a log shipper uses: `GET /` (version banner + `X-elastic-product: Elasticsearch`),
`POST /_bulk` and `POST /<index>/_bulk` (NDJSON, gzip bodies, validation, per-item results like
Elasticsearch 8), basic auth and API-key checks, optional TLS. It stores accepted documents and
can dump them. With `--distribution opensearch` it answers as OpenSearch does: its `GET /` banner
(`version.distribution`), no `X-elastic-product` header, and from 2.x no `_type` in action lines.
With `--aws-sigv4 REGION:SERVICE --aws-keys FILE` it checks every request's AWS Signature Version 4
as Amazon OpenSearch Service does (FILE: a JSON list of [key id, secret, session token or null]),
answering 403 when it does not hold.

Fault switches (CLI flags, or POST /_control with a JSON object of the same names):
  reject_429_pct     reject this % of items with 429 es_rejected_execution_exception
  mapping_conflicts  true: a field whose JSON type differs from the first document of the index
                     that had it gets 400 mapper_parsing_exception
  fail_503           answer every _bulk with 503 (whole request)
  close_mid_response close the connection in the middle of the next N _bulk responses
  delay_ms           answer _bulk this late
  max_body_bytes     bodies larger than this get 413
  fail_data_stream_apis  answer the data stream, index template and ILM APIs with 503
Error bodies are the real ones from ../shared/fixtures/es-bulk (transcribed from
fluent-plugin-elasticsearch's tests) when found, else identical built-in copies.

Control / inspection:
  GET  /_control/docs      {"<index>": [{"_id":..., "_source":...}, ...]}
  GET  /_control/requests  every _bulk request: {"path","headers","body","tls_version"} (body decoded)
  GET  /_control/stats     counters
  GET  /_control/data_streams  streams, index templates, ILM policies and the requests that made them
Data streams (es_data_streams.py): GET/PUT /_data_stream/N, /_index_template/N, /_ilm/policy/N;
bulk items into a stream must be `create` with @timestamp (stored under the stream's name).
  POST /_control           set switches; POST /_control/reset clears documents and counters

Usage: es_server.py --port 0 --port-file /tmp/p [--version 8.13.0] [--distribution opensearch]
                    [--user u --password p]
                    [--api-key KEY] [--tls-cert c.pem --tls-key k.pem] [--reject-429-pct 30] ...
"""
import argparse
import aws_sigv4_check
import es_data_streams
import base64
import gzip
import json
import os
import random
import socket
import threading
import time
import uuid
from http_test_server import QuietHandler, serve

FIXTURES = os.environ.get("SLUICE_FIXTURES",
                          os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/fixtures"))

ERR_429 = {"type": "es_rejected_execution_exception",
           "reason": "rejected execution of org.elasticsearch.transport.TransportService"}
ERR_400 = {"type": "mapper_parsing_exception", "reason": "failed to parse"}


def load_fixture_errors():
    global ERR_429, ERR_400
    base = os.path.join(FIXTURES, "es-bulk", "uken-fluent-plugin-elasticsearch")
    try:
        with open(os.path.join(base, "test_es_rejected_execution_exception_responses.response.json")) as f:
            ERR_429 = json.load(f)["items"][0]["create"]["error"]
        with open(os.path.join(base, "test_400_responses_reason_log.response.json")) as f:
            ERR_400 = json.load(f)["items"][0]["create"]["error"]
    except (OSError, KeyError, ValueError):
        pass


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.version = args.version
        self.opensearch = args.distribution == "opensearch"
        self.aws_scope = args.aws_sigv4.split(":") if args.aws_sigv4 else None
        self.aws_keys = {}
        if args.aws_keys:
            with open(args.aws_keys) as f:
                self.aws_keys = {k: (secret, token) for k, secret, token in json.load(f)}
        self.user = args.user
        self.password = args.password
        self.api_key = args.api_key
        self.switches = {
            "reject_429_pct": args.reject_429_pct,
            "mapping_conflicts": args.mapping_conflicts,
            "fail_503": args.fail_503,
            "close_mid_response": args.close_mid_response,
            "delay_ms": args.delay_ms,
            "max_body_bytes": args.max_body_bytes,
        }
        self.rng = random.Random(args.seed)
        self.reset()

    def reset(self):
        self.docs = {}      # index -> {id: source}
        self.order = {}     # index -> [id] in arrival order
        self.versions = {}
        self.mappings = {}  # index -> {field: type}
        self.data_streams = es_data_streams.DataStreams(self.opensearch)
        self.requests = []
        self.stats = {"bulk_requests": 0, "items": 0, "created": 0, "updated": 0, "rejected_429": 0,
                      "rejected_400": 0, "conflicts_409": 0, "whole_503": 0, "closed_mid_response": 0,
                      "too_large_413": 0, "get_root": 0, "auth_failures": 0, "sigv4_ok": 0,
                      "sigv4_failures": 0, "sigv4_keys": []}


def json_type(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "object"
    if isinstance(v, list):
        return "array"
    return None


class Handler(QuietHandler):
    server_version = "es_server"

    def send_json(self, status, obj, extra_headers=()):
        body = json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if not self.st.opensearch:
            self.send_header("X-elastic-product", "Elasticsearch")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def authorized(self, body=b""):
        st = self.st
        if st.aws_scope:
            reason, key_id = aws_sigv4_check.verify(self.command, self.path, self.headers, body, st.aws_keys,
                                                    *st.aws_scope)
            with st.lock:
                st.stats["sigv4_failures" if reason else "sigv4_ok"] += 1
                if not reason and key_id not in st.stats["sigv4_keys"]:
                    st.stats["sigv4_keys"].append(key_id)
            if reason:
                self.send_json(403, {"message": reason})
            return not reason
        if not st.user and not st.api_key:
            return True
        auth = self.headers.get("Authorization", "")
        if st.api_key and auth == "ApiKey " + base64.b64encode(st.api_key.encode()).decode():
            return True
        if st.user and auth == "Basic " + base64.b64encode(
                ("%s:%s" % (st.user, st.password or "")).encode()).decode():
            return True
        with st.lock:
            st.stats["auth_failures"] += 1
        self.send_json(401, {"error": {"type": "security_exception", "reason": "missing authentication credentials"},
                             "status": 401}, [("WWW-Authenticate", 'Basic realm="security"')])
        return False

    def do_GET(self):
        st = self.st
        if self.path.startswith("/_control/"):
            with st.lock:
                if self.path == "/_control/docs":
                    out = {i: [{"_id": d, "_source": st.docs[i][d]} for d in st.order[i]] for i in st.docs}
                elif self.path == "/_control/requests":
                    out = st.requests
                elif self.path == "/_control/stats":
                    out = dict(st.stats, switches=st.switches)
                elif self.path == "/_control/data_streams":
                    ds = st.data_streams
                    out = {"streams": ds.streams, "templates": ds.templates, "policies": ds.policies,
                           "calls": ds.calls}
                else:
                    out = None
            if out is None:
                self.send_json(404, {"error": "no such control path"})
            else:
                self.send_json(200, out)
            return
        if not self.authorized():
            return
        if self.st.data_streams.handles(self.path):
            self.data_stream_api(b"")
            return
        if self.path in ("/", ""):
            with st.lock:
                st.stats["get_root"] += 1
            if st.opensearch:
                self.send_json(200, {"name": "os-test", "cluster_name": "sluice-test",
                                     "cluster_uuid": "sluice-test-cluster",
                                     "version": {"distribution": "opensearch", "number": st.version,
                                                 "build_type": "tar", "build_snapshot": False,
                                                 "lucene_version": "9.7.0",
                                                 "minimum_wire_compatibility_version": "7.10.0",
                                                 "minimum_index_compatibility_version": "7.0.0"},
                                     "tagline": "The OpenSearch Project: https://opensearch.org/"})
                return
            self.send_json(200, {"name": "es-test", "cluster_name": "sluice-test",
                                 "cluster_uuid": "sluice-test-cluster",
                                 "version": {"number": st.version, "build_flavor": "default",
                                             "lucene_version": "9.10.0"},
                                 "tagline": "You Know, for Search"})
            return
        self.send_json(404, {"error": {"type": "no_handler", "reason": self.path}, "status": 404})

    def data_stream_api(self, body):
        st = self.st
        with st.lock:
            if st.switches.get("fail_data_stream_apis"):
                answer = (503, {"error": {"type": "cluster_block_exception", "reason":
                                          "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];"},
                                "status": 503})
            else:
                answer = st.data_streams.request(self.command, self.path, body)
        self.send_json(*answer)

    def do_PUT(self):
        st = self.st
        body = self.read_body()
        if not self.authorized(body):
            return
        if st.data_streams.handles(self.path):
            self.data_stream_api(body)
            return
        self.send_json(405, {"error": "Incorrect HTTP method for uri [%s] and method [PUT]" % self.path,
                             "status": 405})

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        if not self.st.opensearch:
            self.send_header("X-elastic-product", "Elasticsearch")
        self.end_headers()

    def do_POST(self):
        st = self.st
        body = self.read_body()
        if self.path.startswith("/_control"):
            self.send_json(200, self.apply_control(body))
            return
        if not self.authorized(body):
            return
        path = self.path.split("?")[0]
        if not path.endswith("/_bulk"):
            self.send_json(404, {"error": {"type": "no_handler", "reason": path}, "status": 404})
            return
        default_index = path[1:-len("/_bulk")] or None
        with st.lock:
            sw = dict(st.switches)
            st.stats["bulk_requests"] += 1
        if sw.get("delay_ms"):
            time.sleep(sw["delay_ms"] / 1000.0)
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            try:
                body = gzip.decompress(body)
            except OSError:
                self.send_json(400, {"error": {"type": "parse_exception", "reason": "bad gzip"}, "status": 400})
                return
        with st.lock:
            st.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                "body": body.decode("utf-8", "surrogateescape"),
                                "tls_version": getattr(self.connection, "version", lambda: None)()})
        if sw.get("max_body_bytes") and len(body) > sw["max_body_bytes"]:
            with st.lock:
                st.stats["too_large_413"] += 1
            self.send_response(413)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if sw.get("fail_503"):
            with st.lock:
                st.stats["whole_503"] += 1
            self.send_json(503, {"error": {"type": "cluster_block_exception",
                                           "reason": "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];"},
                                 "status": 503})
            return
        ctype = self.headers.get("Content-Type", "")
        if not (ctype.startswith("application/x-ndjson") or ctype.startswith("application/json")):
            self.send_json(406, {"error": "Content-Type header [%s] is not supported" % ctype, "status": 406})
            return
        if body and not body.endswith(b"\n"):
            self.send_json(400, {"error": {"type": "illegal_argument_exception",
                                           "reason": "The bulk request must be terminated by a newline [\\n]"},
                                 "status": 400})
            return
        lines = body.split(b"\n")[:-1] if body else []
        items = []
        errors = False
        i = 0
        try:
            while i < len(lines):
                action = json.loads(lines[i])
                if not isinstance(action, dict) or len(action) != 1:
                    raise ValueError("Malformed action/metadata line [%d]" % (i + 1))
                op, meta = next(iter(action.items()))
                if op not in ("index", "create", "delete", "update"):
                    raise ValueError("Malformed action/metadata line [%d], expected one of [create, delete, index, update] but found [%s]" % (i + 1, op))
                if not isinstance(meta, dict):
                    raise ValueError("Malformed action/metadata line [%d]" % (i + 1))
                major = int(st.version.split(".")[0])
                if "_type" in meta and (meta["_type"] is not None or st.opensearch) and \
                        (major >= 8 or (st.opensearch and major >= 2)):
                    raise ValueError("Action/metadata line [%d] contains an unknown parameter [_type]" % (i + 1))
                source = None
                if op != "delete":
                    if i + 1 >= len(lines):
                        raise ValueError("Validation Failed: 1: no requests added;")
                    source = json.loads(lines[i + 1])
                    if not isinstance(source, dict):
                        raise ValueError("failed to parse document line [%d]" % (i + 2))
                    i += 2
                else:
                    i += 1
                items.append((op, meta, source))
        except ValueError as e:
            self.send_json(400, {"error": {"type": "illegal_argument_exception", "reason": str(e)}, "status": 400})
            return
        out = []
        with st.lock:
            for op, meta, source in items:
                st.stats["items"] += 1
                index = meta.get("_index") or default_index
                doc_id = meta.get("_id")
                res = {"_index": index}
                stream = st.data_streams.bulk_item(op, index, source)
                if stream:
                    res["_index"] = st.data_streams.backing_index(index)
                    if stream[1]:
                        st.stats["rejected_400"] += 1
                        res.update({"status": 400, "error": stream[1]})
                        errors = True
                        out.append({op: res})
                        continue
                if sw.get("reject_429_pct") and st.rng.random() * 100 < sw["reject_429_pct"]:
                    st.stats["rejected_429"] += 1
                    res.update({"status": 429, "error": ERR_429})
                    errors = True
                    out.append({op: res})
                    continue
                if sw.get("mapping_conflicts") and source is not None:
                    mapping = st.mappings.setdefault(index, {})
                    bad = None
                    for k, v in source.items():
                        t = json_type(v)
                        if t is None:
                            continue
                        if k in mapping and mapping[k] != t:
                            bad = (k, mapping[k])
                            break
                    if bad:
                        st.stats["rejected_400"] += 1
                        err = dict(ERR_400)
                        err["caused_by"] = {"type": "illegal_argument_exception",
                                            "reason": "field [%s] of type [%s] conflicts" % bad}
                        res.update({"status": 400, "error": err})
                        errors = True
                        out.append({op: res})
                        continue
                    for k, v in source.items():
                        t = json_type(v)
                        if t is not None:
                            mapping.setdefault(k, t)
                docs = st.docs.setdefault(index, {})
                order = st.order.setdefault(index, [])
                if doc_id is None:
                    doc_id = uuid.uuid4().hex[:20]
                doc_id = str(doc_id)
                res["_id"] = doc_id
                if op == "create" and doc_id in docs:
                    st.stats["conflicts_409"] += 1
                    res.update({"status": 409, "error": {
                        "type": "version_conflict_engine_exception",
                        "reason": "[%s]: version conflict, document already exists (current version [1])" % doc_id}})
                    errors = True
                    out.append({op: res})
                    continue
                if op == "delete":
                    docs.pop(doc_id, None)
                    res.update({"status": 200, "result": "deleted"})
                    out.append({op: res})
                    continue
                existed = doc_id in docs
                docs[doc_id] = source
                if not existed:
                    order.append(doc_id)
                v = st.versions.get((index, doc_id), 0) + 1
                st.versions[(index, doc_id)] = v
                st.stats["updated" if existed else "created"] += 1
                res.update({"_version": v, "result": "updated" if existed else "created",
                            "_shards": {"total": 1, "successful": 1, "failed": 0},
                            "_seq_no": st.stats["items"], "_primary_term": 1,
                            "status": 200 if existed else 201})
                out.append({op: res})
        resp = {"took": 1, "errors": errors, "items": out}
        if sw.get("close_mid_response"):
            with st.lock:
                st.switches["close_mid_response"] = int(sw["close_mid_response"]) - 1
                st.stats["closed_mid_response"] += 1
            data = json.dumps(resp).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if not self.st.opensearch:
                self.send_header("X-elastic-product", "Elasticsearch")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_json(200, resp)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--version", default="8.13.0")
    ap.add_argument("--distribution", choices=["elasticsearch", "opensearch"], default="elasticsearch")
    ap.add_argument("--aws-sigv4", help="REGION:SERVICE: require AWS SigV4 signatures")
    ap.add_argument("--aws-keys", help="JSON list of [key id, secret, session token or null]")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--api-key")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--reject-429-pct", type=float, default=0)
    ap.add_argument("--mapping-conflicts", action="store_true")
    ap.add_argument("--fail-503", action="store_true")
    ap.add_argument("--close-mid-response", type=int, default=0)
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--max-body-bytes", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    load_fixture_errors()

    serve(Handler, State(args), args.port, args.port_file, args.tls_cert, args.tls_key,
          "es_server listening on 127.0.0.1:%%d (version %s)" % args.version)


if __name__ == "__main__":
    main()

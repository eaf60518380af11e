#!/usr/bin/env python3
"""Stands in for Amazon S3 (python3 stdlib only), for what fluent-plugin-s3's out_s3 uses, path style
on 127.0.0.1:

  PUT  /BUCKET/KEY          PutObject: the body is stored under --data-dir; answers an ETag
  HEAD /BUCKET/KEY          HeadObject: 200 with Content-Length, or 404 (no body, as S3)
  GET  /BUCKET/KEY          GetObject
  HEAD /BUCKET              HeadBucket
  GET  /BUCKET?list-type=2  ListObjectsV2 (prefix, max-keys)
  PUT  /BUCKET              CreateBucket (a LocationConstraint other than --region is refused)

Every request must carry an AWS Signature Version 4 for --region and service s3 by one of the
--keys (a JSON list of [key id, secret, session token or null]), checked as S3 does
(aws_sigv4_check.py, S3 flavour). Errors are S3's XML documents: NoSuchBucket, NoSuchKey,
SignatureDoesNotMatch, InvalidAccessKeyId, SlowDown (503), EntityTooLarge...

Control (unsigned): GET /_control/stats, GET /_control/objects (bucket, key, size, headers of each
stored object), POST /_control {"slowdown": N} (the next N PutObjects answer 503 SlowDown).
Objects are stored as --data-dir/BUCKET/<the key percent-encoded, no slashes>.

Usage: s3_server.py --port-file F --data-dir D --keys K [--region eu-west-1] [--bucket B ...]
"""
import argparse
import hashlib
import json
import os
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aws_sigv4_check
import port_file

MAX_BODY = 64 << 20


def object_file(data_dir, bucket, key):
    return os.path.join(data_dir, bucket, urllib.parse.quote(key, safe=""))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", content_type="application/xml", headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("x-amz-request-id", uuid.uuid4().hex[:16].upper())
        for k, v in headers:
            self.send_header(k, v)
        if data or self.command != "HEAD":
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def error(self, status, code, message, resource=""):
        # HEAD answers carry no body, as S3's do.
        self.reply(status, '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
                           '<Resource>%s</Resource><RequestId>4442587FB7D0A2F9</RequestId></Error>'
                   % (code, message, resource))

    def count(self, name, n=1):
        with self.server.lock:
            self.server.stats[name] = self.server.stats.get(name, 0) + n

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            return None
        return self.rfile.read(n)

    def authorized(self, body):
        reason, key_id = aws_sigv4_check.verify(self.command, self.path, self.headers, body, self.server.keys,
                                                self.server.args.region, "s3", s3=True)
        if reason is None:
            with self.server.lock:
                self.server.stats["sigv4_ok"] += 1
                if key_id not in self.server.stats["sigv4_keys"]:
                    self.server.stats["sigv4_keys"].append(key_id)
            return True
        self.count("sigv4_failures")
        if key_id is None or key_id not in self.server.keys:
            self.error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
        elif reason.startswith("The request signature"):
            # S3 echoes the string to sign and the canonical request, which is why sluice logs
            # only Code and Message.
            self.error(403, "SignatureDoesNotMatch", reason + " Check your key and signing method.")
        else:
            self.error(403, "AccessDenied", reason)
        return False

    def split(self):
        path = self.path.partition("?")[0]
        bucket, _, key = path[1:].partition("/")
        return urllib.parse.unquote(bucket), urllib.parse.unquote(key), "/" in path[1:]

    def bucket_dir(self, bucket):
        return os.path.join(self.server.args.data_dir, bucket)

    def handle_request(self):
        if self.path.startswith("/_control"):
            return self.control()
        body = self.read_body() if self.command in ("PUT", "POST") else b""
        if body is None:
            return self.error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
        if not self.authorized(body):
            return
        bucket, key, has_key = self.split()
        if not bucket:
            return self.error(400, "InvalidRequest", "no bucket")
        exists = os.path.isdir(self.bucket_dir(bucket))
        if has_key and key:
            if not exists:
                return self.error(404, "NoSuchBucket", "The specified bucket does not exist", "/" + bucket)
            return self.object_request(bucket, key, body)
        if self.command == "PUT":
            return self.create_bucket(bucket, body, exists)
        if not exists:
            return self.error(404, "NoSuchBucket", "The specified bucket does not exist", "/" + bucket)
        if self.command == "HEAD":
            self.count("head_bucket")
            return self.reply(200, headers=[("x-amz-bucket-region", self.server.args.region)])
        if self.command == "GET":
            return self.list_objects(bucket)
        self.error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")

    def create_bucket(self, bucket, body, exists):
        if exists:
            return self.error(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket "
                                                             "succeeded and you already own it.")
        region = self.server.args.region
        text = body.decode("utf-8", "replace")
        wanted = text.partition("<LocationConstraint>")[2].partition("</LocationConstraint>")[0]
        if (wanted or "us-east-1") != region:
            return self.error(400, "IllegalLocationConstraintException",
                              "The %s location constraint is incompatible for the region specific endpoint this "
                              "request was sent to." % (wanted or "unspecified"))
        os.makedirs(self.bucket_dir(bucket), exist_ok=True)
        self.count("create_bucket")
        self.reply(200, headers=[("Location", "/" + bucket)])

    def list_objects(self, bucket):
        query = urllib.parse.parse_qs(self.path.partition("?")[2])
        prefix = query.get("prefix", [""])[0]
        max_keys = int(query.get("max-keys", ["1000"])[0])
        keys = sorted(urllib.parse.unquote(n) for n in os.listdir(self.bucket_dir(bucket))
                      if not n.endswith(".meta") and ".tmp" not in n)
        keys = [k for k in keys if k.startswith(prefix)][:max_keys]
        self.count("list")
        contents = "".join("<Contents><Key>%s</Key></Contents>" % k for k in keys)
        self.reply(200, '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><Name>%s</Name><Prefix>%s</Prefix>'
                        '<KeyCount>%d</KeyCount><MaxKeys>%d</MaxKeys><IsTruncated>false</IsTruncated>%s'
                        '</ListBucketResult>' % (bucket, prefix, len(keys), max_keys, contents))

    def object_request(self, bucket, key, body):
        path = object_file(self.server.args.data_dir, bucket, key)
        if self.command == "PUT":
            with self.server.lock:
                slow = self.server.slowdown > 0
                if slow:
                    self.server.slowdown -= 1
            if slow:
                self.count("slowdowns")
                return self.error(503, "SlowDown", "Please reduce your request rate.")
            with open(path + ".tmp", "wb") as f:
                f.write(body)
            headers = {k.lower(): v for k, v in self.headers.items()
                       if k.lower().startswith("x-amz-") and k.lower() not in ("x-amz-security-token",)
                       or k.lower() == "content-type"}
            with open(path + ".tmp.meta", "w") as f:
                json.dump(headers, f)
            os.rename(path + ".tmp.meta", path + ".meta")
            os.rename(path + ".tmp", path)
            with self.server.lock:
                self.server.stats["puts"] += 1
                self.server.stats["put_keys"].append(key)
            return self.reply(200, headers=[("ETag", '"%s"' % hashlib.md5(body).hexdigest())])
        if self.command in ("HEAD", "GET"):
            self.count("head_object" if self.command == "HEAD" else "get_object")
            if not os.path.isfile(path):
                return self.error(404, "NoSuchKey", "The specified key does not exist.", key)
            with open(path, "rb") as f:
                data = f.read()
            if self.command == "HEAD":
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("ETag", '"%s"' % hashlib.md5(data).hexdigest())
                self.end_headers()
                return
            return self.reply(200, data, "application/octet-stream")
        self.error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")

    def control(self):
        srv = self.server
        if self.command == "POST":
            switches = json.loads(self.read_body() or b"{}")
            with srv.lock:
                srv.slowdown = int(switches.get("slowdown", srv.slowdown))
            return self.reply(200, "{}", "application/json")
        if self.path == "/_control/stats":
            with srv.lock:
                return self.reply(200, json.dumps(srv.stats), "application/json")
        if self.path == "/_control/objects":
            out = []
            for bucket in sorted(os.listdir(srv.args.data_dir)):
                for name in sorted(os.listdir(os.path.join(srv.args.data_dir, bucket))):
                    if name.endswith(".meta") or ".tmp" in name:
                        continue
                    with open(os.path.join(srv.args.data_dir, bucket, name + ".meta")) as f:
                        headers = json.load(f)
                    out.append({"bucket": bucket, "key": urllib.parse.unquote(name), "headers": headers,
                                "size": os.path.getsize(os.path.join(srv.args.data_dir, bucket, name))})
            return self.reply(200, json.dumps(out), "application/json")
        self.reply(404, "{}", "application/json")

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = handle_request


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--keys", required=True)
    ap.add_argument("--region", default="eu-west-1")
    ap.add_argument("--bucket", action="append", default=[], help="a bucket that exists from the start")
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.args = args
    srv.lock = threading.Lock()
    with open(args.keys) as f:
        srv.keys = {k: (secret, token) for k, secret, token in json.load(f)}
    for b in args.bucket:
        os.makedirs(os.path.join(args.data_dir, b), exist_ok=True)
    srv.slowdown = 0
    srv.stats = {"puts": 0, "put_keys": [], "sigv4_ok": 0, "sigv4_failures": 0, "sigv4_keys": []}
    port_file.serve(srv, args.port_file)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Stands in for Amazon CloudWatch Logs (python3 stdlib only), for what fluent-plugin-cloudwatch-logs'
out_cloudwatch_logs uses, on 127.0.0.1.

The JSON 1.1 protocol: `POST /` with `Content-Type: application/x-amz-json-1.1` and
`X-Amz-Target: Logs_20140328.<Operation>`, signed with AWS Signature Version 4 for --region and
service `logs` by one of --keys (a JSON list of [key id, secret, session token or null]), checked
as AWS does (aws_sigv4_check.py). Operations:

  DescribeLogGroups   logGroupNamePrefix, nextToken, limit (default --page-size)
  DescribeLogStreams  logGroupName, logStreamNamePrefix, nextToken, limit (default --page-size)
  CreateLogGroup      logGroupName, tags
  CreateLogStream     logGroupName, logStreamName
  PutRetentionPolicy  logGroupName, retentionInDays (one of the values the API takes)
  PutLogEvents        logGroupName, logStreamName, logEvents, sequenceToken

Errors are the service's: status 400 with `{"__type":"ResourceNotFoundException","message":"The
specified log group does not exist."}` and `x-amzn-ErrorType`; UnrecognizedClientException (an
unknown key), InvalidSignatureException (a wrong secret: the message echoes the canonical request,
as AWS's does), ResourceAlreadyExistsException, InvalidParameterException, ThrottlingException,
ServiceUnavailableException (503). PutLogEvents enforces the API's limits: 1 to 10,000 events,
at most 1,048,576 bytes counting 26 per event, each event at most --max-event-size bytes (with
the 26), timestamps in chronological order, a span of at most 24 hours; events more than 14 days
old or 2 hours ahead are not stored but reported in rejectedLogEventsInfo, as AWS does. Sequence
tokens are accepted and ignored (the API since 2023) unless the `legacy_tokens` switch is on;
then a wrong one is refused with InvalidSequenceTokenException and expectedSequenceToken.

Control (unsigned):
  POST /_control        switches as JSON: {"throttle": N} (the next N PutLogEvents answer
                        ThrottlingException), {"unavailable": N} (503), {"pass": N} (with
                        throttle or unavailable: N PutLogEvents are taken before those fail),
                        {"legacy_tokens": true} (sequence tokens checked), {"other_writer": N}
                        (the next N PutLogEvents find the stream's token moved on, as when
                        another client wrote to it)
  POST /_control/reset  forget everything
  GET  /_control/events {"<group>": {"<stream>": [{"timestamp": t, "message": m}, ...]}}
  GET  /_control/groups {"<group>": {"retentionInDays": n or null, "tags": {...}}}
  GET  /_control/stats  requests per operation, throttled, sigv4 failures, each PutLogEvents'
                        event count and bytes

Usage: cloudwatch_logs_server.py --port-file F --keys K [--port 0] [--region eu-west-1]
                                 [--group G ...] [--stream G:S ...] [--page-size 50]
"""
import argparse
import hashlib
import json
import re
import threading
import time

import aws_sigv4_check
from http_test_server import BodyTooLarge, QuietHandler, serve

MAX_BATCH_BYTES = 1048576
MAX_EVENTS = 10000
EVENT_OVERHEAD = 26
DAY_MS = 24 * 3600 * 1000
RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653}
GROUP_NAME = re.compile(r"^[\.\-_/#A-Za-z0-9]{1,512}$")
STREAM_NAME = re.compile(r"^[^:*]{1,512}$")


class ApiError(Exception):
    def __init__(self, type_, message, status=400, extra=None):
        super().__init__(message)
        self.type, self.message, self.status, self.extra = type_, message, status, extra or {}


def not_found(what):
    return ApiError("ResourceNotFoundException", "The specified %s does not exist." % what)


def invalid(message):
    return ApiError("InvalidParameterException", message)


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        with open(args.keys) as f:
            self.keys = {k: (secret, token) for k, secret, token in json.load(f)}
        self.reset()

    def reset(self):
        self.switches = {"throttle": 0, "unavailable": 0, "pass": 0, "legacy_tokens": False, "other_writer": 0}
        self.groups = {}  # name -> {"created": ms, "retentionInDays": n, "tags": {}, "streams": {...}}
        self.stats = {"requests": {}, "throttled": 0, "unavailable": 0, "sigv4_failures": 0, "sigv4_keys": [],
                      "puts": [], "rejected": 0}
        for g in self.args.group:
            self.create_group(g, {})
        for gs in self.args.stream:
            g, _, s = gs.partition(":")
            if g not in self.groups:
                self.create_group(g, {})
            self.create_stream(g, s)

    def create_group(self, name, tags):
        self.groups[name] = {"created": int(time.time() * 1000), "retentionInDays": None, "tags": tags,
                             "streams": {}}

    def create_stream(self, group, name):
        self.groups[group]["streams"][name] = {"created": int(time.time() * 1000), "events": [], "token": "1",
                                               "seq": 1}


def page(items, body, default_limit):
    """One page of `items` and the nextToken of the next (an opaque index)."""
    limit = int(body.get("limit") or default_limit)
    start = 0
    if body.get("nextToken"):
        try:
            start = int(body["nextToken"].partition("/")[2])
        except ValueError:
            raise invalid("The specified nextToken is invalid.")
    chunk = items[start:start + limit]
    nxt = "page/%d" % (start + limit) if start + limit < len(items) else None
    return chunk, nxt


class Handler(QuietHandler):
    max_body = 8 << 20

    def reply(self, status, doc, error_type=None):
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", hashlib.md5(data).hexdigest())
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, e):
        doc = {"__type": e.type, "message": e.message}
        doc.update(e.extra)
        self.reply(e.status, doc, e.type)

    def do_GET(self):
        st = self.st
        with st.lock:
            if self.path == "/_control/events":
                return self.reply(200, {g: {s: v["events"] for s, v in gv["streams"].items()}
                                        for g, gv in st.groups.items()})
            if self.path == "/_control/groups":
                return self.reply(200, {g: {"retentionInDays": gv["retentionInDays"], "tags": gv["tags"]}
                                        for g, gv in st.groups.items()})
            if self.path == "/_control/stats":
                return self.reply(200, st.stats)
        self.reply(404, {})

    def do_POST(self):
        try:
            body = self.read_body()
        except BodyTooLarge:
            return self.error(ApiError("SerializationException", "request body too large", 413))
        if self.path.startswith("/_control"):
            return self.reply(200, self.apply_control(body))
        if not self.authorized(body):
            return
        target = self.headers.get("X-Amz-Target", "")
        op = target.partition(".")[2] if target.startswith("Logs_20140328.") else ""
        if self.headers.get("Content-Type") != "application/x-amz-json-1.1":
            return self.error(ApiError("UnknownOperationException", "Content-Type must be application/x-amz-json-1.1"))
        handler = getattr(self, "op_" + op, None)
        if not op or handler is None:
            return self.error(ApiError("UnknownOperationException", "unknown operation %r" % target))
        try:
            doc = json.loads(body.decode("utf-8"))
            if not isinstance(doc, dict):
                raise ValueError("not an object")
        except (ValueError, UnicodeDecodeError) as e:
            return self.error(ApiError("SerializationException", "Start of structure or map found where not "
                                                                 "expected (%s)" % e))
        st = self.st
        with st.lock:
            st.stats["requests"][op] = st.stats["requests"].get(op, 0) + 1
            try:
                return self.reply(200, handler(st, doc))
            except ApiError as e:
                return self.error(e)

    def authorized(self, body):
        st = self.st
        reason, key_id = aws_sigv4_check.verify("POST", self.path, self.headers, body, st.keys,
                                                st.args.region, "logs")
        with st.lock:
            if reason is None:
                if key_id not in st.stats["sigv4_keys"]:
                    st.stats["sigv4_keys"].append(key_id)
                return True
            st.stats["sigv4_failures"] += 1
        if key_id is None or key_id not in st.keys:
            self.error(ApiError("UnrecognizedClientException", "The security token included in the request is invalid."))
        elif reason.startswith("The request signature"):
            # AWS echoes what it computed, the session token among the signed headers.
            token = self.headers.get("X-Amz-Security-Token", "")
            self.error(ApiError("InvalidSignatureException",
                                reason + " Check your AWS Secret Access Key and signing method. Consult the service "
                                "documentation for details.\n\nThe Canonical String for this request should have "
                                "been\n'POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:%s\n"
                                "x-amz-security-token:%s\n'" % (self.headers.get("Host", ""), token)))
        else:
            self.error(ApiError("IncompleteSignatureException", reason))
        return False

    # ---- operations (called with the state locked) ----

    def group(self, st, body):
        name = body.get("logGroupName")
        if not isinstance(name, str) or not GROUP_NAME.match(name):
            raise invalid("1 validation error detected: Value '%s' at 'logGroupName' failed to satisfy constraint: "
                          "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+" % name)
        if name not in st.groups:
            raise not_found("log group")
        return st.groups[name]

    def op_DescribeLogGroups(self, st, body):
        prefix = body.get("logGroupNamePrefix") or ""
        names = sorted(g for g in st.groups if g.startswith(prefix))
        chunk, nxt = page(names, body, st.args.page_size)
        out = {"logGroups": [{"logGroupName": g, "creationTime": st.groups[g]["created"],
                              "arn": "arn:aws:logs:%s:123456789012:log-group:%s:*" % (st.args.region, g),
                              "storedBytes": 0}
                             for g in chunk]}
        for item in out["logGroups"]:
            if st.groups[item["logGroupName"]]["retentionInDays"]:
                item["retentionInDays"] = st.groups[item["logGroupName"]]["retentionInDays"]
        if nxt:
            out["nextToken"] = nxt
        return out

    def op_DescribeLogStreams(self, st, body):
        g = self.group(st, body)
        prefix = body.get("logStreamNamePrefix") or ""
        names = sorted(s for s in g["streams"] if s.startswith(prefix))
        chunk, nxt = page(names, body, st.args.page_size)
        out = {"logStreams": []}
        for s in chunk:
            item = {"logStreamName": s, "creationTime": g["streams"][s]["created"], "storedBytes": 0,
                    "arn": "arn:aws:logs:%s:123456789012:log-group:%s:log-stream:%s"
                           % (st.args.region, body["logGroupName"], s)}
            if st.switches["legacy_tokens"]:
                item["uploadSequenceToken"] = g["streams"][s]["token"]
            out["logStreams"].append(item)
        if nxt:
            out["nextToken"] = nxt
        return out

    def op_CreateLogGroup(self, st, body):
        name = body.get("logGroupName")
        if isinstance(name, str) and name in st.groups:
            raise ApiError("ResourceAlreadyExistsException", "The specified log group already exists")
        try:
            self.group(st, body)
        except ApiError as e:
            if e.type != "ResourceNotFoundException":
                raise
        tags = body.get("tags") or {}
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            raise invalid("tags must be a map of strings")
        st.create_group(name, tags)
        return {}

    def op_CreateLogStream(self, st, body):
        g = self.group(st, body)
        name = body.get("logStreamName")
        if not isinstance(name, str) or not STREAM_NAME.match(name):
            raise invalid("1 validation error detected: Value '%s' at 'logStreamName' failed to satisfy constraint: "
                          "Member must satisfy regular expression pattern: [^:*]*" % name)
        if name in g["streams"]:
            raise ApiError("ResourceAlreadyExistsException", "The specified log stream already exists")
        st.create_stream(body["logGroupName"], name)
        return {}

    def op_PutRetentionPolicy(self, st, body):
        g = self.group(st, body)
        days = body.get("retentionInDays")
        if days not in RETENTION_DAYS:
            raise invalid("1 validation error detected: Value '%s' at 'retentionInDays' failed to satisfy "
                          "constraint: Member must satisfy enum value set: %s" % (days, sorted(RETENTION_DAYS)))
        g["retentionInDays"] = days
        return {}

    def op_PutLogEvents(self, st, body):
        if st.switches["pass"] > 0 and (st.switches["unavailable"] > 0 or st.switches["throttle"] > 0):
            st.switches["pass"] -= 1
        elif st.switches["unavailable"] > 0:
            st.switches["unavailable"] -= 1
            st.stats["unavailable"] += 1
            raise ApiError("ServiceUnavailableException", "The service is unavailable. Please try again later.", 503)
        if st.switches["throttle"] > 0:
            st.switches["throttle"] -= 1
            st.stats["throttled"] += 1
            raise ApiError("ThrottlingException", "Rate exceeded")
        g = self.group(st, body)
        name = body.get("logStreamName")
        if name not in g["streams"]:
            raise not_found("log stream")
        stream = g["streams"][name]
        events = body.get("logEvents")
        if not isinstance(events, list) or not events:
            raise invalid("1 validation error detected: Value null at 'logEvents' failed to satisfy constraint: "
                          "Member must not be null")
        if len(events) > MAX_EVENTS:
            raise invalid("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member "
                          "must have length less than or equal to 10000")
        total = 0
        for e in events:
            if not isinstance(e, dict) or not isinstance(e.get("timestamp"), int) or not isinstance(
                    e.get("message"), str) or not e["message"]:
                raise invalid("Each log event needs an integer timestamp and a non-empty message")
            size = len(e["message"].encode("utf-8")) + EVENT_OVERHEAD
            if size > st.args.max_event_size:
                raise invalid("Log event too large: %d bytes exceeds limit of %d" % (size, st.args.max_event_size))
            total += size
        if total > MAX_BATCH_BYTES:
            raise invalid("Upload too large: %d bytes exceeds limit of %d" % (total, MAX_BATCH_BYTES))
        times = [e["timestamp"] for e in events]
        if times != sorted(times):
            raise invalid("Log events in a single PutLogEvents request must be in chronological order.")
        if times[-1] - times[0] > DAY_MS:
            raise invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
        if st.switches["other_writer"] > 0:
            st.switches["other_writer"] -= 1
            stream["seq"] += 1
            stream["token"] = str(stream["seq"])
        if st.switches["legacy_tokens"] and body.get("sequenceToken") != stream["token"]:
            raise ApiError("InvalidSequenceTokenException",
                           "The given sequenceToken is invalid. The next expected sequenceToken is: %s"
                           % stream["token"], extra={"expectedSequenceToken": stream["token"]})
        now = int(time.time() * 1000)
        rejected = {}
        too_old = [i for i, t in enumerate(times) if t < now - 14 * DAY_MS]
        too_new = [i for i, t in enumerate(times) if t > now + 2 * 3600 * 1000]
        if too_old:
            rejected["tooOldLogEventEndIndex"] = too_old[-1] + 1
        if too_new:
            rejected["tooNewLogEventStartIndex"] = too_new[0]
        skip = set(too_old) | set(too_new)
        for i, e in enumerate(events):
            if i not in skip:
                stream["events"].append({"timestamp": e["timestamp"], "message": e["message"], "ingestionTime": now})
        st.stats["rejected"] += len(skip)
        st.stats["puts"].append({"group": body["logGroupName"], "stream": name, "events": len(events),
                                 "bytes": total, "sequenceToken": body.get("sequenceToken")})
        stream["seq"] += 1
        stream["token"] = str(stream["seq"])
        out = {"nextSequenceToken": stream["token"]}
        if rejected:
            out["rejectedLogEventsInfo"] = rejected
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--keys", required=True)
    ap.add_argument("--region", default="eu-west-1")
    ap.add_argument("--group", action="append", default=[], help="a log group that exists from the start")
    ap.add_argument("--stream", action="append", default=[], help="GROUP:STREAM that exists from the start")
    ap.add_argument("--page-size", type=int, default=50, help="Describe* results per page")
    ap.add_argument("--max-event-size", type=int, default=1048576, help="bytes, with the 26 of the header")
    args = ap.parse_args()
    serve(Handler, State(args), args.port, args.port_file)


if __name__ == "__main__":
    main()

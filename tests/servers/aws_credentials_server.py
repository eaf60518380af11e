#!/usr/bin/env python3
"""Stands in for the places AWS credentials come from (python3 stdlib only):

  POST /                    STS AssumeRoleWithWebIdentity (form body), its XML answer; the role
                            and the web identity token must be the expected ones
  GET  /creds               the container credentials endpoint (ECS, EKS Pod Identity): JSON;
                            the Authorization header must be the expected token
  PUT  /latest/api/token    IMDSv2 session token, then
  GET  /latest/meta-data/iam/security-credentials/[ROLE]   the instance profile's role and JSON

Each answer hands out the next credentials of --keys (a JSON list of [key id, secret, token]),
expiring --expires-in seconds later. GET /_control/stats counts the calls.

Usage: aws_credentials_server.py --port-file F --keys K [--role-arn A --web-identity-token T]
                                 [--container-token T] [--expires-in 3600]
"""
import argparse
import datetime
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import port_file

IMDS_ROLE = "sluice-test-role"
IMDS_SESSION = "imds-session-token"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def next_credentials(self, kind):
        srv = self.server
        with srv.lock:
            key = srv.keys[srv.issued % len(srv.keys)]
            srv.issued += 1
            srv.stats[kind] += 1
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=srv.args.expires_in)
        return key, expires.strftime("%Y-%m-%dT%H:%M:%SZ")

    def credentials_json(self, kind):
        (key_id, secret, token), expiration = self.next_credentials(kind)
        return json.dumps({"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": key_id,
                           "SecretAccessKey": secret, "Token": token, "Expiration": expiration})

    def sts_error(self, code, message):
        self.reply(400, "<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
                        "</ErrorResponse>" % (code, message), "text/xml")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode(), keep_blank_values=True)
        arg = lambda k: form.get(k, [""])[0]
        args = self.server.args
        if arg("Action") != "AssumeRoleWithWebIdentity" or arg("Version") != "2011-06-15":
            return self.sts_error("InvalidAction", "unexpected action")
        if arg("RoleArn") != args.role_arn:
            return self.sts_error("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
        if arg("WebIdentityToken") != args.web_identity_token:
            return self.sts_error("InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider")
        (key_id, secret, token), expiration = self.next_credentials("sts")
        with self.server.lock:
            self.server.stats["session_names"].append(arg("RoleSessionName"))
        self.reply(200, """<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:logging:sluice</SubjectFromWebIdentityToken>
    <AssumedRoleUser>
      <Arn>%s/%s</Arn>
      <AssumedRoleId>AROATEST:%s</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>%s</SessionToken>
      <SecretAccessKey>%s</SecretAccessKey>
      <Expiration>%s</Expiration>
      <AccessKeyId>%s</AccessKeyId>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>""" % (args.role_arn, arg("RoleSessionName"), arg("RoleSessionName"), token,
                                            secret, expiration, key_id), "text/xml")

    def do_PUT(self):
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(200, IMDS_SESSION, "text/plain")
        self.reply(400, "", "text/plain")

    def do_GET(self):
        if self.path == "/_control/stats":
            with self.server.lock:
                return self.reply(200, json.dumps(self.server.stats))
        if self.path == "/creds":
            if self.headers.get("Authorization") != self.server.args.container_token:
                return self.reply(401, '{"Message":"invalid authorization token"}')
            return self.reply(200, self.credentials_json("container"))
        if self.path.startswith("/latest/meta-data/iam/security-credentials/"):
            if self.headers.get("X-aws-ec2-metadata-token") != IMDS_SESSION:
                return self.reply(401, "", "text/plain")
            role = self.path[len("/latest/meta-data/iam/security-credentials/"):]
            if not role:
                return self.reply(200, IMDS_ROLE, "text/plain")
            if role != IMDS_ROLE:
                return self.reply(404, "", "text/plain")
            return self.reply(200, self.credentials_json("imds"))
        self.reply(404, "", "text/plain")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--keys", required=True)
    ap.add_argument("--role-arn", default="")
    ap.add_argument("--web-identity-token", default="")
    ap.add_argument("--container-token", default="")
    ap.add_argument("--expires-in", type=int, default=3600)
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.args = args
    srv.lock = threading.Lock()
    with open(args.keys) as f:
        srv.keys = json.load(f)
    srv.issued = 0
    srv.stats = {"sts": 0, "container": 0, "imds": 0, "session_names": []}
    port_file.serve(srv, args.port_file)


if __name__ == "__main__":
    main()

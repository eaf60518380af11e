"""Starts tests/servers/aws_credentials_server.py (STS, the container endpoint, IMDSv2) for the tests
of outputs that sign with AWS credentials, and what the stand-ins for AWS services share: a
server started by PID with its /_control endpoints."""
import json
import urllib.request

from harness import start_server


class AwsServer:
    """A tests/servers stand-in for an AWS service, started with `args` and a keys file of `keys`."""

    def __init__(self, test, script, keys_name, keys, args):
        keys_file = test.write(keys_name, json.dumps(list(keys)))
        self.proc, self.port = start_server(test, script, ["--keys", keys_file] + list(args))
        self.url = "http://127.0.0.1:%d" % self.port

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return json.loads(r.read())

    def control(self, **switches):
        req = urllib.request.Request(self.url + "/_control", data=json.dumps(switches).encode(), method="POST")
        urllib.request.urlopen(req, timeout=10).read()

    def stats(self):
        return self.get("/_control/stats")


class CredentialsServer:
    def __init__(self, test, keys, *args):
        keys_file = test.write("issued-keys.json", json.dumps(keys))
        self.proc, port = start_server(test, "aws_credentials_server.py", ["--keys", keys_file] + list(args))
        self.url = "http://127.0.0.1:%d" % port

    def stats(self):
        with urllib.request.urlopen(self.url + "/_control/stats", timeout=10) as r:
            return json.loads(r.read())

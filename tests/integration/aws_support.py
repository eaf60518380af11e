"""Starts tests/servers/aws_credentials_server.py (STS, the container endpoint, IMDSv2) for the tests
of outputs that sign with AWS credentials."""
import json
import urllib.request

from harness import start_server


class CredentialsServer:
    def __init__(self, test, keys, *args):
        keys_file = test.write("issued-keys.json", json.dumps(keys))
        self.proc, port = start_server(test, "aws_credentials_server.py", ["--keys", keys_file] + list(args))
        self.url = "http://127.0.0.1:%d" % port

    def stats(self):
        with urllib.request.urlopen(self.url + "/_control/stats", timeout=10) as r:
            return json.loads(r.read())

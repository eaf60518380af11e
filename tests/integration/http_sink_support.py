"""Starts tests/servers/http_sink.py by PID and reads what it received."""
import json
import os
import ssl
import subprocess
import urllib.request

from harness import ServerProcess

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../servers/http_sink.py")
MAKE_CA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../servers/make_test_ca.sh")


def make_test_ca(directory):
    """A throwaway CA and server certificate for 127.0.0.1 in `directory`, and a client certificate
    (client.crt, client.key) the CA signed; returns the directory."""
    subprocess.run(["sh", MAKE_CA, directory], check=True)
    ext = os.path.join(directory, "client.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n")
    run = lambda *args: subprocess.run(args, check=True, cwd=directory, capture_output=True)
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=sluice-client")
    run("openssl", "x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "client.crt", "-days", "2", "-extfile", ext)
    return directory


class HttpSink(ServerProcess):
    def __init__(self, workdir, *args, port=0):
        super().__init__(SERVER, workdir, args, "http_sink", port)
        self.scheme = "https" if "--tls-cert" in self.args else "http"
        self.client_cert = None  # (cert, key) for a sink started with --client-ca

    def url(self, path=""):
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, path)

    def requests(self):
        ctx = None
        if self.scheme == "https":
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            if self.client_cert:
                ctx.load_cert_chain(*self.client_cert)
        with urllib.request.urlopen(self.url("/_requests"), timeout=10, context=ctx) as r:
            return json.loads(r.read())

    def accepted(self):
        return [r for r in self.requests() if 200 <= r["status"] < 300]


def header(request, name):
    """The value of the first header field `name` (case-insensitive) of a recorded request."""
    for k, v in request["headers"]:
        if k.lower() == name.lower():
            return v
    return None

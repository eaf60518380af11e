"""Starts tests/servers/es_server.py by PID and talks to its control endpoint."""
import json
import os
import ssl
import urllib.request

from harness import ServerProcess

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../servers/es_server.py")


class EsServer(ServerProcess):
    def __init__(self, workdir, *args, port=0):
        super().__init__(SERVER, workdir, args, "es_server", port)
        self.scheme = "https" if "--tls-cert" in self.args else "http"
        self.ca = None

    def _url(self, path):
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, path)

    def _ctx(self):
        if self.scheme != "https":
            return None
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def get(self, path):
        with urllib.request.urlopen(self._url(path), timeout=10, context=self._ctx()) as r:
            return json.loads(r.read())

    def control(self, **switches):
        req = urllib.request.Request(self._url("/_control"), data=json.dumps(switches).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=10, context=self._ctx()) as r:
            return json.loads(r.read())

    def docs(self):
        return self.get("/_control/docs")

    def all_sources(self):
        return [d["_source"] for docs in self.docs().values() for d in docs]

    def requests(self):
        return self.get("/_control/requests")

    def stats(self):
        return self.get("/_control/stats")


def es_match(port, extra="", buffer="", index="", type="elasticsearch"):
    return """
<match **>
  @type %s
  host 127.0.0.1
  port %d
  request_timeout 3s
  %s
  <buffer>
    flush_interval 0.2
    retry_wait 0.2
    retry_max_interval 1
    retry_forever true
    %s
  </buffer>
</match>
""" % (type, port, extra, buffer)

"""What the HTTP test servers share (python3 stdlib only): a quiet request handler that reads
whole bodies, and a threading server on 127.0.0.1, optionally TLS, whose port is written to a
file (through a rename) once it listens, for the test that started it."""
import json
import os
import ssl
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class BodyTooLarge(Exception):
    pass


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    max_body = 256 << 20

    def log_message(self, fmt, *args):  # quiet
        pass

    @property
    def st(self):
        """The server's state object (serve's `state`)."""
        return self.server.state

    def apply_control(self, body):
        """POST /_control (switches as a JSON object) or /_control/reset, for a state with
        `lock`, `switches` and `reset()`: the switches after."""
        st = self.st
        with st.lock:
            if self.path == "/_control/reset":
                st.reset()
            else:
                st.switches.update(json.loads(body or b"{}"))
            return dict(st.switches)

    def read_body(self):
        """The request body (Content-Length or chunked); BodyTooLarge past max_body."""
        n = int(self.headers.get("Content-Length") or 0)
        if n > self.max_body:
            raise BodyTooLarge("request body too large")
        body = self.rfile.read(n) if n else b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                if len(body) + size > self.max_body:
                    raise BodyTooLarge("request body too large")
                body += self.rfile.read(size)
                self.rfile.readline()
        return body


def serve(handler, state, port=0, port_file=None, tls_cert=None, tls_key=None, banner=None, client_ca=None):
    """Serves until killed; `state` is handler.st. With client_ca (TLS), clients must present a
    certificate it signed."""

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 128

    srv = Server(("127.0.0.1", port), handler)
    srv.state = state
    if tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls_cert, tls_key)
        if client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(client_ca)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    port = srv.server_address[1]
    if port_file:
        tmp = port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.rename(tmp, port_file)
    if banner:
        print(banner % port, flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass

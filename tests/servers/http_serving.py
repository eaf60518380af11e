"""What the HTTP test servers share: a threaded server on 127.0.0.1, optionally TLS, whose port is
written to a file (atomically) for the test that started it."""
import os
import ssl
from http.server import ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def serve(handler, state, args, banner):
    """Serves `handler` with `server.state = state` until interrupted. `args`: port, port_file,
    tls_cert, tls_key and optionally client_ca (argparse names: with it, clients must present a
    certificate it signed); `banner` is printed with the port."""
    srv = Server(("127.0.0.1", args.port), handler)
    srv.state = state
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        if getattr(args, "client_ca", None):
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args.client_ca)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.rename(tmp, args.port_file)
    print("%s listening on 127.0.0.1:%d" % (banner, port), flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass

"""How the test servers tell a test where they listen: the port, written to a file atomically
(the test waits for the file), then serving until killed."""
import os


def serve(srv, port_file):
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, port_file)
    srv.serve_forever(poll_interval=0.1)

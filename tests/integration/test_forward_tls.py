"""The forward protocol over TLS, with certificates made by the openssl command.
out_forward `transport tls` against a TLS forward server (Python's ssl module serving the test
receiver of test_forward.py): trust, refusal of an untrusted server, insecure mode, the
<security> handshake inside TLS. in_forward `<transport tls>` against a client using Python's
ssl module, a plain client on the TLS port, and sluice to sluice with client certificates.
Configuration mistakes on both sides."""
import os
import socket
import ssl
import subprocess

from test_forward import Receiver, forward_conf, free_port, msgpack, start_tail_to_forward
from test_forward_security import KEY, SecureReceiver

import harness


def make_cert(test, name):
    """A self-signed certificate for DNS name `name` (and its key), as PEM files."""
    cert, key = test.path(name + ".crt"), test.path(name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=DNS:" + name], check=True, capture_output=True)
    return cert, key


def server_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


class ForwardTlsTest(harness.SluiceTestCase):
    def test_chunks_over_tls_to_a_trusted_server(self):
        cert, key = make_cert(self, "aggregator.test")
        recv = Receiver("ack", tls=server_context(cert, key))
        try:
            s, _ = start_tail_to_forward(self, [recv.port], 200,
                                         extra="  transport tls\n  tls_cert_path %s" % cert)
            self.assertEqual(recv.wait_messages(200), ["line %04d" % i for i in range(200)])
            self.assertEqual(recv.errors, [])
            self.assertIn("TLSv1.2", recv.tls_versions)  # Fluentd's default tls_version
            self.assertEqual(s.stop(), 0)
            self.assertEqual(recv.ragged_tls_ends, 0)  # every connection ended with close_notify
        finally:
            recv.stop()

    def test_the_security_handshake_inside_tls_with_zstd_and_keepalive(self):
        cert, key = make_cert(self, "aggregator.test")
        recv = SecureReceiver(KEY, users={"alice": "pa55word"})
        recv.tls = server_context(cert, key)
        recv.compressed = "zstd"
        try:
            s, _ = start_tail_to_forward(
                self, [recv.port], 50,
                extra="  transport tls\n  tls_version TLSv1_3\n  tls_cert_path %s\n  compress zstd\n  keepalive true\n"
                      "  <security>\n    self_hostname node-a.test\n    shared_key %s\n  </security>" % (cert, KEY),
                server_extra="    username alice\n    password pa55word")
            self.assertEqual(recv.wait_messages(50), ["line %04d" % i for i in range(50)])
            self.assertIn(("node-a.test", "alice"), recv.pings)
            self.assertIn("TLSv1.3", recv.tls_versions)
            # keepalive: TLS and the forward handshake once per connection, not per chunk.
            with recv.lock:
                self.assertLess(len(recv.pings), len(recv.frames))
                self.assertEqual(len(recv.pings), len(set(recv.frame_connections)))
            self.assertEqual(s.stop(), 0)
        finally:
            recv.stop()

    def test_an_untrusted_server_gets_nothing_unless_insecure_mode(self):
        cert, key = make_cert(self, "aggregator.test")
        recv = Receiver("ack", tls=server_context(cert, key))
        try:
            # The system's store does not hold this certificate.
            s, _ = start_tail_to_forward(self, [recv.port], 20, extra="  transport tls")
            s.wait_until(lambda: "certificate verify failed: self-signed certificate" in s.stderr(), 10,
                         "the refusal in the log")
            self.assertEqual(recv.frames, [])
            s.kill()
            s, _ = start_tail_to_forward(self, [recv.port], 20,
                                         extra="  transport tls\n  tls_insecure_mode true")
            self.assertEqual(recv.wait_messages(20), ["line %04d" % i for i in range(20)])
            self.assertEqual(s.stop(), 0)
        finally:
            recv.stop()

    def test_a_plain_server_fails_the_tls_handshake(self):
        recv = Receiver("ack")
        try:
            s, _ = start_tail_to_forward(self, [recv.port], 20, extra="  transport tls\n  tls_insecure_mode true")
            s.wait_until(lambda: "in the TLS handshake" in s.stderr() or "TLS error" in s.stderr(), 15,
                         "a TLS failure in the log")
            self.assertEqual(recv.frames, [])
            s.kill()
        finally:
            recv.stop()

    def test_configuration_mistakes_name_their_line(self):
        for extra, message in [
                ("  transport tls\n  tls_cert_path /nonexistent/ca.pem",
                 "cannot read the CA certificates in /nonexistent/ca.pem: No such file or directory"),
                ("  transport tls\n  tls_version SSLv3", "unknown TLS version 'SSLv3'"),
                ("  transport tls\n  tls_client_cert_path /nonexistent/c.pem",
                 "tls_client_cert_path and tls_client_private_key_path go together")]:
            conf = self.config("""
<source>
  @type forward
  port 24224
</source>
<match **>
  @type forward
%s
  tls_client_private_key_passphrase do-not-print-me
  <server>
    host 127.0.0.1
  </server>
</match>
""" % extra)
            r = harness.run(["--dry-run", "-c", conf], timeout=10)
            err = harness.text(r.stderr)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(conf + ":8: forward: transport tls: " + message, err)  # the transport line
            self.assertNotIn("do-not-print-me", err)



class ForwardInputTlsTest(harness.SluiceTestCase):
    def start_tls_input(self, transport_extra="", extra=""):
        cert, key = make_cert(self, "aggregator.test")
        port = free_port()
        transport = "<transport tls>\n    cert_path %s\n    private_key_path %s\n%s\n  </transport>" % (
            cert, key, transport_extra)
        s = self.start(["-c", forward_conf(self, port, transport + "\n" + extra)])
        return s, port, cert

    def tls_client(self, port, cert):
        ctx = ssl.create_default_context(cafile=cert)
        raw = socket.create_connection(("127.0.0.1", port))
        conn = ctx.wrap_socket(raw, server_hostname="aggregator.test")
        conn.settimeout(10)
        return conn

    def test_events_and_acks_over_tls(self):
        s, port, cert = self.start_tls_input()
        conn = self.tls_client(port, cert)
        entries = b"".join(msgpack.packb([1714564800 + i, {"n": i}]) for i in range(20))
        conn.sendall(msgpack.packb(["secure.app", entries, {"size": 20, "chunk": "c1"}]))
        self.assertEqual(msgpack.unpackb(conn.recv(100), raw=False), {"ack": "c1"})
        conn.close()
        recs = s.wait_records(20)
        self.assertEqual(sorted(r["n"] for _, _, r in recs), list(range(20)))
        self.assertEqual({tag for _, tag, _ in recs}, {"secure.app"})
        self.assertEqual(s.stop(), 0)

    def test_a_plain_client_on_the_tls_port_is_refused_and_others_go_on(self):
        s, port, cert = self.start_tls_input()
        plain = socket.create_connection(("127.0.0.1", port))
        plain.sendall(msgpack.packb(["plain.app", [[1714564800, {"n": 1}]]]))
        s.wait_until(lambda: "the client does not speak TLS, which <transport tls> expects" in s.stderr(), 10,
                     "the refusal in the log")
        plain.close()
        conn = self.tls_client(port, cert)
        conn.sendall(msgpack.packb(["secure.app", [[1714564800, {"n": 2}]]]))
        recs = s.wait_records(1)
        self.assertEqual([(tag, r) for _, tag, r in recs], [("secure.app", {"n": 2})])
        conn.close()
        self.assertEqual(s.stop(), 0)

    def test_sluice_to_sluice_with_client_certificates_and_security(self):
        client_cert, client_key = make_cert(self, "node-a.test")
        security = "  <security>\n    self_hostname aggregator.test\n    shared_key %s\n  </security>" % KEY
        aggregator, port, cert = self.start_tls_input(
            "    client_cert_auth true\n    ca_path %s" % client_cert, security)
        tls = "  transport tls\n  tls_cert_path %s\n  tls_verify_hostname false\n" % cert
        node, _ = start_tail_to_forward(
            self, [port], 40,
            extra=tls + "  tls_client_cert_path %s\n  tls_client_private_key_path %s\n"
                        "  <security>\n    self_hostname node-a.test\n    shared_key %s\n  </security>"
                  % (client_cert, client_key, KEY))
        recs = aggregator.wait_records(40)
        self.assertEqual(sorted(r["message"] for _, _, r in recs), ["line %04d" % i for i in range(40)])
        self.assertEqual(node.stop(), 0)
        # Without a client certificate the aggregator refuses the TLS handshake.
        os.remove(self.path("pos"))
        stranger, _ = start_tail_to_forward(self, [port], 40, extra=tls)
        aggregator.wait_until(lambda: "TLS handshake failed: " in aggregator.stderr(), 10, "the refusal")
        self.assertIn("certificate", aggregator.stderr().split("TLS handshake failed: ")[1].split("\n")[0])
        self.assertEqual(len(aggregator.records()), 40)
        stranger.kill()
        self.assertEqual(aggregator.stop(), 0)

    def test_configuration_mistakes_name_their_line(self):
        cert, key = make_cert(self, "aggregator.test")
        for transport, message in [
                ("    cert_path %s" % cert, "<transport tls> needs cert_path and private_key_path"),
                ("    cert_path %s\n    private_key_path %s\n    client_cert_auth true" % (cert, key),
                 "<transport tls> client_cert_auth needs ca_path"),
                ("    generate_cert_country US", "<transport tls> generate_cert_country is not supported: "
                                                 "sluice does not generate certificates"),
                ("    cert_pth %s" % cert, "unknown <transport tls> parameter 'cert_pth'"),
                ("    cert_path %s\n    private_key_path %s\n    private_key_passphrase do-not-print-me" % (key, cert),
                 "<transport tls>: cannot read the certificate")]:
            conf = self.config("<source>\n  @type forward\n  port %d\n  <transport tls>\n%s\n  </transport>\n"
                               "</source>\n" % (free_port(), transport), name="bad-in.conf")
            r = harness.run(["-c", conf, "--dry-run"], timeout=10)
            err = harness.text(r.stderr)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(conf + ":", err)
            self.assertIn("forward: " + message, err)
            self.assertNotIn("do-not-print-me", err)


if __name__ == "__main__":
    harness.main()

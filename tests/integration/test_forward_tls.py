"""out_forward with `transport tls` against a TLS forward server (Python's ssl module serving
the test receiver of test_forward.py), with certificates made by the openssl command: trust,
refusal of an untrusted server, insecure mode, the <security> handshake inside TLS, and
configuration mistakes."""
import ssl
import subprocess

from test_forward import Receiver, start_tail_to_forward
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
        finally:
            recv.stop()

    def test_the_security_handshake_inside_tls_with_zstd(self):
        cert, key = make_cert(self, "aggregator.test")
        recv = SecureReceiver(KEY, users={"alice": "pa55word"})
        recv.tls = server_context(cert, key)
        recv.compressed = "zstd"
        try:
            s, _ = start_tail_to_forward(
                self, [recv.port], 50,
                extra="  transport tls\n  tls_version TLSv1_3\n  tls_cert_path %s\n  compress zstd\n"
                      "  <security>\n    self_hostname node-a.test\n    shared_key %s\n  </security>" % (cert, KEY),
                server_extra="    username alice\n    password pa55word")
            self.assertEqual(recv.wait_messages(50), ["line %04d" % i for i in range(50)])
            self.assertIn(("node-a.test", "alice"), recv.pings)
            self.assertIn("TLSv1.3", recv.tls_versions)
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


if __name__ == "__main__":
    harness.main()

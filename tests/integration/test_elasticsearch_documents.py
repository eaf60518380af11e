"""tail -> elasticsearch with the real binary: the same action lines and documents as
fluent-plugin-elasticsearch 5.2.5 (shared/reference/fluentd-observed.md §3.1), auth, gzip, TLS."""
import gzip
import json
import os
import subprocess

from es_support import EsServer, es_match
from harness import SluiceTestCase, main, run

LINES = ("2024-05-01T12:00:00.25Z stdout F line 0\n"
         "2024-05-01T12:00:01Z stdout F line 1\n"
         "2024-04-30T23:59:59.5Z stderr F line 2\n")

SOURCE = """
<source>
  @type tail
  path %(log)s
  pos_file %(dir)s/tail.pos
  read_from_head true
  tag kubernetes.*
  <parse>
    @type regexp
    expression /^(?<time>.+) (?<stream>stdout|stderr) (?<logtag>[^ ]*) (?<log>.*)$/
    time_format %%Y-%%m-%%dT%%H:%%M:%%S.%%N%%:z
  </parse>
</source>
"""


class DocumentsTest(SluiceTestCase):
    def run_once(self, version, extra, server_args=(), lines=LINES, nrequests=2):
        es = EsServer(self.dir, "--version", version, *server_args).start()
        self.addCleanup(es.stop)
        log = self.write("app.log", lines)
        conf = self.config(SOURCE % {"log": log, "dir": self.dir} + es_match(es.port, extra))
        p = self.start(["-c", conf])
        p.wait_until(lambda: len(es.requests()) >= nrequests, 15, "bulk requests")
        p.stop()
        return es, log

    def expected(self, log, action_extra):
        tag = "kubernetes" + log.replace("/", ".")
        doc = '{"stream":"%s","logtag":"F","log":"line %d","@timestamp":"%s","tag":"' + tag + '"}\n'
        a1 = '{"index":{"_index":"logstash-2024.05.01"%s}}\n' % action_extra
        a2 = '{"index":{"_index":"logstash-2024.04.30"%s}}\n' % action_extra
        return [a1 + doc % ("stdout", 0, "2024-05-01T12:00:00.250000000+00:00")
                + a1 + doc % ("stdout", 1, "2024-05-01T12:00:01.000000000+00:00"),
                a2 + doc % ("stderr", 2, "2024-04-30T23:59:59.500000000+00:00")]

    def test_es7_suppress_type_name_gives_type_null_and_one_post_per_index(self):
        es, log = self.run_once("7.17.0", "logstash_format true\n  include_tag_key true\n  suppress_type_name true")
        reqs = es.requests()
        self.assertEqual([r["body"] for r in reqs], self.expected(log, ',"_type":null'))
        self.assertEqual(reqs[0]["path"], "/_bulk")
        self.assertEqual(reqs[0]["headers"]["Content-Type"], "application/x-ndjson")
        self.assertNotIn("Content-Encoding", reqs[0]["headers"])

    def test_es7_type_doc(self):
        es, log = self.run_once("7.10.2", "logstash_format true\n  include_tag_key true\n  type_name fluentd")
        self.assertEqual([r["body"] for r in es.requests()], self.expected(log, ',"_type":"_doc"'))

    def test_es8_no_type(self):
        es, log = self.run_once("8.13.0", "logstash_format true\n  include_tag_key true\n  suppress_type_name true")
        self.assertEqual([r["body"] for r in es.requests()], self.expected(log, ""))

    def test_index_name_id_key_remove_keys_target_index_create(self):
        lines = ('{"id":"a1","idx":"Custom-IDX","drop":1,"keep":true}\n'
                 '{"id":"a2","drop":2,"keep":false}\n'
                 '{"drop":3}\n')
        es = EsServer(self.dir, "--version", "8.13.0").start()
        self.addCleanup(es.stop)
        log = self.write("j.log", lines)
        conf = self.config("""
<source>
  @type tail
  path %s
  pos_file %s/p.pos
  read_from_head true
  tag app
  <parse>
    @type json
  </parse>
</source>
""" % (log, self.dir) + es_match(es.port, "index_name App-${tag}\n  id_key id\n  remove_keys drop\n"
                                         "  target_index_key idx\n  write_operation create"))
        p = self.start(["-c", conf])
        p.wait_until(lambda: sum(len(v) for v in es.docs().values()) >= 2, 15, "documents")
        p.stop()
        body = "".join(r["body"] for r in es.requests())
        self.assertIn('{"create":{"_index":"custom-idx","_id":"a1"}}\n{"id":"a1","keep":true}\n', body)
        self.assertIn('{"create":{"_index":"app-app","_id":"a2"}}\n{"id":"a2","keep":false}\n', body)
        self.assertEqual(body.count("create"), 2)  # the record without an id is not sent

    def test_basic_auth_and_gzip(self):
        es, log = self.run_once("8.13.0", "logstash_format true\n  user elastic\n  password s3cret\n"
                                          "  compression_level best_speed",
                                server_args=("--user", "elastic", "--password", "s3cret"))
        reqs = es.requests()
        self.assertEqual(len(reqs), 2)
        self.assertEqual(reqs[0]["headers"].get("Content-Encoding"), "gzip")
        self.assertEqual(sum(len(v) for v in es.docs().values()), 3)
        self.assertEqual(es.stats()["auth_failures"], 0)

    def test_api_key(self):
        es, log = self.run_once("8.13.0", "logstash_format true\n  api_key id:secret",
                                server_args=("--api-key", "id:secret"))
        self.assertEqual(sum(len(v) for v in es.docs().values()), 3)

    def test_tls_with_ca_file(self):
        d = self.dir
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                            "-keyout", d + "/key.pem", "-out", d + "/cert.pem", "-subj", "/CN=127.0.0.1",
                            "-addext", "subjectAltName=IP:127.0.0.1"], capture_output=True)
        if r.returncode != 0:
            self.skipTest("openssl cannot make a certificate: %s" % r.stderr[-200:])
        es = EsServer(self.dir, "--tls-cert", d + "/cert.pem", "--tls-key", d + "/key.pem").start()
        self.addCleanup(es.stop)
        log = self.write("app.log", LINES)
        conf = self.config(SOURCE % {"log": log, "dir": self.dir} + es_match(
            es.port, "scheme https\n  ca_file %s/cert.pem\n  logstash_format true" % d))
        p = self.start(["-c", conf])
        p.wait_until(lambda: len(es.requests()) >= 2, 15, "bulk requests over TLS")
        p.stop()
        # elasticsearch_tls.rb offers TLS 1.2 to 1.3 by default: the server picks 1.3.
        self.assertEqual({r["tls_version"] for r in es.requests()}, {"TLSv1.3"})

        # ssl_min_version and ssl_max_version set the range, both or neither.
        pinned = self.config(SOURCE % {"log": log, "dir": self.dir} + es_match(
            es.port, "scheme https\n  ca_file %s/cert.pem\n  ssl_min_version TLSv1_2\n  ssl_max_version TLSv1_2" % d),
            "pinned.conf")
        os.remove(os.path.join(self.dir, "tail.pos"))
        before = len(es.requests())
        p = self.start(["-c", pinned])
        p.wait_until(lambda: len(es.requests()) > before, 15, "bulk requests over TLS 1.2")
        p.stop()
        self.assertEqual({r["tls_version"] for r in es.requests()[before:]}, {"TLSv1.2"})
        half = self.config(SOURCE % {"log": log, "dir": self.dir} + es_match(
            es.port, "scheme https\n  ssl_min_version TLSv1_2"), "half.conf")
        r = run(["--dry-run", "-c", half])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("When you set 'ssl_min_version', must set 'ssl_max_version' together.", r.stderr.decode())


if __name__ == "__main__":
    main()

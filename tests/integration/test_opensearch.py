"""tail -> `@type opensearch` (fluent-plugin-opensearch 1.1.5's parameters) with the real binary,
against the test server answering as OpenSearch: the action line follows the server's major
version, rejected documents follow emit_error_label_event, configuration errors name their line."""
import json
import os

from es_support import EsServer, es_match
from harness import SluiceTestCase, main, run

LINES = ("2024-05-01T12:00:00.25Z stdout F line 0\n"
         "2024-05-01T12:00:01Z stdout F line 1\n")

SOURCE = """
<source>
  @type tail
  path %(log)s
  pos_file %(dir)s/tail.pos
  read_from_head true
  tag %(tag)s
  <parse>
    @type %(parser)s
  </parse>
</source>
"""


class OpenSearchTest(SluiceTestCase):
    def source(self, log, parser="cri", tag="app"):
        return SOURCE % {"log": log, "dir": self.dir, "parser": parser, "tag": tag}

    def run_once(self, version, extra):
        server = EsServer(self.dir, "--distribution", "opensearch", "--version", version).start()
        self.addCleanup(server.stop)
        log = self.write("app.log", LINES)
        conf = self.config(self.source(log) + es_match(server.port, extra, type="opensearch"))
        p = self.start(["-c", conf])
        p.wait_until(lambda: len(server.all_sources()) >= 2, 15, "2 documents")
        self.assertEqual(p.stop(), 0)
        return server, p.stderr()

    def action_lines(self, server):
        return [line for r in server.requests() for line in r["body"].splitlines() if line.startswith('{"index"')]

    def test_opensearch2_action_lines_have_no_type(self):
        server, stderr = self.run_once("2.11.1", "logstash_format true")
        self.assertEqual(self.action_lines(server), ['{"index":{"_index":"logstash-2024.05.01"}}'] * 2)
        docs = server.all_sources()
        self.assertEqual([d["message"] for d in docs], ["line 0", "line 1"])
        self.assertEqual(docs[0]["@timestamp"], "2024-05-01T12:00:00.250000000+00:00")
        self.assertIn("Connection opened to OpenSearch cluster", stderr)
        # Elasticsearch's product check is not OpenSearch's business.
        self.assertNotIn("X-elastic-product", stderr)

    def test_opensearch1_action_lines_have_type_doc(self):
        server, _ = self.run_once("1.3.14", "index_name Logs")
        self.assertEqual(self.action_lines(server), ['{"index":{"_index":"logs","_type":"_doc"}}'] * 2)

    def test_opensearch1_suppress_type_name_leaves_type_out(self):
        server, _ = self.run_once("1.3.14", "index_name logs\n  suppress_type_name true")
        self.assertEqual(self.action_lines(server), ['{"index":{"_index":"logs"}}'] * 2)

    def test_without_version_check_the_default_is_opensearch_1(self):
        server, _ = self.run_once("2.11.1", "verify_os_version_at_startup false\n  default_opensearch_version 2")
        self.assertEqual(self.action_lines(server), ['{"index":{"_index":"fluentd"}}'] * 2)
        self.assertEqual(server.stats()["get_root"], 0)

    def rejected_run(self, extra):
        server = EsServer(self.dir, "--distribution", "opensearch", "--version", "2.11.1",
                          "--mapping-conflicts").start()
        self.addCleanup(server.stop)
        log = self.write("j.log", '{"seq":1,"v":2}\n{"seq":2,"v":"text"}\n')
        dead = self.path("dead.ndjson")
        conf = self.config(self.source(log, "json", "j") + es_match(
            server.port, "index_name t\n  dead_letter_path %s\n  %s" % (dead, extra), type="opensearch") + """
<label @ERROR>
  <match **>
    @type file
    path %s/error
    append true
    <format>
      @type json
    </format>
    <buffer []>
      flush_mode immediate
    </buffer>
  </match>
</label>
""" % self.dir)
        p = self.start(["-c", conf])
        p.wait_until(lambda: len(server.all_sources()) >= 1, 15, "the accepted document")
        return server, p, dead

    def test_rejected_documents_go_to_the_error_label(self):
        server, p, dead = self.rejected_run("log_os_400_reason true")
        error_file = self.path("error.log")
        p.wait_until(lambda: os.path.exists(error_file) and os.path.getsize(error_file) > 0, 15, "@ERROR record")
        p.stop()
        with open(error_file) as f:
            self.assertEqual([json.loads(l) for l in f], [{"seq": 2, "v": "text"}])
        self.assertFalse(os.path.exists(dead))
        self.assertIn("Rejected by OpenSearch", p.stderr())

    def test_emit_error_label_event_false_writes_the_dead_letter_file(self):
        server, p, dead = self.rejected_run("emit_error_label_event false")
        p.wait_until(lambda: os.path.exists(dead) and os.path.getsize(dead) > 0, 15, "dead letter")
        p.stop()
        with open(dead) as f:
            letters = [json.loads(l) for l in f]
        self.assertEqual([d["record"] for d in letters], [{"seq": 2, "v": "text"}])
        self.assertEqual(letters[0]["error"]["type"], "mapper_parsing_exception")
        self.assertFalse(os.path.exists(self.path("error.log")))
        self.assertEqual([d["seq"] for d in server.all_sources()], [1])

    def test_configuration_errors(self):
        conf = self.config("""
<match **>
  @type opensearch
  host 127.0.0.1
  type_name fluentd
  verify_es_version_at_startup false
  <endpoint>
    url https://search-domain.eu-west-1.es.amazonaws.com
    region eu-west-1
    assume_role_arn arn:aws:iam::123456789012:role/logs
    secret_access_key only-half-of-a-key-pair
  </endpoint>
</match>
""")
        r = run(["--dry-run", "-c", conf])
        err = r.stderr.decode()
        self.assertNotEqual(r.returncode, 0)
        # Elasticsearch's parameter names are not fluent-plugin-opensearch's.
        self.assertIn("fluent.conf:5: unknown parameter 'type_name'", err)
        self.assertIn("fluent.conf:6: unknown parameter 'verify_es_version_at_startup'", err)
        self.assertIn("did you mean 'verify_os_version_at_startup'", err)
        self.assertIn("fluent.conf:7: <endpoint> needs both access_key_id and secret_access_key, or neither", err)
        self.assertNotIn("only-half-of-a-key-pair", err)


if __name__ == "__main__":
    main()

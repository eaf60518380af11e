"""tail -> `@type elasticsearch_data_stream` / `opensearch_data_stream` with the real binary: the
stream, its index template and ILM policy set up before the first document (and not again when
they exist), `create` action lines with @timestamp into /<stream>/_bulk, names from ${tag}, and
configuration errors as out_elasticsearch_data_stream.rb words them."""
import json
import os

from es_support import EsServer, es_match
from harness import SluiceTestCase, main, run, tail_source

LINES = ("2024-05-01T12:00:00.25Z stdout F line 0\n"
         "2024-05-01T12:00:01Z stdout F line 1\n"
         "2024-04-30T23:59:59.5Z stderr F line 2\n")



class DataStreamTest(SluiceTestCase):
    def source(self, log, tag="app"):
        return tail_source(log, self.path("tail.pos"), tag)

    def server(self, *args):
        es = EsServer(self.dir, *args).start()
        self.addCleanup(es.stop)
        return es

    def ship(self, es, extra, type="elasticsearch_data_stream", tag="app", lines=LINES, name="fluent.conf",
             ndocs=3):
        log = self.write(name + ".log", lines)
        conf = self.config(self.source(log, tag) +
                           es_match(es.port, extra, type=type), name)
        p = self.start(["-c", conf])
        p.wait_until(lambda: sum(len(v) for v in es.docs().values()) >= ndocs, 15, "documents")
        p.stop()
        return p

    def streams(self, es):
        return es.get("/_control/data_streams")

    def test_stream_template_and_policy_created_then_create_lines_with_timestamp(self):
        es = self.server()
        self.ship(es, "data_stream_name logs-app-default\n  include_tag_key true")
        ds = self.streams(es)
        self.assertEqual([(c["method"], c["path"]) for c in ds["calls"]], [
            ("GET", "/_data_stream/logs-app-default"),
            ("GET", "/_index_template/logs-app-default_template"),
            ("GET", "/_ilm/policy/logs-app-default_policy"),
            ("PUT", "/_ilm/policy/logs-app-default_policy"),
            ("PUT", "/_index_template/logs-app-default_template"),
            ("PUT", "/_data_stream/logs-app-default")])
        self.assertEqual(ds["policies"]["logs-app-default_policy"], {"policy": {"phases": {"hot": {"actions": {
            "rollover": {"max_size": "50gb", "max_age": "30d"}}}}}})
        self.assertEqual(ds["templates"]["logs-app-default_template"], {
            "index_patterns": ["logs-app-default*"], "data_stream": {},
            "template": {"settings": {"index.lifecycle.name": "logs-app-default_policy"}}})
        self.assertEqual(ds["streams"], {"logs-app-default": "logs-app-default_template"})
        reqs = es.requests()
        self.assertEqual({r["path"] for r in reqs}, {"/logs-app-default/_bulk"})
        body = "".join(r["body"] for r in reqs)
        # out_elasticsearch_data_stream.rb: `{"create":{}}`, the tag set before @timestamp.
        doc = ('{"create":{}}\n{"stream":"%s","logtag":"F","message":"line %d","time":"%s","tag":"app",'
               '"@timestamp":"%s"}\n')
        self.assertEqual(body,
                         doc % ("stdout", 0, "2024-05-01T12:00:00.25Z", "2024-05-01T12:00:00.250000000+00:00") +
                         doc % ("stdout", 1, "2024-05-01T12:00:01Z", "2024-05-01T12:00:01.000000000+00:00") +
                         doc % ("stderr", 2, "2024-04-30T23:59:59.5Z", "2024-04-30T23:59:59.500000000+00:00"))
        self.assertEqual(es.stats()["rejected_400"], 0)
        self.assertEqual(sorted(d["_source"]["message"] for d in es.docs()["logs-app-default"]),
                         ["line 0", "line 1", "line 2"])

        # A second run finds the stream: nothing is created again, the ids and timestamps kept.
        before = len(self.streams(es)["calls"])
        self.ship(es, "data_stream_name logs-app-default\n  id_key message", name="again.conf", ndocs=6)
        calls = self.streams(es)["calls"][before:]
        self.assertEqual([(c["method"], c["path"]) for c in calls], [("GET", "/_data_stream/logs-app-default")])
        again = [r["body"] for r in es.requests() if '"_id"' in r["body"]]
        self.assertTrue(again)
        self.assertTrue(again[0].startswith('{"create":{"_id":"line 0"}}\n{"stream":"stdout"'), again[0])

    def test_names_from_the_tag_each_stream_set_up_once(self):
        es = self.server()
        self.ship(es, "data_stream_name logs-${tag}\n  data_stream_ilm_name shared_policy", tag="web")
        self.ship(es, "data_stream_name logs-${tag}\n  data_stream_ilm_name shared_policy", tag="db",
                  name="db.conf", ndocs=6)
        ds = self.streams(es)
        self.assertEqual(ds["streams"], {"logs-web": "logs-web_template", "logs-db": "logs-db_template"})
        self.assertEqual(list(ds["policies"]), ["shared_policy"])
        self.assertEqual(ds["templates"]["logs-db_template"]["template"]["settings"]["index.lifecycle.name"],
                         "shared_policy")
        self.assertEqual(sorted(len(v) for v in es.docs().values()), [3, 3])
        self.assertEqual({r["path"] for r in es.requests()}, {"/logs-web/_bulk", "/logs-db/_bulk"})

    def test_existing_template_skips_policy_unless_overwritten(self):
        es = self.server()
        self.ship(es, "data_stream_name logs-x\n  data_stream_template_name my_template\n"
                      "  data_stream_ilm_policy {\"policy\":{\"phases\":{\"delete\":{\"min_age\":\"7d\",\"actions\":{\"delete\":{}}}}}}\n"
                      "  data_stream_ilm_policy_overwrite true\n"
                      "  data_stream_template_use_index_patterns_wildcard false")
        ds = self.streams(es)
        self.assertEqual(ds["templates"]["my_template"]["index_patterns"], ["logs-x"])
        self.assertEqual(ds["policies"]["logs-x_policy"]["policy"]["phases"]["delete"]["min_age"], "7d")
        self.assertEqual([c["method"] + " " + c["path"] for c in ds["calls"]][:3],
                         ["GET /_data_stream/logs-x", "GET /_index_template/my_template",
                          "PUT /_ilm/policy/logs-x_policy"])

    def test_sources_wait_while_the_setup_fails_then_nothing_is_lost(self):
        es = self.server()
        es.control(fail_data_stream_apis=True)
        log = self.write("late.log", LINES)
        conf = self.config(self.source(log) +
                           es_match(es.port, "data_stream_name logs-late", type="elasticsearch_data_stream"))
        p = self.start(["-c", conf])
        p.wait_until(lambda: "retrying in 2s" in p.stderr(), 15, "the second failed setup")
        self.assertIn("could not set up the data stream <logs-late> (GET /_data_stream/logs-late: HTTP 503",
                      p.stderr())
        self.assertEqual(es.requests(), [])  # the sources wait: nothing was formatted or sent
        es.control(fail_data_stream_apis=False)
        p.wait_until(lambda: len(es.docs().get("logs-late", [])) == 3, 30, "the documents once the setup passed")
        p.stop()
        self.assertEqual(self.streams(es)["streams"], {"logs-late": "logs-late_template"})

    def test_opensearch_creates_the_template_and_the_first_write_the_stream(self):
        es = self.server("--distribution", "opensearch", "--version", "2.11.0")
        self.ship(es, "data_stream_name logs-os", type="opensearch_data_stream")
        ds = self.streams(es)
        self.assertEqual([c["method"] + " " + c["path"] for c in ds["calls"]],
                         ["GET /_data_stream/logs-os", "GET /_index_template/logs-os_template",
                          "PUT /_index_template/logs-os_template"])
        self.assertEqual(ds["templates"]["logs-os_template"], {"index_patterns": ["logs-os*"], "data_stream": {}})
        self.assertEqual(len(es.docs()["logs-os"]), 3)

    def test_configuration_errors(self):
        cases = [
            ("data_stream_name Logs", "'data_stream_name' must be lowercase only: <Logs>"),
            ("data_stream_name _logs", "'data_stream_name' must not start with -,_,+,.: <_logs>"),
            ("data_stream_name logs\n  data_stream_template_name a*b",
             "'data_stream_template_name' must not contain invalid characters"),
            ("data_stream_name logs\n  data_stream_ilm_policy [1, 2]", "data_stream_ilm_policy is not a JSON object"),
            ("index_name x", "data_stream_name"),
        ]
        for extra, message in cases:
            conf = self.config(self.source("/nonexistent") +
                               es_match(9, extra, type="elasticsearch_data_stream"), "bad.conf")
            r = run(["--dry-run", "-c", conf])
            self.assertNotEqual(r.returncode, 0, extra)
            self.assertIn(message, r.stderr.decode(), extra)
            self.assertRegex(r.stderr.decode(), r"bad\.conf:\d+", extra)


if __name__ == "__main__":
    main()

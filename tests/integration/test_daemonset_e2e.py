"""The swap itself: the real fluentd-kubernetes-daemonset v1.18 elasticsearch7 configuration tree,
unchanged, run by sluice with the environment the DaemonSet gives it. Container logs in CRI format
(FLUENT_CONTAINER_TAIL_PARSER_TYPE cri) and in docker json-file format (the image's default json
parser) go through the kubernetes_metadata filter (API server from a recorded response) to an
Elasticsearch 7 test server, and the documents are the ones Fluentd would index. The OpenSearch
image's tree (fluent-plugin-opensearch) does the same against the test server speaking as
OpenSearch 2."""
import json
import os
import shutil

from es_support import EsServer
from harness import FIXTURES, SluiceTestCase, main
from test_kubernetes_metadata import CASSETTES, EXPECTED, KubeletServer

ES7_CONF = os.path.join(FIXTURES, "fluentd-k8s-daemonset/docker-image/v1.18/debian-elasticsearch7/conf")
ES8_CONF = os.path.join(FIXTURES, "fluentd-k8s-daemonset/docker-image/v1.19/debian-elasticsearch8/conf")
# The OpenSearch image's fluent.conf; the rest of its tree is the elasticsearch8 one (PROVENANCE.md).
OPENSEARCH_FLUENT_CONF = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                      "data/fluentd-k8s-daemonset/opensearch/fluent.conf")


class DaemonsetConfigTest(SluiceTestCase):
    def run_daemonset(self, lines, env_extra, conf_d=None, opensearch=False):
        """Runs the unchanged configuration tree (elasticsearch7's, or with `opensearch` the
        OpenSearch image's) on one container log file holding `lines`, with the files of `conf_d`
        (name: text) added where the image includes conf.d/*.conf; returns (the test server, the
        expected-output case, the file's path, the kubernetes map wanted)."""
        conf = self.path("conf")
        shutil.copytree(ES8_CONF if opensearch else ES7_CONF, conf)
        if opensearch:
            shutil.copyfile(OPENSEARCH_FLUENT_CONF, os.path.join(conf, "fluent.conf"))
        for name, body in (conf_d or {}).items():
            os.makedirs(os.path.join(conf, "conf.d"), exist_ok=True)
            with open(os.path.join(conf, "conf.d", name), "w") as f:
                f.write(body)
        # What the image's Dockerfile does, so FLUENTD_SYSTEMD_CONF=disable turns journald off.
        open(os.path.join(conf, "disable.conf"), "w").close()
        with open(EXPECTED) as f:
            case = {c["test"]: c for c in json.load(f)["cases"]}["with docker & kubernetes metadata"]
        os.makedirs(self.path("var/log/containers"))
        log = self.path("var/log/containers", case["tag"][len("var.log.containers."):])
        with open(log, "w", encoding="utf-8") as f:
            f.write(lines)
        api = KubeletServer(self, os.path.join(CASSETTES, "kubernetes_get_pod.yml"),
                            namespaces=os.path.join(CASSETTES, "kubernetes_get_namespace_default.yml"),
                            token="")
        server_args = ("--distribution", "opensearch", "--version", "2.11.1") if opensearch else ("--version", "7.17.9")
        es = EsServer(self.dir, *server_args).start()
        self.addCleanup(es.stop)
        pos_dir = os.path.relpath(self.dir, "/var/log")  # File.join('/var/log/', X, 'x.pos')
        env = {
            "FLUENTD_SYSTEMD_CONF": "disable",
            "FLUENTD_PROMETHEUS_BIND": "127.0.0.1", "FLUENTD_PROMETHEUS_PORT": "0",
            "FLUENT_CONTAINER_TAIL_PATH": self.path("var/log/containers", "*.log"),
            "FLUENT_POS_EXTRA_DIR": pos_dir, "FLUENT_POS_DIR": pos_dir,
            "FLUENT_FILTER_KUBERNETES_URL": api.url + "/api",
            "KUBERNETES_CA_FILE": api.ca,
            "K8S_NODE_NAME": "jimmi-redhat.localnet",
            "FLUENT_ELASTICSEARCH_HOST": "127.0.0.1",
            "FLUENT_ELASTICSEARCH_PORT": str(es.port),
            "FLUENT_ELASTICSEARCH_BUFFER_FLUSH_INTERVAL": "1s",
            "FLUENT_OPENSEARCH_HOST": "127.0.0.1",
            "FLUENT_OPENSEARCH_PORT": str(es.port),
            "FLUENT_OPENSEARCH_BUFFER_FLUSH_INTERVAL": "1s",
        }
        env.update(env_extra)
        p = self.start(["-c", os.path.join(conf, "fluent.conf")], env=env)
        p.wait_until(lambda: sum(len(d) for d in es.docs().values()) >= 2, 30, "2 documents in ES")
        self.assertEqual(p.stop(), 0, p.stderr()[-3000:])
        self.stderr = p.stderr()
        want_k = dict(case["expected_record"]["kubernetes"])
        want_k["master_url"] = api.url + "/api"
        return es, case, log, want_k

    def documents(self, es, by):
        """The documents indexed, all in the day's logstash index, sorted by the field `by`."""
        docs = es.docs()
        self.assertEqual(list(docs), ["logstash-2024.05.01"])
        return sorted((d["_source"] for d in docs["logstash-2024.05.01"]), key=lambda d: d[by])

    def assert_enriched_as_fluentd(self, doc, case, log, want_k, stream, timestamp):
        """What the configuration adds to a record: the docker and kubernetes maps of the
        kubernetes_metadata filter, then @timestamp and the tag from the Elasticsearch output."""
        self.assertEqual(doc["stream"], stream)
        self.assertEqual(doc["docker"], case["expected_record"]["docker"])
        self.assertEqual(doc["kubernetes"], want_k)
        self.assertEqual(doc["@timestamp"], timestamp)
        self.assertEqual(doc["tag"], "kubernetes" + log.replace("/", "."))

    def test_es7_daemonset_config_unchanged_end_to_end(self):
        es, case, log, want_k = self.run_daemonset(
            "2024-05-01T12:00:00.250000000Z stdout F line one\n"
            "2024-05-01T12:00:01.500000000Z stderr F line two\n",
            {"FLUENT_CONTAINER_TAIL_PARSER_TYPE": "cri"})
        got = self.documents(es, "message")
        first = got[0]
        # Fluentd's order: the parsed CRI fields, the filter's maps, then @timestamp and tag.
        self.assertEqual(list(first), ["stream", "logtag", "message", "time", "docker", "kubernetes",
                                       "@timestamp", "tag"])
        self.assertEqual(first["message"], "line one")
        self.assert_enriched_as_fluentd(first, case, log, want_k, "stdout", "2024-05-01T12:00:00.250000000+00:00")
        self.assertEqual(got[1]["stream"], "stderr")
        # The action line the plugin writes for ES 7 with suppress_type_name true.
        body = es.requests()[0]["body"]
        self.assertTrue(body.startswith('{"index":{"_index":"logstash-2024.05.01","_type":null}}\n'), body[:200])
        # Positions went where FLUENT_POS_EXTRA_DIR points, in Fluentd's format.
        with open(self.path("fluentd-containers.log.pos")) as f:
            pos = f.read()
        self.assertIn(log + "\t", pos)

    def test_opensearch_daemonset_config_unchanged_end_to_end(self):
        # The image's defaults: logstash_format false, so the index is `fluentd` and documents
        # get no @timestamp; OpenSearch 2 takes action lines without `_type`.
        es, case, log, want_k = self.run_daemonset(
            "2024-05-01T12:00:00.250000000Z stdout F line one\n"
            "2024-05-01T12:00:01.500000000Z stderr F line two\n",
            {"FLUENT_CONTAINER_TAIL_PARSER_TYPE": "cri"}, opensearch=True)
        docs = es.docs()
        self.assertEqual(list(docs), ["fluentd"])
        got = sorted((d["_source"] for d in docs["fluentd"]), key=lambda d: d["message"])
        self.assertEqual(list(got[0]), ["stream", "logtag", "message", "time", "docker", "kubernetes", "tag"])
        self.assertEqual((got[0]["message"], got[0]["stream"]), ("line one", "stdout"))
        self.assertEqual(got[0]["docker"], case["expected_record"]["docker"])
        self.assertEqual(got[0]["kubernetes"], want_k)
        self.assertEqual(got[0]["tag"], "kubernetes" + log.replace("/", "."))
        self.assertEqual((got[1]["message"], got[1]["stream"]), ("line two", "stderr"))
        body = es.requests()[0]["body"]
        self.assertTrue(body.startswith('{"index":{"_index":"fluentd"}}\n'), body[:200])
        self.assertIn("Connection opened to OpenSearch cluster", self.stderr)
        self.assertNotIn("X-elastic-product", self.stderr)

    def test_es7_daemonset_config_docker_json_file_lines(self):
        # The image's default parser: `@type json` with time_format %Y-%m-%dT%H:%M:%S.%NZ, on
        # docker json-file lines (escapes, a \u escape, raw UTF-8): the time is taken out of the
        # record, the rest goes to Elasticsearch as Fluentd would index it.
        es, case, log, want_k = self.run_daemonset(
            '{"log":"line one \\"quoted\\" caf\\u00e9 \u2192 \\\\ \\ttab\\n","stream":"stdout",'
            '"time":"2024-05-01T12:00:00.250000000Z"}\n'
            '{"log":"line two\\n","stream":"stderr","time":"2024-05-01T12:00:01.500000000Z"}\n', {})
        got = self.documents(es, "log")
        first = got[0]
        self.assertEqual(list(first), ["log", "stream", "docker", "kubernetes", "@timestamp", "tag"])
        self.assertEqual(first["log"], 'line one "quoted" caf\u00e9 \u2192 \\ \ttab\n')
        self.assert_enriched_as_fluentd(first, case, log, want_k, "stdout", "2024-05-01T12:00:00.250000000+00:00")
        self.assertEqual((got[1]["log"], got[1]["stream"]), ("line two\n", "stderr"))

    def test_es7_daemonset_config_with_a_json_parser_filter_in_conf_d(self):
        # What users add to the image most: a conf.d file that parses applications' JSON
        # messages. It runs after the kubernetes_metadata filter, so the parsed keys follow the
        # docker and kubernetes maps, as Fluentd's Hash#merge puts them.
        parse_json = """<filter kubernetes.**>
  @type parser
  key_name message
  reserve_data true
  remove_key_name_field true
  reserve_time true
  <parse>
    @type json
  </parse>
</filter>
"""
        es, case, log, want_k = self.run_daemonset(
            '2024-05-01T12:00:00.250000000Z stdout F {"level":"info","msg":"ready","port":8080,"tags":["a","b"]}\n'
            "2024-05-01T12:00:01.500000000Z stderr F plain text, not JSON\n",
            {"FLUENT_CONTAINER_TAIL_PARSER_TYPE": "cri"}, conf_d={"parse-json.conf": parse_json})
        got = self.documents(es, "@timestamp")
        parsed, plain = got
        self.assertEqual(list(parsed), ["stream", "logtag", "time", "docker", "kubernetes", "level", "msg", "port",
                                        "tags", "@timestamp", "tag"])
        self.assertEqual((parsed["level"], parsed["msg"], parsed["port"], parsed["tags"]), ("info", "ready", 8080, ["a", "b"]))
        self.assert_enriched_as_fluentd(parsed, case, log, want_k, "stdout", "2024-05-01T12:00:00.250000000+00:00")
        # Not JSON: kept as it was (reserve_data), and the log says why.
        self.assertEqual(list(plain), ["stream", "logtag", "message", "time", "docker", "kubernetes", "@timestamp", "tag"])
        self.assertEqual(plain["message"], "plain text, not JSON")
        self.assert_enriched_as_fluentd(plain, case, log, want_k, "stderr", "2024-05-01T12:00:01.500000000+00:00")
        self.assertIn("field 'message' did not parse (invalid JSON", self.stderr)
        self.assertIn('"plain text, not JSON"', self.stderr)
        self.assertIn("the record is kept unparsed", self.stderr)


if __name__ == "__main__":
    main()

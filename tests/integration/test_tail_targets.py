"""`sluice tail FILE --to TARGET` ships a file to each kind of target and exits at its end."""
import json

from harness import SluiceTestCase, cri_line, main, run, text
from kafka_support import MockKafka, available as kafka_available
from es_support import EsServer


class EsTargetTest(SluiceTestCase):
    def test_ships_a_file_to_elasticsearch_and_exits(self):
        es = EsServer(self.dir).start()
        try:
            log = self.write("a.log", "".join(cri_line(i) for i in range(30)))
            r = run(["tail", log, "--parser", "cri", "--tag", "app",
                     "--to", "es://127.0.0.1:%d/applogs" % es.port, "--exit-on-eof"], timeout=60)
            self.assertEqual(r.returncode, 0, text(r.stderr)[-2000:])
            docs = es.docs()
            self.assertEqual(list(docs), ["applogs"])
            got = [d["_source"] for d in docs["applogs"]]
            self.assertEqual(sorted(d["message"] for d in got), sorted("line %d" % i for i in range(30)))
            self.assertEqual(got[0]["tag"], "app")
            self.assertIn("@timestamp", got[0])
        finally:
            es.stop()

    def test_ships_a_file_to_opensearch_and_exits(self):
        server = EsServer(self.dir, "--distribution", "opensearch", "--version", "2.11.1").start()
        self.addCleanup(server.stop)
        log = self.write("a.log", "".join(cri_line(i) for i in range(5)))
        r = run(["tail", log, "--parser", "cri", "--tag", "app",
                 "--to", "os://127.0.0.1:%d" % server.port, "--exit-on-eof"], timeout=60)
        self.assertEqual(r.returncode, 0, text(r.stderr)[-2000:])
        # OpenSearch 2 refuses an Elasticsearch-style `_type`: every line arrived, without it.
        got = [d["_source"]["message"] for docs in server.docs().values() for d in docs]
        self.assertEqual(sorted(got), sorted("line %d" % i for i in range(5)))
        self.assertNotIn('"_type"', server.requests()[0]["body"])


class ForwardTargetTest(SluiceTestCase):
    def test_ships_a_file_to_a_forward_server_and_exits(self):
        import test_forward
        recv = test_forward.Receiver("ack")
        try:
            log = self.write("a.log", "".join(cri_line(i) for i in range(20)))
            r = run(["tail", log, "--parser", "cri", "--tag", "fw",
                     "--to", "forward://127.0.0.1:%d" % recv.port, "--exit-on-eof"], timeout=60)
            self.assertEqual(r.returncode, 0, text(r.stderr)[-2000:])
            got = recv.delivered()
            self.assertEqual(sorted(rec["message"] for _, _, rec in got),
                             sorted("line %d" % i for i in range(20)))
            self.assertEqual({tag for tag, _, _ in got}, {"fw"})
            self.assertEqual(recv.errors, [])
        finally:
            recv.stop()


class KafkaTargetTest(SluiceTestCase):
    def test_ships_a_file_to_kafka_and_exits(self):
        why = kafka_available()
        if why:
            self.fail(why)
        kafka = MockKafka(brokers=1, topics=["logs"])
        try:
            log = self.write("a.log", "".join(cri_line(i) for i in range(50)))
            r = run(["tail", log, "--parser", "cri", "--to", "kafka://%s/logs" % kafka.bootstrap,
                     "--exit-on-eof"], timeout=60)
            self.assertEqual(r.returncode, 0, text(r.stderr)[-2000:])
            msgs = kafka.consume("logs")
            values = [json.loads(m["payload"]) for m in msgs]
            self.assertEqual(sorted(v["message"] for v in values),
                             sorted("line %d" % i for i in range(50)))
            self.assertEqual(values[0]["stream"], "stdout")
        finally:
            kafka.stop()

    def test_unknown_target_is_a_usage_error(self):
        log = self.write("a.log", cri_line(1))
        r = run(["tail", log, "--to", "carrier-pigeon://x"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown --to target", text(r.stderr))


if __name__ == "__main__":
    main()

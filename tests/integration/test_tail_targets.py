"""`sluice tail FILE --to TARGET` ships a file to each kind of target and exits at its end."""
import json

from harness import SluiceTestCase, cri_line, main, run, text
from kafka_support import MockKafka, available as kafka_available


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

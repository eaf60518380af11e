"""tail -> elasticsearch delivery with the real binary: ES down then back, 503s, 429 storms,
mapping errors dead-lettered, kill -9 with memory and file buffers (nothing lost; with
deterministic ids no duplicates)."""
import json
import os
import signal
import socket
import time

from es_support import EsServer, es_match
from harness import SluiceTestCase, main


def cri(i):
    return "2024-05-01T12:00:%02d.%09dZ stdout F seq %d\n" % (i // 1000 % 60, i % 1000, i)


class DeliveryTest(SluiceTestCase):
    def source(self, log):
        return """
<source>
  @type tail
  path %s
  pos_file %s/tail.pos
  read_from_head true
  tag k.*
  pos_write_interval 0.1
  <parse>
    @type cri
  </parse>
</source>
""" % (log, self.dir)

    def seqs(self, es):
        out = []
        for s in es.all_sources():
            m = s.get("message", "")
            if m.startswith("seq "):
                out.append(int(m[4:]))
        return out

    def wait_all(self, es, p, n, timeout=20):
        p.wait_until(lambda: len(set(self.seqs(es))) >= n, timeout, "%d documents" % n)

    def test_es_down_at_start_then_back(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        log = self.write("a.log", "".join(cri(i) for i in range(300)))
        conf = self.config(self.source(log) + es_match(port, "logstash_format true"))
        p = self.start(["-c", conf])
        time.sleep(1.5)
        self.assertIn("cannot reach Elasticsearch", p.stderr())
        es = EsServer(self.dir, port=port).start()
        self.addCleanup(es.stop)
        self.wait_all(es, p, 300)
        self.assertEqual(sorted(self.seqs(es)), list(range(300)))
        p.stop()

    def test_503_then_back_and_connection_closed_mid_response(self):
        es = EsServer(self.dir, "--fail-503").start()
        self.addCleanup(es.stop)
        log = self.write("a.log", "".join(cri(i) for i in range(200)))
        conf = self.config(self.source(log) + es_match(es.port, "index_name t\n  deterministic_id true"))
        p = self.start(["-c", conf])
        p.wait_until(lambda: es.stats()["whole_503"] >= 2, 10, "503 answers")
        es.control(fail_503=False, close_mid_response=2)
        self.wait_all(es, p, 200)
        with open(log, "a") as f:
            f.write("".join(cri(i) for i in range(200, 400)))
        self.wait_all(es, p, 400)
        p.stop()
        self.assertEqual(sorted(self.seqs(es)), list(range(400)))  # deterministic ids: no duplicates
        self.assertGreaterEqual(es.stats()["closed_mid_response"], 1)

    def test_429_storm_retries_only_failed_items(self):
        es = EsServer(self.dir, "--reject-429-pct", "40").start()
        self.addCleanup(es.stop)
        log = self.write("a.log", "".join(cri(i) for i in range(1000)))
        conf = self.config(self.source(log) + es_match(es.port, "index_name t"))
        p = self.start(["-c", conf])
        self.wait_all(es, p, 1000)
        p.stop()
        seqs = self.seqs(es)
        # Server-generated ids: a resent item that had succeeded would be a second document.
        self.assertEqual(sorted(seqs), list(range(1000)))
        st = es.stats()
        self.assertGreater(st["rejected_429"], 100)
        self.assertEqual(st["created"], 1000)

    def test_mapping_errors_are_dead_lettered_rest_delivered(self):
        es = EsServer(self.dir, "--mapping-conflicts").start()
        self.addCleanup(es.stop)
        lines = []
        for i in range(100):
            v = '"text"' if i % 10 == 5 else str(i)
            lines.append('{"seq":%d,"v":%s}\n' % (i, v))
        log = self.write("j.log", "".join(lines))
        dl = self.path("dead.ndjson")
        conf = self.config("""
<source>
  @type tail
  path %s
  pos_file %s/tail.pos
  read_from_head true
  tag j
  <parse>
    @type json
  </parse>
</source>
""" % (log, self.dir) + es_match(es.port, "index_name t\n  dead_letter_path %s" % dl))
        p = self.start(["-c", conf])
        p.wait_until(lambda: os.path.exists(dl) and len(open(dl).readlines()) >= 10, 15, "dead letters")
        p.wait_until(lambda: len(es.all_sources()) >= 90, 15, "documents")
        p.stop()
        dead = [json.loads(l) for l in open(dl)]
        self.assertEqual(sorted(d["record"]["seq"] for d in dead), list(range(5, 100, 10)))
        self.assertEqual(dead[0]["status"], 400)
        self.assertEqual(dead[0]["error"]["type"], "mapper_parsing_exception")
        self.assertEqual(dead[0]["tag"], "j")
        self.assertEqual(sorted(s["seq"] for s in es.all_sources()), [i for i in range(100) if i % 10 != 5])

    def test_rejected_documents_go_to_the_error_label(self):
        # With an @ERROR label, a document Elasticsearch rejects comes back there as a record:
        # its fields with their JSON types, its tag, its @timestamp as the event time.
        es = EsServer(self.dir, "--mapping-conflicts").start()
        self.addCleanup(es.stop)
        log = self.write("j.log", '{"seq":1,"v":2}\n{"seq":5,"v":"text","ctx":{"a":[1,null]},"ok":true,"f":1.5}\n')
        conf = self.config("""
<source>
  @type tail
  path %s
  pos_file %s/tail.pos
  read_from_head true
  tag j
  <parse>
    @type json
  </parse>
</source>
""" % (log, self.dir) + es_match(es.port, "index_name t\n  include_timestamp true") + """
<label @ERROR>
  <match **>
    @type stdout
  </match>
</label>
""")
        p = self.start(["-c", conf])
        got = p.wait_records(1)
        p.stop()
        self.assertEqual(len(got), 1)
        time, tag, record = got[0]
        self.assertEqual(tag, "j")
        self.assertEqual({k: v for k, v in record.items() if k != "@timestamp"},
                         {"seq": 5, "v": "text", "ctx": {"a": [1, None]}, "ok": True, "f": 1.5})
        self.assertEqual(time.replace(" ", "T")[:19], record["@timestamp"][:19])

    def kill_during_delivery(self, buffer_extra, deterministic):
        es = EsServer(self.dir, "--delay-ms", "150").start()
        self.addCleanup(es.stop)
        n = 3000
        log = self.write("a.log", "".join(cri(i) for i in range(n)))
        extra = "index_name t" + ("\n  deterministic_id true" if deterministic else "")
        conf = self.config(self.source(log) + es_match(es.port, extra, "chunk_limit_size 8k\n    " + buffer_extra))
        p = self.start(["-c", conf])
        p.wait_until(lambda: len(es.all_sources()) >= 200, 15, "some documents")
        p.kill()
        got = len(set(self.seqs(es)))
        self.assertLess(got, n, "delivery finished before the kill; make the test slower")
        es.control(delay_ms=0)
        p2 = self.start(["-c", conf])
        self.wait_all(es, p2, n)
        p2.stop()
        return es

    def test_kill9_memory_buffer_nothing_lost_no_duplicates(self):
        es = self.kill_during_delivery("", deterministic=True)
        seqs = self.seqs(es)
        self.assertEqual(sorted(seqs), list(range(3000)))

    def test_kill9_file_buffer_nothing_lost(self):
        es = self.kill_during_delivery("@type file\n    path %s/buf" % self.dir, deterministic=True)
        self.assertEqual(sorted(self.seqs(es)), list(range(3000)))
        self.assertEqual([f for f in os.listdir(self.path("buf")) if f.endswith(".zst")], [])

    def test_kill9_memory_buffer_without_ids_loses_nothing(self):
        es = self.kill_during_delivery("", deterministic=False)
        self.assertEqual(sorted(set(self.seqs(es))), list(range(3000)))


if __name__ == "__main__":
    main()

"""`<source> @type prometheus`: the metrics endpoint serves the counters of a running pipeline and
the <metric>s of `@type prometheus` filters and outputs, and survives garbage; the daemonset's
prometheus.conf passes --dry-run."""
import os
import re
import socket
import time
import urllib.error
import urllib.request

import harness

PROMETHEUS_CONF = os.path.join(harness.FIXTURES, "fluentd-k8s-daemonset/docker-image/v1.18/"
                               "debian-elasticsearch7/conf/prometheus.conf")

CONFIG = """
<source>
  @type tail
  @id in_tail_app
  path %(d)s/logs/*.log
  tag app.*
  pos_file %(d)s/tail.pos
  refresh_interval 1
  read_from_head true
  <parse>
    @type none
  </parse>
</source>
<source>
  @type prometheus
  bind 127.0.0.1
  port 0
  metrics_path /metrics
</source>
<source>
  @type prometheus_output_monitor
  interval 10
  <labels>
    host somehost
  </labels>
</source>
<match **>
  @type null
</match>
"""

LISTEN = re.compile(r"listening for metrics on 127\.0\.0\.1:(\d+)/metrics")


def records_total(text):
    m = re.search(r'^sluice_input_records_total\{plugin="in_tail_app"\} (\d+)$', text, re.M)
    return int(m.group(1)) if m else None


class PrometheusTest(harness.SluiceTestCase):
    def start_with_metrics(self):
        os.makedirs(self.path("logs"))
        self.write("logs/a.log", "".join("line %d\n" % i for i in range(5)))
        conf = self.config(CONFIG % {"d": self.dir})
        p = self.start(["-c", conf])
        p.wait_until(lambda: LISTEN.search(p.stderr()), 10, "the metrics address")
        self.port = int(LISTEN.search(p.stderr()).group(1))
        return p

    def get(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path), timeout=10) as r:
            return r.status, r.headers, r.read().decode()

    def raw(self, data, read=True):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            if not read:
                return b""
            out = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    out += chunk
            except ConnectionResetError:
                pass
            return out

    def test_counters_appear_and_grow(self):
        p = self.start_with_metrics()
        p.wait_until(lambda: records_total(self.get("/metrics")[2]) == 5, 20, "5 records counted")
        status, headers, body = self.get("/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        self.assertEqual(body.count("# TYPE sluice_input_records_total counter\n"), 1)
        for line in body.splitlines():
            self.assertRegex(line, r"^(# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge)|"
                                   r"[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \d+)$")
        with open(self.path("logs/a.log"), "a") as f:
            f.write("".join("more %d\n" % i for i in range(7)))
        p.wait_until(lambda: records_total(self.get("/metrics")[2]) == 12, 20, "12 records counted")
        self.assertEqual(records_total(self.get("/aggregated_metrics")[2]), 12)
        self.assertEqual(self.get("/healthz")[:1] + (self.get("/healthz")[2],), (200, "ok\n"))
        self.assertEqual(p.stop(), 0)

    def test_metrics_of_prometheus_filters_and_outputs(self):
        # The fluent/helm-charts fluentd chart's dispatch filter, and an output observing a field.
        os.makedirs(self.path("logs"))
        self.write("logs/a.log", '{"level":"info","latency":0.05}\n{"level":"info","latency":0.5}\n'
                                 '{"level":"error","latency":2.5}\n{"level":"error","latency":"slow"}\n')
        conf = self.config((CONFIG % {"d": self.dir}).replace("@type none", "@type json").replace("""<match **>
  @type null
</match>""", """<filter **>
  @type prometheus
  <metric>
    name fluentd_input_status_num_records_total
    type counter
    desc The total number of incoming records
    <labels>
      tag ${tag}
      hostname ${hostname}
    </labels>
  </metric>
</filter>
<match **>
  @type prometheus
  <metric>
    name app_latency_seconds
    type histogram
    desc Request latency
    key latency
    buckets 0.1,1
    <labels>
      level $.level
    </labels>
  </metric>
</match>"""))
        p = self.start(["-c", conf])
        p.wait_until(lambda: LISTEN.search(p.stderr()), 10, "the metrics address")
        self.port = int(LISTEN.search(p.stderr()).group(1))
        tag = "app" + self.path("logs/a.log").replace("/", ".")
        counted = 'fluentd_input_status_num_records_total{tag="%s",hostname="%s"} 4.0' % (tag, socket.gethostname())
        p.wait_until(lambda: counted in self.get("/metrics")[2], 20, "4 records counted")
        body = self.get("/metrics")[2]
        self.assertIn("# TYPE fluentd_input_status_num_records_total counter\n"
                      "# HELP fluentd_input_status_num_records_total The total number of incoming records\n", body)
        self.assertIn('# TYPE app_latency_seconds histogram\n# HELP app_latency_seconds Request latency\n'
                      'app_latency_seconds_bucket{level="error",le="0.1"} 0.0\n'
                      'app_latency_seconds_bucket{level="error",le="1"} 0.0\n'
                      'app_latency_seconds_bucket{level="error",le="+Inf"} 1.0\n'
                      'app_latency_seconds_sum{level="error"} 2.5\n'
                      'app_latency_seconds_count{level="error"} 1.0\n'
                      'app_latency_seconds_bucket{level="info",le="0.1"} 1.0\n'
                      'app_latency_seconds_bucket{level="info",le="1"} 2.0\n'
                      'app_latency_seconds_bucket{level="info",le="+Inf"} 2.0\n'
                      'app_latency_seconds_sum{level="info"} 0.55\n'
                      'app_latency_seconds_count{level="info"} 2.0\n', body)
        self.assertEqual(p.stop(), 0)
        self.assertIn("app_latency_seconds takes numbers, got \"slow\"", p.stderr())

    def test_errors_and_garbage_keep_the_server_serving(self):
        p = self.start_with_metrics()
        with self.assertRaises(urllib.error.HTTPError) as e:
            self.get("/nope")
        self.assertEqual(e.exception.code, 404)
        req = urllib.request.Request("http://127.0.0.1:%d/metrics" % self.port, data=b"x", method="POST")
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(e.exception.code, 405)
        self.assertTrue(self.raw(b"\x16\x03\x01\x00\xa5\x01\x00\x00garbage").startswith(b"HTTP/1.1 400 "))
        self.assertTrue(self.raw(b"hello there\r\n\r\n").startswith(b"HTTP/1.1 400 "))
        self.assertTrue(self.raw(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 100000).startswith(b"HTTP/1.1 431 "))
        self.assertTrue(self.raw(b"GET /" + b"a" * 20000).startswith(b"HTTP/1.1 431 "))
        # Many connections at once, some idle, some half-sent, then closed abruptly.
        socks = []
        for i in range(50):
            s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            if i % 2:
                s.sendall(b"GET /metr")
            socks.append(s)
        self.assertEqual(self.get("/healthz")[0], 200)
        for s in socks:
            s.close()
        for _ in range(20):
            self.raw(b"GET /metrics HTTP/1.1\r\n\r\n", read=False)
        status, _, body = self.get("/metrics")
        self.assertEqual(status, 200)
        self.assertIsNotNone(records_total(body))
        self.assertIn("worker is now running", p.stderr())
        self.assertEqual(p.stop(), 0)

    def test_daemonset_prometheus_conf_dry_run(self):
        with open(PROMETHEUS_CONF) as f:
            sources = f.read()
        self.assertIn("@type prometheus_output_monitor", sources)
        conf = self.config(sources + "\n<match **>\n  @type null\n</match>\n")
        r = harness.run(["--dry-run", "-c", conf])
        self.assertEqual(r.returncode, 0, harness.text(r.stderr))
        # TLS is refused with a clear error.
        conf = self.config("<source>\n  @type prometheus\n  <ssl>\n    enable true\n  </ssl>\n</source>\n"
                           "<match **>\n  @type null\n</match>\n", "tls.conf")
        r = harness.run(["--dry-run", "-c", conf])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("<ssl>", harness.text(r.stderr))


if __name__ == "__main__":
    harness.main()

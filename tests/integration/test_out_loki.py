"""<match> @type loki end to end: the real binary tails CRI files, enriches them from a fake
kubelet and pushes to a Loki distributor stand-in (tests/servers/loki_server.py), which validates
the bodies as Loki does and stores the streams; the test checks what it stored, decoded."""
import base64
import glob
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request

from harness import REPO, SluiceTestCase, cri_line, cri_tail_source, main, run, wait_for_port_file
from test_kubernetes_metadata import NRI, KubeletServer, container_file, kubelet_filter, pods_of

SERVER = os.path.join(REPO, "tests/servers/loki_server.py")
PASSWORD = "l0ki-pa55word-value"
LOKI_TOKEN = "l0ki-bearer-token-value"


class LokiServer:
    def __init__(self, case, *args, client_cert=None):
        self.client_cert = client_cert  # (cert, key) for the test's own requests over TLS
        pf = case.path("loki.port.%d" % time.monotonic_ns())
        self.log = open(case.path("loki_server.log"), "ab")
        self.proc = subprocess.Popen([sys.executable, SERVER, "--port", "0", "--port-file", pf] + list(args),
                                     stdout=self.log, stderr=self.log)
        case.addCleanup(self.stop)
        self.port = wait_for_port_file(self.proc, pf, "loki_server")
        self.url = "%s://127.0.0.1:%d" % ("https" if "--tls-cert" in args else "http", self.port)

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()

    def get(self, path):
        ctx = None
        if self.url.startswith("https"):
            ctx = ssl._create_unverified_context()
            ctx.load_cert_chain(*self.client_cert)
        with urllib.request.urlopen(self.url + path, timeout=10, context=ctx) as r:
            return json.loads(r.read())

    def control(self, **switches):
        req = urllib.request.Request(self.url + "/_control", data=json.dumps(switches).encode(), method="POST")
        urllib.request.urlopen(req, timeout=10).read()  # plain http only

    def streams(self, tenant="fake"):
        return self.get("/_control/streams").get(tenant, [])

    def lines(self, tenant="fake"):
        return [v for s in self.streams(tenant) for v in s["values"]]

    def requests(self):
        return self.get("/_control/requests")


def ns_of(i):
    """The unix time in ns of harness.cri_line(i)'s stamp."""
    return str((1714564800 + i // 1000000000 % 60) * 1000000000 + i % 1000000000)


BUFFER = """
  <buffer %s>
    flush_interval 0.2
    retry_wait 0.2
    retry_max_interval 0.5
    retry_forever true
    %s
  </buffer>"""


class LokiOutputTest(SluiceTestCase):
    def setUp(self):
        super().setUp()
        os.makedirs(self.path("var/log/containers"))

    def tail_source(self, tag="kubernetes.*"):
        return cri_tail_source(self.dir, tag)

    def write_log(self, name, lines):
        p = self.path("var/log/containers", name)
        with open(p, "a") as f:
            f.writelines(lines)
        return p

    def plain_match(self, loki, extra="", buffer_args="", buffer_extra=""):
        return self.tail_source("app.*") + """
<match app.**>
  @type loki
  url %s
  %s
%s
</match>
""" % (loki.url, extra, BUFFER % (buffer_args, buffer_extra))

    # --- the Kubernetes DaemonSet case ---------------------------------------------------------

    def test_kubernetes_labels_json_lines_tenant_and_basic_auth(self):
        kubelet = KubeletServer(self, NRI)
        loki = LokiServer(self, "--user", "fluent", "--password", PASSWORD, "--require-tenant")
        loki.control(strict_order=True)
        pods = {p["metadata"]["name"]: p for p in pods_of(NRI)}
        hpa, coredns = pods["e2e-hpa-6cd8d99884-tggnr"], pods["coredns-7d764666f9-qdcxt"]
        # Out of order in the file: the plugin sorts each stream of a push by time.
        self.write_log(container_file(hpa, "php-apache"), [cri_line(i) for i in (2, 0, 1)])
        self.write_log(container_file(coredns, "coredns"), [cri_line(5, "stderr", text='say "hi" \\ tab\t')])
        conf = self.config(self.tail_source() + kubelet_filter(self, kubelet) + """
<match kubernetes.**>
  @type loki
  url %s
  username fluent
  password %s
  tenant team-a
  extra_labels {"cluster":"test"}
  line_format json
  remove_keys kubernetes
  extract_kubernetes_labels true
  <label>
    namespace $.kubernetes.namespace_name
    pod $.kubernetes.pod_name
    container $.kubernetes.container_name
  </label>
%s
</match>
""" % (loki.url, PASSWORD, BUFFER % ("", "")))
        s = self.start(["-c", conf], env={"K8S_NODE_NAME": "", "KUBERNETES_SERVICE_HOST": ""})
        s.wait_until(lambda: len(loki.lines("team-a")) >= 4, 20, "4 lines in Loki")
        streams = {x["stream"]["pod"]: x for x in loki.streams("team-a")}
        self.assertEqual(streams["e2e-hpa-6cd8d99884-tggnr"]["stream"],
                         {"namespace": "scraper", "pod": "e2e-hpa-6cd8d99884-tggnr", "container": "php-apache",
                          "app": "hpa", "pod_template_hash": "6cd8d99884", "run": "php-apache", "cluster": "test"})
        values = streams["e2e-hpa-6cd8d99884-tggnr"]["values"]
        self.assertEqual([v[0] for v in values], [ns_of(0), ns_of(1), ns_of(2)])
        line = json.loads(values[0][1])
        self.assertEqual(line["message"], "line 0")
        self.assertEqual(line["stream"], "stdout")
        self.assertNotIn("kubernetes", line)
        self.assertEqual(line["docker"]["container_id"],
                         hpa["status"]["containerStatuses"][0]["containerID"].split("://")[1])
        dns = streams["coredns-7d764666f9-qdcxt"]
        self.assertEqual(dns["stream"]["namespace"], "kube-system")
        self.assertEqual(dns["stream"]["k8s_app"], "kube-dns")
        self.assertEqual(json.loads(dns["values"][0][1])["message"], 'say "hi" \\ tab\t')
        self.assertEqual(json.loads(dns["values"][0][1])["stream"], "stderr")
        reqs = loki.requests()
        self.assertTrue(all(r["status"] == 204 for r in reqs), reqs)
        self.assertEqual(reqs[0]["headers"]["X-Scope-OrgID"], "team-a")
        self.assertEqual(reqs[0]["headers"]["Content-Type"], "application/json")
        self.assertEqual(s.stop(), 0)
        self.assertNotIn(PASSWORD, s.stderr())
        self.assertNotIn(base64.b64encode(("fluent:" + PASSWORD).encode()).decode(), s.stderr())

    # --- delivery --------------------------------------------------------------------------------

    def test_429_and_500_are_retried_and_nothing_is_lost(self):
        loki = LokiServer(self)
        loki.control(fail_next=[429, 500, 429], strict_order=True)
        self.write_log("a.log", [cri_line(i) for i in range(200)])
        conf = self.config(self.plain_match(loki, 'extra_labels {"job":"app"}\n  line_format key_value'))
        s = self.start(["-c", conf])
        s.wait_until(lambda: len(loki.lines()) >= 200, 20, "200 lines in Loki")
        time.sleep(0.5)
        values = loki.lines()
        self.assertEqual(sorted(int(v[0]) for v in values), sorted(int(ns_of(i)) for i in range(200)))
        self.assertEqual(values[0][1], "stream=stdout logtag=F message=\"line 0\" time=2024-05-01T12:00:00.000000000Z")
        statuses = [r["status"] for r in loki.requests()]
        self.assertEqual(statuses[:3], [429, 500, 429])
        err = s.stderr()
        self.assertIn("Ingestion rate limit exceeded", err)
        self.assertIn("retry_times=3", err)
        self.assertEqual(s.stop(), 0)

    def test_400_is_dropped_logged_and_given_to_secondary(self):
        loki = LokiServer(self)
        self.write_log("a.log", [cri_line(i) for i in range(3)])
        # No <label> and no extra_labels: streams without labels, which Loki refuses with 400.
        conf = self.config(self.plain_match(
            loki, "<secondary>\n    @type secondary_file\n    directory %s\n  </secondary>" % self.path("failed")))
        s = self.start(["-c", conf])
        s.wait_until(lambda: glob.glob(self.path("failed", "*")), 20, "a secondary file")
        time.sleep(0.3)
        self.assertEqual([r["status"] for r in loki.requests()], [400])
        self.assertEqual(loki.lines(), [])
        err = s.stderr()
        self.assertIn("error at least one label pair is required per stream", err)
        self.assertIn("got unrecoverable error in primary. Skip retry and flush chunk to secondary", err)
        # What <secondary> got is the push body, ready to be sent to Loki again.
        with open(glob.glob(self.path("failed", "*"))[0]) as f:
            body = json.load(f)
        self.assertEqual(body["streams"][0]["stream"], {})
        self.assertEqual([v[0] for v in body["streams"][0]["values"]], [ns_of(i) for i in range(3)])
        self.assertEqual(s.stop(), 0)

    # --- authentication, tenants, compression, threads -------------------------------------------

    def test_bearer_token_tag_tenant_gzip_and_thread_labels(self):
        loki = LokiServer(self, "--token", LOKI_TOKEN, "--require-tenant")
        loki.control(strict_order=True)  # each flush slot's stream in time order
        self.write_log("a.log", [cri_line(i) for i in range(50)])
        token = self.write("loki-token", LOKI_TOKEN + "\n")
        conf = self.config(self.plain_match(
            loki, "bearer_token_file %s\n  tenant t-${tag[0]}\n  compress gzip\n  drop_single_key true\n"
                  "  remove_keys logtag, time\n  custom_headers {\"X-Team\":\"logs\"}\n"
                  "  <label>\n    stream\n  </label>" % token,
            buffer_args="tag", buffer_extra="flush_thread_count 2\n    chunk_limit_records 10"))
        s = self.start(["-c", conf])
        tenant = "t-app"
        s.wait_until(lambda: len(loki.lines(tenant)) >= 50, 20, "50 lines in Loki: %s" % loki.requests())
        streams = loki.streams(tenant)
        self.assertTrue({x["stream"]["fluentd_thread"] for x in streams} <= {"flush_thread_0", "flush_thread_1"})
        self.assertEqual({x["stream"]["stream"] for x in streams}, {"stdout"})
        self.assertEqual(sorted(v[1] for x in streams for v in x["values"]), sorted("line %d" % i for i in range(50)))
        reqs = loki.requests()
        self.assertTrue(all(r["status"] == 204 for r in reqs), reqs)
        self.assertEqual(reqs[0]["headers"]["Content-Encoding"], "gzip")
        self.assertEqual(reqs[0]["headers"]["X-Team"], "logs")
        self.assertEqual(s.stop(), 0)
        self.assertNotIn(LOKI_TOKEN, s.stderr())

    def test_wrong_password_is_not_retried_and_kept_in_the_backup_without_showing_it(self):
        # 401 is neither 429 nor 5xx: out_loki.rb does not retry it.
        loki = LokiServer(self, "--user", "fluent", "--password", "right")
        self.write_log("a.log", [cri_line(0)])
        conf = self.config(self.plain_match(loki, 'username fluent\n  password %s\n  extra_labels {"job":"x"}'
                                            % PASSWORD))
        # Not retried; without a <secondary> the chunk goes to Fluentd's backup file, as Fluentd does
        # with an unrecoverable error (the plugin itself would lose it).
        backup = self.path("backup")
        s = self.start(["-c", conf], env={"FLUENT_BACKUP_DIR": backup})
        pattern = os.path.join(backup, "backup/worker0/*/*.log")
        s.wait_until(lambda: glob.glob(pattern), 20, "a backup file")
        self.assertIn('(401 "unauthorized")', s.stderr())
        self.assertIn("got unrecoverable error in primary and no secondary", s.stderr())
        self.assertEqual([r["status"] for r in loki.requests()], [401])
        self.assertEqual(loki.lines(), [])
        with open(glob.glob(pattern)[0]) as f:
            body = json.load(f)  # the push body, ready to be sent again
        self.assertEqual(body["streams"][0]["stream"], {"job": "x"})
        self.assertEqual(s.stop(), 0)
        self.assertNotIn(PASSWORD, s.stderr())

    def test_tls_client_certificate_ca_cert_and_insecure_tls(self):
        pki = self.path("pki")
        subprocess.run(["sh", os.path.join(REPO, "tests/servers/make_test_ca.sh"), pki], check=True)
        for cmd in (["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", pki + "/client.key", "-out", pki + "/client.csr", "-subj", "/CN=fluent"],
                    ["openssl", "x509", "-req", "-in", pki + "/client.csr", "-CA", pki + "/ca.crt", "-CAkey",
                     pki + "/ca.key", "-CAcreateserial", "-out", pki + "/client.crt", "-days", "2"]):
            subprocess.run(cmd, check=True, capture_output=True)
        loki = LokiServer(self, "--tls-cert", pki + "/server.crt", "--tls-key", pki + "/server.key",
                          "--client-ca", pki + "/ca.crt", client_cert=(pki + "/client.crt", pki + "/client.key"))
        client = "cert %s/client.crt\n  key %s/client.key" % (pki, pki)
        matches = {"verified": "ca_cert %s/ca.crt\n  %s" % (pki, client),
                   "insecure": "insecure_tls true\n  %s" % client,
                   "untrusted": client}
        conf = ""
        for name, tls in matches.items():
            self.write_log(name + ".log", [cri_line(0, text=name)])
            conf += """
<source>
  @type tail
  path %s/var/log/containers/%s.log
  pos_file %s/%s.pos
  tag %s
  read_from_head true
  <parse>
    @type cri
  </parse>
</source>
<match %s>
  @type loki
  url %s
  extra_labels {"job":"%s"}
  %s
%s
</match>
""" % (self.dir, name, self.dir, name, name, name, loki.url, name, tls, BUFFER % ("", ""))
        s = self.start(["-c", self.config(conf)])
        s.wait_until(lambda: len(loki.lines()) >= 2, 20, "2 lines in Loki")
        s.wait_until(lambda: "SSL certificate problem" in s.stderr(), 10, "the untrusted server refused")
        self.assertEqual(sorted(x["stream"]["job"] for x in loki.streams()), ["insecure", "verified"])
        s.kill()  # the untrusted output would retry until the shutdown timeout

    # --- configuration ---------------------------------------------------------------------------

    def test_config_errors_name_file_and_line(self):
        cases = [
            ("url ftp://loki", "URL parameter must have HTTP/HTTPS scheme"),
            ("buffer_chunk_limit 1m", "buffer_chunk_limit"),
            ("bearer_token_file %s/none" % self.dir, "bearer_token_file %s/none not found" % self.dir),
            ("tenant ${$.kubernetes.labels.tenant}", "only ${tag} and ${tag[N]} placeholders"),
            ("tenant ${tag}", "chunk key 'tag' is not configured"),
            ("min_version TLS9", "min_version 'TLS9'"),
            ("line_format yaml", "line_format"),
            ("<label>\n    first $.a[0]\n  </label>", "array index steps are not supported"),
            ("<label>\n    fluentd_thread t\n  </label>\n  <buffer>\n    flush_thread_count 2\n  </buffer>",
             "<label> fluentd_thread"),
        ]
        for i, (line, message) in enumerate(cases):
            conf = self.config("<match **>\n  @type loki\n  password %s\n  %s\n</match>\n" % (PASSWORD, line),
                               "bad%d.conf" % i)
            r = run(["--dry-run", "-c", conf])
            out = r.stdout.decode() + r.stderr.decode()
            self.assertNotEqual(r.returncode, 0, line)
            self.assertIn(message, out, line)
            self.assertIn("bad%d.conf:" % i, out, line)
            self.assertNotIn(PASSWORD, out)
        good = self.config("<match **>\n  @type loki\n  url http://127.0.0.1:1\n  ciphers ECDHE-RSA-AES128-GCM-SHA256\n"
                           "  min_version TLS1_2\n  <label>\n    job\n    instance instance\n  </label>\n</match>\n",
                           "good.conf")
        r = run(["--dry-run", "-c", good])
        self.assertEqual(r.returncode, 0, r.stderr.decode())


if __name__ == "__main__":
    main()

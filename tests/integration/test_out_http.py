"""tail -> http (Fluentd's out_http) with the real binary: the bodies, headers and paths the
server received (json lines, json_array, gzip, placeholders), basic auth without the password in
the log, AWS SigV4 signing checked by the server, 503 retried with nothing lost, a 400 to the backup directory or the <secondary>, TLS with
a test CA, and configuration errors with file:line."""
import base64
import glob
import gzip
import json
import os

from harness import SluiceTestCase, free_port, main, run, text
from http_sink_support import HttpSink, header, make_test_ca


def cri(i, stream="stdout"):
    return "2024-05-01T12:%02d:%02d.%09dZ %s F seq %d\n" % (i // 60 % 60, i % 60, i, stream, i)


BUFFER = """
    flush_interval 0.2
    retry_wait 0.2
    retry_max_interval 0.5
    retry_randomize false
"""


class HttpOutputTest(SluiceTestCase):
    def sink(self, *args, port=0):
        s = HttpSink(self.dir, *args, port=port).start()
        self.addCleanup(s.stop)
        return s

    def tail(self, n, streams=("stdout",)):
        log = self.write("a.log", "".join(cri(i, streams[i % len(streams)]) for i in range(n)))
        return """
<source>
  @type tail
  path %s
  pos_file %s/tail.pos
  read_from_head true
  tag k.*
  <parse>
    @type cri
  </parse>
</source>
""" % (log, self.dir)

    def match(self, endpoint, extra="", buffer_keys="", buffer=""):
        return """
<match k.**>
  @type http
  endpoint %s
  %s
  <buffer %s>
    %s
    %s
  </buffer>
</match>
""" % (endpoint, extra, buffer_keys, BUFFER, buffer)

    @staticmethod
    def seqs(records):
        return [int(r["message"][4:]) for r in records]

    @staticmethod
    def ndjson(request):
        body = request["body"]
        assert body.endswith("\n"), repr(body[-50:])
        return [json.loads(line) for line in body.split("\n")[:-1]]

    def wait_seqs(self, p, sink, n, parse, timeout=15):
        p.wait_until(lambda: len(set(self.seqs(sum((parse(r) for r in sink.accepted()), [])))) >= n,
                     timeout, "%d records at the sink" % n)
        return self.seqs(sum((parse(r) for r in sink.accepted()), []))

    def test_json_lines_by_default(self):
        sink = self.sink()
        conf = self.config(self.tail(120) + self.match(
            sink.url("/ingest?source=sluice"), 'headers {"x-api-key":"k-1","X-Custom":"a b"}'))
        p = self.start(["-c", conf])
        seqs = self.wait_seqs(p, sink, 120, self.ndjson)
        p.stop()
        self.assertEqual(sorted(seqs), list(range(120)))
        for r in sink.accepted():
            self.assertEqual(r["method"], "POST")
            self.assertEqual(r["path"], "/ingest?source=sluice")
            self.assertEqual(header(r, "Content-Type"), "application/x-ndjson")
            self.assertIsNone(header(r, "Content-Encoding"))
            self.assertEqual(header(r, "X-Api-Key"), "k-1")
            self.assertEqual(header(r, "X-Custom"), "a b")
            self.assertFalse(r["body_gzip"])
        first = self.ndjson(sink.accepted()[0])[0]
        self.assertLessEqual({"stream", "logtag", "message"}, set(first))
        self.assertIn("Status code 503 is going to be removed", p.stderr())

    def test_json_array_gzip_put(self):
        sink = self.sink()
        conf = self.config(self.tail(80) + self.match(
            sink.url("/bulk"), "json_array true\n  compress gzip\n  http_method put\n  retryable_response_codes [503]"))
        p = self.start(["-c", conf])
        seqs = self.wait_seqs(p, sink, 80, lambda r: json.loads(r["body"]))
        p.stop()
        self.assertEqual(sorted(seqs), list(range(80)))
        for r in sink.accepted():
            self.assertEqual(r["method"], "PUT")
            self.assertEqual(header(r, "Content-Type"), "application/json")
            self.assertEqual(header(r, "Content-Encoding"), "gzip")
            self.assertTrue(r["body_gzip"])
            # out_http.rb's framing: each record as the json formatter writes it (with its newline),
            # joined by ',' and wrapped in brackets.
            body = r["body"]
            self.assertTrue(body.startswith('[{"stream":"stdout"') and body.endswith("}\n]"), body[:80])
            self.assertEqual(body.count("}\n,{"), len(json.loads(body)) - 1)
        self.assertNotIn("Status code 503 is going to be removed", p.stderr())

    def test_placeholders_from_tag_time_and_record_keys(self):
        sink = self.sink()
        conf = self.config(self.tail(100, ("stdout", "stderr")) + self.match(
            sink.url("/t/${tag[-2]}/%Y%m%d%H/${$.stream}/${tag[9]}"),
            'headers_from_placeholders {"X-Stream":"${$.stream}","X-Tag":"${tag}"}',
            "tag,time,$.stream", "timekey 1h\n    timekey_use_utc true\n    timekey_wait 0\n    flush_mode interval"))
        p = self.start(["-c", conf])
        seqs = self.wait_seqs(p, sink, 100, self.ndjson)
        p.stop()
        self.assertEqual(sorted(seqs), list(range(100)))
        paths = set()
        for r in sink.accepted():
            records = self.ndjson(r)
            stream = records[0]["stream"]
            self.assertEqual({x["stream"] for x in records}, {stream})
            # ${tag[9]}: a part the tag does not have is empty, as in Fluentd.
            self.assertEqual(r["path"], "/t/a/2024050112/%s/" % stream)
            self.assertEqual(header(r, "X-Stream"), stream)
            self.assertTrue(header(r, "X-Tag").startswith("k.") and header(r, "X-Tag").endswith(".a.log"))
            paths.add(r["path"])
        self.assertEqual(paths, {"/t/a/2024050112/stdout/", "/t/a/2024050112/stderr/"})

    def test_basic_auth_password_never_logged(self):
        password = "pw-Zx81-secret"
        sink = self.sink("--user", "shipper", "--password", password, "--answers", "503")
        conf = self.config("<system>\n  log_level debug\n</system>\n" + self.tail(30) + self.match(
            sink.url("/in"), "<auth>\n    method basic\n    username shipper\n    password %s\n  </auth>" % password))
        p = self.start(["-c", conf])
        seqs = self.wait_seqs(p, sink, 30, self.ndjson)
        p.stop()
        self.assertEqual(sorted(seqs), list(range(30)))
        self.assertEqual(header(sink.accepted()[0], "Authorization"),
                         "Basic " + base64.b64encode(b"shipper:" + password.encode()).decode())
        err = p.stderr()
        self.assertIn("503", err)  # the failed attempt was logged, and retried
        token = base64.b64encode(b"shipper:" + password.encode()).decode()
        for secret in (password, token):
            self.assertNotIn(secret, err)
            self.assertNotIn(secret, text(p.stdout()))

    def test_aws_sigv4_signs_every_request_and_a_wrong_secret_is_refused(self):
        # Amazon OpenSearch Ingestion (service osis) and API Gateway take out_http with aws_sigv4;
        # the keys come from the AWS SDKs' default chain, here the environment.
        key_id, secret = "AKIAHTTPSINK0001", "sink/secret+0001"
        keys = self.write("keys.json", json.dumps([[key_id, secret, None]]))
        sink = self.sink("--aws-sigv4", "eu-west-1:osis", "--aws-keys", keys)
        auth = "<auth>\n    method aws_sigv4\n    aws_service osis\n    aws_region eu-west-1\n  </auth>"
        conf = self.config(self.tail(25) + self.match(sink.url("/log/ingest"), "compress gzip\n  " + auth))
        p = self.start(["-c", conf], env={"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret})
        seqs = self.wait_seqs(p, sink, 25, self.ndjson)
        p.stop()
        self.assertEqual(sorted(seqs), list(range(25)))
        self.assertTrue(all(r["status"] == 200 for r in sink.requests()), sink.requests())
        self.assertTrue(header(sink.accepted()[0], "Authorization").startswith(
            "AWS4-HMAC-SHA256 Credential=%s/" % key_id))
        self.assertNotIn(secret, p.stderr())

        # A wrong secret: AWS answers 403, which is not retryable: the chunk goes to the backup.
        os.remove(self.path("tail.pos"))
        root = self.path("root")
        conf = self.config("<system>\n  root_dir %s\n</system>\n" % root + self.tail(25) +
                           self.match(sink.url("/log/ingest"), "@id osis\n  " + auth))
        p = self.start(["-c", conf], env={"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": "wrong/Secret+Q9z"})
        p.wait_until(lambda: glob.glob(os.path.join(root, "backup/worker0/osis/*.log")), 10, "a backup file")
        p.stop()
        self.assertIn("403", p.stderr())
        self.assertIn("signature", p.stderr().lower())
        self.assertNotIn("wrong/Secret+Q9z", p.stderr())

    def test_503_retried_nothing_lost_nor_duplicated(self):
        sink = self.sink("--answers", "503,503,503")
        conf = self.config(self.tail(300) + self.match(sink.url("/in"), "retryable_response_codes 503, 429"))
        p = self.start(["-c", conf])
        seqs = self.wait_seqs(p, sink, 300, self.ndjson)
        p.stop()
        # Only accepted requests count: the chunks refused with 503 were sent again whole.
        self.assertEqual(sorted(seqs), list(range(300)))
        self.assertEqual([r["status"] for r in sink.requests()][:3], [503, 503, 503])
        self.assertIn("retry_times=3", p.stderr())

    def test_file_buffer_keeps_chunks_and_their_keys_across_a_restart(self):
        port = free_port()
        conf = self.config(self.tail(60, ("stdout", "stderr")) + self.match(
            "http://127.0.0.1:%d/s/${$.stream}" % port, "", "$.stream",
            "@type file\n    path %s" % self.path("buf")))
        p = self.start(["-c", conf])
        p.wait_until(lambda: "retry_times=1" in p.stderr(), 10, "a failed flush")
        p.stop()
        with open(self.path("tail.pos")) as f:
            offset = int(f.read().split("\t")[1], 16)
        self.assertEqual(offset, os.path.getsize(self.path("a.log")))  # durable in the file buffer
        sink = self.sink(port=port)
        p = self.start(["-c", conf])
        seqs = self.wait_seqs(p, sink, 60, self.ndjson)
        p.stop()
        self.assertEqual(sorted(seqs), list(range(60)))  # from the chunk files: the tail had moved on
        for r in sink.accepted():
            self.assertEqual({x["stream"] for x in self.ndjson(r)}, {r["path"][3:]})

    def test_400_goes_to_backup_directory(self):
        sink = self.sink("--answers", "400", "--answer-body", "  field [x] is bad")
        root = self.path("root")
        conf = self.config("<system>\n  root_dir %s\n</system>\n" % root + self.tail(20) + self.match(
            sink.url("/in"), "@id web_out"))
        p = self.start(["-c", conf])
        p.wait_until(lambda: glob.glob(os.path.join(root, "backup/worker0/web_out/*.log")), 10, "a backup file")
        p.stop()
        err = p.stderr()
        self.assertIn("got unrecoverable error in primary and no secondary", err)
        self.assertIn('400 Bad Request "field [x] is bad"', err)
        backed_up = []
        for name in glob.glob(os.path.join(root, "backup/worker0/web_out/*.log")):
            with open(name) as f:
                backed_up += [json.loads(l) for l in f]
        self.assertEqual(sorted(self.seqs(backed_up)), list(range(20)))
        self.assertEqual([r["status"] for r in sink.requests()], [400])  # not retried

    def test_400_goes_to_secondary(self):
        sink = self.sink("--answers", "400")
        out = self.path("secondary")
        conf = self.config(self.tail(20) + self.match(
            sink.url("/in"), "<secondary>\n    @type secondary_file\n    directory %s\n  </secondary>" % out))
        p = self.start(["-c", conf])
        p.wait_until(lambda: glob.glob(os.path.join(out, "dump.bin*")), 10, "the secondary file")
        p.stop()
        self.assertIn("Skip retry and flush chunk to secondary", p.stderr())
        with open(glob.glob(os.path.join(out, "dump.bin*"))[0]) as f:
            self.assertEqual(sorted(self.seqs([json.loads(l) for l in f])), list(range(20)))

    def test_error_response_as_unrecoverable_false_logs_and_drops(self):
        sink = self.sink("--answers", "404")
        conf = self.config(self.tail(10) + self.match(sink.url("/in"), "error_response_as_unrecoverable false"))
        p = self.start(["-c", conf])
        p.wait_until(lambda: "got error response from" in p.stderr(), 10, "the error log")
        p.stop()
        self.assertRegex(p.stderr(), r"got error response from 'POST http://127\.0\.0\.1:\d+/in' : 404 Not Found")
        self.assertEqual([r["status"] for r in sink.requests()], [404])

    def test_tls_with_the_test_ca(self):
        ca = make_test_ca(self.path("ca"))
        sink = self.sink("--tls-cert", os.path.join(ca, "server.crt"), "--tls-key", os.path.join(ca, "server.key"))
        conf = self.config(self.tail(40) + self.match(
            sink.url("/secure"), "tls_ca_cert_path %s\n  tls_verify_mode peer" % os.path.join(ca, "ca.crt")))
        p = self.start(["-c", conf])
        seqs = self.wait_seqs(p, sink, 40, self.ndjson)
        p.stop()
        self.assertEqual(sorted(seqs), list(range(40)))
        # tls_version TLSv1_2 (the default) means TLS 1.2 only, as Fluent::TLS sets min = max.
        self.assertEqual({r["tls_version"] for r in sink.accepted()}, {"TLSv1.2"})
        # Without the test CA the server is not trusted: nothing is sent, the chunk is retried.
        os.remove(self.path("tail.pos"))
        conf = self.config(self.tail(40) + self.match(sink.url("/untrusted")), "untrusted.conf")
        p = self.start(["-c", conf])
        p.wait_until(lambda: "retry_times=2" in p.stderr(), 10, "retries")
        p.stop()
        self.assertRegex(p.stderr(), r"could not POST to https://127\.0\.0\.1:\d+/untrusted: .*(certificate|SSL)")
        self.assertEqual([r["path"] for r in sink.requests()], ["/secure"] * len(sink.requests()))

    def test_client_certificate_tls13_and_verify_none(self):
        ca = make_test_ca(self.path("ca"))
        f = lambda name: os.path.join(ca, name)
        sink = self.sink("--tls-cert", f("server.crt"), "--tls-key", f("server.key"), "--client-ca", f("ca.crt"))
        sink.client_cert = (f("client.crt"), f("client.key"))
        conf = self.config(self.tail(30) + self.match(sink.url("/mtls"), "\n  ".join([
            "tls_client_cert_path " + f("client.crt"), "tls_private_key_path " + f("client.key"),
            "tls_verify_mode none", "tls_version TLSv1_3"])))
        p = self.start(["-c", conf])
        seqs = self.wait_seqs(p, sink, 30, self.ndjson)
        p.stop()
        self.assertEqual(sorted(seqs), list(range(30)))
        self.assertEqual({r["tls_version"] for r in sink.accepted()}, {"TLSv1.3"})

    def test_single_value_format_with_content_type(self):
        sink = self.sink()
        conf = self.config(self.tail(25) + self.match(
            sink.url("/lines"), "content_type text/x-log\n  <format>\n    @type single_value\n  </format>"))
        p = self.start(["-c", conf])
        lines = lambda r: [{"message": l} for l in r["body"].split("\n")[:-1]]
        seqs = self.wait_seqs(p, sink, 25, lines)
        p.stop()
        self.assertEqual(sorted(seqs), list(range(25)))
        self.assertEqual({header(r, "Content-Type") for r in sink.accepted()}, {"text/x-log"})

    def test_configuration_errors_name_file_and_line(self):
        cases = [
            ("endpont http://127.0.0.1:1/x", 6, "did you mean 'endpoint'"),
            ("endpoint http://127.0.0.1:1/x\n  http_method get", 7, "http_method"),
            ("endpoint http://127.0.0.1:1/x\n  <auth>\n    method aws_sigv4\n  </auth>", 7,
             "aws_service is required for aws_sigv4 auth"),
            ("endpoint http://127.0.0.1:1/x\n  <auth>\n    method aws_sigv4\n    aws_service osis\n"
             "    aws_region eu-west-1\n    aws_role_arn arn:aws:iam::1:role/r\n  </auth>", 11,
             "aws_role_arn (AssumeRole"),
            ("endpoint http://127.0.0.1:1/${tag}", 6, "placeholder ${tag} is not a chunk key"),
            ("endpoint http://${tag}:1/x\n  <buffer tag>\n  </buffer>", 6, "allowed_hosts is strictly required"),
            ("endpoint http://127.0.0.1:1/x\n  json_array true\n  <format>\n    @type ltsv\n  </format>", 7,
             "json_array option could be used with json formatter only"),
            ("endpoint ftp://127.0.0.1/x", 6, "Invalid endpoint URI"),
            ("endpoint https://127.0.0.1:1/x\n  tls_private_key_passphrase hunter2-pass", 7,
             "tls_private_key_passphrase is not supported"),
        ]
        for body, line, message in cases:
            conf = self.config("<source>\n  @type sample\n</source>\n<match **>\n  @type http\n  %s\n</match>\n" % body)
            r = run(["--dry-run", "-c", conf])
            err = text(r.stderr)
            self.assertNotEqual(r.returncode, 0, body)
            self.assertIn("%s:%d: " % (conf, line), err, body)
            self.assertIn(message, err, body)
            self.assertNotIn("hunter2-pass", err)


if __name__ == "__main__":
    main()

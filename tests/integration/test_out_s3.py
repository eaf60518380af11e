"""`@type s3` (fluent-plugin-s3's out_s3) against tests/servers/s3_server.py, which checks every
request's SigV4 signature as S3 does and stores the objects: what lands in the bucket (keys,
decompressed lines, headers), check_object's %{index}, retries that lose nothing, credentials from
the configuration and from EKS IRSA, secrets never in the log, configuration errors with file:line."""
import gzip
import json
import os
import urllib.parse

from aws_support import AwsServer, CredentialsServer
from harness import SluiceTestCase, cri_line, main, run, tail_source

KEY = ["AKIAS3TESTKEY0001", "s3/secret+key0001", None]
ROLE = "arn:aws:iam::123456789012:role/sluice-s3"
TEMPORARY = [["ASIAS3TEMPKEY%04d" % i, "temp/s3secret+%04d" % i, "s3-session-token-%04d" % i] for i in range(1, 3)]


class S3Server(AwsServer):
    def __init__(self, test, keys, buckets=("logs",)):
        self.data = test.path("s3-data")
        os.makedirs(self.data, exist_ok=True)
        args = ["--data-dir", self.data, "--region", "eu-west-1"]
        for b in buckets:
            args += ["--bucket", b]
        super().__init__(test, "s3_server.py", "s3-keys.json", keys, args)

    def objects(self):
        return self.get("/_control/objects")

    def body(self, obj):
        with open(os.path.join(self.data, obj["bucket"], urllib.parse.quote(obj["key"], safe="")), "rb") as f:
            return f.read()

    def lines(self, obj):
        """The object's lines, gunzipped: out_file's `time<TAB>tag<TAB>json`."""
        return gzip.decompress(self.body(obj)).decode().splitlines()


class S3OutputTest(SluiceTestCase):
    def ship(self, s3, lines=3, credentials="", extra="", buffer="", env=None, ready=True, flush="0.3s"):
        self.log = self.write("app.log", "".join(cri_line(i) for i in range(lines)))
        if credentials is not None and not credentials:
            credentials = "aws_key_id %s\n  aws_sec_key %s" % tuple(KEY[:2])
        conf = self.config(tail_source(self.log, self.path("tail.pos"), "app") + """
<match app>
  @type s3
  s3_bucket logs
  s3_region eu-west-1
  s3_endpoint %s
  path logs/
  %s
  %s
  <buffer time>
    timekey 1d
    timekey_use_utc true
    flush_mode interval
    flush_interval %s
    retry_wait 0.2s
    retry_randomize false
    %s
  </buffer>
</match>
""" % (s3.url, credentials or "", extra, flush, buffer))
        return self.start(["-c", conf], env=env, ready=ready)

    def append(self, first, n):
        with open(self.log, "a") as f:
            f.write("".join(cri_line(i) for i in range(first, first + n)))

    def messages(self, s3):
        out = []
        for obj in s3.objects():
            for line in s3.lines(obj):
                t, tag, record = line.split("\t")
                self.assertEqual(tag, "app")
                out.append(json.loads(record)["message"])
        return sorted(out, key=lambda m: int(m.split()[1]))

    def test_cri_lines_become_one_gzip_object_per_chunk_with_the_default_key(self):
        s3 = S3Server(self, [KEY])
        p = self.ship(s3, lines=5)
        p.wait_until(lambda: len(s3.objects()) >= 1, 20, "an object")
        self.assertEqual(p.stop(), 0)
        objects = s3.objects()
        self.assertEqual([o["key"] for o in objects], ["logs/20240501_0.gz"])  # %{path}%{time_slice}_%{index}
        self.assertEqual(s3.lines(objects[0])[0],
                         '2024-05-01T12:00:00+00:00\tapp\t{"stream":"stdout","logtag":"F","message":"line 0",'
                         '"time":"2024-05-01T12:00:00.000000000Z"}')
        self.assertEqual(self.messages(s3), ["line %d" % i for i in range(5)])
        headers = objects[0]["headers"]
        self.assertEqual(headers["content-type"], "application/x-gzip")
        self.assertEqual(headers["x-amz-storage-class"], "STANDARD")
        stats = s3.stats()
        self.assertEqual(stats["sigv4_failures"], 0)
        self.assertEqual(stats["list"], 1)         # check_apikey_on_start
        self.assertEqual(stats["head_bucket"], 1)  # check_bucket
        self.assertNotIn(KEY[1], p.stderr())

    def test_the_daemonset_s3_images_match_section(self):
        # fluentd-kubernetes-daemonset docker-image/v1.19/debian-s3/conf/fluent.conf's <match>, with
        # the endpoint and keys of the test server added.
        s3 = S3Server(self, [KEY])
        log = self.write("app.log", "".join(cri_line(i) for i in range(3)))
        conf = self.config(tail_source(log, self.path("tail.pos"), "app") + """
<match **>
  @type s3
  @id out_s3
  @log_level info
  s3_bucket "#{ENV['S3_BUCKET_NAME']}"
  s3_region "#{ENV['S3_BUCKET_REGION']}"
  s3_object_key_format "#{ENV['S3_OBJECT_KEY_FORMAT'] || '%%{path}%%Y/%%m/%%d/cluster-log-%%{index}.%%{file_extension}'}"
  storage_class "#{ENV['S3_STORAGE_CLASS'] || 'STANDARD'}"
  s3_endpoint %s
  aws_key_id %s
  aws_sec_key %s
  <inject>
    time_key time
    tag_key tag
    localtime false
  </inject>
  <buffer>
    @type file
    path %s/s3.buffer
    timekey "#{ENV['S3_TIMEKEY'] || '3600'}"
    timekey_use_utc true
    chunk_limit_size "#{ENV['S3_CHUNK_LIMIT_SIZE'] || '256m'}"
  </buffer>
</match>
""" % (s3.url, KEY[0], KEY[1], self.dir))
        p = self.start(["-c", conf], env={"S3_BUCKET_NAME": "logs", "S3_BUCKET_REGION": "eu-west-1",
                                         "S3_STORAGE_CLASS": "STANDARD_IA"})
        p.wait_until(lambda: len(s3.objects()) >= 1, 20, "an object")
        self.assertEqual(p.stop(), 0)
        obj = s3.objects()[0]
        self.assertEqual(obj["key"], "2024/05/01/cluster-log-0.gz")
        self.assertEqual(obj["headers"]["x-amz-storage-class"], "STANDARD_IA")
        # inject_values_to_record: `time` (a float, to the microsecond) takes the place of the
        # parser's, `tag` is added. (cri_line's times are 12:00:00 plus i nanoseconds.)
        self.assertEqual(s3.lines(obj), ['2024-05-01T12:00:00+00:00\tapp\t{"stream":"stdout","logtag":"F",'
                                         '"message":"line %d","time":1714564800.0,"tag":"app"}' % i
                                         for i in range(3)])

    def test_check_object_gives_the_second_flush_of_a_time_slice_the_next_index(self):
        s3 = S3Server(self, [KEY])
        p = self.ship(s3, lines=2, extra="store_as text\n  s3_metadata {\"chunk\":\"%{index}\"}")
        p.wait_until(lambda: len(s3.objects()) >= 1, 20, "the first object")
        self.append(2, 2)
        p.wait_until(lambda: len(s3.objects()) >= 2, 20, "the second object")
        self.assertEqual(p.stop(), 0)
        objects = s3.objects()
        self.assertEqual([o["key"] for o in objects], ["logs/20240501_0.txt", "logs/20240501_1.txt"])
        self.assertEqual([o["headers"]["x-amz-meta-chunk"] for o in objects], ["0", "1"])
        self.assertEqual([o["headers"]["content-type"] for o in objects], ["text/plain", "text/plain"])
        lines = [l for o in objects for l in s3.body(o).decode().splitlines()]
        self.assertEqual([json.loads(l.split("\t")[2])["message"] for l in lines], ["line 0", "line 1", "line 2", "line 3"])
        # HEAD _0 (free) for the first; HEAD _0 (taken) and _1 (free) for the second.
        self.assertEqual(s3.stats()["head_object"], 3)

    def test_slowdown_is_retried_and_nothing_is_lost(self):
        s3 = S3Server(self, [KEY])
        s3.control(slowdown=3)
        # 5000 lines read well within the first flush interval: one chunk over 256 KiB, compressed
        # on the thread pool.
        p = self.ship(s3, lines=5000, flush="2s")
        p.wait_until(lambda: len(s3.objects()) >= 1, 20, "the object after the retries")
        self.assertEqual(p.stop(), 0)
        self.assertEqual(s3.stats()["slowdowns"], 3)
        objects = s3.objects()
        self.assertEqual([o["key"] for o in objects], ["logs/20240501_0.gz"])
        self.assertGreater(len(gzip.decompress(s3.body(objects[0]))), 256 << 10)
        self.assertEqual(self.messages(s3), ["line %d" % i for i in range(5000)])
        self.assertIn("HTTP 503 SlowDown: \"Please reduce your request rate.\"", p.stderr())

    def test_a_wrong_secret_is_refused_retried_and_never_logged(self):
        s3 = S3Server(self, [KEY])
        # The start checks (ListObjectsV2) fail: the sources wait, as Fluentd would not start.
        p = self.ship(s3, credentials="aws_key_id %s\n  aws_sec_key wrong-secret-value" % KEY[0])
        p.wait_until(lambda: "SignatureDoesNotMatch" in p.stderr(), 20, "the refusal in the log")
        self.assertIn("can't call S3 API", p.stderr())
        p.stop()
        # Without start checks each PUT is refused and the chunk retried, never dropped.
        p = self.ship(s3, credentials="aws_key_id %s\n  aws_sec_key wrong-secret-value" % KEY[0],
                      extra="check_apikey_on_start false\n  check_bucket false\n  check_object false")
        p.wait_until(lambda: p.stderr().count("retry_times=") >= 2, 20, "two retries")
        self.assertIn("HTTP 403 SignatureDoesNotMatch", p.stderr())
        p.stop()
        self.assertEqual(s3.objects(), [])
        for run_log in self.procs:
            self.assertNotIn("wrong-secret-value", run_log.stderr())

    def test_chunks_given_up_on_go_to_the_secondary(self):
        s3 = S3Server(self, [KEY], buckets=("other",))  # PUTs to `logs` get NoSuchBucket
        secondary = "check_apikey_on_start false\n  check_bucket false\n" \
                    "  <secondary>\n    @type secondary_file\n    directory %s\n  </secondary>" % self.path("failed")
        p = self.ship(s3, extra=secondary, buffer="retry_max_times 2")
        p.wait_until(lambda: os.path.isdir(self.path("failed")) and os.listdir(self.path("failed")), 20,
                     "a secondary file")
        self.assertEqual(p.stop(), 0)
        err = p.stderr()
        self.assertIn("HTTP 404 NoSuchBucket", err)
        self.assertIn("writing all queued chunks to <secondary>", err)
        lines = []
        for name in sorted(os.listdir(self.path("failed"))):
            with open(self.path("failed", name)) as f:
                lines += f.read().splitlines()
        # The chunk as out_s3 formatted it: out_file lines, ready to be stored again.
        self.assertEqual([json.loads(l.split("\t")[2])["message"] for l in lines], ["line 0", "line 1", "line 2"])

    def test_json_format_and_key_placeholders(self):
        s3 = S3Server(self, [KEY])
        extra = """s3_object_key_format %{path}${tag}/%Y/%m/%{time_slice}_%{hex_random}_${chunk_id}.%{file_extension}
  store_as json
  hex_random_length 6
  <format>
    @type json
  </format>"""
        p = self.ship(s3, lines=2, extra=extra, buffer="timekey 1h")
        p.wait_until(lambda: len(s3.objects()) >= 1, 20, "an object")
        self.assertEqual(p.stop(), 0)
        obj = s3.objects()[0]
        self.assertRegex(obj["key"], r"^logs/\$\{tag\}/2024/05/2024050112_([0-9a-f]{6})_([0-9a-f]{32})\.json$")
        hex_random, chunk_id = obj["key"].split("_")[1:3]
        self.assertEqual(hex_random, chunk_id.split(".")[0][::-1][:6])  # out_s3.rb's hex_random
        self.assertEqual(obj["headers"]["content-type"], "application/json")
        self.assertEqual([json.loads(l)["message"] for l in s3.body(obj).decode().splitlines()], ["line 0", "line 1"])

    def test_web_identity_from_the_environment_irsa(self):
        token_file = self.write("token", "eyJhbGciOiJSUzI1NiJ9.s3-web-identity.token\n")
        creds = CredentialsServer(self, TEMPORARY, "--role-arn", ROLE,
                                  "--web-identity-token", "eyJhbGciOiJSUzI1NiJ9.s3-web-identity.token")
        s3 = S3Server(self, TEMPORARY)
        env = {"AWS_ROLE_ARN": ROLE, "AWS_WEB_IDENTITY_TOKEN_FILE": token_file, "AWS_ENDPOINT_URL_STS": creds.url}
        p = self.ship(s3, credentials=None, env=env)
        p.wait_until(lambda: len(s3.objects()) >= 1, 20, "an object")
        self.assertEqual(p.stop(), 0)
        self.assertEqual(self.messages(s3), ["line 0", "line 1", "line 2"])
        self.assertEqual(s3.stats()["sigv4_keys"], [TEMPORARY[0][0]])
        self.assertIn("web identity (role %s)" % ROLE, p.stderr())
        for secret in (TEMPORARY[0][1], TEMPORARY[0][2], "s3-web-identity.token"):
            self.assertNotIn(secret, p.stderr())

    def test_web_identity_credentials_section(self):
        token_file = self.write("token", "the-token")
        creds = CredentialsServer(self, TEMPORARY, "--role-arn", ROLE, "--web-identity-token", "the-token")
        s3 = S3Server(self, TEMPORARY)
        section = """<web_identity_credentials>
    role_arn %s
    role_session_name sluice-s3-session
    web_identity_token_file %s
    sts_endpoint_url %s
  </web_identity_credentials>""" % (ROLE, token_file, creds.url)
        p = self.ship(s3, credentials=section, lines=1)
        p.wait_until(lambda: len(s3.objects()) >= 1, 20, "an object")
        self.assertEqual(p.stop(), 0)
        self.assertEqual(creds.stats()["session_names"], ["sluice-s3-session"])
        self.assertEqual(self.messages(s3), ["line 0"])

    def test_instance_profile_credentials_section(self):
        creds = CredentialsServer(self, TEMPORARY)
        s3 = S3Server(self, TEMPORARY)
        port = creds.url.rsplit(":", 1)[1]
        section = "<instance_profile_credentials>\n    ip_address 127.0.0.1\n    port %s\n" \
                  "  </instance_profile_credentials>" % port
        p = self.ship(s3, credentials=section, lines=1)
        p.wait_until(lambda: len(s3.objects()) >= 1, 20, "an object")
        self.assertEqual(p.stop(), 0)
        self.assertEqual(creds.stats()["imds"], 1)  # IMDSv2, once: the credentials are cached
        self.assertIn("the instance profile (http://127.0.0.1:%s)" % port, p.stderr())
        self.assertEqual(self.messages(s3), ["line 0"])

    def test_a_missing_bucket_is_created_or_reported(self):
        s3 = S3Server(self, [KEY], buckets=())
        p = self.ship(s3, extra="auto_create_bucket false")
        p.wait_until(lambda: "The specified bucket does not exist: bucket = logs" in p.stderr(), 20, "the error")
        p.stop()
        self.assertEqual(s3.objects(), [])
        p = self.ship(s3)  # auto_create_bucket true, the default: CreateBucket with LocationConstraint eu-west-1
        p.wait_until(lambda: len(s3.objects()) >= 1, 20, "an object")
        self.assertEqual(p.stop(), 0)
        self.assertEqual(s3.stats()["create_bucket"], 1)
        self.assertEqual(self.messages(s3), ["line 0", "line 1", "line 2"])

    def test_configuration_errors_name_file_and_line(self):
        cases = [
            ("<assume_role_credentials>\n    role_arn x\n    role_session_name y\n  </assume_role_credentials>",
             4, "<assume_role_credentials> is not supported"),
            ("store_as lzo", 4, "store_as lzo is not supported"),
            ("aws_profile prod", 4, "aws_profile is not supported"),
            ("s3_endpoint https://s3.eu-west-1.amazonaws.com", 4, "s3_endpoint parameter is not supported for S3"),
            ("index_format %s", 4, "index_format parameter should follow"),
            ("hex_random_length 17", 4, "hex_random_length parameter must be less than or equal to 16"),
            ("s3_object_key_format %{path}%{uuid}.gz", 4, "%{uuid} placeholder in s3_object_key_format is removed"),
            ("s3_buckett logs", 4, "did you mean 's3_bucket'"),
        ]
        for extra, line, message in cases:
            conf = self.config("<match **>\n  @type s3\n  s3_bucket logs\n  %s\n</match>\n" % extra)
            r = run(["--dry-run", "-c", conf])
            self.assertNotEqual(r.returncode, 0, extra)
            self.assertIn("%s:%d: " % (conf, line), r.stderr.decode(), extra)
            self.assertIn(message, r.stderr.decode(), extra)


if __name__ == "__main__":
    main()

"""`@type cloudwatch_logs` (fluent-plugin-cloudwatch-logs' out_cloudwatch_logs) against
tests/servers/cloudwatch_logs_server.py, which checks every request's SigV4 signature as AWS does,
enforces PutLogEvents' limits and stores the events: messages as the Ruby plugin makes them (the
record as JSON, or message_keys joined), groups and streams created, names from the tag and from
record keys, throttling and 5xx retried with nothing lost or doubled, a wrong secret refused and
never logged, large chunks split under the limits, configuration errors with file:line."""
import glob
import json
import os
import time

from aws_support import AwsServer
from harness import SluiceTestCase, cri_line, cri_tail_source, main, run, tail_source
from test_kubernetes_metadata import NRI, KubeletServer, container_file, kubelet_filter, pods_of

KEY = ["AKIACWLTESTKEY0001", "cwl/secret+key0001", None]
WRONG_SECRET = "cwl/not-the-secret+0001"


class CloudWatchServer(AwsServer):
    def __init__(self, test, keys=(KEY,), *args):
        super().__init__(test, "cloudwatch_logs_server.py", "cwl-keys.json", keys, ["--region", "eu-west-1"] + list(args))

    def events(self):
        return self.get("/_control/events")

    def count(self):
        return sum(len(evs) for streams in self.events().values() for evs in streams.values())


def now_cri(i, text=None, at=None):
    """A CRI line stamped now (CloudWatch rejects events older than 14 days), i ms apart."""
    t = (at if at is not None else time.time()) + i / 1000.0
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%09dZ" % int((t % 1) * 1e9)
    return "%s stdout F %s\n" % (stamp, text if text is not None else "line %d" % i), int(t * 1000)


class CloudWatchLogsOutputTest(SluiceTestCase):
    def write_lines(self, name, texts, start=None):
        start = start if start is not None else time.time()
        lines, stamps = [], []
        for i, text in enumerate(texts):
            line, ms = now_cri(i, text, start)
            lines.append(line)
            stamps.append(ms)
        return self.write(name, "".join(lines)), stamps

    def conf(self, server, source, match_body, buffer="", credentials=None, buffer_body=""):
        credentials = credentials or "aws_key_id %s\n  aws_sec_key %s" % tuple(KEY[:2])
        return self.config(source + """
<match **>
  @type cloudwatch_logs
  region eu-west-1
  endpoint %s
  %s
  %s
  <buffer%s>
    flush_mode interval
    flush_interval 0.3s
    retry_wait 0.2s
    retry_randomize false
    %s
  </buffer>
</match>
""" % (server.url, credentials, match_body, buffer, buffer_body))

    # --- what lands in CloudWatch ------------------------------------------------------------------

    def test_cri_lines_become_json_messages_in_a_created_group_and_stream(self):
        cw = CloudWatchServer(self)
        log, stamps = self.write_lines("app.log", ["line %d" % i for i in range(5)] + ['say "hi"\ttab \x01'])
        conf = self.conf(cw, tail_source(log, self.path("pos"), "app.web"), """
  log_group_name /eks/sluice/${tag[0]}
  log_stream_name ${tag}
  auto_create_stream true
  retention_in_days 7
  log_group_aws_tags {"team":"logs","tag":"${tag}"}""", buffer=" tag")
        p = self.start(["-c", conf])
        p.wait_until(lambda: cw.count() >= 6, 20, "6 events")
        self.assertEqual(p.stop(), 0)
        events = cw.events()
        self.assertEqual(list(events), ["/eks/sluice/app"])
        self.assertEqual(list(events["/eks/sluice/app"]), ["app.web"])
        got = events["/eks/sluice/app"]["app.web"]
        self.assertEqual([e["timestamp"] for e in got], stamps)
        # The record as Yajl dumps it (json_handler yajl): compact, insertion order, \u00XX upper case.
        first = json.loads(got[0]["message"])
        self.assertEqual(first["message"], "line 0")
        self.assertEqual(got[0]["message"], json.dumps(first, separators=(",", ":")))
        self.assertIn('"message":"say \\"hi\\"\\ttab \\u0001"', got[5]["message"])
        groups = cw.get("/_control/groups")
        self.assertEqual(groups["/eks/sluice/app"], {"retentionInDays": 7, "tags": {"team": "logs", "tag": "app.web"}})
        stats = cw.stats()
        self.assertEqual(stats["sigv4_failures"], 0)
        self.assertEqual(stats["requests"]["CreateLogGroup"], 1)
        self.assertEqual(stats["requests"]["CreateLogStream"], 1)
        self.assertEqual(stats["requests"]["PutRetentionPolicy"], 1)
        self.assertNotIn(KEY[1], p.stderr())

    def test_the_daemonset_cloudwatch_images_match_with_kubernetes_metadata(self):
        # fluentd-kubernetes-daemonset docker-image/v1.19/debian-cloudwatch/conf/fluent.conf's
        # <match>, with the endpoint and keys of the test server added; RETENTION_IN_DAYS and
        # LOG_REJECTED_REQUEST unset, as in the image by default ("nil".to_i is 0: no retention;
        # "" is true).
        kubelet = KubeletServer(self, NRI)
        cw = CloudWatchServer(self)
        pods = {p["metadata"]["name"]: p for p in pods_of(NRI)}
        hpa = pods["e2e-hpa-6cd8d99884-tggnr"]
        name = container_file(hpa, "php-apache")
        lines = [now_cri(i, "request %d" % i)[0] for i in range(3)] + [cri_line(0, text="from 2024")]
        self.write("var/log/containers/" + name, "".join(lines))
        conf = self.config(cri_tail_source(self.dir) + kubelet_filter(self, kubelet) + """
<match **>
  @type cloudwatch_logs
  @id out_cloudwatch_logs
  log_group_name "#{ENV['LOG_GROUP_NAME']}"
  auto_create_stream true
  use_tag_as_stream true
  retention_in_days "#{ENV['RETENTION_IN_DAYS'] || 'nil'}"
  json_handler yajl # To avoid UndefinedConversionError
  log_rejected_request "#{ENV['LOG_REJECTED_REQUEST']}" # Log rejected request for missing parts
  endpoint %s
  <buffer>
    flush_interval 0.3s
  </buffer>
</match>
""" % cw.url)
        env = {"LOG_GROUP_NAME": "/eks/cluster/containers", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": KEY[0],
               "AWS_SECRET_ACCESS_KEY": KEY[1], "K8S_NODE_NAME": "", "KUBERNETES_SERVICE_HOST": ""}
        p = self.start(["-c", conf], env=env)
        p.wait_until(lambda: cw.count() >= 3 and "tooOldLogEventEndIndex" in p.stderr(), 20, "3 events")
        self.assertEqual(p.stop(), 0)
        tag = "kubernetes." + self.path("var/log/containers", name).lstrip("/").replace("/", ".")
        got = cw.events()["/eks/cluster/containers"][tag]
        self.assertEqual([json.loads(e["message"])["message"] for e in got], ["request 0", "request 1", "request 2"])
        record = json.loads(got[0]["message"])
        self.assertEqual(record["kubernetes"]["pod_name"], "e2e-hpa-6cd8d99884-tggnr")
        self.assertEqual(record["kubernetes"]["namespace_name"], "scraper")
        self.assertEqual(cw.get("/_control/groups")["/eks/cluster/containers"]["retentionInDays"], None)
        self.assertEqual(cw.stats()["rejected"], 1)  # the 2024 line: older than 14 days
        self.assertIn('{"tooOldLogEventEndIndex":1}', p.stderr())  # log_rejected_request ""

    def test_names_from_record_keys_are_removed_and_message_keys_are_joined(self):
        cw = CloudWatchServer(self, (KEY,), "--group", "g1", "--stream", "g1:s-old")
        records = [{"grp": "g1", "strm": "s-a", "level": "info", "message": "a1", "empty": ""},
                   {"grp": "g2", "strm": "s-b", "level": "", "message": "b1"},
                   {"grp": "g1", "strm": "s-a", "level": "warn", "message": "a2"},
                   {"grp": "g1", "message": "no stream"},
                   {"grp": "g1", "strm": "s-a", "other": "x"}]
        log = self.write("app.json", "".join(json.dumps(r) + "\n" for r in records))
        conf = self.conf(cw, tail_source(log, self.path("pos"), "app", parser="json"), """
  log_group_name_key grp
  log_stream_name_key strm
  remove_log_group_name_key true
  remove_log_stream_name_key true
  auto_create_stream true
  message_keys level,message""")
        p = self.start(["-c", conf])
        p.wait_until(lambda: cw.count() >= 3, 20, "3 events")
        time.sleep(0.5)
        self.assertEqual(p.stop(), 0)
        events = cw.events()
        self.assertEqual([e["message"] for e in events["g1"]["s-a"]], ["info a1", "warn a2"])
        self.assertEqual([e["message"] for e in events["g2"]["s-b"]], ["b1"])
        self.assertEqual(events["g1"]["s-old"], [])
        err = p.stderr()
        self.assertIn("stream_name is nil (group_name=g1)", err)
        self.assertIn("do not have non-empty record. Skip.", err)

    def test_the_record_as_json_without_the_removed_key_and_json_handler_json(self):
        cw = CloudWatchServer(self, (KEY,), "--group", "grp")
        record = {"s": "one", "msg": "m\x1f", "n": 1.5, "e": "", "k": {"a": [1]}}
        log = self.write("app.json", json.dumps(record, separators=(",", ":")) + "\n")
        conf = self.conf(cw, tail_source(log, self.path("pos"), "app", parser="json"), """
  log_group_name grp
  log_stream_name_key s
  remove_log_stream_name_key true
  auto_create_stream true
  json_handler json
  include_tag_key true""")
        p = self.start(["-c", conf])
        p.wait_until(lambda: cw.count() >= 1, 20, "an event")
        self.assertEqual(p.stop(), 0)
        self.assertEqual(cw.events()["grp"]["one"][0]["message"], '{"msg":"m\\u001f","n":1.5,"k":{"a":[1]},"tag":"app"}')

    def test_a_missing_group_without_auto_create_stream_is_skipped_with_a_warning(self):
        cw = CloudWatchServer(self)
        log, _ = self.write_lines("app.log", ["x"])
        conf = self.conf(cw, tail_source(log, self.path("pos"), "app"), "log_group_name nope\n  log_stream_name s")
        p = self.start(["-c", conf])
        p.wait_until(lambda: "Log group 'nope' does not exist" in p.stderr(), 20, "the warning")
        self.assertEqual(p.stop(), 0)
        self.assertEqual(cw.events(), {})
        self.assertNotIn("CreateLogGroup", cw.stats()["requests"])

    # --- retries -------------------------------------------------------------------------------------

    def test_throttling_and_503_are_retried_with_nothing_lost_or_doubled(self):
        self.check_retries_lose_and_double_nothing("")

    def test_a_file_buffer_keeps_only_what_was_not_accepted(self):
        self.check_retries_lose_and_double_nothing("@type file\n    path %s" % self.path("buffer"))

    def check_retries_lose_and_double_nothing(self, buffer_body):
        cw = CloudWatchServer(self, (KEY,), "--group", "g")
        # The first request of a chunk is accepted, then the next ones fail: the chunk's retry must
        # send only what was not accepted.
        cw.control(throttle=4, unavailable=2, **{"pass": 1})
        texts = ["event %d" % i for i in range(60)]
        log, _ = self.write_lines("app.log", texts)
        conf = self.conf(cw, tail_source(log, self.path("pos"), "app"), """
  log_group_name g
  log_stream_name s
  auto_create_stream true
  max_events_per_batch 10
  put_log_events_retry_wait 0.05s
  put_log_events_retry_limit 1""", buffer_body=buffer_body)
        p = self.start(["-c", conf])
        p.wait_until(lambda: cw.count() >= 60, 30, "60 events")
        time.sleep(0.5)
        self.assertEqual(p.stop(), 0)
        got = [json.loads(e["message"])["message"] for e in cw.events()["g"]["s"]]
        self.assertEqual(sorted(got), sorted(texts))
        self.assertEqual(len(got), len(set(got)))
        stats = cw.stats()
        self.assertEqual(stats["throttled"], 4)
        self.assertEqual(stats["unavailable"], 2)
        err = p.stderr()
        self.assertIn("failed to PutLogEvents", err)
        self.assertIn("ThrottlingException", err)
        self.assertTrue(all(put["events"] <= 10 for put in stats["puts"]))

    def test_invalid_sequence_token_is_corrected_as_the_plugin_does(self):
        cw = CloudWatchServer(self, (KEY,), "--stream", "g:s")
        cw.control(legacy_tokens=True)
        log, _ = self.write_lines("app.log", ["a", "b"])
        conf = self.conf(cw, tail_source(log, self.path("pos"), "app"), "log_group_name g\n  log_stream_name s")
        p = self.start(["-c", conf])
        p.wait_until(lambda: cw.count() >= 2, 20, "2 events")
        cw.control(other_writer=1)  # the token sluice holds is stale now
        with open(log, "a") as f:
            f.write(now_cri(0, "c")[0])
        p.wait_until(lambda: cw.count() >= 3, 20, "3 events")
        self.assertEqual(p.stop(), 0)
        puts = cw.stats()["puts"]
        # From DescribeLogStreams, then the answer's, then the expectedSequenceToken of the error.
        self.assertEqual([put["sequenceToken"] for put in puts], ["1", "3"])
        self.assertEqual(cw.stats()["requests"]["PutLogEvents"], 3)
        self.assertIn("updating upload sequence token forcefully", p.stderr())

    # --- credentials ---------------------------------------------------------------------------------

    def test_a_wrong_secret_is_refused_not_retried_and_never_logged(self):
        cw = CloudWatchServer(self)
        log, _ = self.write_lines("app.log", ["secret test"])
        token = "session-token-that-must-not-be-logged"
        conf = self.conf(cw, tail_source(log, self.path("pos"), "app"), """
  log_group_name g
  log_stream_name s
  auto_create_stream true
  <secondary>
    @type secondary_file
    directory %s
  </secondary>""" % self.path("failed"), credentials="# credentials from the environment")
        env = {"AWS_ACCESS_KEY_ID": KEY[0], "AWS_SECRET_ACCESS_KEY": WRONG_SECRET, "AWS_SESSION_TOKEN": token}
        p = self.start(["-c", conf], env=env)
        p.wait_until(lambda: glob.glob(self.path("failed", "*")), 20, "the <secondary> file")
        self.assertEqual(p.stop(), 0)
        err = p.stderr()
        self.assertIn("InvalidSignatureException", err)
        self.assertIn("unrecoverable", err)
        self.assertNotIn(WRONG_SECRET, err)
        self.assertNotIn(token, err)
        self.assertEqual(cw.stats()["sigv4_failures"], 1)  # not retried
        with open(glob.glob(self.path("failed", "*"))[0]) as f:
            line = json.loads(f.readline())
        self.assertEqual((line["logGroupName"], line["logStreamName"]), ("g", "s"))
        self.assertEqual(json.loads(line["message"])["message"], "secret test")

    # --- limits --------------------------------------------------------------------------------------

    def test_a_large_chunk_is_split_under_the_request_limits(self):
        cw = CloudWatchServer(self)
        start = time.time() - 30 * 3600
        # 300 events of ~10 KiB (3 MiB: at least 3 requests), then events 30 hours later (another
        # request: a batch spans less than 24 hours).
        texts = ["%04d " % i + "x" * 10000 for i in range(300)] + ["late %d" % i for i in range(5)]
        lines = [now_cri(i, t, start)[0] for i, t in enumerate(texts[:300])]
        lines += [now_cri(i, t, start + 30 * 3600)[0] for i, t in enumerate(texts[300:])]
        log = self.write("app.log", "".join(lines))
        conf = self.conf(cw, tail_source(log, self.path("pos"), "app"), """
  log_group_name g
  log_stream_name s
  auto_create_stream true""", buffer="")
        p = self.start(["-c", conf])
        p.wait_until(lambda: cw.count() >= 305, 30, "305 events")
        self.assertEqual(p.stop(), 0)
        got = [json.loads(e["message"])["message"] for e in cw.events()["g"]["s"]]
        self.assertEqual(sorted(got), sorted(texts))
        puts = cw.stats()["puts"]
        self.assertGreaterEqual(len(puts), 4)
        self.assertTrue(all(put["bytes"] <= 1048576 for put in puts), puts)

    def test_an_event_over_the_limit_is_unrecoverable_as_in_the_plugin(self):
        cw = CloudWatchServer(self)
        log, _ = self.write_lines("app.log", ["y" * (1048576 + 10)])
        conf = self.conf(cw, tail_source(log, self.path("pos"), "app"),
                         "log_group_name g\n  log_stream_name s\n  auto_create_stream true")
        backup = self.path("backup")
        p = self.start(["-c", conf], env={"FLUENT_BACKUP_DIR": backup})
        p.wait_until(lambda: glob.glob(os.path.join(backup, "backup/worker0/*/*.log")), 20, "a backup file")
        self.assertEqual(p.stop(), 0)
        self.assertIn("is discarded because it is too large", p.stderr())
        self.assertNotIn("PutLogEvents", cw.stats()["requests"])

    def test_max_message_length_cuts_characters(self):
        cw = CloudWatchServer(self)
        log, _ = self.write_lines("app.log", ["h\u00e9llo w\u00f6rld"])
        conf = self.conf(cw, tail_source(log, self.path("pos"), "app"), """
  log_group_name g
  log_stream_name s
  auto_create_stream true
  message_keys message
  max_message_length 4""")
        p = self.start(["-c", conf])
        p.wait_until(lambda: cw.count() >= 1, 20, "an event")
        self.assertEqual(p.stop(), 0)
        self.assertEqual(cw.events()["g"]["s"][0]["message"], "h\u00e9ll")

    # --- configuration -------------------------------------------------------------------------------

    def test_config_errors_name_file_and_line(self):
        cases = [
            ("log_group_name g\n  use_tag_as_group true\n  log_stream_name s",
             "Set only one of log_group_name, use_tag_as_group and log_group_name_key"),
            ("log_group_name g", "Set only one of log_stream_name, use_tag_as_stream and log_stream_name_key"),
            ("log_group_name g\n  log_stream_name s\n  aws_use_sts true", "aws_use_sts is not supported"),
            ("log_group_name g\n  log_stream_name s\n  use_todays_log_stream true", "in_cloudwatch_logs"),
            ("log_group_name g\n  log_stream_name s\n  max_events_per_batch 20000", "max_events_per_batch must be"),
            ("log_group_name ${tag}\n  log_stream_name s", "placeholder ${tag} is not a chunk key"),
            ("log_group_name g\n  log_stream_name s\n  aws_sec_key %s" % KEY[1], "aws_key_id and aws_sec_key go together"),
            ("log_group_name g\n  log_stream_name s\n  json_handler oj", "json_handler"),
            ("log_group_name g\n  log_stream_name s\n  log_group_aws_tags_key t", "log_group_aws_tags_key is not"),
            ("log_group_name g\n  log_stream_name s\n  <format>\n    @type nope\n  </format>", "nope"),
        ]
        for i, (body, message) in enumerate(cases):
            conf = self.config("<match **>\n  @type cloudwatch_logs\n  region eu-west-1\n  %s\n</match>\n" % body,
                               "bad%d.conf" % i)
            r = run(["--dry-run", "-c", conf])
            out = r.stdout.decode() + r.stderr.decode()
            self.assertNotEqual(r.returncode, 0, body)
            self.assertIn(message, out, body)
            self.assertIn("bad%d.conf:" % i, out, body)
            self.assertNotIn(KEY[1], out)
        no_region = self.config("<match **>\n  @type cloudwatch_logs\n  log_group_name g\n  log_stream_name s\n"
                                "</match>\n", "noregion.conf")
        r = run(["--dry-run", "-c", no_region], env={"AWS_REGION": "", "AWS_DEFAULT_REGION": ""})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("region is not set", r.stderr.decode())
        good = self.config("<match **>\n  @type cloudwatch_logs\n  log_group_name g\n  use_tag_as_stream true\n"
                           "  include_time_key true\n  localtime false\n  <format>\n    @type single_value\n"
                           "  </format>\n</match>\n", "good.conf")
        r = run(["--dry-run", "-c", good], env={"AWS_REGION": "us-east-1"})
        self.assertEqual(r.returncode, 0, r.stderr.decode())


if __name__ == "__main__":
    main()

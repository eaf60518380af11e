"""`sluice tail` and in_tail on real files: CRI and docker lines to Fluentd's stdout format,
partial lines, restarts with a position file, new files, signals."""
import os
import signal
import time

from harness import FIXTURES, REPO, SluiceTestCase, cri_line, main, parse_stdout_records, run


class TailOnceTest(SluiceTestCase):
    def test_cri_file_to_stdout_in_fluentd_format(self):
        log = self.write("app.log",
                         "2024-05-01T12:00:00.123456789Z stdout F hello plain text\n"
                         "2024-05-01T12:00:01.000000001+09:00 stderr F tokyo\n")
        r = run(["tail", log, "--parser", "cri", "--tag", "cri.*", "--exit-on-eof"])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        tag = "cri" + log.replace("/", ".")
        self.assertEqual(r.stdout.decode().splitlines(), [
            '2024-05-01 12:00:00.123456789 +0000 %s: {"stream":"stdout","logtag":"F","message":"hello plain text","time":"2024-05-01T12:00:00.123456789Z"}' % tag,
            '2024-05-01 03:00:01.000000001 +0000 %s: {"stream":"stderr","logtag":"F","message":"tokyo","time":"2024-05-01T12:00:01.000000001+09:00"}' % tag,
        ])

    def test_any_parser_type_such_as_nginx(self):
        log = self.write("access.log",
                         '127.0.0.1 - - [28/Feb/2013:12:00:00 +0900] "GET / HTTP/1.1" 200 777 "-" "Opera/12.0"\n')
        r = run(["tail", log, "--parser", "nginx", "--tag", "web", "--exit-on-eof"])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(parse_stdout_records(r.stdout), [
            ("2013-02-28 03:00:00.000000000 +0000", "web",
             {"remote": "127.0.0.1", "host": "-", "user": "-", "method": "GET", "path": "/", "code": "200",
              "size": "777", "referer": "-", "agent": "Opera/12.0"})])
        r = run(["tail", log, "--parser", "nginxx", "--exit-on-eof"])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unknown parser type 'nginxx'", r.stderr.decode())

    def test_partial_lines_are_joined(self):
        log = self.write("p.log",
                         "2024-05-01T12:00:02.5Z stdout P partial-part-1 \n"
                         "2024-05-01T12:00:02.6Z stdout P partial-part-2 \n"
                         "2024-05-01T12:00:02.7Z stdout F partial-part-3\n")
        r = run(["tail", log, "--parser", "cri", "--exit-on-eof"])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        recs = parse_stdout_records(r.stdout)
        self.assertEqual(len(recs), 1)
        self.assertEqual(recs[0][2]["message"], "partial-part-1 partial-part-2 partial-part-3")

    def test_docker_json_file_lines(self):
        log = self.write("d.log",
                         '{"log":"GET /healthz 200\\n","stream":"stdout","time":"2024-05-01T12:00:00.511231067Z"}\n')
        r = run(["tail", log, "--parser", "docker", "--tag", "d", "--exit-on-eof"])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(r.stdout.decode(),
                         '2024-05-01 12:00:00.511231067 +0000 d: {"log":"GET /healthz 200\\n","stream":"stdout"}\n')

    def test_auto_detects_cri_and_docker_in_one_run(self):
        samples = os.path.join(REPO, "deploy/samples")
        r = run(["tail", samples + "/*.log", "--exit-on-eof"])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        recs = parse_stdout_records(r.stdout)
        msgs = [rec.get("message", rec.get("log")) for _, _, rec in recs]
        self.assertIn("starting app version 1.4.2", msgs)
        self.assertIn("2024/05/01 12:00:01 [warn] 7#7: upstream response is buffered\n", msgs)

    def test_to_file_target(self):
        log = self.write("f.log", cri_line(1) + cri_line(2))
        out = self.path("out.log")
        r = run(["tail", log, "--parser", "cri", "--tag", "t", "--to", "file:" + out, "--exit-on-eof"])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        lines = open(out).read().splitlines()
        self.assertEqual(len(lines), 2)
        self.assertTrue(lines[0].startswith("2024-05-01T12:00:00+00:00\tt\t{"), lines[0])

    def test_missing_path_argument_is_a_usage_error(self):
        r = run(["tail"])
        self.assertEqual(r.returncode, 2)


class FollowTest(SluiceTestCase):
    def tail_config(self, extra=""):
        return self.config("""
<source>
  @type tail
  path %(d)s/logs/*.log
  tag k.*
  pos_file %(d)s/tail.pos
  refresh_interval 1
  pos_write_interval 0.1
  %(extra)s
  <parse>
    @type cri
  </parse>
</source>
<match **>
  @type stdout
</match>
""" % {"d": self.dir, "extra": extra})

    def messages(self, proc):
        return [r[2]["message"] for r in proc.records()]

    def test_follow_appends_restart_without_loss_or_duplicates(self):
        os.makedirs(self.path("logs"))
        log = self.path("logs", "a.log")
        with open(log, "w") as f:
            f.write("".join(cri_line(i) for i in range(5)))
        conf = self.tail_config("read_from_head true")
        p = self.start(["-c", conf])
        p.wait_records(5)
        with open(log, "a") as f:
            f.write("".join(cri_line(i) for i in range(5, 10)))
        p.wait_records(10)
        self.assertEqual(p.stop(), 0)
        first = self.messages(p)
        # Fluentd's pos_file line format.
        pos = open(self.path("tail.pos")).read()
        self.assertRegex(pos, r"^%s\t[0-9a-f]{16}\t[0-9a-f]{16}\n$" % log)
        self.assertEqual(int(pos.split("\t")[1], 16), os.path.getsize(log))
        self.assertEqual(int(pos.split("\t")[2], 16), os.stat(log).st_ino)

        with open(log, "a") as f:
            f.write("".join(cri_line(i) for i in range(10, 15)))
        p2 = self.start(["-c", conf])
        p2.wait_records(5)
        time.sleep(0.5)
        self.assertEqual(p2.stop(), 0)
        second = self.messages(p2)
        self.assertEqual(first + second, ["line %d" % i for i in range(15)])

    def test_new_files_are_picked_up(self):
        os.makedirs(self.path("logs"))
        p = self.start(["-c", self.tail_config()])
        time.sleep(0.5)
        with open(self.path("logs", "new.log"), "w") as f:
            f.write(cri_line(1) + cri_line(2))
        recs = p.wait_records(2)
        self.assertEqual(recs[0][1], "k" + self.path("logs", "new.log").replace("/", "."))
        self.assertEqual(p.stop(), 0)

    def test_fluentd_pos_file_is_taken_over(self):
        os.makedirs(self.path("logs"))
        log = self.path("logs", "a.log")
        with open(log, "w") as f:
            f.write("".join(cri_line(i) for i in range(6)))
        done = len("".join(cri_line(i) for i in range(4)))
        # As Fluentd wrote it: 4 lines read, plus a compacted-away deleted entry.
        with open(self.path("tail.pos"), "w") as f:
            f.write("%s\t%016x\t%016x\n" % (log, done, os.stat(log).st_ino))
            f.write("/var/log/gone.log\tffffffffffffffff\t0000000000001234\n")
        p = self.start(["-c", self.tail_config()])
        p.wait_records(2)
        time.sleep(0.3)
        self.assertEqual(p.stop(), 0)
        self.assertEqual(self.messages(p), ["line 4", "line 5"])
        self.assertNotIn("gone.log", open(self.path("tail.pos")).read())

    def test_sigint_and_sigterm_flush_and_exit_zero(self):
        os.makedirs(self.path("logs"))
        with open(self.path("logs", "a.log"), "w") as f:
            f.write(cri_line(1))
        for sig in (signal.SIGINT, signal.SIGTERM):
            if os.path.exists(self.path("tail.pos")):
                os.unlink(self.path("tail.pos"))
            p = self.start(["-c", self.tail_config("read_from_head true")])
            p.wait_records(1)
            t = time.monotonic()
            self.assertEqual(p.stop(sig), 0)
            self.assertLess(time.monotonic() - t, 10)
            self.assertIn("shutting down", p.stderr())


if __name__ == "__main__":
    main()

"""`@type detect_exceptions` as Kubernetes' fluentd-elasticsearch addon and GKE configure it: the
real binary tails a container log, the output re-emits every record without the `raw` prefix and
joins the lines of stack traces per stream. Normal lines stay single, traces arrive whole (also the
one held at shutdown), and a trace held when the process is killed -9 is read again and delivered
after a restart."""
import json
import os

from harness import FIXTURES, SluiceTestCase, main

SOURCE = """
<source>
  @type tail
  path %(d)s/c.log
  pos_file %(d)s/c.pos
  tag raw.kubernetes.*
  read_from_head true
  <parse>
    %(parse)s
  </parse>
</source>
"""
DOCKER = "@type json\n    time_format %Y-%m-%dT%H:%M:%S.%NZ"
CRI = "@type cri"

# The addon's <match>, unchanged but for the message field of the cri parser.
DETECT = """
<match raw.kubernetes.**>
  @id raw.kubernetes
  @type detect_exceptions
  remove_tag_prefix raw
  message %(message)s
  stream stream
  %(flush)s
  max_bytes 500000
  max_lines 1000
  %(extra)s
</match>
<match **>
  @type stdout
</match>
"""

JAVA = ["javax.servlet.ServletException: Something bad happened\n",
        "    at com.example.myproject.OpenSessionInViewFilter.doFilter(OpenSessionInViewFilter.java:60)\n",
        "    at org.mortbay.jetty.servlet.ServletHandler$CachedChain.doFilter(ServletHandler.java:1157)\n",
        "Caused by: com.example.myproject.MyProjectServletException\n",
        "    at com.example.myproject.MyServlet.doPost(MyServlet.java:169)\n",
        "    ... 27 common frames omitted\n"]
PYTHON = ["Traceback (most recent call last):\n",
          "  File \"/app/main.py\", line 5, in <module>\n",
          "    main()\n",
          "ValueError: bad value\n"]
GO = ["panic: boom\n", "\n", "goroutine 1 [running]:\n", "main.main()\n", "\t/app/main.go:5 +0x1d\n"]


def docker_line(second, stream, log):
    return json.dumps({"log": log, "stream": stream, "time": "2024-05-01T12:00:%02d.000000000Z" % second}) + "\n"


class DetectExceptionsTest(SluiceTestCase):
    def conf(self, parse, message="log", flush="multiline_flush_interval 5", extra=""):
        return self.config(SOURCE % {"d": self.dir, "parse": parse} +
                           DETECT % {"message": message, "flush": flush, "extra": extra})

    def position(self):
        """The offset in_tail's position file holds for c.log (0 before it has one)."""
        if not os.path.exists(self.path("c.pos")):
            return 0
        with open(self.path("c.pos")) as f:
            return int(f.read().split("\t")[1], 16)

    def test_traces_are_joined_per_stream_and_other_lines_stay_single(self):
        stderr = JAVA[:1] + [None] + JAVA[1:3] + [None] + JAVA[3:] + PYTHON + [None] + GO
        stdout = iter(["starting\n", "tick 1\n", "tick 2\n", "done\n"])
        lines = [("stdout", next(stdout))] + [("stderr", l) if l else ("stdout", next(stdout)) for l in stderr]
        self.write("c.log", "".join(docker_line(i, s, l) for i, (s, l) in enumerate(lines)))
        # No flush interval: the Go trace at the end is held until shutdown, which must send it.
        p = self.start(["-c", self.conf(DOCKER, flush="")])
        p.wait_records(6)
        self.assertEqual(p.stop(), 0)
        got = p.records()
        tag = "kubernetes." + self.path("c.log").strip("/").replace("/", ".")
        self.assertEqual({g[1] for g in got}, {tag})
        self.assertEqual([(g[2]["stream"], g[2]["log"]) for g in got],
                         [("stdout", "starting\n"), ("stdout", "tick 1\n"), ("stdout", "tick 2\n"),
                          ("stderr", "".join(JAVA)), ("stderr", "".join(PYTHON)), ("stdout", "done\n"),
                          ("stderr", "".join(GO))])
        # A joined record keeps its first line's time.
        self.assertEqual(got[3][0], "2024-05-01 12:00:01.000000000 +0000")
        self.assertEqual(got[6][0], "2024-05-01 12:00:%02d.000000000 +0000" % (len(lines) - len(GO)))

    def test_a_real_java_trace_that_no_rule_starts_passes_line_by_line(self):
        # The fixture's exception line reads "RemoteException(...)" with no "Exception:" after it, so
        # the plugin's Java rules never see a trace begin: every line stays a record of its own.
        with open(os.path.join(FIXTURES, "cri", "real-java-stacktrace-containerd.log")) as f:
            lines = f.read().splitlines(True)
        self.write("c.log", "".join(lines) + "2020-08-19T21:06:25.000000000Z stdout F next\n")
        p = self.start(["-c", self.conf(CRI, message="message", flush="multiline_flush_interval 1")])
        got = p.wait_records(len(lines) + 1)
        self.assertEqual(p.stop(), 0)
        self.assertEqual([g[2]["message"] for g in got],
                         [l.split(" ", 3)[3].rstrip("\n") for l in lines] + ["next"])

    def test_a_trace_held_at_a_kill_is_delivered_whole_after_the_restart(self):
        frames = ["\tat org.apache.hadoop.ipc.Client.call(Client.java:1475)",
                  "\tat org.apache.hadoop.ipc.Client.call(Client.java:1412)",
                  "\tat org.apache.hadoop.fs.FileSystem.exists(FileSystem.java:1424)"]
        trace = ["org.apache.hadoop.ipc.RemoteException: token can't be found in cache"] + frames
        lines = ["2020-08-19T21:06:24.000000000Z stdout F starting\n"] + [
            "2020-08-19T21:06:24.%09dZ stderr F %s\n" % (i + 1, t) for i, t in enumerate(trace)]
        self.write("c.log", "".join(lines))
        # Run 1: the trace is held (nothing after it, a long flush interval). A kill -9 now must
        # not let the position pass it.
        conf = lambda flush: self.conf(CRI, message="message", flush="multiline_flush_interval %d" % flush,
                                       extra="force_line_breaks true")
        p = self.start(["-c", conf(60)])
        got = p.wait_records(1)
        self.assertEqual(got[0][2]["message"], "starting")
        p.kill()
        self.assertLessEqual(self.position(), len(lines[0].encode()))
        # Run 2: read again from there; the trace leaves after the flush interval, whole, with its
        # CRI lines joined by force_line_breaks' newlines.
        p = self.start(["-c", conf(1)])
        got = p.wait_records(2, timeout=30)
        self.assertEqual(got[-1][2]["message"], "\n".join(trace))
        self.assertEqual(got[-1][2]["stream"], "stderr")
        self.assertEqual(got[-1][0], "2020-08-19 21:06:24.000000001 +0000")
        self.assertEqual(p.stop(), 0)
        self.assertEqual(self.position(), len("".join(lines).encode()))


if __name__ == "__main__":
    main()

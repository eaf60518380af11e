"""`@type concat` as Kubernetes configurations use it for CRI split lines (fluentd-observed 3.3):
the real binary, a CRI file with P, P, F fragments, the reference settings. The record is the one
concat makes: the parts joined, its time the last part's, the `time` field the first part's, and
no `logtag` or `stream`. Stack traces joined by multiline_start_regexp, held lines kept safe
from a kill -9."""
import os

from harness import FIXTURES, SluiceTestCase, main

SOURCE = """
<source>
  @type tail
  path %(d)s/c.log
  pos_file %(d)s/c.pos
  tag kubernetes.c
  read_from_head true
  <parse>
    @type cri
  </parse>
</source>
"""


class ConcatTest(SluiceTestCase):
    def test_cri_partials_as_concat_makes_them(self):
        self.write("c.log", "2024-05-01T12:00:02.500000000Z stdout P partial-part-1 \n"
                            "2024-05-01T12:00:02.600000000Z stdout P partial-part-2 \n"
                            "2024-05-01T12:00:02.700000000Z stdout F partial-part-3\n"
                            "2024-05-01T12:00:03.000000000Z stderr F whole\n")
        conf = self.config(SOURCE % {"d": self.dir} + """
<filter kubernetes.**>
  @type concat
  key message
  use_partial_cri_logtag true
  partial_cri_logtag_key logtag
  partial_cri_stream_key stream
  separator ""
</filter>
<match **>
  @type stdout
</match>
""")
        p = self.start(["-c", conf])
        got = p.wait_records(2)
        self.assertEqual(p.stop(), 0)
        self.assertEqual(got[0], ("2024-05-01 12:00:02.700000000 +0000", "kubernetes.c",
                                  {"message": "partial-part-1 partial-part-2 partial-part-3",
                                   "time": "2024-05-01T12:00:02.500000000Z"}))
        self.assertEqual(got[1][2], {"message": "whole", "time": "2024-05-01T12:00:03.000000000Z"})
        self.assertNotIn("separator", p.stderr())

    def stack_trace_conf(self, flush_interval):
        return self.config(SOURCE % {"d": self.dir} + """
<filter kubernetes.**>
  @type concat
  key message
  multiline_start_regexp /^\\S/
  stream_identity_key stream
  flush_interval %d
</filter>
<match **>
  @type stdout
</match>
""" % flush_interval)

    def test_a_real_java_stack_trace_is_joined_and_never_lost(self):
        with open(os.path.join(FIXTURES, "cri", "real-java-stacktrace-containerd.log")) as f:
            lines = f.read().splitlines(True)
        self.write("c.log", "".join(lines))
        messages = [l.split(" ", 3)[3].rstrip("\n") for l in lines]
        # Run 1: the first line is a group of its own, which the exception's first line ends; the
        # exception's group is held (no line after it). A kill -9 now must not let the position
        # pass the held lines.
        p = self.start(["-c", self.stack_trace_conf(30)])
        got = p.wait_records(1)
        self.assertEqual(got[0][2]["message"], messages[0])
        self.assertEqual(got[0][0], "2020-08-19 21:06:24.337540770 +0000")  # the line that ended it
        p.kill()
        offset = 0
        if os.path.exists(self.path("c.pos")):
            with open(self.path("c.pos")) as f:
                offset = int(f.read().split("\t")[1], 16)
        self.assertLessEqual(offset, len(lines[0].encode()))
        # Run 2: read again from there; the held group leaves after flush_interval (no @ERROR
        # label: down the route), whole.
        p = self.start(["-c", self.stack_trace_conf(1)])
        got = p.wait_records(2, timeout=30)
        self.assertEqual(got[-1][2]["message"], "\n".join(messages[1:]))
        self.assertEqual(got[-1][2]["stream"], "stderr")
        self.assertEqual(p.stop(), 0)
        self.assertIn("Timeout flush", p.stderr())

if __name__ == "__main__":
    main()

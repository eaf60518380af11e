"""`@type concat` as Kubernetes configurations use it for CRI split lines (fluentd-observed 3.3):
the real binary, a CRI file with P, P, F fragments, the reference settings. The record is the one
concat makes: the parts joined, its time the last part's, the `time` field the first part's, and
no `logtag` or `stream`. A concat form sluice does not do stops the start with a clear error."""
from harness import SluiceTestCase, main, run, text

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

    def test_a_stack_trace_concat_is_a_clear_configuration_error(self):
        conf = self.config(SOURCE % {"d": self.dir} + """
<filter kubernetes.**>
  @type concat
  key message
  multiline_start_regexp /^\\d{4}-\\d{2}-\\d{2}/
  flush_interval 5
</filter>
<match **>
  @type null
</match>
""")
        r = run(["--dry-run", "-c", conf])
        self.assertEqual(r.returncode, 1)
        self.assertRegex(text(r.stderr), r"fluent.conf:16: concat: multiline_start_regexp is not supported.*"
                                         r"<parse> @type multiline")


if __name__ == "__main__":
    main()

"""`@type multi_format` in the real binary: the container source of Kubernetes' fluentd-elasticsearch
addon (docker JSON lines, else CRI lines through a regexp) on a file holding both, and the same
parser inside a parser filter, where a value no pattern parses goes to @ERROR."""
from harness import SluiceTestCase, json_lines, main

PATTERNS = """
    <pattern>
      format json
      time_key time
      time_format %Y-%m-%dT%H:%M:%S.%NZ
    </pattern>
    <pattern>
      format /^(?<time>.+) (?<stream>stdout|stderr) [^ ]* (?<log>.*)$/
      time_format %Y-%m-%dT%H:%M:%S.%N%:z
    </pattern>
"""


class MultiFormatTest(SluiceTestCase):
    def test_the_addon_container_source(self):
        self.write("c.log", '{"log":"from docker\\n","stream":"stdout","time":"2024-05-01T12:00:00.5Z"}\n'
                            "2024-05-01T12:00:01.000000000+00:00 stderr F from cri\n"
                            "garbage\n")
        conf = self.config("""
<source>
  @type tail
  path %s/c.log
  pos_file %s/c.pos
  tag raw.kubernetes.c
  read_from_head true
  <parse>
    @type multi_format
%s
  </parse>
</source>
<match **>
  @type stdout
</match>
""" % (self.dir, self.dir, PATTERNS))
        p = self.start(["-c", conf])
        got = p.wait_records(3)
        self.assertEqual(p.stop(), 0)
        self.assertEqual(got[0], ("2024-05-01 12:00:00.500000000 +0000", "raw.kubernetes.c",
                                  {"log": "from docker\n", "stream": "stdout"}))
        self.assertEqual(got[1], ("2024-05-01 12:00:01.000000000 +0000", "raw.kubernetes.c",
                                  {"stream": "stderr", "log": "from cri"}))
        self.assertEqual(got[2][2], {"message": "garbage", "_parse_error": "pattern not matched"})
        self.assertEqual(p.stderr().count("pattern not matched"), 1)

    def test_inside_a_parser_filter(self):
        self.write("m.log", '{"log":"2024-05-01T12:00:01.000000000+00:00 stdout F inner"}\n'
                            '{"log":"no pattern"}\n')
        conf = self.config("""
<source>
  @type tail
  path %(d)s/m.log
  pos_file %(d)s/m.pos
  tag app
  read_from_head true
  <parse>
    @type json
  </parse>
</source>
<filter app>
  @type parser
  key_name log
  <parse>
    @type multi_format
%(p)s
  </parse>
</filter>
<match app>
  @type stdout
</match>
<label @ERROR>
  <match **>
    @type file
    path %(d)s/errors
    append true
    <format>
      @type json
    </format>
    <buffer>
      flush_mode immediate
    </buffer>
  </match>
</label>
""" % {"d": self.dir, "p": PATTERNS})
        p = self.start(["-c", conf])
        got = p.wait_records(1)
        p.wait_until(lambda: json_lines(self.path("errors*.log")), 20, "the @ERROR file")
        self.assertEqual(p.stop(), 0)
        self.assertEqual(got[0][2], {"stream": "stdout", "log": "inner"})
        self.assertEqual(json_lines(self.path("errors*.log")), [{"log": "no pattern"}])


if __name__ == "__main__":
    main()

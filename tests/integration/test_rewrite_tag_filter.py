"""`@type rewrite_tag_filter` in the real binary: records of one tailed file take new tags from
their fields and reach the <match> of each new tag; the file's position covers them once they
are written; a rule that feeds its own <match> again is stopped, not a crash."""
import json

from harness import SluiceTestCase, json_lines, main


class RewriteTagFilterTest(SluiceTestCase):
    def source(self):
        return """
<source>
  @type tail
  path %(d)s/app.log
  pos_file %(d)s/app.pos
  tag app.web
  read_from_head true
  <parse>
    @type json
  </parse>
</source>
""" % {"d": self.dir}

    def test_records_reach_the_match_of_their_new_tag(self):
        lines = [{"level": "error", "msg": "disk"}, {"level": "info", "msg": "up"}, {"level": "warn", "msg": "slow"},
                 {"msg": "no level"}]
        self.write("app.log", "".join(json.dumps(l) + "\n" for l in lines))
        conf = self.config(self.source() + """
<match app.**>
  @type rewrite_tag_filter
  <rule>
    key level
    pattern /^(error|warn)$/
    tag alert.$1.${tag_parts[1]}
  </rule>
  <rule>
    key level
    pattern /.+/
    tag normal.${tag}
  </rule>
</match>
<match alert.**>
  @type stdout
</match>
<match normal.**>
  @type file
  path %(d)s/normal
  append true
  <format>
    @type json
  </format>
  <buffer>
    flush_mode immediate
  </buffer>
</match>
""" % {"d": self.dir})
        p = self.start(["-c", conf])
        got = p.wait_records(2)
        self.assertEqual([(t, r) for _, t, r in got], [("alert.error.web", lines[0]), ("alert.warn.web", lines[2])])
        p.wait_until(lambda: self.file_records(), 20, "the normal.** file")
        self.assertEqual(p.stop(), 0)
        self.assertEqual(self.file_records(), [lines[1]])
        with open(self.path("app.pos")) as f:
            self.assertIn("\t%016x\t" % sum(len(json.dumps(l)) + 1 for l in lines), f.read())

    def file_records(self):
        return json_lines(self.path("normal*.log"))

    def test_a_rule_that_loops_is_stopped_and_said(self):
        self.write("app.log", '{"level":"info"}\n')
        conf = self.config(self.source() + """
<match **>
  @type rewrite_tag_filter
  <rule>
    key level
    pattern /./
    tag again.${tag}
  </rule>
</match>
""")
        p = self.start(["-c", conf])
        p.wait_until(lambda: "came back 16 times" in p.stderr(), 20, "the loop warning")
        self.assertEqual(p.stop(), 0)


if __name__ == "__main__":
    main()

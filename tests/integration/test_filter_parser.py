"""`@type parser` (Fluentd's filter_parser) in the real binary: a tailed file's JSON messages
become fields, with their own time; lines that are not JSON go to the @ERROR label whole; a typo in
the filter is a configuration error naming the line."""
from harness import SluiceTestCase, json_lines, main, run, text


class FilterParserTest(SluiceTestCase):
    def conf(self, filter_body, error_label=True):
        return self.config("""
<source>
  @type tail
  path %(d)s/app.log
  pos_file %(d)s/app.pos
  tag app.web
  read_from_head true
  <parse>
    @type none
  </parse>
</source>
<filter app.**>
  @type parser
  key_name message
%(body)s
  <parse>
    @type json
    time_key ts
    time_format %%Y-%%m-%%dT%%H:%%M:%%S%%z
  </parse>
</filter>
<match app.**>
  @type stdout
</match>
%(label)s
""" % {"d": self.dir, "body": filter_body, "label": """<label @ERROR>
  <match **>
    @type file
    path %s/errors
    append true
    <format>
      @type json
    </format>
    <buffer>
      flush_mode immediate
    </buffer>
  </match>
</label>""" % self.dir if error_label else ""})

    def test_json_messages_become_fields_and_the_rest_goes_to_error(self):
        self.write("app.log", '{"ts":"2024-05-01T10:00:00+0000","level":"info","msg":"up"}\n'
                              'GET /healthz 200\n'
                              '{"level":"warn","nested":{"a":1}}\n'
                              '{"ts":"yesterday","msg":"bad time"}\n')
        p = self.start(["-c", self.conf("")])
        got = p.wait_records(2)
        self.assertEqual(got[0], ("2024-05-01 10:00:00.000000000 +0000", "app.web", {"level": "info", "msg": "up"}))
        self.assertEqual(got[1][1:], ("app.web", {"level": "warn", "nested": {"a": 1}}))
        p.wait_until(lambda: len(self.error_lines()) >= 2, 20, "2 records in @ERROR's file")
        self.assertEqual(p.stop(), 0)
        self.assertEqual(self.error_lines(), [{"message": "GET /healthz 200"}, {"message": '{"ts":"yesterday","msg":"bad time"}'}])
        self.assertEqual(len(p.records()), 2)

    def error_lines(self):
        return json_lines(self.path("errors*.log"))

    def test_a_typo_is_a_configuration_error(self):
        r = run(["--dry-run", "-c", self.conf("  reserve_dat true", error_label=False)])
        self.assertEqual(r.returncode, 1)
        self.assertRegex(text(r.stderr), r"fluent.conf:15: unknown parameter 'reserve_dat'.*did you mean 'reserve_data'")


if __name__ == "__main__":
    main()

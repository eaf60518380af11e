"""The record_modifier, dedot and throttle filters with the real binary: CRI container logs tailed
through them to stdout (and @ERROR), as a user swapping Fluentd's DaemonSet for sluice sees them,
and the parameters they refuse at start-up named with file:line."""
import datetime
import json
import time

from harness import SluiceTestCase, main, parse_stdout_records, run


def cri(*messages, stream="stdout"):
    """CRI log lines, one second apart, each a complete (F) line."""
    return b"".join(b"2024-05-01T12:00:%02d.000000000Z %s F %s\n"
                    % (i, stream.encode(), m if isinstance(m, bytes) else m.encode())
                    for i, m in enumerate(messages))


def tail(d, name, tag, nested_json=True):
    """An in_tail source of <d>/<name>.log with the cri parser (its message parsed as JSON)."""
    inner = "\n    <parse>\n      @type json\n    </parse>" if nested_json else ""
    return """
<source>
  @type tail
  path %(d)s/%(name)s.log
  pos_file %(d)s/%(name)s.pos
  tag %(tag)s
  read_from_head true
  <parse>
    @type cri%(inner)s
  </parse>
</source>
""" % {"d": d, "name": name, "tag": tag, "inner": inner}


class RecordFiltersTest(SluiceTestCase):
    def run_config(self, conf, wait_lines, settle=0.7):
        """Runs `conf` until stdout holds `wait_lines` lines, lets it settle, stops it; returns
        (out_stdout records, JSON lines printed by the @ERROR label, stderr)."""
        p = self.start(["-c", self.config(conf)])
        p.wait_until(lambda: p.stdout().count(b"\n") >= wait_lines, what="%d lines" % wait_lines)
        time.sleep(settle)
        self.assertEqual(p.stop(), 0, p.stderr()[-2000:])
        lines = p.stdout().split(b"\n")
        errors = [json.loads(l) for l in lines if l.startswith(b"{")]
        recs = parse_stdout_records(b"\n".join(l for l in lines if l and not l.startswith(b"{")))
        return recs, errors, p.stderr()

    def test_record_modifier_then_dedot_on_container_logs(self):
        d = self.dir
        self.write("app.log", cri(
            '{"user":{"name":"ana"},"labels":{"app.kubernetes.io/name":"web"},'
            '"msg":"login password=hunter2 ok","level":"info"}',
            '{"labels":{"app.kubernetes.io/name":"db"},"msg":"no user","level":"warn"}'))
        self.write("raw.log", cri(b"caf\xc3\xa9 ok", b"bad \xff\xfe byte"))
        conf = tail(d, "app", "kubernetes.var.log.containers.app_ns_web-1.log") + \
            tail(d, "raw", "raw.node", nested_json=False) + """
<filter kubernetes.**>
  @type record_modifier
  <record>
    who ${record["user"]["name"].upcase}
    container ${tag_parts[4].split("_")[2]}
    summary ${record["level"]}: ${record["msg"]}
    seconds ${time}
    gone "#{use_nil}"
  </record>
  remove_keys logtag, $.user.name
  <replace>
    key summary
    expression /password=\\S+/
    replace password=[hidden]
  </replace>
</filter>
<filter kubernetes.**>
  @type dedot
  de_dot_nested true
</filter>
<filter raw.**>
  @type record_modifier
  char_encoding utf-8:utf-8
  whitelist_keys message, stream
</filter>
<match {kubernetes,raw}.**>
  @type stdout
</match>
<label @ERROR>
  <match **>
    @type stdout
    <format>
      @type json
    </format>
  </match>
</label>
""" % {}
        recs, errors, _ = self.run_config(conf, 4)
        by_tag = {}
        for when, tag, rec in recs:
            by_tag.setdefault(tag, []).append(rec)
            if "seconds" in rec:  # `${time}`: the event time's seconds, an Integer
                at = datetime.datetime.strptime(when[:19] + when[29:], "%Y-%m-%d %H:%M:%S %z")
                self.assertEqual(rec.pop("seconds"), int(at.timestamp()))
        app = by_tag["kubernetes.var.log.containers.app_ns_web-1.log"]
        self.assertEqual(app, [{
            "stream": "stdout", "user": {}, "labels": {"app_kubernetes_io/name": "web"},
            "msg": "login password=hunter2 ok", "level": "info", "who": "ANA",
            "container": "web-1", "summary": "info: login password=[hidden] ok",
            "gone": None}])
        # The second record has no "user": the expression raises and the record goes to @ERROR
        # as the Ruby plugin leaves it (nothing set yet, nothing removed, keys not dedotted).
        self.assertEqual(errors, [{"stream": "stdout", "logtag": "F",
                                   "labels": {"app.kubernetes.io/name": "db"}, "msg": "no user",
                                   "level": "warn"}])
        self.assertEqual(by_tag["raw.node"], [{"message": "caf\u00e9 ok", "stream": "stdout"},
                                              {"message": "bad \ufffd\ufffd byte", "stream": "stdout"}])

    def throttle_config(self, drop):
        d = self.dir
        lines = ['{"kubernetes":{"container_name":"web"},"n":%d}' % i for i in range(8)]
        lines[2:2] = ['{"kubernetes":{"container_name":"db"},"n":%d}' % i for i in range(3)]
        self.write("c.log", cri(*lines))
        return tail(d, "c", "kube.c") + """
<filter kube.**>
  @type throttle
  group_bucket_period_s 86400
  group_bucket_limit 5
  group_warning_delay_s 3600
  group_drop_logs %s
</filter>
<match kube.**>
  @type stdout
</match>
""" % ("true" if drop else "false")

    def test_throttle_drops_a_group_over_its_limit_and_warns_once(self):
        recs, _, err = self.run_config(self.throttle_config(True), 8)
        seen = [(r["kubernetes"]["container_name"], r["n"]) for _, _, r in recs]
        self.assertEqual(seen, [("web", 0), ("web", 1), ("db", 0), ("db", 1), ("db", 2),
                                ("web", 2), ("web", 3), ("web", 4)])
        warnings = [l for l in err.splitlines() if "rate exceeded" in l]
        self.assertEqual(len(warnings), 1, err)
        self.assertIn('[warn]: ', warnings[0])
        self.assertIn('rate exceeded group_key=["web"] rate_s=', warnings[0])
        self.assertIn("period_s=86400 limit=5 rate_limit_s=0 reset_rate_s=0", warnings[0])

    def test_throttle_without_drop_keeps_everything_and_warns(self):
        recs, _, err = self.run_config(self.throttle_config(False), 11)
        self.assertEqual(len(recs), 11)
        self.assertIn('rate exceeded group_key=["web"]', err)

    def test_unsupported_parameters_are_refused_with_file_and_line(self):
        conf = self.config("""<source>
  @type sample
  tag x
</source>
<filter x>
  @type record_modifier
  prepare_value @x = 'y'
</filter>
<filter x>
  @type record_modifier
  allowlist_keys a
</filter>
<filter x>
  @type record_modifier
  <record>
    h ${Socket.gethostname}
  </record>
</filter>
<filter x>
  @type dedot
  de_dot_separator _._
</filter>
<filter x>
  @type throttle
  group_bucket_period_s 0
</filter>
<filter x>
  @type record_modifier
  char_encoding utf-8:shift_jis
</filter>
<match x>
  @type null
</match>
""")
        for case, (line, message) in enumerate((
                (7, "record_modifier: prepare_value"),
                (11, "record_modifier: allowlist_keys is not a parameter"),
                (16, "`${Socket.gethostname}` is Ruby that sluice does not evaluate"),
                (21, "dedot: Invalid de_dot_separator: cannot be or contain '.'"),
                (25, "throttle: group_bucket_period_s must be > 0"),
                (29, "record_modifier: char_encoding: sluice does not convert to encoding 'shift_jis'"))):
            with self.subTest(case=case):
                r = run(["--dry-run", "-c", conf])
                self.assertEqual(r.returncode, 1)
                self.assertIn("%s:%d: " % (conf, line), r.stderr.decode())
                self.assertIn(message, r.stderr.decode())

    def test_plugins_lists_every_parameter(self):
        out = run(["plugins"]).stdout.decode()
        for name in ("record_modifier", "dedot", "throttle", "prepare_value", "char_encoding",
                     "whitelist_keys", "de_dot_nested", "de_dot_separator", "group_key",
                     "group_bucket_period_s", "group_bucket_limit", "group_drop_logs",
                     "group_reset_rate_s", "group_warning_delay_s"):
            self.assertIn(name, out)


if __name__ == "__main__":
    main()

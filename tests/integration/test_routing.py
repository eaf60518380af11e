"""Fluentd routing with the real binary: tag patterns (`*`, `**`, `{a,b}`, several patterns in one
<match>), filters in declared order, first matching <match> wins, @label on sources, relabel,
copy to stdout and file, null, and unmatched tags (warned once, process keeps running)."""
import glob
import json
import os
import time

from harness import SluiceTestCase, main, parse_stdout_records


def source(d, name, tag, label=None):
    """An in_tail source reading <d>/<name>.log from the head, one record per line ({"message"})."""
    return """
<source>
  @type tail
  path %(d)s/%(name)s.log
  tag %(tag)s
  read_from_head true
  refresh_interval 1
  pos_file %(d)s/%(name)s.pos
  %(label)s
  <parse>
    @type none
  </parse>
</source>
""" % {"d": d, "name": name, "tag": tag, "label": "@label %s" % label if label else ""}


def route_label(name):
    """A label that marks each record with route=<name> and prints it."""
    return """
<label @%(n)s>
  <filter **>
    @type record_transformer
    <record>
      route %(n)s
      tag_seen ${tag}
    </record>
  </filter>
  <match **>
    @type stdout
  </match>
</label>
""" % {"n": name}


class RoutingTest(SluiceTestCase):
    def log(self, name, *lines):
        self.write(name + ".log", "".join(l + "\n" for l in lines), mode="a")

    def run_config(self, conf, expected, settle=0.7):
        """Starts sluice with `conf`, waits for `expected` stdout records, lets it settle (to see
        anything extra), stops it with SIGTERM and returns (records, stderr)."""
        p = self.start(["-c", self.config(conf)])
        p.wait_records(expected)
        time.sleep(settle)
        self.assertEqual(p.stop(), 0, p.stderr()[-2000:])
        return p.records(), p.stderr()

    def test_tag_patterns_and_first_match_wins(self):
        d = self.dir
        cases = {
            # name: (tag, expected route)
            "ax": ("a.x", "STAR"),          # a.* (first match) although a.** matches too
            "axy": ("a.x.y", "SECOND"),     # a.* does not match two parts: falls to a.**
            "bzw": ("b.z.w", "DSTAR"),      # b.** matches any depth
            "b": ("b", "DSTAR"),            # ... including zero parts after b
            "cq": ("c.q", "BRACE"),         # {c,d}.q
            "dq": ("d.q", "BRACE"),
            "eone": ("e.one", "MULTI"),     # <match e.* f.*>
            "ftwo": ("f.two", "MULTI"),
            "gq": ("g.q", "REST"),          # none of the above: the catch-all
        }
        conf = ""
        for name, (tag, _) in cases.items():
            self.log(name, "from %s" % name)
            conf += source(d, name, tag)
        conf += """
<match a.*>
  @type relabel
  @label @STAR
</match>
<match a.**>
  @type relabel
  @label @SECOND
</match>
<match b.**>
  @type relabel
  @label @DSTAR
</match>
<match {c,d}.q>
  @type relabel
  @label @BRACE
</match>
<match e.* f.*>
  @type relabel
  @label @MULTI
</match>
<match **>
  @type relabel
  @label @REST
</match>
<match a.x>
  @type stdout
</match>
"""
        for label in ("STAR", "SECOND", "DSTAR", "BRACE", "MULTI", "REST"):
            conf += route_label(label)
        recs, err = self.run_config(conf, len(cases))
        self.assertEqual(len(recs), len(cases), recs)
        got = {r[2]["message"]: (r[1], r[2]["route"], r[2]["tag_seen"]) for r in recs}
        for name, (tag, route) in cases.items():
            self.assertEqual(got["from %s" % name], (tag, route, tag), name)
        self.assertNotIn("no patterns matched", err)

    def test_filters_apply_in_declared_order(self):
        d = self.dir
        self.log("app", "keep one", "drop me", "keep two")
        self.log("other", "other line")
        conf = source(d, "app", "app.web") + source(d, "other", "other.x") + """
<filter app.**>
  @type record_transformer
  <record>
    a 1
    seq first
  </record>
</filter>
<filter other.**>
  @type record_transformer
  <record>
    wrong_filter yes
  </record>
</filter>
<filter app.**>
  @type grep
  <exclude>
    key message
    pattern /^drop/
  </exclude>
</filter>
<filter app.**>
  @type stdout
  <format>
    @type json
  </format>
</filter>
<filter **>
  @type record_transformer
  <record>
    b ${record["a"]}2
    seq ${record["seq"]},second
    part ${tag_parts[1]}
  </record>
</filter>
<match **>
  @type stdout
</match>
<filter **>
  @type record_transformer
  <record>
    after_match yes
  </record>
</filter>
"""
        p = self.start(["-c", self.config(conf)])
        p.wait_until(lambda: p.stdout().count(b"\n") >= 5, what="5 lines")
        time.sleep(0.7)
        self.assertEqual(p.stop(), 0, p.stderr()[-2000:])
        lines = p.stdout().decode().splitlines()
        # filter_stdout prints the records as they are at its place in the chain (json format).
        printed = [json.loads(l) for l in lines if l.startswith("{")]
        self.assertEqual(printed, [{"message": "keep one", "a": "1", "seq": "first"},
                                   {"message": "keep two", "a": "1", "seq": "first"}])
        recs = parse_stdout_records("\n".join(l for l in lines if not l.startswith("{")).encode())
        app = [r[2] for r in recs if r[1] == "app.web"]
        self.assertEqual(app, [
            {"message": "keep one", "a": "1", "seq": "first,second", "b": "12", "part": "web"},
            {"message": "keep two", "a": "1", "seq": "first,second", "b": "12", "part": "web"},
        ])
        # Key order is the order the filters added them.
        self.assertEqual(list(app[0].keys()), ["message", "a", "seq", "b", "part"])
        other = [r[2] for r in recs if r[1] == "other.x"]
        self.assertEqual(other, [{"message": "other line", "wrong_filter": "yes", "b": "2",
                                  "seq": ",second", "part": "x"}])

    def test_label_on_source_jumps_to_label(self):
        d = self.dir
        self.log("raw", "raw line")
        self.log("top", "top line")
        conf = source(d, "raw", "raw.x", label="@RAW") + source(d, "top", "top.x") + """
<filter **>
  @type record_transformer
  <record>
    where top
  </record>
</filter>
<match **>
  @type stdout
</match>
<label @RAW>
  <filter **>
    @type record_transformer
    <record>
      where raw-label
    </record>
  </filter>
  <match **>
    @type stdout
  </match>
</label>
"""
        recs, _ = self.run_config(conf, 2)
        got = sorted((r[1], r[2]["message"], r[2]["where"]) for r in recs)
        self.assertEqual(got, [("raw.x", "raw line", "raw-label"), ("top.x", "top line", "top")])

    def test_enable_ruby_expressions_and_the_error_label(self):
        # A JSON app log parsed into the record, then a record_transformer as users write it with
        # enable_ruby; a record whose expression raises (no "user" hash) goes to @ERROR.
        d = self.dir
        self.log("app", '{"user":{"name":"Ana"},"level":"warn","msg":"disk 91%"}',
                 '{"level":"info","msg":"no user here"}')
        conf = """
<source>
  @type tail
  path %(d)s/app.log
  tag app.web.pod-7
  read_from_head true
  pos_file %(d)s/app.pos
  <parse>
    @type json
  </parse>
</source>
<filter app.**>
  @type record_transformer
  enable_ruby true
  <record>
    who ${record["user"]["name"].upcase}
    severity ${record["level"] == "warn" ? "WARNING" : record["level"].upcase}
    pod ${tag_parts.last}
    percent ${record["msg"] =~ /(\d+)%%/ ? record["msg"].match(/(?<n>\d+)%%/)["n"].to_i : nil}
    words ${record["msg"].gsub(/\d+%%/, "N").split(/\s+/)}
    at ${time.utc.iso8601}
  </record>
  remove_keys user
</filter>
<match app.**>
  @type stdout
</match>
<label @ERROR>
  <match app.**>
    @type stdout
    <format>
      @type json
    </format>
  </match>
</label>
""" % {"d": d}
        p = self.start(["-c", self.config(conf)])
        p.wait_until(lambda: p.stdout().count(b"\n") >= 2, what="2 lines")
        time.sleep(0.5)
        self.assertEqual(p.stop(), 0, p.stderr()[-2000:])
        lines = p.stdout().decode().splitlines()
        errors = [json.loads(l) for l in lines if l.startswith("{")]
        self.assertEqual(errors, [{"level": "info", "msg": "no user here"}])
        recs = parse_stdout_records("\n".join(l for l in lines if not l.startswith("{")).encode())
        self.assertEqual(len(recs), 1, lines)
        rec = recs[0][2]
        self.assertRegex(rec.pop("at"), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(rec, {"level": "warn", "msg": "disk 91%", "who": "ANA",
                               "severity": "WARNING", "pod": "pod-7", "percent": 91, "words": ["disk", "N"]})

    def test_copy_to_stdout_and_file(self):
        d = self.dir
        self.log("c", "copied 1", "copied 2")
        conf = source(d, "c", "copy.me") + """
<match copy.**>
  @type copy
  <store>
    @type stdout
  </store>
  <store>
    @type file
    path %s/out/copied
    append true
    <buffer tag>
      flush_mode immediate
    </buffer>
  </store>
</match>
""" % d
        recs, _ = self.run_config(conf, 2)
        self.assertEqual([r[2]["message"] for r in recs], ["copied 1", "copied 2"])
        files = glob.glob(os.path.join(d, "out", "copied*"))
        self.assertEqual(len(files), 1, files)
        with open(files[0]) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 2, lines)
        for line, msg in zip(lines, ["copied 1", "copied 2"]):
            t, tag, body = line.split("\t")
            self.assertEqual(tag, "copy.me")
            self.assertEqual(json.loads(body), {"message": msg})

    def test_null_discards(self):
        d = self.dir
        self.log("drop", "dropped 1", "dropped 2")
        self.log("keep", "kept")
        conf = source(d, "drop", "drop.x") + source(d, "keep", "keep.x") + """
<match drop.**>
  @type null
</match>
<match **>
  @type stdout
</match>
"""
        recs, err = self.run_config(conf, 1, settle=1.0)
        self.assertEqual([(r[1], r[2]["message"]) for r in recs], [("keep.x", "kept")])
        self.assertNotIn("no patterns matched", err)

    def test_unmatched_tag_warned_once_and_process_keeps_running(self):
        d = self.dir
        self.log("lost", "lost 1")
        self.log("seen", "seen 1")
        conf = source(d, "lost", "lost.tag") + source(d, "seen", "seen.tag") + """
<match seen.**>
  @type stdout
</match>
"""
        p = self.start(["-c", self.config(conf)])
        p.wait_records(1)
        p.wait_until(lambda: "no patterns matched" in p.stderr(), what="the warning")
        # More unmatched events, in later batches: no second warning.
        for i in range(2, 5):
            self.log("lost", "lost %d" % i)
            time.sleep(0.2)
        self.log("seen", "seen 2")
        recs = p.wait_records(2)
        time.sleep(0.3)
        self.assertIsNone(p.proc.poll(), "sluice must keep running")
        self.assertEqual(p.stop(), 0)
        self.assertEqual([r[2]["message"] for r in recs], ["seen 1", "seen 2"])
        err = p.stderr()
        self.assertEqual(err.count('no patterns matched tag="lost.tag"'), 1, err)


if __name__ == "__main__":
    main()

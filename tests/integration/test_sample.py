"""`@type sample` (and its old name `dummy`) in the real binary: events at the configured rate from
the sample records in turn, a counter field, and configuration mistakes named by line."""
from harness import SluiceTestCase, main, run, text


class SampleInputTest(SluiceTestCase):
    def test_records_in_turn_with_a_counter(self):
        conf = self.config("""
<source>
  @type sample
  tag sample.app
  rate 50
  size 2
  auto_increment_key n
  sample [{"level":"info","n":null,"ctx":{"a":[1]}},{"level":"warn","ok":true,"x":1.5}]
</source>
<match sample.**>
  @type stdout
</match>
""")
        p = self.start(["-c", conf])
        got = p.wait_records(10)
        self.assertEqual(p.stop(), 0)
        self.assertEqual([r for _, _, r in got[:4]],
                         [{"level": "info", "n": 0, "ctx": {"a": [1]}}, {"level": "warn", "ok": True, "x": 1.5, "n": 1},
                          {"level": "info", "n": 2, "ctx": {"a": [1]}}, {"level": "warn", "ok": True, "x": 1.5, "n": 3}])
        self.assertEqual({t for _, t, _ in got}, {"sample.app"})
        self.assertEqual(got[0][0], got[1][0])  # one event stream of `size` records, one time

    def test_dummy_and_mistakes(self):
        conf = self.config("""
<source>
  @type dummy
  tag d
  dummy {"message":"hi"}
</source>
<source>
  @type sample
  tag bad
  sample [1]
</source>
<source>
  @type sample
  tag bad2
  sample nope
</source>
<match **>
  @type null
</match>
""")
        r = run(["--dry-run", "-c", conf])
        self.assertEqual(r.returncode, 1)
        err = text(r.stderr)
        self.assertRegex(err, r"fluent.conf:10: 0th element of sample, 1, is not a hash")
        self.assertRegex(err, r"fluent.conf:15: sample: invalid JSON")
        self.assertNotIn("fluent.conf:5", err)


if __name__ == "__main__":
    main()

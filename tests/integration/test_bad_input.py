"""Bad input never crashes sluice and never loses the lines around it: invalid UTF-8, a 10 MiB
line, truncated JSON, a binary file."""
import json
import os

from harness import SluiceTestCase, cri_line, main, parse_stdout_records, run, text


class BadInputTest(SluiceTestCase):
    def tail(self, path, parser):
        r = run(["tail", path, "--parser", parser, "--tag", "t", "--exit-on-eof"], timeout=120)
        self.assertEqual(r.returncode, 0, text(r.stderr)[-2000:])
        return parse_stdout_records(r.stdout), text(r.stderr)

    def test_invalid_utf8_is_passed_through(self):
        p = self.write("u.log", cri_line(1).encode() +
                       b"2024-05-01T12:00:00Z stdout F bad\xff\xfebytes ctrl\x01\n" + cri_line(2).encode())
        recs, _ = self.tail(p, "cri")
        self.assertEqual(len(recs), 3)
        self.assertEqual(recs[1][2]["message"], "bad\udcff\udcfebytes ctrl\x01")
        self.assertEqual(recs[2][2]["message"], "line 2")

    def test_ten_mib_line_between_normal_lines(self):
        big = "x" * (10 * 1024 * 1024)
        p = self.write("big.log", cri_line(1) + cri_line(2, text=big) + cri_line(3))
        recs, _ = self.tail(p, "cri")
        self.assertEqual([len(r[2]["message"]) for r in recs], [6, len(big), 6])

    def test_truncated_and_garbage_json_lines_are_kept(self):
        good = '{"log":"ok %d\\n","stream":"stdout","time":"2024-05-01T12:00:00Z"}\n'
        p = self.write("j.log", good % 1 + '{"log":"truncated, "stre\n' + "not json at all\n" + good % 2)
        recs, err = self.tail(p, "json")
        self.assertEqual(len(recs), 4)
        self.assertEqual(recs[0][2]["log"], "ok 1\n")
        self.assertEqual(recs[3][2]["log"], "ok 2\n")
        self.assertIn("_parse_error", recs[1][2])
        self.assertIn("truncated", json.dumps(recs[1][2]))
        self.assertIn("j.log", err, "the warning names the file")

    def test_binary_file_does_not_crash(self):
        data = bytes((i * 7919) % 256 for i in range(200000))
        p = self.write("bin.log", data + b"\n" + cri_line(9).encode())
        recs, _ = self.tail(p, "cri")
        self.assertEqual(recs[-1][2]["message"], "line 9")

    def test_unparsable_cri_lines_are_kept_and_counted(self):
        p = self.write("c.log", cri_line(1) + "this line is not cri\n" + cri_line(2))
        recs, err = self.tail(p, "cri")
        self.assertEqual(len(recs), 3)
        self.assertEqual(recs[1][2]["message"], "this line is not cri")
        self.assertIn("_parse_error", recs[1][2])


if __name__ == "__main__":
    main()

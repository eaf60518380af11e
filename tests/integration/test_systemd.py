"""source systemd end to end: journal files built with systemd-journal-remote from export-format
entries; matches, fields_strip_underscores, tag and time; the cursor persisted after delivery and a
restart continuing after it; a journal file written later; a missing journal directory; --dry-run
of the daemonset's systemd.conf."""
import json
import os
import struct
import subprocess
import time

from harness import FIXTURES, SluiceTestCase, main, run, text

JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"
BOOT = "0123456789abcdef0123456789abcdef"
DAEMONSET_SYSTEMD = os.path.join(FIXTURES, "fluentd-k8s-daemonset/docker-image/v1.18/debian-elasticsearch7/conf/systemd.conf")


def export_entry(usec, unit, message):
    out = b"__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=%s\n_SYSTEMD_UNIT=%s\nPRIORITY=6\n" % (
        usec, usec % 10**9, BOOT.encode(), unit.encode())
    if isinstance(message, bytes):  # binary form: name, newline, little-endian 64-bit size, data
        out += b"MESSAGE\n" + struct.pack("<Q", len(message)) + message + b"\n"
    else:
        out += b"MESSAGE=" + message.encode() + b"\n"
    return out + b"\n"


class SystemdTest(SluiceTestCase):
    def journal(self, name, entries):
        os.makedirs(self.path("journal"), exist_ok=True)
        subprocess.run([JOURNAL_REMOTE, "-o", self.path("journal", name + ".journal"), "-"],
                       input=b"".join(entries), check=True, capture_output=True, timeout=30)

    def conf(self, journal_dir=None):
        return self.config("""
<source>
  @type systemd
  @id in_systemd_kubelet
  path %s
  matches [{ "_SYSTEMD_UNIT": "kubelet.service" }]
  <storage>
    @type local
    persistent true
    path %s
  </storage>
  <entry>
    fields_strip_underscores true
  </entry>
  read_from_head true
  tag kubelet
</source>
<match **>
  @type stdout
</match>
""" % (journal_dir or self.path("journal"), self.path("cursor.json")))

    def test_matches_fields_cursor_restart_and_new_file(self):
        base = 1700000000 * 10**6
        self.journal("a", [export_entry(base + 123456, "kubelet.service", "k1"),
                           export_entry(base + 10**6, "docker.service", "d1"),
                           export_entry(base + 2 * 10**6, "kubelet.service", b"bin\x01\x02\nary"),
                           export_entry(base + 3 * 10**6, "kubelet.service", "k3")])
        conf = self.conf()
        s = self.start(["-c", conf])
        recs = s.wait_records(3)
        self.assertEqual(len(recs), 3)
        t, tag, r = recs[0]
        self.assertEqual(tag, "kubelet")
        self.assertEqual(t, "2023-11-14 22:13:20.123456000 +0000")
        self.assertEqual(r["SYSTEMD_UNIT"], "kubelet.service")
        self.assertNotIn("_SYSTEMD_UNIT", r)
        self.assertEqual(r["BOOT_ID"], BOOT)
        self.assertEqual(r["MESSAGE"], "k1")
        self.assertEqual(r["PRIORITY"], "6")
        self.assertEqual(recs[1][2]["MESSAGE"], "bin\x01\x02\nary")
        self.assertEqual([x[2]["MESSAGE"] for x in recs[2:]], ["k3"])

        # A journal file written later is picked up.
        self.journal("b", [export_entry(base + 4 * 10**6, "kubelet.service", "k4")])
        recs = s.wait_records(4)
        self.assertEqual(recs[3][2]["MESSAGE"], "k4")
        s.wait_until(lambda: os.path.exists(self.path("cursor.json")), 10, "the cursor file")
        self.assertEqual(s.stop(), 0)
        with open(self.path("cursor.json")) as f:
            cursor = json.load(f)
        self.assertTrue(cursor["journal"].startswith("s="), cursor)
        self.assertFalse(os.path.exists(self.path("cursor.json.tmp")))

        # The restart continues after the cursor: no duplicates, none lost.
        self.journal("c", [export_entry(base + 5 * 10**6, "kubelet.service", "k5"),
                           export_entry(base + 6 * 10**6, "docker.service", "d6")])
        s2 = self.start(["-c", conf])
        recs = s2.wait_records(1)
        s2.wait_until(lambda: "reading journal" in s2.stderr(), 10, "the journal to open")
        time.sleep(1.5)
        recs = s2.records()
        self.assertEqual([x[2]["MESSAGE"] for x in recs], ["k5"])
        self.assertEqual(s2.stop(), 0)

    def test_missing_journal_directory_is_a_warning(self):
        conf = self.conf(self.path("no-such-journal"))
        s = self.start(["-c", conf])
        s.wait_until(lambda: "no-such-journal does not exist" in s.stderr(), 10, "the warning")
        self.assertIn("[warn]", s.stderr())
        self.assertEqual(s.stop(), 0)

    def test_daemonset_systemd_conf_dry_run(self):
        conf = self.config("@include %s\n<match **>\n  @type null\n</match>\n" % DAEMONSET_SYSTEMD)
        r = run(["--dry-run", "-c", conf])
        self.assertEqual(r.returncode, 0, text(r.stderr) + text(r.stdout))


if __name__ == "__main__":
    main()

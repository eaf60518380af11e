"""in_tail loses and repeats nothing: a writer appends numbered lines fast while the test rotates
(kubelet rename-and-create, logrotate create and copytruncate), truncates, deletes, and restarts
sluice cleanly and with kill -9. Each scenario checks which sequence numbers arrived."""
import collections
import os
import re
import signal
import subprocess
import sys
import time

from harness import SluiceTestCase, main

WRITER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "log_writer.py")
SEQ = re.compile(r"^seq (\d+) ")


def read_text(path):
    with open(path) as f:
        return f.read()


class Writer:
    def __init__(self, path, count, rate=20000, start=0):
        self.proc = subprocess.Popen([sys.executable, WRITER, path, str(count), "--rate", str(rate),
                                      "--start", str(start)], stdout=subprocess.PIPE)

    def reopen(self):
        os.kill(self.proc.pid, signal.SIGUSR1)

    def wait(self, timeout=60):
        out, _ = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0
        return out

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class ScenarioTest(SluiceTestCase):
    def setUp(self):
        super().setUp()
        os.makedirs(self.path("logs"))
        self.log = self.path("logs", "app.log")
        self.writers = []

    def tearDown(self):
        for w in self.writers:
            w.kill()
        super().tearDown()

    def writer(self, count, rate=20000, start=0):
        w = Writer(self.log, count, rate, start)
        self.writers.append(w)
        return w

    def conf(self, extra="", glob="*.log"):
        return self.config("""
<source>
  @type tail
  path %(d)s/logs/%(glob)s
  tag app.*
  pos_file %(d)s/app.pos
  read_from_head true
  refresh_interval 1
  rotate_wait 1
  pos_write_interval 0.2
  %(extra)s
  <parse>
    @type cri
  </parse>
</source>
<match **>
  @type stdout
</match>
""" % {"d": self.dir, "extra": extra, "glob": glob})

    def seqs(self, *procs):
        out = []
        for p in procs:
            for _, _, rec in p.records():
                m = SEQ.match(rec["message"])
                self.assertIsNotNone(m, rec)
                out.append(int(m.group(1)))
        return out

    def wait_all(self, procs, n, timeout=40):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(set(self.seqs(*procs))) >= n:
                return
            time.sleep(0.1)

    def assert_exactly(self, got, n, allowed_missing=(), max_dups=0):
        counts = collections.Counter(got)
        missing = sorted(set(range(n)) - set(counts) - set(allowed_missing))
        dups = sum(c - 1 for c in counts.values())
        self.assertEqual(missing[:20], [], "%d lines lost" % len(missing))
        self.assertLessEqual(dups, max_dups, "%d lines repeated" % dups)
        return dups

    def test_kubelet_rename_and_create_during_fast_writes(self):
        p = self.start(["-c", self.conf()])
        w = self.writer(30000, rate=15000)
        for i in range(3):
            time.sleep(0.5)
            # kubelet: rename 0.log to 0.log.<timestamp>, then the runtime reopens 0.log.
            os.rename(self.log, self.log + ".2024050112000%d" % i)
            time.sleep(0.05)
            w.reopen()
        w.wait()
        self.wait_all([p], 30000)
        self.assertEqual(p.stop(), 0)
        self.assert_exactly(self.seqs(p), 30000)

    def test_logrotate_create_mode(self):
        state = self.path("logrotate.state")
        rot = self.write("logrotate.conf", """%s {
  rotate 5
  create
  missingok
  nocompress
}
""" % self.log)
        p = self.start(["-c", self.conf()])
        w = self.writer(20000, rate=10000)
        for _ in range(2):
            time.sleep(0.6)
            subprocess.run(["/usr/sbin/logrotate", "-f", "-s", state, rot], check=True)
            w.reopen()
        w.wait()
        self.wait_all([p], 20000)
        self.assertEqual(p.stop(), 0)
        self.assert_exactly(self.seqs(p), 20000)

    def test_logrotate_copytruncate_window_is_counted(self):
        state = self.path("logrotate.state")
        rot = self.write("logrotate.conf", """%s {
  rotate 5
  copytruncate
  missingok
  nocompress
}
""" % self.log)
        p = self.start(["-c", self.conf()])
        w = self.writer(20000, rate=10000)
        time.sleep(0.8)
        subprocess.run(["/usr/sbin/logrotate", "-f", "-s", state, rot], check=True)
        w.wait()
        time.sleep(2)
        self.assertEqual(p.stop(), 0)
        got = self.seqs(p)
        counts = collections.Counter(got)
        lost = 20000 - len(counts)
        dups = sum(c - 1 for c in counts.values())
        # Lines written between logrotate's copy and its truncate exist only in the copy, which
        # does not match the glob: that window is inherent to copytruncate. So are the lines the
        # tailer had not read yet when the truncate came (a loaded machine or a sanitizer build
        # lags by a few hundred milliseconds). It is reported; the bound is far below the ~8,000
        # lines of the copy and the ~12,000 written after it.
        print("copytruncate: %d lost (unread at the truncate or in the copy window), %d repeated"
              % (lost, dups), file=sys.stderr)
        self.assertEqual(dups, 0)
        self.assertLess(lost, 5000)
        # Whatever was lost is one contiguous run (the unread lines and the window), nothing else.
        if lost:
            missing = sorted(set(range(20000)) - set(counts))
            self.assertEqual(missing[-1] - missing[0] + 1, len(missing))

    def test_copytruncate_copy_matching_the_glob_is_not_shipped_again(self):
        # logrotate copies app.log to app.log.1 (which `app.log*` matches), then truncates.
        state = self.path("logrotate.state")
        rot = self.write("logrotate.conf", """%s {
  rotate 5
  copytruncate
  missingok
  nocompress
}
""" % self.log)
        p = self.start(["-c", self.conf("file_identity fingerprint", glob="app.log*")])
        w = self.writer(20000, rate=10000)
        time.sleep(0.8)
        subprocess.run(["/usr/sbin/logrotate", "-f", "-s", state, rot], check=True)
        w.wait()
        self.wait_all([p], 20000, timeout=20)
        time.sleep(1)
        self.assertEqual(p.stop(), 0)
        self.assertIn("is a copy of", p.stderr())
        # The copy is read only past where the original was read: nothing twice (without the
        # fingerprint the whole copy, ~8,000 lines, would be shipped again). Lines written
        # between logrotate's copy and its truncate are in neither file: that window may be lost,
        # as one contiguous run, and nothing else.
        counts = collections.Counter(self.seqs(p))
        self.assertEqual(sum(c - 1 for c in counts.values()), 0, "lines repeated")
        missing = sorted(set(range(20000)) - set(counts))
        print("copytruncate with fingerprint: %d lost in the window" % len(missing), file=sys.stderr)
        self.assertLess(len(missing), 2000)
        if missing:
            self.assertEqual(missing[-1] - missing[0] + 1, len(missing))

    def test_truncate_then_new_lines(self):
        with open(self.log, "w") as f:
            f.write("".join("2024-05-01T12:00:00Z stdout F seq %d old\n" % i for i in range(100)))
        p = self.start(["-c", self.conf()])
        self.wait_all([p], 100)
        open(self.log, "w").close()
        time.sleep(0.3)
        w = self.writer(500, start=100)
        w.wait()
        self.wait_all([p], 600)
        self.assertEqual(p.stop(), 0)
        self.assert_exactly(self.seqs(p), 600)

    def test_deleted_file_is_read_to_the_end(self):
        p = self.start(["-c", self.conf("read_block_size 4k")])
        w = self.writer(20000, rate=40000)
        w.wait()
        # The pod is deleted right after its container exits: the file goes at once.
        os.unlink(self.log)
        self.wait_all([p], 20000)
        # Once read to the end and delivered, the deleted file's descriptor and entry go.
        pos = self.path("app.pos")
        p.wait_until(lambda: "app.log" not in read_text(pos), 15, "the position entry to go")
        self.assertEqual(p.stop(), 0)
        self.assert_exactly(self.seqs(p), 20000)

    def test_clean_restart_mid_write(self):
        conf = self.conf()
        p1 = self.start(["-c", conf])
        w = self.writer(20000, rate=10000)
        time.sleep(0.8)
        self.assertEqual(p1.stop(), 0)
        time.sleep(0.3)
        p2 = self.start(["-c", conf])
        w.wait()
        self.wait_all([p1, p2], 20000)
        self.assertEqual(p2.stop(), 0)
        self.assert_exactly(self.seqs(p1, p2), 20000)

    def test_kill_9_mid_write_repeats_only_the_unsaved_window(self):
        conf = self.conf()
        p1 = self.start(["-c", conf])
        w = self.writer(20000, rate=10000)
        time.sleep(1.0)
        p1.kill()
        time.sleep(0.3)
        p2 = self.start(["-c", conf])
        w.wait()
        self.wait_all([p1, p2], 20000)
        self.assertEqual(p2.stop(), 0)
        # At 10,000 lines/s and a 0.2 s position write interval, at most ~2,000 lines (plus what
        # one read block holds) can be read again; nothing may be lost.
        dups = self.assert_exactly(self.seqs(p1, p2), 20000, max_dups=4000)
        print("kill -9: %d lines read again" % dups, file=sys.stderr)

    def test_rotation_while_sluice_is_down_is_resumed(self):
        conf = self.conf()
        p1 = self.start(["-c", conf])
        w = self.writer(5000, rate=20000)
        w.wait()
        self.wait_all([p1], 5000)
        self.assertEqual(p1.stop(), 0)
        w = self.writer(3000, rate=50000, start=5000)  # written while sluice is down
        w.wait()
        os.rename(self.log, self.log + ".1")
        w = self.writer(2000, rate=50000, start=8000)  # the new file
        w.wait()
        p2 = self.start(["-c", conf])
        self.wait_all([p1, p2], 10000)
        self.assertEqual(p2.stop(), 0)
        self.assert_exactly(self.seqs(p1, p2), 10000)


if __name__ == "__main__":
    main()

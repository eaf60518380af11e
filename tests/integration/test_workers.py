"""<system> workers N: files are spread evenly over the workers, each record is read once, and
positions survive a change in the number of workers."""
import collections
import os
import re

from harness import SluiceTestCase, main

SEQ = re.compile(r"^f(\d+) seq (\d+)$")


def read_pos(path):
    out = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                p, off, ino = line.rstrip("\n").split("\t")
                out[p] = int(off, 16)
    return out


class WorkersTest(SluiceTestCase):
    def conf(self, workers):
        return self.config("""
<system>
  workers %d
</system>
<source>
  @type tail
  path %s/logs/*.log
  tag w.*
  pos_file %s/tail.pos
  read_from_head true
  pos_write_interval 0.1
  <parse>
    @type none
  </parse>
</source>
<match **>
  @type stdout
</match>
""" % (workers, self.dir, self.dir), name="w%d.conf" % workers)

    def append(self, start, count):
        for f in range(8):
            with open(self.path("logs", "f%d.log" % f), "a") as out:
                out.write("".join("f%d seq %d\n" % (f, i) for i in range(start, start + count)))

    def run_until(self, workers, total):
        p = self.start(["-c", self.conf(workers)])
        p.wait_until(lambda: len(p.records()) >= total, 20, "%d records" % total)
        self.assertEqual(p.stop(), 0)
        return [SEQ.match(r[2]["message"]).groups() for r in p.records()]

    def test_files_are_spread_evenly_and_read_once_across_worker_changes(self):
        os.makedirs(self.path("logs"))
        self.append(0, 100)
        got = self.run_until(2, 800)
        # 8 files over 2 workers: 4 each, each in its worker's position file.
        w0, w1 = read_pos(self.path("tail.pos")), read_pos(self.path("tail.pos.worker1"))
        self.assertEqual((len(w0), len(w1)), (4, 4))
        self.assertEqual(set(w0) | set(w1), {self.path("logs", "f%d.log" % f) for f in range(8)})

        self.append(100, 50)
        got += self.run_until(1, 400)   # one worker takes over worker 1's positions
        self.append(150, 50)
        got += self.run_until(2, 400)   # and back to two
        counts = collections.Counter(got)
        want = {(str(f), str(i)) for f in range(8) for i in range(200)}
        self.assertEqual(set(counts), want)
        self.assertEqual(max(counts.values()), 1, "a record was read twice")


if __name__ == "__main__":
    main()

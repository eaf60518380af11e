"""<system> workers N: files are spread evenly over the workers, each record is read once,
positions survive a change in the number of workers, and an idle worker takes files over from a
busy one."""
import collections
import glob
import json
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
    STDOUT = "@type stdout"
    # Acknowledged only when a chunk is written, every 0.3 s: a file that moves waits for that.
    FILE = """@type file
  path %s/out/records
  append true
  <buffer>
    flush_mode interval
    flush_interval 0.3s
  </buffer>"""

    NONE = "@type none"
    # Each record is a group of two lines: its "f<file> seq <n> ..." line and "  at <n>".
    GROUPS = """@type multiline
    format_firstline /^f\\d+ seq/
    format1 /^(?<message>.*)/"""

    def conf(self, workers, output=STDOUT, pos_write_interval=0.1, parse=NONE):
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
  pos_write_interval %s
  multiline_flush_interval 0.5
  <parse>
    %s
  </parse>
</source>
<match **>
  %s
</match>
""" % (workers, self.dir, self.dir, pos_write_interval, parse, output), name="w%d.conf" % workers)

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

    def test_an_idle_worker_takes_over_a_file_from_a_busy_one(self):
        self.check_takeover(self.STDOUT, lambda p: [r[2]["message"] for r in p.records()])

    def test_a_file_moves_only_once_its_outputs_acknowledged_it(self):
        def written(p):
            out = []
            for name in sorted(glob.glob(self.path("out", "*"))):
                with open(name) as f:
                    out += [json.loads(line.split("\t", 2)[2])["message"] for line in f]
            return out
        self.check_takeover(self.FILE % self.dir, written)

    def test_a_file_moves_while_its_parser_holds_a_group_open(self):
        # Every block read ends inside an open group; the receiver reads that group again.
        self.check_takeover(self.STDOUT, lambda p: [r[2]["message"] for r in p.records()],
                            groups=True)

    @staticmethod
    def record_lines(f, start, end, pad, groups):
        return "".join("f%d seq %d %s\n" % (f, i, pad) + ("  at %d\n" % i if groups else "")
                       for i in range(start, end))

    @staticmethod
    def file_and_seq(message, groups):
        first, _, rest = message.partition("\n")
        f, seq = SEQ.match(first.rsplit(" ", 1)[0]).groups()
        assert rest == ("  at %s" % seq if groups else ""), "record split or joined: %r" % message
        return f, seq

    def backlog(self, lines=60000, groups=False):
        """Two large files for worker 0 and a tiny one for worker 1, given to them by position
        files from an earlier run: worker 1 is idle at once while worker 0 has a backlog in two."""
        os.makedirs(self.path("logs"))
        pad = "x" * 80
        big = [self.path("logs", "big%d.log" % b) for b in range(2)]
        tiny = self.path("logs", "tiny.log")
        for b, name in enumerate(big):
            with open(name, "w") as out:
                out.write(self.record_lines(b, 0, lines, pad, groups))
        with open(tiny, "w") as out:
            out.write(self.record_lines(2, 0, 1, pad, groups))

        def entry(name):
            return "%s\t%016x\t%016x\n" % (name, 0, os.stat(name).st_ino)
        self.write("tail.pos", entry(big[0]) + entry(big[1]))
        self.write("tail.pos.worker1", entry(tiny))
        return big, tiny, pad

    def test_the_giver_drops_its_entry_as_soon_as_the_receiver_has_one(self):
        big, tiny, _ = self.backlog()
        # Positions are written every minute only: the giver's entry goes because the
        # receiver's confirmation wakes it, not because its timer came round.
        p = self.start(["-c", self.conf(2, pos_write_interval=60)])
        p.wait_until(lambda: "moving " in p.stderr(), 20, "a file to move")
        moved = re.search(r"moving (\S+) to worker 1", p.stderr()).group(1)
        p.wait_until(lambda: moved not in read_pos(self.path("tail.pos")), 5, "the giver's entry to go")
        self.assertIn(moved, read_pos(self.path("tail.pos.worker1")))
        self.assertEqual(p.stop(), 0)

    def check_takeover(self, output, messages, groups=False):
        lines = 60000 if not groups else 40000
        big, tiny, pad = self.backlog(lines, groups)
        parse = self.GROUPS if groups else self.NONE

        def run(workers):
            seen = len(messages(None)) if output != self.STDOUT else 0
            p = self.start(["-c", self.conf(workers, output, parse=parse)])
            sizes = {n: os.path.getsize(n) for n in big + [tiny]}

            def done():
                pos = read_pos(self.path("tail.pos"))
                pos.update(read_pos(self.path("tail.pos.worker1")))
                return all(pos.get(n) == s for n, s in sizes.items())
            p.wait_until(done, 60, "every file acknowledged to its end")
            self.assertEqual(p.stop(), 0)
            return p, [self.file_and_seq(m, groups) for m in messages(p)[seen:]]

        p, got = run(2)
        moved = re.findall(r"moving (\S+) to worker 1 at offset (\d+)", p.stderr())
        self.assertEqual(len(moved), 1, p.stderr()[-3000:])
        path, offset = moved[0][0], int(moved[0][1])
        self.assertIn(path, big)
        self.assertGreater(offset, 0, "moved before worker 0 read any of it")
        self.assertLess(offset, os.path.getsize(path), "moved after it was read to its end")
        self.assertIn("following %s from offset %d, handed over by another worker" % (path, offset),
                      p.stderr())
        # The receiver's position file holds the moved file now, the giver's no longer does.
        w0, w1 = read_pos(self.path("tail.pos")), read_pos(self.path("tail.pos.worker1"))
        self.assertEqual(set(w1), {tiny, path})
        self.assertEqual(set(w0), set(big) - {path})

        # Lines appended since are read once, by the worker that has the file now.
        for b, name in enumerate(big):
            with open(name, "a") as out:
                out.write(self.record_lines(b, lines, lines + 10, pad, groups))
        got += run(2)[1]
        counts = collections.Counter(got)
        want = {(str(b), str(i)) for b in range(2) for i in range(lines + 10)} | {("2", "0")}
        self.assertEqual(set(counts), want)
        self.assertEqual(max(counts.values()), 1, "a record was read twice")

    def test_worker_sections_run_their_directives_on_those_workers_only(self):
        for d, n in (("a", 2), ("b", 4)):
            os.makedirs(self.path(d))
            for f in range(n):
                with open(self.path(d, "%s%d.log" % (d, f)), "w") as out:
                    out.write("".join("f%d seq %d\n" % (f, i) for i in range(50)))
        def tail(d):
            return """  <source>
    @type tail
    path %s/%s/*.log
    tag %s.*
    pos_file %s/%s.pos
    read_from_head true
    pos_write_interval 0.1
    <parse>
      @type none
    </parse>
  </source>""" % (self.dir, d, d, self.dir, d)
        conf = self.config("""
<system>
  workers 3
</system>
<worker 0>
%s
</worker>
<worker 1-2>
%s
</worker>
<match **>
  @type stdout
</match>
""" % (tail("a"), tail("b")), name="sections.conf")
        p = self.start(["-c", conf])
        p.wait_until(lambda: len(p.records()) >= 300, 20, "300 records")
        self.assertEqual(p.stop(), 0)
        got = collections.Counter((r[1].split(".")[0], r[1].rsplit(".", 2)[-2], r[2]["message"])
                                  for r in p.records())
        want = {(d, "%s%d" % (d, f), "f%d seq %d" % (f, i))
                for d, n in (("a", 2), ("b", 4)) for f in range(n) for i in range(50)}
        self.assertEqual(set(got), want)
        self.assertEqual(max(got.values()), 1, "a record was read twice")
        # <worker 0>'s tail follows every file of its glob itself, in the pos_file as given; the
        # two workers of <worker 1-2> share theirs, in b.pos and b.pos.worker1.
        self.assertEqual(len(read_pos(self.path("a.pos"))), 2)
        self.assertEqual(glob.glob(self.path("a.pos.worker*")), [])
        b0, b1 = read_pos(self.path("b.pos")), read_pos(self.path("b.pos.worker1"))
        self.assertEqual((len(b0), len(b1)), (2, 2))
        self.assertEqual(glob.glob(self.path("b.pos.worker2")), [])

    def test_each_worker_reads_worker_id_as_its_own(self):
        os.makedirs(self.path("logs"))
        self.append(0, 20)
        output = """@type file
  path "%s/out/w#{worker_id}"
  append true
  <buffer>
    flush_mode immediate
  </buffer>""" % self.dir

        def written():
            out = {}
            for name in glob.glob(self.path("out", "*")):
                with open(name) as f:
                    out[os.path.basename(name).split(".")[0]] = len(f.readlines())
            return out
        p = self.start(["-c", self.conf(2, output)])
        p.wait_until(lambda: sum(written().values()) >= 160, 20, "160 lines written")
        self.assertEqual(p.stop(), 0)
        # 8 files, 4 per worker: each worker wrote its 80 lines to its own file.
        self.assertEqual(written(), {"w0": 80, "w1": 80})


if __name__ == "__main__":
    main()

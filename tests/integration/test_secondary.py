"""<secondary> @type secondary_file: the chunks an output stops retrying are written to files as
the output formatted them, and the tail's position then passes them. Elasticsearch (nothing
listening on its port) and forward (a server that never acks) as primaries; the threshold
retry_secondary_threshold; configuration mistakes."""
import glob
import gzip
import json
import os

from test_forward import Receiver, free_port, msgpack, read_pos, start_tail_to_forward

import harness


def tail_source(test, lines):
    log = test.write("app.log", "".join("line %04d\n" % i for i in range(lines)))
    return log, """
<source>
  @type tail
  path %s
  pos_file %s
  tag app.web
  read_from_head true
  <parse>
    @type none
  </parse>
</source>
""" % (log, test.path("pos"))


class SecondaryFileTest(harness.SluiceTestCase):
    def es_to_nowhere(self, lines, buffer_extra="", secondary="", source=None):
        log, tail = tail_source(self, lines)
        conf = self.config((source or tail) + """
<match app.**>
  @type elasticsearch
  host 127.0.0.1
  port %d
  verify_es_version_at_startup false
  default_elasticsearch_version 8
  <buffer tag>
    flush_interval 0.2s
    retry_wait 0.05s
    retry_max_interval 0.1s
    retry_randomize false
%s
  </buffer>
  <secondary>
    @type secondary_file
    directory %s
%s
  </secondary>
</match>
""" % (free_port(), buffer_extra, self.path("failed"), secondary))
        return self.start(["-c", conf]), log

    def test_elasticsearch_chunks_go_to_files_and_positions_pass_them(self):
        s, log = self.es_to_nowhere(50, "    retry_max_times 3")
        s.wait_until(lambda: glob.glob(self.path("failed", "dump.bin.*")), 20, "a dump file")
        s.wait_until(lambda: read_pos(self.path("pos")) == os.path.getsize(log), 10, "the position at the end")
        docs = []
        for path in sorted(glob.glob(self.path("failed", "dump.bin.*"))):
            with open(path) as f:
                lines = f.read().splitlines()
            self.assertEqual(len(lines) % 2, 0)
            for action, doc in zip(lines[0::2], lines[1::2]):
                self.assertIn("index", json.loads(action))  # bulk lines, ready for _bulk again
                docs.append(json.loads(doc)["message"])
        self.assertEqual(sorted(docs), ["line %04d" % i for i in range(50)])
        err = s.stderr()
        self.assertIn("writing all queued chunks to <secondary>", err)
        self.assertIn("records to " + self.path("failed", "dump.bin.0"), err)
        self.assertEqual(s.stop(), 0)

    def test_retry_secondary_threshold_is_a_share_of_the_retry_limit(self):
        s, log = self.es_to_nowhere(5, "    retry_max_times 10\n    retry_secondary_threshold 0.5")
        s.wait_until(lambda: glob.glob(self.path("failed", "dump.bin.*")), 20, "a dump file")
        err = s.stderr()
        self.assertIn("retry_times=5 ", err)
        self.assertNotIn("retry_times=6 ", err)
        self.assertEqual(s.stop(), 0)

    def read_dumps(self):
        docs = []
        for path in sorted(glob.glob(self.path("failed", "dump.bin.*"))):
            with open(path) as f:
                lines = f.read().splitlines()
            docs.extend(json.loads(doc)["message"] for doc in lines[1::2])
        return sorted(docs)

    def test_file_buffer_chunks_resumed_after_a_restart_go_to_the_secondary(self):
        # Killed while Elasticsearch is away: the chunks wait on disk. The next run (without the
        # tail, so only those chunks) reads them back from their files for the secondary.
        file_buffer = "    @type file\n    path %s\n" % self.path("chunks")
        s, log = self.es_to_nowhere(50, file_buffer + "    retry_max_times 1000")
        # A whole chunk file (not the .tmp one being written) before the kill.
        s.wait_until(lambda: glob.glob(self.path("chunks", "sluice-chunk.*.zst")), 20, "chunk files")
        s.kill()
        quiet = "<source>\n  @type forward\n  bind 127.0.0.1\n  port %d\n</source>\n" % free_port()
        s, _ = self.es_to_nowhere(50, file_buffer + "    retry_max_times 1", source=quiet)
        s.wait_until(lambda: len(self.read_dumps()) >= 50, 20, "the resumed chunks in dump files")
        self.assertEqual(self.read_dumps(), ["line %04d" % i for i in range(50)])
        s.wait_until(lambda: not glob.glob(self.path("chunks", "sluice-chunk.*")), 10, "the chunk files removed")
        self.assertEqual(s.stop(), 0)

    def test_forward_chunks_gzipped_under_their_tag(self):
        recv = Receiver("noack")
        try:
            s, log = start_tail_to_forward(
                self, [recv.port], 30, ack_timeout="0.3s", buffer_extra="    retry_max_times 2",
                extra="  <secondary>\n    @type secondary_file\n    directory %s/${tag}\n"
                      "    basename ${tag[-1]}-${chunk_id}\n    compress gzip\n  </secondary>" % self.path("failed"))
            s.wait_until(lambda: read_pos(self.path("pos")) == os.path.getsize(log), 30, "the position at the end")
            entries = []
            files = glob.glob(self.path("failed", "app", "app-*.0.gz"))
            self.assertTrue(files)
            for path in files:
                with gzip.open(path, "rb") as f:
                    entries.extend(msgpack.Unpacker(f, raw=False))  # the forward entries
            self.assertEqual(sorted(r["message"] for _, r in entries), ["line %04d" % i for i in range(30)])
            s.kill()
        finally:
            recv.stop()

    def test_configuration_mistakes(self):
        for secondary, message in [
                ("@type file\n    path /tmp/x", "<secondary> @type file is not supported: sluice writes the chunks "
                                              "an output gives up on with secondary_file"),
                ("@type secondary_file", "directory"),
                ("@type secondary_file\n    directory /tmp/x\n    basename a/b", "basename should not include `/`"),
                ("@type secondary_file\n    directory /tmp/${time}", "unsupported placeholder '${time}'")]:
            _, source = tail_source(self, 1)
            conf = self.config(source + "<match **>\n  @type elasticsearch\n  <secondary>\n    %s\n  </secondary>\n"
                                        "</match>\n" % secondary, name="bad.conf")
            r = harness.run(["--dry-run", "-c", conf], timeout=10)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(message, harness.text(r.stderr))


if __name__ == "__main__":
    harness.main()

"""The forward protocol with the real binary: a real Fluentd client (python3-fluent-logger) into
in_forward; in_tail -> out_forward into a test receiver (python3-msgpack) that checks the frames
and answers, delays or withholds acks, or closes mid-stream; garbage on the in_forward port."""
import collections
import gzip
import os
import random
import socket
import subprocess
import sys
import threading
import time

# The Debian packages python3-fluent-logger and python3-msgpack live in the system dist-packages,
# which a pyenv/venv python does not see.
try:
    import msgpack  # noqa: F401
    from fluent import sender
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
    import msgpack
    from fluent import sender

import harness
from harness import free_port


class Receiver:
    """A forward server in a thread: decodes PackedForward frames, checks them against what
    Fluentd's out_forward sends (str32 entries; options size, compressed, chunk in that order;
    chunk = base64 of 16 bytes + newline), and answers acks per `mode`:
    ack | noack | delay_first (no ack for the first chunk) | close_first (close on the first frame) |
    one_per_connection (ack the first frame of a connection; close it, without an ack, on a second).
    `compressed`: the option every frame must carry (text, gzip or zstd); entries are inflated.
    `tls`: an ssl.SSLContext: every connection is TLS (a bare connect, a heartbeat, is dropped)."""

    def __init__(self, mode="ack", compressed="text", tls=None):
        self.mode = mode
        self.compressed = compressed
        self.tls = tls
        self.tls_versions = []
        self.ragged_tls_ends = 0  # TLS connections that ended without close_notify
        self.frame_connections = []  # for each frame, the number of the connection it came on
        self.connection_numbers = {}
        self.lock = threading.Lock()
        self.frames = []        # (tag, chunk_id, [(time, record)])
        self.acked = set()
        self.errors = []
        self.first_done = False
        self.empty_connections = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self):
        self.stopping = True
        self.sock.close()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._open, args=(conn,), daemon=True).start()

    def _open(self, conn):
        if self.tls is not None:
            try:
                conn.settimeout(10)
                conn = self.tls.wrap_socket(conn, server_side=True, suppress_ragged_eofs=False)
            except OSError:
                conn.close()
                return
            with self.lock:
                self.tls_versions.append(conn.version())
        self._serve(conn)

    def _serve(self, conn):
        buf = b""
        got_any = False
        conn.settimeout(10)
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                got_any = True
                buf += data
                while True:
                    unpacker = msgpack.Unpacker(raw=True, object_pairs_hook=list)
                    unpacker.feed(buf)
                    try:
                        msg = unpacker.unpack()
                    except msgpack.OutOfData:
                        break
                    raw = buf[: unpacker.tell()]
                    buf = buf[unpacker.tell():]
                    if self._frame(conn, msg, raw) == "close":
                        conn.close()
                        return
        except OSError as e:
            if type(e).__name__ == "SSLEOFError":
                with self.lock:
                    self.ragged_tls_ends += 1
        finally:
            if not got_any:
                with self.lock:
                    self.empty_connections += 1
            conn.close()

    def _frame(self, conn, msg, raw):
        try:
            tag, entries, options = msg
            taglen = len(tag)
            head = 1 + (1 if taglen < 32 else 2) + taglen
            assert raw[head] == 0xDB, "entries not str32: 0x%02x" % raw[head]
            keys = [k for k, _ in options]
            opts = dict(options)
            assert keys[:2] == [b"size", b"compressed"], keys
            assert opts[b"compressed"] == self.compressed.encode(), opts
            chunk = opts.get(b"chunk")
            if chunk is not None:
                assert keys == [b"size", b"compressed", b"chunk"], keys
                assert chunk.endswith(b"\n") and len(chunk) == 25, chunk
            up = msgpack.Unpacker(raw=False, ext_hook=lambda code, data: (code, data))
            up.feed(inflate(entries, self.compressed))
            events = list(up)
            assert opts[b"size"] == len(events), (opts[b"size"], len(events))
        except Exception as e:  # noqa: BLE001
            with self.lock:
                self.errors.append("%r: %r" % (e, raw[:80]))
            return "close"
        with self.lock:
            first = not self.first_done
            self.first_done = True
            self.frames.append((tag.decode(), chunk, events))
            self.frame_connections.append(self.connection_numbers.setdefault(conn, len(self.connection_numbers)))
        if self.mode == "close_first" and first:
            return "close"
        if self.mode == "one_per_connection" and self.frame_connections.count(self.frame_connections[-1]) > 1:
            return "close"
        if chunk is None or self.mode == "noack" or (self.mode == "delay_first" and first):
            return None
        conn.sendall(msgpack.packb({"ack": chunk.decode()}))
        with self.lock:
            self.acked.add(chunk)
        return None

    def wait_messages(self, n, timeout=15):
        """The sorted `message` fields of what was delivered, once n arrived or at the timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.delivered()) < n:
            time.sleep(0.1)
        return sorted(r["message"] for _, _, r in self.delivered())

    def delivered(self):
        """Records of acked chunks, each chunk id counted once (what an ack-checking pipeline keeps)."""
        with self.lock:
            seen = set()
            out = []
            for tag, chunk, events in self.frames:
                if chunk is None or chunk not in self.acked or chunk in seen:
                    continue
                seen.add(chunk)
                out.extend((tag, t, r) for t, r in events)
            return out


def inflate(entries, compressed):
    """Entries as a CompressedPackedForward frame carries them: gzip with Python's gzip, zstd with
    the zstd command (it checks the frame's checksum and size)."""
    if compressed == "gzip":
        return gzip.decompress(entries)
    if compressed == "zstd":
        return subprocess.run(["zstd", "-d", "-c", "-q"], input=entries, stdout=subprocess.PIPE,
                              check=True).stdout
    return entries


def deflate(entries, compressed):
    if compressed == "gzip":
        return gzip.compress(entries)
    if compressed == "zstd":
        return subprocess.run(["zstd", "-c", "-q"], input=entries, stdout=subprocess.PIPE, check=True).stdout
    return entries


def read_pos(path):
    try:
        with open(path) as f:
            line = f.readline()
    except FileNotFoundError:
        return None
    parts = line.rstrip("\n").split("\t")
    return int(parts[1], 16) if len(parts) == 3 else None


def forward_conf(test, port, extra="", workers=1, filters=""):
    """A config with a forward input on 127.0.0.1:`port` (`extra` inside <source>) to stdout."""
    return test.config("""
<system>
  workers %d
</system>
<source>
  @type forward
  bind 127.0.0.1
  port %d
  %s
</source>
%s
<match **>
  @type stdout
</match>
""" % (workers, port, extra, filters), name="forward-in.conf")


class ForwardInTest(harness.SluiceTestCase):
    def start_in_forward(self, extra=""):
        port = free_port()
        return self.start(["-c", forward_conf(self, port, extra)]), port

    def test_fluent_logger_message_mode(self):
        s, port = self.start_in_forward()
        plain = sender.FluentSender("app", host="127.0.0.1", port=port)
        before = int(time.time())
        self.assertTrue(plain.emit("plain", {"msg": "int time", "list": [1, 2, 3], "f": 1.5,
                                             "nested": {"a": {"b": None}}}))
        self.assertTrue(plain.emit_with_time("fixed", 1714564800, {"msg": "fixed int"}))
        ns = sender.FluentSender("app", host="127.0.0.1", port=port, nanosecond_precision=True)
        ts = 1714564800.123456789
        self.assertTrue(ns.emit_with_time("ns", ts, {"msg": "event time", "u": "héllo"}))
        plain.close()
        ns.close()
        recs = s.wait_records(3)
        by_tag = {tag: (t, r) for t, tag, r in recs}
        self.assertEqual(set(by_tag), {"app.plain", "app.fixed", "app.ns"})
        t, r = by_tag["app.plain"]
        self.assertEqual(r, {"msg": "int time", "list": [1, 2, 3], "f": 1.5, "nested": {"a": {"b": None}}})
        self.assertTrue(t.endswith(".000000000 +0000"), t)
        sec = time.mktime(time.strptime(t[:19], "%Y-%m-%d %H:%M:%S")) - time.timezone
        self.assertLessEqual(abs(sec - before), 5)
        self.assertEqual(by_tag["app.fixed"], ("2024-05-01 12:00:00.000000000 +0000", {"msg": "fixed int"}))
        # fluent-logger's EventTime from a float: int(ts), int(ts % 1 * 1e9) (float-rounded).
        nsec = int(ts % 1 * 10 ** 9)
        self.assertEqual(by_tag["app.ns"], ("2024-05-01 12:00:00.%09d +0000" % nsec,
                                            {"msg": "event time", "u": "héllo"}))
        # The raw stdout line keeps the insertion order.
        self.assertIn(b'app.plain: {"msg":"int time","list":[1,2,3],"f":1.5,"nested":{"a":{"b":null}}}',
                      s.stdout())
        self.assertEqual(s.stop(), 0)

    def test_every_worker_accepts_connections(self):
        port = free_port()
        conf = forward_conf(self, port, workers=2, filters="""<filter **>
  @type record_transformer
  <record>
    worker "#{worker_id}"
  </record>
</filter>""")
        s = self.start(["-c", conf])
        s.wait_until(lambda: "worker is now running worker=1" in s.stderr(), 20, "worker 1")
        # The kernel spreads connections over the workers by their address and port: sixteen
        # all on one worker would be a 1 in 32768 chance.
        for c in range(16):
            client = sender.FluentSender("app", host="127.0.0.1", port=port)
            for i in range(5):
                self.assertTrue(client.emit("c%d" % c, {"seq": i}))
            client.close()
        recs = s.wait_records(80)
        got = collections.Counter((tag, r["seq"]) for _, tag, r in recs)
        self.assertEqual(set(got), {("app.c%d" % c, i) for c in range(16) for i in range(5)})
        self.assertEqual(max(got.values()), 1)
        self.assertEqual({r["worker"] for _, _, r in recs}, {"0", "1"})
        self.assertEqual(s.stop(), 0)

    def test_a_port_another_process_holds_is_an_error_with_workers_too(self):
        holder = socket.socket()
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        r = harness.run(["-c", forward_conf(self, port, workers=2)], timeout=10)
        holder.close()
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("cannot listen on 127.0.0.1:%d" % port, harness.text(r.stderr))

    def test_ack_and_tag_prefix_and_source_address(self):
        s, port = self.start_in_forward("add_tag_prefix fwd\n  source_address_key src")
        c = socket.create_connection(("127.0.0.1", port))
        entries = msgpack.packb([msgpack.ExtType(0, (1714564800).to_bytes(4, "big") + (5).to_bytes(4, "big")),
                                 {"m": "packed"}])
        frame = msgpack.packb(["t.x", entries, {"size": 1, "compressed": "text", "chunk": "Y2h1bmsxMjM0NTY3ODkwMQ==\n"}],
                              use_bin_type=False)
        c.sendall(frame)
        c.settimeout(5)
        ack = msgpack.unpackb(c.recv(100), raw=False)
        self.assertEqual(ack, {"ack": "Y2h1bmsxMjM0NTY3ODkwMQ==\n"})
        c.close()
        recs = s.wait_records(1)
        self.assertEqual(recs[0], ("2024-05-01 12:00:00.000000005 +0000", "fwd.t.x", {"m": "packed", "src": "127.0.0.1"}))
        s.stop()

    def test_compressed_packed_forward(self):
        # CompressedPackedForward as Fluentd's out_forward sends it with compress gzip or zstd;
        # then a frame whose zstd stream is cut short: a warning naming the peer, and the
        # connection goes on with the next frame.
        s, port = self.start_in_forward()
        c = socket.create_connection(("127.0.0.1", port))
        c.settimeout(5)

        def frame(compressed, events, chunk, cut=0):
            entries = b"".join(msgpack.packb([1714564800 + i, {"n": i, "how": compressed}]) for i in events)
            packed = deflate(entries, compressed)
            packed = packed[:len(packed) - cut]
            return msgpack.packb(["z", packed, {"size": len(events), "compressed": compressed, "chunk": chunk}],
                                 use_bin_type=False)

        c.sendall(frame("gzip", range(0, 50), "gz") + frame("zstd", range(50, 100), "zs") +
                  frame("zstd", range(100, 150), "cut", cut=5) + frame("zstd", range(150, 160), "after"))
        acks = msgpack.Unpacker(raw=False)
        got = []
        while len(got) < 3:
            acks.feed(c.recv(1000))
            got.extend(a["ack"] for a in acks)
        recs = s.wait_records(110)
        self.assertEqual(got, ["gz", "zs", "after"])
        self.assertEqual(sorted(r["n"] for _, _, r in recs), list(range(100)) + list(range(150, 160)))
        self.assertEqual({r["how"] for _, _, r in recs if r["n"] >= 50}, {"zstd"})
        s.wait_until(lambda: "zstd" in s.stderr() and "127.0.0.1:" in s.stderr(), 10, "a warning about the cut frame")
        c.close()
        self.assertEqual(s.stop(), 0)

    def test_garbage_then_valid_client(self):
        s, port = self.start_in_forward()
        rnd = random.Random(7)
        payloads = [
            bytes(rnd.randrange(256) for _ in range(4096)),
            b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
            bytes.fromhex("93a8746167") ,                        # truncated frame, then EOF
            bytes.fromhex("92a3746167db7fffffff"),                # declares a 2 GiB string
            b"\x91" * 500,                                        # nesting bomb
            b"",                                                  # bare connect (heartbeat)
        ]
        held = []
        for p in payloads:
            c = socket.create_connection(("127.0.0.1", port))
            if p:
                try:
                    c.sendall(p)
                except OSError:
                    pass
            c.close()
        # A connection that stays open with a half frame must not disturb the others.
        h = socket.create_connection(("127.0.0.1", port))
        h.sendall(bytes.fromhex("93a3746167"))
        held.append(h)
        log = sender.FluentSender("ok", host="127.0.0.1", port=port)
        self.assertTrue(log.emit("after", {"still": "working"}))
        log.close()
        recs = s.wait_records(1)
        self.assertEqual([(tag, r) for _, tag, r in recs], [("ok.after", {"still": "working"})])
        s.wait_until(lambda: s.stderr().count("closing the connection from 127.0.0.1:") >= 5, 10, "warnings")
        err = s.stderr()
        self.assertIn("HTTP request", err)
        self.assertIn("2 GiB", err)
        self.assertIn("deeper than", err)
        self.assertIn("in the middle of a frame", err)
        for line in err.splitlines():
            if "closing the connection" in line:
                self.assertIn("[warn]", line)
        self.assertIsNone(s.proc.poll())
        for h in held:
            h.close()
        self.assertEqual(s.stop(), 0)


def start_tail_to_forward(test, ports, lines, ack=True, extra="", ack_timeout="2s", chunk_records=40,
                          server_extra="", buffer_extra=""):
    """Starts sluice tailing `lines` lines of app.log to forward servers on `ports`; returns the
    process and the log's path. `extra` goes into <match>, `server_extra` into each <server>,
    `buffer_extra` into <buffer>."""
    log = test.write("app.log", "".join("line %04d\n" % i for i in range(lines)))
    servers = "".join("  <server>\n    host 127.0.0.1\n    port %d\n%s\n  </server>\n" % (p, server_extra)
                      for p in ports)
    conf = test.config("""
<source>
  @type tail
  path %s
  pos_file %s
  tag app
  read_from_head true
  refresh_interval 1
  <parse>
    @type none
  </parse>
</source>
<match **>
  @type forward
  require_ack_response %s
  ack_response_timeout %s
  send_timeout 5s
  connect_timeout 2s
  heartbeat_interval 0.5s
%s
%s
  <buffer>
    flush_interval 0.3s
%s
    retry_wait 0.3s
    retry_max_interval 1s
    retry_randomize false
%s
  </buffer>
</match>
""" % (log, test.path("pos"), "true" if ack else "false", ack_timeout, extra, servers,
       "    chunk_limit_records %d" % chunk_records if chunk_records else "", buffer_extra))
    return test.start(["-c", conf]), log


class ForwardOutTest(harness.SluiceTestCase):
    def start_tail_to_forward(self, ports, lines, **kw):
        return start_tail_to_forward(self, ports, lines, **kw)

    def assert_exactly_once(self, recv, n, timeout=15):
        msgs = recv.wait_messages(n, timeout)
        self.assertEqual(msgs, ["line %04d" % i for i in range(n)], "errors: %r" % recv.errors)
        self.assertEqual(recv.errors, [])
        for tag, t, r in recv.delivered():
            self.assertEqual(tag, "app")
            self.assertIsInstance(t, tuple)  # EventTime ext (code 0, 8 bytes)
            self.assertEqual((t[0], len(t[1])), (0, 8))

    def test_acks_and_position(self):
        recv = Receiver("noack")
        try:
            s, log = self.start_tail_to_forward([recv.port], 100, ack_timeout="30s")
            # Data arrives but without an ack the position does not move.
            s.wait_until(lambda: len(recv.frames) >= 1, 10, "first frame")
            time.sleep(1.5)
            self.assertIn(read_pos(self.path("pos")), (None, 0))
            # Acks from now on: the chunks are resent after ack_response_timeout... (30s here),
            # so restart with acks and a short timeout to see the position reach the end.
            s.kill()
            recv.mode = "ack"
            s2, _ = self.start_tail_to_forward([recv.port], 100)
            self.assert_exactly_once(recv, 100)
            size = os.path.getsize(log)
            s2.wait_until(lambda: read_pos(self.path("pos")) == size, 10, "position at the end")
            self.assertEqual(s2.stop(), 0)
        finally:
            recv.stop()

    def test_delayed_ack_is_retried_same_chunk_id(self):
        recv = Receiver("delay_first")
        try:
            s, log = self.start_tail_to_forward([recv.port], 100, ack_timeout="1s")
            self.assert_exactly_once(recv, 100)
            with recv.lock:
                first_chunk = recv.frames[0][1]
                resent = [f for f in recv.frames[1:] if f[1] == first_chunk]
            self.assertTrue(resent, "the unacknowledged chunk was not resent with the same id")
            self.assertIn("ack_response_timeout", s.stderr())
            s.wait_until(lambda: read_pos(self.path("pos")) == os.path.getsize(log), 10, "position")
            self.assertEqual(s.stop(), 0)
        finally:
            recv.stop()

    def test_closed_mid_stream_then_failover(self):
        recv = Receiver("close_first")
        try:
            dead = free_port()  # nothing listens: connection refused, next server
            s, log = self.start_tail_to_forward([dead, recv.port], 100)
            self.assert_exactly_once(recv, 100)
            err = s.stderr()
            self.assertIn("connection closed before the ack", err)
            self.assertIn("127.0.0.1:%d" % dead, err)
            self.assertEqual(s.stop(), 0)
        finally:
            recv.stop()

    def test_many_entries_per_chunk_in_order(self):
        # Without chunk_limit_records the output appends a batch's entries to a chunk in runs
        # (Buffer::run_limit); every entry arrives once, in the file's order.
        recv = Receiver("ack")
        try:
            s, log = self.start_tail_to_forward([recv.port], 5000, chunk_records=None)
            self.assert_exactly_once(recv, 5000)
            with recv.lock:
                in_order = [r["message"] for _, _, ev in recv.frames for _, r in ev]
                sizes = [len(ev) for _, _, ev in recv.frames]
            self.assertEqual(in_order, ["line %04d" % i for i in range(5000)])
            self.assertGreater(max(sizes), 40)
            self.assertEqual(s.stop(), 0)
        finally:
            recv.stop()

    def check_compressed_entries(self, compressed):
        # compress gzip|zstd: the entries are one compressed stream and the option says which,
        # as Fluentd's out_forward sends them (CompressedPackedForward).
        recv = Receiver("ack", compressed=compressed)
        try:
            s, log = self.start_tail_to_forward([recv.port], 300, extra="  compress %s" % compressed)
            self.assert_exactly_once(recv, 300)
            self.assertEqual(s.stop(), 0)
        finally:
            recv.stop()

    def test_compress_gzip(self):
        self.check_compressed_entries("gzip")

    def test_compress_zstd(self):
        self.check_compressed_entries("zstd")

    def test_keepalive_carries_many_chunks_per_connection(self):
        recv = Receiver("ack")
        try:
            s, log = self.start_tail_to_forward([recv.port], 400, extra="  keepalive true")
            self.assert_exactly_once(recv, 400)
            with recv.lock:
                frames, connections = len(recv.frames), len(set(recv.frame_connections))
            self.assertGreaterEqual(frames, 10)
            self.assertLessEqual(connections, 2, "chunks went over %d connections" % connections)
            self.assertEqual(s.stop(), 0)
        finally:
            recv.stop()

    def test_keepalive_reconnects_when_a_kept_connection_fails(self):
        # The server takes one chunk per connection and drops the connection on the next one,
        # unacknowledged: that chunk goes again on a new connection, without the server counting
        # as down.
        recv = Receiver("one_per_connection")
        try:
            s, log = self.start_tail_to_forward([recv.port], 400, extra="  keepalive true")
            self.assert_exactly_once(recv, 400)
            with recv.lock:
                acked_connections = len(set(recv.frame_connections))
                self.assertGreater(len(recv.frames), acked_connections)  # kept connections were tried
            self.assertNotIn("detached forwarding server", s.stderr())
            self.assertEqual(s.stop(), 0)
        finally:
            recv.stop()

    def test_without_acks(self):
        recv = Receiver("ack")
        try:
            s, log = self.start_tail_to_forward([recv.port], 50, ack=False)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with recv.lock:
                    n = sum(len(e) for _, _, e in recv.frames)
                if n >= 50:
                    break
                time.sleep(0.1)
            with recv.lock:
                msgs = sorted(r["message"] for _, c, ev in recv.frames for _, r in ev)
                chunks = [c for _, c, _ in recv.frames]
            self.assertEqual(msgs, ["line %04d" % i for i in range(50)])
            self.assertEqual(chunks, [None] * len(chunks))
            self.assertEqual(recv.errors, [])
            self.assertEqual(s.stop(), 0)
        finally:
            recv.stop()


if __name__ == "__main__":
    harness.main()

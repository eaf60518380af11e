"""Kafka test support: the kafka_mock_broker helper (a librdkafka mock cluster, built next to the
sluice binary) driven over its stdin console, and reading topics back with kcat."""
import json
import os
import select
import signal
import shutil
import subprocess
import time

from harness import BINARY

MOCK_BINARY = os.environ.get("SLUICE_KAFKA_MOCK",
                             os.path.join(os.path.dirname(os.path.abspath(BINARY)), "kafka_mock_broker"))


def available():
    """Why Kafka tests cannot run here, or None."""
    if not os.path.exists(MOCK_BINARY):
        return "kafka_mock_broker not built (%s)" % MOCK_BINARY
    if not shutil.which("kcat"):
        return "kcat not installed"
    return None


class MockKafka:
    """A running mock cluster. Stop it with stop() (by PID)."""

    def __init__(self, brokers=3, topics=()):
        args = [MOCK_BINARY, "--brokers", str(brokers)]
        for t in topics:
            args += ["--topic", t]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, bufsize=0)
        self.bootstrap = self._line(10)
        if not self.bootstrap or ":" not in self.bootstrap:
            self.stop()
            raise AssertionError("kafka_mock_broker did not print its bootstrap address")

    def _line(self, timeout):
        out = b""
        deadline = time.monotonic() + timeout
        while not out.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("kafka_mock_broker: no answer within %ss" % timeout)
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if r:
                c = os.read(self.proc.stdout.fileno(), 1)
                if not c:
                    raise AssertionError("kafka_mock_broker exited")
                out += c
        return out.decode().strip()

    def command(self, line, timeout=15):
        self.proc.stdin.write((line + "\n").encode())
        reply = self._line(timeout)
        if not reply.startswith("ok"):
            raise AssertionError("kafka_mock_broker %r: %s" % (line, reply))
        return reply

    def high_watermark(self, topic):
        """Messages in the topic (sum of the partitions' high watermarks)."""
        reply = self.command("watermarks " + topic)
        return int(reply.split()[1].split("=")[1])

    def wait_messages(self, topic, n, timeout=20, proc=None):
        deadline = time.monotonic() + timeout
        got = -1
        while time.monotonic() < deadline:
            try:
                got = self.high_watermark(topic)
            except AssertionError:
                got = -1
            if got >= n:
                return got
            if proc is not None and proc.proc.poll() is not None:
                raise AssertionError("sluice exited while waiting for Kafka messages:\n" + proc.stderr()[-3000:])
            time.sleep(0.1)
        raise AssertionError("topic %s: %d messages after %ss, wanted %d%s" % (
            topic, got, timeout, n, ("\nsluice stderr:\n" + proc.stderr()[-3000:]) if proc else ""))

    def consume(self, topic, timeout=20):
        """Every message of the topic as kcat's JSON envelope (topic, partition, offset, ts,
        headers, key, payload)."""
        r = subprocess.run(["kcat", "-b", self.bootstrap, "-C", "-t", topic, "-e", "-q", "-J",
                            "-X", "topic.metadata.refresh.interval.ms=1000"],
                           capture_output=True, timeout=timeout)
        if r.returncode != 0:
            raise AssertionError("kcat failed: %s" % r.stderr.decode()[-2000:])
        out = []
        for line in r.stdout.decode("utf-8", "replace").splitlines():
            if line.strip():
                out.append(json.loads(line))
        return out

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


def headers_of(msg):
    """kcat -J prints headers as a flat [k, v, k, v] list."""
    h = msg.get("headers") or []
    return {h[i]: h[i + 1] for i in range(0, len(h), 2)}

"""Helpers for integration tests: run the real sluice binary against real files and services,
and stop everything they start by PID."""
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BINARY = os.path.abspath(os.environ.get("SLUICE_BINARY", os.path.join(os.path.dirname(__file__), "../../build/sluice")))
FIXTURES = os.environ.get("SLUICE_FIXTURES", os.path.join(os.path.dirname(__file__), "../../../shared/fixtures"))
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))

STDOUT_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} [+-]\d{4}) (\S+): (.*)$")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for_port_file(proc, path, name, timeout=10):
    """The port a test server (tests/servers/) wrote to `path` once it listens."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise AssertionError("%s did not start" % name)
        time.sleep(0.02)
    with open(path) as f:
        return int(f.read())


class ServerProcess:
    """A tests/servers script run with `--port PORT --port-file F` and its own arguments, its output
    appended to <workdir>/<name>.log, stopped by PID."""

    def __init__(self, script, workdir, args, name, port=0):
        self.script, self.workdir, self.args, self.name, self.port = script, workdir, list(args), name, port
        self.proc = None
        self.log = None

    def start(self):
        pf = os.path.join(self.workdir, "%s.port.%d" % (self.name, time.monotonic_ns()))
        self.log = open(os.path.join(self.workdir, self.name + ".log"), "ab")
        self.proc = subprocess.Popen([sys.executable, self.script, "--port", str(self.port), "--port-file", pf]
                                     + self.args, stdout=self.log, stderr=self.log)
        try:
            self.port = wait_for_port_file(self.proc, pf, self.name)
        except AssertionError:
            self.stop()
            raise
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None
        if self.log:
            self.log.close()
            self.log = None


def start_server(test, script, args):
    """Starts tests/servers/<script> with `--port-file`, waits until it listens and has the test
    stop it by PID at cleanup. Returns (process, port)."""
    port_file = os.path.join(test.dir, "%s.port.%d" % (script, time.monotonic_ns()))
    proc = subprocess.Popen([sys.executable, os.path.join(REPO, "tests/servers", script), "--port-file", port_file]
                            + list(args))

    def stop():
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    test.addCleanup(stop)
    return proc, wait_for_port_file(proc, port_file, script)


def run(args, timeout=30, env=None, input=None):
    """Runs sluice to completion; returns CompletedProcess with text output."""
    e = dict(os.environ, TZ="UTC")
    if env:
        e.update(env)
    return subprocess.run([BINARY] + args, capture_output=True, timeout=timeout, env=e, input=input)


def text(data):
    """Process output as text, whatever bytes it holds."""
    return data.decode("utf-8", "replace")


def parse_stdout_records(data):
    """Parses Fluentd out_stdout lines into (time, tag, record) triples."""
    out = []
    for raw in data.split(b"\n"):
        if not raw:
            continue
        line = raw.decode("utf-8", "surrogateescape")
        m = STDOUT_LINE.match(line)
        if not m:
            raise AssertionError("not an out_stdout line: %r" % line[:300])
        out.append((m.group(1), m.group(2), json.loads(m.group(3))))
    return out


class Sluice:
    """A running sluice process, its stdout and stderr captured to files."""

    def __init__(self, args, workdir, env=None):
        self.workdir = workdir
        self.stdout_path = os.path.join(workdir, "sluice.%d.stdout" % time.monotonic_ns())
        self.stderr_path = self.stdout_path.replace(".stdout", ".stderr")
        e = dict(os.environ, TZ="UTC")
        if env:
            e.update(env)
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([BINARY] + args, stdout=self._out, stderr=self._err, env=e,
                                     cwd=workdir)

    @property
    def pid(self):
        return self.proc.pid

    def stdout(self):
        with open(self.stdout_path, "rb") as f:
            return f.read()

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def records(self):
        data = self.stdout()
        # A line may be half-written while we read: only complete lines count.
        data = data[: data.rfind(b"\n") + 1]
        return parse_stdout_records(data)

    def wait_until(self, predicate, timeout=20, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.proc.poll() is not None:
                raise AssertionError("sluice exited (%s) while waiting for %s\nstderr:\n%s"
                                     % (self.proc.returncode, what, self.stderr()[-3000:]))
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %s\nstderr:\n%s" % (what, self.stderr()[-3000:]))

    def wait_records(self, n, timeout=20):
        self.wait_until(lambda: len(self.records()) >= n, timeout, "%d records" % n)
        return self.records()

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                raise AssertionError("sluice did not exit within %ss of signal %s" % (timeout, sig))
        self._out.close()
        self._err.close()
        return self.proc.returncode

    def kill(self):
        return self.stop(signal.SIGKILL)


class SluiceTestCase(unittest.TestCase):
    """Gives each test a temporary directory and stops every process it started."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sluice-it-")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.proc.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
                p.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def write(self, name, content, mode="w"):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, mode + ("b" if isinstance(content, bytes) else "")) as f:
            f.write(content)
        return p

    def config(self, text, name="fluent.conf"):
        return self.write(name, text)

    def start(self, args, env=None, ready=True):
        p = Sluice(args, self.dir, env)
        self.procs.append(p)
        if ready:
            p.wait_until(lambda: "worker is now running" in p.stderr(), 20, "sluice to start")
        return p


def json_lines(pattern):
    """The records of the JSON-lines files matching `pattern` (out_file's output), file by file."""
    out = []
    for name in sorted(glob.glob(pattern)):
        with open(name) as f:
            out += [json.loads(l) for l in f if l.strip()]
    return out


def tail_source(path, pos_file, tag, parser="cri", refresh_interval=None):
    """A `<source>` tailing `path` from its head with a `<parse>` of type `parser`."""
    return """
<source>
  @type tail
  path %s
  pos_file %s
  read_from_head true
  tag %s
  %s
  <parse>
    @type %s
  </parse>
</source>
""" % (path, pos_file, tag, "refresh_interval %s" % refresh_interval if refresh_interval else "", parser)


def cri_tail_source(dir, tag="kubernetes.*"):
    """A <source> tailing <dir>/var/log/containers/*.log (CRI lines) from the head."""
    return tail_source("%s/var/log/containers/*.log" % dir, "%s/pos" % dir, tag, refresh_interval=0.2)


def cri_line(i, stream="stdout", tag="F", text=None):
    return "2024-05-01T12:00:%02d.%09dZ %s %s %s\n" % (i // 1000000000 % 60, i % 1000000000, stream, tag,
                                                     text if text is not None else "line %d" % i)


def main():
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""idle_files.py - sluice's cost while it follows many files that do not change.

Creates --files (default 10,000) small CRI log files under a temp dir, runs sluice on them
(`tail` source with a pos_file, cri parser, null output), waits until every file is followed and
read to its end (the pos_file holds every path at its size), then measures over --seconds
(default 30) of idleness: CPU (utime+stime from /proc/PID/stat, as % of one core), open
descriptors (/proc/PID/fd), RSS (VmRSS, and VmHWM) and inotify watches.

Usage: bench/idle_files.py [--sluice build-bench/sluice] [--files 10000] [--seconds 30] [--workers 1]
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LINE = b"2024-05-01T12:00:00.000000001Z stdout F idle file line\n"


def cpu_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def inotify_watches(pid):
    n = 0
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                n += sum(1 for line in f if line.startswith("inotify wd:"))
        except OSError:
            pass
    return n


def followed(pos, n, size):
    try:
        with open(pos) as f:
            entries = [line.rstrip("\n").split("\t") for line in f]
    except OSError:
        return 0
    return sum(1 for e in entries if len(e) == 3 and int(e[1], 16) == size)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sluice", default=os.path.join(REPO, "build-bench", "sluice"))
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()

    root = tempfile.mkdtemp(prefix="sluice-idle-")
    logs = os.path.join(root, "containers")
    os.makedirs(logs)
    for i in range(a.files):
        name = "pod-%05d_default_app-%064x.log" % (i, i)
        with open(os.path.join(logs, name), "wb") as f:
            f.write(LINE)
    conf = os.path.join(root, "sluice.conf")
    with open(conf, "w") as f:
        if a.workers > 1:
            f.write("<system>\n  workers %d\n</system>\n" % a.workers)
        f.write("""<source>
  @type tail
  path "%s/*.log"
  pos_file "%s/pos"
  read_from_head true
  tag kubernetes.*
  <parse>
    @type cri
  </parse>
</source>
<match **>
  @type null
</match>
""" % (logs, root))
    lim = max(a.files + 1024, 4096)
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < lim:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(lim, hard), hard))
    except (ValueError, OSError):
        pass
    out = open(os.path.join(root, "sluice.log"), "wb")
    t0 = time.monotonic()
    p = subprocess.Popen([a.sluice, "-c", conf, "--log-level", "warn"], stdout=out, stderr=subprocess.STDOUT)
    try:
        pos_files = [os.path.join(root, "pos")] + [os.path.join(root, "pos.worker%d" % w) for w in range(1, a.workers)]
        while True:
            n = sum(followed(pf, a.files, len(LINE)) for pf in pos_files)
            if n >= a.files:
                break
            if p.poll() is not None:
                sys.exit("sluice exited: see " + os.path.join(root, "sluice.log"))
            if time.monotonic() - t0 > 300:
                sys.exit("only %d of %d files followed after 300 s" % (n, a.files))
            time.sleep(0.1)
        ready = time.monotonic() - t0
        print("sluice pid %d: all %d files followed; measuring" % (p.pid, a.files), flush=True)
        cpu_start = cpu_of(p.pid)
        time.sleep(1)  # let the last position write and start-up work settle
        c0, w0 = cpu_of(p.pid), time.monotonic()
        time.sleep(a.seconds)
        c1, w1 = cpu_of(p.pid), time.monotonic()
        fds = len(os.listdir("/proc/%d/fd" % p.pid))
        rss = status_kib(p.pid, "VmRSS")
        hwm = status_kib(p.pid, "VmHWM")
        watches = inotify_watches(p.pid)
        pct = 100.0 * (c1 - c0) / (w1 - w0)
        print("files %d, workers %d: all followed after %.2f s (start-up CPU %.2f s)" %
              (a.files, a.workers, ready, cpu_start))
        print("idle %.0f s: CPU %.3f s = %.2f%% of one core; %d open descriptors; %d inotify watches; "
              "RSS %.1f MiB (peak %.1f MiB); load average %.2f" %
              (w1 - w0, c1 - c0, pct, fds, watches, rss / 1024, hwm / 1024, os.getloadavg()[0]))
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        out.close()
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

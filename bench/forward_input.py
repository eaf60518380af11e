#!/usr/bin/env python3
"""forward_input.py - the forward input's throughput with one worker and with several.

Runs sluice as `forward` input -> `null` output and sends it PackedForward frames (2,000 records
each, the CRI corpus's messages as `log` with their `stream`) over --connections TCP connections
at once, each sending --frames frames and then closing its side. A connection is done when sluice
closes it, which it does after decoding and emitting everything it read; the wall time is from the
first connect to the last close. sluice's CPU seconds come from its rusage after SIGTERM. Worker
counts alternate run by run (--workers 1,2), and the medians are printed with their ratio.

The senders are Python threads on the same machine: on 2 cores they take a share of the CPU that
sluice's second worker would otherwise have, so the ratio understates what two free cores give.

Usage: bench/forward_input.py [--sluice build-bench/sluice] [--workers 1,2] [--connections 8]
                              [--frames 800] [--runs 3] [--corpus /tmp/sluice-corpus/cri]
"""
import argparse
import glob
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.append("/usr/lib/python3/dist-packages")  # python3-msgpack from Debian under a venv python
import msgpack  # noqa: E402

from e2e import free_port  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(REPO), "shared")
RECORDS_PER_FRAME = 2000
DISTINCT_FRAMES = 50


def corpus_frames(corpus):
    files = sorted(glob.glob(os.path.join(corpus, "*.log")))
    if not files:
        os.makedirs(corpus, exist_ok=True)
        subprocess.check_call([sys.executable, os.path.join(SHARED, "bench", "gen_corpus.py"),
                               "--format", "cri", "--size-mb", "32", "--files", "1", "--out", corpus])
        files = sorted(glob.glob(os.path.join(corpus, "*.log")))
    frames, entries = [], []
    with open(files[0], encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 3)
            if len(parts) < 4:
                continue
            entries.append(msgpack.packb([1714564800 + len(entries), {"log": parts[3], "stream": parts[1]}]))
            if len(entries) == RECORDS_PER_FRAME:
                frames.append(msgpack.packb(["bench.app", b"".join(entries), {"size": RECORDS_PER_FRAME}],
                                            use_bin_type=True))
                entries = []
                if len(frames) == DISTINCT_FRAMES:
                    break
    return frames


def run(sluice, workers, connections, frames_per_conn, frames, scratch):
    port = free_port()
    conf = os.path.join(scratch, "forward-w%d.conf" % workers)
    with open(conf, "w") as f:
        f.write("<system>\n  workers %d\n</system>\n<source>\n  @type forward\n  bind 127.0.0.1\n"
                "  port %d\n</source>\n<match **>\n  @type null\n</match>\n" % (workers, port))
    err = open(os.path.join(scratch, "sluice.stderr"), "w+")
    p = subprocess.Popen([sluice, "-c", conf], stdout=subprocess.DEVNULL, stderr=err)
    ready = "worker is now running worker=%d" % (workers - 1)
    deadline = time.time() + 20
    while ready not in open(err.name).read():
        if p.poll() is not None or time.time() > deadline:
            raise SystemExit("sluice did not start:\n" + open(err.name).read()[-2000:])
        time.sleep(0.02)

    def send(k):
        s = socket.create_connection(("127.0.0.1", port))
        for i in range(frames_per_conn):
            s.sendall(frames[(k + i) % len(frames)])
        s.shutdown(socket.SHUT_WR)
        s.recv(1)  # returns when sluice closes its side
        s.close()

    threads = [threading.Thread(target=send, args=(k,)) for k in range(connections)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    p.send_signal(signal.SIGTERM)
    _, status, usage = os.wait4(p.pid, 0)
    if status != 0:
        raise SystemExit("sluice exited with status %d:\n%s" % (status, open(err.name).read()[-2000:]))
    sent = sum(len(frames[(k + i) % len(frames)]) for k in range(connections) for i in range(frames_per_conn))
    return wall, usage.ru_utime + usage.ru_stime, sent


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sluice", default=os.path.join(REPO, "build-bench", "sluice"))
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--frames", type=int, default=800, help="frames per connection")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--corpus", default="/tmp/sluice-corpus/cri")
    args = ap.parse_args()
    frames = corpus_frames(args.corpus)
    counts = [int(w) for w in args.workers.split(",")]
    walls = {w: [] for w in counts}
    cpus = {w: [] for w in counts}
    with tempfile.TemporaryDirectory(prefix="sluice-fwd-") as scratch:
        for r in range(args.runs):
            for w in counts:
                wall, cpu, sent = run(args.sluice, w, args.connections, args.frames, frames, scratch)
                walls[w].append(wall)
                cpus[w].append(cpu)
                print("run %d, %d worker(s): %.2f s wall, %.2f CPU-s, %.0f MiB/s" %
                      (r + 1, w, wall, cpu, sent / 2**20 / wall), file=sys.stderr, flush=True)
    records = args.connections * args.frames * RECORDS_PER_FRAME
    mib = sent / 2**20
    print("%d connections x %d frames: %.0f MiB, %d records" % (args.connections, args.frames, mib, records))
    print("%-8s %8s %8s %10s %12s %10s" % ("workers", "wall s", "cpu s", "MiB/s", "records/s", "MiB/cpu-s"))
    for w in counts:
        wall, cpu = statistics.median(walls[w]), statistics.median(cpus[w])
        print("%-8d %8.2f %8.2f %10.0f %12.0f %10.0f" % (w, wall, cpu, mib / wall, records / wall, mib / cpu))
    if len(counts) > 1:
        base = statistics.median(walls[counts[0]])
        for w in counts[1:]:
            print("%d workers: %.2fx the throughput of %d" % (w, base / statistics.median(walls[w]), counts[0]))


if __name__ == "__main__":
    main()

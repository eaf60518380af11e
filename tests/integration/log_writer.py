#!/usr/bin/env python3
"""Writes numbered CRI lines (`... stdout F seq <n> <padding>`) to a file as fast as asked, like a
container runtime: it keeps its descriptor across renames and reopens the path on SIGUSR1 (what
kubelet's ReopenContainerLog and logrotate's postrotate make a runtime do).

usage: log_writer.py PATH COUNT [--rate LINES_PER_SEC] [--start N] [--pad BYTES]
Prints `done <count>` on stdout when finished."""
import argparse
import os
import signal
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("path")
ap.add_argument("count", type=int)
ap.add_argument("--rate", type=int, default=20000)
ap.add_argument("--start", type=int, default=0)
ap.add_argument("--pad", type=int, default=40)
args = ap.parse_args()

reopen = False


def on_usr1(signum, frame):
    global reopen
    reopen = True


signal.signal(signal.SIGUSR1, on_usr1)
fd = os.open(args.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
pad = "x" * args.pad
batch = max(1, args.rate // 100)
t0 = time.monotonic()
n = args.start
end = args.start + args.count
while n < end:
    if reopen:
        reopen = False
        os.close(fd)
        fd = os.open(args.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    k = min(batch, end - n)
    chunk = "".join("2024-05-01T12:00:00.%09dZ stdout F seq %d %s\n" % (i % 1000000000, i, pad)
                    for i in range(n, n + k))
    os.write(fd, chunk.encode())
    n += k
    # Keep to the rate: sleep until this many lines are due.
    due = t0 + (n - args.start) / args.rate
    delay = due - time.monotonic()
    if delay > 0:
        time.sleep(delay)
os.close(fd)
print("done %d" % args.count, flush=True)

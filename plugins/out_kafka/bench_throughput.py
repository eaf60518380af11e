#!/usr/bin/env python3
"""End-to-end throughput of in_tail -> cri -> kafka2 into the librdkafka mock cluster.

  python3 /work/shared/bench/gen_corpus.py --format cri --size-mb 256 --files 4 --out /tmp/ck
  python3 plugins/out_kafka/bench_throughput.py --build build-kafka --corpus /tmp/ck \
      [--codec none|zstd|...] [--null]

Runs sluice under /usr/bin/time -v, reading the corpus from the head, and stops it when every
file's position (which only advances on Kafka delivery reports) has reached the end of the file.
Prints MiB/s (corpus bytes / wall time to the last acknowledgement), CPU seconds and peak RSS of
sluice. --null sends to `@type null` instead, to show the cost of tail + parse alone. The mock
brokers run on the same machine and take CPU too."""
import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../tests/integration"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-kafka")
    ap.add_argument("--corpus", default="/tmp/ck")
    ap.add_argument("--codec", default="none")
    ap.add_argument("--null", action="store_true")
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--timeout", type=float, default=600)
    a = ap.parse_args()
    binary = os.path.abspath(os.path.join(a.build, "sluice"))
    os.environ["SLUICE_BINARY"] = binary
    from kafka_support import MockKafka

    files = sorted(glob.glob(os.path.join(a.corpus, "*.log")))
    total = sum(os.path.getsize(f) for f in files)
    work = tempfile.mkdtemp(prefix="sluice-kbench-")
    pos = os.path.join(work, "tail.pos")
    kafka = None if a.null else MockKafka(brokers=3, topics=["logs:%d" % a.partitions])
    match = "@type null" if a.null else """@type kafka2
  brokers %s
  default_topic logs
  compression_codec %s""" % (kafka.bootstrap, a.codec)
    conf = os.path.join(work, "fluent.conf")
    with open(conf, "w") as f:
        f.write("""
<source>
  @type tail
  path %s/*.log
  pos_file %s
  tag kubernetes.*
  read_from_head true
  pos_write_interval 0.2
  <parse>
    @type cri
  </parse>
</source>
<match **>
  %s
</match>
""" % (os.path.abspath(a.corpus), pos, match))
    timefile = os.path.join(work, "time.txt")
    err = open(os.path.join(work, "stderr"), "wb")
    t0 = time.monotonic()
    p = subprocess.Popen(["/usr/bin/time", "-v", "-o", timefile, binary, "-c", conf],
                         stdout=subprocess.DEVNULL, stderr=err)

    def done():
        try:
            with open(pos) as f:
                offs = {}
                for line in f:
                    parts = line.rstrip("\n").split("\t")
                    if len(parts) == 3:
                        offs[parts[0]] = int(parts[1], 16)
        except FileNotFoundError:
            return False
        return all(offs.get(os.path.abspath(x), 0) >= os.path.getsize(x) for x in files)

    while not done():
        if p.poll() is not None or time.monotonic() - t0 > a.timeout:
            break
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    # /usr/bin/time forwards the signal to sluice.
    for child in subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split():
        os.kill(int(child), signal.SIGTERM)
    p.wait(60)
    err.close()
    stats = open(timefile).read()
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", stats).group(1))
    sys_ = float(re.search(r"System time \(seconds\): ([\d.]+)", stats).group(1))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", stats).group(1))
    msgs = kafka.high_watermark("logs") if kafka else 0
    if kafka:
        kafka.stop()
    ok = done()
    print("%s codec=%s: %.1f MiB in %.2fs = %.1f MiB/s; sluice CPU %.2fs (user %.2f sys %.2f); "
          "peak RSS %.1f MiB; %d messages%s" % (
              "null" if a.null else "kafka", a.codec, total / 2**20, elapsed, total / 2**20 / elapsed,
              user + sys_, user, sys_, rss / 1024, msgs, "" if ok else " (NOT COMPLETE)"))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

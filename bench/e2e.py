#!/usr/bin/env python3
"""e2e.py - end-to-end throughput of the real sluice binary, head to end of a page-cached corpus.

Pipelines (--pipelines, comma separated):
  null    tail + cri -> null
  es      tail + cri + kubernetes_metadata (tests/servers/kubelet_server.py serving a /pods document
          generated for the corpus's pod names) -> elasticsearch (bulk) -> a discarding ES sink
          (/work/shared/bench/fake_sinks.py es-bulk)
  kafka   tail + cri -> kafka2 (format json) -> the librdkafka mock cluster (kafka_mock_broker)
  file    tail + cri -> file (out_file format)
  forward tail + cri + kubernetes_metadata (as for es) -> forward (to a Fluentd aggregator; no ack
          response) -> a discarding TCP sink (/work/shared/bench/fake_sinks.py tcp-discard)

Every run starts a fresh sluice on a fresh pos_file with read_from_head. Completion is detected
without blind sleeps: the pos_file(s) (pos_write_interval 0.05 s, per-worker files included) are
polled until every file's acknowledged offset equals its size; then sluice gets SIGTERM and its
rusage (os.wait4) gives user+sys CPU seconds and peak RSS. The reference `wc -l` over the same
page-cached files runs in the same invocation. Each figure is the median of --runs runs.

--compare BINARY --compare-config FILE runs another collector as `BINARY -c CONFIG` on the same
corpus, in the same invocation, for --compare-pipeline (default null), and prints sluice/other
ratios. In CONFIG these placeholders are replaced: @FILES@ (the corpus glob), @CORPUS@ (its dir),
@RUN@ (a scratch dir), @ES_PORT@, @KAFKA@ (bootstrap servers), @OUT@ (an output path),
@KUBELET_URL@ (http://127.0.0.1:PORT), @KUBELET_PORT@, @TOKEN_FILE@. bench/compare/ has Fluent Bit
configs for null and es and how they were run. Completion for the other collector: its exit (Fluent Bit:
`Exit_On_Eof on` in [INPUT], fluentd: none), or, for es, the sink's document count reaching the
corpus's record count.

SLUICE_WRAP="perf record -e cpu-clock -g -o /tmp/es.perf --" prefixes the sluice command (profiling).

--uneven-cores (--workers 1 or 2; one worker is the reference) runs sluice's main thread, worker 0, on CPU 0 and its other
threads, worker 1 among them, on CPU 1, where a busy loop competes with them for the whole run: one
worker's core runs at about half speed, as when other pods of a node load one core. It measures
how much of a slower core's share the other worker takes over.

Usage:
  bench/e2e.py [--format cri|docker] [--size-mb 1024] [--files 8] [--runs 3] [--workers 1]
               [--pipelines null,es,kafka,file,forward] [--sluice build-bench/sluice] [--json OUT]
"""
import argparse
import glob
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(REPO), "shared")
GEN = os.path.join(SHARED, "bench", "gen_corpus.py")
SINKS = os.path.join(SHARED, "bench", "fake_sinks.py")
KUBELET = os.path.join(REPO, "tests", "servers", "kubelet_server.py")
POD_TEMPLATE = os.path.join(SHARED, "fixtures", "kubelet", "nri-kubernetes",
                            "kubelet-pods-k8s-1.35-kind-containerd.json")
MIB = 1 << 20


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- corpus

def corpus_files(d):
    return sorted(glob.glob(os.path.join(d, "*.log")))


def ensure_corpus(args):
    d = args.corpus or os.path.join("/tmp/sluice-corpus", args.format)
    files = corpus_files(d)
    if len(files) < args.files:
        log("generating %d MiB %s corpus over %d files in %s (takes a minute or two)" %
            (args.size_mb, args.format, args.files, d))
        os.makedirs(d, exist_ok=True)
        subprocess.run([sys.executable, GEN, "--format", args.format, "--size-mb", str(args.size_mb),
                        "--files", str(args.files), "--out", d], check=True)
        files = corpus_files(d)
    # The kubernetes filter finds pods from tags of /var/log/containers/<pod>_<ns>_<ctr>-<id>.log:
    # a view of the corpus under such a path (a symlinked directory).
    view = os.path.join(os.path.dirname(d), "view-" + os.path.basename(d), "var", "log")
    os.makedirs(view, exist_ok=True)
    link = os.path.join(view, "containers")
    if not os.path.islink(link):
        os.symlink(d, link)
    return d, files, link


def count_records(d, files, fmt):
    """Records the parser makes (P/F and docker 16 KiB chunks joined); cached next to the corpus."""
    cache = os.path.join(d, ".records.json")
    key = [[os.path.basename(f), os.path.getsize(f)] for f in files]
    try:
        with open(cache) as f:
            c = json.load(f)
        if c["key"] == key:
            return c["records"], c["lines"]
    except (OSError, ValueError, KeyError):
        pass
    records = lines = 0
    for path in files:
        with open(path, "rb") as f:
            for line in f:
                lines += 1
                if fmt == "cri":
                    a = line.find(b" ")
                    b = line.find(b" ", a + 1)
                    if line[b + 1:b + 2] != b"P":
                        records += 1
                elif b'\\n","stream":' in line:
                    records += 1
    with open(cache, "w") as f:
        json.dump({"key": key, "records": records, "lines": lines}, f)
    return records, lines


def page_cache(files):
    for _ in range(2):
        for path in files:
            with open(path, "rb") as f:
                while f.read(8 * MIB):
                    pass


# ---------------------------------------------------------------- processes

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def cpu_of(pid):
    """utime+stime of a live process, seconds (from /proc/PID/stat)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class Helpers:
    """The sinks and servers a pipeline needs; started once per pipeline, shared by its runs."""

    def __init__(self, args, run_root, names):
        self.args = args
        self.procs = []
        self.dir = run_root
        self.es_port = self.kafka = self.kubelet_url = self.token_file = self.forward_port = None
        self.es_stats = None
        self.pods_file = None
        if "es" in names or "forward" in names:
            self.start_kubelet(names.get("es") or names["forward"])
        if "es" in names:
            self.start_es()
        if "forward" in names:
            self.start_forward_sink()
        if "kafka" in names:
            self.start_kafka()

    def start_es(self):
        self.es_port = free_port()
        self.es_stats = os.path.join(self.dir, "es-stats.json")
        p = subprocess.Popen([sys.executable, SINKS, "es-bulk", "--port", str(self.es_port),
                              "--stats-file", self.es_stats, "--report", "0.1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        if not wait_port(self.es_port):
            raise RuntimeError("ES sink did not start")

    def start_forward_sink(self):
        self.forward_port = free_port()
        p = subprocess.Popen([sys.executable, SINKS, "tcp-discard", "--port", str(self.forward_port),
                              "--report", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        if not wait_port(self.forward_port):
            raise RuntimeError("forward sink did not start")

    def es_docs(self):
        try:
            with open(self.es_stats) as f:
                return json.load(f).get("docs", 0)
        except (OSError, ValueError):
            return 0

    def start_kubelet(self, files):
        d = os.path.join(self.dir, "kubelet")
        os.makedirs(d, exist_ok=True)
        self.pods_file = os.path.join(d, "pods.json")
        with open(self.pods_file, "w") as f:
            json.dump(pods_document(files), f)
        self.token_file = os.path.join(d, "token")
        with open(self.token_file, "w") as f:
            f.write("bench-token\n")
        p = subprocess.Popen([sys.executable, KUBELET, "--dir", d, "--pods", self.pods_file,
                              "--token", "bench-token", "--plain"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        port_file = os.path.join(d, "port")
        end = time.monotonic() + 20
        while not os.path.exists(port_file) and time.monotonic() < end:
            time.sleep(0.02)
        time.sleep(0.05)
        with open(port_file) as f:
            self.kubelet_url = "http://127.0.0.1:%s" % f.read().strip()

    def start_kafka(self):
        exe = self.args.kafka_broker
        p = subprocess.Popen([exe, "--brokers", "1", "--topic", "logs:4"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.procs.append(p)
        self.kafka = p.stdout.readline().strip()
        if not self.kafka:
            raise RuntimeError("kafka_mock_broker printed no bootstrap address")

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def pods_document(files):
    """A kubelet PodList with one running pod per corpus file, cloned from a real kind pod."""
    with open(POD_TEMPLATE) as f:
        template = json.load(f)["items"][0]
    items = []
    for i, path in enumerate(files):
        name = os.path.basename(path)[:-4]
        pod, ns, rest = name.split("_", 2)
        container, cid = rest.rsplit("-", 1)
        p = json.loads(json.dumps(template))
        md = p["metadata"]
        md["name"] = pod
        md["generateName"] = pod.rsplit("-", 1)[0] + "-"
        md["namespace"] = ns
        md["uid"] = "00000000-0000-4000-8000-%012d" % i
        md["labels"] = {"app": pod.split("-")[0], "pod-template-hash": pod.split("-")[-2] if pod.count("-") > 1 else "x"}
        md.pop("managedFields", None)
        p["spec"]["containers"][0]["name"] = container
        st = p.get("status", {})
        cs = (st.get("containerStatuses") or [{}])[0]
        cs["name"] = container
        cs["containerID"] = "containerd://" + cid
        cs.setdefault("image", p["spec"]["containers"][0].get("image", "busybox"))
        cs.setdefault("imageID", "docker.io/library/busybox@sha256:" + "0" * 64)
        st["containerStatuses"] = [cs]
        p["status"] = st
        items.append(p)
    return {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}


# ---------------------------------------------------------------- sluice configs

def kubernetes_filter(helpers):
    """The kubernetes_metadata filter against the test kubelet (es and forward pipelines)."""
    return """<filter kubernetes.**>
  @type kubernetes_metadata
  kubelet_url %s
  bearer_token_file %s
  verify_ssl false
</filter>
""" % (helpers.kubelet_url, helpers.token_file)


def sluice_config(pipeline, args, run, glob_path, helpers):
    parser = "cri" if args.format == "cri" else "docker"
    tag = "kubernetes.*"
    out = []
    if args.workers > 1:
        out.append("<system>\n  workers %d\n</system>\n" % args.workers)
    out.append("""<source>
  @type tail
  path "%s"
  pos_file "%s/pos"
  pos_write_interval 0.05
  read_from_head true
  refresh_interval 60
  tag %s
  <parse>
    @type %s
  </parse>
</source>
""" % (glob_path, run, tag, parser))
    buf = """  <buffer>
    @type memory
    chunk_limit_size %s
    total_limit_size %s
    flush_mode interval
    flush_interval 0.2
    flush_thread_count %d
    overflow_action block
  </buffer>
""" % (args.chunk_limit, args.buffer_limit, args.flush_threads)
    if pipeline == "null":
        out.append("<match **>\n  @type null\n</match>\n")
    elif pipeline == "es":
        out.append(kubernetes_filter(helpers))
        out.append("""<match **>
  @type elasticsearch
  host 127.0.0.1
  port %d
  logstash_format true
  request_timeout 30s
%s</match>
""" % (helpers.es_port, buf))
    elif pipeline == "forward":
        out.append(kubernetes_filter(helpers))
        out.append("""<match **>
  @type forward
  <server>
    host 127.0.0.1
    port %d
  </server>
%s</match>
""" % (helpers.forward_port, buf))
    elif pipeline == "kafka":
        out.append("""<match **>
  @type kafka2
  brokers %s
  default_topic logs
  <format>
    @type json
  </format>
%s</match>
""" % (helpers.kafka, buf))
    elif pipeline == "file":
        out.append("""<match **>
  @type file
  path %s/out.log
  append true
  add_path_suffix false
%s</match>
""" % (run, buf.replace("<buffer>", "<buffer []>")))
    else:
        raise ValueError(pipeline)
    return "".join(out)


def pos_done(run, sizes):
    """Whether every corpus file's acknowledged offset (all workers' pos files) is its size."""
    seen = {}
    for pf in glob.glob(os.path.join(run, "pos*")):
        if pf.endswith(".tmp"):
            continue
        try:
            with open(pf) as f:
                for line in f:
                    parts = line.rstrip("\n").split("\t")
                    if len(parts) == 3:
                        seen[os.path.realpath(parts[0])] = int(parts[1], 16)
        except (OSError, ValueError):
            return False
    return all(seen.get(p) == s for p, s in sizes.items())


class UnevenCores:
    """A busy loop on CPU 1 for as long as it is entered; pins a process's threads: its main thread
    (sluice's worker 0) to CPU 0, the others to CPU 1."""

    def __enter__(self):
        self.hog = subprocess.Popen(["taskset", "-c", "1", "sh", "-c", "while :; do :; done"])
        return self

    def __exit__(self, *exc):
        self.hog.kill()
        self.hog.wait()

    def wrap(self, cmd):
        return ["taskset", "-c", "0"] + cmd

    @staticmethod
    def pin(pid):
        # Threads start while the config is built and after: move each new one for a while, on a
        # thread of our own so that the run's clock is not held up.
        def mover():
            pinned = set()
            deadline = time.monotonic() + 1
            while time.monotonic() < deadline:
                try:
                    tids = {int(t) for t in os.listdir("/proc/%d/task" % pid)} - {pid} - pinned
                except OSError:
                    return
                for t in tids:
                    subprocess.run(["taskset", "-p", "-c", "1", str(t)], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
                pinned |= tids
                time.sleep(0.002)
        threading.Thread(target=mover, daemon=True).start()


def run_process(cmd, done, timeout, cwd=None, env=None, log_path=None, on_start=None):
    """Starts cmd, polls done() (or the process's own exit), then stops it and returns figures."""
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env)
    if on_start:
        on_start(p.pid)
    t_end = None
    exited = None
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            t_end = time.monotonic()
            exited = (status, ru)
            break
        if done():
            t_end = time.monotonic()
            break
        if time.monotonic() - t0 > timeout:
            log("  timeout after %ds: stopping %s" % (timeout, cmd[0]))
            break
        time.sleep(0.01)
    timed_out = t_end is None
    if exited is None:
        p.send_signal(signal.SIGTERM)
        end = time.monotonic() + 30
        while exited is None:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                exited = (status, ru)
            elif time.monotonic() > end:
                p.kill()
                _, status, ru = os.wait4(p.pid, 0)
                exited = (status, ru)
            else:
                time.sleep(0.01)
    p.returncode = 0  # reaped here; keep Popen from waiting again
    if log_path:
        out.close()
    status, ru = exited
    wall = (t_end or time.monotonic()) - t0
    return {
        "wall_s": wall,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "user_s": ru.ru_utime,
        "sys_s": ru.ru_stime,
        "maxrss_mib": ru.ru_maxrss / 1024.0,
        "timed_out": timed_out,
        "exit": status,
    }


def wc_reference(files, runs):
    res = []
    for _ in range(runs):
        t0 = time.monotonic()
        p = subprocess.Popen(["wc", "-l"] + files, stdout=subprocess.DEVNULL)
        _, _, ru = os.wait4(p.pid, 0)
        p.returncode = 0
        res.append({"wall_s": time.monotonic() - t0, "cpu_s": ru.ru_utime + ru.ru_stime})
    return res


def median(rows, key):
    return statistics.median(r[key] for r in rows)


def summarize(name, rows, total_bytes, records):
    wall = median(rows, "wall_s")
    cpu = median(rows, "cpu_s")
    return {
        "pipeline": name,
        "runs": len(rows),
        "wall_s": wall,
        "cpu_s": cpu,
        "mib_s": total_bytes / MIB / wall,
        "mib_per_cpu_s": total_bytes / MIB / cpu if cpu else 0,
        "records_s": records / wall,
        "records_per_cpu_s": records / cpu if cpu else 0,
        "maxrss_mib": median(rows, "maxrss_mib") if "maxrss_mib" in rows[0] else 0,
        "timed_out": sum(1 for r in rows if r.get("timed_out")),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--format", choices=["cri", "docker"], default="cri")
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--corpus", help="corpus dir (default /tmp/sluice-corpus/<format>)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--uneven-cores", action="store_true",
                    help="worker 0 on CPU 0, worker 1 on CPU 1 shared with a busy loop (see above)")
    ap.add_argument("--pipelines", default="null,es,kafka,file")
    ap.add_argument("--sluice", default=os.path.join(REPO, "build-bench", "sluice"))
    ap.add_argument("--kafka-broker", default=None, help="kafka_mock_broker (default: next to --sluice)")
    ap.add_argument("--buffer-limit", default="16m", help="total_limit_size of the output buffers")
    ap.add_argument("--chunk-limit", default="4m", help="chunk_limit_size of the output buffers")
    ap.add_argument("--flush-threads", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=300, help="per run, seconds")
    ap.add_argument("--compare", help="another collector's binary, run as BINARY -c CONFIG")
    ap.add_argument("--compare-config", help="its config (placeholders: see --help)")
    ap.add_argument("--compare-pipeline", default="null", choices=["null", "es", "kafka", "file", "forward"])
    ap.add_argument("--json", help="write all figures here")
    ap.add_argument("--keep", action="store_true", help="keep the run directories")
    args = ap.parse_args()
    if args.uneven_cores and (args.workers > 2 or (os.cpu_count() or 1) < 2):
        ap.error("--uneven-cores: at most 2 workers, on at least 2 CPUs")
    if args.compare and not args.compare_config:
        ap.error("--compare needs --compare-config")
    args.sluice = os.path.abspath(args.sluice)
    if args.compare:
        args.compare = shutil.which(args.compare) if os.sep not in args.compare else os.path.abspath(args.compare)
        if not args.compare:
            ap.error("--compare: no such binary")
    if not args.kafka_broker:
        args.kafka_broker = os.path.join(os.path.dirname(args.sluice), "kafka_mock_broker")
    pipelines = [p for p in args.pipelines.split(",") if p]

    corpus, files, view = ensure_corpus(args)
    total = sum(os.path.getsize(f) for f in files)
    records, lines = count_records(corpus, files, args.format)
    log("corpus: %s, %d files, %.1f MiB, %d lines, %d records" % (corpus, len(files), total / MIB, lines, records))
    page_cache(files)
    glob_path = os.path.join(view, "*.log")
    sizes = {os.path.realpath(f): os.path.getsize(f) for f in files}

    load = os.getloadavg()
    machine = {"nproc": os.cpu_count(), "cpu": cpu_model(), "load_before": load}
    wc = wc_reference(files, max(3, args.runs))
    wc_sum = summarize("wc -l", [dict(r, maxrss_mib=0) for r in wc], total, lines)
    results = {"machine": machine, "corpus": {"dir": corpus, "bytes": total, "records": records, "lines": lines},
               "wc": wc_sum, "workers": args.workers, "uneven_cores": args.uneven_cores, "pipelines": []}

    root = tempfile.mkdtemp(prefix="sluice-e2e-")
    need = {p: files for p in pipelines}
    if args.compare:
        need[args.compare_pipeline] = files
    helpers = Helpers(args, root, need)
    try:
        for name in pipelines:
            rows = []
            for i in range(args.runs):
                run = os.path.join(root, "%s-%d" % (name, i))
                os.makedirs(run)
                conf = os.path.join(run, "sluice.conf")
                with open(conf, "w") as f:
                    f.write(sluice_config(name, args, run, glob_path, helpers))
                wrap = os.environ.get("SLUICE_WRAP", "").split()  # e.g. "perf record -o F --"
                cmd = wrap + [args.sluice, "-c", conf, "--log-level", "warn"]
                if args.uneven_cores:
                    with UnevenCores() as cores:
                        r = run_process(cores.wrap(cmd), lambda: pos_done(run, sizes), args.timeout,
                                        log_path=os.path.join(run, "sluice.log"), on_start=cores.pin)
                else:
                    r = run_process(cmd, lambda: pos_done(run, sizes), args.timeout,
                                    log_path=os.path.join(run, "sluice.log"))
                rows.append(r)
                log("  %-6s run %d: wall %.2fs cpu %.2fs (user %.2f sys %.2f) rss %.1f MiB%s" %
                    (name, i + 1, r["wall_s"], r["cpu_s"], r["user_s"], r["sys_s"], r["maxrss_mib"],
                     " TIMEOUT" if r["timed_out"] else ""))
                if not args.keep and not r["timed_out"]:
                    shutil.rmtree(run, ignore_errors=True)
            s = summarize(name, rows, total, records)
            s["of_wc_speed"] = s["mib_s"] / wc_sum["mib_s"]
            results["pipelines"].append(s)
        if args.compare:
            results["compare"] = run_compare(args, root, glob_path, corpus, helpers, total, records)
    finally:
        helpers.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    results["machine"]["load_after"] = os.getloadavg()
    print_table(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


def run_compare(args, root, glob_path, corpus, helpers, total, records):
    with open(args.compare_config) as f:
        template = f.read()
    rows = []
    for i in range(args.runs):
        run = os.path.join(root, "compare-%d" % i)
        os.makedirs(run)
        text = (template.replace("@FILES@", glob_path).replace("@CORPUS@", corpus).replace("@RUN@", run)
                .replace("@ES_PORT@", str(helpers.es_port or 0)).replace("@KAFKA@", helpers.kafka or "")
                .replace("@OUT@", os.path.join(run, "out.log"))
                .replace("@KUBELET_URL@", helpers.kubelet_url or "")
                .replace("@KUBELET_PORT@", (helpers.kubelet_url or ":").rstrip("/").rsplit(":", 1)[1])
                .replace("@TOKEN_FILE@", helpers.token_file or ""))
        conf = os.path.join(run, "compare.conf")
        with open(conf, "w") as f:
            f.write(text)
        base_docs = helpers.es_docs() if args.compare_pipeline == "es" else 0
        if args.compare_pipeline == "es":
            done = lambda: helpers.es_docs() - base_docs >= records
        else:
            done = lambda: False  # the process exits at the end of input
        r = run_process([args.compare, "-c", conf], done, args.timeout, cwd=run,
                        log_path=os.path.join(run, "compare.log"))
        rows.append(r)
        log("  compare run %d: wall %.2fs cpu %.2fs rss %.1f MiB%s" %
            (i + 1, r["wall_s"], r["cpu_s"], r["maxrss_mib"], " TIMEOUT" if r["timed_out"] else ""))
    s = summarize("compare:" + os.path.basename(args.compare) + ":" + args.compare_pipeline, rows, total, records)
    return s


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def print_table(res):
    m = res["machine"]
    print("machine: %d CPUs, %s; load average before %.2f, after %.2f" %
          (m["nproc"], m["cpu"], m["load_before"][0], m["load_after"][0]))
    c = res["corpus"]
    print("corpus: %s, %.1f MiB, %d lines, %d records; workers %d%s; medians" %
          (c["dir"], c["bytes"] / MIB, c["lines"], c["records"], res["workers"],
           ", uneven cores" if res.get("uneven_cores") else ""))
    hdr = "%-28s %8s %8s %9s %10s %12s %9s %8s" % ("pipeline", "wall s", "cpu s", "MiB/s", "MiB/cpu-s",
                                                      "records/s", "RSS MiB", "% of wc")
    print(hdr)
    wc = res["wc"]
    rows = [wc] + res["pipelines"] + ([res["compare"]] if "compare" in res else [])
    for r in rows:
        print("%-28s %8.2f %8.2f %9.1f %10.1f %12.0f %9.1f %8.1f%s" %
              (r["pipeline"], r["wall_s"], r["cpu_s"], r["mib_s"], r["mib_per_cpu_s"], r["records_s"],
               r["maxrss_mib"], 100.0 * r["mib_s"] / wc["mib_s"], "  (%d timed out)" % r["timed_out"] if r["timed_out"] else ""))
    if "compare" in res:
        other = res["compare"]
        mine = next((p for p in res["pipelines"] if other["pipeline"].endswith(":" + p["pipeline"])), None)
        if mine:
            print("sluice / %s: %.2fx MiB/s, %.2fx MiB per CPU-second, %.2fx less RSS" %
                  (other["pipeline"], mine["mib_s"] / other["mib_s"], mine["mib_per_cpu_s"] / other["mib_per_cpu_s"],
                   other["maxrss_mib"] / mine["maxrss_mib"] if mine["maxrss_mib"] else 0))


if __name__ == "__main__":
    main()

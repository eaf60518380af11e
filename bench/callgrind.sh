#!/usr/bin/env bash
# Instructions per record, with valgrind --tool=callgrind (instruction counts do not depend on the
# machine's load), for tail + cri + kubernetes_metadata (test kubelet) + Elasticsearch bulk
# formatting and sending to a discarding sink (fake_sinks.py es-bulk).
#
# Two fixed corpora are cut from the generated CRI corpus (the first SMALL and LARGE lines, 5k and
# 25k by default, one file each); the start-up and shutdown cost cancels in the difference:
#
#   instructions/record = (Ir(LARGE) - Ir(SMALL)) / (records(LARGE) - records(SMALL))
#
# Large copies: glibc's memcpy moves big blocks (libcurl copying a request body into its upload
# buffer, a chunk's payload growing) with `rep movsb`, one instruction the CPU retires once but
# callgrind counts once per byte. The headline figure runs with glibc told to copy with its 32-byte
# vector loop instead (GLIBC_TUNABLES x86_rep_movsb_threshold), which callgrind counts as the CPU
# would; the figure with rep movsb counted per byte is printed after it.
#
# The floor: bench/callgrind_floor turns the same lines into the same number of bulk bytes (its
# metadata sized from the sink's byte count; a size mismatch is reported) in one loop that does
# only what cannot be avoided (find lines and separators, escape the message, copy the rest); its
# instructions per record, counted the same way, are printed beside sluice's.
#
# Usage: bench/callgrind.sh [SLUICE_BINARY]   (default build-bench/sluice)
#   SMALL=5000 LARGE=25000 OUT=/tmp/sluice-callgrind bench/callgrind.sh
#   FORMAT=docker bench/callgrind.sh   (the docker json-file corpus instead of CRI)
#   PIPELINE=null bench/callgrind.sh   (tail + parser to out_null: the reading and parsing alone)
#   PIPELINE=kafka bench/callgrind.sh  (tail + parser -> kafka2 json -> kafka_mock_broker beside the
#                                       binary; librdkafka's own threads are counted too, and their
#                                       polling makes the total vary by a few hundred per record:
#                                       compare functions such as RecordMapper::map, not totals)
#   CALLGRIND_ARGS=--dump-instr=yes bench/callgrind.sh   (per-instruction counts for callgrind_annotate
#                                                         --auto=yes or kcachegrind)
# The annotated profile of the LARGE run is left in $OUT/large.ann (callgrind_annotate).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
sluice=$(realpath "${1:-$repo/build-bench/sluice}")
small=${SMALL:-5000}
large=${LARGE:-25000}
out=${OUT:-/tmp/sluice-callgrind}
format=${FORMAT:-cri}
pipeline=${PIPELINE:-es}
src=${SLUICE_BENCH_CORPUS:-/tmp/sluice-bench}/$format
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
first=$(ls "$src"/*.log 2>/dev/null | head -1 || true)
if [ -z "$first" ]; then
  echo "no corpus in $src: run python3 /work/shared/bench/gen_corpus.py --format cri --size-mb 64 --files 1 --out $src" >&2
  exit 1
fi
rm -rf "$out"
mkdir -p "$out"
name=$(basename "$first")
for n in "$small" "$large"; do
  # Under var/log/containers so that the kubernetes filter recognises the file name.
  mkdir -p "$out/c$n/var/log/containers"
  head -n "$n" "$first" > "$out/c$n/var/log/containers/$name"
done

python3 - "$sluice" "$out" "$small" "$large" "$repo" "$format" "$pipeline" <<'EOF'
import os, subprocess, sys, time, json, glob
sluice, out, small, large, repo, fmt, pipeline = (sys.argv[1], sys.argv[2], int(sys.argv[3]),
                                                  int(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7])
sys.path.insert(0, os.path.join(repo, "bench"))
import e2e

class A:  # the subset of e2e's arguments its helpers use
    format = fmt; workers = 1; buffer_limit = "16m"; chunk_limit = "4m"; flush_threads = 2
    kafka_broker = os.path.join(os.path.dirname(sluice), "kafka_mock_broker")  # PIPELINE=kafka

VECTOR_COPIES = "glibc.cpu.x86_rep_movsb_threshold=1000000000"

def measure(n, tunables):
    d = os.path.join(out, "c%d" % n, "var", "log", "containers")
    files = sorted(glob.glob(d + "/*.log"))
    records, lines = e2e.count_records(d, files, fmt)
    tag = "%d%s" % (n, "" if tunables == VECTOR_COPIES else ".rep")
    run = os.path.join(out, "run" + tag)
    os.makedirs(run, exist_ok=True)
    env = dict(os.environ)
    env.pop("GLIBC_TUNABLES", None)
    if tunables:
        env["GLIBC_TUNABLES"] = tunables
    h = e2e.Helpers(A, run, {pipeline: files})
    try:
        conf = os.path.join(run, "sluice.conf")
        with open(conf, "w") as f:
            f.write(e2e.sluice_config(pipeline, A, run, d + "/*.log", h))
        cg = os.path.join(out, "callgrind.%s.out" % tag)
        sizes = {os.path.realpath(f): os.path.getsize(f) for f in files}
        r = e2e.run_process(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg]
                            + os.environ.get("CALLGRIND_ARGS", "").split() + [sluice, "-c", conf, "--log-level", "warn"],
                            lambda: e2e.pos_done(run, sizes), 600, env=env,
                            log_path=os.path.join(run, "valgrind.log"))
        docs = h.es_docs() if pipeline == "es" else records
        if pipeline == "es":
            with open(h.es_stats) as f:
                body_bytes[n] = json.load(f)["body_bytes"]
    finally:
        h.stop()
    ir = 0
    for cgf in glob.glob(cg + "*"):  # one file unless threads are separated
        with open(cgf) as f:
            for line in f:
                if line.startswith(("summary:", "totals:")):
                    ir += int(line.split()[1])
                    break
    if tunables == VECTOR_COPIES:
        print("%6d lines: %d records, %d %s, %d instructions%s" %
              (n, records, docs, "documents at the sink" if pipeline == "es" else "records out",
               ir, " (TIMED OUT)" if r["timed_out"] else ""), flush=True)
    return ir, records

body_bytes = {}
res = {n: measure(n, VECTOR_COPIES) for n in (small, large)}
(i1, r1), (i2, r2) = res[small], res[large]
what = "tail+%s+kubernetes+ES bulk" % fmt if pipeline == "es" else "tail+%s -> %s" % (fmt, pipeline)
print("instructions per record (%s): %.0f" % (what, (i2 - i1) / (r2 - r1)))

def inclusive(n, function):
    """Inclusive instructions of one function in the n-line run (callgrind_annotate)."""
    cg = sorted(glob.glob(os.path.join(out, "callgrind.%d.out*" % n)))[0]
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", cg],
                          capture_output=True, text=True).stdout
    for line in text.splitlines():
        if function in line:
            return int(line.split()[0].replace(",", ""))
    return 0

# The split: reading, parsing, enrichment, formatting and buffering all run under the tail
# input's drain; sending runs under libcurl (which copies each request body into its upload
# buffer: callgrind counts that rep movsb as one instruction per byte).
for label, function in (("  of which reading + parsing + kubernetes + bulk formatting into the buffer",
                         "sluice::TailInput::drain()"),
                        ("  of which sending (libcurl, incl. its copy of the body)",
                         "curl_multi_socket_action")) if pipeline == "es" else ():
    a, b = inclusive(small, function), inclusive(large, function)
    print("%s: %.0f" % (label, (b - a) / (r2 - r1)))
print("start-up + shutdown (extrapolated to 0 records): %.1f M instructions" % ((i1 - (i2 - i1) / (r2 - r1) * r1) / 1e6))

def floor():
    """bench/callgrind_floor on the same lines, its metadata sized so that it writes the bytes the
    sink received: instructions per record of one loop doing only the unavoidable work."""
    prog = os.path.join(os.path.dirname(sluice), "bench", "callgrind_floor")
    if pipeline != "es" or fmt != "cri" or not os.path.exists(prog):
        return
    def corpus(n):
        return glob.glob(os.path.join(out, "c%d" % n, "var", "log", "containers", "*.log"))[0]
    def run(n, meta, valgrind=False):
        cg = os.path.join(out, "floor.%d.out" % n)
        cmd = ([prog, corpus(n), str(meta)] if not valgrind else
               ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg, prog, corpus(n), str(meta)])
        env = dict(os.environ, GLIBC_TUNABLES=VECTOR_COPIES)
        text = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout.split()
        ir = 0
        if valgrind:
            with open(cg) as f:
                ir = next(int(l.split()[1]) for l in f if l.startswith(("summary:", "totals:")))
        return int(text[0]), int(text[2]), ir
    recs, base, _ = run(large, 0)
    meta, rest = divmod(body_bytes[large] - base, recs)
    ok = rest == 0 and run(small, meta)[1] == body_bytes[small]
    (r_s, _, ir_s), (r_l, _, ir_l) = run(small, meta, True), run(large, meta, True)
    print("floor (bench/callgrind_floor: the same bulk bytes from one loop with nothing else, %d bytes of"
          " metadata per document): %.0f per record%s"
          % (meta, (ir_l - ir_s) / (r_l - r_s), "" if ok else " (WARNING: its output differs in size from the sink's)"))
floor()
rep = {n: measure(n, None) for n in (small, large)}
print("instructions per record with rep movsb counted per byte: %.0f" %
      ((rep[large][0] - rep[small][0]) / (r2 - r1)))
EOF
cg=$(ls "$out"/callgrind."$large".out | head -1)
callgrind_annotate --inclusive=no "$cg" 2>/dev/null | head -60 > "$out/large.ann" || true
echo "top functions (self) of the $large-line run: $out/large.ann"
sed -n '1,45p' "$out/large.ann" | grep -E '^ *[0-9,]+ ' | head -25

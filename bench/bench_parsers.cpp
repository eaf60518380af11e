// Parser hot-path micro-benchmarks on a generated Kubernetes log corpus.
//
//   python3 /work/shared/bench/gen_corpus.py --format cri --size-mb 64 --files 1 --out /tmp/sluice-bench/cri
//   python3 /work/shared/bench/gen_corpus.py --format docker --size-mb 64 --files 1 --out /tmp/sluice-bench/docker
//   build-release/bench/bench_parsers
//
// SLUICE_BENCH_CORPUS overrides /tmp/sluice-bench (it must hold cri/ and docker/).
#include <benchmark/benchmark.h>
#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/metrics.h"
#include "core/plugin.h"
#include "core/registry.h"
#include "format/time.h"
#include "../plugins/in_tail/line_split.h"
#include "../plugins/parser_json/unescape_blocks.h"

namespace sluice {
namespace {

std::string corpus_dir() {
  const char* env = std::getenv("SLUICE_BENCH_CORPUS");
  return env && *env ? env : "/tmp/sluice-bench";
}

// The first *.log file in <corpus>/<format>, whole.
const std::string* load(const std::string& format) {
  static std::string cache[2];
  static bool loaded[2];
  int idx = format == "cri" ? 0 : 1;
  if (loaded[idx]) return cache[idx].empty() ? nullptr : &cache[idx];
  loaded[idx] = true;
  std::string dir = corpus_dir() + "/" + format;
  DIR* d = opendir(dir.c_str());
  if (!d) return nullptr;
  std::string file;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".log") == 0) {
      file = dir + "/" + n;
      break;
    }
  }
  closedir(d);
  if (file.empty()) return nullptr;
  std::ifstream in(file, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  cache[idx] = ss.str();
  return cache[idx].empty() ? nullptr : &cache[idx];
}

bool need(benchmark::State& state, const std::string* data, const char* format) {
  if (data) return true;
  std::string msg = std::string("no corpus in ") + corpus_dir() + "/" + format +
                    ": run python3 /work/shared/bench/gen_corpus.py --format " + format +
                    " --size-mb 64 --files 1 --out " + corpus_dir() + "/" + format;
  state.SkipWithError(msg.c_str());
  return false;
}

// The corpus' lines as in_tail finds them.
std::vector<Line> split(const std::string& data) {
  std::vector<Line> lines;
  split_lines(data.data(), data.data() + data.size(), 0, lines);
  return lines;
}

// in_tail's line splitting (split_lines) over the corpus in 64 KiB read blocks cut at their
// last newline; argument 0: a memchr per line, 1: 64-byte newline masks (AVX2).
void BM_SplitLines(benchmark::State& state) {
  const std::string* data = load("cri");
  if (!need(state, data, "cri")) return;
  const bool masks = state.range(0) == 1;
  auto split_way = [masks](const char* p, const char* end, uint64_t offset, std::vector<Line>& lines) {
    if (masks) return detail::split_lines_avx2(p, end, offset, lines);
    detail::split_lines_memchr(p, end, offset, lines);
    return true;
  };
  std::vector<Line> lines;
  if (!split_way(data->data(), data->data(), 0, lines)) {
    state.SkipWithError("this CPU has no AVX2");
    return;
  }
  size_t count = 0;
  for (auto _ : state) {
    count = 0;
    const char* p = data->data();
    const char* end = p + data->size();
    while (p < end) {
      const char* block_end = p + std::min<size_t>(65536, static_cast<size_t>(end - p));
      while (block_end > p && block_end[-1] != '\n') --block_end;
      if (block_end == p) break;
      lines.clear();
      split_way(p, block_end, static_cast<uint64_t>(p - data->data()), lines);
      count += lines.size();
      benchmark::DoNotOptimize(lines.data());
      p = block_end;
    }
  }
  const size_t lines_per_pass = count;
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data->size()));
  state.counters["lines/s"] = benchmark::Counter(static_cast<double>(lines_per_pass * state.iterations()),
                                                 benchmark::Counter::kIsRate);
}

// The JSON application logs among the CRI corpus's messages (each line's text after its third
// space, where it starts with '{'): what a `<parse> @type json` nested in the cri parser reads.
std::vector<Line> json_messages(const std::string& data) {
  std::vector<Line> out;
  for (const Line& l : split(data)) {
    size_t at = 0;
    for (int field = 0; field < 3 && at != std::string_view::npos; ++field) at = l.bytes.find(' ', at + (field > 0));
    if (at == std::string_view::npos || at + 1 >= l.bytes.size() || l.bytes[at + 1] != '{') continue;
    out.push_back(Line{l.bytes.substr(at + 1), l.offset});
  }
  return out;
}

// Builds a parser the way the pipeline does and runs the lines through it in batches of 1024
// (a batch is cleared and reused, as a source does).
void run_parser(benchmark::State& state, const char* format, const std::string& type,
                std::vector<std::pair<std::string, std::string>> params = {},
                std::vector<Line> (*lines_of)(const std::string&) = split) {
  const std::string* data = load(format);
  if (!need(state, data, format)) return;
  std::vector<Line> lines = lines_of(*data);
  size_t bytes = 0;
  for (const Line& l : lines) bytes += l.bytes.size() + 1;
  Registry registry;
  register_all_plugins(registry);
  Metrics metrics;
  ConfigSection section;
  section.name = "parse";
  section.params.push_back({"@type", type, {}});
  for (auto& [k, v] : params) section.params.push_back({k, v, {}});
  PluginContext ctx;
  ctx.registry = &registry;
  ctx.metrics = &metrics;
  ctx.section = &section;
  ctx.id = "bench";
  auto plugin = ctx.make_parser(&section, type);
  auto stream = plugin->open_stream("bench.log");
  Batch batch;
  size_t records = 0;
  constexpr size_t kBatch = 1024;
  for (auto _ : state) {
    records = 0;
    for (size_t i = 0; i < lines.size(); i += kBatch) {
      batch.clear();
      size_t n = std::min(kBatch, lines.size() - i);
      stream->parse(std::span<const Line>(lines.data() + i, n), batch);
      records += batch.records.size();
    }
    batch.clear();
    stream->flush(batch);
    records += batch.records.size();
    benchmark::DoNotOptimize(records);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(records * state.iterations()),
                                                   benchmark::Counter::kIsRate);
  state.counters["records"] = static_cast<double>(records);
  // The metric counts every iteration's errors; reported per pass over the lines.
  state.counters["parse_errors"] = static_cast<double>(metrics.value("sluice_parse_errors_total{plugin=\"bench\"}")) /
                                   static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
}

void BM_CriParse(benchmark::State& state) { run_parser(state, "cri", "cri"); }
void BM_CriParseImageTimeFormat(benchmark::State& state) {
  // The daemonset image's time_format (a literal Z), on its own fast path.
  run_parser(state, "cri", "cri", {{"time_format", "%Y-%m-%dT%H:%M:%S.%NZ"}});
}
// Argument 0: the flat-object reader unescapes one escape at a time; 1, 2: 32 bytes at a time,
// packed by AVX2 shuffles or one AVX-512 VBMI2 compress.
void BM_DockerParse(benchmark::State& state) {
  const parsers::Unescaper best = parsers::unescaper();
  if (!parsers::use_unescaper(static_cast<parsers::Unescaper>(state.range(0)))) {
    state.SkipWithError("this CPU lacks that instruction set");
    return;
  }
  run_parser(state, "docker", "docker");
  parsers::use_unescaper(best);
}
void BM_JsonParseDockerLines(benchmark::State& state) {
  run_parser(state, "docker", "json", {{"time_format", "%Y-%m-%dT%H:%M:%S.%NZ"}});
}
void BM_ContainerParseCri(benchmark::State& state) { run_parser(state, "cri", "container"); }
void BM_JsonParseAppLogs(benchmark::State& state) { run_parser(state, "cri", "json", {}, json_messages); }

void BM_Rfc3339(benchmark::State& state) {
  const std::string* data = load("cri");
  if (!need(state, data, "cri")) return;
  std::vector<std::string_view> stamps;
  size_t bytes = 0;
  for (const Line& l : split(*data)) {
    size_t sp = l.bytes.find(' ');
    if (sp == std::string_view::npos) continue;
    stamps.push_back(l.bytes.substr(0, sp));
    bytes += sp;
  }
  for (auto _ : state) {
    int64_t sum = 0;
    for (auto s : stamps) {
      EventTime t;
      if (parse_rfc3339(s, t)) sum += t.nsec;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["stamps/s"] = benchmark::Counter(static_cast<double>(stamps.size() * state.iterations()),
                                                  benchmark::Counter::kIsRate);
}

void BM_TimeParserStrptime(benchmark::State& state) {
  TimeParser p("%Y-%m-%dT%H:%M:%S.%NZ");
  const std::string_view s = "2024-05-01T12:00:00.123456789Z";
  for (auto _ : state) {
    EventTime t;
    benchmark::DoNotOptimize(p.parse(s, t));
    benchmark::DoNotOptimize(t);
  }
  state.counters["stamps/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_SplitLines)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CriParse)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CriParseImageTimeFormat)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ContainerParseCri)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DockerParse)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonParseDockerLines)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonParseAppLogs)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Rfc3339)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TimeParserStrptime);

}  // namespace
}  // namespace sluice

BENCHMARK_MAIN();

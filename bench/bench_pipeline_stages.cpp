// Micro-benchmarks of the output half of the hot path, on CRI lines from gen_corpus.py parsed by
// the real `cri` parser and enriched by the real kubernetes_metadata filter (fixture pod):
//
//   BM_JsonEscapeMessage/E  json::append_string on every `message` (the escaper alone) with
//                           escaper E: 0 SSE2, 1 AVX2, 2 AVX-512, 3 the CPU's best
//   BM_JsonRecord           json::append_record: record + kubernetes/docker common fields
//   BM_EsBulkFormat         es::BulkFormatter (index fluentd, ES 8): action line + document
//   BM_EsBulkFormatLogstash the same with logstash_format (daily index, @timestamp added)
//   BM_MsgpackEventStream   msgpack::append_entry: [time, record] (forward / file buffer)
//   BM_KafkaValueJson       kafka::RecordMapper with <format> json (kafka2's default value)
//   BM_GzipChunk/L          http::gzip_compress of 8 MiB bulk chunks at level L (ES
//                           compression_level best_speed = 1, default_compression = 6)
//   BM_ZstdChunkFile        Buffer::encode_chunk_file (zstd level 1, as the file buffer writes)
//   BM_ZstdKafka/L          ZSTD_compress of 1 MiB batches of Kafka values (librdkafka's zstd,
//                           default level 3)
//
// Each reports bytes/s of *input log bytes* represented (the corpus lines behind the records) and
// records/s, so stages compare with each other and with the end-to-end figures. Corpus:
//
//   python3 /work/shared/bench/gen_corpus.py --format cri --size-mb 64 --files 1 --out /tmp/sluice-bench/cri
//
// SLUICE_BENCH_CORPUS overrides /tmp/sluice-bench (it must hold cri/*.log).
#include <benchmark/benchmark.h>
#include <dirent.h>
#include <uv.h>
#include <zstd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "buffer/buffer.h"
#include "config/config.h"
#include "core/metrics.h"
#include "core/plugin.h"
#include "core/registry.h"
#include "../plugins/in_tail/line_split.h"
#include "../plugins/out_elasticsearch/es_format.h"
#include "filter_kubernetes_metadata.h"
#include "format/json.h"
#include "format/msgpack.h"
#include "http/http_client.h"
#include "k8s_meta.h"
#include "../plugins/out_kafka/kafka_format.h"

namespace sluice {
namespace {

std::string corpus_dir() {
  const char* env = std::getenv("SLUICE_BENCH_CORPUS");
  return env && *env ? env : "/tmp/sluice-bench";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string first_log(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return {};
  std::string file;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".log") == 0) {
      file = dir + "/" + n;
      break;
    }
  }
  closedir(d);
  return file;
}

const std::string kPods = std::string(SLUICE_SOURCE_DIR) +
                          "/../shared/fixtures/kubelet/nri-kubernetes/kubelet-pods-k8s-1.35-kind-containerd.json";

// The corpus, parsed in batches of 1024 lines by the cri parser and enriched by the filter:
// what an output's write() receives.
struct Corpus {
  std::string data;
  std::vector<Line> lines;
  std::vector<std::unique_ptr<Batch>> batches;
  size_t records = 0;
  size_t message_bytes = 0;
  std::string error;

  Registry registry;
  Metrics metrics;
  ConfigSection parse_section, filter_section;
  PluginContext ctx;
  std::unique_ptr<ParserPlugin> parser;
  std::unique_ptr<Parser> stream;
  std::unique_ptr<Filter> filter;
  std::string tag;

  Corpus() {
    std::string dir = corpus_dir() + "/cri";
    std::string file = first_log(dir);
    if (file.empty()) {
      error = "no corpus in " + dir + ": run python3 /work/shared/bench/gen_corpus.py --format cri " +
              "--size-mb 64 --files 1 --out " + dir + " (SLUICE_BENCH_CORPUS overrides " +
              "/tmp/sluice-bench)";
      return;
    }
    data = read_file(file);
    split_lines(data.data(), data.data() + data.size(), 0, lines);
    register_all_plugins(registry);
    ctx.loop = uv_default_loop();
    ctx.registry = &registry;
    ctx.metrics = &metrics;
    ctx.id = "bench";
    parse_section.name = "parse";
    parse_section.params.push_back({"@type", "cri", {}});
    ctx.section = &parse_section;
    parser = ctx.make_parser(&parse_section, "cri");
    stream = parser->open_stream("bench.log");

    filter_section.name = "filter";
    filter_section.arg = "kubernetes.**";
    filter_section.params = {{"@type", "kubernetes_metadata", {}},
                             {"kubelet_url", "https://127.0.0.1:1", {}},
                             {"kubernetes_url", "https://10.96.0.1:443/api", {}}};
    ctx.section = &filter_section;
    const PluginSpec* spec = registry.spec("filter", "kubernetes_metadata");
    Params params(filter_section, *spec);
    filter = (*registry.filter("kubernetes_metadata"))(ctx, params);
    std::vector<k8s::Pod> pods;
    std::string err;
    std::string doc = read_file(kPods);
    if (doc.empty() || !k8s::parse_pod_list(doc, pods, err) || pods.empty()) {
      error = "cannot read the pod fixture " + kPods + " " + err;
      return;
    }
    const k8s::Pod& pod = pods.at(0);
    tag = "kubernetes.var.log.containers." + pod.name + "_" + pod.ns + "_" + pod.containers[0].name +
          "-" + pod.containers[0].container_id + ".log";
    k8s::FetchResult r;
    r.ok = true;
    r.pods = std::move(pods);
    static_cast<KubernetesMetadataFilter*>(filter.get())->apply(std::move(r));

    constexpr size_t kBatch = 1024;
    for (size_t i = 0; i < lines.size(); i += kBatch) {
      auto b = std::make_unique<Batch>();
      b->tag = tag;
      b->stream_id = "2049:12345";
      size_t n = std::min(kBatch, lines.size() - i);
      stream->parse(std::span<const Line>(lines.data() + i, n), *b);
      filter->filter(*b);
      records += b->records.size();
      for (const Record& rec : b->records)
        if (const Value* m = b->find(rec, "message")) message_bytes += m->text.size();
      batches.push_back(std::move(b));
    }
    if (!batches.empty() && batches[0]->common_fields.empty())
      error = "the kubernetes filter added no metadata (fixture pod not matched)";
  }
};

const Corpus& corpus() {
  static Corpus c;
  return c;
}

bool ready(benchmark::State& state, const Corpus& c) {
  if (c.error.empty()) return true;
  state.SkipWithError(c.error.c_str());
  return false;
}

// Input bytes and records per iteration (one pass over the corpus).
void report(benchmark::State& state, const Corpus& c, size_t bytes, size_t records, size_t out_bytes) {
  state.SetBytesProcessed(int64_t(state.iterations() * bytes));
  state.counters["records/s"] = benchmark::Counter(double(records * state.iterations()),
                                                   benchmark::Counter::kIsRate);
  state.counters["records"] = double(records);
  state.counters["out_MiB"] = double(out_bytes) / (1 << 20);
  (void)c;
}

void BM_JsonEscapeMessage(benchmark::State& state) {
  const Corpus& c = corpus();
  if (!ready(state, c)) return;
  // The argument picks the escaper (0 SSE2, 1 AVX2, 2 AVX-512); 3: the one chosen at start-up.
  const json::Escaper best = json::escaper();
  if (state.range(0) < 3 && !json::use_escaper(static_cast<json::Escaper>(state.range(0)))) {
    state.SkipWithError("this CPU lacks that escaper");
    return;
  }
  std::string out;
  out.reserve(1 << 20);
  size_t out_bytes = 0;
  for (auto _ : state) {
    out_bytes = 0;
    for (auto& b : c.batches) {
      out.clear();
      for (const Record& r : b->records) {
        const Field* f = b->begin(r) + 2;  // stream, logtag, message, time
        json::append_string(out, f->value.text);
      }
      out_bytes += out.size();
      benchmark::DoNotOptimize(out.data());
    }
  }
  json::use_escaper(best);
  // Bytes here are the message bytes escaped, not the whole lines.
  report(state, c, c.message_bytes, c.records, out_bytes);
}

void BM_JsonRecord(benchmark::State& state) {
  const Corpus& c = corpus();
  if (!ready(state, c)) return;
  std::string out;
  out.reserve(4 << 20);
  size_t out_bytes = 0;
  for (auto _ : state) {
    out_bytes = 0;
    for (auto& b : c.batches) {
      out.clear();
      for (const Record& r : b->records) {
        json::append_record(out, *b, r);
        out.push_back('\n');
      }
      out_bytes += out.size();
      benchmark::DoNotOptimize(out.data());
    }
  }
  report(state, c, c.data.size(), c.records, out_bytes);
}

void es_bulk(benchmark::State& state, es::FormatConfig config) {
  const Corpus& c = corpus();
  if (!ready(state, c)) return;
  es::BulkFormatter fmt(std::move(config));
  fmt.set_major_version(8);
  std::string out;
  out.reserve(9 << 20);
  size_t out_bytes = 0;
  for (auto _ : state) {
    out_bytes = 0;
    out.clear();
    for (auto& b : c.batches) {
      fmt.begin_batch(*b);
      for (const Record& r : b->records) {
        std::string_view index = fmt.index_for(*b, r);
        fmt.append(out, *b, r, index);
      }
      if (out.size() >= (8u << 20)) {  // a chunk is full: sent, then a new one
        out_bytes += out.size();
        out.clear();
      }
    }
    out_bytes += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  report(state, c, c.data.size(), c.records, out_bytes);
}

void BM_EsBulkFormat(benchmark::State& state) { es_bulk(state, es::FormatConfig{}); }
void BM_EsBulkFormatLogstash(benchmark::State& state) {
  es::FormatConfig f;
  f.logstash_format = true;
  es_bulk(state, f);
}

void BM_MsgpackEventStream(benchmark::State& state) {
  const Corpus& c = corpus();
  if (!ready(state, c)) return;
  std::string out;
  out.reserve(4 << 20);
  size_t out_bytes = 0;
  for (auto _ : state) {
    out_bytes = 0;
    for (auto& b : c.batches) {
      out.clear();
      for (const Record& r : b->records) msgpack::append_entry(out, *b, r);
      out_bytes += out.size();
      benchmark::DoNotOptimize(out.data());
    }
  }
  report(state, c, c.data.size(), c.records, out_bytes);
}

void BM_KafkaValueJson(benchmark::State& state) {
  const Corpus& c = corpus();
  if (!ready(state, c)) return;
  kafka::RecordMapper mapper(kafka::MapperConfig{}, LineFormat{});
  kafka::MessageMeta meta;
  std::string value;
  size_t out_bytes = 0;
  for (auto _ : state) {
    out_bytes = 0;
    for (auto& b : c.batches) {
      for (const Record& r : b->records) {
        value.clear();  // one message value at a time, as out_kafka produces them
        mapper.map(*b, r, value, meta);
        out_bytes += value.size();
        benchmark::DoNotOptimize(value.data());
      }
    }
  }
  report(state, c, c.data.size(), c.records, out_bytes);
}

// Formatted payload split into chunks, with the records and input bytes they represent.
struct Chunks {
  std::vector<std::string> payloads;
  size_t records = 0;
  size_t out_bytes = 0;
};

const Chunks& bulk_chunks() {
  static Chunks ch = [] {
    Chunks r;
    const Corpus& c = corpus();
    if (!c.error.empty()) return r;
    es::BulkFormatter fmt(es::FormatConfig{});
    fmt.set_major_version(8);
    std::string out;
    for (auto& b : c.batches) {
      fmt.begin_batch(*b);
      for (const Record& rec : b->records) fmt.append(out, *b, rec, fmt.index_for(*b, rec));
      if (out.size() >= (8u << 20)) {
        r.out_bytes += out.size();
        r.payloads.push_back(std::move(out));
        out.clear();
      }
    }
    r.out_bytes += out.size();
    if (!out.empty()) r.payloads.push_back(std::move(out));
    r.records = c.records;
    return r;
  }();
  return ch;
}

const Chunks& kafka_batches() {
  static Chunks ch = [] {
    Chunks r;
    const Corpus& c = corpus();
    if (!c.error.empty()) return r;
    kafka::RecordMapper mapper(kafka::MapperConfig{}, LineFormat{});
    kafka::MessageMeta meta;
    std::string out;
    for (auto& b : c.batches) {
      for (const Record& rec : b->records) mapper.map(*b, rec, out, meta);
      if (out.size() >= (1u << 20)) {  // librdkafka's batch.size default: 1 MB
        r.out_bytes += out.size();
        r.payloads.push_back(std::move(out));
        out.clear();
      }
    }
    r.out_bytes += out.size();
    if (!out.empty()) r.payloads.push_back(std::move(out));
    r.records = c.records;
    return r;
  }();
  return ch;
}

void BM_GzipChunk(benchmark::State& state) {
  const Corpus& c = corpus();
  if (!ready(state, c)) return;
  const Chunks& ch = bulk_chunks();
  int level = int(state.range(0));
  size_t compressed = 0;
  for (auto _ : state) {
    compressed = 0;
    for (auto& p : ch.payloads) compressed += http::gzip_compress(p, level).size();
    benchmark::DoNotOptimize(compressed);
  }
  report(state, c, c.data.size(), ch.records, compressed);
  state.counters["ratio"] = double(ch.out_bytes) / double(compressed ? compressed : 1);
  state.counters["payload_MiB/s"] = benchmark::Counter(double(ch.out_bytes * state.iterations()) / (1 << 20),
                                                       benchmark::Counter::kIsRate);
}

void BM_ZstdChunkFile(benchmark::State& state) {
  const Corpus& c = corpus();
  if (!ready(state, c)) return;
  const Chunks& ch = bulk_chunks();
  std::vector<buffer::Chunk> chunks(ch.payloads.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    chunks[i].payload = ch.payloads[i];
    chunks[i].variant = "fluentd";
  }
  size_t compressed = 0;
  for (auto _ : state) {
    compressed = 0;
    for (auto& k : chunks) compressed += buffer::Buffer::encode_chunk_file(k, 1).size();
    benchmark::DoNotOptimize(compressed);
  }
  report(state, c, c.data.size(), ch.records, compressed);
  state.counters["ratio"] = double(ch.out_bytes) / double(compressed ? compressed : 1);
  state.counters["payload_MiB/s"] = benchmark::Counter(double(ch.out_bytes * state.iterations()) / (1 << 20),
                                                       benchmark::Counter::kIsRate);
}

void BM_ZstdKafka(benchmark::State& state) {
  const Corpus& c = corpus();
  if (!ready(state, c)) return;
  const Chunks& ch = kafka_batches();
  int level = int(state.range(0));
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::string out;
  size_t compressed = 0;
  for (auto _ : state) {
    compressed = 0;
    for (auto& p : ch.payloads) {
      out.resize(ZSTD_compressBound(p.size()));
      size_t n = ZSTD_compressCCtx(cctx, out.data(), out.size(), p.data(), p.size(), level);
      compressed += ZSTD_isError(n) ? 0 : n;
    }
    benchmark::DoNotOptimize(compressed);
  }
  ZSTD_freeCCtx(cctx);
  report(state, c, c.data.size(), ch.records, compressed);
  state.counters["ratio"] = double(ch.out_bytes) / double(compressed ? compressed : 1);
  state.counters["payload_MiB/s"] = benchmark::Counter(double(ch.out_bytes * state.iterations()) / (1 << 20),
                                                       benchmark::Counter::kIsRate);
}

BENCHMARK(BM_JsonEscapeMessage)->Arg(0)->Arg(1)->Arg(2)->Arg(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonRecord)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EsBulkFormat)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EsBulkFormatLogstash)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MsgpackEventStream)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_KafkaValueJson)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GzipChunk)->Arg(1)->Arg(6)->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK(BM_ZstdChunkFile)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ZstdKafka)->Arg(3)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace sluice

BENCHMARK_MAIN();

// kubernetes_metadata: cost of enrichment per record (the filter on a batch of a known container)
// and of parsing a 110-pod kubelet /pods response (the real kind/containerd PodList's pods
// replicated to 110, the default max pods per node).
#include <benchmark/benchmark.h>
#include <uv.h>

#include <fstream>
#include <sstream>

#include "core/registry.h"
#include "filter_kubernetes_metadata.h"
#include "format/json.h"
#include "k8s_meta.h"

using namespace sluice;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string kNri = std::string(SLUICE_SOURCE_DIR) +
                         "/../shared/fixtures/kubelet/nri-kubernetes/kubelet-pods-k8s-1.35-kind-containerd.json";

// The PodList's items as raw JSON texts.
std::vector<std::string> raw_items(const std::string& doc) {
  std::vector<std::string> out;
  size_t p = doc.find("\"items\"");
  p = doc.find('[', p);
  int depth = 0;
  bool in_str = false;
  size_t start = 0;
  for (size_t i = p + 1; i < doc.size(); ++i) {
    char c = doc[i];
    if (in_str) {
      if (c == '\\') ++i;
      else if (c == '"') in_str = false;
      continue;
    }
    if (c == '"') in_str = true;
    else if (c == '{' || c == '[') {
      if (depth++ == 0) start = i;
    } else if (c == '}' || c == ']') {
      if (depth == 0) break;
      if (--depth == 0) out.push_back(doc.substr(start, i - start + 1));
    }
  }
  return out;
}

std::string pods_110() {
  auto items = raw_items(read(kNri));
  std::string doc = "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[";
  for (int i = 0; i < 110; ++i) {
    if (i) doc += ',';
    doc += items[i % items.size()];
  }
  doc += "]}";
  return doc;
}

void BM_ParsePods110(benchmark::State& state) {
  std::string doc = pods_110();
  std::vector<k8s::Pod> pods;
  std::string err;
  for (auto _ : state) {
    if (!k8s::parse_pod_list(doc, pods, err)) state.SkipWithError(err.c_str());
    benchmark::DoNotOptimize(pods.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * doc.size()));
  state.counters["pods"] = static_cast<double>(pods.size());
  state.counters["doc_bytes"] = static_cast<double>(doc.size());
}
BENCHMARK(BM_ParsePods110)->Unit(benchmark::kMicrosecond);

// The real filter, as the pipeline builds it, fed the PodList.
struct FilterRig {
  Registry registry;
  Metrics metrics;
  ConfigSection section;
  PluginContext ctx;
  std::unique_ptr<Filter> filter;
  std::string tag;

  FilterRig() {
    register_all_plugins(registry);
    section.name = "filter";
    section.arg = "kubernetes.**";
    section.params = {{"@type", "kubernetes_metadata", {}}, {"kubelet_url", "https://127.0.0.1:1", {}},
                      {"kubernetes_url", "https://10.96.0.1:443/api", {}}};
    ctx.loop = uv_default_loop();
    ctx.registry = &registry;
    ctx.metrics = &metrics;
    ctx.section = &section;
    ctx.id = "bench";
    const PluginSpec* spec = registry.spec("filter", "kubernetes_metadata");
    Params params(section, *spec);
    filter = (*registry.filter("kubernetes_metadata"))(ctx, params);
    std::vector<k8s::Pod> pods;
    std::string err;
    k8s::parse_pod_list(read(kNri), pods, err);
    const k8s::Pod& p = pods.at(0);
    tag = "kubernetes.var.log.containers." + p.name + "_" + p.ns + "_" + p.containers[0].name + "-" +
          p.containers[0].container_id + ".log";
    k8s::FetchResult r;
    r.ok = true;
    r.pods = std::move(pods);
    static_cast<KubernetesMetadataFilter*>(filter.get())->apply(std::move(r));
  }
};

// A batch as the CRI parser makes it: 4 fields per record. Enrichment of the whole batch; the
// figure per record is time / records.
void BM_EnrichBatch(benchmark::State& state) {
  FilterRig rig;
  size_t n = static_cast<size_t>(state.range(0));
  Batch batch;
  batch.tag = rig.tag;
  for (size_t i = 0; i < n; ++i) {
    batch.begin_record(EventTime{1714564800, 0});
    batch.add_field("stream", Value::of_string("stdout"));
    batch.add_field("logtag", Value::of_string("F"));
    batch.add_field("message", Value::of_string("GET /healthz 200 0.001s"));
    batch.add_field("time", Value::of_string("2024-05-01T12:00:00.000000000Z"));
  }
  for (auto _ : state) {
    batch.common_fields.clear();
    rig.filter->filter(batch);
    benchmark::DoNotOptimize(batch.common_fields.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.counters["ns_per_record"] =
      benchmark::Counter(static_cast<double>(state.iterations() * n), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_EnrichBatch)->Arg(1)->Arg(100)->Arg(1000);

// Rendering the maps once for a container (done again only when the pod list changes).
void BM_RenderContainer(benchmark::State& state) {
  std::vector<k8s::Pod> pods;
  std::string err;
  k8s::parse_pod_list(read(kNri), pods, err);
  k8s::TagMatcher m;
  k8s::TagInfo t;
  const k8s::Pod& p = pods.at(0);
  m.match("kubernetes.var.log.containers." + p.name + "_" + p.ns + "_" + p.containers[0].name + "-" +
              p.containers[0].container_id + ".log",
          t);
  k8s::RenderOptions o;
  o.master_url = "https://10.96.0.1:443/api";
  k8s::Rendered r;
  for (auto _ : state) {
    k8s::render(t, &p, nullptr, o, r);
    benchmark::DoNotOptimize(r.kube_json.data());
  }
}
BENCHMARK(BM_RenderContainer);

// What a formatter then does per record with the common fields: write them (the cost that the
// pre-rendered JSON makes a memcpy).
void BM_FormatRecordWithMetadata(benchmark::State& state) {
  FilterRig rig;
  Batch batch;
  batch.tag = rig.tag;
  batch.begin_record(EventTime{1714564800, 0});
  batch.add_field("stream", Value::of_string("stdout"));
  batch.add_field("logtag", Value::of_string("F"));
  batch.add_field("message", Value::of_string("GET /healthz 200 0.001s"));
  batch.add_field("time", Value::of_string("2024-05-01T12:00:00.000000000Z"));
  rig.filter->filter(batch);
  std::string out;
  for (auto _ : state) {
    out.clear();
    json::append_record(out, batch, batch.records[0]);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["bytes"] = static_cast<double>(out.size());
}
BENCHMARK(BM_FormatRecordWithMetadata);

}  // namespace

BENCHMARK_MAIN();

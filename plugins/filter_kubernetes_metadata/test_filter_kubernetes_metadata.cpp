// The filter as the pipeline builds it: common fields per batch, tags it leaves alone, counters,
// and unknown parameters.
#include "filter_kubernetes_metadata.h"

#include <gtest/gtest.h>

#include "config/params.h"
#include "core/registry.h"
#include "format/json.h"
#include "support/test_support.h"

using namespace sluice;

namespace {

struct Rig {
  Registry registry;
  Metrics metrics;
  ConfigSection section;
  PluginContext ctx;
  std::unique_ptr<Filter> filter;

  explicit Rig(std::vector<ConfigParam> extra = {}) {
    register_all_plugins(registry);
    section.name = "filter";
    section.arg = "kubernetes.**";
    section.params = {{"@type", "kubernetes_metadata", {}}, {"kubelet_url", "https://127.0.0.1:1", {}}};
    for (auto& p : extra) section.params.push_back(p);
    ctx.loop = uv_default_loop();
    ctx.registry = &registry;
    ctx.metrics = &metrics;
    ctx.section = &section;
    ctx.id = "k8s";
    const PluginSpec* spec = registry.spec("filter", "kubernetes_metadata");
    Params params(section, *spec);
    filter = (*registry.filter("kubernetes_metadata"))(ctx, params);
  }
  KubernetesMetadataFilter& k8s() { return static_cast<KubernetesMetadataFilter&>(*filter); }
  void feed(const std::string& fixture) {
    k8s::FetchResult r;
    std::string err;
    r.ok = k8s::parse_pod_list(sluice::testing::read_file(sluice::testing::fixture_path(fixture)), r.pods, err);
    k8s().apply(std::move(r));
  }
};

// The tag must outlive the batch (Batch::tag is a view).
Batch batch_for(const std::string& tag, size_t n) {
  Batch b;
  b.tag = tag;
  for (size_t i = 0; i < n; ++i) {
    b.begin_record(EventTime{1, 0});
    b.add_field("message", Value::of_string("x"));
  }
  return b;
}

}  // namespace

TEST(KubernetesMetadataFilter, CommonFieldsOncePerBatch) {
  Rig rig;
  rig.feed("kubelet/nri-kubernetes/kubelet-pods-k8s-1.35-kind-containerd.json");
  const k8s::Pod* p = rig.k8s().store().find_name("kube-system", "coredns-7d764666f9-qdcxt");
  ASSERT_NE(p, nullptr);
  std::string tag = "kubernetes.var.log.containers.coredns-7d764666f9-qdcxt_kube-system_coredns-" +
                    p->containers[0].container_id + ".log";
  Batch b = batch_for(tag, 3);
  rig.filter->filter(b);
  ASSERT_EQ(b.common_fields.size(), 2u);
  EXPECT_EQ(b.common_fields[0].key, "docker");
  EXPECT_EQ(b.common_fields[1].key, "kubernetes");
  EXPECT_EQ(b.fields.size(), 3u) << "records themselves are not touched";
  std::string out;
  json::append_record(out, b, b.records[0]);
  EXPECT_NE(out.find("\"pod_id\":\"" + p->uid + "\""), std::string::npos) << out;
  EXPECT_FALSE(b.common_fields[1].value.packed.empty());
  EXPECT_EQ(rig.metrics.value("sluice_kubernetes_metadata_records_total{plugin=\"k8s\"}"), 3u);
  EXPECT_EQ(rig.metrics.value("sluice_kubernetes_metadata_unenriched_records_total{plugin=\"k8s\"}"), 0u);
}

TEST(KubernetesMetadataFilter, UnmatchedTagUntouchedUnknownPodCounted) {
  Rig rig;
  std::string syslog = "kubernetes.var.log.syslog";
  Batch b = batch_for(syslog, 2);
  rig.filter->filter(b);
  EXPECT_TRUE(b.common_fields.empty());
  std::string tag = "kubernetes.var.log.containers.nope-1_ns_c-" + std::string(64, 'c') + ".log";
  Batch u = batch_for(tag, 2);
  rig.filter->filter(u);
  ASSERT_EQ(u.common_fields.size(), 2u);
  EXPECT_EQ(u.common_fields[1].value.text, "{\"container_name\":\"c\",\"namespace_name\":\"ns\",\"pod_name\":\"nope-1\"}");
  EXPECT_EQ(rig.metrics.value("sluice_kubernetes_metadata_unenriched_records_total{plugin=\"k8s\"}"), 2u);
}

TEST(KubernetesMetadataFilter, UnknownParameterIsReported) {
  Registry registry;
  register_all_plugins(registry);
  ConfigSection s;
  s.name = "filter";
  s.params = {{"@type", "kubernetes_metadata", {}}, {"test_api_adapter", "X", {}}, {"verify_ssl", "maybe", {}}};
  auto errors = validate_params(s, *registry.spec("filter", "kubernetes_metadata"));
  ASSERT_GE(errors.size(), 2u);
}

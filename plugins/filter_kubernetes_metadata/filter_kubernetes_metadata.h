// `@type kubernetes_metadata`: see README.md.
#pragma once

#include <uv.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/plugin.h"
#include "k8s_meta.h"
#include "pod_source.h"

namespace sluice {

class KubernetesMetadataFilter : public Filter {
 public:
  KubernetesMetadataFilter(PluginContext& ctx, const Params& params);
  ~KubernetesMetadataFilter() override;
  void start() override;
  void stop() override;
  void filter(Batch& batch) override;

  // For tests and benchmarks: feed a pod list as if the source had answered.
  void apply(k8s::FetchResult result);
  const k8s::PodStore& store() const { return store_; }

 private:
  // Per tag (= per container log file): what the tag gives and the rendered maps.
  struct Entry {
    bool matched = false;
    bool rendered = false;
    k8s::TagInfo tag;
    uint64_t generation = 0;
    k8s::Rendered out;
    double next_retry = 0;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  Entry* lookup(std::string_view tag);
  void load_downward_api();

  uv_loop_t* loop_;
  std::string id_;
  bool dry_run_ = false;
  Counter& records_;
  Counter& unenriched_;
  Counter& refreshes_;
  Counter& refresh_errors_;
  Counter& unknown_pods_;

  std::unique_ptr<k8s::TagMatcher> matcher_;
  k8s::RenderOptions opts_;
  k8s::PodStore store_;
  std::unique_ptr<k8s::PodSource> source_;
  std::unordered_map<std::string, std::unique_ptr<Entry>, Hash, std::equal_to<>> entries_;
  size_t max_entries_ = 1024;
  double initial_timeout_ = 5;
  double unknown_retry_s_ = 5;
  bool answered_ = false;

  // Sidecar (Downward API) mode.
  bool sidecar_ = false;
  std::string labels_file_, annotations_file_, sidecar_container_, sidecar_image_;
  double sidecar_refresh_ = 60;
  uv_timer_t* sidecar_timer_ = nullptr;
  std::optional<k8s::Pod> sidecar_pod_;
};

}  // namespace sluice

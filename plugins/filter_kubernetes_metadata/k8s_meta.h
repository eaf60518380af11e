// Kubernetes pod metadata for log records: the kubelet's / API server's PodList parsed with
// simdjson, the Fluentd tag regexps, the Downward API files, and the per-container `docker` and
// `kubernetes` maps rendered once (JSON text + msgpack) as fluent-plugin-kubernetes_metadata_filter
// names and orders them. Shared by filter_kubernetes_metadata and in_kubernetes_termination.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sluice::k8s {

using StrMap = std::vector<std::pair<std::string, std::string>>;  // insertion order kept

struct Terminated {
  bool present = false;
  int64_t exit_code = 0;
  bool has_signal = false;
  int64_t signal = 0;
  std::string reason, message, started_at, finished_at, container_id;  // container_id raw (runtime://id)
};

struct ContainerStatus {
  std::string name, image, image_id;
  std::string container_id;  // without the `<runtime>://` prefix
  int64_t restart_count = 0;
  bool init = false;
  Terminated terminated;       // state.terminated
  Terminated last_terminated;  // lastState.terminated
};

struct Pod {
  std::string name, ns, uid, pod_ip, host;
  StrMap labels, annotations;
  std::vector<std::pair<std::string, std::string>> owners;  // (kind, name)
  std::vector<ContainerStatus> containers;  // containerStatuses, then init and ephemeral ones
  // terminationMessagePath per container name, from spec (default /dev/termination-log).
  StrMap termination_paths;

  const ContainerStatus* container(std::string_view name) const;
  const ContainerStatus* container_by_id(std::string_view id) const;
};

struct Namespace {
  std::string name, uid;
  StrMap labels, annotations;
};

// Parses a PodList (kubelet /pods or API server list) or a single Pod. On any error (truncated,
// not JSON, wrong shape) returns false with a short reason and leaves `out` empty.
bool parse_pod_list(std::string_view json, std::vector<Pod>& out, std::string& error);
bool parse_namespace_list(std::string_view json, std::vector<Namespace>& out, std::string& error);

// Strips `docker://`, `containerd://`, `cri-o://` (any `[-_a-zA-Z0-9]+://`).
std::string_view strip_runtime(std::string_view container_id);

// --- tags ---

struct TagInfo {
  std::string ns, pod, container, docker_id, pod_uid;
};

// A Ruby regexp (Oniguruma, Ruby syntax) with named groups.
class Regex {
 public:
  explicit Regex(const std::string& pattern, bool ignore_case = false);  // throws std::runtime_error
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  bool search(std::string_view text) const;
  // Unanchored search; fills the named groups that matched.
  bool search(std::string_view text, std::vector<std::pair<std::string, std::string>>& groups) const;

 private:
  void* re_ = nullptr;
  void* region_ = nullptr;
};

extern const char* const kDefaultTagRegexp;  // Fluentd's (REGEX_VAR_LOG_PODS|REGEX_VAR_LOG_CONTAINERS)

class TagMatcher {
 public:
  explicit TagMatcher(const std::string& pattern = kDefaultTagRegexp);
  bool match(std::string_view tag, TagInfo& out) const;

 private:
  Regex re_;
};

// --- Downward API ---

// `key="value"` lines as the kubelet writes the labels/annotations volume files (values quoted
// as Go's %q). Lines that do not parse are skipped.
StrMap parse_downward_api(std::string_view text);

// --- rendering ---

struct RenderOptions {
  bool skip_labels = false, skip_pod_labels = false, skip_namespace_labels = false;
  bool skip_container_metadata = false, skip_master_url = false, skip_namespace_metadata = false;
  bool include_ownerrefs = false;
  std::string master_url;  // empty: no master_url
  std::vector<std::shared_ptr<Regex>> annotation_match;
  bool de_dot = false, de_slash = false;
  std::string de_dot_separator = "_", de_slash_separator = "__";
};

// The `docker` and `kubernetes` maps for one container, ready to append to every record.
struct Rendered {
  bool has_docker = false;
  bool enriched = false;  // pod metadata was found (else only what the tag gives)
  std::string docker_json, docker_pack, kube_json, kube_pack;
};

// `pod` and `ns` may be null (unknown): the maps then hold what the tag gives.
void render(const TagInfo& tag, const Pod* pod, const Namespace* ns, const RenderOptions& opts,
            Rendered& out);

// Only the `kubernetes` map (JSON + msgpack) for a pod and one of its containers, for the
// termination source.
void render_kubernetes(const Pod& pod, const ContainerStatus* c, const Namespace* ns,
                       const RenderOptions& opts, std::string& json, std::string& pack);

// --- the pod cache ---

// Pods by uid, indexed by container id and namespace/name. Pods that disappear from the list
// keep their last-seen metadata until `gone_ttl` seconds after they were last seen (bounded by
// `max_gone` entries), so late log lines of a deleted pod still get it.
class PodStore {
 public:
  void update(std::vector<Pod> pods, double now);
  void set_namespaces(std::vector<Namespace> list);
  const Pod* find(const TagInfo& tag) const;
  const Pod* find_name(std::string_view ns, std::string_view name) const;
  const Namespace* ns(std::string_view name) const;
  // Changes whenever the data changes; renderings keyed on it are redone.
  uint64_t generation() const { return generation_; }
  size_t size() const { return pods_.size(); }
  const std::unordered_map<std::string, std::shared_ptr<const Pod>>& pods() const { return pods_; }

  double gone_ttl = 3600;
  size_t max_gone = 1000;

 private:
  void reindex();
  std::unordered_map<std::string, std::shared_ptr<const Pod>> pods_;  // uid -> pod
  std::unordered_map<std::string, double> last_seen_;
  std::unordered_map<std::string, std::string> by_container_, by_name_;  // -> uid
  std::unordered_map<std::string, Namespace> namespaces_;
  uint64_t generation_ = 0;
};

}  // namespace sluice::k8s

// libFuzzer target: the kubelet/API-server PodList parser of filter_kubernetes_metadata
// (k8s::parse_pod_list, parse_namespace_list, simdjson), the pod cache, and the rendering of
// the `docker`/`kubernetes` maps for every container found (JSON + msgpack, checked), plus
// the Downward API file parser on the same bytes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "k8s_meta.h"

namespace k8s = sluice::k8s;

namespace {
void check_rendered(const std::string& json, const std::string& pack) {
  if (json.empty()) return;
  std::string out;
  SLUICE_FUZZ_CHECK(sluice::msgpack::append_json(out, json, 1 << 20));
  SLUICE_FUZZ_CHECK(sluice::fuzz::valid_msgpack(pack));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const k8s::RenderOptions plain;
  static const k8s::RenderOptions dotted = [] {
    k8s::RenderOptions o;
    o.de_dot = o.de_slash = o.include_ownerrefs = true;
    o.master_url = "https://10.96.0.1:443/api";
    o.annotation_match.push_back(std::make_shared<k8s::Regex>("^(app|kubernetes\\.io/.*)$"));
    return o;
  }();
  std::vector<k8s::Pod> pods;
  std::string error;
  if (k8s::parse_pod_list(text, pods, error)) {
    std::vector<k8s::Namespace> namespaces;
    std::string nerr;
    k8s::parse_namespace_list(text, namespaces, nerr);
    k8s::PodStore store;
    store.update(pods, 100);
    store.set_namespaces(namespaces);
    for (const k8s::Pod& pod : pods) {
      for (const k8s::ContainerStatus& c : pod.containers) {
        k8s::TagInfo tag{pod.ns, pod.name, c.name, c.container_id, pod.uid};
        const k8s::Pod* found = store.find(tag);
        for (const k8s::RenderOptions* o : {&plain, &dotted}) {
          k8s::Rendered r;
          k8s::render(tag, found, store.ns(pod.ns), *o, r);
          check_rendered(r.kube_json, r.kube_pack);
          if (r.has_docker) check_rendered(r.docker_json, r.docker_pack);
          std::string json, pack;
          k8s::render_kubernetes(pod, &c, store.ns(pod.ns), *o, json, pack);
          check_rendered(json, pack);
        }
      }
    }
    store.update({}, 5000);  // every pod gone, then expired
  } else {
    SLUICE_FUZZ_CHECK(pods.empty() && !error.empty());
  }
  k8s::StrMap downward = k8s::parse_downward_api(text);
  (void)downward;
  return 0;
}

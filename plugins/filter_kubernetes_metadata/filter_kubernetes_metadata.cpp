// `@type kubernetes_metadata`: adds the `docker` and `kubernetes` maps of
// fluent-plugin-kubernetes_metadata_filter to records of container log files. Pod metadata comes
// from the local kubelet's /pods (or the API server, or the Downward API in sidecar mode); the
// maps are rendered once per container and attached to each batch as common fields.
#include "filter_kubernetes_metadata.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "core/log.h"
#include "core/registry.h"
#include "core/uv_handle.h"

namespace sluice {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

bool file_exists(const std::string& path) { return !path.empty() && ::access(path.c_str(), R_OK) == 0; }

// A parameter given as "" (the daemonset's "#{ENV['X']}" with X unset) counts as not given.
std::string present(const Params& p, const std::string& name) {
  return p.has(name) ? p.str(name) : std::string();
}

}  // namespace

KubernetesMetadataFilter::KubernetesMetadataFilter(PluginContext& ctx, const Params& p)
    : loop_(ctx.loop),
      id_(ctx.id),
      dry_run_(ctx.dry_run),
      records_(ctx.counter("sluice_kubernetes_metadata_records_total")),
      unenriched_(ctx.counter("sluice_kubernetes_metadata_unenriched_records_total")),
      refreshes_(ctx.counter("sluice_kubernetes_metadata_refreshes_total")),
      refresh_errors_(ctx.counter("sluice_kubernetes_metadata_refresh_errors_total")),
      unknown_pods_(ctx.counter("sluice_kubernetes_metadata_unknown_pod_lookups_total")) {
  // Which source.
  std::string source = p.str("source");
  bool use_kubelet = p.flag("use_kubelet");
  if (source == "kubelet") use_kubelet = true;
  if (source == "api_server") use_kubelet = false;
  sidecar_ = source == "downward_api";

  // Tag regexp.
  try {
    matcher_ = std::make_unique<k8s::TagMatcher>(p.has("tag_to_kubernetes_name_regexp")
                                                    ? p.regexp("tag_to_kubernetes_name_regexp")
                                                    : std::string(k8s::kDefaultTagRegexp));
  } catch (const std::exception& e) {
    throw ConfigException(p.pos("tag_to_kubernetes_name_regexp"), e.what());
  }

  // Rendering options.
  opts_.skip_labels = p.flag("skip_labels");
  opts_.skip_pod_labels = p.flag("skip_pod_labels");
  opts_.skip_namespace_labels = p.flag("skip_namespace_labels");
  opts_.skip_container_metadata = p.flag("skip_container_metadata");
  opts_.skip_master_url = p.flag("skip_master_url");
  opts_.skip_namespace_metadata = p.flag("skip_namespace_metadata");
  opts_.include_ownerrefs = p.flag("include_ownerrefs_metadata");
  opts_.de_dot = p.flag("de_dot");
  opts_.de_slash = p.flag("de_slash");
  opts_.de_dot_separator = p.str("de_dot_separator");
  opts_.de_slash_separator = p.str("de_slash_separator");
  for (auto& re : p.list("annotation_match")) {
    try {
      opts_.annotation_match.push_back(std::make_shared<k8s::Regex>(re));
    } catch (const std::exception& e) {
      throw ConfigException(p.pos("annotation_match"), e.what());
    }
  }
  if (p.str("apiVersion") != "v1")
    throw ConfigException(p.pos("apiVersion"), "only apiVersion v1 is supported");

  // The API server URL, as Fluentd derives it.
  std::string api_url = present(p, "kubernetes_url");
  if (api_url.empty() && !env("KUBERNETES_SERVICE_HOST").empty() && !env("KUBERNETES_SERVICE_PORT").empty()) {
    std::string host = env("KUBERNETES_SERVICE_HOST");
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    api_url = "https://" + host + ":" + env("KUBERNETES_SERVICE_PORT") + "/api";
  }
  opts_.master_url = api_url;

  k8s::SourceConfig sc;
  sc.use_kubelet = use_kubelet;
  sc.node_name = env("K8S_NODE_NAME");
  if (sc.node_name.empty()) sc.node_name = env("NODE_NAME");
  sc.kubelet_url = present(p, "kubelet_url");
  if (sc.kubelet_url.empty() && !sc.node_name.empty()) sc.kubelet_url = "https://" + sc.node_name + ":10250";
  sc.api_url = api_url;
  if (!sc.api_url.empty() && sc.api_url.find("/api", sc.api_url.size() >= 4 ? sc.api_url.size() - 4 : 0) ==
                                 std::string::npos) {
    // Kubeclient appends the version to the URL it is given; `.../api` is the usual form.
    while (!sc.api_url.empty() && sc.api_url.back() == '/') sc.api_url.pop_back();
    sc.api_url += "/api";
  }
  std::string secret_dir = p.str("secret_dir");
  sc.ca_file = present(p, "ca_file");
  if (sc.ca_file.empty() && file_exists(secret_dir + "/ca.crt")) sc.ca_file = secret_dir + "/ca.crt";
  sc.token_file = present(p, "bearer_token_file");
  if (sc.token_file.empty() && file_exists(secret_dir + "/token")) sc.token_file = secret_dir + "/token";
  sc.client_cert = present(p, "client_cert");
  sc.client_key = present(p, "client_key");
  sc.verify_ssl = p.flag("verify_ssl");
  sc.timeout_ms = static_cast<long>(p.seconds("read_timeout") * 1000);
  sc.connect_timeout_ms = static_cast<long>(p.seconds("open_timeout") * 1000);
  sc.fetch_namespaces = !opts_.skip_namespace_metadata && !api_url.empty();
  sc.refresh_interval = p.seconds("refresh_interval");
  sc.min_interval = p.seconds("min_refresh_interval");
  initial_timeout_ = p.seconds("initial_fetch_timeout");
  store_.gone_ttl = p.seconds("cache_ttl");
  if (store_.gone_ttl <= 0) store_.gone_ttl = 1e12;  // Fluentd: <= 0 means no TTL
  int64_t cache_size = p.integer("cache_size");
  store_.max_gone = cache_size > 0 ? static_cast<size_t>(cache_size) : 1000;
  max_entries_ = std::max<size_t>(store_.max_gone, 1024);
  unknown_retry_s_ = p.seconds("unknown_pod_retry_interval");

  if (sidecar_) {
    labels_file_ = p.str("labels_file");
    annotations_file_ = p.str("annotations_file");
    sidecar_container_ = present(p, "container_name");
    if (sidecar_container_.empty()) sidecar_container_ = env("CONTAINER_NAME");
    sidecar_image_ = present(p, "container_image");
    if (sidecar_image_.empty()) sidecar_image_ = env("CONTAINER_IMAGE");
    sidecar_refresh_ = sc.refresh_interval;
    load_downward_api();
    if (store_.size() == 0 && !dry_run_)
      log::warn("[" + id_ + "] source downward_api: POD_NAME/POD_NAMESPACE are not set; records get no pod metadata");
    return;
  }
  if (!sc.use_kubelet && sc.api_url.empty()) {
    log::warn("[" + id_ + "] no API server URL (kubernetes_url or KUBERNETES_SERVICE_HOST): records get only "
              "what the file name gives");
  } else if (sc.use_kubelet && sc.kubelet_url.empty() && sc.api_url.empty()) {
    log::warn("[" + id_ + "] no kubelet_url and neither K8S_NODE_NAME nor NODE_NAME is set: records get only "
              "what the file name gives");
  }
  source_ = std::make_unique<k8s::PodSource>(loop_, std::move(sc), id_,
                                             k8s::PodSource::Counters{&refreshes_, &refresh_errors_});
}

KubernetesMetadataFilter::~KubernetesMetadataFilter() { stop(); }

void KubernetesMetadataFilter::stop() {
  if (source_) source_->close();
  close_uv_handle(sidecar_timer_);
}

void KubernetesMetadataFilter::start() {
  if (dry_run_) return;
  if (sidecar_) {
    if (sidecar_refresh_ > 0) {
      sidecar_timer_ = new uv_timer_t;
      uv_timer_init(loop_, sidecar_timer_);
      sidecar_timer_->data = this;
      uv_unref(reinterpret_cast<uv_handle_t*>(sidecar_timer_));
      uint64_t ms = static_cast<uint64_t>(sidecar_refresh_ * 1000);
      uv_timer_start(sidecar_timer_, [](uv_timer_t* t) {
        if (auto* self = static_cast<KubernetesMetadataFilter*>(t->data)) self->load_downward_api();
      }, ms, ms);
    }
    return;
  }
  if (!source_) return;
  const auto& c = source_->config();
  if ((c.use_kubelet && !c.kubelet_url.empty()) || !c.api_url.empty()) {
    // One bounded fetch before the sources start, so a backlog read at start-up finds its pods.
    if (initial_timeout_ > 0) apply(source_->fetch_blocking(initial_timeout_));
    source_->start([this](k8s::FetchResult r) { apply(std::move(r)); });
  }
}

void KubernetesMetadataFilter::apply(k8s::FetchResult r) {
  if (r.have_namespaces) store_.set_namespaces(std::move(r.namespaces));
  if (!r.ok) return;
  if (!answered_) {
    answered_ = true;
    log::info("[" + id_ + "] pod metadata: " + std::to_string(r.pods.size()) + " pods");
  }
  store_.update(std::move(r.pods), uv_now(loop_) / 1000.0);
}

void KubernetesMetadataFilter::load_downward_api() {
  k8s::Pod pod;
  pod.name = env("POD_NAME");
  pod.ns = env("POD_NAMESPACE");
  pod.uid = env("POD_UID");
  pod.host = env("NODE_NAME");
  pod.pod_ip = env("POD_IP");
  if (pod.name.empty() && pod.ns.empty()) return;
  if (pod.uid.empty()) pod.uid = pod.ns + "/" + pod.name;
  if (!labels_file_.empty()) pod.labels = k8s::parse_downward_api(k8s::read_small_file(labels_file_));
  if (!annotations_file_.empty())
    pod.annotations = k8s::parse_downward_api(k8s::read_small_file(annotations_file_));
  if (!sidecar_container_.empty()) {
    k8s::ContainerStatus c;
    c.name = sidecar_container_;
    c.image = sidecar_image_;
    pod.containers.push_back(std::move(c));
  }
  sidecar_pod_ = pod;
  std::vector<k8s::Pod> v;
  v.push_back(std::move(pod));
  store_.update(std::move(v), uv_now(loop_) / 1000.0);
}

KubernetesMetadataFilter::Entry* KubernetesMetadataFilter::lookup(std::string_view tag) {
  auto it = entries_.find(tag);
  if (it != entries_.end()) return it->second.get();
  auto e = std::make_unique<Entry>();
  e->matched = matcher_->match(tag, e->tag);
  if (!e->matched && sidecar_ && sidecar_pod_) {
    // Sidecar: every record is from this pod, whatever file it came from.
    e->matched = true;
    e->tag.ns = sidecar_pod_->ns;
    e->tag.pod = sidecar_pod_->name;
    e->tag.container = sidecar_container_;
  }
  if (entries_.size() >= max_entries_) entries_.clear();  // rare: more live tags than the bound
  Entry* raw = e.get();
  entries_.emplace(std::string(tag), std::move(e));
  return raw;
}

void KubernetesMetadataFilter::filter(Batch& batch) {
  if (batch.records.empty()) return;
  Entry* e = lookup(batch.tag);
  if (!e->matched) return;  // as Fluentd: a tag the regexp does not match is left alone
  if (e->generation != store_.generation() || !e->rendered) {
    const k8s::Pod* pod = store_.find(e->tag);
    const k8s::Namespace* ns = pod ? store_.ns(pod->ns) : nullptr;
    k8s::render(e->tag, pod, ns, opts_, e->out);
    e->generation = store_.generation();
    e->rendered = true;
  }
  size_t n = batch.records.size();
  bump(records_, n);
  if (!e->out.enriched) {
    bump(unenriched_, n);
    // Unknown pod: ask for a refresh (coalesced and rate-limited by the source), at most once per
    // unknown_pod_retry_interval for this container.
    double now = uv_now(loop_) / 1000.0;
    if (source_ && now >= e->next_retry) {
      e->next_retry = now + unknown_retry_s_;
      bump(unknown_pods_);
      source_->request_refresh();
    }
  }
  if (e->out.has_docker)
    batch.common_fields.push_back({"docker", Value::of_json(e->out.docker_json, e->out.docker_pack)});
  batch.common_fields.push_back({"kubernetes", Value::of_json(e->out.kube_json, e->out.kube_pack)});
}

void register_filter_kubernetes_metadata(Registry& registry) {
  PluginSpec spec{"filter", "kubernetes_metadata",
                  "Adds pod metadata (Fluentd's kubernetes_metadata filter) from the kubelet, the API "
                  "server or the Downward API.",
                  {}, {}};
  auto opt = [](const char* name, const char* doc) {
    ParamSpec s{name, ParamType::String, "", doc};
    s.has_default = false;
    return s;
  };
  auto ignored = [](const char* name, ParamType type, const char* def, const char* why) {
    ParamSpec s{name, type, def, why};
    s.ignored = true;
    return s;
  };
  ParamSpec source{"source", ParamType::Enum, "auto",
                   "Where pod metadata comes from: auto (kubelet, else API server when use_kubelet "
                   "false), kubelet, api_server, downward_api (sidecar)."};
  source.choices = {"auto", "kubelet", "api_server", "downward_api"};
  spec.params = {
      source,
      opt("kubelet_url", "Kubelet base URL; default https://$K8S_NODE_NAME:10250 (or $NODE_NAME). "
                         "http://<node>:10255 for the read-only port."),
      {"use_kubelet", ParamType::Bool, "true",
       "Take pods from the kubelet's /pods (false: from the API server, as Fluentd does)."},
      opt("kubernetes_url", "API server URL (Fluentd's), e.g. https://10.96.0.1:443/api; default from "
                            "KUBERNETES_SERVICE_HOST/PORT. Used for namespaces, as master_url, and for "
                            "pods when use_kubelet is false or no kubelet answers."),
      opt("ca_file", "CA bundle for the kubelet / API server (default <secret_dir>/ca.crt)."),
      opt("bearer_token_file", "Bearer token file (default <secret_dir>/token); read again every minute."),
      opt("client_cert", "Client certificate (PEM)."),
      opt("client_key", "Client key (PEM)."),
      {"secret_dir", ParamType::String, "/var/run/secrets/kubernetes.io/serviceaccount",
       "Service-account directory for the default token and CA."},
      {"verify_ssl", ParamType::Bool, "true", "Verify the server certificate and host name."},
      {"open_timeout", ParamType::Duration, "3", "Connect timeout."},
      {"read_timeout", ParamType::Duration, "10", "Whole-request timeout of a refresh."},
      {"cache_size", ParamType::Integer, "1000", "Pods gone from /pods whose metadata is kept."},
      {"cache_ttl", ParamType::Duration, "3600",
       "How long a pod gone from /pods keeps its metadata (<= 0: forever)."},
      {"refresh_interval", ParamType::Duration, "60", "Periodic refresh of the pod list (0: none)."},
      {"min_refresh_interval", ParamType::Duration, "1", "At most one on-demand refresh per this time."},
      {"unknown_pod_retry_interval", ParamType::Duration, "5",
       "How often records of a still unknown pod may ask for a refresh."},
      {"initial_fetch_timeout", ParamType::Duration, "5",
       "At start-up, wait at most this long for the first pod list before reading files (0: don't)."},
      {"watch", ParamType::Bool, "true",
       "Accepted; sluice does not watch: it lists (refresh_interval, and on unknown pods)."},
      {"annotation_match", ParamType::Array, "[]", "Regexps of annotation keys to add."},
      {"skip_labels", ParamType::Bool, "false", "Omit pod and namespace labels."},
      {"skip_pod_labels", ParamType::Bool, "false", "Omit pod labels."},
      {"skip_namespace_labels", ParamType::Bool, "false", "Omit namespace labels."},
      {"skip_container_metadata", ParamType::Bool, "false", "Omit container_image and container_image_id."},
      {"skip_master_url", ParamType::Bool, "false", "Omit master_url."},
      {"skip_namespace_metadata", ParamType::Bool, "false",
       "Omit namespace_id/namespace_labels (and do not ask the API server for namespaces)."},
      {"include_ownerrefs_metadata", ParamType::Bool, "false", "Add ownerrefs [{kind,name}]."},
      {"de_dot", ParamType::Bool, "false", "Replace '.' in label/annotation keys (plugin 2.x behaviour)."},
      {"de_dot_separator", ParamType::String, "_", "Replacement for '.'."},
      {"de_slash", ParamType::Bool, "false", "Replace '/' in label/annotation keys."},
      {"de_slash_separator", ParamType::String, "__", "Replacement for '/'."},
      {"tag_to_kubernetes_name_regexp", ParamType::Regexp, "",
       "Regexp with groups namespace, pod_name, container_name, docker_id or pod_uuid (default: "
       "Fluentd's /var/log/containers and /var/log/pods ones)."},
      {"apiVersion", ParamType::String, "v1", "Only v1."},
      {"labels_file", ParamType::String, "/etc/podinfo/labels", "source downward_api: the labels file."},
      {"annotations_file", ParamType::String, "/etc/podinfo/annotations",
       "source downward_api: the annotations file."},
      opt("container_name", "source downward_api: container_name for records (default $CONTAINER_NAME)."),
      opt("container_image", "source downward_api: container_image (default $CONTAINER_IMAGE)."),
      ignored("stats_interval", ParamType::Integer, "30", "Accepted; counters are in the metrics endpoint."),
      ignored("allow_orphans", ParamType::Bool, "true",
              "Accepted; records of unknown pods keep their namespace from the file name (no .orphaned)."),
      ignored("orphaned_namespace_name", ParamType::String, ".orphaned", "Accepted; see allow_orphans."),
      ignored("orphaned_namespace_id", ParamType::String, "orphaned", "Accepted; see allow_orphans."),
      ignored("lookup_from_k8s_field", ParamType::Bool, "true", "Accepted; metadata comes from the tag."),
      ignored("ssl_partial_chain", ParamType::Bool, "false", "Accepted; OpenSSL defaults apply."),
      ignored("ignore_nil", ParamType::Bool, "true", "Accepted; ignored."),
      ignored("watch_retry_interval", ParamType::Integer, "1", "Accepted; no watch."),
      ignored("watch_retry_exponential_backoff_base", ParamType::Integer, "2", "Accepted; no watch."),
      ignored("watch_retry_max_times", ParamType::Integer, "10", "Accepted; no watch."),
  };
  for (auto& ps : spec.params)
    if (ps.name == "tag_to_kubernetes_name_regexp") ps.has_default = false;
  registry.add_filter(spec, [](PluginContext& ctx, const Params& params) {
    return std::make_unique<KubernetesMetadataFilter>(ctx, params);
  });
}

}  // namespace sluice

// `@type kubernetes_termination`: one record per container termination, from the kubelet's pod
// statuses (state.terminated / lastState.terminated) and the termination-message files under
// pods_dir, or (sidecar, `path`) from one terminationMessagePath on a shared volume. Each
// termination is shipped once: ids are remembered in `state_file` once the outputs acknowledged
// the record (written atomically), so a restart does not ship it again.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <string>

#include "core/delivery.h"
#include "core/log.h"
#include "core/registry.h"
#include "core/uv_handle.h"
#include "format/time.h"
#include "k8s_meta.h"
#include "pod_source.h"

namespace sluice {

namespace {

constexpr size_t kMaxMessage = 4096;  // the kubelet's limit per container

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

bool file_exists(const std::string& path) { return !path.empty() && ::access(path.c_str(), R_OK) == 0; }

std::string present(const Params& p, const std::string& name) { return p.has(name) ? p.str(name) : std::string(); }

// Cuts at 4096 bytes without splitting a UTF-8 sequence.
std::string bound(std::string s) {
  if (s.size() <= kMaxMessage) return s;
  size_t n = kMaxMessage;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s;
}

// The newest regular file in dir (the kubelet keeps one per container instance there).
std::string newest_file(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return {};
  std::string best;
  struct timespec best_t {};
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string p = dir + "/" + e->d_name;
    struct stat st;
    if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (best.empty() || st.st_mtim.tv_sec > best_t.tv_sec ||
        (st.st_mtim.tv_sec == best_t.tv_sec && st.st_mtim.tv_nsec > best_t.tv_nsec)) {
      best = p;
      best_t = st.st_mtim;
    }
  }
  ::closedir(d);
  return best;
}

}  // namespace

class KubernetesTerminationInput : public Input {
 public:
  KubernetesTerminationInput(PluginContext& ctx, const Params& p)
      : loop_(ctx.loop),
        emitter_(ctx.emitter),
        id_(ctx.id),
        dry_run_(ctx.dry_run),
        other_worker_(ctx.worker_id != 0),
        records_(ctx.counter("sluice_kubernetes_termination_records_total")),
        refreshes_(ctx.counter("sluice_kubernetes_termination_refreshes_total")),
        errors_(ctx.counter("sluice_kubernetes_termination_refresh_errors_total")) {
    tag_ = p.str("tag");
    pods_dir_ = p.str("pods_dir");
    path_ = present(p, "path");
    state_file_ = present(p, "state_file");
    interval_ = p.seconds("refresh_interval");
    opts_.skip_labels = p.flag("skip_labels");
    opts_.skip_container_metadata = p.flag("skip_container_metadata");
    opts_.skip_master_url = true;
    for (auto& re : p.list("annotation_match")) opts_.annotation_match.push_back(std::make_shared<k8s::Regex>(re));
    container_name_ = present(p, "container_name");
    if (container_name_.empty()) container_name_ = env("CONTAINER_NAME");

    if (path_.empty()) {
      k8s::SourceConfig sc;
      sc.node_name = env("K8S_NODE_NAME");
      if (sc.node_name.empty()) sc.node_name = env("NODE_NAME");
      sc.kubelet_url = present(p, "kubelet_url");
      if (sc.kubelet_url.empty() && !sc.node_name.empty()) sc.kubelet_url = "https://" + sc.node_name + ":10250";
      std::string secret_dir = p.str("secret_dir");
      sc.ca_file = present(p, "ca_file");
      if (sc.ca_file.empty() && file_exists(secret_dir + "/ca.crt")) sc.ca_file = secret_dir + "/ca.crt";
      sc.token_file = present(p, "bearer_token_file");
      if (sc.token_file.empty() && file_exists(secret_dir + "/token")) sc.token_file = secret_dir + "/token";
      sc.verify_ssl = p.flag("verify_ssl");
      sc.timeout_ms = static_cast<long>(p.seconds("read_timeout") * 1000);
      sc.connect_timeout_ms = static_cast<long>(p.seconds("open_timeout") * 1000);
      sc.refresh_interval = interval_;
      sc.min_interval = 0;
      if (sc.kubelet_url.empty() && !dry_run_)
        throw ConfigException(p.section().pos, "kubernetes_termination: no kubelet_url and neither K8S_NODE_NAME "
                                               "nor NODE_NAME is set (or give `path` for sidecar mode)");
      source_ = std::make_unique<k8s::PodSource>(loop_, std::move(sc), id_,
                                                 k8s::PodSource::Counters{&refreshes_, &errors_});
    }
    if (state_file_.empty() && !dry_run_)
      log::warn("[" + id_ + "] no state_file: terminations seen before a restart are shipped again");
    load_state();
    tracker_.on_commit = [this](uint64_t seq) { committed(seq); };
  }

  ~KubernetesTerminationInput() override { stop(); }

  void start() override {
    // One reader per node: with several workers each would ship every termination, and all would
    // write the one state_file.
    if (dry_run_ || other_worker_) return;
    if (source_) {
      source_->start([this](k8s::FetchResult r) {
        if (r.ok) on_pods(r.pods);
      });
      source_->request_refresh();
    } else {
      timer_ = new uv_timer_t;
      uv_timer_init(loop_, timer_);
      timer_->data = this;
      uint64_t ms = static_cast<uint64_t>(std::max(0.05, interval_) * 1000);
      uv_timer_start(timer_, [](uv_timer_t* t) {
        if (auto* self = static_cast<KubernetesTerminationInput*>(t->data)) self->check_path();
      }, 0, ms);
    }
  }

  void stop() override {
    if (source_) source_->close();
    close_uv_handle(timer_);
  }

  void finish() override { save_state(); }

 private:
  struct Term {
    std::string key;
    std::string message, reason, started_at, finished_at, container_id;
    int64_t exit_code = 0, signal = 0, restart_count = 0;
    bool has_exit = false, has_signal = false;
    std::string kube_json, kube_pack;
  };

  void on_pods(const std::vector<k8s::Pod>& pods) {
    double now = uv_now(loop_) / 1000.0;
    std::vector<Term> out;
    for (auto& pod : pods) {
      for (auto& c : pod.containers) {
        for (const k8s::Terminated* t : {&c.terminated, &c.last_terminated}) {
          if (!t->present) continue;
          std::string cid(k8s::strip_runtime(t->container_id));
          std::string key = !cid.empty() ? cid : pod.uid + "/" + c.name + "/" + t->finished_at;
          if (shipped_.count(key)) {
            shipped_[key] = now;  // still listed: keep remembering it
            continue;
          }
          if (in_flight_.count(key)) continue;
          Term r;
          r.key = key;
          r.message = t->message;
          if (r.message.empty() && t == &c.terminated) {
            // The kubelet copies the file into the status; read it ourselves when it did not.
            std::string f = newest_file(pods_dir_ + "/" + pod.uid + "/containers/" + c.name);
            if (!f.empty()) r.message = k8s::read_small_file(f, kMaxMessage + 4);
          }
          r.message = bound(std::move(r.message));
          r.reason = t->reason;
          r.has_exit = true;
          r.exit_code = t->exit_code;
          r.has_signal = t->has_signal;
          r.signal = t->signal;
          r.started_at = t->started_at;
          r.finished_at = t->finished_at;
          r.container_id = cid;
          r.restart_count = c.restart_count;
          k8s::render_kubernetes(pod, &c, nullptr, opts_, r.kube_json, r.kube_pack);
          out.push_back(std::move(r));
        }
      }
    }
    emit(out);
    // Forget ids not listed for an hour (the pod is long gone; it cannot come back).
    for (auto it = shipped_.begin(); it != shipped_.end();)
      it = it->second < now - 3600 ? shipped_.erase(it) : std::next(it);
  }

  void check_path() {
    struct stat st;
    if (::stat(path_.c_str(), &st) != 0 || st.st_size == 0) return;
    std::string key = path_ + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
                      std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    if (shipped_.count(key) || in_flight_.count(key)) return;
    Term r;
    r.key = key;
    r.message = bound(k8s::read_small_file(path_, kMaxMessage + 4));
    k8s::Pod pod;
    pod.name = env("POD_NAME");
    pod.ns = env("POD_NAMESPACE");
    pod.uid = env("POD_UID");
    pod.host = env("NODE_NAME");
    pod.pod_ip = env("POD_IP");
    k8s::ContainerStatus c;
    c.name = container_name_;
    k8s::render_kubernetes(pod, &c, nullptr, opts_, r.kube_json, r.kube_pack);
    std::vector<Term> v;
    v.push_back(std::move(r));
    emit(v);
  }

  void emit(std::vector<Term>& terms) {
    if (terms.empty()) return;
    Batch batch;
    batch.tag = tag_;
    batch.source_path = path_;
    std::deque<std::string> keep;  // bytes the records view, alive while the batch is emitted
    for (auto& t : terms) {
      EventTime time;
      if (t.finished_at.empty() || !parse_rfc3339(t.finished_at, time)) time = now();
      batch.begin_record(time, ++seq_);
      batch.add_field("message", Value::of_string(t.message));
      if (!t.reason.empty()) batch.add_field("reason", Value::of_string(t.reason));
      if (t.has_exit) batch.add_field("exit_code", Value::of_int(t.exit_code));
      if (t.has_signal) batch.add_field("signal", Value::of_int(t.signal));
      if (!t.started_at.empty()) batch.add_field("started_at", Value::of_string(t.started_at));
      if (!t.finished_at.empty()) batch.add_field("finished_at", Value::of_string(t.finished_at));
      if (!t.container_id.empty()) batch.add_field("container_id", Value::of_string(t.container_id));
      if (path_.empty()) batch.add_field("restart_count", Value::of_int(t.restart_count));
      batch.add_field("kubernetes", Value::of_json(t.kube_json, t.kube_pack));
      in_flight_[t.key] = seq_;
    }
    batch.claim = tracker_.open(seq_);
    Claim* claim = batch.claim;
    emitter_->emit(batch);
    bump(records_, terms.size());
    claim->release();
    (void)keep;
  }

  // Everything emitted up to `seq` has been delivered: remember it and persist.
  void committed(uint64_t seq) {
    double now = uv_now(loop_) / 1000.0;
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
      if (it->second <= seq) {
        shipped_[it->first] = now;
        it = in_flight_.erase(it);
      } else {
        ++it;
      }
    }
    save_state();
  }

  void load_state() {
    if (state_file_.empty()) return;
    std::string text = k8s::read_small_file(state_file_, 64 << 20);
    double now = uv_now(loop_) / 1000.0;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) break;  // a torn last line is not trusted
      std::string line = text.substr(pos, nl - pos);
      pos = nl + 1;
      if (!line.empty() && line[0] != '#') shipped_[line] = now;
    }
  }

  void save_state() {
    if (state_file_.empty() || dry_run_) return;
    std::string text = "# sluice kubernetes_termination: shipped termination ids\n";
    for (auto& [k, v] : shipped_) text += k + "\n";
    std::string tmp = state_file_ + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      log::warn_once(id_ + ":state", "[" + id_ + "] cannot write " + tmp + ": " + std::strerror(errno));
      return;
    }
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ok = ::fsync(fd) == 0 && ok;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), state_file_.c_str()) != 0)
      log::warn_once(id_ + ":state", "[" + id_ + "] cannot write " + state_file_);
  }

  uv_loop_t* loop_;
  Emitter* emitter_;
  std::string id_;
  bool dry_run_;
  bool other_worker_;
  Counter& records_;
  Counter& refreshes_;
  Counter& errors_;
  std::string tag_, pods_dir_, path_, state_file_, container_name_;
  double interval_ = 10;
  k8s::RenderOptions opts_;
  std::unique_ptr<k8s::PodSource> source_;
  uv_timer_t* timer_ = nullptr;
  std::map<std::string, double> shipped_;       // id -> last seen
  std::map<std::string, uint64_t> in_flight_;   // id -> seq, emitted but not acknowledged
  DeliveryTracker tracker_;
  uint64_t seq_ = 0;
};

void register_in_kubernetes_termination(Registry& registry) {
  PluginSpec spec{"input", "kubernetes_termination",
                  "One record per container termination (kubelet pod statuses and termination-message "
                  "files, or one terminationMessagePath in sidecar mode), shipped once across restarts.",
                  {}, {}};
  auto opt = [](const char* name, const char* doc) {
    ParamSpec s{name, ParamType::String, "", doc};
    s.has_default = false;
    return s;
  };
  spec.params = {
      opt("kubelet_url", "Kubelet base URL; default https://$K8S_NODE_NAME:10250 (or $NODE_NAME)."),
      opt("ca_file", "CA bundle (default <secret_dir>/ca.crt)."),
      opt("bearer_token_file", "Bearer token file (default <secret_dir>/token)."),
      {"secret_dir", ParamType::String, "/var/run/secrets/kubernetes.io/serviceaccount", "Service-account dir."},
      {"verify_ssl", ParamType::Bool, "true", "Verify the kubelet's certificate."},
      {"pods_dir", ParamType::String, "/var/lib/kubelet/pods", "Where the kubelet keeps termination-message files."},
      opt("path", "Sidecar mode: the terminationMessagePath file on a shared volume to watch."),
      opt("state_file", "Remembers shipped terminations across restarts (written atomically)."),
      {"tag", ParamType::String, "kubernetes.termination", "Tag of the records."},
      {"refresh_interval", ParamType::Duration, "10", "How often pod statuses (or `path`) are checked."},
      {"open_timeout", ParamType::Duration, "3", "Connect timeout."},
      {"read_timeout", ParamType::Duration, "10", "Request timeout."},
      opt("container_name", "Sidecar mode: container_name in `kubernetes` (default $CONTAINER_NAME)."),
      {"annotation_match", ParamType::Array, "[]", "Regexps of pod annotation keys to add."},
      {"skip_labels", ParamType::Bool, "false", "Omit pod labels."},
      {"skip_container_metadata", ParamType::Bool, "false", "Omit container_image and container_image_id."},
  };
  registry.add_input(spec, [](PluginContext& ctx, const Params& params) {
    return std::make_unique<KubernetesTerminationInput>(ctx, params);
  });
}

}  // namespace sluice

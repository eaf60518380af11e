#include "pod_source.h"

#include <fcntl.h>
#include <unistd.h>

#include "core/log.h"
#include "core/uv_handle.h"

namespace sluice::k8s {

std::string read_small_file(const std::string& path, size_t max) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[8192];
  while (out.size() < max) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (out.size() > max) out.resize(max);
  return out;
}

namespace {
std::string trim_ws(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}
std::string strip_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}
}  // namespace

PodSource::PodSource(uv_loop_t* loop, SourceConfig config, std::string log_id, Counters counters)
    : loop_(loop), config_(std::move(config)), log_id_(std::move(log_id)), counters_(counters) {
  config_.kubelet_url = strip_slash(config_.kubelet_url);
  config_.api_url = strip_slash(config_.api_url);
}

PodSource::~PodSource() { close(); }

void PodSource::start(Callback on_result) {
  on_result_ = std::move(on_result);
  client_ = std::make_unique<http::HttpClient>(loop_);
  periodic_ = new uv_timer_t;
  uv_timer_init(loop_, periodic_);
  periodic_->data = this;
  delayed_ = new uv_timer_t;
  uv_timer_init(loop_, delayed_);
  delayed_->data = this;
  // Timers must not keep the loop alive on their own (shutdown closes what is left).
  uv_unref(reinterpret_cast<uv_handle_t*>(periodic_));
  uv_unref(reinterpret_cast<uv_handle_t*>(delayed_));
  if (config_.refresh_interval > 0) {
    uint64_t ms = static_cast<uint64_t>(config_.refresh_interval * 1000);
    uv_timer_start(periodic_, [](uv_timer_t* t) {
      auto* self = static_cast<PodSource*>(t->data);
      if (self) self->request_refresh();
    }, ms, ms);
  }
}

void PodSource::request_refresh() {
  if (closed_ || !client_) return;
  if (in_flight_) {
    pending_ = true;
    return;
  }
  uint64_t now = uv_now(loop_);
  uint64_t min_ms = static_cast<uint64_t>(config_.min_interval * 1000);
  if (last_start_ms_ && now < last_start_ms_ + min_ms) {
    if (!delay_armed_ && delayed_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(delayed_))) {
      delay_armed_ = true;
      uv_timer_start(delayed_, [](uv_timer_t* t) {
        auto* self = static_cast<PodSource*>(t->data);
        if (!self) return;
        self->delay_armed_ = false;
        self->request_refresh();
      }, last_start_ms_ + min_ms - now, 0);
    }
    return;
  }
  begin();
}

void PodSource::begin() {
  in_flight_ = true;
  pending_ = false;
  last_start_ms_ = uv_now(loop_);
  if (last_start_ms_ == 0) last_start_ms_ = 1;
  if (counters_.refreshes) bump(*counters_.refreshes);
  std::weak_ptr<bool> alive = alive_;
  fetch(*client_, [this, alive](FetchResult r) {
    if (alive.expired() || closed_) return;
    in_flight_ = false;
    if (on_result_) on_result_(std::move(r));
    if (pending_ && !closed_) request_refresh();
  });
}

FetchResult PodSource::fetch_blocking(double timeout_s) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  FetchResult out;
  {
    SourceConfig saved = config_;
    long ms = static_cast<long>(timeout_s * 1000);
    if (config_.timeout_ms <= 0 || config_.timeout_ms > ms) config_.timeout_ms = ms;
    if (config_.connect_timeout_ms <= 0 || config_.connect_timeout_ms > ms) config_.connect_timeout_ms = ms;
    http::HttpClient client(&loop);
    bool done = false;
    if (counters_.refreshes) bump(*counters_.refreshes);
    fetch(client, [&](FetchResult r) {
      out = std::move(r);
      done = true;
    });
    while (!done && uv_run(&loop, UV_RUN_ONCE)) {
    }
    client.close();
    config_ = saved;
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return out;
}

void PodSource::close() {
  if (closed_) return;
  closed_ = true;
  *alive_ = false;
  alive_ = std::make_shared<bool>(false);
  if (client_) client_->close();
  close_uv_handle(periodic_);
  close_uv_handle(delayed_);
}

const std::string& PodSource::token() {
  // Projected service-account tokens rotate: read again every minute.
  uint64_t now = uv_now(loop_);
  if (!config_.token_file.empty() && (token_read_ms_ == 0 || now > token_read_ms_ + 60000 || token_.empty())) {
    token_ = trim_ws(read_small_file(config_.token_file, 64 * 1024));
    token_read_ms_ = now ? now : 1;
  }
  return token_;
}

http::HttpRequest PodSource::request(const std::string& url) {
  http::HttpRequest r;
  r.url = url;
  r.timeout_ms = config_.timeout_ms;
  r.connect_timeout_ms = config_.connect_timeout_ms;
  r.tls.ca_file = config_.ca_file;
  r.tls.client_cert = config_.client_cert;
  r.tls.client_key = config_.client_key;
  r.tls.verify_peer = config_.verify_ssl;
  r.tls.verify_host = config_.verify_ssl;
  r.bearer_token = token();
  r.accept_compressed = true;
  r.headers = {{"Accept", "application/json"}};
  return r;
}

void PodSource::failed(const std::string& what, const std::string& url, const http::HttpResponse& r) {
  if (counters_.errors) bump(*counters_.errors);
  std::string cause;
  if (!r.error.empty()) cause = r.timed_out ? "timeout" : r.error;
  else cause = "HTTP " + std::to_string(r.status);
  std::string msg = "[" + log_id_ + "] " + what + " from " + url + " failed: " + cause +
                    "; records keep the metadata the file name gives (and what was seen before)";
  if (r.status == 401 || r.status == 403) msg += " (check the service account token and RBAC for nodes/proxy or pods)";
  log::warn_once(log_id_ + ":" + what + ":" + url + ":" + cause, msg);
}

void PodSource::fetch(http::HttpClient& client, std::function<void(FetchResult)> done) {
  auto acc = std::make_shared<FetchResult>();
  bool kubelet = config_.use_kubelet && !config_.kubelet_url.empty();
  if (!kubelet && config_.api_url.empty()) {
    done(FetchResult{});
    return;
  }
  fetch_pods(client, kubelet, acc, std::move(done));
}

void PodSource::fetch_pods(http::HttpClient& client, bool kubelet, std::shared_ptr<FetchResult> acc,
                           std::function<void(FetchResult)> done) {
  std::string url;
  if (kubelet) {
    url = config_.kubelet_url + "/pods";
  } else {
    url = config_.api_url + "/v1/pods?resourceVersion=0";
    if (!config_.node_name.empty()) url += "&fieldSelector=spec.nodeName%3D" + config_.node_name;
  }
  http::HttpClient* c = &client;
  client.send(request(url), [this, c, kubelet, url, acc, done](http::HttpResponse r) {
    std::string what = kubelet ? "kubelet /pods" : "API server pod list";
    if (r.ok()) {
      std::string err;
      if (parse_pod_list(r.body, acc->pods, err)) {
        acc->ok = true;
      } else {
        http::HttpResponse bad;
        bad.error = "unusable response (" + err + ")";
        failed(what, url, bad);
      }
    } else {
      failed(what, url, r);
      // Fluentd configs that name only kubernetes_url keep working when no kubelet answers.
      if (kubelet && !config_.api_url.empty() && r.status == 0) {
        fetch_pods(*c, false, acc, done);
        return;
      }
    }
    if (acc->ok && config_.fetch_namespaces && !config_.api_url.empty()) {
      fetch_namespaces(*c, acc, done);
      return;
    }
    done(std::move(*acc));
  });
}

void PodSource::fetch_namespaces(http::HttpClient& client, std::shared_ptr<FetchResult> acc,
                                 std::function<void(FetchResult)> done) {
  std::string url = config_.api_url + "/v1/namespaces?resourceVersion=0";
  client.send(request(url), [this, url, acc, done](http::HttpResponse r) {
    if (r.ok()) {
      std::string err;
      if (parse_namespace_list(r.body, acc->namespaces, err)) {
        acc->have_namespaces = true;
      } else {
        http::HttpResponse bad;
        bad.error = "unusable response (" + err + ")";
        failed("API server namespace list", url, bad);
      }
    } else {
      failed("API server namespace list", url, r);
    }
    done(std::move(*acc));
  });
}

}  // namespace sluice::k8s

// Where pod metadata comes from: the kubelet's /pods (default) or the API server (pods of this
// node listed with fieldSelector spec.nodeName and resourceVersion=0, plus namespaces), through
// the async HttpClient on the loop. Refreshes are periodic and on demand, rate-limited and
// coalesced; failures are counted and logged once per cause, never with the token.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "http/http_client.h"
#include "k8s_meta.h"

namespace sluice::k8s {

struct SourceConfig {
  bool use_kubelet = true;
  std::string kubelet_url;  // https://<node>:10250 (or http://<node>:10255); /pods is appended
  std::string api_url;      // Fluentd's kubernetes_url, e.g. https://10.96.0.1:443/api; may be empty
  std::string node_name;
  std::string token_file, ca_file, client_cert, client_key;
  bool verify_ssl = true;
  long timeout_ms = 10000;
  long connect_timeout_ms = 3000;
  bool fetch_namespaces = false;  // from the API server (needs api_url)
  double refresh_interval = 60;   // periodic refresh; 0: none
  double min_interval = 1;        // at most one on-demand refresh per this many seconds
};

struct FetchResult {
  bool ok = false;
  std::vector<Pod> pods;
  bool have_namespaces = false;
  std::vector<Namespace> namespaces;
};

class PodSource {
 public:
  using Callback = std::function<void(FetchResult)>;
  struct Counters {
    Counter* refreshes = nullptr;
    Counter* errors = nullptr;
  };

  PodSource(uv_loop_t* loop, SourceConfig config, std::string log_id, Counters counters);
  ~PodSource();

  // Calls `on_result` for every completed refresh (successful or not).
  void start(Callback on_result);
  // Asks for a refresh soon: coalesced with one in flight, at most one per min_interval.
  void request_refresh();
  // Fetches once on a private loop, bounded by `timeout_s` (start-up: so the first records of
  // the backlog already find their pods).
  FetchResult fetch_blocking(double timeout_s);
  void close();

  const SourceConfig& config() const { return config_; }

 private:
  void begin();
  void fetch(http::HttpClient& client, std::function<void(FetchResult)> done);
  void fetch_pods(http::HttpClient& client, bool kubelet, std::shared_ptr<FetchResult> acc,
                  std::function<void(FetchResult)> done);
  void fetch_namespaces(http::HttpClient& client, std::shared_ptr<FetchResult> acc,
                        std::function<void(FetchResult)> done);
  http::HttpRequest request(const std::string& url);
  void failed(const std::string& what, const std::string& url, const http::HttpResponse& r);
  const std::string& token();

  uv_loop_t* loop_;
  SourceConfig config_;
  std::string log_id_;
  Counters counters_;
  Callback on_result_;
  std::unique_ptr<http::HttpClient> client_;
  uv_timer_t* periodic_ = nullptr;
  uv_timer_t* delayed_ = nullptr;
  bool in_flight_ = false, pending_ = false, delay_armed_ = false, closed_ = false;
  uint64_t last_start_ms_ = 0;
  std::string token_;
  uint64_t token_read_ms_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Reads a small file whole; empty on error.
std::string read_small_file(const std::string& path, size_t max = 1 << 20);

}  // namespace sluice::k8s

// The pure parts of `@type prometheus`: the text exposition of a Metrics snapshot and the router
// that answers a request (parsed by http/request_head.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/request_head.h"

namespace sluice::prometheus {

// Prometheus text format 0.0.4: `# TYPE <family> counter|gauge` once per family (families ending
// in `_total` are counters, others gauges), then `name{labels} value` lines. Names that are not
// valid metric names, or label blocks that are not `{...}` on one line, are left out.
std::string render(const std::vector<std::pair<std::string, uint64_t>>& snapshot);

// The request head parser is shared with other servers (http/request_head.h).
using Request = http::RequestHead;
using ParseStatus = http::HeadStatus;
inline ParseStatus parse_request(std::string_view buf, size_t max_head, Request& out, size_t& head_len) {
  return http::parse_request_head(buf, max_head, out, head_len);
}

struct Routes {
  std::string metrics_path = "/metrics";
  std::string aggregated_metrics_path = "/aggregated_metrics";
  bool gzip = false;  // content_encoding gzip: compress when the client accepts it
};

struct Response {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones
};

// Answers one parsed request; `metrics` renders the exposition when it is asked for.
template <typename Render>
Response route(const Request& req, const Routes& routes, Render&& metrics);
Response route_with_body(const Request& req, const Routes& routes, const std::string* metrics_body);

// A status-only response for requests that could not be parsed (400, 408, 431, 503).
Response error_response(int status);

// The bytes on the wire: status line, Content-Type, Content-Length, `Connection: close`, extra
// headers, then the body (left out for HEAD).
std::string serialize(const Response& r, bool head_only);

// True when `path` names one of the routes that render metrics.
bool wants_metrics(const Request& req, const Routes& routes);

template <typename Render>
Response route(const Request& req, const Routes& routes, Render&& metrics) {
  if (wants_metrics(req, routes)) {
    std::string body = metrics();
    return route_with_body(req, routes, &body);
  }
  return route_with_body(req, routes, nullptr);
}

}  // namespace sluice::prometheus

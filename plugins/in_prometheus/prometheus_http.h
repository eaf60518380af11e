// The pure parts of `@type prometheus`: the text exposition of a Metrics snapshot, a bounded
// HTTP/1.x request-head parser for untrusted peers, and the router that answers a request.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::prometheus {

// Prometheus text format 0.0.4: `# TYPE <family> counter|gauge` once per family (families ending
// in `_total` are counters, others gauges), then `name{labels} value` lines. Names that are not
// valid metric names, or label blocks that are not `{...}` on one line, are left out.
std::string render(const std::vector<std::pair<std::string, uint64_t>>& snapshot);

struct Request {
  std::string method;
  std::string target;   // as sent, with any query string
  std::string path;     // target without the query string
  std::string version;  // "HTTP/1.0" or "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  const std::string* header(std::string_view lower_name) const;
};

enum class ParseStatus { NeedMore, Ok, Bad, TooLarge };

// Parses the request head at the start of `buf` (terminated by an empty line, CRLF or LF). Fails
// early (Bad) on bytes that cannot begin an HTTP request; TooLarge when no complete head fits in
// `max_head` bytes. On Ok, `head_len` is the head's length including the empty line.
ParseStatus parse_request(std::string_view buf, size_t max_head, Request& out, size_t& head_len);

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

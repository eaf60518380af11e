#include "prometheus_http.h"

#include <zlib.h>

#include <cctype>
#include <map>

namespace sluice::prometheus {

namespace {

bool valid_metric_name(std::string_view n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool valid_label_block(std::string_view l) {
  if (l.empty()) return true;
  if (l.size() < 2 || l.front() != '{' || l.back() != '}') return false;
  for (char c : l)
    if (c == '\n' || c == '\r' || c == '\0') return false;
  return true;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

bool gzip_compress(const std::string& in, std::string& out) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return false;
  out.resize(deflateBound(&z, uLong(in.size())) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = uInt(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END;
}

bool accepts_gzip(const Request& req) {
  const std::string* ae = req.header("accept-encoding");
  if (!ae) return false;
  std::string v = lower(*ae);
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t comma = v.find(',', pos);
    std::string_view item = trim(std::string_view(v).substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    size_t semi = item.find(';');
    std::string_view coding = trim(item.substr(0, semi));
    if (coding == "gzip" || coding == "*") {
      // `gzip;q=0` refuses it.
      if (semi != std::string_view::npos) {
        std::string_view params = item.substr(semi + 1);
        size_t q = params.find("q=");
        if (q != std::string_view::npos) {
          std::string_view qv = trim(params.substr(q + 2));
          bool zero = !qv.empty();
          for (char c : qv)
            if (c != '0' && c != '.') zero = false;
          if (zero) return false;
        }
      }
      return true;
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return false;
}

}  // namespace

std::string render(const std::vector<std::pair<std::string, uint64_t>>& snapshot) {
  // Group by family: a sorted snapshot can interleave `a_b{...}` between `a` and `a{...}`.
  std::map<std::string_view, std::vector<const std::pair<std::string, uint64_t>*>> families;
  for (auto& m : snapshot) {
    std::string_view name = m.first;
    size_t brace = name.find('{');
    std::string_view family = name.substr(0, brace);
    std::string_view labels = brace == std::string_view::npos ? std::string_view() : name.substr(brace);
    if (!valid_metric_name(family) || !valid_label_block(labels)) continue;
    families[family].push_back(&m);
  }
  std::string out;
  out.reserve(snapshot.size() * 64);
  for (auto& [family, members] : families) {
    out += "# TYPE ";
    out += family;
    out += ends_with(family, "_total") ? " counter\n" : " gauge\n";
    for (auto* m : members) {
      out += m->first;
      out += ' ';
      out += std::to_string(m->second);
      out += '\n';
    }
  }
  return out;
}

bool wants_metrics(const Request& req, const Routes& routes) {
  return (req.method == "GET" || req.method == "HEAD") &&
         (req.path == routes.metrics_path || req.path == routes.aggregated_metrics_path);
}

Response route_with_body(const Request& req, const Routes& routes, const std::string* metrics_body) {
  bool known = req.path == routes.metrics_path || req.path == routes.aggregated_metrics_path ||
               req.path == "/healthz";
  Response r;
  if (!known) {
    r = error_response(404);
    return r;
  }
  if (req.method != "GET" && req.method != "HEAD") {
    r = error_response(405);
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (req.path == "/healthz" && req.path != routes.metrics_path &&
      req.path != routes.aggregated_metrics_path) {
    r.content_type = "text/plain; charset=utf-8";
    r.body = "ok\n";
    return r;
  }
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics_body ? *metrics_body : std::string();
  if (routes.gzip && accepts_gzip(req)) {
    std::string z;
    if (gzip_compress(r.body, z)) {
      r.body = std::move(z);
      r.headers.emplace_back("Content-Encoding", "gzip");
    }
  }
  r.headers.emplace_back("Vary", "Accept-Encoding");
  return r;
}

Response error_response(int status) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::string(reason(status)) + "\n";
  return r;
}

std::string serialize(const Response& r, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
  if (!r.content_type.empty()) out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += "Connection: close\r\n";
  for (auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
  out += "\r\n";
  if (!head_only) out += r.body;
  return out;
}

}  // namespace sluice::prometheus

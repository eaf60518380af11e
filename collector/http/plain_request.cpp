// The request side of plain_post.h: which requests it takes (plain_target) and their head.
#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>

#include "format/base64.h"
#include "http/ascii.h"
#include "http/plain_post.h"

namespace sluice::http {

namespace {

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

std::string url_part(CURLU* u, CURLUPart part, unsigned flags = 0) {
  char* v = nullptr;
  if (curl_url_get(u, part, &v, flags) != CURLUE_OK || !v) return {};
  std::string s(v);
  curl_free(v);
  return s;
}

bool custom_header(const HttpRequest& r, std::string_view name) { return find_header(r.headers, name) != nullptr; }

}  // namespace

bool plain_target(const HttpRequest& r, PlainTarget& t) {
  if (r.method != "POST" || !r.proxy.empty() || r.accept_compressed || r.url.rfind("http://", 0) != 0)
    return false;
  if (std::max(r.body.size(), r.body_view.size()) > (size_t(7) << 30)) return false;  // write_request's buffers
  for (const char* env : {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"})
    if (const char* v = std::getenv(env); v && *v) return false;
  for (const auto& [k, v] : r.headers)
    if (k.empty() || has_line_break(k) || has_line_break(v) || k.find(':') != std::string::npos) return false;
  if (has_line_break(r.bearer_token)) return false;
  CURLU* u = curl_url();
  if (!u) return false;
  bool ok = curl_url_set(u, CURLUPART_URL, r.url.c_str(), 0) == CURLUE_OK &&
            url_part(u, CURLUPART_USER).empty() && url_part(u, CURLUPART_PASSWORD).empty();
  if (ok) {
    std::string host = url_part(u, CURLUPART_HOST);
    const std::string port = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    std::string path = url_part(u, CURLUPART_PATH);
    const std::string query = url_part(u, CURLUPART_QUERY);
    ok = !host.empty() && !port.empty() && !has_line_break(path) && !has_line_break(query);
    if (ok) {
      t.port = std::atoi(port.c_str());
      t.host_header = host;
      if (t.port != 80) t.host_header.append(":").append(port);
      if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
      t.host = host;
      t.path = path.empty() ? "/" : path;
      if (!query.empty()) t.path.append("?").append(query);
      ok = t.port > 0 && t.port < 65536;
    }
  }
  curl_url_cleanup(u);
  return ok;
}

std::string plain_request_head(const PlainTarget& t, const HttpRequest& r, size_t body_size,
                               const std::string& user_agent) {
  std::string h;
  h.reserve(256);
  h.append("POST ").append(t.path).append(" HTTP/1.1\r\n");
  if (!custom_header(r, "Host")) h.append("Host: ").append(t.host_header).append("\r\n");
  if (!r.user.empty() && !custom_header(r, "Authorization"))
    h.append("Authorization: Basic ").append(base64_encode(r.user + ":" + r.password)).append("\r\n");
  if (!user_agent.empty() && !custom_header(r, "User-Agent"))
    h.append("User-Agent: ").append(user_agent).append("\r\n");
  if (!custom_header(r, "Accept")) h.append("Accept: */*\r\n");
  h.append("Content-Length: ").append(std::to_string(body_size)).append("\r\n");
  if (!custom_header(r, "Content-Type")) h.append("Content-Type: application/x-www-form-urlencoded\r\n");
  for (const auto& [k, v] : r.headers) {
    // The body's framing is this writer's; no Expect round trip (as with libcurl here).
    if (iequals(k, "Content-Length") || iequals(k, "Transfer-Encoding") || iequals(k, "Expect")) continue;
    h.append(k).append(v.empty() ? ":" : ": ").append(v).append("\r\n");
  }
  if (!r.bearer_token.empty()) h.append("Authorization: Bearer ").append(r.bearer_token).append("\r\n");
  h.append("\r\n");
  return h;
}

}  // namespace sluice::http

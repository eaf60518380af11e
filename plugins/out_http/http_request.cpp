#include "http_request.h"

#include <curl/curl.h>

#include <algorithm>

#include "core/log.h"
#include "http/ascii.h"

namespace sluice::http_out {

namespace {

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// The host of `url` as Ruby's URI#host gives it (IPv6 in brackets); false when no URL.
bool url_host(const std::string& url, std::string& host) {
  CURLU* u = curl_url();
  bool ok = u && curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK;
  char* h = nullptr;
  ok = ok && curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK && h;
  if (ok) host = h;
  curl_free(h);
  curl_url_cleanup(u);
  return ok;
}

}  // namespace

std::string ruby_header_name(std::string_view name) {
  std::string out(name);
  bool start = true;
  for (char& ch : out) {
    ch = start ? static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 32 : ch) : http::ascii_lower(ch);
    start = ch == '-';
  }
  return out;
}

void set_header(http::HeaderList& headers, std::string_view name, std::string value) {
  for (auto& [k, v] : headers)
    if (http::iequals(k, name)) {
      v = std::move(value);
      return;
    }
  headers.emplace_back(ruby_header_name(name), std::move(value));
}

std::string loggable_url(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  const size_t scheme = url.find("://");
  const size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const size_t slash = url.find('/', start);
  const size_t at = url.substr(0, slash).rfind('@');
  std::string out(url);
  if (at != std::string_view::npos && at >= start) out.erase(start, at + 1 - start);
  return out;
}

std::string build_request(const Settings& s, const ChunkKeys& keys, const buffer::Chunk& c,
                          http::HttpRequest& req, bool& unrecoverable) {
  unrecoverable = false;
  req.method = s.method;
  req.url = expand_placeholders(s.endpoint, keys, c);
  std::string host;
  if (has_line_break(req.url) || !url_host(req.url, host))
    return "Invalid endpoint URI: " + log::quote_excerpt(loggable_url(req.url), 300);
  if (host != s.endpoint_host) {
    unrecoverable = true;
    if (s.allowed_hosts.empty()) return "allowed_hosts is strictly required when using placeholders in the endpoint host";
    if (std::find(s.allowed_hosts.begin(), s.allowed_hosts.end(), host) == s.allowed_hosts.end())
      return "Not allowed host: " + log::quote_excerpt(host, 300);
    unrecoverable = false;
  }
  req.proxy = s.proxy;
  req.connect_timeout_ms = s.open_timeout_ms;
  req.timeout_ms = s.open_timeout_ms + s.read_timeout_ms;
  req.tls = s.tls;
  // Net::HTTP reads any answer; a bound still, far above what an intake answers.
  req.max_response_bytes = 16u << 20;

  // set_headers: headers, then headers_from_placeholders, Content-Encoding, Content-Type; then
  // set_auth's Authorization. Later ones replace earlier ones of the same name.
  req.headers.clear();
  for (auto& [k, v] : s.headers) set_header(req.headers, k, v);
  for (auto& [k, v] : s.headers_from_placeholders) {
    std::string value = expand_placeholders(v, keys, c);
    if (has_line_break(value)) {
      unrecoverable = true;  // Net::HTTP raises ArgumentError, one of Fluentd's unrecoverable errors
      return "header field value cannot include CR/LF (header '" + k + "')";
    }
    set_header(req.headers, k, std::move(value));
  }
  if (s.gzip) set_header(req.headers, "Content-Encoding", "gzip");
  set_header(req.headers, "Content-Type", s.content_type);
  if (!s.authorization.empty()) set_header(req.headers, "Authorization", s.authorization);

  std::string framed;
  const std::string_view body = request_body(c.payload, s.json_array, framed);
  if (s.gzip) {
    req.body = http::gzip_compress(body);
  } else if (s.json_array) {
    req.body = std::move(framed);
  } else {
    req.body_view = body;
    // HttpRequest sends `body` when body_view is empty: an empty chunk stays an empty body.
  }
  return {};
}

buffer::SendResult classify_response(const Settings& s, const http::HttpResponse& r, std::string& logged_error) {
  logged_error.clear();
  if (!r.error.empty()) return buffer::SendResult::retry(r.error);
  if (r.status >= 200 && r.status < 300) return buffer::SendResult::success();
  // send_request's message: "#{res.code} #{res.message.rstrip} #{res.body.lstrip}".
  std::string_view body = r.body;
  while (!body.empty() && (body.front() == ' ' || body.front() == '\n' || body.front() == '\r' || body.front() == '\t'))
    body.remove_prefix(1);
  std::string msg = std::to_string(r.status) + " " + r.reason + " " + log::quote_excerpt(body, 500);
  if (std::find(s.retryable_response_codes.begin(), s.retryable_response_codes.end(), r.status) !=
      s.retryable_response_codes.end())
    return buffer::SendResult::retry(msg);
  if (s.error_response_as_unrecoverable) return buffer::SendResult::unrecoverable(msg);
  logged_error = std::move(msg);
  return buffer::SendResult::success();
}

}  // namespace sluice::http_out

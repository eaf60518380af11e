#include "http/aws_sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "http/ascii.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace sluice::http::aws {

namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string to_hex(const unsigned char* p, size_t n) {
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 15]);
  }
  return out;
}

std::string hmac(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

struct UrlParts {
  std::string host_header;  // host[:port] as curl sends it (port only when not the default)
  std::string_view path;
  std::string_view query;
};

UrlParts split_url(std::string_view url) {
  UrlParts u;
  size_t scheme_end = url.find("://");
  std::string_view scheme = scheme_end == std::string_view::npos ? "http" : url.substr(0, scheme_end);
  std::string_view rest = scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
  size_t path_at = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_at);
  std::string_view tail = path_at == std::string_view::npos ? "" : rest.substr(path_at);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  size_t q = tail.find('?');
  u.path = tail.substr(0, q);
  if (q != std::string_view::npos) u.query = tail.substr(q + 1);
  size_t colon = authority.rfind(':');
  bool has_port = colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos;
  std::string_view port = has_port ? authority.substr(colon + 1) : "";
  bool default_port = port.empty() || (scheme == "https" && port == "443") || (scheme == "http" && port == "80");
  u.host_header = std::string(default_port && has_port ? authority.substr(0, colon) : authority);
  return u;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string_view value = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
    params.emplace_back(uri_encode(percent_decode(item.substr(0, eq), false), false),
                        uri_encode(percent_decode(value, false), false));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (auto& [k, v] : params) out.append(out.empty() ? "" : "&").append(k).append("=").append(v);
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

// Trimmed, with runs of spaces made one, as the canonical form wants header values.
std::string canonical_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

bool signed_header(const std::string& name) {
  return name == "host" || name == "content-type" || name == "content-md5" || name == "range" ||
         name.rfind("x-amz-", 0) == 0;
}

}  // namespace

std::string uri_encode(std::string_view s, bool keep_slash) {
  static constexpr char kUpper[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(char(c));
    } else {
      out.push_back('%');
      out.push_back(kUpper[c >> 4]);
      out.push_back(kUpper[c & 15]);
    }
  }
  return out;
}

std::string hex_sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return to_hex(md, len);
}

std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service) {
  std::string key = hmac("AWS4" + std::string(secret), date);
  key = hmac(key, region);
  key = hmac(key, service);
  return hmac(key, "aws4_request");
}

std::string canonical_request(const HttpRequest& request, std::string_view payload_hash,
                              std::string& signed_headers, bool s3) {
  UrlParts u = split_url(request.url);
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : request.headers) {
    std::string n = lower(name);
    if (signed_header(n)) headers.emplace_back(std::move(n), canonical_value(value));
  }
  if (!find_header(request.headers, "Host")) headers.emplace_back("host", u.host_header);
  std::sort(headers.begin(), headers.end());
  std::string out = request.method + "\n";
  if (u.path.empty())
    out += "/";
  else if (s3)
    out += u.path;
  else
    out += uri_encode(u.path, true);
  out += "\n" + canonical_query(u.query) + "\n";
  signed_headers.clear();
  for (auto& [n, v] : headers) {
    out.append(n).append(":").append(v).append("\n");
    signed_headers.append(signed_headers.empty() ? "" : ";").append(n);
  }
  out.append("\n").append(signed_headers).append("\n").append(payload_hash);
  return out;
}

void sign(HttpRequest& request, std::string_view payload, const Credentials& credentials,
          const SignOptions& options, time_t now) {
  char stamp[20];
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  const std::string amz_date(stamp), date = amz_date.substr(0, 8);
  const std::string payload_hash =
      options.payload_hash.empty() ? hex_sha256(payload) : std::string(options.payload_hash);
  if (!find_header(request.headers, "Host")) request.headers.emplace_back("Host", split_url(request.url).host_header);
  request.headers.emplace_back("X-Amz-Date", amz_date);
  if (options.content_sha256_header || options.s3) request.headers.emplace_back("X-Amz-Content-Sha256", payload_hash);
  if (!credentials.session_token.empty())
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);

  std::string signed_headers;
  const std::string canonical = canonical_request(request, payload_hash, signed_headers, options.s3);
  const std::string scope =
      date + "/" + std::string(options.region) + "/" + std::string(options.service) + "/aws4_request";
  const std::string to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + hex_sha256(canonical);
  const std::string key = signing_key(credentials.secret_access_key, date, options.region, options.service);
  const std::string mac = hmac(key, to_sign);
  request.headers.emplace_back(
      "Authorization", "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
                           ", SignedHeaders=" + signed_headers + ", Signature=" +
                           to_hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size()));
}

}  // namespace sluice::http::aws

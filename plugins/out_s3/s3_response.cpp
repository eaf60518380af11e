#include "s3_response.h"

#include "core/log.h"

namespace sluice::s3 {

std::string xml_text(std::string_view xml, std::string_view name, size_t max) {
  const std::string open = "<" + std::string(name) + ">", close = "</" + std::string(name) + ">";
  const size_t b = xml.find(open);
  if (b == std::string_view::npos) return {};
  const size_t e = xml.find(close, b + open.size());
  if (e == std::string_view::npos) return {};
  std::string_view raw = xml.substr(b + open.size(), e - b - open.size());
  std::string out;
  for (size_t i = 0; i < raw.size() && out.size() < max; ++i) {
    if (raw[i] != '&') {
      out.push_back(raw[i]);
      continue;
    }
    static const std::pair<std::string_view, char> entities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool known = false;
    for (auto [entity, c] : entities)
      if (raw.substr(i, entity.size()) == entity) {
        out.push_back(c);
        i += entity.size() - 1;
        known = true;
        break;
      }
    if (!known) out.push_back('&');
  }
  return out;
}

std::string error_code(const http::HttpResponse& r) {
  if (!r.error.empty()) return {};
  // Codes are words (NoSuchBucket, SlowDown); anything else is not one.
  std::string code = xml_text(r.body, "Code", 100);
  for (char c : code)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.')) return {};
  return code;
}

std::string describe(const http::HttpResponse& r) {
  if (!r.error.empty()) return r.error;
  std::string out = "HTTP " + std::to_string(r.status);
  const std::string code = error_code(r), message = xml_text(r.body, "Message", 300);
  if (!code.empty()) out += " " + code;
  if (!message.empty()) out += ": " + log::quote_excerpt(message, 300);
  return out;
}

}  // namespace sluice::s3

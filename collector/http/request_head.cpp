#include "http/request_head.h"

#include <cctype>

#include "http/ascii.h"

namespace sluice::http {

namespace {

bool is_tchar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

}  // namespace

const std::string* RequestHead::header(std::string_view lower_name) const {
  for (auto& [k, v] : headers)
    if (k == lower_name) return &v;
  return nullptr;
}

HeadStatus parse_request_head(std::string_view buf, size_t max_head, RequestHead& out,
                              size_t& head_len) {
  // Early checks on the method, so that binary garbage is refused at once.
  size_t i = 0;
  while (i < buf.size() && i < 16 && buf[i] >= 'A' && buf[i] <= 'Z') ++i;
  if (i < buf.size() && (buf[i] != ' ' || i == 0)) return HeadStatus::Bad;
  if (i >= 16) return HeadStatus::Bad;

  size_t end = std::string_view::npos;
  size_t term = 0;
  for (size_t p = 0; p < buf.size() && p < max_head; ++p) {
    if (buf[p] != '\n') continue;
    if (p + 1 < buf.size() && buf[p + 1] == '\n') { end = p; term = 2; break; }
    if (p + 2 < buf.size() && buf[p + 1] == '\r' && buf[p + 2] == '\n') { end = p; term = 3; break; }
  }
  if (end == std::string_view::npos || end + term > max_head) {
    // Validate what is there of the request line so that garbage fails early.
    size_t nl = buf.find('\n');
    if (nl != std::string_view::npos && nl < max_head) {
      RequestHead tmp;
      size_t ignored = 0;
      std::string head(buf.substr(0, nl + 1));
      head += "\r\n";
      if (parse_request_head(head, max_head + 3, tmp, ignored) == HeadStatus::Bad) return HeadStatus::Bad;
    }
    return buf.size() >= max_head ? HeadStatus::TooLarge : HeadStatus::NeedMore;
  }
  head_len = end + term;
  std::string_view head = buf.substr(0, end + 1);  // up to and including the last line's '\n'

  out = RequestHead{};
  bool first = true;
  while (!head.empty()) {
    size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    for (char c : line)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return HeadStatus::Bad;
    if (first) {
      first = false;
      size_t sp1 = line.find(' ');
      if (sp1 == std::string_view::npos) return HeadStatus::Bad;
      size_t sp2 = line.find(' ', sp1 + 1);
      if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        return HeadStatus::Bad;
      out.method = std::string(line.substr(0, sp1));
      out.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
      out.version = std::string(line.substr(sp2 + 1));
      if (out.method.empty() || out.target.empty()) return HeadStatus::Bad;
      for (char c : out.method)
        if (c < 'A' || c > 'Z') return HeadStatus::Bad;
      if (out.version != "HTTP/1.1" && out.version != "HTTP/1.0") return HeadStatus::Bad;
      if (out.target[0] != '/' && out.target != "*") return HeadStatus::Bad;
      out.path = out.target.substr(0, out.target.find_first_of("?#"));
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') return HeadStatus::Bad;  // obsolete folding
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return HeadStatus::Bad;
    for (char c : line.substr(0, colon))
      if (!is_tchar(c)) return HeadStatus::Bad;
    if (out.headers.size() >= kMaxHeaderFields) return HeadStatus::TooLarge;
    out.headers.emplace_back(lower(line.substr(0, colon)), std::string(trim_ows(line.substr(colon + 1))));
  }
  if (first) return HeadStatus::Bad;
  return HeadStatus::Ok;
}

}  // namespace sluice::http

#include "format/tag_placeholders.h"

#include <cstdlib>
#include <vector>

namespace sluice {

std::string expand_tag_placeholders(std::string_view text, std::string_view tag, std::string* missing) {
  std::string out;
  std::vector<std::string_view> parts;  // split on first use
  size_t pos = 0;
  while (true) {
    const size_t hit = text.find("${tag", pos);
    if (hit == std::string_view::npos) break;
    const size_t close = text.find('}', hit);
    if (close == std::string_view::npos) break;
    const std::string_view inner = text.substr(hit + 2, close - hit - 2);  // tag or tag[N]
    std::string_view replacement;
    if (inner == "tag") {
      replacement = tag;
    } else if (inner.size() > 5 && inner[3] == '[' && inner.back() == ']') {
      if (parts.empty()) {
        for (size_t s = 0;;) {
          const size_t d = tag.find('.', s);
          parts.push_back(tag.substr(s, d == std::string_view::npos ? d : d - s));
          if (d == std::string_view::npos) break;
          s = d + 1;
        }
      }
      long n = std::strtol(std::string(inner.substr(4, inner.size() - 5)).c_str(), nullptr, 10);
      if (n < 0) n += static_cast<long>(parts.size());
      if (n >= 0 && static_cast<size_t>(n) < parts.size())
        replacement = parts[static_cast<size_t>(n)];
      else if (missing && missing->empty())
        missing->assign(text.substr(hit, close + 1 - hit));
    } else {
      out.append(text, pos, close + 1 - pos);
      pos = close + 1;
      continue;
    }
    out.append(text, pos, hit - pos);
    out.append(replacement);
    pos = close + 1;
  }
  out.append(text, pos);
  return out;
}

}  // namespace sluice

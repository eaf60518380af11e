// A tag's dot-separated parts and the prefixes and suffixes made of them, as Fluentd's
// placeholders `${tag_parts[N]}`, `${tag_prefix[N]}`, `${tag_suffix[N]}` read them (Ruby's
// `split('.')`, which drops trailing empty parts). Views into a copy of the tag given to
// prepare(), valid until the tag changes; computed once per tag.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

class TagParts {
 public:
  void prepare(std::string_view tag) {
    if (tag == tag_ && !parts_.empty()) return;
    tag_.assign(tag);
    parts_.clear();
    prefixes_.clear();
    suffixes_.clear();
    std::string_view t = tag_;
    size_t start = 0;
    while (true) {
      size_t dot = t.find('.', start);
      size_t end = dot == std::string_view::npos ? t.size() : dot;
      parts_.push_back(t.substr(start, end - start));
      prefixes_.push_back(t.substr(0, end));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    while (!parts_.empty() && parts_.back().empty()) {
      parts_.pop_back();
      prefixes_.pop_back();
    }
    std::string_view whole = prefixes_.empty() ? std::string_view() : prefixes_.back();
    for (std::string_view part : parts_) suffixes_.push_back(whole.substr(size_t(part.data() - whole.data())));
  }

  std::string_view tag() const { return tag_; }
  const std::vector<std::string_view>& parts() const { return parts_; }
  // prefixes()[i]: parts 0..i joined by dots.
  const std::vector<std::string_view>& prefixes() const { return prefixes_; }
  // suffixes()[i]: parts i.. joined by dots.
  const std::vector<std::string_view>& suffixes() const { return suffixes_; }

  // Element `index` of `v`, negative counting from the end; false when out of range.
  static bool pick(const std::vector<std::string_view>& v, int64_t index, std::string_view& out) {
    int64_t n = static_cast<int64_t>(v.size());
    if (index < 0) index += n;
    if (index < 0 || index >= n) return false;
    out = v[static_cast<size_t>(index)];
    return true;
  }

 private:
  std::string tag_;
  std::vector<std::string_view> parts_, prefixes_, suffixes_;
};

}  // namespace sluice

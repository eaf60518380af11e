// Fluentd's tag patterns: `*` one tag part, `**` zero or more parts, `{a,b}` alternatives,
// `\` escapes; several space-separated patterns in one directive match if any does.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

class TagPattern {
 public:
  // Throws std::invalid_argument for a pattern that cannot be compiled.
  explicit TagPattern(std::string_view patterns);
  ~TagPattern();
  TagPattern(TagPattern&&) noexcept;
  TagPattern& operator=(TagPattern&&) noexcept;

  bool matches(std::string_view tag) const;
  const std::string& text() const { return text_; }

  // The regular expression Fluentd's GlobMatchPattern builds for one pattern.
  static std::string to_regex(std::string_view pattern);

 private:
  struct Compiled;
  std::string text_;
  std::vector<std::unique_ptr<Compiled>> alternatives_;
};

}  // namespace sluice

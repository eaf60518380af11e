#include "router/tag_pattern.h"

#include <oniguruma.h>

#include <mutex>
#include <stdexcept>

namespace sluice {

namespace {
void init_onig_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
  });
}

bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
}  // namespace

struct TagPattern::Compiled {
  regex_t* regex = nullptr;
  ~Compiled() {
    if (regex) onig_free(regex);
  }
};

// Mirrors Fluent::GlobMatchPattern (lib/fluent/match.rb) so routing is identical.
std::string TagPattern::to_regex(std::string_view pat) {
  std::vector<std::vector<std::string>> stack;
  std::vector<std::string> regex{""};
  bool escape = false, dot = false;
  size_t i = 0;
  while (i < pat.size()) {
    char c = pat[i];
    if (escape) {
      if (!is_word(c)) regex.back() += '\\';
      regex.back() += c;
      escape = false;
      ++i;
      continue;
    }
    if (pat.substr(i, 2) == "**") {
      if (dot) {
        regex.back() += "(?![^\\.])";
        dot = false;
      }
      if (i + 2 < pat.size() && pat[i + 2] == '.') {
        regex.back() += "(?:.*\\.|\\A)";
        i += 3;
      } else {
        regex.back() += ".*";
        i += 2;
      }
      continue;
    }
    if (dot) {
      regex.back() += "\\.";
      dot = false;
    }
    if (c == '\\') {
      escape = true;
    } else if (c == '.') {
      dot = true;
    } else if (c == '*') {
      regex.back() += "[^\\.]*";
    } else if (c == '{') {
      stack.emplace_back();
      regex.emplace_back();
    } else if (c == '}' && !stack.empty()) {
      stack.back().push_back(regex.back());
      regex.pop_back();
      std::string alt = "(?:";
      for (size_t k = 0; k < stack.back().size(); ++k) {
        if (k) alt += "|";
        alt += "(?:" + stack.back()[k] + ")";
      }
      alt += ")";
      stack.pop_back();
      regex.back() += alt;
    } else if (c == ',' && !stack.empty()) {
      stack.back().push_back(regex.back());
      regex.back().clear();
    } else if (is_word(c)) {
      regex.back() += c;
    } else {
      regex.back() += '\\';
      regex.back() += c;
    }
    ++i;
  }
  if (!stack.empty()) throw std::invalid_argument("unclosed '{' in tag pattern");
  if (dot) regex.back() += "\\.";
  return "\\A" + regex.back() + "\\z";
}

TagPattern::TagPattern(std::string_view patterns) : text_(patterns) {
  init_onig_once();
  size_t i = 0;
  while (i < patterns.size()) {
    while (i < patterns.size() && (patterns[i] == ' ' || patterns[i] == '\t')) ++i;
    size_t start = i;
    int depth = 0;
    while (i < patterns.size() && (depth > 0 || (patterns[i] != ' ' && patterns[i] != '\t'))) {
      if (patterns[i] == '{') ++depth;
      if (patterns[i] == '}' && depth > 0) --depth;
      ++i;
    }
    if (i == start) break;
    std::string re = to_regex(patterns.substr(start, i - start));
    auto compiled = std::make_unique<Compiled>();
    OnigErrorInfo info;
    auto* p = reinterpret_cast<const OnigUChar*>(re.data());
    int r = onig_new(&compiled->regex, p, p + re.size(), ONIG_OPTION_NONE, ONIG_ENCODING_UTF8,
                     ONIG_SYNTAX_RUBY, &info);
    if (r != ONIG_NORMAL) {
      OnigUChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
      onig_error_code_to_str(msg, r, &info);
      throw std::invalid_argument("invalid tag pattern '" + std::string(patterns) +
                                  "': " + reinterpret_cast<char*>(msg));
    }
    alternatives_.push_back(std::move(compiled));
  }
  if (alternatives_.empty()) {
    // `<match>` with no pattern matches everything in Fluentd.
    *this = TagPattern("**");
  }
}

TagPattern::~TagPattern() = default;
TagPattern::TagPattern(TagPattern&&) noexcept = default;
TagPattern& TagPattern::operator=(TagPattern&&) noexcept = default;

bool TagPattern::matches(std::string_view tag) const {
  auto* start = reinterpret_cast<const OnigUChar*>(tag.data());
  auto* end = start + tag.size();
  for (auto& alt : alternatives_) {
    if (onig_match(alt->regex, start, end, start, nullptr, ONIG_OPTION_NONE) ==
        static_cast<int>(tag.size()))
      return true;
  }
  return false;
}

}  // namespace sluice

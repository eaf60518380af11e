// Fluentd's record_accessor syntax for a key: `name` (a top-level key as written), or a path
// `$.a.b`, `$['a']['b.c']`, `$.a[0]`. Reads a record value as Ruby's `to_s` would print it.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "format/json_lookup.h"
#include "format/line_format.h"

namespace sluice {

class RecordPath {
 public:
  RecordPath() = default;
  // Throws std::invalid_argument on a malformed `$...` path.
  explicit RecordPath(std::string_view key) {
    if (key.size() < 2 || key[0] != '$' || (key[1] != '.' && key[1] != '[')) {
      steps_.push_back({std::string(key), -1});
      return;
    }
    size_t i = 1;
    while (i < key.size()) {
      if (key[i] == '.') {
        ++i;
        size_t s = i;
        while (i < key.size() && key[i] != '.' && key[i] != '[') ++i;
        if (i == s) throw std::invalid_argument("empty member name in '" + std::string(key) + "'");
        steps_.push_back({std::string(key.substr(s, i - s)), -1});
      } else if (key[i] == '[') {
        ++i;
        if (i < key.size() && (key[i] == '\'' || key[i] == '"')) {
          char q = key[i++];
          size_t s = i;
          while (i < key.size() && key[i] != q) ++i;
          if (i + 1 >= key.size() || key[i + 1] != ']')
            throw std::invalid_argument("unterminated bracket in '" + std::string(key) + "'");
          steps_.push_back({std::string(key.substr(s, i - s)), -1});
          i += 2;
        } else {
          size_t s = i;
          int64_t n = 0;
          while (i < key.size() && key[i] >= '0' && key[i] <= '9') n = n * 10 + (key[i++] - '0');
          if (i == s || i >= key.size() || key[i] != ']')
            throw std::invalid_argument("bad index in '" + std::string(key) + "'");
          ++i;
          if (steps_.empty())
            throw std::invalid_argument("a record is not an array: '" + std::string(key) + "'");
          steps_.push_back({{}, n});
        }
      } else {
        throw std::invalid_argument("unexpected '" + std::string(1, key[i]) + "' in '" +
                                    std::string(key) + "'");
      }
    }
    if (steps_.empty()) throw std::invalid_argument("empty path '" + std::string(key) + "'");
  }

  const std::string& top() const { return steps_[0].key; }
  const std::vector<jsonscan::Step>& steps() const { return steps_; }
  bool nested() const { return steps_.size() > 1; }

  // Appends the `to_s` of the value at this path starting from `top` (the top-level value;
  // null when absent). Absent values print as "" (Ruby's nil.to_s).
  void append_to_s(std::string& out, const Value* top) const {
    if (!top) return;
    if (!nested()) {
      append_ruby_to_s(out, *top);
      return;
    }
    if (top->kind != ValueKind::Json) return;
    std::string_view token;
    if (jsonscan::lookup(top->text, steps_, 1, token)) jsonscan::append_token_to_s(out, token);
  }

  // The same as a view: the string value itself when the path is a top-level string field (no
  // copy), else its to_s written into `scratch`.
  std::string_view to_s(const Value* top, std::string& scratch) const {
    if (top && !nested() && top->kind == ValueKind::String) return top->text;
    scratch.clear();
    append_to_s(scratch, top);
    return scratch;
  }

  // For a nested path: the raw JSON token at it inside `top` (`"abc"` with its quotes, `12`,
  // `{...}`); false when absent.
  bool nested_token(const Value* top, std::string_view& token) const {
    return top && top->kind == ValueKind::Json && jsonscan::lookup(top->text, steps_, 1, token);
  }

  // For a nested path: `top`'s JSON without the member at it, in `out`; false when absent.
  bool remove_nested(const Value& top, std::string& out) const {
    return top.kind == ValueKind::Json && jsonscan::remove(top.text, steps_, 1, out);
  }

 private:
  std::vector<jsonscan::Step> steps_;
};

// Sorts record_accessor keys (a remove_keys list) into top-level names and nested paths. Throws
// std::invalid_argument on a malformed path.
inline void split_key_paths(const std::vector<std::string>& keys, std::vector<std::string>& top,
                            std::vector<RecordPath>& nested) {
  for (const std::string& k : keys) {
    RecordPath path(k);
    if (path.nested())
      nested.push_back(std::move(path));
    else
      top.push_back(path.top());
  }
}

}  // namespace sluice

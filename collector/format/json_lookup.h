// A small scanner over a JSON text (a record's Json value, e.g. the `kubernetes` map): validating,
// minifying, and looking up a nested member by path. Used by grep's record accessors
// (`$.kubernetes.namespace_name`) and record_transformer's JSON constants. Header-only; no
// allocation except where a caller passes a string to fill.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "format/utf8_scrub.h"

namespace sluice::jsonscan {

// One path step: a member name or an array index.
struct Step {
  std::string key;
  int64_t index = -1;  // >= 0: array index step
  bool is_index() const { return index >= 0; }
};

// Appends Ruby's `to_s` of a JSON token (defined below).
inline void append_token_to_s(std::string& out, std::string_view token);

namespace detail {

inline void skip_ws(std::string_view s, size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
}

// At a '"': moves past the closing quote. False when unterminated.
inline bool skip_string(std::string_view s, size_t& i) {
  ++i;
  while (i < s.size()) {
    char c = s[i];
    if (c == '\\') {
      i += 2;
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20) return false;
    ++i;
    if (c == '"') return true;
  }
  return false;
}

inline bool skip_literal(std::string_view s, size_t& i, std::string_view lit) {
  if (s.substr(i, lit.size()) != lit) return false;
  i += lit.size();
  return true;
}

inline bool skip_number(std::string_view s, size_t& i) {
  size_t start = i;
  if (i < s.size() && s[i] == '-') ++i;
  size_t digits = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == digits) return false;
  if (s[digits] == '0' && i - digits > 1) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t f = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == f) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t e = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == e) return false;
  }
  return i > start;
}

// Skips one value (with leading whitespace). Depth-bounded.
inline bool skip_value(std::string_view s, size_t& i, int depth = 0) {
  if (depth > 512) return false;
  skip_ws(s, i);
  if (i >= s.size()) return false;
  char c = s[i];
  if (c == '"') return skip_string(s, i);
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    ++i;
    skip_ws(s, i);
    if (i < s.size() && s[i] == close) {
      ++i;
      return true;
    }
    for (;;) {
      if (c == '{') {
        skip_ws(s, i);
        if (i >= s.size() || s[i] != '"' || !skip_string(s, i)) return false;
        skip_ws(s, i);
        if (i >= s.size() || s[i] != ':') return false;
        ++i;
      }
      if (!skip_value(s, i, depth + 1)) return false;
      skip_ws(s, i);
      if (i >= s.size()) return false;
      if (s[i] == ',') {
        ++i;
        continue;
      }
      if (s[i] == close) {
        ++i;
        return true;
      }
      return false;
    }
  }
  if (c == 't') return skip_literal(s, i, "true");
  if (c == 'f') return skip_literal(s, i, "false");
  if (c == 'n') return skip_literal(s, i, "null");
  return skip_number(s, i);
}

// Compares a JSON string token (with quotes) to a plain key; handles escapes.
inline bool string_token_equals(std::string_view token, std::string_view key) {
  std::string_view body = token.substr(1, token.size() - 2);
  if (body.find('\\') == std::string_view::npos) return body == key;
  std::string tmp;  // rare: escaped keys
  sluice::jsonscan::append_token_to_s(tmp, token);
  return tmp == key;
}

}  // namespace detail

// True when `s` is one complete JSON value (surrounding whitespace allowed).
inline bool valid(std::string_view s) {
  size_t i = 0;
  if (!detail::skip_value(s, i)) return false;
  detail::skip_ws(s, i);
  return i == s.size();
}

// Removes whitespace outside strings (call only on valid JSON).
inline std::string minify(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < s.size()) {
        out.push_back(s[++i]);
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (c == '"') in_string = true;
    out.push_back(c);
  }
  return out;
}

// Finds the value at `path` (steps from `from`) inside the JSON text `s`; returns its raw token
// (e.g. `"abc"` with quotes, `12`, `{...}`), or false when absent or not a container.
inline bool lookup(std::string_view s, const std::vector<Step>& path, size_t from, size_t to,
                   std::string_view& out) {
  size_t i = 0;
  for (size_t p = from; p < to; ++p) {
    const Step& step = path[p];
    detail::skip_ws(s, i);
    if (i >= s.size()) return false;
    bool found = false;
    if (s[i] == '{' && !step.is_index()) {
      ++i;
      detail::skip_ws(s, i);
      if (i < s.size() && s[i] == '}') return false;
      for (;;) {
        detail::skip_ws(s, i);
        size_t ks = i;
        if (i >= s.size() || s[i] != '"' || !detail::skip_string(s, i)) return false;
        std::string_view key = s.substr(ks, i - ks);
        detail::skip_ws(s, i);
        if (i >= s.size() || s[i] != ':') return false;
        ++i;
        detail::skip_ws(s, i);
        if (detail::string_token_equals(key, step.key)) {
          found = true;
          break;
        }
        if (!detail::skip_value(s, i)) return false;
        detail::skip_ws(s, i);
        if (i < s.size() && s[i] == ',') {
          ++i;
          continue;
        }
        return false;
      }
    } else if (s[i] == '[' && step.is_index()) {
      ++i;
      detail::skip_ws(s, i);
      if (i < s.size() && s[i] == ']') return false;
      for (int64_t n = 0;; ++n) {
        detail::skip_ws(s, i);
        if (n == step.index) {
          found = true;
          break;
        }
        if (!detail::skip_value(s, i)) return false;
        detail::skip_ws(s, i);
        if (i < s.size() && s[i] == ',') {
          ++i;
          continue;
        }
        return false;
      }
    }
    if (!found) return false;
  }
  detail::skip_ws(s, i);
  size_t start = i;
  if (!detail::skip_value(s, i)) return false;
  out = s.substr(start, i - start);
  return true;
}

inline bool lookup(std::string_view s, const std::vector<Step>& path, size_t from,
                   std::string_view& out) {
  return lookup(s, path, from, path.size(), out);
}

// Writes `s` without the member (or array element) at `path` (steps from `from`) into `out`, as
// Ruby's Hash#delete / Array#delete_at leave it; false, and `out` untouched, when it is absent.
inline bool remove(std::string_view s, const std::vector<Step>& path, size_t from, std::string& out) {
  if (from >= path.size()) return false;
  std::string_view container;
  if (!lookup(s, path, from, path.size() - 1, container)) return false;
  const Step& last = path.back();
  if (container.empty() || container[0] != (last.is_index() ? '[' : '{')) return false;
  using namespace detail;
  size_t i = 1, prev_end = std::string_view::npos;
  for (int64_t n = 0;; ++n) {
    skip_ws(container, i);
    if (i >= container.size() || container[i] == '}' || container[i] == ']') return false;
    size_t start = i;
    bool hit = last.is_index() && n == last.index;
    if (!last.is_index()) {
      if (container[i] != '"' || !skip_string(container, i)) return false;
      hit = string_token_equals(container.substr(start, i - start), last.key);
      skip_ws(container, i);
      if (i >= container.size() || container[i] != ':') return false;
      ++i;
    }
    if (!skip_value(container, i)) return false;
    size_t end = i;
    skip_ws(container, i);
    const bool more = i < container.size() && container[i] == ',';
    if (hit) {
      size_t cut_from = start, cut_to = end;
      if (prev_end != std::string_view::npos) {
        cut_from = prev_end;  // `,<ws>key:value`
      } else if (more) {
        cut_to = i + 1;  // `key:value,<ws>`
        skip_ws(container, cut_to);
      }
      size_t base = static_cast<size_t>(container.data() - s.data());
      out.assign(s.substr(0, base + cut_from));
      out.append(s.substr(base + cut_to));
      return true;
    }
    if (!more) return false;
    prev_end = end;
    ++i;
  }
}

// Calls f(key, value) for each member of the JSON object or array `s`, with the raw tokens (the
// key with its quotes; empty for an array's elements), until f returns false. False when `s` is
// neither; stops quietly at malformed text.
template <class F>
bool for_each_item(std::string_view s, F&& f) {
  size_t i = 0;
  detail::skip_ws(s, i);
  if (i >= s.size() || (s[i] != '{' && s[i] != '[')) return false;
  const bool object = s[i] == '{';
  ++i;
  detail::skip_ws(s, i);
  if (i < s.size() && s[i] == (object ? '}' : ']')) return true;
  for (;;) {
    detail::skip_ws(s, i);
    std::string_view key;
    if (object) {
      size_t ks = i;
      if (i >= s.size() || s[i] != '"' || !detail::skip_string(s, i)) return true;
      key = s.substr(ks, i - ks);
      detail::skip_ws(s, i);
      if (i >= s.size() || s[i] != ':') return true;
      ++i;
      detail::skip_ws(s, i);
    }
    size_t vs = i;
    if (!detail::skip_value(s, i)) return true;
    if (!f(key, s.substr(vs, i - vs))) return true;
    detail::skip_ws(s, i);
    if (i >= s.size() || s[i] != ',') return true;
    ++i;
  }
}

// Calls f(key, value) for each member of the JSON object `s`, with the raw tokens (the key with
// its quotes). False when `s` is not an object; stops quietly at malformed text.
template <class F>
bool for_each_member(std::string_view s, F&& f) {
  size_t i = 0;
  detail::skip_ws(s, i);
  if (i >= s.size() || s[i] != '{') return false;
  return for_each_item(s, [&](std::string_view key, std::string_view value) {
    f(key, value);
    return true;
  });
}

// Appends Ruby's `to_s` of a JSON token: strings unescaped, null as "", others as written.
inline void append_token_to_s(std::string& out, std::string_view token) {
  if (token == "null") return;
  if (token.empty() || token[0] != '"') {
    out.append(token);
    return;
  }
  std::string_view body = token.substr(1, token.size() - 2);
  size_t i = 0;
  while (i < body.size()) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out.push_back(c);
      ++i;
      continue;
    }
    char e = body[i + 1];
    i += 2;
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'u': {
        uint32_t cp = 0;
        auto hex4 = [&](uint32_t& v) {
          if (i + 4 > body.size()) return false;
          v = 0;
          for (int k = 0; k < 4; ++k) {
            char h = body[i + static_cast<size_t>(k)];
            int d = (h >= '0' && h <= '9') ? h - '0'
                    : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                    : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                             : -1;
            if (d < 0) return false;
            v = v * 16 + static_cast<uint32_t>(d);
          }
          i += 4;
          return true;
        };
        if (!hex4(cp)) break;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < body.size() && body[i] == '\\' &&
            body[i + 1] == 'u') {
          size_t save = i;
          i += 2;
          uint32_t lo = 0;
          if (hex4(lo) && lo >= 0xDC00 && lo < 0xE000)
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          else
            i = save;
        }
        append_utf8(out, cp);
        break;
      }
      default: out.push_back(e);
    }
  }
}

}  // namespace sluice::jsonscan

#include "buffer/chunk_placeholders.h"

#include <algorithm>
#include <cstdio>

#include "format/tag_placeholders.h"
#include "format/time.h"

namespace sluice::buffer {

namespace {

// output.rb's CHUNK_KEY_PLACEHOLDER_PATTERN: ${[-_.@$a-zA-Z0-9]+}.
bool is_key_name(std::string_view name) {
  if (name.empty()) return false;
  for (char ch : name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    ch == '-' || ch == '_' || ch == '.' || ch == '@' || ch == '$';
    if (!ok) return false;
  }
  return true;
}

// output.rb's CHUNK_TAG_PLACEHOLDER_PATTERN: tag or tag[-?N].
bool is_tag_name(std::string_view name) {
  if (name == "tag") return true;
  if (name.size() < 6 || name.substr(0, 4) != "tag[" || name.back() != ']') return false;
  std::string_view n = name.substr(4, name.size() - 5);
  if (!n.empty() && n[0] == '-') n.remove_prefix(1);
  return !n.empty() && std::all_of(n.begin(), n.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

// Calls f(start, end, name) for each `${name}` of text.
template <typename F>
void each_placeholder(std::string_view text, F f) {
  for (size_t pos = 0;;) {
    const size_t open = text.find("${", pos);
    if (open == std::string_view::npos) return;
    const size_t close = text.find('}', open + 2);
    if (close == std::string_view::npos) return;
    f(open, close + 1, text.substr(open + 2, close - open - 2));
    pos = close + 1;
  }
}

}  // namespace

void append_key_value(std::string& variant, std::string_view value) {
  variant.append(std::to_string(value.size())).push_back(':');
  variant.append(value);
}

std::vector<std::string_view> key_values(std::string_view variant) {
  std::vector<std::string_view> out;
  while (!variant.empty()) {
    const size_t colon = variant.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 19) break;
    size_t n = 0;
    for (char ch : variant.substr(0, colon)) {
      if (ch < '0' || ch > '9') return out;
      n = n * 10 + size_t(ch - '0');
    }
    variant.remove_prefix(colon + 1);
    if (n > variant.size()) break;
    out.push_back(variant.substr(0, n));
    variant.remove_prefix(n);
  }
  return out;
}

std::string unfilled_placeholder(std::string_view text, const ChunkKeys& keys) {
  std::string found;
  each_placeholder(text, [&](size_t b, size_t e, std::string_view name) {
    if (!found.empty()) return;
    bool filled = false;
    if (is_tag_name(name)) filled = keys.tag;
    else if (name == "chunk_id") filled = true;
    else if (is_key_name(name))
      filled = std::find(keys.record_keys.begin(), keys.record_keys.end(), name) != keys.record_keys.end();
    if (!filled) found = std::string(text.substr(b, e - b));
  });
  return found;
}

std::string expand_placeholders(std::string_view text, const ChunkKeys& keys, const Chunk& c) {
  std::string out;
  if (keys.time) append_time(out, EventTime{c.timekey, 0}, text, keys.time_utc);
  else out.assign(text);
  if (keys.tag) out = expand_tag_placeholders(out, c.tag);
  // Fluentd replaces the first ${chunk_id} only (String#sub).
  if (const size_t at = out.find("${chunk_id}"); at != std::string::npos) {
    char hex[24];
    snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(c.id));
    out.replace(at, 11, hex);
  }
  if (keys.record_keys.empty()) return out;
  const std::vector<std::string_view> values = key_values(c.variant);
  std::string filled;
  size_t pos = 0;
  each_placeholder(out, [&](size_t b, size_t e, std::string_view name) {
    if (!is_key_name(name) || name == "tag") return;
    filled.append(out, pos, b - pos);
    auto it = std::find(keys.record_keys.begin(), keys.record_keys.end(), name);
    const size_t i = size_t(it - keys.record_keys.begin());
    if (i < values.size()) filled.append(values[i]);
    pos = e;
  });
  filled.append(out, pos);
  return filled;
}

}  // namespace sluice::buffer

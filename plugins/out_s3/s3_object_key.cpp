#include "s3_object_key.h"

#include <cstdio>
#include <utility>

#include "core/event.h"
#include "format/tag_placeholders.h"
#include "format/time.h"

namespace sluice::s3 {

namespace {

// Replaces every `%{name}` of `text` with what `value` gives for it; `value` returns false to
// leave a placeholder as it is.
template <typename Value>
std::string replace_percent_braces(std::string_view text, Value value) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t open = text.find("%{", pos);
    const size_t close = open == std::string_view::npos ? open : text.find('}', open + 2);
    // Ruby's %r(%{[^}]+}): at least one character between the braces.
    if (close == std::string_view::npos) break;
    if (close == open + 2) {
      out.append(text, pos, close + 1 - pos);
      pos = close + 1;
      continue;
    }
    out.append(text, pos, open - pos);
    const std::string_view placeholder = text.substr(open, close + 1 - open);
    if (!value(placeholder, out)) out.append(placeholder);
    pos = close + 1;
  }
  out.append(text, pos);
  return out;
}

// Fluentd's INVALID_PATH_COMPONENT_PATTERN, %r{\.\.[/\\]|^[/\\]}.
bool escapes_path(std::string_view s) {
  if (!s.empty() && (s[0] == '/' || s[0] == '\\')) return true;
  for (size_t i = 0; i + 2 < s.size(); ++i)
    if (s[i] == '.' && s[i + 1] == '.' && (s[i + 2] == '/' || s[i + 2] == '\\')) return true;
  return false;
}

bool has_tag_placeholder(std::string_view s) {
  for (size_t at = s.find("${tag"); at != std::string_view::npos; at = s.find("${tag", at + 1))
    if (at + 5 < s.size() && (s[at + 5] == '}' || s[at + 5] == '[')) return true;
  return false;
}

}  // namespace

std::string timekey_to_timeformat(double timekey) {
  if (timekey < 60) return "%Y%m%d%H%M%S";
  if (timekey < 3600) return "%Y%m%d%H%M";
  if (timekey < 86400) return "%Y%m%d%H";
  return "%Y%m%d";
}

bool valid_index_format(std::string_view f) {
  // out_s3.rb: /^%(0\d*)?[dxX]$/
  if (f.size() < 2 || f[0] != '%') return false;
  const char type = f.back();
  if (type != 'd' && type != 'x' && type != 'X') return false;
  std::string_view flags = f.substr(1, f.size() - 2);
  if (flags.empty()) return true;
  if (flags[0] != '0' || flags.size() > 4) return false;  // widths past 999 are no real need
  for (char c : flags)
    if (c < '0' || c > '9') return false;
  return true;
}

std::string hex_random(std::string_view chunk_id, int length) {
  std::string reversed(chunk_id.rbegin(), chunk_id.rend());
  return reversed.substr(0, size_t(length < 0 ? 0 : length));
}

ObjectKeyFormat::ObjectKeyFormat(KeyFormatOptions options) : options_(std::move(options)) {
  if (options_.time_slice_format.empty())
    options_.time_slice_format = timekey_to_timeformat(options_.timekey);
}

std::string ObjectKeyFormat::index_text(int index) const {
  char buf[1100];
  // valid_index_format checked the format: one integer conversion, no other directive.
  snprintf(buf, sizeof buf, options_.index_format.c_str(), index);
  return buf;
}

bool ObjectKeyFormat::extract_placeholders(std::string_view text, const ChunkKeyInput& in, std::string& out,
                                           std::string& error) const {
  std::string s(text);
  if (options_.key_time) {
    std::string formatted;
    append_time(formatted, EventTime{in.timekey, 0}, s, options_.utc);
    s = std::move(formatted);
  }
  if (options_.key_tag && has_tag_placeholder(text)) {
    if (escapes_path(in.tag)) {
      error = "Invalid path component detected in tag: " + std::string(in.tag);
      return false;
    }
    s = expand_tag_placeholders(s, in.tag);
  }
  // Fluentd's `sub`: the first ${chunk_id} only.
  if (size_t at = s.find("${chunk_id}"); at != std::string::npos) s.replace(at, 11, in.chunk_id);
  out = std::move(s);
  return true;
}

bool ObjectKeyFormat::key(const ChunkKeyInput& in, int index, std::string& out, std::string& error) const {
  const std::string pre = replace_percent_braces(options_.format, [&](std::string_view p, std::string& o) {
    if (p == "%{path}")
      o += options_.path;
    else if (p == "%{file_extension}")
      o += options_.file_extension;
    else
      return false;
    return true;
  });
  std::string extracted;
  if (!extract_placeholders(pre, in, extracted, error)) return false;
  std::string time_slice;
  if (options_.key_time)
    append_time(time_slice, EventTime{in.timekey, 0}, options_.time_slice_format, options_.utc);
  const bool uuid = uses_uuid_flush();
  out = replace_percent_braces(extracted, [&](std::string_view p, std::string& o) {
    if (p == "%{time_slice}")
      o += time_slice;
    else if (p == "%{hex_random}")
      o += hex_random(in.chunk_id, options_.hex_random_length);
    else if (p == "%{uuid_flush}" && uuid)
      o += in.uuid;
    else if (options_.check_object && p == "%{index}")
      o += index_text(index);
    else if (!options_.check_object && p == "%{date_slice}")
      o += time_slice;
    else if (!options_.check_object && p == "%{hms_slice}")
      // out_s3.rb: @localtime is never set in a v1 output, so this is always UTC.
      append_time(o, EventTime{in.now, 0}, "%H%M%S", true);
    return true;  // anything else: empty
  });
  return true;
}

}  // namespace sluice::s3

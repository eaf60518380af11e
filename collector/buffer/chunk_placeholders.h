// Fluentd's Output#extract_placeholders (lib/fluent/plugin/output.rb) for outputs' templates
// (out_http's endpoint and headers, out_cloudwatch_logs' group and stream names): a template
// filled in from a chunk's keys. Record chunk keys' values travel in the buffer chunk's variant
// (encoded by append_key_value).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "buffer/buffer.h"

namespace sluice::buffer {

struct ChunkKeys {
  bool tag = false;
  bool time = false;
  bool time_utc = false;
  std::vector<std::string> record_keys;  // as written in <buffer>, e.g. "$.foo.bar" or "key"

  explicit ChunkKeys(const Config& c = {})
      : tag(c.key_tag), time(c.key_time), time_utc(c.timekey_use_utc), record_keys(c.record_keys) {}
};

// Appends one record key's value (its Ruby to_s) to a chunk variant; values are length-prefixed so
// that any bytes survive.
void append_key_value(std::string& variant, std::string_view value);
// The values append_key_value wrote, in order (fewer when the variant is malformed).
std::vector<std::string_view> key_values(std::string_view variant);

// The first `${name}` of `text` that no chunk key fills, as written (`${tag}` without the tag
// key, `${host}` without a `host` record key), or empty. Fluentd sends such text as it is (or
// empty), which no server expects: sluice refuses the configuration instead.
std::string unfilled_placeholder(std::string_view text, const ChunkKeys& keys);

// `text` filled in for chunk `c`, in Fluentd's order: strftime of the whole text with the time
// key, then ${tag} and ${tag[N]}, then the first ${chunk_id}, then the record keys.
std::string expand_placeholders(std::string_view text, const ChunkKeys& keys, const Chunk& c);

}  // namespace sluice::buffer

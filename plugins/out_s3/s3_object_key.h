// The object keys of `@type s3`, made as fluent-plugin-s3's out_s3.rb `write` makes them from
// `s3_object_key_format`: %{path} and %{file_extension} first, then Fluentd's
// extract_placeholders (strftime of the chunk's time slot, ${tag}, ${tag[N]}, ${chunk_id}), then
// %{time_slice}, %{index}, %{hex_random}, %{uuid_flush} (and, without check_object, %{hms_slice}
// and %{date_slice}); any other %{...} left at that point becomes empty, as Ruby's gsub with a
// hash does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::s3 {

struct KeyFormatOptions {
  std::string format = "%{path}%{time_slice}_%{index}.%{file_extension}";
  std::string path;
  std::string file_extension = "gz";
  std::string time_slice_format;  // empty: from the timekey, as Fluentd's timekey_to_timeformat
  std::string index_format = "%d";
  int hex_random_length = 4;
  bool check_object = true;
  bool key_tag = false;   // `tag` is a chunk key
  bool key_time = false;  // `time` is a chunk key
  double timekey = 86400;
  bool utc = false;  // time slots and strftime in UTC, else local time
};

// What one chunk gives its keys.
struct ChunkKeyInput {
  std::string_view tag;
  int64_t timekey = 0;        // the slot's start
  std::string_view chunk_id;  // 32 hex digits, Fluentd's dump_unique_id_hex
  std::string_view uuid;      // a fresh UUID for %{uuid_flush}
  int64_t now = 0;            // for %{hms_slice}
};

class ObjectKeyFormat {
 public:
  ObjectKeyFormat() = default;
  explicit ObjectKeyFormat(KeyFormatOptions options);

  // The key of attempt `index`, or false with `error` (a tag that would escape the path).
  bool key(const ChunkKeyInput& in, int index, std::string& out, std::string& error) const;
  // Fluentd's extract_placeholders alone (s3_metadata values).
  bool extract_placeholders(std::string_view text, const ChunkKeyInput& in, std::string& out,
                            std::string& error) const;
  std::string index_text(int index) const;
  bool uses_uuid_flush() const { return options_.format.find("%{uuid_flush}") != std::string::npos; }
  const KeyFormatOptions& options() const { return options_; }

 private:
  KeyFormatOptions options_;
};

// Fluentd's timekey_to_timeformat.
std::string timekey_to_timeformat(double timekey);
// `index_format` as out_s3 accepts it: %d, %x, %X with an optional 0-padded width.
bool valid_index_format(std::string_view format);
// %{hex_random} of a chunk id: its hex digits reversed, the first `length`.
std::string hex_random(std::string_view chunk_id, int length);

}  // namespace sluice::s3

// Turning one (tag, time, record) into a Kafka message the way fluent-plugin-kafka's kafka2 does:
// `<inject>` values, topic / message key / partition key / partition / headers taken from the
// record (and optionally removed from it), then the value formatted with `<format>`:
//   json          Oj.dump(record): compact JSON, no newline (lower-case \u00XX escapes)
//   msgpack       record.to_msgpack
//   ltsv          the ltsv gem's LTSV.dump: `k:v<TAB>k:v`, with tab, LF and CR in values
//                 written as \t \n \r (backslashes are left as they are: the gem's
//                 gsub("\\", "\\\\") is a no-op in Ruby)
//   single_value  Fluentd's single_value formatter (message_key, add_newline default true)
//   others        Fluentd's line formatters (out_file, hash, ...), on the record as emitted
// kafka_buffered's output_data_type (json, ltsv, msgpack, attr:k1,k2) and output_include_tag /
// output_include_time map onto the same machinery.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/event.h"
#include "format/line_format.h"
#include "format/record_inject.h"

namespace sluice::kafka {

// Where a message goes, and its key, partition and headers, as extracted from a record.
// Views point into the batch or into the mapper's scratch storage (valid until the next map()).
struct MessageMeta {
  std::string_view topic;                  // empty: the output's default
  std::optional<std::string_view> key;     // message key
  std::optional<std::string_view> pkey;    // partition key (hashed instead of the message key)
  std::optional<int32_t> partition;        // explicit partition
  std::vector<std::pair<std::string_view, std::optional<std::string_view>>> headers;
};

struct MapperConfig {
  // Record fields; empty name: not taken from the record.
  std::string topic_key = "topic";
  bool exclude_topic_key = false;
  std::string message_key_key = "message_key";
  bool exclude_message_key = false;
  std::optional<std::string> default_message_key;
  std::string partition_key_key = "partition_key";
  bool exclude_partition_key = false;
  std::optional<std::string> default_partition_key;
  std::string partition_key = "partition";
  bool exclude_partition = false;
  std::optional<int32_t> default_partition;
  std::vector<std::pair<std::string, std::string>> headers;
  // header name -> record accessor path ($.a.b or a plain key)
  std::vector<std::pair<std::string, std::vector<std::string>>> headers_from_record;
  std::vector<std::vector<std::string>> exclude_fields;  // record accessor paths (top level only)
  InjectConfig inject;

  enum class Format { Json, Msgpack, Ltsv, Attr, Line } format = Format::Json;
  std::vector<std::string> attr_fields;  // Format::Attr (kafka_buffered `attr:a,b`)
  std::string attr_separator = "\t";
};

// `$.a.b`, `$['a']['b']` or `a`: the path of keys.
bool parse_record_accessor(const std::string& text, std::vector<std::string>& out);

class RecordMapper {
 public:
  RecordMapper() = default;
  RecordMapper(MapperConfig config, LineFormat line_format);

  // Appends the formatted value of `record` to `out` and fills `meta`.
  void map(const Batch& batch, const Record& record, std::string& out, MessageMeta& meta);

  const MapperConfig& config() const { return config_; }

 private:
  struct Member {
    std::string_view key;
    Value value;
  };
  void collect(const Batch& batch, const Record& record);
  bool takes_nothing_from(const Batch& batch, const Record& record) const;
  bool is_taken_key(std::string_view key) const;
  // The output's defaults for the message key, partition key and partition a record left unset.
  void apply_defaults(MessageMeta& meta) const;
  // The record keys map() takes values from (an empty one is not taken).
  static constexpr std::string MapperConfig::*kTakenKeys[] = {
      &MapperConfig::topic_key, &MapperConfig::message_key_key, &MapperConfig::partition_key_key,
      &MapperConfig::partition_key};
  const Value* lookup(std::string_view key) const;
  bool lookup_path(const std::vector<std::string>& path, std::string& scratch,
                   std::optional<std::string_view>& out);

  MapperConfig config_;
  // A JSON value with nothing to inject, exclude or take headers from: records that hold none of
  // the keys the mapper takes (topic, keys, partition) are written as they are, without collect.
  bool plain_json_ = false;
  uint64_t taken_key_sizes_ = 0;  // bit n: a taken key is n bytes long (63: 63 or more)
  LineFormat line_;
  std::vector<Member> members_;
  // Owned bytes referenced by members_ and MessageMeta for the current record.
  std::deque<std::string> scratch_;  // a deque: growing it keeps the strings in place
  size_t scratch_used_ = 0;
  std::string& next_scratch();
  CachedTimeFormat time_format_;
};

// The value as Ruby's to_s prints it (strings raw, nil empty).
void append_to_s(std::string& out, const Value& v);
// LTSV.dump of a list of members.
void append_ltsv_value(std::string& out, std::string_view text);

}  // namespace sluice::kafka

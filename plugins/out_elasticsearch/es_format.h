// The `_bulk` NDJSON lines fluent-plugin-elasticsearch 5.2.5 writes for a record (action line +
// document), written straight into a buffer chunk: the hot path of the Elasticsearch output.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"

namespace sluice::es {

struct FormatConfig {
  bool logstash_format = false;
  std::string logstash_prefix = "logstash";
  std::string logstash_prefix_separator = "-";
  std::string logstash_dateformat = "%Y.%m.%d";
  bool utc_index = true;
  std::string index_name = "fluentd";
  bool include_timestamp = false;
  std::string time_key;  // empty: none
  std::string time_key_format;
  int time_precision = 9;
  bool time_key_exclude_timestamp = false;
  bool include_tag_key = false;
  std::string tag_key = "tag";
  std::string id_key;
  std::string routing_key;
  std::string pipeline;
  std::vector<std::string> remove_keys;
  std::string target_index_key;
  std::string write_operation = "index";  // index or create
  std::string type_name = "fluentd";
  bool suppress_type_name = false;
  bool deterministic_id = false;
  // With a `time` chunk key, `%` placeholders in index_name are expanded from the time slot.
  bool time_chunk_key = false;
  double timekey = 0;
  bool timekey_use_utc = true;
};

// The deterministic document id: 32 hex digits from (stream identity, line offset, event time).
void append_deterministic_id(std::string& out, std::string_view stream_id, uint64_t offset,
                             EventTime time);

class BulkFormatter {
 public:
  explicit BulkFormatter(FormatConfig config);

  // The server's major version (from `GET /`) decides the `_type` of action lines.
  void set_major_version(int major);
  int major_version() const { return major_; }
  const FormatConfig& config() const { return config_; }

  // Per batch, before the records.
  void begin_batch(const Batch& batch);
  // The target index of a record (valid until the next call). Lower-cased, as the plugin does.
  std::string_view index_for(const Batch& batch, const Record& record);
  // Appends the action line and the document. Returns false (and appends nothing) when the record
  // cannot be sent: write_operation create without an `_id`.
  bool append(std::string& out, const Batch& batch, const Record& record, std::string_view index);

  // The `@timestamp` form Ruby's DateTime#iso8601(precision) gives.
  static void append_iso8601(std::string& out, int64_t sec, uint32_t nsec, int32_t offset,
                             int precision);
  // DateTime.parse of an ISO 8601 / RFC 3339 text: seconds, nanoseconds and the UTC offset it
  // carries (0 when none).
  static bool parse_datetime(std::string_view text, int64_t& sec, uint32_t& nsec, int32_t& offset);

 private:
  struct Specials {
    const Value* timestamp = nullptr;  // "@timestamp" in the record
    const Value* time_key = nullptr;
    const Value* target_index = nullptr;
    const Value* id = nullptr;
    const Value* routing = nullptr;
    bool has_tag_key = false;
  };
  void scan(const Batch& batch, const Record& record, Specials& s) const;
  const Specials& specials(const Batch& batch, const Record& record);
  bool record_dt(const Specials& s, const Record& record, int64_t& sec, uint32_t& nsec,
                 int32_t& offset, bool& add_timestamp);
  void append_event_timestamp(std::string& out, EventTime t);
  bool skip_key(std::string_view key) const;
  std::string expand_tag(const std::string& pattern, std::string_view tag) const;
  static void lower(std::string& s);

  FormatConfig config_;
  int major_ = 5;
  bool need_scan_ = false;
  bool need_dt_ = false;
  bool dateformat_daily_ = true;
  bool index_has_time_ = false;
  bool index_has_tag_ = false;
  bool prefix_has_tag_ = false;
  std::string action_head_;   // `{"index":{"_index":`
  std::string type_part_;     // `,"_type":null` or `,"_type":"_doc"` or empty
  std::string pipeline_part_;
  bool remove_timestamp_ = false;
  bool remove_tag_ = false;

  // Per batch.
  std::string batch_tag_;
  std::string static_index_;   // index_name with ${tag} expanded
  std::string logstash_prefix_;  // with ${tag} expanded
  // Caches.
  int64_t index_cache_key_ = INT64_MIN;
  std::string index_cache_;
  std::string target_index_scratch_;
  int64_t ts_cache_sec_ = INT64_MIN;
  std::string ts_cache_prefix_;  // "2024-05-01T12:00:00"
  std::string ts_cache_suffix_;  // "+00:00"
  std::string scratch_;
  const Record* scanned_ = nullptr;
  Specials specials_;
};

}  // namespace sluice::es

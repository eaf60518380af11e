// The `_bulk` NDJSON lines fluent-plugin-elasticsearch 5.2.5 writes for a record (action line +
// document), written straight into a buffer chunk: the hot path of the Elasticsearch output.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "format/json_shape.h"
#include "format/string_writer.h"

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
  // The data stream outputs: `{"create":{}}` action lines (the stream is the request's index),
  // the tag key set before @timestamp.
  bool data_stream = false;
  std::string type_name = "fluentd";
  bool suppress_type_name = false;
  bool deterministic_id = false;
  // With a `time` chunk key, `%` placeholders in index_name are expanded from the time slot.
  bool time_chunk_key = false;
  double timekey = 0;
  bool timekey_use_utc = true;
  // Records without special keys through their shape's rendered keys (es_format_plain.cpp); off
  // only to compare the two paths.
  bool use_shapes = true;
};

namespace detail {

// "000".."999", 4 bytes apart: three digits with one 4-byte load.
inline constexpr auto kTriples = [] {
  std::array<char, 4000> t{};
  for (int i = 0; i < 1000; ++i)
    t[4 * i] = char('0' + i / 100), t[4 * i + 1] = char('0' + i / 10 % 10), t[4 * i + 2] = char('0' + i % 10);
  return t;
}();

// `.fffffffff` with `precision` digits (zeros past the ninth), nothing for 0. Stores 11 bytes
// whatever the precision: the caller's room has them.
inline char* write_fraction(char* w, uint32_t nsec, int precision) {
  if (precision <= 0) return w;
  const uint32_t v = nsec % 1000000000u;
  const uint32_t millis = v / 1000000, micros = v / 1000;
  // Straight to w: each 4-byte copy's last byte is overwritten by the next (or lies past the
  // ninth digit).
  w[0] = '.';
  std::memcpy(w + 1, &kTriples[4 * millis], 4);
  std::memcpy(w + 4, &kTriples[4 * (micros - 1000 * millis)], 4);
  std::memcpy(w + 7, &kTriples[4 * (v - 1000 * micros)], 4);
  w += 1 + std::min(precision, 9);
  for (int k = 9; k < precision; ++k) *w++ = '0';
  return w;
}

}  // namespace detail

// The deterministic document id: 32 hex digits from (stream identity, line offset, event time).
constexpr size_t kDeterministicIdSize = 32;
char* write_deterministic_id(char* w, std::string_view stream_id, uint64_t offset, EventTime time);
void append_deterministic_id(std::string& out, std::string_view stream_id, uint64_t offset,
                             EventTime time);

class BulkFormatter {
 public:
  explicit BulkFormatter(FormatConfig config);
  BulkFormatter(const BulkFormatter&) = delete;
  BulkFormatter& operator=(const BulkFormatter&) = delete;

  // The server's major version (from `GET /`) decides the `_type` of action lines.
  void set_major_version(int major);
  int major_version() const { return major_; }
  const FormatConfig& config() const { return config_; }

  // Per batch, before the records.
  void begin_batch(const Batch& batch);
  // The target index of a record (valid until the next call). Lower-cased, as the plugin does.
  std::string_view index_for(const Batch& batch, const Record& record) {
    // Inline, the common case: a plain record whose event second lies in the cached range.
    const int64_t sec = record.time.sec;
    if (config_.logstash_format && plain(batch, record) && sec >= index_lo_ && sec < index_hi_)
      return index_cache_;
    return index_for_general(batch, record);
  }
  // Appends the action line and the document. Returns false (and appends nothing) when the record
  // cannot be sent: write_operation create without an `_id`.
  bool append(std::string& out, const Batch& batch, const Record& record, std::string_view index);
  // When every record of the batch takes the fast path: appends records[first] (whose index is
  // `index`) and the records after it that go to the same index, while the payload is shorter
  // than `limit` (Buffer::run_limit). Returns how many, with where the last one starts; 0 (and
  // nothing appended) when the batch does not take the fast path. One loop instead of a call
  // and a buffer record per document.
  size_t append_run(std::string& out, const Batch& batch, size_t first, std::string_view index,
                    size_t limit, size_t& last_start);

  // The `@timestamp` form Ruby's DateTime#iso8601(precision) gives.
  // The same written at w, which has timestamp_room(precision) bytes.
  static char* write_iso8601(char* w, int64_t sec, uint32_t nsec, int32_t offset, int precision);
  // Room a timestamp needs: up to the seconds (19 bytes, longer past year 9999: 32 covers any
  // int64 time), the fraction (stored 16 bytes at a time, zeros past the ninth digit) and the
  // offset.
  static size_t timestamp_room(int precision) { return 64 + size_t(std::max(precision, 0)); }
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
    bool any() const { return timestamp || time_key || target_index || id || routing || has_tag_key; }
  };
  std::string_view index_for_general(const Batch& batch, const Record& record);
  void scan_fields(const Field* begin, const Field* end, Specials& s) const;
  void scan(const Batch& batch, const Record& record, Specials& s) const;
  const Specials& specials(const Batch& batch, const Record& record);
  bool record_dt(const Specials& s, const Record& record, int64_t& sec, uint32_t& nsec,
                 int32_t& offset, bool& add_timestamp);
  // `@timestamp` of an event time in local time, at most 48 bytes: the text up to the seconds and
  // the offset are cached per second; fixed-size copies (the room has space).
  char* write_event_timestamp(char* w, EventTime t) {
    if (t.sec != ts_cache_sec_) refresh_timestamp_cache(t.sec);
    std::memcpy(w, ts_cache_prefix_, sizeof ts_cache_prefix_);
    w = detail::write_fraction(w + ts_cache_prefix_len_, t.nsec, config_.time_precision);
    std::memcpy(w, ts_cache_suffix_, 8);
    return w + 6;
  }
  void refresh_timestamp_cache(int64_t sec);
  std::string_view logstash_index(int64_t sec, int32_t offset, bool record_time);
  // The fast path (es_format_plain.cpp): records whose keys, and the batch's common keys, need
  // nothing special (no @timestamp, time_key, id, routing, target index, tag key or removed key)
  // are written from their shape's rendered key prefixes and the batch's rendered common fields.
  static uint32_t classify_key(const void* self, std::string_view key);
  void begin_plain_batch(const Batch& batch);
  // Whether the record takes the fast path; decided once per record (index_for asks first).
  bool plain(const Batch& batch, const Record& record) {
    if (batch_shape_) return true;
    return shaped_record_ == &record ? shaped_plain_ : match_plain(batch, record);
  }
  bool match_plain(const Batch& batch, const Record& record);
  static bool same_key_views(const Batch& batch);
  void append_plain(std::string& out, const Batch& batch, const Record& record,
                    std::string_view index);
  // The action line `action` (action_line of the record's index) and the document. Inlined
  // into append_run's loop (and append_plain): a call's register saves and argument passing
  // were ~30 instructions of a ~1,400-instruction document.
  [[gnu::always_inline]] void write_plain(StringWriter& out, const json::JsonShape& shape,
                                          const Batch& batch, const Record& record,
                                          std::string_view action);
  // Whether the record after a run goes to the run's index without asking index_for: the cached
  // logstash index of the run's day, or the batch's fixed index.
  bool same_plain_index(std::string_view index, const Record& next) const {
    if (index.data() == index_cache_.data())
      return config_.logstash_format && next.time.sec >= index_lo_ && next.time.sec < index_hi_;
    return index.data() == static_index_.data() && !config_.logstash_format &&
           !(index_has_time_ && config_.time_chunk_key);
  }
  static constexpr std::string_view kActionEnd = "}}\n";
  // The action line of an index: the one built before while the index is the same string of this
  // formatter at the same version.
  std::string_view action_line(std::string_view index) {
    if (action_index_data_ && index.data() == action_index_data_ && index_version_ == action_version_ &&
        index.size() == action_cache_index_.size())
      return action_cache_;
    return build_action_line(index);
  }
  std::string_view build_action_line(std::string_view index);
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
  bool create_ = false;  // write_operation create: records need an _id (not in data streams)
  std::string action_cache_index_;
  std::string action_cache_;
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
  char ts_cache_prefix_[32] = {};  // "2024-05-01T12:00:00" (longer for distant years)
  size_t ts_cache_prefix_len_ = 0;
  char ts_cache_suffix_[8] = {};  // "+00:00"
  std::string scratch_;
  const Record* scanned_ = nullptr;
  Specials specials_;
  Specials common_specials_;     // of the batch's common fields
  // Event seconds [lo, hi) for which index_cache_ is the logstash index (empty: lo > hi).
  int64_t index_lo_ = 1, index_hi_ = 0;
  // The index action_cache_ was built for, when it is one of this formatter's own strings: the
  // same view and version is the same index without comparing bytes.
  const char* action_index_data_ = nullptr;
  uint64_t index_version_ = 0, action_version_ = 0;

  json::JsonShapes shapes_;
  bool plain_config_ = false;  // shapes on, no per-record action lines (deterministic ids, create)
  bool plain_batch_ = false;   // and the batch's common keys need nothing special
  uint64_t builds_before_batch_ = 0;
  const Record* shaped_record_ = nullptr;
  const json::JsonShape* shape_ = nullptr;
  const json::JsonShape* batch_shape_ = nullptr;  // the shape of every record of a plain batch
  bool shaped_plain_ = false;
  std::string common_text_;  // `,"k":v` for each common field of the batch
  std::string tag_member_;   // `,"tag":"<tag>"` when include_tag_key adds it
  bool plain_timestamp_ = false;
  bool other_specials_ = false;  // a key besides @timestamp is looked for
};

}  // namespace sluice::es

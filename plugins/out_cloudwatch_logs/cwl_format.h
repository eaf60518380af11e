// A record as out_cloudwatch_logs.rb's write turns it into a log event: its log group and stream
// (from the tag, a record key, or the chunk's templates), the record without the name keys it
// removes and without top-level "" values (drop_empty_record), invalid UTF-8 scrubbed to U+FFFD
// (scrub_record!), the message (the record as JSON, message_keys joined with spaces, or
// <format>), cut to max_message_length characters, and the time in milliseconds
// ((time.to_f * 1000).floor). Done at buffer time; the entry goes into the chunk (cwl_events.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/event.h"
#include "cwl_config.h"
#include "format/line_format.h"

namespace sluice::cwl {

// Fluentd's EventTime#to_f * 1000, floored, as Ruby computes it in doubles.
int64_t time_ms(EventTime t);

// The first `chars` characters of valid UTF-8 `s` (String#slice(0, n)).
std::string_view first_chars(std::string_view s, int64_t chars);

class EventFormatter {
 public:
  EventFormatter(FormatSettings settings, LineFormat format);

  enum class Outcome { Entry, NoGroup, NoStream, EmptyMessage };
  // Appends the entry of `record` (of `batch`, <inject> values already in) to `out`, or appends
  // nothing and says why the plugin would skip it.
  Outcome append(std::string& out, const Batch& batch, const Record& record);

  // The group and stream of the last append (for messages).
  const std::string& group() const { return group_; }
  const std::string& stream() const { return stream_; }
  const FormatSettings& settings() const { return s_; }

 private:
  bool name_of(NameFrom from, const std::string& key, const Batch& batch, const Record& record, std::string& out);
  bool removed(std::string_view key) const;

  FormatSettings s_;
  LineFormat format_;
  Batch record_;  // the record as the formatter sees it (one record, no common fields)
  std::string group_, stream_, message_, scrubbed_, piece_;
};

}  // namespace sluice::cwl

// Event time parsing and formatting.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/event.h"
#include "format/time_rfc3339.h"  // parse_rfc3339

namespace sluice {

// Ruby strptime-style formats as Fluentd's time_format uses them: %Y %m %d %H %M %S %N %L %3N
// %6N %9N %z %:z %Z %T %F %b %B %e %j %s %y %p %I %a %A %%, literal characters.
// Without a zone in the text, times are `localtime` unless `utc` or an explicit `timezone`
// (`+09:00`) is set. With `time_type` float/unixtime the text is seconds since the epoch.
class TimeParser {
 public:
  enum class Type { String, Float, Unixtime };
  TimeParser() = default;
  // Throws std::invalid_argument for a format it does not support.
  TimeParser(std::string format, Type type = Type::String, bool utc = false,
             std::string timezone = {});
  bool parse(std::string_view text, EventTime& out) const;
  // No format given: Fluentd parses with Ruby's Time.parse, which accepts ISO 8601.
  bool empty_format() const { return format_.empty(); }

 private:
  std::string format_;
  Type type_ = Type::String;
  bool utc_ = false;
  bool has_offset_ = false;
  int32_t offset_seconds_ = 0;
};

// strftime with Fluentd's additions: %N (9 digits), %L (3 digits), %3N/%6N/%9N, %:z.
// Local time unless utc.
void append_time(std::string& out, EventTime t, std::string_view format, bool utc = false);

// The current time.
EventTime now();

}  // namespace sluice

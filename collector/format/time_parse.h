// Internal to collector/format: what time.cpp and the strptime interpreter (time_strptime.cpp)
// share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice::time_parse {

struct Fields {
  int64_t year = INT64_MIN;  // unset: current year
  int month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int yday = 0;              // 1-based, 0 unset
  int hour12 = -1;           // %I
  int pm = -1;               // %p: 0 am, 1 pm
  uint32_t nsec = 0;
  bool has_offset = false;
  int32_t offset = 0;
  bool has_epoch = false;
  int64_t epoch = 0;
  bool has_date = false;
};

// Parses Z, z, UTC, GMT, ±hh, ±hhmm, ±hh:mm (and GMT+hh... / UTC+hh:mm). Returns the number of
// bytes consumed, 0 on failure.
size_t parse_zone(const char* p, const char* end, int32_t& offset);
// Zone abbreviations Ruby's Date._strptime knows for %Z (a common subset).
bool named_zone(std::string_view name, int32_t& offset);
// Reads a fraction, keeping nanosecond precision. Returns digits consumed.
size_t parse_fraction(const char* p, const char* end, uint32_t& nsec);
// Reads up to `max` digits (at least one), optionally signed.
size_t parse_int(const char* p, const char* end, int max, int64_t& out, bool allow_sign = false);
// Interprets `fmt` against `text`. Returns false when the text does not match the format exactly.
bool strptime_fields(std::string_view fmt, std::string_view text, Fields& f);

}  // namespace sluice::time_parse

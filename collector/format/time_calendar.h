// Calendar arithmetic and the local zone offset cache shared by time parsing and formatting.
// All of it is timegm-style (days from civil), never mktime: mktime takes a global lock,
// consults TZ on every call and is slow. Local time uses a small per-thread cache of the zone's
// UTC offset, refreshed once per 15-minute bucket of UTC time (zone changes happen on such
// boundaries in practice).
#pragma once

#include <time.h>

#include <cstdint>

namespace sluice::calendar {


// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date.
inline constexpr int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

inline constexpr Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

inline bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

inline unsigned days_in_month(int64_t y, unsigned m) {
  static const unsigned dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

inline bool digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly n digits at p (bounds checked by the caller).
inline bool fixed_digits(const char* p, int n, int& out) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (!digit(p[i])) return false;
    v = v * 10 + (p[i] - '0');
  }
  out = v;
  return true;
}

// --- local time zone offset cache -------------------------------------------------------------

struct OffsetCache {
  int64_t bucket = INT64_MIN;
  int32_t offset = 0;
};

// The local zone's UTC offset (seconds east) at UTC time t.
inline int32_t local_offset_at(int64_t t) {
  thread_local OffsetCache cache[2];
  const int64_t bucket = t >= 0 ? t / 900 : (t - 899) / 900;
  OffsetCache& slot = cache[bucket & 1];
  if (slot.bucket == bucket) return slot.offset;
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  int32_t off = 0;
  if (localtime_r(&tt, &tm)) off = static_cast<int32_t>(tm.tm_gmtoff);
  slot.bucket = bucket;
  slot.offset = off;
  return off;
}

// UTC seconds for a wall-clock time (as seconds computed with timegm arithmetic) in the local zone.
inline int64_t local_to_utc(int64_t wall) {
  int32_t off = local_offset_at(wall);
  int64_t t = wall - off;
  int32_t off2 = local_offset_at(t);
  if (off2 != off) {
    // Near a transition: one more step settles (for the skipped hour mktime-like behaviour).
    int64_t t2 = wall - off2;
    if (local_offset_at(t2) == off2) return t2;
  }
  return t;
}

// English names, as Ruby's strftime and strptime use them.
inline const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                               "July",    "August",   "September", "October", "November", "December"};
inline const char* const kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                             "Thursday", "Friday", "Saturday"};

}  // namespace sluice::calendar

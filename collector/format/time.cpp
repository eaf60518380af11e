// Event time parsing and formatting (see time.h).
//
// All calendar arithmetic is timegm-style (days from civil), never mktime: mktime takes a global
// lock, consults TZ on every call and is slow. Local time is handled by a small per-thread cache
// of the zone's UTC offset, refreshed once per 15-minute bucket of UTC time (zone changes happen
// on such boundaries in practice).
#include "format/time.h"

#include <time.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace sluice {

namespace {

// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date.
constexpr int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
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

constexpr Civil civil_from_days(int64_t z) {
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

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int64_t y, unsigned m) {
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
int32_t local_offset_at(int64_t t) {
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
int64_t local_to_utc(int64_t wall) {
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

// --- zone designators -------------------------------------------------------------------------

// Parses Z, z, UTC, GMT, ±hh, ±hhmm, ±hh:mm (and GMT+hh... / UTC+hh:mm). Returns the number of
// bytes consumed, 0 on failure.
size_t parse_zone(const char* p, const char* end, int32_t& offset) {
  const char* s = p;
  if (s < end && (*s == 'Z' || *s == 'z')) {
    // "Z" alone (not the start of a word like "Zulu"... accepted as Z only).
    offset = 0;
    return 1;
  }
  bool named_utc = false;
  if (end - s >= 3 && (std::memcmp(s, "UTC", 3) == 0 || std::memcmp(s, "GMT", 3) == 0)) {
    s += 3;
    named_utc = true;
    if (s == end || (*s != '+' && *s != '-')) {
      offset = 0;
      return static_cast<size_t>(s - p);
    }
  }
  if (s >= end || (*s != '+' && *s != '-')) return 0;
  int sign = *s == '-' ? -1 : 1;
  ++s;
  int hh = 0, mm = 0;
  if (end - s >= 2 && digit(s[0]) && digit(s[1])) {
    hh = (s[0] - '0') * 10 + (s[1] - '0');
    s += 2;
  } else if (named_utc && s < end && digit(s[0])) {
    hh = s[0] - '0';
    s += 1;
  } else {
    return 0;
  }
  if (s < end && *s == ':') {
    if (end - s >= 3 && digit(s[1]) && digit(s[2])) {
      mm = (s[1] - '0') * 10 + (s[2] - '0');
      s += 3;
    } else {
      return 0;
    }
  } else if (end - s >= 2 && digit(s[0]) && digit(s[1])) {
    mm = (s[0] - '0') * 10 + (s[1] - '0');
    s += 2;
  }
  if (hh > 23 || mm > 59) return 0;
  offset = sign * (hh * 3600 + mm * 60);
  return static_cast<size_t>(s - p);
}

// Zone abbreviations Ruby's Date._strptime knows for %Z (a common subset).
bool named_zone(std::string_view name, int32_t& offset) {
  struct Z {
    const char* n;
    int32_t off;
  };
  static const Z zones[] = {
      {"UTC", 0},          {"GMT", 0},          {"UT", 0},           {"Z", 0},
      {"EST", -5 * 3600},  {"EDT", -4 * 3600},  {"CST", -6 * 3600},  {"CDT", -5 * 3600},
      {"MST", -7 * 3600},  {"MDT", -6 * 3600},  {"PST", -8 * 3600},  {"PDT", -7 * 3600},
      {"JST", 9 * 3600},   {"CET", 3600},       {"CEST", 7200},      {"BST", 3600},
      {"IST", 19800},      {"KST", 9 * 3600},   {"HST", -10 * 3600}, {"AKST", -9 * 3600},
      {"AKDT", -8 * 3600}, {"EET", 7200},       {"EEST", 10800},     {"WET", 0},
      {"WEST", 3600},      {"AEST", 36000},     {"AEDT", 39600},
  };
  for (auto& z : zones) {
    if (name.size() != std::strlen(z.n)) continue;
    bool eq = true;
    for (size_t i = 0; i < name.size(); ++i)
      if ((name[i] & ~0x20) != z.n[i]) {
        eq = false;
        break;
      }
    if (eq) {
      offset = z.off;
      return true;
    }
  }
  return false;
}

// Reads a fraction: any number of digits (Fluentd's %N/%L accept more or fewer than nominal),
// keeping nanosecond precision (digits past the 9th are dropped). Returns digits consumed.
size_t parse_fraction(const char* p, const char* end, uint32_t& nsec) {
  const char* s = p;
  uint32_t v = 0;
  int n = 0;
  while (s < end && digit(*s)) {
    if (n < 9) {
      v = v * 10 + static_cast<uint32_t>(*s - '0');
      ++n;
    }
    ++s;
  }
  static const uint32_t scale[] = {1000000000, 100000000, 10000000, 1000000, 100000,
                                   10000,      1000,      100,      10,      1};
  nsec = v * scale[n];
  return static_cast<size_t>(s - p);
}

const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                               "July",    "August",   "September", "October", "November", "December"};
const char* const kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                             "Thursday", "Friday", "Saturday"};

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c; }

// Matches a month or day name (full or 3-letter abbreviation, case-insensitive).
size_t match_name(const char* p, const char* end, const char* const* names, int count, int& idx) {
  for (int i = 0; i < count; ++i) {
    size_t len = std::strlen(names[i]);
    if (static_cast<size_t>(end - p) >= len) {
      bool eq = true;
      for (size_t k = 0; k < len; ++k)
        if (lower(p[k]) != lower(names[i][k])) {
          eq = false;
          break;
        }
      if (eq) {
        idx = i;
        return len;
      }
    }
  }
  for (int i = 0; i < count; ++i) {
    if (end - p >= 3 && lower(p[0]) == lower(names[i][0]) && lower(p[1]) == lower(names[i][1]) &&
        lower(p[2]) == lower(names[i][2])) {
      idx = i;
      return 3;
    }
  }
  return 0;
}

// Reads up to `max` digits (at least one), optionally signed.
size_t parse_int(const char* p, const char* end, int max, int64_t& out, bool allow_sign = false) {
  const char* s = p;
  bool neg = false;
  if (allow_sign && s < end && (*s == '-' || *s == '+')) {
    neg = *s == '-';
    ++s;
  }
  const char* digits = s;
  int64_t v = 0;
  while (s < end && digit(*s) && s - digits < max) {
    if (v > (INT64_MAX - (*s - '0')) / 10) return 0;  // beyond int64 (a 19-digit %s): no number
    v = v * 10 + (*s - '0');
    ++s;
  }
  if (s == digits) return 0;
  out = neg ? -v : v;
  return static_cast<size_t>(s - p);
}

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

// Interprets `fmt` against `text`. Returns false when the text does not match the format exactly.
bool strptime_fields(std::string_view fmt, std::string_view text, Fields& f) {
  const char* p = text.data();
  const char* end = p + text.size();
  size_t i = 0;
  while (i < fmt.size()) {
    char c = fmt[i];
    if (c != '%') {
      if (c == ' ') {
        // Ruby's strptime: whitespace in the format matches any amount of whitespace.
        while (p < end && (*p == ' ' || *p == '\t')) ++p;
        ++i;
        continue;
      }
      if (p >= end || *p != c) return false;
      ++p;
      ++i;
      continue;
    }
    if (++i >= fmt.size()) return false;
    char spec = fmt[i++];
    // Width prefix for %N (%3N, %6N, %9N) and the ':' of %:z.
    int width = 0;
    while (digit(spec) && i < fmt.size()) {
      width = std::min(width * 10 + (spec - '0'), 1024);  // saturated: no overflow on %99...9N
      spec = fmt[i++];
    }
    bool colon = false;
    if (spec == ':' && i < fmt.size()) {
      colon = true;
      spec = fmt[i++];
    }
    (void)colon;
    int64_t v = 0;
    size_t n = 0;
    switch (spec) {
      case 'Y':
        n = parse_int(p, end, 5, v, true);
        if (!n) return false;
        f.year = v;
        f.has_date = true;
        break;
      case 'C':
        n = parse_int(p, end, 2, v);
        if (!n) return false;
        f.year = v * 100 + (f.year == INT64_MIN ? 0 : f.year % 100);
        break;
      case 'y':
        n = parse_int(p, end, 2, v);
        if (!n) return false;
        f.year = v < 69 ? 2000 + v : 1900 + v;
        f.has_date = true;
        break;
      case 'm':
        n = parse_int(p, end, 2, v);
        if (!n || v < 1 || v > 12) return false;
        f.month = static_cast<int>(v);
        f.has_date = true;
        break;
      case 'd':
      case 'e':
        while (spec == 'e' && p < end && *p == ' ') ++p;
        n = parse_int(p, end, 2, v);
        if (!n || v < 1 || v > 31) return false;
        f.day = static_cast<int>(v);
        f.has_date = true;
        break;
      case 'j':
        n = parse_int(p, end, 3, v);
        if (!n || v < 1 || v > 366) return false;
        f.yday = static_cast<int>(v);
        break;
      case 'H':
      case 'k':
        while (spec == 'k' && p < end && *p == ' ') ++p;
        n = parse_int(p, end, 2, v);
        if (!n || v > 24) return false;
        f.hour = static_cast<int>(v);
        break;
      case 'I':
      case 'l':
        while (spec == 'l' && p < end && *p == ' ') ++p;
        n = parse_int(p, end, 2, v);
        if (!n || v < 1 || v > 12) return false;
        f.hour12 = static_cast<int>(v);
        break;
      case 'M':
        n = parse_int(p, end, 2, v);
        if (!n || v > 59) return false;
        f.minute = static_cast<int>(v);
        break;
      case 'S':
        n = parse_int(p, end, 2, v);
        if (!n || v > 60) return false;
        f.second = static_cast<int>(v);
        break;
      case 'N':
      case 'L': {
        // Fluentd (Ruby strptime / the strptime gem) reads any number of digits here.
        n = parse_fraction(p, end, f.nsec);
        if (!n) return false;
        break;
      }
      case 'p':
      case 'P':
        if (end - p >= 2 && (lower(p[1]) == 'm') && (lower(p[0]) == 'a' || lower(p[0]) == 'p')) {
          f.pm = lower(p[0]) == 'p';
          n = 2;
        } else if (end - p >= 4 && p[1] == '.' && lower(p[2]) == 'm' && p[3] == '.' &&
                   (lower(p[0]) == 'a' || lower(p[0]) == 'p')) {
          f.pm = lower(p[0]) == 'p';
          n = 4;
        } else {
          return false;
        }
        break;
      case 'z': {
        int32_t off = 0;
        n = parse_zone(p, end, off);
        if (!n) return false;
        f.has_offset = true;
        f.offset = off;
        break;
      }
      case 'Z': {
        int32_t off = 0;
        n = parse_zone(p, end, off);
        if (n && !(n == 1 && end - p > 1 && ((p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z')))) {
          f.has_offset = true;
          f.offset = off;
          break;
        }
        const char* s = p;
        while (s < end && ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))) ++s;
        if (s == p) return false;
        n = static_cast<size_t>(s - p);
        if (named_zone({p, n}, off)) {
          f.has_offset = true;
          f.offset = off;
        }
        // An unknown abbreviation is accepted and ignored (Ruby: local time).
        break;
      }
      case 'b':
      case 'B':
      case 'h': {
        int idx = 0;
        n = match_name(p, end, kMonths, 12, idx);
        if (!n) return false;
        f.month = idx + 1;
        f.has_date = true;
        break;
      }
      case 'a':
      case 'A': {
        int idx = 0;
        n = match_name(p, end, kDays, 7, idx);
        if (!n) return false;
        break;
      }
      case 'u':
      case 'w':
        n = parse_int(p, end, 1, v);
        if (!n) return false;
        break;
      case 's': {
        n = parse_int(p, end, 19, v, true);
        if (!n) return false;
        f.has_epoch = true;
        f.epoch = v;
        break;
      }
      case 'Q': {
        n = parse_int(p, end, 19, v, true);
        if (!n) return false;
        f.has_epoch = true;
        f.epoch = v / 1000;
        f.nsec = static_cast<uint32_t>((v % 1000 + 1000) % 1000) * 1000000u;
        if (v < 0 && v % 1000) f.epoch -= 1;
        break;
      }
      case 'T':
      case 'X': {
        // %T = %H:%M:%S
        int hh, mm, ss;
        if (end - p < 8 || !fixed_digits(p, 2, hh) || p[2] != ':' || !fixed_digits(p + 3, 2, mm) ||
            p[5] != ':' || !fixed_digits(p + 6, 2, ss))
          return false;
        if (hh > 24 || mm > 59 || ss > 60) return false;
        f.hour = hh;
        f.minute = mm;
        f.second = ss;
        n = 8;
        break;
      }
      case 'R': {
        int hh, mm;
        if (end - p < 5 || !fixed_digits(p, 2, hh) || p[2] != ':' || !fixed_digits(p + 3, 2, mm))
          return false;
        f.hour = hh;
        f.minute = mm;
        n = 5;
        break;
      }
      case 'F': {
        Fields tmp;
        const char* s = p;
        size_t k = parse_int(s, end, 5, v, true);
        if (!k) return false;
        s += k;
        tmp.year = v;
        int mo, dd;
        if (end - s < 6 || *s != '-' || !fixed_digits(s + 1, 2, mo) || s[3] != '-' ||
            !fixed_digits(s + 4, 2, dd))
          return false;
        if (mo < 1 || mo > 12 || dd < 1 || dd > 31) return false;
        f.year = tmp.year;
        f.month = mo;
        f.day = dd;
        f.has_date = true;
        n = static_cast<size_t>(s + 6 - p);
        break;
      }
      case 'D':
      case 'x': {
        int mo, dd, yy;
        if (end - p < 8 || !fixed_digits(p, 2, mo) || p[2] != '/' || !fixed_digits(p + 3, 2, dd) ||
            p[5] != '/' || !fixed_digits(p + 6, 2, yy))
          return false;
        if (mo < 1 || mo > 12 || dd < 1 || dd > 31) return false;
        f.month = mo;
        f.day = dd;
        f.year = yy < 69 ? 2000 + yy : 1900 + yy;
        f.has_date = true;
        n = 8;
        break;
      }
      case 'n':
      case 't':
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n')) ++p;
        n = 0;
        break;
      case '%':
        if (p >= end || *p != '%') return false;
        n = 1;
        break;
      default:
        return false;
    }
    p += n;
  }
  return p == end;
}

// A format ending in a literal Z (the daemonset image's `%Y-%m-%dT%H:%M:%S.%NZ`) describes UTC
// stamps. Fluentd matches the Z as a plain character and interprets the time in the local zone,
// which is only right on nodes running in UTC; we read such stamps as UTC (documented).
bool literal_utc_suffix(std::string_view fmt) {
  return !fmt.empty() && fmt.back() == 'Z' && (fmt.size() < 2 || fmt[fmt.size() - 2] != '%');
}

int64_t current_year() {
  EventTime t = now();
  return civil_from_days(t.sec >= 0 ? t.sec / 86400 : (t.sec - 86399) / 86400).year;
}

// Lenient ISO 8601 for an empty format (Ruby Time.parse): date, T or space, time, optional
// fraction, optional zone (with or without a space before it).
bool parse_iso_lenient(std::string_view text, Fields& f) {
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end && *p == ' ') ++p;
  while (end > p && end[-1] == ' ') --end;
  int64_t y = 0;
  size_t n = parse_int(p, end, 4, y);
  if (n != 4) return false;
  p += n;
  if (p >= end || (*p != '-' && *p != '/')) return false;
  char sep = *p++;
  int mo, dd;
  if (end - p < 5 || !fixed_digits(p, 2, mo) || p[2] != sep || !fixed_digits(p + 3, 2, dd)) return false;
  p += 5;
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31) return false;
  f.year = y;
  f.month = mo;
  f.day = dd;
  f.has_date = true;
  if (p == end) return true;
  if (*p != 'T' && *p != 't' && *p != ' ') return false;
  ++p;
  int hh, mi, ss = 0;
  if (end - p < 5 || !fixed_digits(p, 2, hh) || p[2] != ':' || !fixed_digits(p + 3, 2, mi)) return false;
  p += 5;
  if (p < end && *p == ':') {
    if (end - p < 3 || !fixed_digits(p + 1, 2, ss)) return false;
    p += 3;
  }
  if (hh > 24 || mi > 59 || ss > 60) return false;
  f.hour = hh;
  f.minute = mi;
  f.second = ss;
  if (p < end && (*p == '.' || *p == ',')) {
    ++p;
    size_t k = parse_fraction(p, end, f.nsec);
    if (!k) return false;
    p += k;
  }
  while (p < end && *p == ' ') ++p;
  if (p == end) return true;
  int32_t off = 0;
  n = parse_zone(p, end, off);
  if (n) {
    f.has_offset = true;
    f.offset = off;
    p += n;
    return p == end;
  }
  const char* s = p;
  while (s < end && ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))) ++s;
  if (s != end || s == p) return false;
  if (named_zone({p, static_cast<size_t>(s - p)}, off)) {
    f.has_offset = true;
    f.offset = off;
  }
  return true;
}

// Parses seconds since the epoch, with an optional fraction ("1714564800.123").
bool parse_epoch(std::string_view text, bool allow_fraction, EventTime& out) {
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end && *p == ' ') ++p;
  while (end > p && end[-1] == ' ') --end;
  int64_t v = 0;
  bool neg = false;
  if (p < end && (*p == '-' || *p == '+')) {
    neg = *p == '-';
    ++p;
  }
  const char* d = p;
  while (p < end && digit(*p) && p - d < 18) v = v * 10 + (*p++ - '0');
  if (p == d && !(allow_fraction && p < end && *p == '.')) return false;
  uint32_t nsec = 0;
  if (p < end && *p == '.' && allow_fraction) {
    ++p;
    p += parse_fraction(p, end, nsec);
  }
  if (allow_fraction && p < end && (*p == 'e' || *p == 'E')) {
    // Exponent form: fall back to strtod.
    std::string s(text);
    char* e = nullptr;
    double x = std::strtod(s.c_str(), &e);
    if (!e || *e != '\0') return false;
    if (!(x > -9.2e18 && x < 9.2e18)) return false;  // beyond int64 seconds (or inf): invalid
    double fl = x < 0 ? -static_cast<double>(static_cast<int64_t>(-x) + 1) : static_cast<double>(static_cast<int64_t>(x));
    if (x >= 0) fl = static_cast<double>(static_cast<int64_t>(x));
    out.sec = static_cast<int64_t>(fl);
    out.nsec = static_cast<uint32_t>((x - fl) * 1e9);
    out.integer = false;
    return true;
  }
  if (p != end) return false;
  if (neg) {
    if (nsec) {
      out.sec = -v - 1;
      out.nsec = 1000000000u - nsec;
    } else {
      out.sec = -v;
      out.nsec = 0;
    }
  } else {
    out.sec = v;
    out.nsec = nsec;
  }
  out.integer = false;
  return true;
}

// --- formatting helpers -------------------------------------------------------------------------

struct Broken {
  int64_t year;
  unsigned month, day, hour, minute, second, wday, yday;
  int32_t offset;
};

Broken break_down(int64_t sec, int32_t offset) {
  int64_t local = sec + offset;
  int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
  int64_t rem = local - days * 86400;
  Civil c = civil_from_days(days);
  Broken b;
  b.year = c.year;
  b.month = c.month;
  b.day = c.day;
  b.hour = static_cast<unsigned>(rem / 3600);
  b.minute = static_cast<unsigned>(rem / 60 % 60);
  b.second = static_cast<unsigned>(rem % 60);
  b.wday = static_cast<unsigned>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  b.yday = static_cast<unsigned>(days - days_from_civil(c.year, 1, 1));
  b.offset = offset;
  return b;
}

void put_num(std::string& out, int64_t v, int width, char pad = '0') {
  char buf[24];
  bool neg = v < 0;
  uint64_t u = neg ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u);
  if (neg) out.push_back('-');
  for (int i = n; i < width; ++i) out.push_back(pad);
  while (n) out.push_back(buf[--n]);
}

void put_frac(std::string& out, uint32_t nsec, int digits) {
  char buf[9];
  uint32_t v = nsec;
  for (int i = 8; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  if (digits > 9) {
    out.append(buf, 9);
    out.append(static_cast<size_t>(digits - 9), '0');
  } else {
    out.append(buf, static_cast<size_t>(digits));
  }
}

void put_offset(std::string& out, int32_t off, bool colon) {
  out.push_back(off < 0 ? '-' : '+');
  int32_t a = off < 0 ? -off : off;
  put_num(out, a / 3600, 2);
  if (colon) out.push_back(':');
  put_num(out, a / 60 % 60, 2);
}

}  // namespace

// --- public API ---------------------------------------------------------------------------------

bool parse_rfc3339(std::string_view text, EventTime& out) {
  const char* p = text.data();
  const size_t len = text.size();
  // YYYY-MM-DDTHH:MM:SS = 19 bytes, plus at least 1 for the zone.
  if (len < 20) return false;
  // Consecutive stamps of a log mostly share their second: the validated
  // `YYYY-MM-DDTHH:MM:SS` of the previous call (per thread) and its seconds are reused.
  struct PrefixCache {
    uint64_t a = 0, b = 0;
    uint32_t c = 0;
    int64_t seconds = 0;
    bool valid = false;
  };
  static thread_local PrefixCache cache;
  uint64_t a, b;
  uint32_t c;
  std::memcpy(&a, p, 8);
  std::memcpy(&b, p + 8, 8);
  std::memcpy(&c, p + 15, 4);
  int64_t local_seconds;
  if (cache.valid && a == cache.a && b == cache.b && c == cache.c) {
    local_seconds = cache.seconds;
  } else {
    int y, mo, d, h, mi, s;
    if (!fixed_digits(p, 4, y) || p[4] != '-' || !fixed_digits(p + 5, 2, mo) || p[7] != '-' ||
        !fixed_digits(p + 8, 2, d) || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') ||
        !fixed_digits(p + 11, 2, h) || p[13] != ':' || !fixed_digits(p + 14, 2, mi) || p[16] != ':' ||
        !fixed_digits(p + 17, 2, s))
      return false;
    if (mo < 1 || mo > 12 || d < 1 || d > static_cast<int>(days_in_month(y, static_cast<unsigned>(mo))) ||
        h > 23 || mi > 59 || s > 60)
      return false;
    int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    local_seconds = days * 86400 + h * 3600 + mi * 60 + s;
    cache = PrefixCache{a, b, c, local_seconds, true};
  }
  const char* q = p + 19;
  const char* end = p + len;
  uint32_t nsec = 0;
  if (*q == '.' || *q == ',') {
    ++q;
    size_t n = parse_fraction(q, end, nsec);
    if (n == 0) return false;
    q += n;
  }
  if (q >= end) return false;
  int32_t off = 0;
  size_t zn = parse_zone(q, end, off);
  if (zn == 0 || q + zn != end) return false;
  out.sec = local_seconds - off;
  out.nsec = nsec;
  out.integer = false;
  return true;
}

TimeParser::TimeParser(std::string format, Type type, bool utc, std::string timezone)
    : format_(std::move(format)), type_(type), utc_(utc) {
  if (!timezone.empty()) {
    int32_t off = 0;
    size_t n = parse_zone(timezone.data(), timezone.data() + timezone.size(), off);
    if (n == timezone.size()) {
      has_offset_ = true;
      offset_seconds_ = off;
    } else if (timezone == "localtime") {
      // explicit local time
    } else {
      throw std::invalid_argument("unsupported timezone '" + timezone +
                                  "': use a fixed offset like +09:00, or UTC");
    }
  }
  if (type_ != Type::String || format_.empty()) return;
  // Validate the directives once so configuration errors surface at start-up.
  for (size_t i = 0; i < format_.size(); ++i) {
    if (format_[i] != '%') continue;
    if (++i >= format_.size()) throw std::invalid_argument("time_format ends with '%'");
    while (i < format_.size() && (format_[i] >= '0' && format_[i] <= '9')) ++i;
    if (i < format_.size() && format_[i] == ':') ++i;
    if (i >= format_.size()) throw std::invalid_argument("time_format ends inside a directive");
    static const char supported[] = "YCymdejHkIlMSNLpPzZbBhaAuwsQTXRFDxnt%";
    if (!std::strchr(supported, format_[i]))
      throw std::invalid_argument(std::string("unsupported time_format directive %") + format_[i]);
  }
}

bool TimeParser::parse(std::string_view text, EventTime& out) const {
  if (type_ == Type::Float) return parse_epoch(text, true, out);
  if (type_ == Type::Unixtime) {
    // Fluentd's unixtime type takes the integer part (to_i) of the value.
    EventTime t;
    if (!parse_epoch(text, true, t)) return false;
    out.sec = t.sec;
    out.nsec = 0;
    out.integer = false;
    return true;
  }
  Fields f;
  if (format_.empty()) {
    if (parse_rfc3339(text, out)) return true;
    if (!parse_iso_lenient(text, f)) return false;
  } else {
    if (!strptime_fields(format_, text, f)) return false;
  }
  if (f.has_epoch) {
    out.sec = f.epoch;
    out.nsec = f.nsec;
    out.integer = false;
    return true;
  }
  int64_t year = f.year == INT64_MIN ? current_year() : f.year;
  int hour = f.hour;
  if (f.hour12 >= 0) hour = f.hour12 % 12 + (f.pm == 1 ? 12 : 0);
  else if (f.pm == 1 && hour < 12) hour += 12;
  int64_t days;
  if (f.yday > 0 && !f.has_date) {
    days = days_from_civil(year, 1, 1) + f.yday - 1;
  } else {
    if (f.day > static_cast<int>(days_in_month(year, static_cast<unsigned>(f.month)))) return false;
    days = days_from_civil(year, static_cast<unsigned>(f.month), static_cast<unsigned>(f.day));
  }
  int64_t wall = days * 86400 + hour * 3600 + f.minute * 60 + f.second;
  int64_t sec;
  if (f.has_offset) sec = wall - f.offset;
  else if (has_offset_) sec = wall - offset_seconds_;
  else if (utc_ || literal_utc_suffix(format_)) sec = wall;
  else sec = local_to_utc(wall);
  out.sec = sec;
  out.nsec = f.nsec;
  out.integer = false;
  return true;
}

void append_time(std::string& out, EventTime t, std::string_view format, bool utc) {
  const int32_t off = utc ? 0 : local_offset_at(t.sec);
  const Broken b = break_down(t.sec, off);
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c != '%' || i + 1 >= format.size()) {
      out.push_back(c);
      continue;
    }
    size_t start = i;
    char spec = format[++i];
    int width = -1;
    if (spec >= '0' && spec <= '9') {
      width = 0;
      while (i < format.size() && format[i] >= '0' && format[i] <= '9')
        width = std::min(width * 10 + (format[i++] - '0'), 1024);  // saturated, as in strptime
      if (i >= format.size()) {
        out.append(format.substr(start));
        break;
      }
      spec = format[i];
    }
    bool colon = false;
    if (spec == ':' && i + 1 < format.size()) {
      colon = true;
      spec = format[++i];
    }
    switch (spec) {
      case 'Y': put_num(out, b.year, 4); break;
      case 'C': put_num(out, b.year / 100, 2); break;
      case 'y': put_num(out, ((b.year % 100) + 100) % 100, 2); break;
      case 'm': put_num(out, b.month, 2); break;
      case 'd': put_num(out, b.day, 2); break;
      case 'e': put_num(out, b.day, 2, ' '); break;
      case 'j': put_num(out, b.yday + 1, 3); break;
      case 'H': put_num(out, b.hour, 2); break;
      case 'k': put_num(out, b.hour, 2, ' '); break;
      case 'I': put_num(out, b.hour % 12 == 0 ? 12 : b.hour % 12, 2); break;
      case 'l': put_num(out, b.hour % 12 == 0 ? 12 : b.hour % 12, 2, ' '); break;
      case 'M': put_num(out, b.minute, 2); break;
      case 'S': put_num(out, b.second, 2); break;
      case 'N': put_frac(out, t.nsec, width > 0 ? width : 9); break;
      case 'L': put_frac(out, t.nsec, width > 0 ? width : 3); break;
      case 'z': put_offset(out, b.offset, colon); break;
      case 'Z':
        if (utc) {
          out.append("UTC");
        } else {
          time_t tt = static_cast<time_t>(t.sec);
          struct tm tm;
          if (localtime_r(&tt, &tm) && tm.tm_zone) out.append(tm.tm_zone);
        }
        break;
      case 's': put_num(out, t.sec, 1); break;
      case 'p': out.append(b.hour < 12 ? "AM" : "PM"); break;
      case 'P': out.append(b.hour < 12 ? "am" : "pm"); break;
      case 'b':
      case 'h': out.append(kMonths[b.month - 1], 3); break;
      case 'B': out.append(kMonths[b.month - 1]); break;
      case 'a': out.append(kDays[b.wday], 3); break;
      case 'A': out.append(kDays[b.wday]); break;
      case 'u': put_num(out, b.wday == 0 ? 7 : b.wday, 1); break;
      case 'w': put_num(out, b.wday, 1); break;
      case 'T':
        put_num(out, b.hour, 2);
        out.push_back(':');
        put_num(out, b.minute, 2);
        out.push_back(':');
        put_num(out, b.second, 2);
        break;
      case 'R':
        put_num(out, b.hour, 2);
        out.push_back(':');
        put_num(out, b.minute, 2);
        break;
      case 'F':
        put_num(out, b.year, 4);
        out.push_back('-');
        put_num(out, b.month, 2);
        out.push_back('-');
        put_num(out, b.day, 2);
        break;
      case 'D':
        put_num(out, b.month, 2);
        out.push_back('/');
        put_num(out, b.day, 2);
        out.push_back('/');
        put_num(out, ((b.year % 100) + 100) % 100, 2);
        break;
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case '%': out.push_back('%'); break;
      default: out.append(format.substr(start, i - start + 1)); break;
    }
  }
}

EventTime now() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  EventTime t;
  t.sec = ts.tv_sec;
  t.nsec = static_cast<uint32_t>(ts.tv_nsec);
  return t;
}

}  // namespace sluice

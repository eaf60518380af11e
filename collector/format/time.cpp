// Event time parsing (see time.h): the RFC 3339 fast path, epoch and lenient ISO 8601 stamps,
// and the zone/fraction/number readers the strptime interpreter (time_strptime.cpp) shares.
// Calendar arithmetic and the local zone offset cache are in time_calendar.h; formatting is in
// time_format.cpp.
#include "format/time.h"

#include <time.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>

#include "format/time_calendar.h"
#include "format/time_parse.h"

namespace sluice {

using namespace calendar;

namespace time_parse {

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

// The number of leading decimal digits in the 8 bytes at p (0-8) and, when there are any, their
// value. A word at a time: a fraction is read for every record of a CRI or docker log.
int leading_digits8(const char* p, uint32_t& value) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  if constexpr (std::endian::native != std::endian::little) w = __builtin_bswap64(w);
  const uint64_t x = w ^ 0x3030303030303030ull;  // digit bytes become 0-9, no other byte does
  // High bit of a byte set when it is 10 or more (no carries between bytes).
  const uint64_t over9 = (((x & 0x7f7f7f7f7f7f7f7full) + 0x7676767676767676ull) | x) & 0x8080808080808080ull;
  const int n = over9 ? std::countr_zero(over9) >> 3 : 8;
  if (n == 0) return 0;
  // Left-align the n digits (zeros before them) and combine pairs, quads, then the two halves.
  uint64_t v = x << (64 - 8 * n);
  v = (v * 10 + (v >> 8)) & 0x00ff00ff00ff00ffull;
  v = (v * 100 + (v >> 16)) & 0x0000ffff0000ffffull;
  value = static_cast<uint32_t>((v * 10000 + (v >> 32)) & 0xffffffffull);
  return n;
}

constexpr uint32_t kFractionScale[] = {1000000000, 100000000, 10000000, 1000000, 100000,
                                      10000,      1000,      100,      10,      1};

// Reads a fraction: any number of digits (Fluentd's %N/%L accept more or fewer than nominal),
// keeping nanosecond precision (digits past the 9th are dropped). Returns digits consumed.
size_t parse_fraction(const char* p, const char* end, uint32_t& nsec) {
  uint32_t v = 0;
  int n = 0;
  const char* s = p;
  if (end - p >= 8) {
    n = leading_digits8(p, v);
    s += n;
    // Eight digits: the usual ninth (Go's nanoseconds) and any further ones (dropped) follow.
    if (n == 8 && s < end && digit(*s)) {
      v = v * 10 + static_cast<uint32_t>(*s - '0');
      n = 9;
      while (++s < end && digit(*s)) {
      }
    }
  } else {
    for (; s < end && digit(*s); ++s) {
      v = v * 10 + static_cast<uint32_t>(*s - '0');
      ++n;
    }
  }
  nsec = v * kFractionScale[n];
  return static_cast<size_t>(s - p);
}

// Reads up to `max` digits (at least one), optionally signed.
size_t parse_int(const char* p, const char* end, int max, int64_t& out, bool allow_sign) {
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

}  // namespace time_parse

using namespace time_parse;

namespace {

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

// Consecutive stamps of a log mostly share their second: the validated `YYYY-MM-DDTHH:MM:SS` of
// the previous parse_rfc3339 call (per thread, as raw bytes) and its local seconds are reused.
struct PrefixCache {
  uint64_t a = 0, b = 0;  // bytes 0-7 and 8-15
  uint32_t c = 0;         // bytes 15-18
  bool valid = false;
  int64_t seconds = 0;
};
thread_local PrefixCache prefix_cache;

// Whether the 19 bytes at p are the cached `YYYY-MM-DDTHH:MM:SS`.
inline bool cached_second(const char* p) {
  uint64_t a, b;
  uint32_t c;
  std::memcpy(&a, p, 8);
  std::memcpy(&b, p + 8, 8);
  std::memcpy(&c, p + 15, 4);
  const PrefixCache& cache = prefix_cache;
  return ((a ^ cache.a) | (b ^ cache.b) | (c ^ cache.c)) == 0 && cache.valid;
}

// Reads `YYYY-MM-DDTHH:MM:SS` at p into local seconds and remembers it.
bool parse_prefix(const char* p, int64_t& local_seconds) {
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
  PrefixCache& cache = prefix_cache;
  std::memcpy(&cache.a, p, 8);
  std::memcpy(&cache.b, p + 8, 8);
  std::memcpy(&cache.c, p + 15, 4);
  cache.seconds = local_seconds;
  cache.valid = true;
  return true;
}

// parse_rfc3339 for any stamp it accepts (out of line: see parse_rfc3339).
[[gnu::noinline]] bool parse_rfc3339_general(std::string_view text, EventTime& out) {
  const char* p = text.data();
  const size_t len = text.size();
  // YYYY-MM-DDTHH:MM:SS = 19 bytes, plus at least 1 for the zone.
  if (len < 20) return false;
  int64_t local_seconds;
  if (cached_second(p))
    local_seconds = prefix_cache.seconds;
  else if (!parse_prefix(p, local_seconds))
    return false;
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
  if (*q == 'Z') {
    if (q + 1 != end) return false;
  } else {
    size_t zn = parse_zone(q, end, off);
    if (zn == 0 || q + zn != end) return false;
  }
  out.sec = local_seconds - off;
  out.nsec = nsec;
  out.integer = false;
  return true;
}

}  // namespace

// --- public API ---------------------------------------------------------------------------------

bool parse_rfc3339(std::string_view text, EventTime& out) {
  // The usual stamp, `YYYY-MM-DDTHH:MM:SS.fffffffffZ` with 7-9 digits (Go trims trailing zeros)
  // in the same second as the previous one, is read here without a call, so with no registers
  // to save; the general path takes the rest.
  const char* p = text.data();
  const size_t len = text.size();
  if (len >= 28 && len <= 30 && p[19] == '.' && p[len - 1] == 'Z' && cached_second(p)) {
    const size_t digits = len - 21;
    uint32_t v = 0;
    const int n = leading_digits8(p + 20, v);
    if (static_cast<size_t>(n) == std::min<size_t>(digits, 8) && (digits < 9 || digit(p[28]))) {
      out.sec = prefix_cache.seconds;
      out.nsec = digits == 9 ? v * 10 + static_cast<uint32_t>(p[28] - '0') : v * kFractionScale[n];
      out.integer = false;
      return true;
    }
  }
  return parse_rfc3339_general(text, out);
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

}  // namespace sluice

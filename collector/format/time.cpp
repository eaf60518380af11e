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

using rfc3339::kFractionScale;
using rfc3339::leading_digits8;

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

using rfc3339::cached_second;

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
  rfc3339::remember_second(p, local_seconds);
  return true;
}

}  // namespace

// --- public API ---------------------------------------------------------------------------------

constinit thread_local rfc3339::SecondCache rfc3339::second_cache;

// Any stamp parse_rfc3339 accepts, when its inline fast path does not take it.
bool rfc3339::parse_general(std::string_view text, EventTime& out) {
  const char* p = text.data();
  const size_t len = text.size();
  // YYYY-MM-DDTHH:MM:SS = 19 bytes, plus at least 1 for the zone.
  if (len < 20) return false;
  int64_t local_seconds;
  if (cached_second(p))
    local_seconds = rfc3339::second_cache.seconds;
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
    if (!parse_iso_lenient(text, f)) {
      // Other shapes Ruby's Time.parse reads, as logs write them: ctime (Apache's error log).
      static const char* const kCtimeShapes[] = {"%b %d %H:%M:%S.%N %Y", "%b %d %H:%M:%S %Y",
                                                 "%a %b %d %H:%M:%S.%N %Y", "%a %b %d %H:%M:%S %Y"};
      bool any = false;
      for (const char* shape : kCtimeShapes)
        if ((any = strptime_fields(shape, text, f = Fields{}))) break;
      if (!any) return false;
    }
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

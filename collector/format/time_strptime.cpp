// Ruby's strptime (Date._strptime) for the time_format of parsers: the interpreter walks the
// format against the text; time.cpp turns the fields into an event time.
#include <cstring>

#include "format/time_calendar.h"
#include "format/time_parse.h"

namespace sluice::time_parse {

using namespace calendar;

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

namespace {

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

}  // namespace

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

}  // namespace sluice::time_parse

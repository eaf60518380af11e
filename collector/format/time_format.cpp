// Event time formatting (see time.h): strftime with Fluentd's %N, %L, %3N..%9N and %:z, without
// the C library's locale and TZ lookups on every call.
#include <time.h>

#include <cstring>

#include "format/time.h"
#include "format/time_calendar.h"

namespace sluice {

using namespace calendar;

namespace {

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
    // `%-d`: Ruby's and glibc's flag for a number without padding.
    bool unpadded = false;
    if (spec == '-' && width < 0 && i + 1 < format.size()) {
      unpadded = true;
      spec = format[++i];
    }
    auto num = [&](int64_t v, int digits, char pad = '0') { put_num(out, v, unpadded ? 1 : digits, pad); };
    bool colon = false;
    if (spec == ':' && i + 1 < format.size()) {
      colon = true;
      spec = format[++i];
    }
    switch (spec) {
      case 'Y': num(b.year, 4); break;
      case 'C': num(b.year / 100, 2); break;
      case 'y': num(((b.year % 100) + 100) % 100, 2); break;
      case 'm': num(b.month, 2); break;
      case 'd': num(b.day, 2); break;
      case 'e': num(b.day, 2, ' '); break;
      case 'j': num(b.yday + 1, 3); break;
      case 'H': num(b.hour, 2); break;
      case 'k': num(b.hour, 2, ' '); break;
      case 'I': num(b.hour % 12 == 0 ? 12 : b.hour % 12, 2); break;
      case 'l': num(b.hour % 12 == 0 ? 12 : b.hour % 12, 2, ' '); break;
      case 'M': num(b.minute, 2); break;
      case 'S': num(b.second, 2); break;
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
      case 's': num(t.sec, 1); break;
      case 'p': out.append(b.hour < 12 ? "AM" : "PM"); break;
      case 'P': out.append(b.hour < 12 ? "am" : "pm"); break;
      case 'b':
      case 'h': out.append(kMonths[b.month - 1], 3); break;
      case 'B': out.append(kMonths[b.month - 1]); break;
      case 'a': out.append(kDays[b.wday], 3); break;
      case 'A': out.append(kDays[b.wday]); break;
      case 'u': num(b.wday == 0 ? 7 : b.wday, 1); break;
      case 'w': num(b.wday, 1); break;
      case 'T':
        num(b.hour, 2);
        out.push_back(':');
        num(b.minute, 2);
        out.push_back(':');
        num(b.second, 2);
        break;
      case 'R':
        num(b.hour, 2);
        out.push_back(':');
        num(b.minute, 2);
        break;
      case 'F':
        num(b.year, 4);
        out.push_back('-');
        num(b.month, 2);
        out.push_back('-');
        num(b.day, 2);
        break;
      case 'D':
        num(b.month, 2);
        out.push_back('/');
        num(b.day, 2);
        out.push_back('/');
        num(((b.year % 100) + 100) % 100, 2);
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


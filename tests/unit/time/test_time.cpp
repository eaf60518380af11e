// Unit tests for collector/format/time.cpp.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <stdexcept>
#include <string>

#include "format/time.h"

namespace sluice {
namespace {

// The whole binary runs with a zone that has DST and a non-zero offset, so "local time" paths
// are really exercised (America/New_York: -05:00 winter, -04:00 summer).
const int kTzInit = [] {
  setenv("TZ", "America/New_York", 1);
  tzset();
  return 0;
}();

EventTime rfc(std::string_view s) {
  EventTime t;
  EXPECT_TRUE(parse_rfc3339(s, t)) << s;
  return t;
}

// 2024-05-01T12:00:00Z
constexpr int64_t kMay1Noon = 1714564800;

TEST(Rfc3339, Basic) {
  EventTime t = rfc("2024-05-01T12:00:00.123456789Z");
  EXPECT_EQ(t.sec, kMay1Noon);
  EXPECT_EQ(t.nsec, 123456789u);
  EXPECT_FALSE(t.integer);
}

TEST(Rfc3339, FractionDigits) {
  EXPECT_EQ(rfc("2024-05-01T12:00:00Z").nsec, 0u);
  EXPECT_EQ(rfc("2024-05-01T12:00:00.1Z").nsec, 100000000u);
  EXPECT_EQ(rfc("2024-05-01T12:00:00.113259Z").nsec, 113259000u);  // Go trims trailing zeros
  EXPECT_EQ(rfc("2024-05-01T12:00:00.1133Z").nsec, 113300000u);
  // More than 9 digits: extra precision dropped.
  EXPECT_EQ(rfc("2024-05-01T12:00:00.1234567891234Z").nsec, 123456789u);
}

TEST(Rfc3339, Offsets) {
  // fluentd-observed: +09:00 converted correctly (03:00:03.999999999 UTC).
  EventTime t = rfc("2024-05-01T12:00:03.999999999+09:00");
  EXPECT_EQ(t.sec, kMay1Noon - 9 * 3600 + 3);
  EXPECT_EQ(t.nsec, 999999999u);
  EXPECT_EQ(rfc("2024-04-13T07:59:37.505201169-10:00").sec, rfc("2024-04-13T17:59:37.505201169Z").sec);
  EXPECT_EQ(rfc("2019-05-07T18:57:52.904275089+00:00").sec, rfc("2019-05-07T18:57:52.904275089Z").sec);
  EXPECT_EQ(rfc("2024-05-01T12:00:00+0530").sec, kMay1Noon - 5 * 3600 - 30 * 60);
  // Lowercase z (Fluent Bit's docker test data).
  EXPECT_EQ(rfc("2021-02-01T16:45:03.01231z").nsec, 12310000u);
}

TEST(Rfc3339, Rejects) {
  EventTime t;
  for (std::string_view bad :
       {"", "2024-05-01", "2024-05-01T12:00:00", "2024-05-01T12:00:00.Z", "2024-13-01T12:00:00Z",
        "2024-02-30T12:00:00Z", "2024-05-01T25:00:00Z", "2024-05-01T12:00:00Zx", "qwerty",
        "2024-05-01T12:00:00+9", "this line is not cri", "2024-05-01T12:00:00.123+09:0"}) {
    EXPECT_FALSE(parse_rfc3339(bad, t)) << bad;
  }
  EXPECT_TRUE(parse_rfc3339("2024-02-29T12:00:00Z", t));  // leap year
  EXPECT_FALSE(parse_rfc3339("2023-02-29T12:00:00Z", t));
}

TEST(Rfc3339, SameSecondAsThePreviousStamp) {
  // After a first stamp, the next ones of that second take the short path (7-9 digits and Z);
  // the rest must read as they would on their own.
  EventTime t;
  EXPECT_EQ(rfc("2024-05-01T12:00:00.000519722Z").nsec, 519722u);
  EXPECT_EQ(rfc("2024-05-01T12:00:00.00297481Z").nsec, 2974810u);
  EXPECT_EQ(rfc("2024-05-01T12:00:00.0033804Z").nsec, 3380400u);
  EXPECT_EQ(rfc("2024-05-01T12:00:00.123456Z").nsec, 123456000u);
  EXPECT_EQ(rfc("2024-05-01T12:00:00.1234567891Z").nsec, 123456789u);
  EXPECT_EQ(rfc("2024-05-01T12:00:00.123456789z").nsec, 123456789u);
  EXPECT_EQ(rfc("2024-05-01T12:00:00,123456789Z").nsec, 123456789u);
  EXPECT_EQ(rfc("2024-05-01T12:00:00.12345678+01:00").sec, kMay1Noon - 3600);
  EXPECT_EQ(rfc("2024-05-01T12:00:00.999999999Z").sec, kMay1Noon);
  EXPECT_EQ(rfc("2024-05-01T12:00:01.999999999Z").sec, kMay1Noon + 1);
  for (std::string_view bad : {"2024-05-01T12:00:01.12345a789Z", "2024-05-01T12:00:01.1234567 9Z",
                               "2024-05-01T12:00:01.123456789ZZ", "2024-05-01T12:00:01.12345678Z9",
                               "2024-05-01T12:00:01.1234567890Y"})
    EXPECT_FALSE(parse_rfc3339(bad, t)) << bad;
}

TEST(Rfc3339, PreEpochAndFarFuture) {
  EXPECT_EQ(rfc("1970-01-01T00:00:00Z").sec, 0);
  EXPECT_EQ(rfc("1969-12-31T23:59:59Z").sec, -1);
  EXPECT_EQ(rfc("2100-03-01T00:00:00Z").sec, 4107542400);
}

TEST(TimeParser, CriImageDefaultZLiteral) {
  // The daemonset image default: the Z is a literal, so +09:00 is rejected (fluentd-observed 3.5).
  TimeParser p("%Y-%m-%dT%H:%M:%S.%NZ");
  EventTime t;
  ASSERT_TRUE(p.parse("2024-05-01T12:00:00.123456789Z", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  EXPECT_EQ(t.nsec, 123456789u);
  EXPECT_FALSE(p.parse("2024-05-01T12:00:03.999999999+09:00", t));
  // %N takes any number of digits.
  ASSERT_TRUE(p.parse("2024-05-01T12:00:00.1Z", t));
  EXPECT_EQ(t.nsec, 100000000u);
}

TEST(TimeParser, CriPluginDefault) {
  TimeParser p("%Y-%m-%dT%H:%M:%S.%L%z");
  EventTime t;
  ASSERT_TRUE(p.parse("2024-05-01T12:00:00.123456789Z", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  EXPECT_EQ(t.nsec, 123456789u);  // %L reads all digits, as observed
  ASSERT_TRUE(p.parse("2024-05-01T12:00:03.999999999+09:00", t));
  EXPECT_EQ(t.sec, kMay1Noon - 9 * 3600 + 3);
  EXPECT_EQ(t.nsec, 999999999u);
  ASSERT_TRUE(p.parse("2024-05-01T12:00:00.500+0100", t));
  EXPECT_EQ(t.sec, kMay1Noon - 3600);
  EXPECT_EQ(t.nsec, 500000000u);
}

TEST(TimeParser, ColonZ) {
  TimeParser p("%Y-%m-%dT%H:%M:%S.%N%:z");
  EventTime t;
  ASSERT_TRUE(p.parse("2024-05-01T12:00:00.25+02:00", t));
  EXPECT_EQ(t.sec, kMay1Noon - 7200);
  EXPECT_EQ(t.nsec, 250000000u);
  ASSERT_TRUE(p.parse("2024-05-01T12:00:00.25Z", t));
  EXPECT_EQ(t.sec, kMay1Noon);
}

TEST(TimeParser, LocalTimeByDefault) {
  // salt.conf: no zone in the text -> local time (America/New_York, EDT = -04:00 in May).
  TimeParser p("%Y-%m-%d %H:%M:%S");
  EventTime t;
  ASSERT_TRUE(p.parse("2024-05-01 08:00:00", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  EXPECT_EQ(t.nsec, 0u);
  // Winter: EST = -05:00.
  ASSERT_TRUE(p.parse("2024-01-15 07:00:00", t));
  EXPECT_EQ(t.sec, rfc("2024-01-15T12:00:00Z").sec);
  EXPECT_FALSE(p.parse("2024-05-01 08:00", t));
  EXPECT_FALSE(p.parse("2024-05-01 08:00:00 trailing", t));
}

TEST(TimeParser, LocalTimeMatchesMktime) {
  TimeParser p("%Y-%m-%d %H:%M:%S");
  // Across a year, including the DST transitions, compare with mktime.
  for (int day = 0; day < 365; day += 3) {
    for (int hour : {0, 1, 2, 3, 12, 23}) {
      struct tm tm {};
      tm.tm_year = 2024 - 1900;
      tm.tm_mon = 0;
      tm.tm_mday = 1 + day;
      tm.tm_hour = hour;
      tm.tm_min = 30;
      tm.tm_isdst = -1;
      time_t ref = mktime(&tm);  // normalises tm
      char buf[64];
      strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
      EventTime t;
      ASSERT_TRUE(p.parse(buf, t)) << buf;
      EXPECT_EQ(t.sec, static_cast<int64_t>(ref)) << buf;
    }
  }
}

TEST(TimeParser, UtcAndFixedTimezone) {
  EventTime t;
  TimeParser utc("%Y-%m-%d %H:%M:%S", TimeParser::Type::String, true);
  ASSERT_TRUE(utc.parse("2024-05-01 12:00:00", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  TimeParser tokyo("%Y-%m-%d %H:%M:%S", TimeParser::Type::String, false, "+09:00");
  ASSERT_TRUE(tokyo.parse("2024-05-01 21:00:00", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  TimeParser tokyo2("%Y-%m-%d %H:%M:%S", TimeParser::Type::String, false, "+0900");
  ASSERT_TRUE(tokyo2.parse("2024-05-01 21:00:00", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  // A zone in the text wins over the configured one.
  TimeParser z("%Y-%m-%d %H:%M:%S %z", TimeParser::Type::String, false, "+09:00");
  ASSERT_TRUE(z.parse("2024-05-01 12:00:00 +0000", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  EXPECT_THROW(TimeParser("%Y", TimeParser::Type::String, false, "Mars/Olympus"), std::invalid_argument);
}

TEST(TimeParser, AuditFormatWithT) {
  // kube-apiserver-audit.conf: %Y-%m-%dT%T.%L%Z
  TimeParser p("%Y-%m-%dT%T.%L%Z");
  EventTime t;
  ASSERT_TRUE(p.parse("2024-05-01T12:00:00.123Z", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  EXPECT_EQ(t.nsec, 123000000u);
  ASSERT_TRUE(p.parse("2024-05-01T12:00:00.123456789Z", t));
  EXPECT_EQ(t.nsec, 123456789u);
  ASSERT_TRUE(p.parse("2024-05-01T14:00:00.5+02:00", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  ASSERT_TRUE(p.parse("2024-05-01T12:00:00.5UTC", t));
  EXPECT_EQ(t.sec, kMay1Noon);
}

TEST(TimeParser, KlogNoYear) {
  // glog/klog: "0501 12:00:00.123456" -> current year, local time.
  TimeParser p("%m%d %H:%M:%S.%N", TimeParser::Type::String, true);
  EventTime t;
  ASSERT_TRUE(p.parse("0501 12:00:00.123456", t));
  EventTime n = now();
  char year[8];
  time_t nt = n.sec;
  struct tm tm;
  gmtime_r(&nt, &tm);
  strftime(year, sizeof year, "%Y", &tm);
  EventTime expect = rfc(std::string(year) + "-05-01T12:00:00.123456Z");
  EXPECT_EQ(t.sec, expect.sec);
  EXPECT_EQ(t.nsec, 123456000u);
}

TEST(TimeParser, ApacheFormat) {
  TimeParser p("%d/%b/%Y:%H:%M:%S %z");
  EventTime t;
  ASSERT_TRUE(p.parse("01/May/2024:14:00:00 +0200", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  ASSERT_TRUE(p.parse("01/may/2024:12:00:00 -0000", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  EXPECT_FALSE(p.parse("01/Mai/2024:12:00:00 +0000", t));
}

TEST(TimeParser, MiscDirectives) {
  EventTime t;
  ASSERT_TRUE(TimeParser("%s").parse("1714564800", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  ASSERT_TRUE(TimeParser("%b %e %H:%M:%S %Y", TimeParser::Type::String, true).parse("May  1 12:00:00 2024", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  ASSERT_TRUE(TimeParser("%F %I:%M:%S %p", TimeParser::Type::String, true).parse("2024-05-01 12:00:00 PM", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  ASSERT_TRUE(TimeParser("%F %I:%M:%S %p", TimeParser::Type::String, true).parse("2024-05-02 12:00:00 AM", t));
  EXPECT_EQ(t.sec, kMay1Noon + 12 * 3600);
  ASSERT_TRUE(TimeParser("%a, %d %b %Y %T %z").parse("Wed, 01 May 2024 12:00:00 +0000", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  ASSERT_TRUE(TimeParser("%Y%%%m", TimeParser::Type::String, true).parse("2024%05", t));
  EXPECT_THROW(TimeParser("%Y-%m-%d %Ez"), std::invalid_argument);
  EXPECT_THROW(TimeParser("%Y %"), std::invalid_argument);
}

TEST(TimeParser, FloatAndUnixtime) {
  EventTime t;
  TimeParser f("", TimeParser::Type::Float);
  ASSERT_TRUE(f.parse("1714564800.123456", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  EXPECT_EQ(t.nsec, 123456000u);
  ASSERT_TRUE(f.parse("1714564800", t));
  EXPECT_EQ(t.nsec, 0u);
  ASSERT_TRUE(f.parse("-1.5", t));
  EXPECT_EQ(t.sec, -2);
  EXPECT_EQ(t.nsec, 500000000u);
  EXPECT_FALSE(f.parse("12abc", t));
  EXPECT_FALSE(f.parse("", t));
  TimeParser u("", TimeParser::Type::Unixtime);
  ASSERT_TRUE(u.parse("1714564800", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  EXPECT_EQ(t.nsec, 0u);
  ASSERT_TRUE(u.parse("1714564800.9", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  EXPECT_EQ(t.nsec, 0u);
  EXPECT_FALSE(u.parse("qwerty", t));
}

TEST(TimeParser, EmptyFormatIsIso8601) {
  TimeParser p;
  EXPECT_TRUE(p.empty_format());
  EventTime t;
  ASSERT_TRUE(p.parse("2024-05-01T12:00:00.5Z", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  EXPECT_EQ(t.nsec, 500000000u);
  ASSERT_TRUE(p.parse("2024-05-01 12:00:00 +00:00", t));
  EXPECT_EQ(t.sec, kMay1Noon);
  ASSERT_TRUE(p.parse("2024-05-01 08:00:00", t));  // local (EDT)
  EXPECT_EQ(t.sec, kMay1Noon);
  EXPECT_FALSE(p.parse("not a time", t));
  EXPECT_FALSE(p.parse("", t));
}

TEST(AppendTime, FluentdStdoutFormat) {
  std::string s;
  EventTime t{kMay1Noon, 123456789, false};
  append_time(s, t, "%Y-%m-%d %H:%M:%S.%N %z", true);
  EXPECT_EQ(s, "2024-05-01 12:00:00.123456789 +0000");
  s.clear();
  append_time(s, t, "%Y-%m-%d %H:%M:%S.%N %z");  // local: EDT
  EXPECT_EQ(s, "2024-05-01 08:00:00.123456789 -0400");
  s.clear();
  append_time(s, EventTime{kMay1Noon, 0, true}, "%Y-%m-%d %H:%M:%S.%N %z", true);
  EXPECT_EQ(s, "2024-05-01 12:00:00.000000000 +0000");
}

TEST(AppendTime, MinusFlagDropsPadding) {
  std::string s;
  append_time(s, EventTime{kMay1Noon - 7200, 0, false}, "%-d/%-m/%Y %-H:%M %-I%p|%e|%d", true);
  EXPECT_EQ(s, "1/5/2024 10:00 10AM| 1|01");
}

TEST(AppendTime, FractionsAndColonZ) {
  std::string s;
  EventTime t{kMay1Noon, 123456789, false};
  append_time(s, t, "%Y-%m-%dT%H:%M:%S.%L%:z|%3N|%6N|%9N|%N", true);
  EXPECT_EQ(s, "2024-05-01T12:00:00.123+00:00|123|123456|123456789|123456789");
  s.clear();
  append_time(s, t, "%Y-%m-%dT%H:%M:%S%:z");  // out_file's default, local
  EXPECT_EQ(s, "2024-05-01T08:00:00-04:00");
  s.clear();
  append_time(s, t, "%Y.%m.%d", true);  // logstash index date
  EXPECT_EQ(s, "2024.05.01");
  s.clear();
  append_time(s, EventTime{rfc("2024-01-15T12:00:00Z").sec, 0, false}, "%z %Z");
  EXPECT_EQ(s, "-0500 EST");
}

TEST(AppendTime, MatchesStrftime) {
  const char* fmts[] = {"%Y-%m-%d %H:%M:%S", "%a %b %e %j %I %p %y %C %u %w", "%A %B %D %F %T %R %%"};
  for (int64_t sec : {int64_t{0}, int64_t{-1}, int64_t{951782400}, kMay1Noon, int64_t{4107542399},
                      int64_t{1710054000}, int64_t{1730613600}}) {
    for (const char* f : fmts) {
      for (bool utc : {true, false}) {
        std::string s;
        append_time(s, EventTime{sec, 0, false}, f, utc);
        time_t tt = sec;
        struct tm tm;
        if (utc) gmtime_r(&tt, &tm);
        else localtime_r(&tt, &tm);
        char buf[256];
        strftime(buf, sizeof buf, f, &tm);
        EXPECT_EQ(s, buf) << f << " at " << sec << (utc ? " utc" : " local");
      }
    }
  }
}

TEST(AppendTime, RoundTrip) {
  TimeParser p("%Y-%m-%dT%H:%M:%S.%N%:z");
  for (int64_t sec = -86400 * 400; sec < 86400LL * 365 * 60; sec += 86400 * 37 + 3661) {
    EventTime t{sec, 987654321, false};
    std::string s;
    append_time(s, t, "%Y-%m-%dT%H:%M:%S.%N%:z");
    EventTime back;
    ASSERT_TRUE(p.parse(s, back)) << s;
    EXPECT_EQ(back.sec, sec) << s;
    EXPECT_EQ(back.nsec, 987654321u);
  }
}

TEST(Now, IsCurrent) {
  EventTime a = now();
  time_t b = time(nullptr);
  EXPECT_LE(std::abs(a.sec - static_cast<int64_t>(b)), 2);
  EXPECT_LT(a.nsec, 1000000000u);
}

}  // namespace
}  // namespace sluice

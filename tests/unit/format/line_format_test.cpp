#include "format/line_format.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

using namespace sluice;

namespace {

std::string fmt(const std::string& f, EventTime t, bool utc = true) {
  CachedTimeFormat c(f, utc);
  std::string out;
  c.append(out, t);
  out += '|';
  c.append(out, t);  // from the cache
  return out;
}

}  // namespace

TEST(CachedTimeFormat, FractionsAndCache) {
  setenv("TZ", "UTC", 1);
  tzset();
  EventTime t{1714564800, 123456789};
  EXPECT_EQ(fmt("%Y-%m-%d %H:%M:%S.%N %z", t),
            "2024-05-01 12:00:00.123456789 +0000|2024-05-01 12:00:00.123456789 +0000");
  EXPECT_EQ(fmt("%H:%M:%S.%L", t), "12:00:00.123|12:00:00.123");
  EXPECT_EQ(fmt("%S.%6N!", t), "00.123456!|00.123456!");
  EXPECT_EQ(fmt("%Y-%m-%dT%H:%M:%S%:z", t, false),
            "2024-05-01T12:00:00+00:00|2024-05-01T12:00:00+00:00");
  CachedTimeFormat c("%S.%3N", true);
  std::string out;
  c.append(out, {1714564801, 5000000});
  c.append(out, {1714564801, 6000000});
  c.append(out, {1714564802, 0});
  EXPECT_EQ(out, "01.00501.00602.000");
}

TEST(LineFormat, RubyInspectAndToS) {
  Batch b;
  b.begin_record({1, 0});
  b.add_field("s", Value::of_string("a\"b\\#{x}\n\x01\x7f\xff\xc3\xa9"));
  b.add_field("n", Value::null());
  b.add_field("f", Value::of_float(1e20));
  b.add_field("j", Value::of_json(R"({"a":[1,null],"b":"x"})"));
  std::string out;
  append_ruby_inspect(out, b, b.records[0]);
  EXPECT_EQ(out, "{\"s\"=>\"a\\\"b\\\\\\#{x}\\n\\u0001\\x7F\\xFF\xc3\xa9\", \"n\"=>nil, "
                 "\"f\"=>1.0e+20, \"j\"=>{\"a\"=>[1, nil], \"b\"=>\"x\"}}");
  out.clear();
  append_ruby_to_s(out, Value::null());
  append_ruby_to_s(out, Value::of_bool(true));
  append_ruby_to_s(out, Value::of_float(100.0));
  EXPECT_EQ(out, "true100.0");
}

TEST(LineFormat, OutFileOptions) {
  setenv("TZ", "UTC", 1);
  tzset();
  ConfigSection s{"format", "", {"t.conf", 1},
                  {{"@type", "out_file", {}}, {"delimiter", "COMMA", {}}, {"output_tag", "false", {}}},
                  {}};
  LineFormat f = LineFormat::configure(&s, "out_file");
  Batch b;
  b.begin_record({1714564800, 0});
  b.add_field("c", Value::of_string("\x1f"));
  std::string out;
  f.append(out, "tag", b, b.records[0]);
  EXPECT_EQ(out, "2024-05-01T12:00:00+00:00,{\"c\":\"\\u001F\"}\n");
  ConfigSection bad{"format", "", {"t.conf", 1}, {{"@type", "stdout", {}}}, {}};
  EXPECT_THROW(LineFormat::configure(&bad, "out_file"), ConfigException);
}

// Without time_format, Fluentd's TimeFormatter writes Time#iso8601: `Z` in UTC, `+00:00` in a
// local time zone that happens to be UTC.
TEST(LineFormat, OutFileUtcTimesEndInZ) {
  setenv("TZ", "UTC", 1);
  tzset();
  Batch b;
  b.begin_record({1714564800, 0});
  b.add_field("a", Value::of_string("x"));
  auto line = [&](const char* key, const char* value) {
    ConfigSection s{"format", "", {"t.conf", 1}, {{"@type", "out_file", {}}, {key, value, {}}}, {}};
    LineFormat f = LineFormat::configure(&s, "out_file");
    std::string out;
    f.append(out, "t", b, b.records[0]);
    return out;
  };
  EXPECT_EQ(line("utc", "true"), "2024-05-01T12:00:00Z\tt\t{\"a\":\"x\"}\n");
  EXPECT_EQ(line("localtime", "false"), "2024-05-01T12:00:00Z\tt\t{\"a\":\"x\"}\n");
  EXPECT_EQ(line("localtime", "true"), "2024-05-01T12:00:00+00:00\tt\t{\"a\":\"x\"}\n");
}

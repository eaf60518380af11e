#include <gtest/gtest.h>

#include <ctime>

#include "../parser_none/parser_test_util.h"

namespace sluice {
namespace {

using test::ParserHarness;

std::vector<std::string> keys(std::initializer_list<const char*> k) { return {k.begin(), k.end()}; }

int64_t this_year_utc(int mon, int day, int h, int m, int s) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm));
}

TEST(ParserSyslog, Rfc3164Default) {
  ParserHarness h("syslog", {{"utc", "true"}});
  h.feed({"Feb  5 17:32:18 myhost sshd[1234]: Accepted publickey for core",
          "Feb 15 07:01:02 myhost kernel: oops: something",
          "not syslog"});
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.keys(0), keys({"host", "ident", "pid", "message"}));
  EXPECT_EQ(h.str(0, "host"), "myhost");
  EXPECT_EQ(h.str(0, "ident"), "sshd");
  EXPECT_EQ(h.str(0, "pid"), "1234");
  EXPECT_EQ(h.str(0, "message"), "Accepted publickey for core");
  EXPECT_EQ(h.rec(0).time.sec, this_year_utc(2, 5, 17, 32, 18));
  EXPECT_EQ(h.keys(1), keys({"host", "ident", "message"}));
  EXPECT_EQ(h.str(1, "message"), "oops: something");
  EXPECT_EQ(h.rec(1).time.sec, this_year_utc(2, 15, 7, 1, 2));
  EXPECT_EQ(h.keys(2), keys({"message", "_parse_error"}));
  EXPECT_EQ(h.str(2, "message"), "not syslog");
  EXPECT_EQ(h.errors(), 1u);
}

TEST(ParserSyslog, Rfc3164WithPriorityAndKeepTime) {
  ParserHarness h("syslog", {{"with_priority", "true"}, {"keep_time_key", "true"}, {"utc", "true"}});
  h.feed({"<6>Feb 28 12:00:00 192.168.0.1 fluentd[11111]: [error] Syslog test", "Feb 28 12:00:00 h a: no pri"});
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.keys(0), keys({"pri", "time", "host", "ident", "pid", "message"}));
  const Value* pri = h.find(0, "pri");
  ASSERT_NE(pri, nullptr);
  EXPECT_EQ(pri->kind, ValueKind::Int);
  EXPECT_EQ(pri->integer, 6);
  EXPECT_EQ(h.str(0, "time"), "Feb 28 12:00:00");
  EXPECT_EQ(h.str(0, "message"), "[error] Syslog test");
  EXPECT_EQ(h.rec(0).time.sec, this_year_utc(2, 28, 12, 0, 0));
  EXPECT_NE(h.find(1, "_parse_error"), nullptr);
  EXPECT_EQ(h.errors(), 1u);
}

TEST(ParserSyslog, Rfc5424) {
  ParserHarness h("syslog", {{"message_format", "rfc5424"}, {"with_priority", "true"}});
  h.feed({"<16>1 2017-02-06T13:14:15.003Z 192.168.0.1 fluentd 11111 ID24224 [exampleSDID@20224 iut=\"3\"] Hi, from Fluentd!",
          "<16>1 2017-02-06T13:14:15Z 192.168.0.1 fluentd - - - no subseconds",
          "Feb  5 17:32:18 myhost sshd: rfc3164 here"});
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.keys(0), keys({"pri", "host", "ident", "pid", "msgid", "extradata", "message"}));
  EXPECT_EQ(h.str(0, "pid"), "11111");
  EXPECT_EQ(h.str(0, "msgid"), "ID24224");
  EXPECT_EQ(h.str(0, "extradata"), "[exampleSDID@20224 iut=\"3\"]");
  EXPECT_EQ(h.str(0, "message"), "Hi, from Fluentd!");
  EXPECT_EQ(h.rec(0).time.sec, 1486386855);
  EXPECT_EQ(h.rec(0).time.nsec, 3000000u);
  EXPECT_EQ(h.str(1, "extradata"), "-");
  EXPECT_EQ(h.rec(1).time.sec, 1486386855);
  EXPECT_NE(h.find(2, "_parse_error"), nullptr);
  EXPECT_EQ(h.errors(), 1u);
}

TEST(ParserSyslog, Rfc5424WithoutPriority) {
  ParserHarness h("syslog", {{"message_format", "rfc5424"}});
  h.feed1("2017-02-06T13:14:15.003Z 192.168.0.1 fluentd - - - Hi");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.keys(0), keys({"host", "ident", "pid", "msgid", "extradata", "message"}));
  EXPECT_EQ(h.str(0, "message"), "Hi");
}

TEST(ParserSyslog, AutoDetectsPerLine) {
  ParserHarness h("syslog", {{"message_format", "auto"}, {"with_priority", "true"}, {"utc", "true"}});
  h.feed({"<16>1 2017-02-06T13:14:15.003Z 192.168.0.1 fluentd 11111 ID24224 - five",
          "<6>Feb 28 12:00:00 192.168.0.1 fluentd[11111]: three"});
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.str(0, "msgid"), "ID24224");
  EXPECT_EQ(h.str(0, "message"), "five");
  EXPECT_EQ(h.rec(0).time.sec, 1486386855);
  EXPECT_EQ(h.keys(1), keys({"pri", "host", "ident", "pid", "message"}));
  EXPECT_EQ(h.str(1, "message"), "three");
  EXPECT_EQ(h.rec(1).time.sec, this_year_utc(2, 28, 12, 0, 0));
  EXPECT_EQ(h.errors(), 0u);
}

TEST(ParserSyslog, StringParser) {
  ParserHarness h("syslog", {{"parser_type", "string"}, {"with_priority", "true"}, {"utc", "true"}});
  h.feed({"<6>Feb 28 12:00:00 192.168.0.1 fluentd[11111]: [error] Syslog test",
          "<6>Feb 28 12:00:00 192.168.0.1 colonless message here",
          "<6>Feb 28 12:00:00 192.168.0.1 single",
          "<6>short"});
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h.keys(0), keys({"host", "pri", "ident", "pid", "message"}));
  EXPECT_EQ(h.str(0, "ident"), "fluentd");
  EXPECT_EQ(h.str(0, "pid"), "11111");
  EXPECT_EQ(h.str(0, "message"), "[error] Syslog test");
  EXPECT_EQ(h.rec(0).time.sec, this_year_utc(2, 28, 12, 0, 0));
  EXPECT_EQ(h.str(1, "ident"), "colonless");
  EXPECT_EQ(h.str(1, "message"), "message here");
  EXPECT_EQ(h.keys(2), keys({"host", "pri", "message"}));
  EXPECT_EQ(h.str(2, "message"), "single");
  EXPECT_NE(h.find(3, "_parse_error"), nullptr);
  EXPECT_EQ(h.errors(), 1u);
}

TEST(ParserSyslog, StringParserWithoutColonlessIdent) {
  ParserHarness h("syslog", {{"parser_type", "string"}, {"support_colonless_ident", "false"}});
  h.feed1("Feb 28 12:00:00 192.168.0.1 colonless message here");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.keys(0), keys({"host", "message"}));
  EXPECT_EQ(h.str(0, "message"), "colonless message here");
}

}  // namespace
}  // namespace sluice

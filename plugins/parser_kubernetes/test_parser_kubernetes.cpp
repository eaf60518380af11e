#include <gtest/gtest.h>

#include <ctime>

#include "../parser_none/parser_test_util.h"

namespace sluice {
namespace {

using test::ParserHarness;

std::vector<std::string> keys(std::initializer_list<const char*> k) { return {k.begin(), k.end()}; }

// Seconds since the epoch of the given UTC civil time in the current year (glog has no year).
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

constexpr const char* kKubelet =
    "I0204 07:32:30.020537    3368 server.go:1048] POST /stats/container/: (13.972191ms) 200 "
    "[[Go-http-client/1.1] 10.0.0.4:54270]";

TEST(ParserKubernetes, GlogLine) {
  ParserHarness h("kubernetes", {{"utc", "true"}});
  h.feed({kKubelet, "not a glog line"});
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.keys(0), keys({"severity", "pid", "source", "message"}));
  EXPECT_EQ(h.str(0, "severity"), "I");
  EXPECT_EQ(h.str(0, "pid"), "3368");
  EXPECT_EQ(h.str(0, "source"), "server.go:1048");
  EXPECT_EQ(h.str(0, "message"), "POST /stats/container/: (13.972191ms) 200 [[Go-http-client/1.1] 10.0.0.4:54270]");
  EXPECT_EQ(h.rec(0).time.sec, this_year_utc(2, 4, 7, 32, 30));
  EXPECT_EQ(h.rec(0).time.nsec, 20537000u);
  // Unparsable lines are kept raw and counted.
  EXPECT_EQ(h.keys(1), keys({"message", "_parse_error"}));
  EXPECT_EQ(h.str(1, "message"), "not a glog line");
  EXPECT_EQ(h.errors(), 1u);
}

TEST(ParserKubernetes, KeepTimeKeyAndFixedExpression) {
  // As in parser_kubernetes.rb, a given expression is replaced by the glog one.
  ParserHarness h("kubernetes", {{"keep_time_key", "true"}, {"expression", "/(?<x>.*)/"}});
  h.feed1("E1231 23:59:59.999999       1 reflector.go:138] watch failed");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.keys(0), keys({"severity", "time", "pid", "source", "message"}));
  EXPECT_EQ(h.str(0, "time"), "1231 23:59:59.999999");
  EXPECT_EQ(h.str(0, "severity"), "E");
}

TEST(ParserKubernetes, MultilineGlogEntry) {
  ParserHarness h("multiline_kubernetes", {{"utc", "true"}});
  h.feed({"W0204 07:32:30.000001    3368 kubelet.go:100] first line",
          "  continued here",
          "  and here",
          "I0204 07:32:31.000000    3368 kubelet.go:200] second entry"});
  h.flush();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.keys(0), keys({"severity", "pid", "source", "message"}));
  EXPECT_EQ(h.str(0, "severity"), "W");
  EXPECT_EQ(h.str(0, "source"), "kubelet.go:100");
  EXPECT_EQ(h.str(0, "message"), "first line\n  continued here\n  and here");
  EXPECT_EQ(h.rec(0).time.sec, this_year_utc(2, 4, 7, 32, 30));
  EXPECT_EQ(h.str(1, "message"), "second entry");
  EXPECT_EQ(h.rec(1).time.sec, this_year_utc(2, 4, 7, 32, 31));
  EXPECT_EQ(h.errors(), 0u);
}

TEST(ParserKubernetes, MultilineUnmatchedKeptRaw) {
  ParserHarness h("multiline_kubernetes");
  h.feed({"orphan before any entry", "I0204 07:32:31.000000    3368 kubelet.go:200] ok"});
  h.flush();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.str(0, "message"), "orphan before any entry");
  EXPECT_NE(h.find(0, "_parse_error"), nullptr);
  EXPECT_EQ(h.str(1, "message"), "ok");
  EXPECT_EQ(h.errors(), 1u);
}

}  // namespace
}  // namespace sluice

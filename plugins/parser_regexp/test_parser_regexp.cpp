#include <gtest/gtest.h>

#include "../parser_none/parser_test_util.h"

namespace sluice {
namespace {

using test::ParserHarness;

std::vector<std::string> keys(std::initializer_list<const char*> k) { return {k.begin(), k.end()}; }

TEST(ParserRegexp, CriRegexpLikeFluentd) {
  // fluentd-observed 2.2: the regexp form of CRI parsing; the time key is removed.
  ParserHarness h("regexp", {{"expression", "/^(?<time>.+) (?<stream>stdout|stderr) (?<logtag>[^ ]*) (?<log>.*)$/"},
                             {"time_format", "%Y-%m-%dT%H:%M:%S.%N%:z"}});
  h.feed({"2024-05-01T12:00:03.999999999+09:00 stdout F hello", "this line is not cri"});
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.keys(0), keys({"stream", "logtag", "log"}));
  EXPECT_EQ(h.str(0, "log"), "hello");
  EXPECT_EQ(h.rec(0).time.sec, 1714564800 - 9 * 3600 + 3);
  EXPECT_EQ(h.keys(1), keys({"message", "_parse_error"}));
  EXPECT_EQ(h.str(1, "_parse_error"), "pattern not matched");
  EXPECT_EQ(h.errors(), 1u);
}

TEST(ParserRegexp, DaemonsetDockerConfTypoCompiles) {
  // docker.conf of fluentd-kubernetes-daemonset, verbatim, with its `($<status_code>\d+)` typo.
  ParserHarness h("regexp", {{"expression",
                              R"RE(/^time="(?<time>[^)]*)" level=(?<severity>[^ ]*) msg="(?<message>[^"]*)"( err="(?<error>[^"]*)")?( statusCode=($<status_code>\d+))?/)RE"}});
  h.feed1(R"(time="2024-05-01T12:00:00.000000000Z" level=info msg="Container started" err="none")");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.keys(0), keys({"severity", "message", "error"}));
  EXPECT_EQ(h.str(0, "message"), "Container started");
  EXPECT_EQ(h.rec(0).time.sec, 1714564800);
}

TEST(ParserRegexp, SaltConfLocalTime) {
  ParserHarness h("regexp", {{"expression", R"RE(/^(?<time>[^ ]* [^ ,]*)[^\[]*\[[^\]]*\]\[(?<severity>[^ \]]*) *\] (?<message>.*)$/)RE"},
                             {"time_format", "%Y-%m-%d %H:%M:%S"}, {"utc", "true"}});
  h.feed1("2024-05-01 12:00:00,123 [salt.minion][INFO    ] Returning information for job");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.keys(0), keys({"severity", "message"}));
  EXPECT_EQ(h.str(0, "severity"), "INFO");
  EXPECT_EQ(h.rec(0).time.sec, 1714564800);
}

TEST(ParserRegexp, AuditFormat1Compiles) {
  ParserHarness h("regexp", {{"expression",
                              R"RE(/^(?<time>\S+) AUDIT:(?: (?:id="(?<id>(?:[^"\\]|\\.)*)"|ip="(?<ip>(?:[^"\\]|\\.)*)"|method="(?<method>(?:[^"\\]|\\.)*)"|user="(?<user>(?:[^"\\]|\\.)*)"|groups="(?<groups>(?:[^"\\]|\\.)*)"|as="(?<as>(?:[^"\\]|\\.)*)"|asgroups="(?<asgroups>(?:[^"\\]|\\.)*)"|namespace="(?<namespace>(?:[^"\\]|\\.)*)"|uri="(?<uri>(?:[^"\\]|\\.)*)"|response="(?<response>(?:[^"\\]|\\.)*)"|\w+="(?:[^"\\]|\\.)*"))*/)RE"},
                             {"time_format", "%Y-%m-%dT%T.%L%Z"}});
  h.feed1(R"(2024-05-01T12:00:00.123Z AUDIT: id="abc" ip="10.0.0.1" method="GET" user="admin" uri="/api")");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.keys(0), keys({"id", "ip", "method", "user", "uri"}));
  EXPECT_EQ(h.rec(0).time.nsec, 123000000u);
}

TEST(ParserRegexp, TypesFlagsAndKeepTime) {
  ParserHarness h("regexp", {{"expression", "/^(?<host>\\S+) (?<CODE>\\d+) (?<size>\\S+) (?<time>\\d+)$/i"},
                             {"types", "CODE:integer,size:integer"},
                             {"time_type", "unixtime"},
                             {"keep_time_key", "true"}});
  h.feed1("example.com 404 12k 1714564800");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.keys(0), keys({"host", "CODE", "size", "time"}));
  EXPECT_EQ(h.find(0, "CODE")->integer, 404);
  EXPECT_EQ(h.find(0, "size")->integer, 12);  // Ruby "12k".to_i
  EXPECT_EQ(h.rec(0).time.sec, 1714564800);
}

TEST(ParserRegexp, InvalidUtf8AndBadTime) {
  ParserHarness h("regexp", {{"expression", "/^(?<a>.)(?<rest>.*)$/"}, {"time_key", "a"}, {"time_format", "%Y"}});
  h.feed({"\xff\xfe bytes", "x"});
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.keys(0), keys({"message", "_parse_error"}));  // "\xff" is not a %Y time
  ParserHarness g("regexp", {{"expression", "/^(?<a>.)(?<rest>.*)$/"}});
  g.feed({"\xff\xfe bytes", std::string(10 * 1024 * 1024, 'q')});
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g.str(0, "a"), "\xff");  // bytewise, as Fluentd's ASCII-8BIT lines
  EXPECT_EQ(g.str(1, "rest").size(), 10u * 1024 * 1024 - 1);
}

TEST(ParserRegexp, BadExpressionIsAConfigError) {
  EXPECT_THROW(ParserHarness("regexp", {{"expression", "/(?<a>[/"}}), ConfigException);
  EXPECT_THROW(ParserHarness("regexp", {{"expression", "/abc/"}}), ConfigException);
}

}  // namespace
}  // namespace sluice

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

namespace sluice {
namespace {

using test::ParserHarness;

const char* const kCombined =
    R"L(192.168.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)")L";

TEST(ParserRegexpPresets, NginxAsFluentd) {
  ParserHarness h("nginx");
  h.feed({std::string("127.0.0.1 192.168.0.1 - [28/Feb/2013:12:00:00 +0900] \"GET / HTTP/1.1\" 200 777 \"-\" \"Opera/12.0\" \"10.0.0.1\""),
          "not an access log"});
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.keys(0), std::vector<std::string>({"remote", "host", "user", "method", "path", "code", "size", "referer",
                                                 "agent", "http_x_forwarded_for"}));
  EXPECT_EQ(h.str(0, "path"), "/");
  EXPECT_EQ(h.str(0, "code"), "200");  // strings, as Fluentd's preset leaves them
  EXPECT_EQ(h.str(0, "http_x_forwarded_for"), "10.0.0.1");
  EXPECT_EQ(h.rec(0).time.sec, 1362020400);
  EXPECT_EQ(h.str(1, "_parse_error"), "pattern not matched");
}

TEST(ParserRegexpPresets, ApacheAndItsOwnExpression) {
  ParserHarness h("apache");
  h.feed1(kCombined);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.str(0, "user"), "frank");
  EXPECT_EQ(h.str(0, "size"), "2326");
  EXPECT_EQ(h.rec(0).time.sec, 971211336);
  // The preset's expression is only a default.
  ParserHarness o("apache", {{"expression", "/^(?<first>\\S+)/"}});
  o.feed1(kCombined);
  EXPECT_EQ(o.keys(0), std::vector<std::string>({"first"}));
}

TEST(ParserRegexpPresets, Apache2NullsDashesAndCountsIntegers) {
  ParserHarness h("apache2", {{"keep_time_key", "true"}});
  h.feed({kCombined, R"L(::1 - - [10/Oct/2000:13:55:36 -0700] "GET /a\"b HTTP/1.0" 404 -)L"});
  ASSERT_EQ(h.size(), 2u);
  const std::vector<std::string> all = {"host", "user", "method", "path", "code", "size", "referer", "agent", "time"};
  EXPECT_EQ(h.keys(0), all);
  EXPECT_EQ(h.find(0, "code")->integer, 200);
  EXPECT_EQ(h.find(0, "size")->kind, ValueKind::Int);
  EXPECT_EQ(h.find(0, "size")->integer, 2326);
  EXPECT_EQ(h.str(0, "time"), "10/Oct/2000:13:55:36 -0700");
  EXPECT_EQ(h.rec(0).time.sec, 971211336);
  EXPECT_EQ(h.keys(1), all);  // referer and agent absent: null, as are "-" values
  for (const char* k : {"user", "size", "referer", "agent"}) EXPECT_EQ(h.find(1, k)->kind, ValueKind::Null) << k;
  EXPECT_EQ(h.str(1, "path"), "/a\\\"b");
  EXPECT_EQ(h.find(1, "code")->integer, 404);
}

TEST(ParserRegexpPresets, ApacheError) {
  // No time_format, as in Fluentd, whose Time.parse reads the ctime stamps of Apache 2.4 and 2.2.
  ParserHarness h("apache_error", {{"utc", "true"}});
  h.feed({"[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 1.2.3.4:80] File does not exist",
          "[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration"});
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.keys(0), std::vector<std::string>({"level", "pid", "client", "message"}));
  EXPECT_EQ(h.str(0, "message"), "File does not exist");
  EXPECT_EQ(h.rec(0).time.sec, 971274772);
  EXPECT_EQ(h.rec(0).time.nsec, 123456000u);
  EXPECT_EQ(h.keys(1), std::vector<std::string>({"level", "client", "message"}));
  EXPECT_EQ(h.rec(1).time.sec, 971274772);
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

TEST(ParserRegexp, ATypeWrittenAsARegexpIsTheRegexpParser) {
  // Fluentd's Plugin.new_parser: `@type /re/` (and the v0.12 `format /re/`).
  test::ParserHarness h("/^(?<k>\\w+)=(?<v>\\d+)$/", {{"types", "v:integer"}});
  h.feed({"a=1", "nope"});
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.find(0, "v")->integer, 1);
  EXPECT_EQ(h.str(1, "_parse_error"), "pattern not matched");
}

}  // namespace
}  // namespace sluice

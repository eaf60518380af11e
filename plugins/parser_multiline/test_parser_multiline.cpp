#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "../parser_none/parser_test_util.h"
#include "config/config.h"
#include "support/fixtures.h"

namespace sluice {
namespace {

using test::ParserHarness;
using Params = std::vector<std::pair<std::string, std::string>>;

std::vector<std::string> keys(std::initializer_list<const char*> k) { return {k.begin(), k.end()}; }

const Params kJava = {{"format_firstline", R"(/^\d{4}-\d{2}-\d{2}/)"},
                      {"format1", R"(/^(?<time>\S+ \S+) (?<level>\w+) (?<message>.*)/)"},
                      {"time_format", "%Y-%m-%d %H:%M:%S.%L"},
                      {"utc", "true"}};

// Feeds lines through a scratch buffer that is overwritten after the call, as in_tail reuses its
// read buffer: held lines must have been copied.
size_t feed_volatile(ParserHarness& h, const std::vector<std::string>& input) {
  std::string buf;
  for (auto& s : input) buf += s + "\n";
  std::vector<Line> ls;
  size_t pos = 0;
  for (auto& s : input) {
    ls.push_back(Line{std::string_view(buf).substr(pos, s.size()), h.offset + pos});
    pos += s.size() + 1;
  }
  h.offset += pos;
  size_t before = h.size();
  h.stream->parse(ls, h.batch);
  // Records of this call may view buf (one-line groups); make them survive, then clobber buf.
  for (size_t r = before; r < h.size(); ++r)
    for (auto* f = h.batch.begin(h.rec(r)); f != h.batch.end(h.rec(r)); ++f)
      if (f->value.kind == ValueKind::String && f->value.text.data() >= buf.data() &&
          f->value.text.data() < buf.data() + buf.size()) {
        h.lines.emplace_back(f->value.text);
        const_cast<Field*>(f)->value.text = h.lines.back();
      }
  std::fill(buf.begin(), buf.end(), 'X');
  return h.size() - before;
}

TEST(ParserMultiline, DaemonsetKubeApiserverAudit) {
  // The <parse> of the daemonset's kube-apiserver-audit.conf, read with the config parser.
  auto conf = parse_config_file(test::fixture_path(
      "fluentd-k8s-daemonset/docker-image/v1.18/debian-elasticsearch7/conf/kubernetes/kube-apiserver-audit.conf"));
  ASSERT_TRUE(conf.errors.empty());
  const ConfigSection* source = conf.root.child("source");
  ASSERT_NE(source, nullptr);
  const ConfigSection* parse = source->child("parse");
  ASSERT_NE(parse, nullptr);
  Params params;
  for (auto& p : parse->params)
    if (p.key != "@type") params.emplace_back(p.key, p.value);
  ASSERT_EQ(parse->get("@type"), "multiline");
  ParserHarness h("multiline", params);

  // The two example lines of the conf's own comment.
  const std::string first =
      R"(2017-02-09T00:15:57.992775796Z AUDIT: id="90c73c7c-97d6-4b65-9461-f94606ff825f" ip="104.132.1.72" method="GET" user="kubecfg" as="<self>" asgroups="<lookup>" namespace="default" uri="/api/v1/namespaces/default/pods")";
  EXPECT_EQ(h.feed({first, R"(2017-02-09T00:15:57.993528822Z AUDIT: id="90c73c7c-97d6-4b65-9461-f94606ff825f" response="200")"}),
            1u);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.keys(0), keys({"id", "ip", "method", "user", "as", "asgroups", "namespace", "uri"}));
  EXPECT_EQ(h.str(0, "user"), "kubecfg");
  EXPECT_EQ(h.str(0, "uri"), "/api/v1/namespaces/default/pods");
  EXPECT_EQ(h.rec(0).time.sec, 1486599357);
  EXPECT_EQ(h.rec(0).time.nsec, 992775796u);
  EXPECT_EQ(h.rec(0).offset, 0u);
  // The second line waits for the next first line (or a flush).
  const uint64_t second = first.size() + 1;
  EXPECT_EQ(h.stream->held_from(), second);
  // An escaped quote inside a value, and a continuation line joined to its event.
  h.feed({R"(2017-02-09T00:15:58.000Z AUDIT: id="x" user="a \"b\"" unknown="y")", "  continued"});
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.keys(1), keys({"id", "response"}));
  EXPECT_EQ(h.str(1, "response"), "200");
  EXPECT_EQ(h.rec(1).offset, second);
  h.flush();
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.str(2, "user"), R"(a \"b\")");
  EXPECT_EQ(h.rec(2).time.sec, 1486599358);
  EXPECT_EQ(h.stream->held_from(), UINT64_MAX);
  EXPECT_EQ(h.errors(), 0u);
}

TEST(ParserMultiline, JavaStackTrace) {
  ParserHarness h("multiline", kJava);
  h.feed({"2024-05-01 12:00:00.123 ERROR Request failed",
          "java.lang.IllegalStateException: boom",
          "\tat com.example.Foo.bar(Foo.java:42)",
          "Caused by: java.io.IOException: disk",
          "\t... 3 more",
          "2024-05-01 12:00:01.000 INFO next"});
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.keys(0), keys({"level", "message"}));
  EXPECT_EQ(h.str(0, "level"), "ERROR");
  EXPECT_EQ(h.str(0, "message"),
            "Request failed\njava.lang.IllegalStateException: boom\n\tat com.example.Foo.bar(Foo.java:42)\n"
            "Caused by: java.io.IOException: disk\n\t... 3 more");
  EXPECT_EQ(h.rec(0).time.sec, 1714564800);
  EXPECT_EQ(h.rec(0).time.nsec, 123000000u);
  h.flush();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.str(1, "message"), "next");
  EXPECT_EQ(h.rec(1).time.sec, 1714564801);
}

TEST(ParserMultiline, FormatFlagsAreRejectedAsInFluentd) {
  // Fluentd requires each formatN and format_firstline to be exactly /.../; the joined pattern is
  // always compiled multiline, so /m is implied.
  Params p = kJava;
  p[1].second = R"(/^(?<time>\S+ \S+) (?<level>\w+) (?<message>.*)/m)";
  EXPECT_THROW(ParserHarness("multiline", p), ConfigException);
  EXPECT_THROW(ParserHarness("multiline", {{"format_firstline", "/^x/i"}, {"format1", "/(?<a>x)/"}}), ConfigException);
  EXPECT_THROW(ParserHarness("multiline", {{"format_firstline", "/^x/"}}), ConfigException);  // no format1
  EXPECT_THROW(ParserHarness("multiline", {{"format1", "/(?<a>x)/"}, {"format3", "/y/"}}), ConfigException);
  EXPECT_THROW(ParserHarness("multiline", {{"format1", "/abc/"}}), ConfigException);  // no named captures
  EXPECT_THROW(ParserHarness("multiline", {{"format1", "/(?<a>x/"}, {"format2", "/)/"}}), ConfigException);
  EXPECT_THROW(ParserHarness("multiline", {{"format1", "(?<a>x)"}}), ConfigException);
  EXPECT_NO_THROW(ParserHarness("multiline", {{"format1", "/(?<a>x)/"}, {"format2", "/(?<b>y)/"}}));
}

TEST(ParserMultiline, FormatsAreConcatenated) {
  ParserHarness h("multiline", {{"format_firstline", "/^BEGIN/"},
                                {"format1", R"(/^BEGIN (?<id>\d+)\n/)"},
                                {"format2", R"(/(?<first>[^\n]*)\n/)"},
                                {"format3", R"(/(?<rest>.*)/)"},
                                {"types", "id:integer"}});
  h.feed({"BEGIN 42", "one", "two", "three"});
  h.flush();
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.keys(0), keys({"id", "first", "rest"}));
  EXPECT_EQ(h.find(0, "id")->integer, 42);
  EXPECT_EQ(h.str(0, "first"), "one");
  EXPECT_EQ(h.str(0, "rest"), "two\nthree");
}

TEST(ParserMultiline, RealJavaStackTraceAfterCri) {
  // The messages of the containerd fixture (what the cri parser yields): an error line, then an
  // exception whose frames start with a tab.
  auto raw = test::split_lines(test::read_fixture("cri/real-java-stacktrace-containerd.log"), true);
  ASSERT_EQ(raw.size(), 19u);
  std::vector<std::string> messages;
  for (auto& l : raw) {
    size_t p = l.find(' ');
    p = l.find(' ', p + 1);
    p = l.find(' ', p + 1);
    messages.push_back(l.substr(p + 1));
  }
  ParserHarness h("multiline", {{"format_firstline", R"(/^\S/)"},
                                {"format1", R"(/^(?<summary>[^\n]*)(?:\n(?<stack>.*))?/)"}});
  h.feed(messages);
  h.flush();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.keys(0), keys({"summary"}));
  EXPECT_EQ(h.str(0, "summary"), "hdfsExists: invokeMethod((Lorg/apache/hadoop/fs/Path;)Z) error:");
  EXPECT_EQ(h.keys(1), keys({"summary", "stack"}));
  EXPECT_EQ(h.str(1, "summary").substr(0, 32), "org.apache.hadoop.ipc.RemoteExce");
  std::string stack = h.str(1, "stack");
  EXPECT_EQ(std::count(stack.begin(), stack.end(), '\n'), 16);
  EXPECT_EQ(stack.substr(0, 26), "\tat org.apache.hadoop.ipc.");
  EXPECT_EQ(stack.substr(stack.size() - 22), "(FileSystem.java:1424)");
  EXPECT_EQ(h.errors(), 0u);

  // On the raw CRI lines every line starts with a date: the multiline parser must see the
  // messages (after the cri parser), not the file's lines.
  ParserHarness r("multiline", kJava);
  r.feed(raw);
  r.flush();
  EXPECT_EQ(r.size(), 19u);
}

TEST(ParserMultiline, GroupsSplitAcrossCallsAndHeldFrom) {
  ParserHarness h("multiline", kJava);
  EXPECT_EQ(h.stream->held_from(), UINT64_MAX);
  EXPECT_EQ(feed_volatile(h, {"2024-05-01 12:00:00.000 ERROR a"}), 0u);
  EXPECT_EQ(h.stream->held_from(), 0u);
  EXPECT_EQ(feed_volatile(h, {"\tat x", "\tat y"}), 0u);
  EXPECT_EQ(h.stream->held_from(), 0u);
  EXPECT_EQ(feed_volatile(h, {"\tat z"}), 0u);
  const uint64_t next = h.offset;
  // The held group closes; a one-line group in the same call; a new group begins.
  EXPECT_EQ(feed_volatile(h, {"2024-05-01 12:00:01.000 INFO b", "2024-05-01 12:00:02.000 WARN c", "\tc2"}), 2u);
  EXPECT_EQ(h.stream->held_from(), next + 31);
  EXPECT_EQ(h.str(0, "message"), "a\n\tat x\n\tat y\n\tat z");
  EXPECT_EQ(h.rec(0).offset, 0u);
  EXPECT_EQ(h.str(1, "message"), "b");
  EXPECT_EQ(h.rec(1).offset, next);
  // A multi-line group wholly inside one call is joined in the arena.
  EXPECT_EQ(feed_volatile(h, {"2024-05-01 12:00:03.000 INFO d", "\td2", "\td3", "2024-05-01 12:00:04.000 INFO e"}), 2u);
  EXPECT_EQ(h.str(2, "message"), "c\n\tc2");
  EXPECT_EQ(h.rec(2).offset, next + 31);
  EXPECT_EQ(h.str(3, "message"), "d\n\td2\n\td3");
  h.flush();
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h.str(4, "message"), "e");
  EXPECT_EQ(h.stream->held_from(), UINT64_MAX);
  h.flush();  // nothing held: nothing more
  EXPECT_EQ(h.size(), 5u);
  // Empty lines belong to the group.
  h.feed({"2024-05-01 12:00:05.000 INFO f", "", "\tg"});
  h.flush();
  EXPECT_EQ(h.str(5, "message"), "f\n\n\tg");
}

TEST(ParserMultiline, UnmatchedGroupsAndOrphansAreKept) {
  ParserHarness h("multiline", {{"format_firstline", "/^START/"},
                                {"format1", R"(/^START (?<n>\d+)\n(?<body>.*)/)"}});
  // Lines before any first line: each parsed alone (Fluentd's emit_unmatched_lines), kept raw.
  h.feed({"orphan 1", "START 7", "body"});
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.keys(0), keys({"message", "_parse_error"}));
  EXPECT_EQ(h.str(0, "message"), "orphan 1");
  EXPECT_NE(h.str(0, "_parse_error").find("format_firstline"), std::string::npos);
  // A group that does not match the formats: kept whole.
  h.feed({"START x", "y", "z", "START 8", "ok"});
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.keys(1), keys({"n", "body"}));
  EXPECT_EQ(h.str(1, "body"), "body");
  EXPECT_EQ(h.keys(2), keys({"message", "_parse_error"}));
  EXPECT_EQ(h.str(2, "message"), "START x\ny\nz");
  EXPECT_EQ(h.str(2, "_parse_error"), "pattern not matched");
  // A one-line group that does not match (the pattern wants a second line) is kept too.
  h.feed({"START 9"});
  h.flush();
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h.str(3, "n"), "8");
  EXPECT_EQ(h.str(4, "message"), "START 9");
  EXPECT_EQ(h.errors(), 3u);
  // A bad time keeps the group raw too.
  ParserHarness t("multiline", kJava);
  t.feed({"2024-13-45 99:00:00.000 ERROR a", "\tb"});
  t.flush();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t.str(0, "message"), "2024-13-45 99:00:00.000 ERROR a\n\tb");
  EXPECT_EQ(t.str(0, "_parse_error").substr(0, 19), "invalid time format");
}

TEST(ParserMultiline, BoundsSplitGroups) {
  Params p = kJava;
  p.push_back({"max_lines", "3"});
  ParserHarness h("multiline", p);
  h.feed({"2024-05-01 12:00:00.000 ERROR a", "1", "2", "3", "4", "5", "6", "7"});
  // a,1,2 | 3,4,5 | 6,7 (held)
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.str(0, "message"), "a\n1\n2");
  EXPECT_EQ(h.str(1, "message"), "3\n4\n5");  // the rest does not match: kept raw
  EXPECT_EQ(h.str(1, "_parse_error"), "pattern not matched");
  EXPECT_EQ(h.rec(1).offset, 32u + 2 + 2);
  h.flush();
  EXPECT_EQ(h.str(2, "message"), "6\n7");
  EXPECT_EQ(h.metrics.value("sluice_multiline_splits_total{plugin=\"test_parser\"}"), 2u);

  Params b = kJava;
  b.push_back({"max_bytes", "40"});
  ParserHarness g("multiline", b);
  g.feed({"2024-05-01 12:00:00.000 ERROR a", "1234567", "x"});  // 31 + 8 = 39, + 2 > 40
  g.flush();
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g.str(0, "message"), "a\n1234567");
  EXPECT_EQ(g.str(1, "message"), "x");
}

TEST(ParserMultiline, InvalidUtf8) {
  ParserHarness h("multiline", {{"format_firstline", "/^S/"}, {"format1", "/^S(?<a>.)(?<rest>.*)/"}});
  h.feed({"S\xff\xfe bytes", "\xc3(", "S\xe2\x82\xac ok", "\xf0\x9f\x98\x80"});
  h.flush();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.str(0, "a"), "\xff");  // bytewise, as Fluentd's ASCII-8BIT lines
  EXPECT_EQ(h.str(0, "rest"), "\xfe bytes\n\xc3(");
  EXPECT_EQ(h.str(1, "a"), "\xe2\x82\xac");  // valid UTF-8: a character
  EXPECT_EQ(h.str(1, "rest"), " ok\n\xf0\x9f\x98\x80");
}

TEST(ParserMultiline, FiveMebibyteLine) {
  const std::string big(5 * 1024 * 1024, 'q');
  {
    // A first line longer than max_bytes is never cut: it is a group by itself.
    ParserHarness h("multiline", kJava);
    h.feed({"2024-05-01 12:00:00.000 ERROR " + big, "\tat x", "2024-05-01 12:00:01.000 INFO y"});
    h.flush();
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h.str(0, "message"), big);
    EXPECT_EQ(h.str(1, "message"), "\tat x");  // split off by max_bytes, kept raw
    EXPECT_EQ(h.str(2, "message"), "y");
  }
  {
    // Within max_bytes, a 5 MiB continuation line held across calls.
    Params p = kJava;
    p.push_back({"max_bytes", "8m"});
    ParserHarness h("multiline", p);
    feed_volatile(h, {"2024-05-01 12:00:00.000 ERROR a"});
    feed_volatile(h, {big});
    feed_volatile(h, {"\tat x"});
    h.flush();
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h.str(0, "message").size(), 1 + 1 + big.size() + 1 + 5);
    EXPECT_EQ(h.str(0, "message").substr(0, 3), "a\nq");
  }
}

TEST(ParserMultiline, WithoutFirstlineLinesAccumulateUntilTheyMatch) {
  // Fluentd's in_tail without format_firstline: the held text grows line by line until the
  // formats match it; that text is one event.
  ParserHarness h("multiline", {{"format1", R"(/^(?<a>A\d)\n/)"}, {"format2", R"(/(?<b>B\d)/)"}});
  EXPECT_EQ(h.feed({"A1"}), 0u);
  EXPECT_EQ(h.stream->held_from(), 0u);
  EXPECT_EQ(h.feed({"B1", "junk", "A2"}), 1u);
  EXPECT_EQ(h.keys(0), keys({"a", "b"}));
  EXPECT_EQ(h.str(0, "b"), "B1");
  EXPECT_EQ(h.stream->held_from(), 6u);
  // The match starts at A2: "junk" is kept raw instead of lost.
  EXPECT_EQ(h.feed({"B2"}), 2u);
  EXPECT_EQ(h.str(1, "message"), "junk");
  EXPECT_EQ(h.rec(1).offset, 6u);
  EXPECT_EQ(h.str(2, "a"), "A2");
  EXPECT_EQ(h.rec(2).offset, 11u);
  EXPECT_EQ(h.stream->held_from(), UINT64_MAX);
  h.feed({"A3"});
  h.flush();
  EXPECT_EQ(h.str(3, "message"), "A3");

  // A one-line pattern: every matching line is an event at once, nothing is held.
  ParserHarness s("multiline", {{"format1", R"(/^(?<n>\d+) (?<w>\w+)$/)"}});
  EXPECT_EQ(s.feed({"1 a", "2 b"}), 2u);
  EXPECT_EQ(s.stream->held_from(), UINT64_MAX);
  EXPECT_EQ(s.str(1, "w"), "b");

  // Bounded too.
  ParserHarness m("multiline", {{"format1", R"(/^(?<n>\d+)$/)"}, {"max_lines", "2"}});
  m.feed({"x", "y", "z", "5"});
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m.str(0, "message"), "x\ny");
  EXPECT_EQ(m.str(1, "message"), "z");
  EXPECT_EQ(m.str(2, "n"), "5");
}

}  // namespace
}  // namespace sluice

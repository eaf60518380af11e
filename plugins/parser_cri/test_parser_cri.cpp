#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../parser_none/parser_test_util.h"
#include "format/json.h"
#include "format/time.h"
#include "support/fixtures.h"

namespace sluice {
namespace {

using test::ParserHarness;

std::vector<std::string> keys(std::initializer_list<const char*> k) { return {k.begin(), k.end()}; }

TEST(ParserCri, RecordShapeLikeFluentd) {
  ParserHarness h("cri");
  ASSERT_EQ(h.feed1("2024-05-01T12:00:00.123456789Z stdout F hello plain text"), 1u);
  EXPECT_EQ(h.keys(0), keys({"stream", "logtag", "message", "time"}));
  EXPECT_EQ(h.str(0, "stream"), "stdout");
  EXPECT_EQ(h.str(0, "logtag"), "F");
  EXPECT_EQ(h.str(0, "message"), "hello plain text");
  EXPECT_EQ(h.str(0, "time"), "2024-05-01T12:00:00.123456789Z");
  EXPECT_EQ(h.rec(0).time.sec, 1714564800);
  EXPECT_EQ(h.rec(0).time.nsec, 123456789u);
  EXPECT_EQ(h.errors(), 0u);
}

TEST(ParserCri, OffsetAndEmptyMessage) {
  ParserHarness h("cri");
  h.feed({"2024-05-01T12:00:03.999999999+09:00 stderr F x", "2024-05-01T12:00:00Z stdout F ",
          "2024-05-01T12:00:00Z stdout F"});
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.rec(0).time.sec, 1714564800 - 9 * 3600 + 3);
  EXPECT_EQ(h.rec(0).time.nsec, 999999999u);
  EXPECT_EQ(h.str(1, "message"), "");
  EXPECT_EQ(h.str(2, "message"), "");
}

TEST(ParserCri, UncommonStreamsTagsAndShortLines) {
  // Lines off the stdout/stderr, one-letter-tag shape, and lines too short for word-wise search.
  ParserHarness h("cri", {{"merge_cri_partial", "false"}});
  h.feed({"2024-05-01T12:00:00.123456789Z stdin F:x  two spaces",
          "2024-05-01T12:00:00.123456789Z stdoutx F m", "1 stderr F x", "1 2 3 4", "2024-05-01T12:00:00.123456789Z stdout  F", "t stdout F"});
  ASSERT_EQ(h.size(), 6u);
  EXPECT_EQ(h.str(0, "stream"), "stdin");
  EXPECT_EQ(h.str(0, "logtag"), "F:x");
  EXPECT_EQ(h.str(0, "message"), " two spaces");
  EXPECT_EQ(h.str(1, "stream"), "stdoutx");
  EXPECT_EQ(h.str(1, "message"), "m");
  EXPECT_NE(h.str(2, "_parse_error").find("invalid time format: value = 1"), std::string::npos);
  EXPECT_NE(h.str(3, "_parse_error").find("invalid time format"), std::string::npos);
  EXPECT_NE(h.str(4, "_parse_error").find("invalid CRI line"), std::string::npos);
  EXPECT_NE(h.str(5, "_parse_error").find("invalid time format"), std::string::npos);
  EXPECT_EQ(h.errors(), 4u);
}

// Value::plain lets JSON writers copy a string unchecked, so it may be set only where the parser
// saw every byte: the stream when it is stdout or stderr, an F or P tag, a time stamp the RFC 3339
// parser accepted. Anything else, including a quote where the stream or tag stands, is escaped.
TEST(ParserCri, MarksPlainOnlyWhatItChecked) {
  ParserHarness h("cri", {{"merge_cri_partial", "false"}});
  h.feed({"2024-05-01T12:00:00.123456789Z stdout F {\"a\":1}", "2024-05-01T12:00:00+02:00 stderr P m",
          "2024-05-01T12:00:00.1Z std\"x F m", "2024-05-01T12:00:00.1Z stdout \" m",
          "2024-05-01T12:00:00.1Z stdout F:\\ m"});
  ASSERT_EQ(h.size(), 5u);
  auto plain = [&](size_t i, const char* key) { return h.find(i, key)->plain; };
  for (size_t i : {0u, 1u}) {
    EXPECT_TRUE(plain(i, "stream")) << i;
    EXPECT_TRUE(plain(i, "logtag")) << i;
    EXPECT_TRUE(plain(i, "time")) << i;
    EXPECT_FALSE(plain(i, "message")) << i;
  }
  EXPECT_FALSE(plain(2, "stream"));
  EXPECT_FALSE(plain(3, "logtag"));
  EXPECT_FALSE(plain(4, "logtag"));
  std::string doc;
  json::append_record(doc, h.batch, h.rec(2));
  EXPECT_EQ(doc, R"({"stream":"std\"x","logtag":"F","message":"m","time":"2024-05-01T12:00:00.1Z"})");
  doc.clear();
  json::append_record(doc, h.batch, h.rec(3));
  EXPECT_EQ(doc, R"({"stream":"stdout","logtag":"\"","message":"m","time":"2024-05-01T12:00:00.1Z"})");
  doc.clear();
  json::append_record(doc, h.batch, h.rec(0));
  EXPECT_EQ(doc,
            R"({"stream":"stdout","logtag":"F","message":"{\"a\":1}","time":"2024-05-01T12:00:00.123456789Z"})");
}

// A time stamp another time_format accepted is not known plain; a held partial line's stream is
// checked when it is emitted.
TEST(ParserCri, PlainTimeOnlyFromTheRfc3339Parser) {
  ParserHarness other("cri", {{"time_format", "%Y-%m-%dT%H:%M:%S"}});
  ASSERT_EQ(other.feed1("2024-05-01T12:00:00 stdout F m"), 1u);
  EXPECT_FALSE(other.find(0, "time")->plain);
  ParserHarness held("cri");
  held.feed({"2024-05-01T12:00:00.1Z stderr P part"});
  held.flush();
  ASSERT_EQ(held.size(), 1u);
  EXPECT_TRUE(held.find(0, "stream")->plain);
  EXPECT_TRUE(held.find(0, "logtag")->plain);
}

TEST(ParserCri, KeepTimeKeyFalse) {
  ParserHarness h("cri", {{"keep_time_key", "false"}});
  h.feed1("2024-05-01T12:00:00Z stdout F a");
  EXPECT_EQ(h.keys(0), keys({"stream", "logtag", "message"}));
}

TEST(ParserCri, DaemonsetImageFormatRejectsOffsetButKeepsLine) {
  // The image's time_format has a literal Z: Fluentd rejects +09:00 stamps (and drops the line).
  ParserHarness h("cri", {{"time_format", "%Y-%m-%dT%H:%M:%S.%NZ"}});
  h.feed({"2024-05-01T12:00:00.5Z stdout F ok", "2024-05-01T12:00:03.9+09:00 stdout F tokyo"});
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.rec(0).time.sec, 1714564800);
  EXPECT_EQ(h.keys(1), keys({"message", "_parse_error"}));
  EXPECT_EQ(h.str(1, "message"), "2024-05-01T12:00:03.9+09:00 stdout F tokyo");
  EXPECT_NE(h.str(1, "_parse_error").find("invalid time format"), std::string::npos);
  EXPECT_EQ(h.errors(), 1u);
}

TEST(ParserCri, NonCriLineKeptRawAndCounted) {
  ParserHarness h("cri");
  h.feed({"2024-05-01T12:00:00Z stdout F before", "this line is not cri", "", "\xff\xfe\x00\x01 binary",
          "2024-05-01T12:00:00Z stdout F after"});
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h.str(0, "message"), "before");
  EXPECT_EQ(h.str(1, "message"), "this line is not cri");
  EXPECT_EQ(h.keys(1), keys({"message", "_parse_error"}));
  EXPECT_EQ(h.str(4, "message"), "after");
  EXPECT_EQ(h.errors(), 3u);
  EventTime n = now();
  EXPECT_LE(std::abs(h.rec(1).time.sec - n.sec), 5);
}

TEST(ParserCri, VectorCases) {
  std::string text = test::read_fixture("cri/vector-cri-parser-cases.json");
  // The transcribed cases; checked by content rather than with a JSON library.
  ParserHarness h("cri", {{"merge_cri_partial", "false"}});
  h.feed({"2016-10-06T00:17:09.669794202Z stdout F The content of the log entry 1",
          "2016-10-06T00:17:09.669794202Z stdout P First line of log entry 2",
          "2016-10-06T00:17:10.113242941Z stderr F Last line of the log entry 2"});
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.str(1, "logtag"), "P");
  EXPECT_EQ(h.str(2, "stream"), "stderr");
  EXPECT_EQ(h.rec(2).time.nsec, 113242941u);
  // Non-UTF-8 input (truncated 2-byte sequence) is kept byte for byte.
  std::string raw = test::base64_decode(
      "MjAyMS0wOC0wNVQxNzozNToyNi42NDA1MDc1MzlaIHN0ZG91dCBQIEhlbGxvIFdvcmxkINCf0YDQuNCy0LXRgiDQnNC40Qo=");
  ASSERT_EQ(raw.back(), '\n');
  raw.pop_back();  // the tailer strips the terminator
  h.feed1(raw);
  EXPECT_EQ(h.str(3, "message"), test::base64_decode("SGVsbG8gV29ybGQg0J/RgNC40LLQtdGCINCc0LjR"));
  EXPECT_EQ(h.str(3, "logtag"), "P");
  EXPECT_NE(text.find("partial"), std::string::npos);
}

TEST(ParserCri, PartialsJoinedPerStream_FluentBitFixture) {
  ParserHarness h("cri");
  auto lines = test::split_lines(test::read_fixture("cri/fluent-bit-multiline-cri.input.log"), true);
  h.feed(lines);
  std::vector<std::string> expected = {"1a. some multiline log", "1b. some multiline log",
                                       "2a. another multiline log", "2b. another multiline log",
                                       "3a. non multiline 1", "4a. non multiline 2",
                                       "3b. non multiline 1", "4b. non multiline 2"};
  ASSERT_EQ(h.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(h.str(i, "message"), expected[i]) << i;
    EXPECT_EQ(h.str(i, "logtag"), "F");
  }
  // Joined record: event time of the last fragment, `time` string of the first.
  EXPECT_EQ(h.str(0, "time"), "2019-05-07T18:57:50.904275087+00:00");
  EXPECT_EQ(h.rec(0).time.nsec, 904275089u);
  EXPECT_EQ(h.rec(0).time.sec % 60, 52);
  EXPECT_EQ(h.rec(0).offset, 0u);  // the first fragment's offset
  EXPECT_EQ(h.stream->held_from(), UINT64_MAX);
}

TEST(ParserCri, PartialsAcrossReadsAndHeldFrom) {
  ParserHarness h("cri");
  EXPECT_EQ(h.feed1("2024-05-01T12:00:00Z stdout P part one, "), 0u);
  EXPECT_EQ(h.stream->held_from(), 0u);
  EXPECT_EQ(h.feed1("2024-05-01T12:00:01Z stderr F other stream"), 1u);
  EXPECT_EQ(h.stream->held_from(), 0u);
  EXPECT_EQ(h.feed1("2024-05-01T12:00:02Z stdout F part two"), 1u);
  EXPECT_EQ(h.str(1, "message"), "part one, part two");
  EXPECT_EQ(h.stream->held_from(), UINT64_MAX);
  // flush() emits what is held, as P.
  h.feed1("2024-05-01T12:00:03Z stdout P dangling");
  EXPECT_NE(h.stream->held_from(), UINT64_MAX);
  h.flush();
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.str(2, "message"), "dangling");
  EXPECT_EQ(h.str(2, "logtag"), "P");
  EXPECT_EQ(h.stream->held_from(), UINT64_MAX);
}

TEST(ParserCri, MergeOffEmitsEachFragment) {
  ParserHarness h("cri", {{"merge_cri_partial", "false"}});
  h.feed({"2024-05-01T12:00:00Z stdout P a", "2024-05-01T12:00:00Z stdout F b"});
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.str(0, "logtag"), "P");
}

TEST(ParserCri, Derived40000ByteSplit) {
  ParserHarness h("cri");
  auto lines = test::split_lines(test::read_fixture("cri/derived/containerd-40000-byte-line-split.DERIVED.log"), true);
  ASSERT_GE(lines.size(), 3u);
  h.feed(lines);
  ASSERT_GE(h.size(), 1u);
  EXPECT_EQ(h.str(0, "message").size(), 40000u);
  EXPECT_EQ(h.str(0, "logtag"), "F");
}

TEST(ParserCri, JoinedSizeIsBounded) {
  ParserHarness h("cri", {{"max_partial_size", "10"}});
  h.feed({"2024-05-01T12:00:00Z stdout P 123456", "2024-05-01T12:00:00Z stdout P 789012",
          "2024-05-01T12:00:00Z stdout F end"});
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.str(0, "message"), "123456");
  ASSERT_NE(h.find(0, "_partial_truncated"), nullptr);
  EXPECT_TRUE(h.find(0, "_partial_truncated")->boolean);
  EXPECT_EQ(h.str(1, "message"), "789012end");
  EXPECT_EQ(h.metrics.value("sluice_partial_truncated_total{plugin=\"test_parser\"}"), 1u);
}

TEST(ParserCri, JavaStackTrace) {
  ParserHarness h("cri");
  auto lines = test::split_lines(test::read_fixture("cri/real-java-stacktrace-containerd.log"), true);
  h.feed(lines);
  ASSERT_EQ(h.size(), lines.size());
  EXPECT_EQ(h.errors(), 0u);
  EXPECT_EQ(h.str(0, "message"), "hdfsExists: invokeMethod((Lorg/apache/hadoop/fs/Path;)Z) error:");
  // The tab is kept (Fluentd's split(" ", 4) would strip it; see README).
  EXPECT_EQ(h.str(2, "message"), "\tat org.apache.hadoop.ipc.Client.call(Client.java:1475)");
  EXPECT_EQ(h.rec(1).time.nsec, 337540770u);
}

TEST(ParserCri, HugeLineAndNestedParse) {
  ParserHarness h("cri");
  std::string big = "2024-05-01T12:00:00Z stdout F " + std::string(10 * 1024 * 1024, 'x');
  h.feed1(big);
  EXPECT_EQ(h.str(0, "message").size(), 10u * 1024 * 1024);

  ParserHarness j("cri", {}, {test::child_section("parse", {{"@type", "json"}})});
  j.feed1("2024-05-01T12:00:00Z stdout F {\"level\":\"info\",\"time\":\"2024-05-01T12:00:09Z\"}");
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j.keys(0), keys({"level", "stream", "logtag"}));
  EXPECT_EQ(j.rec(0).time.sec, 1714564809);
}

}  // namespace
}  // namespace sluice

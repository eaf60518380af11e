// PutLogEvents batching as out_cloudwatch_logs.rb's put_events_by_chunk cuts it, the chunk
// framing, the request bodies and the answers read back.
#include <gtest/gtest.h>

#include "cwl_events.h"

namespace sluice::cwl {
namespace {

std::vector<Event> decode(const std::string& payload) {
  std::vector<Event> events;
  EXPECT_TRUE(read_entries(payload, events));
  return events;
}

// The sizes of the batches of one stream's events.
std::vector<size_t> batches(const std::vector<const Event*>& events, size_t max_events) {
  std::vector<size_t> out;
  for (size_t from = 0; from < events.size();) {
    size_t bytes = 0;
    size_t end = batch_end(events, from, max_events, bytes);
    EXPECT_GT(end, from);
    EXPECT_LE(bytes, kMaxBatchBytes);
    out.push_back(end - from);
    from = end;
  }
  return out;
}

TEST(CwlEvents, EntriesRoundTripAndDamageIsSeen) {
  std::string payload;
  append_entry(payload, "g", "", 1700000000123, "hello");
  append_entry(payload, "", "s", -5, std::string("a\0b", 3));
  auto events = decode(payload);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].group, "g");
  EXPECT_EQ(events[0].stream, "");
  EXPECT_EQ(events[0].time_ms, 1700000000123);
  EXPECT_EQ(events[0].message, "hello");
  EXPECT_EQ(events[0].bytes(), 5u + 26);
  EXPECT_EQ(events[1].message, std::string("a\0b", 3));
  EXPECT_EQ(std::string(events[0].raw) + std::string(events[1].raw), payload);
  std::vector<Event> out;
  EXPECT_FALSE(read_entries(payload.substr(0, payload.size() - 1), out));
  EXPECT_FALSE(read_entries("short", out));
}

TEST(CwlEvents, GroupedInFirstSeenOrderAndSortedStablyByTime) {
  std::string payload;
  append_entry(payload, "", "", 30, "a");
  append_entry(payload, "other", "", 5, "b");
  append_entry(payload, "", "", 10, "c");
  append_entry(payload, "", "", 10, "d");
  append_entry(payload, "", "x", 1, "e");
  auto events = decode(payload);
  auto streams = group_streams(events, "tmpl-g", "tmpl-s");
  ASSERT_EQ(streams.size(), 3u);
  EXPECT_EQ(streams[0].group, "tmpl-g");
  EXPECT_EQ(streams[0].stream, "tmpl-s");
  ASSERT_EQ(streams[0].events.size(), 3u);
  EXPECT_EQ(streams[0].events[0]->message, "c");
  EXPECT_EQ(streams[0].events[1]->message, "d");
  EXPECT_EQ(streams[0].events[2]->message, "a");
  EXPECT_EQ(streams[1].group, "other");
  EXPECT_EQ(streams[2].stream, "x");
}

TEST(CwlEvents, BatchesEndAtTheByteLimitCountingTwentySixPerEvent) {
  // 1,048,576 / (10,000 + 26) = 104.59: 104 events fit, the 105th starts the next batch.
  std::string payload;
  const std::string message(10000, 'x');
  for (int i = 0; i < 250; ++i) append_entry(payload, "", "", 1000 + i, message);
  auto events = decode(payload);
  auto streams = group_streams(events, "g", "s");
  EXPECT_EQ(batches(streams[0].events, 10000), (std::vector<size_t>{104, 104, 42}));
  // An event of exactly the limit goes alone.
  std::string exact;
  append_entry(exact, "", "", 1, "a");
  append_entry(exact, "", "", 2, std::string(kMaxBatchBytes - kEventOverhead, 'y'));
  append_entry(exact, "", "", 3, "b");
  auto e2 = decode(exact);
  auto s2 = group_streams(e2, "g", "s");
  EXPECT_EQ(batches(s2[0].events, 10000), (std::vector<size_t>{1, 1, 1}));
  EXPECT_EQ(too_large_event(e2), nullptr);
  std::string big;
  append_entry(big, "", "", 1, std::string(kMaxEventBytes - kEventOverhead + 1, 'z'));
  auto e3 = decode(big);
  EXPECT_NE(too_large_event(e3), nullptr);
}

TEST(CwlEvents, BatchesEndAtMaxEventsAndBeforeASpanOfTwentyFourHours) {
  std::string payload;
  for (int i = 0; i < 25; ++i) append_entry(payload, "", "", i, "m");
  auto events = decode(payload);
  auto streams = group_streams(events, "g", "s");
  EXPECT_EQ(batches(streams[0].events, 10), (std::vector<size_t>{10, 10, 5}));

  std::string span;
  append_entry(span, "", "", 0, "a");
  append_entry(span, "", "", kMaxSpanMs - 1, "b");  // within 24 hours of the first
  append_entry(span, "", "", kMaxSpanMs, "c");      // 24 hours: a new batch (>=, as the plugin)
  append_entry(span, "", "", kMaxSpanMs + 5, "d");
  auto e2 = decode(span);
  auto s2 = group_streams(e2, "g", "s");
  EXPECT_EQ(batches(s2[0].events, 10000), (std::vector<size_t>{2, 2}));
}

TEST(CwlEvents, RequestBodies) {
  std::string payload;
  append_entry(payload, "", "", 1, "say \"hi\"\n");
  append_entry(payload, "", "", 2, "\xC3\xA9");
  auto events = decode(payload);
  std::vector<const Event*> ptrs = {&events[0], &events[1]};
  EXPECT_EQ(put_log_events_body("/aws/eks", "pod/a", ptrs.data(), 2, ""),
            R"({"logGroupName":"/aws/eks","logStreamName":"pod/a","logEvents":[{"timestamp":1,"message":"say \"hi\"\n"},)"
            "{\"timestamp\":2,\"message\":\"\xC3\xA9\"}]}");
  EXPECT_EQ(put_log_events_body("g", "s", ptrs.data(), 1, "49590"),
            R"({"logGroupName":"g","logStreamName":"s","sequenceToken":"49590","logEvents":[{"timestamp":1,"message":"say \"hi\"\n"}]})");
  EXPECT_EQ(describe_log_groups_body("g", ""), R"({"logGroupNamePrefix":"g"})");
  EXPECT_EQ(describe_log_groups_body("g", "n1"), R"({"logGroupNamePrefix":"g","nextToken":"n1"})");
  EXPECT_EQ(describe_log_streams_body("g", "s", ""), R"({"logGroupName":"g","logStreamNamePrefix":"s"})");
  EXPECT_EQ(create_log_group_body("g", {}), R"({"logGroupName":"g"})");
  EXPECT_EQ(create_log_group_body("g", {{"team", "a"}, {"env", "prod"}}),
            R"({"logGroupName":"g","tags":{"team":"a","env":"prod"}})");
  EXPECT_EQ(create_log_stream_body("g", "s"), R"({"logGroupName":"g","logStreamName":"s"})");
  EXPECT_EQ(put_retention_policy_body("g", 14), R"({"logGroupName":"g","retentionInDays":14})");
}

TEST(CwlEvents, ErrorsAreNamedAndNeverEchoTheRequest) {
  auto e = parse_error(R"({"__type":"com.amazonaws.logs#ResourceNotFoundException","message":"The specified log stream does not exist."})",
                       nullptr);
  EXPECT_EQ(e.type, "ResourceNotFoundException");
  EXPECT_EQ(e.message, "\"The specified log stream does not exist.\"");
  e = parse_error(R"({"__type":"InvalidSequenceTokenException","message":"bad","expectedSequenceToken":"123"})", nullptr);
  EXPECT_EQ(e.type, "InvalidSequenceTokenException");
  EXPECT_EQ(e.expected_sequence_token, "123");
  const std::string header = "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/";
  e = parse_error("not json", &header);
  EXPECT_EQ(e.type, "ThrottlingException");
  e = parse_error(
      R"({"__type":"InvalidSignatureException","Message":"The request signature we calculated does not match.\n\nThe Canonical String for this request should have been\n'POST\n/\nx-amz-security-token:SECRET-TOKEN'"})",
      nullptr);
  EXPECT_EQ(e.type, "InvalidSignatureException");
  EXPECT_EQ(e.message.find("SECRET-TOKEN"), std::string::npos);
  EXPECT_NE(e.message.find("does not match"), std::string::npos);
}

TEST(CwlEvents, PutAnswersAndDescribePages) {
  PutResult put;
  ASSERT_TRUE(parse_put_response(R"({"nextSequenceToken":"777","rejectedLogEventsInfo":{"tooOldLogEventEndIndex":2}})", put));
  EXPECT_EQ(put.next_sequence_token, "777");
  EXPECT_EQ(put.rejected, R"({"tooOldLogEventEndIndex":2})");
  PutResult empty;
  ASSERT_TRUE(parse_put_response("{}", empty));
  EXPECT_EQ(empty.rejected, "");
  EXPECT_FALSE(parse_put_response("[", empty));

  DescribePage page;
  ASSERT_TRUE(parse_describe(
      R"({"logStreams":[{"logStreamName":"s-1"},{"logStreamName":"s","uploadSequenceToken":"42"}],"nextToken":"p2"})",
      "logStreams", "logStreamName", "s", page));
  EXPECT_TRUE(page.found);
  EXPECT_EQ(page.upload_sequence_token, "42");
  EXPECT_EQ(page.next_token, "p2");
  DescribePage none;
  ASSERT_TRUE(parse_describe(R"({"logGroups":[{"logGroupName":"g-prefixed"}]})", "logGroups", "logGroupName", "g", none));
  EXPECT_FALSE(none.found);
  EXPECT_EQ(none.next_token, "");
  EXPECT_FALSE(parse_describe(R"({"logGroups":7})", "logGroups", "logGroupName", "g", none));
}

}  // namespace
}  // namespace sluice::cwl

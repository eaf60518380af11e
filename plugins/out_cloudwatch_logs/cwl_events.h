// CloudWatch Logs events in sluice's buffer chunks, and the PutLogEvents requests made of them as
// fluent-plugin-cloudwatch-logs 0.15's out_cloudwatch_logs.rb makes them:
//
//  - at buffer time each record becomes one entry: its log group and stream (empty when they come
//    from the chunk's log_group_name / log_stream_name templates), its timestamp in milliseconds
//    and its message, already formatted (cwl_format.h);
//  - at flush the chunk's entries are grouped by (group, stream) in first-seen order (the plugin's
//    group_by), sorted by timestamp within each (stably; Ruby's sort_by is not stable), and cut
//    into PutLogEvents batches by the plugin's put_events_by_chunk rule: a batch ends before the
//    event that would take it past 1,048,576 bytes (message bytes + 26 per event), past
//    max_events_per_batch events, or to a span of 24 hours or more.
//
// An entry in a chunk payload (native byte order: a chunk file is read back by the same build):
// u32 group size, u32 stream size, u32 message size, i64 timestamp (ms), group, stream, message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::cwl {

// PutLogEvents' limits (the API reference), as the plugin counts them.
constexpr size_t kMaxBatchBytes = 1048576;  // MAX_EVENTS_SIZE: messages + 26 bytes per event
constexpr size_t kEventOverhead = 26;       // EVENT_HEADER_SIZE
constexpr size_t kMaxEventBytes = 1048576;  // MAX_EVENT_SIZE (0.15.0; 256 KiB before), with the 26
constexpr size_t kMaxBatchEvents = 10000;
constexpr int64_t kMaxSpanMs = 24 * 3600 * 1000;

void append_entry(std::string& out, std::string_view group, std::string_view stream, int64_t time_ms,
                  std::string_view message);

struct Event {
  std::string_view group, stream, message;
  int64_t time_ms = 0;
  std::string_view raw;  // the entry's bytes in the payload (for the rest of a chunk to retry)
  size_t bytes() const { return message.size() + kEventOverhead; }
};

// The entries of a payload; false when it is not a whole sequence of them (a damaged chunk file).
bool read_entries(std::string_view payload, std::vector<Event>& out);

// The events of one log stream, in the order they are sent.
struct Stream {
  std::string group, stream;
  std::vector<const Event*> events;
};

// Groups `events` by (group, stream) in first-seen order, an empty group or stream being
// `group_name` or `stream_name` (the chunk's), and sorts each stream's events by time (stable).
std::vector<Stream> group_streams(const std::vector<Event>& events, std::string_view group_name,
                                  std::string_view stream_name);

// The end of the batch that starts at `from` (< events.size()): put_events_by_chunk's rule.
// `bytes` gets the batch's size as PutLogEvents counts it.
size_t batch_end(const std::vector<const Event*>& events, size_t from, size_t max_events, size_t& bytes);

// The first event larger than kMaxEventBytes, or null.
const Event* too_large_event(const std::vector<Event>& events);

// Request bodies (JSON 1.1; names and values JSON-escaped).
std::string put_log_events_body(std::string_view group, std::string_view stream, const Event* const* events,
                                size_t n, std::string_view sequence_token);
std::string describe_log_groups_body(std::string_view prefix, std::string_view next_token);
std::string describe_log_streams_body(std::string_view group, std::string_view prefix,
                                      std::string_view next_token);
std::string create_log_group_body(std::string_view group,
                                  const std::vector<std::pair<std::string, std::string>>& tags);
std::string create_log_stream_body(std::string_view group, std::string_view stream);
std::string put_retention_policy_body(std::string_view group, int64_t days);

// ---- responses ----

// An error answer: `{"__type":"com.amazonaws.logs#ResourceNotFoundException","message":"..."}`
// (or the x-amzn-ErrorType header). `type` is the name after any `#`, `message` is bounded and
// cut before anything that echoes the request (an InvalidSignatureException's canonical request
// holds the session token of temporary credentials).
struct ApiError {
  std::string type;
  std::string message;
  std::string expected_sequence_token;  // InvalidSequenceTokenException, DataAlreadyAcceptedException
};
ApiError parse_error(std::string_view body, const std::string* error_type_header);

// PutLogEvents' answer: nextSequenceToken and rejectedLogEventsInfo (as its JSON text, empty when
// absent). False when the body is not a JSON object.
struct PutResult {
  std::string next_sequence_token;
  std::string rejected;
};
bool parse_put_response(std::string_view body, PutResult& out);

// DescribeLogGroups / DescribeLogStreams: whether `name` is in the page's `list` ("logGroups",
// "logStreams"; `name_field` "logGroupName", "logStreamName"), with its uploadSequenceToken, and
// the nextToken of the next page (empty: last page). False when the body is not such a page.
struct DescribePage {
  bool found = false;
  std::string upload_sequence_token;
  std::string next_token;
};
bool parse_describe(std::string_view body, const char* list, const char* name_field, std::string_view name,
                    DescribePage& out);

}  // namespace sluice::cwl

#include "cwl_events.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "core/log.h"
#include "format/json.h"

namespace sluice::cwl {

namespace {

void put_u32(std::string& out, size_t v) {
  const uint32_t u = uint32_t(v);
  out.append(reinterpret_cast<const char*>(&u), 4);
}

void member(std::string& out, bool& first, std::string_view key, std::string_view value) {
  if (!first) out.push_back(',');
  first = false;
  json::append_string(out, key);
  out.push_back(':');
  json::append_string(out, value);
}

struct PairHash {
  size_t operator()(const std::pair<std::string_view, std::string_view>& p) const {
    return std::hash<std::string_view>()(p.first) * 31 + std::hash<std::string_view>()(p.second);
  }
};

}  // namespace

void append_entry(std::string& out, std::string_view group, std::string_view stream, int64_t time_ms,
                  std::string_view message) {
  put_u32(out, group.size());
  put_u32(out, stream.size());
  put_u32(out, message.size());
  out.append(reinterpret_cast<const char*>(&time_ms), 8);
  out.append(group);
  out.append(stream);
  out.append(message);
}

bool read_entries(std::string_view p, std::vector<Event>& out) {
  size_t i = 0;
  while (i < p.size()) {
    const size_t start = i;
    if (p.size() - i < 20) return false;
    uint32_t gs, ss, ms;
    std::memcpy(&gs, p.data() + i, 4);
    std::memcpy(&ss, p.data() + i + 4, 4);
    std::memcpy(&ms, p.data() + i + 8, 4);
    Event e;
    std::memcpy(&e.time_ms, p.data() + i + 12, 8);
    i += 20;
    if (p.size() - i < size_t(gs) + ss + ms) return false;
    e.group = p.substr(i, gs);
    e.stream = p.substr(i + gs, ss);
    e.message = p.substr(i + gs + ss, ms);
    i += size_t(gs) + ss + ms;
    e.raw = p.substr(start, i - start);
    out.push_back(e);
  }
  return true;
}

std::vector<Stream> group_streams(const std::vector<Event>& events, std::string_view group_name,
                                  std::string_view stream_name) {
  std::unordered_map<std::pair<std::string_view, std::string_view>, size_t, PairHash> index;
  std::vector<Stream> streams;
  for (const Event& e : events) {
    std::string_view g = e.group.empty() ? group_name : e.group;
    std::string_view s = e.stream.empty() ? stream_name : e.stream;
    auto [it, added] = index.emplace(std::make_pair(g, s), streams.size());
    if (added) streams.push_back(Stream{std::string(g), std::string(s), {}});
    streams[it->second].events.push_back(&e);
  }
  for (Stream& s : streams)
    std::stable_sort(s.events.begin(), s.events.end(),
                     [](const Event* a, const Event* b) { return a->time_ms < b->time_ms; });
  return streams;
}

size_t batch_end(const std::vector<const Event*>& events, size_t from, size_t max_events, size_t& bytes) {
  bytes = 0;
  size_t i = from;
  for (; i < events.size(); ++i) {
    const size_t size = events[i]->bytes();
    if (i > from) {
      const bool span_too_big = events[i]->time_ms - events[from]->time_ms >= kMaxSpanMs;
      const bool too_big = bytes + size > kMaxBatchBytes;
      const bool too_long = i - from >= max_events;
      if (span_too_big || too_big || too_long) break;
    }
    bytes += size;
  }
  return i;
}

const Event* too_large_event(const std::vector<Event>& events) {
  for (const Event& e : events)
    if (e.bytes() > kMaxEventBytes) return &e;
  return nullptr;
}

std::string put_log_events_body(std::string_view group, std::string_view stream, const Event* const* events,
                                size_t n, std::string_view sequence_token) {
  std::string out;
  size_t size = 96 + group.size() + stream.size() + sequence_token.size();
  for (size_t k = 0; k < n; ++k) size += events[k]->message.size() + 48;
  out.reserve(size);
  bool first = true;
  out.push_back('{');
  member(out, first, "logGroupName", group);
  member(out, first, "logStreamName", stream);
  if (!sequence_token.empty()) member(out, first, "sequenceToken", sequence_token);
  out.append(",\"logEvents\":[");
  for (size_t k = 0; k < n; ++k) {
    if (k) out.push_back(',');
    out.append("{\"timestamp\":").append(std::to_string(events[k]->time_ms)).append(",\"message\":");
    json::append_string(out, events[k]->message);
    out.push_back('}');
  }
  out.append("]}");
  return out;
}

std::string describe_log_groups_body(std::string_view prefix, std::string_view next_token) {
  std::string out = "{";
  bool first = true;
  member(out, first, "logGroupNamePrefix", prefix);
  if (!next_token.empty()) member(out, first, "nextToken", next_token);
  out.push_back('}');
  return out;
}

std::string describe_log_streams_body(std::string_view group, std::string_view prefix,
                                      std::string_view next_token) {
  std::string out = "{";
  bool first = true;
  member(out, first, "logGroupName", group);
  member(out, first, "logStreamNamePrefix", prefix);
  if (!next_token.empty()) member(out, first, "nextToken", next_token);
  out.push_back('}');
  return out;
}

std::string create_log_group_body(std::string_view group,
                                  const std::vector<std::pair<std::string, std::string>>& tags) {
  std::string out = "{";
  bool first = true;
  member(out, first, "logGroupName", group);
  if (!tags.empty()) {
    out.append(",\"tags\":{");
    bool first_tag = true;
    for (auto& [k, v] : tags) member(out, first_tag, k, v);
    out.push_back('}');
  }
  out.push_back('}');
  return out;
}

std::string create_log_stream_body(std::string_view group, std::string_view stream) {
  std::string out = "{";
  bool first = true;
  member(out, first, "logGroupName", group);
  member(out, first, "logStreamName", stream);
  out.push_back('}');
  return out;
}

std::string put_retention_policy_body(std::string_view group, int64_t days) {
  std::string out = "{";
  bool first = true;
  member(out, first, "logGroupName", group);
  out.append(",\"retentionInDays\":").append(std::to_string(days)).push_back('}');
  return out;
}

ApiError parse_error(std::string_view body, const std::string* error_type_header) {
  ApiError e;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body.substr(0, 64 << 10));
  simdjson::dom::object doc;
  std::string_view type, message, token;
  if (!parser.parse(padded).get(doc)) {
    if (doc["__type"].get(type)) type = {};
    if (doc["message"].get(message) && doc["Message"].get(message)) message = {};
    if (doc["expectedSequenceToken"].get(token)) token = {};
  }
  if (type.empty() && error_type_header) type = *error_type_header;
  // "com.amazonaws.logs#ThrottlingException", or "ThrottlingException:http://..." in the header.
  if (size_t hash = type.rfind('#'); hash != std::string_view::npos) type.remove_prefix(hash + 1);
  if (size_t colon = type.find(':'); colon != std::string_view::npos) type = type.substr(0, colon);
  for (char c : type.substr(0, 128))
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) e.type.push_back(c);
  // Nothing past where AWS starts to echo what it computed from the request.
  for (std::string_view cut : {std::string_view("\n"), std::string_view("The Canonical String"),
                               std::string_view("The String-to-Sign")})
    if (size_t at = message.find(cut); at != std::string_view::npos) message = message.substr(0, at);
  while (!message.empty() && message.back() == ' ') message.remove_suffix(1);
  e.message = log::quote_excerpt(message, 300);
  if (token.size() <= 512) e.expected_sequence_token = std::string(token);
  return e;
}

bool parse_put_response(std::string_view body, PutResult& out) {
  if (body.empty()) return true;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::object doc;
  if (parser.parse(padded).get(doc)) return false;
  std::string_view token;
  if (!doc["nextSequenceToken"].get(token)) out.next_sequence_token = std::string(token.substr(0, 512));
  simdjson::dom::element rejected;
  if (!doc["rejectedLogEventsInfo"].get(rejected) && !rejected.is_null())
    out.rejected = simdjson::minify(rejected).substr(0, 1024);
  return true;
}

bool parse_describe(std::string_view body, const char* list, const char* name_field, std::string_view name,
                    DescribePage& out) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::object doc;
  if (parser.parse(padded).get(doc)) return false;
  simdjson::dom::array items;
  auto found_list = doc[list].get(items);
  if (found_list && found_list != simdjson::NO_SUCH_FIELD) return false;
  if (!found_list)
    for (simdjson::dom::element item : items) {
      std::string_view n, token;
      if (item[name_field].get(n) || n != name) continue;
      out.found = true;
      if (!item["uploadSequenceToken"].get(token)) out.upload_sequence_token = std::string(token.substr(0, 512));
      break;
    }
  std::string_view next;
  if (!doc["nextToken"].get(next)) out.next_token = std::string(next.substr(0, 4096));
  return true;
}

}  // namespace sluice::cwl

#include "cwl_format.h"

#include <cmath>

#include "cwl_events.h"
#include "format/json.h"
#include "format/utf8_scrub.h"

namespace sluice::cwl {

int64_t time_ms(EventTime t) {
  const double seconds = double(t.sec) + double(t.nsec) / 1e9;
  return int64_t(std::floor(seconds * 1000.0));
}

std::string_view first_chars(std::string_view s, int64_t chars) {
  size_t i = 0;
  for (int64_t n = 0; i < s.size(); ++n) {
    if (n == chars) return s.substr(0, i);
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  }
  return s;
}

EventFormatter::EventFormatter(FormatSettings settings, LineFormat format)
    : s_(std::move(settings)), format_(std::move(format)) {}

bool EventFormatter::name_of(NameFrom from, const std::string& key, const Batch& batch, const Record& record,
                             std::string& out) {
  out.clear();
  if (from == NameFrom::Template) return true;
  if (from == NameFrom::Tag) {
    out.assign(batch.tag);
    return true;
  }
  const Value* v = batch.find(record, key);
  if (!v || v->kind == ValueKind::Null) return false;
  append_ruby_to_s(out, *v);
  return !out.empty();
}

bool EventFormatter::removed(std::string_view key) const {
  return (s_.remove_group_key && s_.group_from == NameFrom::RecordKey && key == s_.group_key) ||
         (s_.remove_stream_key && s_.stream_from == NameFrom::RecordKey && key == s_.stream_key);
}

EventFormatter::Outcome EventFormatter::append(std::string& out, const Batch& batch, const Record& record) {
  if (!name_of(s_.group_from, s_.group_key, batch, record, group_)) return Outcome::NoGroup;
  // The group's key deleted first (record.delete) leaves nothing for a stream of the same key.
  const bool stream_key_gone = s_.stream_from == NameFrom::RecordKey && s_.group_from == NameFrom::RecordKey &&
                               s_.remove_group_key && s_.group_key == s_.stream_key;
  if (stream_key_gone || !name_of(s_.stream_from, s_.stream_key, batch, record, stream_)) return Outcome::NoStream;

  record_.clear();
  record_.tag = batch.tag;
  const Record& r = record_.begin_record(record.time);
  auto keep = [&](const Field& f) {
    if (f.value.kind == ValueKind::String && f.value.text.empty()) return;  // drop_empty_record
    if (removed(f.key)) return;
    record_.add_field(f.key, f.value);
  };
  for (const Field* f = batch.begin(record); f != batch.end(record); ++f) keep(*f);
  for (const Field& f : batch.common_fields) keep(f);

  message_.clear();
  switch (s_.message_from) {
    case MessageFrom::Json:
      json::append_record(message_, record_, r, s_.hex);
      break;
    case MessageFrom::MessageKeys:
      // message_keys.map { |k| record[k].to_s }.reject(&:empty?).join(' ')
      for (const std::string& k : s_.message_keys) {
        const Value* v = record_.find(r, k);
        piece_.clear();
        if (v && v->kind == ValueKind::Json) append_json_as_ruby(piece_, v->text);
        else if (v) append_ruby_to_s(piece_, *v);
        if (piece_.empty()) continue;
        if (!message_.empty()) message_.push_back(' ');
        message_.append(piece_);
      }
      break;
    case MessageFrom::Format:
      format_.append(message_, batch.tag, record_, r);
      break;
  }
  // scrub! on every string of the record: the message's invalid bytes are theirs (JSON escapes
  // and separators are ASCII), so scrubbing the message does the same.
  std::string_view message = scrub_utf8(message_, scrubbed_, "\xEF\xBF\xBD");
  if (message.empty()) return Outcome::EmptyMessage;
  if (s_.max_message_length > 0) message = first_chars(message, s_.max_message_length);
  append_entry(out, s_.group_from == NameFrom::Template ? std::string_view() : std::string_view(group_),
               s_.stream_from == NameFrom::Template ? std::string_view() : std::string_view(stream_),
               time_ms(record.time), message);
  return Outcome::Entry;
}

}  // namespace sluice::cwl

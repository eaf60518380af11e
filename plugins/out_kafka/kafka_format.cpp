#include "kafka_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "format/json.h"
#include "format/msgpack.h"
#include "format/string_writer.h"
#include "format/time.h"

namespace sluice::kafka {

void append_to_s(std::string& out, const Value& v) { append_ruby_to_s(out, v); }

void append_ltsv_value(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\t': out.append("\\t"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      default: out.push_back(c);
    }
  }
}

bool parse_record_accessor(const std::string& text, std::vector<std::string>& out) {
  out.clear();
  if (text.empty()) return false;
  if (text[0] != '$') {
    out.push_back(text);
    return true;
  }
  size_t i = 1;
  while (i < text.size()) {
    if (text[i] == '.') {
      size_t j = i + 1;
      while (j < text.size() && text[j] != '.' && text[j] != '[') ++j;
      if (j == i + 1) return false;
      out.push_back(text.substr(i + 1, j - i - 1));
      i = j;
    } else if (text[i] == '[') {
      if (i + 1 >= text.size() || (text[i + 1] != '\'' && text[i + 1] != '"')) return false;
      char q = text[i + 1];
      size_t end = text.find(q, i + 2);
      if (end == std::string::npos || end + 1 >= text.size() || text[end + 1] != ']') return false;
      out.push_back(text.substr(i + 2, end - i - 2));
      i = end + 2;
    } else {
      return false;
    }
  }
  return !out.empty();
}

RecordMapper::RecordMapper(MapperConfig config, LineFormat line_format)
    : config_(std::move(config)), line_(std::move(line_format)) {
  if (config_.inject.time_type == InjectConfig::TimeType::String)
    time_format_ = CachedTimeFormat(
        config_.inject.time_format.empty() ? "%Y-%m-%dT%H:%M:%S%z" : config_.inject.time_format,
        config_.inject.utc);
  const InjectConfig& inj = config_.inject;
  plain_json_ = config_.format == MapperConfig::Format::Json && config_.exclude_fields.empty() &&
                config_.headers_from_record.empty() && inj.tag_key.empty() && inj.time_key.empty() &&
                inj.hostname_key.empty() && inj.worker_id_key.empty();
  for (const auto member : kTakenKeys)
    if (const std::string& key = config_.*member; !key.empty())
      taken_key_sizes_ |= uint64_t{1} << std::min<size_t>(key.size(), 63);
}

bool RecordMapper::is_taken_key(std::string_view key) const {
  for (const auto member : kTakenKeys)
    if (key == config_.*member) return true;
  return false;
}

void RecordMapper::apply_defaults(MessageMeta& meta) const {
  const MapperConfig& c = config_;
  if (!meta.pkey && c.default_partition_key) meta.pkey = std::string_view(*c.default_partition_key);
  if (!meta.partition && c.default_partition) meta.partition = c.default_partition;
  if (!meta.key && c.default_message_key) meta.key = std::string_view(*c.default_message_key);
}

// Whether the record holds none of the keys map() takes from a record (most records: the
// topic, key and partition come from the output's defaults). Inline: as a call of its own it
// cost ~30 instructions per record.
inline bool RecordMapper::takes_nothing_from(const Batch& batch, const Record& record) const {
  // The size check first (an empty key never passes it: empty taken keys set no bit).
  auto taken = [this](std::string_view key) {
    return (taken_key_sizes_ >> std::min<size_t>(key.size(), 63) & 1) != 0 && is_taken_key(key);
  };
  for (const Field* f = batch.begin(record); f != batch.end(record); ++f)
    if (taken(f->key)) return false;
  for (const Field& f : batch.common_fields)
    if (taken(f.key)) return false;
  return true;
}

std::string& RecordMapper::next_scratch() {
  if (scratch_used_ == scratch_.size()) scratch_.emplace_back();
  std::string& s = scratch_[scratch_used_++];
  s.clear();
  return s;
}

void RecordMapper::collect(const Batch& batch, const Record& record) {
  members_.clear();
  for (const Field* f = batch.begin(record); f != batch.end(record); ++f)
    members_.push_back({f->key, f->value});
  for (const Field& f : batch.common_fields) members_.push_back({f.key, f.value});
}

const Value* RecordMapper::lookup(std::string_view key) const {
  for (const Member& m : members_)
    if (m.key == key) return &m.value;
  return nullptr;
}

bool RecordMapper::lookup_path(const std::vector<std::string>& path, std::string& scratch,
                               std::optional<std::string_view>& out) {
  out.reset();
  if (path.size() != 1) return false;  // nested paths: see README
  const Value* v = lookup(path[0]);
  if (!v || v->kind == ValueKind::Null) return true;
  scratch.clear();
  append_to_s(scratch, *v);
  out = scratch;
  return true;
}

void RecordMapper::map(const Batch& batch, const Record& record, std::string& out,
                       MessageMeta& meta) {
  scratch_used_ = 0;
  meta.topic = {};
  meta.key.reset();
  meta.pkey.reset();
  meta.partition.reset();
  meta.headers.clear();
  // Headers: the static ones first (those from the record follow them on the general path).
  for (auto& [k, v] : config_.headers) meta.headers.emplace_back(k, std::string_view(v));
  if (plain_json_ && takes_nothing_from(batch, record)) {
    // What the general path below gives such a record, without copying its members first.
    apply_defaults(meta);
    StringWriter w(out);
    json::write_record_open(w, batch, record);
    w.put('}');
    return;
  }
  collect(batch, record);

  auto remove = [&](std::string_view key) {
    for (size_t i = 0; i < members_.size(); ++i)
      if (members_[i].key == key) {
        members_.erase(members_.begin() + static_cast<long>(i));
        return;
      }
  };
  auto put = [&](std::string_view key, Value v) {
    for (Member& m : members_)
      if (m.key == key) {
        m.value = v;
        return;
      }
    members_.push_back({key, v});
  };

  for (auto& path : config_.exclude_fields)
    if (path.size() == 1) remove(path[0]);

  // <inject> (Fluentd's order: hostname, worker_id, tag, time).
  const InjectConfig& inj = config_.inject;
  if (!inj.hostname_key.empty()) put(inj.hostname_key, Value::of_string(inj.hostname));
  if (!inj.worker_id_key.empty()) put(inj.worker_id_key, Value::of_int(inj.worker_id));
  if (!inj.tag_key.empty()) put(inj.tag_key, Value::of_string(batch.tag));
  if (!inj.time_key.empty()) {
    EventTime t = record.time;
    switch (inj.time_type) {
      case InjectConfig::TimeType::Float:
        // time.to_r.truncate(6).to_f
        put(inj.time_key, Value::of_float(static_cast<double>(t.sec) +
                                          static_cast<double>(t.nsec / 1000) / 1e6));
        break;
      case InjectConfig::TimeType::Unixtime: put(inj.time_key, Value::of_int(t.sec)); break;
      case InjectConfig::TimeType::UnixtimeMillis:
        put(inj.time_key, Value::of_int(t.sec * 1000 + t.nsec / 1000000));
        break;
      case InjectConfig::TimeType::String: {
        std::string& s = next_scratch();
        time_format_.append(s, t);
        put(inj.time_key, Value::of_string(s));
        break;
      }
    }
  }

  // Headers from the record, after the static ones, before any field is excluded.
  for (auto& [k, path] : config_.headers_from_record) {
    std::optional<std::string_view> v;
    lookup_path(path, next_scratch(), v);
    meta.headers.emplace_back(k, v);
  }

  auto take = [&](const std::string& key, bool exclude) -> std::optional<std::string_view> {
    if (key.empty()) return std::nullopt;
    const Value* v = lookup(key);
    std::optional<std::string_view> r;
    if (v && v->kind != ValueKind::Null) {
      std::string& s = next_scratch();
      append_to_s(s, *v);
      r = s;
    }
    if (exclude) remove(key);
    return r;
  };

  if (auto t = take(config_.topic_key, config_.exclude_topic_key); t && !t->empty()) meta.topic = *t;
  meta.pkey = take(config_.partition_key_key, config_.exclude_partition_key);
  if (!config_.partition_key.empty()) {
    const Value* v = lookup(config_.partition_key);
    if (v && v->kind == ValueKind::Int) {
      meta.partition = static_cast<int32_t>(v->integer);
    } else if (v && v->kind == ValueKind::String) {
      int32_t p = 0;
      auto r = std::from_chars(v->text.data(), v->text.data() + v->text.size(), p);
      if (r.ec == std::errc() && r.ptr != v->text.data()) meta.partition = p;  // Ruby's to_i
    }
    if (config_.exclude_partition) remove(config_.partition_key);
  }
  meta.key = take(config_.message_key_key, config_.exclude_message_key);
  apply_defaults(meta);

  switch (config_.format) {
    case MapperConfig::Format::Json: {
      // One writer for the whole value: room is asked for per member, the string's size set once.
      StringWriter w(out);
      w.put('{');
      bool first = true;
      for (const Member& m : members_) json::write_member(w, first, m.key, m.value);
      w.put('}');
      break;
    }
    case MapperConfig::Format::Msgpack:
      msgpack::append_map_header(out, static_cast<uint32_t>(members_.size()));
      for (const Member& m : members_) {
        msgpack::append_str(out, m.key);
        msgpack::append_value(out, m.value);
      }
      break;
    case MapperConfig::Format::Ltsv: {
      bool first = true;
      std::string& s = next_scratch();
      for (const Member& m : members_) {
        if (!first) out.push_back('\t');
        first = false;
        out.append(m.key);
        out.push_back(':');
        s.clear();
        append_to_s(s, m.value);
        append_ltsv_value(out, s);
      }
      break;
    }
    case MapperConfig::Format::Attr: {
      bool first = true;
      for (const std::string& name : config_.attr_fields) {
        if (!first) out.append(config_.attr_separator);
        first = false;
        if (const Value* v = lookup(name)) append_to_s(out, *v);
      }
      break;
    }
    case MapperConfig::Format::Line:
      line_.append(out, batch.tag, batch, record);
      break;
  }
}

}  // namespace sluice::kafka

#include "es_format.h"

#include <array>
#include <cstring>
#include <memory>

#include "format/json.h"
#include "format/string_writer.h"
#include "format/time.h"
#include "format/time_calendar.h"

namespace sluice::es {

namespace {

using calendar::days_from_civil;
using calendar::local_offset_at;

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// "00".."99": two digits with one division.
constexpr auto kPairs = [] {
  std::array<char, 200> t{};
  for (int i = 0; i < 100; ++i) t[2 * i] = char('0' + i / 10), t[2 * i + 1] = char('0' + i % 10);
  return t;
}();

char* put2(char* w, unsigned v) {
  std::memcpy(w, &kPairs[2 * (v % 100)], 2);
  return w + 2;
}

// `+hh:mm`, 6 bytes.
char* write_offset(char* w, int32_t offset) {
  *w++ = offset < 0 ? '-' : '+';
  const unsigned o = unsigned(offset < 0 ? -offset : offset);
  w = put2(w, o / 3600);
  *w++ = ':';
  return put2(w, o / 60 % 60);
}

bool digits(std::string_view s, size_t pos, size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + unsigned(c - '0');
  }
  return true;
}

uint64_t mix(uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

uint64_t fnv(uint64_t h, const void* data, size_t n) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

char* write_hex64(char* w, uint64_t v) {
  static const char hex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) *w++ = hex[(v >> (i * 4)) & 15];
  return w;
}

}  // namespace

char* write_deterministic_id(char* w, std::string_view stream_id, uint64_t offset, EventTime time) {
  uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
  a = fnv(a, stream_id.data(), stream_id.size());
  b = fnv(b, stream_id.data(), stream_id.size());
  uint64_t nums[3] = {offset, static_cast<uint64_t>(time.sec), time.nsec};
  a = fnv(a, nums, sizeof nums);
  b = fnv(b ^ 0x9e3779b97f4a7c15ULL, nums, sizeof nums);
  w = write_hex64(w, mix(a));
  return write_hex64(w, mix(b ^ (a << 1)));
}

void append_deterministic_id(std::string& out, std::string_view stream_id, uint64_t offset,
                             EventTime time) {
  StringWriter w(out);
  w.advance(write_deterministic_id(w.room(kDeterministicIdSize), stream_id, offset, time));
}

BulkFormatter::BulkFormatter(FormatConfig config) : config_(std::move(config)) {
  need_dt_ = config_.logstash_format || config_.include_timestamp;
  need_scan_ = true;
  other_specials_ = !config_.time_key.empty() || !config_.target_index_key.empty() ||
                    !config_.id_key.empty() || !config_.routing_key.empty() ||
                    config_.include_tag_key;
  for (auto& k : config_.remove_keys) {
    if (k == "@timestamp") remove_timestamp_ = true;
    if (k == config_.tag_key) remove_tag_ = true;
  }
  // Daily (or coarser) date formats can be cached per day.
  const std::string& f = config_.logstash_dateformat;
  for (size_t i = 0; i + 1 < f.size(); ++i)
    if (f[i] == '%') {
      char c = f[++i];
      if (!strchr("YmdyjbBeFCGgVuUWaAh%", c)) dateformat_daily_ = false;
    }
  index_has_time_ = config_.index_name.find('%') != std::string::npos;
  index_has_tag_ = config_.index_name.find("${tag") != std::string::npos;
  prefix_has_tag_ = config_.logstash_prefix.find("${tag") != std::string::npos;
  if (!index_has_tag_) {
    static_index_ = config_.index_name;
    lower(static_index_);
  }
  if (!prefix_has_tag_) logstash_prefix_ = config_.logstash_prefix;
  action_head_ = "{\"" + config_.write_operation + "\":{\"_index\":";
  create_ = config_.write_operation == "create" && !config_.data_stream;
  plain_config_ = config_.use_shapes && !config_.deterministic_id && !create_;
  plain_timestamp_ = need_dt_ && !remove_timestamp_;
  set_major_version(major_);
}

void BulkFormatter::lower(std::string& s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
}

std::string BulkFormatter::expand_tag(const std::string& pattern, std::string_view tag) const {
  std::string out;
  size_t i = 0;
  while (i < pattern.size()) {
    size_t p = pattern.find("${tag", i);
    if (p == std::string::npos) {
      out.append(pattern, i, std::string::npos);
      break;
    }
    out.append(pattern, i, p - i);
    size_t close = pattern.find('}', p);
    if (close == std::string::npos) {
      out.append(pattern, p, std::string::npos);
      break;
    }
    std::string inner = pattern.substr(p + 2, close - p - 2);  // tag or tag[N]
    if (inner == "tag") {
      out.append(tag);
    } else if (inner.size() > 5 && inner.compare(0, 4, "tag[") == 0 && inner.back() == ']') {
      long n = strtol(inner.c_str() + 4, nullptr, 10);
      std::vector<std::string_view> parts;
      size_t b = 0;
      while (true) {
        size_t e = tag.find('.', b);
        parts.push_back(tag.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
        if (e == std::string_view::npos) break;
        b = e + 1;
      }
      long idx = n < 0 ? long(parts.size()) + n : n;
      if (idx >= 0 && idx < long(parts.size())) out.append(parts[size_t(idx)]);
    } else {
      out.append(pattern, p, close - p + 1);
    }
    i = close + 1;
  }
  return out;
}

void BulkFormatter::begin_batch(const Batch& batch) {
  scanned_ = nullptr;
  common_specials_ = Specials{};
  scan_fields(batch.common_fields.data(), batch.common_fields.data() + batch.common_fields.size(),
              common_specials_);
  if (batch_tag_ != batch.tag) {
    batch_tag_.assign(batch.tag);
    if (index_has_tag_) {
      static_index_ = expand_tag(config_.index_name, batch.tag);
      lower(static_index_);
      index_cache_key_ = INT64_MIN;
      ++index_version_;
    }
    if (prefix_has_tag_) {
      logstash_prefix_ = expand_tag(config_.logstash_prefix, batch.tag);
      index_cache_key_ = INT64_MIN;
      index_lo_ = 1, index_hi_ = 0;
    }
  }
  begin_plain_batch(batch);
}

void BulkFormatter::scan_fields(const Field* begin, const Field* end, Specials& s) const {
  for (const Field* f = begin; f != end; ++f) {
    std::string_view k = f->key;
    if (k.size() == 10 && k == "@timestamp" && !s.timestamp) s.timestamp = &f->value;
    if (!other_specials_) continue;
    if (!config_.time_key.empty() && k == config_.time_key && !s.time_key) s.time_key = &f->value;
    if (!config_.target_index_key.empty() && k == config_.target_index_key && !s.target_index)
      s.target_index = &f->value;
    if (!config_.id_key.empty() && k == config_.id_key && !s.id) s.id = &f->value;
    if (!config_.routing_key.empty() && k == config_.routing_key && !s.routing) s.routing = &f->value;
    if (config_.include_tag_key && k == config_.tag_key) s.has_tag_key = true;
  }
}

// The record's own fields come first; what they do not have is taken from the batch's common
// fields, scanned once per batch.
void BulkFormatter::scan(const Batch& batch, const Record& record, Specials& s) const {
  scan_fields(batch.begin(record), batch.end(record), s);
  const Specials& c = common_specials_;
  if (!s.timestamp) s.timestamp = c.timestamp;
  if (!s.time_key) s.time_key = c.time_key;
  if (!s.target_index) s.target_index = c.target_index;
  if (!s.id) s.id = c.id;
  if (!s.routing) s.routing = c.routing;
  s.has_tag_key = s.has_tag_key || c.has_tag_key;
}

static bool truthy(const Value* v) {
  return v && v->kind != ValueKind::Null && !(v->kind == ValueKind::Bool && !v->boolean);
}

bool BulkFormatter::parse_datetime(std::string_view s, int64_t& sec, uint32_t& nsec, int32_t& offset) {
  while (!s.empty() && (s.front() == ' ')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ')) s.remove_suffix(1);
  unsigned Y, M, D, h, m, sc;
  if (!digits(s, 0, 4, Y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, M) || s[7] != '-' ||
      !digits(s, 8, 2, D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, m) || s[16] != ':' ||
      !digits(s, 17, 2, sc))
    return false;
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sc > 60) return false;
  size_t i = 19;
  nsec = 0;
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    ++i;
    unsigned n = 0;
    int count = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (count < 9) n = n * 10 + unsigned(s[i] - '0'), ++count;
      ++i;
    }
    if (count == 0) return false;
    while (count < 9) n *= 10, ++count;
    nsec = n;
  }
  offset = 0;
  if (i < s.size()) {
    if (s[i] == 'Z' || s[i] == 'z') {
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      int sign = s[i] == '-' ? -1 : 1;
      unsigned oh, om = 0;
      if (!digits(s, i + 1, 2, oh)) return false;
      i += 3;
      if (i < s.size() && s[i] == ':') ++i;
      if (i < s.size()) {
        if (!digits(s, i, 2, om)) return false;
        i += 2;
      }
      offset = sign * int32_t(oh * 3600 + om * 60);
    } else {
      return false;
    }
  }
  if (i != s.size()) return false;
  sec = days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + sc - offset;
  return true;
}

char* BulkFormatter::write_iso8601(char* w, int64_t sec, uint32_t nsec, int32_t offset,
                                   int precision) {
  int64_t local = sec + offset;
  int64_t days = floor_div(local, 86400);
  int64_t rem = local - days * 86400;
  const calendar::Civil c = calendar::civil_from_days(days);
  // At most 29 bytes and the terminating NUL: within the room's first 32.
  w += snprintf(w, 32, "%04lld-%02u-%02uT%02u:%02u:%02u", (long long)c.year, c.month, c.day,
                unsigned(rem / 3600), unsigned(rem / 60 % 60), unsigned(rem % 60));
  // A fraction past 999999999 (from a negative float time) keeps its first nine digits.
  w = detail::write_fraction(w, nsec >= 1000000000u ? nsec / 10 : nsec, precision);
  return write_offset(w, offset);
}

void BulkFormatter::append_iso8601(std::string& out, int64_t sec, uint32_t nsec, int32_t offset,
                                   int precision) {
  StringWriter w(out);
  w.advance(write_iso8601(w.room(timestamp_room(precision)), sec, nsec, offset, precision));
}

// The parts of write_event_timestamp's `YYYY-MM-DDTHH:MM:SS[.fffffffff]+hh:mm` that hold for a
// second: the text up to the seconds and the offset.
void BulkFormatter::refresh_timestamp_cache(int64_t sec) {
  ts_cache_sec_ = sec;
  char text[64];
  const int32_t offset = local_offset_at(sec);
  ts_cache_prefix_len_ = size_t(write_iso8601(text, sec, 0, offset, 0) - text) - 6;
  std::memcpy(ts_cache_prefix_, text, sizeof ts_cache_prefix_);
  write_offset(ts_cache_suffix_, offset);
}

// The DateTime the plugin computes for logstash_format / include_timestamp: from `@timestamp`,
// else from time_key (then `@timestamp` is added from it), else the event time (added).
bool BulkFormatter::record_dt(const Specials& s, const Record& record, int64_t& sec, uint32_t& nsec,
                              int32_t& offset, bool& add_timestamp) {
  add_timestamp = false;
  const Value* v = s.timestamp ? s.timestamp : s.time_key;
  if (v) {
    bool ok = false;
    if (v->kind == ValueKind::String) {
      if (!config_.time_key_format.empty()) {
        static thread_local std::string fmt;
        static thread_local std::unique_ptr<TimeParser> parser;
        if (!parser || fmt != config_.time_key_format) {
          fmt = config_.time_key_format;
          try {
            parser = std::make_unique<TimeParser>(fmt, TimeParser::Type::String, true);
          } catch (...) {
            parser.reset();
          }
        }
        EventTime t;
        if (parser && parser->parse(v->text, t)) {
          sec = t.sec;
          nsec = t.nsec;
          offset = 0;
          ok = true;
        }
      } else {
        ok = parse_datetime(v->text, sec, nsec, offset);
      }
    } else if (v->kind == ValueKind::Int || v->kind == ValueKind::Float) {
      double d = v->kind == ValueKind::Int ? double(v->integer) : v->real;
      sec = int64_t(d);
      nsec = uint32_t((d - double(sec)) * 1e9);
      offset = local_offset_at(sec);
      ok = true;
    }
    if (!ok) {
      // The plugin emits a time parse error event and uses the event time.
      sec = record.time.sec;
      nsec = record.time.nsec;
      offset = local_offset_at(sec);
    }
    if (!s.timestamp) add_timestamp = !config_.time_key_exclude_timestamp;
    return ok || true;
  }
  sec = record.time.sec;
  nsec = record.time.nsec;
  offset = INT32_MIN;  // local, computed lazily
  add_timestamp = true;
  return true;
}

const BulkFormatter::Specials& BulkFormatter::specials(const Batch& batch, const Record& record) {
  if (scanned_ != &record) {
    specials_ = Specials{};
    scan(batch, record, specials_);
    scanned_ = &record;
  }
  return specials_;
}

std::string_view BulkFormatter::index_for_general(const Batch& batch, const Record& record) {
  static const Specials kNone;
  const Specials& s = plain(batch, record) ? kNone : specials(batch, record);
  if (truthy(s.target_index)) {
    ++index_version_;
    target_index_scratch_.clear();
    if (s.target_index->kind == ValueKind::String) target_index_scratch_.assign(s.target_index->text);
    else json::append_value(target_index_scratch_, *s.target_index);
    lower(target_index_scratch_);
    return target_index_scratch_;
  }
  if (config_.logstash_format) {
    if (!s.timestamp && !s.time_key) {
      // The event time: the index holds for the rest of its day (or second).
      const int64_t sec = record.time.sec;
      if (sec >= index_lo_ && sec < index_hi_) return index_cache_;
      return logstash_index(sec, config_.utc_index ? 0 : local_offset_at(sec), true);
    }
    int64_t sec;
    uint32_t nsec;
    int32_t off;
    bool add;
    record_dt(s, record, sec, nsec, off, add);
    if (config_.utc_index) off = 0;
    else if (off == INT32_MIN) off = local_offset_at(sec);
    return logstash_index(sec, off, false);
  }
  if (index_has_time_ && config_.time_chunk_key) {
    int64_t span = int64_t(config_.timekey);
    int64_t off = config_.timekey_use_utc ? 0 : local_offset_at(record.time.sec);
    int64_t slot = floor_div(record.time.sec + off, span) * span;
    if (slot != index_cache_key_) {
      index_cache_key_ = slot;
      ++index_version_;
      index_cache_.clear();
      append_time(index_cache_, EventTime{slot, 0}, static_index_, true);
      lower(index_cache_);
    }
    return index_cache_;
  }
  return static_index_;
}

// The logstash index of an event at sec with a UTC offset; for event times (`record_time`) also
// the range of seconds it holds for, while the offset stays the same.
std::string_view BulkFormatter::logstash_index(int64_t sec, int32_t off, bool record_time) {
  const int64_t local = sec + off;
  const int64_t key = dateformat_daily_ ? floor_div(local, 86400) : local;
  if (key != index_cache_key_) {
    index_cache_key_ = key;
    ++index_version_;
    index_cache_ = logstash_prefix_;
    index_cache_ += config_.logstash_prefix_separator;
    append_time(index_cache_, EventTime{local, 0}, config_.logstash_dateformat, true);
    lower(index_cache_);
  }
  index_lo_ = 1, index_hi_ = 0;
  if (record_time) {
    const int64_t lo = dateformat_daily_ ? key * 86400 - off : sec;
    const int64_t hi = dateformat_daily_ ? lo + 86400 : sec + 1;
    if (config_.utc_index || (local_offset_at(lo) == off && local_offset_at(hi - 1) == off))
      index_lo_ = lo, index_hi_ = hi;
  }
  return index_cache_;
}

bool BulkFormatter::skip_key(std::string_view key) const {
  for (auto& k : config_.remove_keys)
    if (k == key) return true;
  return false;
}

void BulkFormatter::set_major_version(int major) {
  major_ = major;
  action_cache_.clear();
  action_index_data_ = nullptr;
  type_part_.clear();
  if (major_ >= 8) {
    // no _type
  } else if (config_.suppress_type_name && major_ >= 7) {
    type_part_ = ",\"_type\":null";
  } else {
    std::string t = major_ == 7 ? "_doc" : config_.type_name;
    type_part_ = ",\"_type\":";
    json::append_string(type_part_, t);
  }
  pipeline_part_.clear();
  if (!config_.pipeline.empty()) {
    pipeline_part_ = ",\"pipeline\":";
    json::append_string(pipeline_part_, config_.pipeline);
  }
}

// The action line of a record without _id or routing, cached per index; records with them
// write its part before kActionEnd and add theirs.
std::string_view BulkFormatter::build_action_line(std::string_view index) {
  const bool own = index.data() == index_cache_.data() || index.data() == static_index_.data() ||
                   index.data() == target_index_scratch_.data();
  action_index_data_ = own ? index.data() : nullptr;
  action_version_ = index_version_;
  if (config_.data_stream) {
    action_cache_index_.assign(index);
    action_cache_ = "{\"create\":{}}\n";
  } else if (index != action_cache_index_ || action_cache_.empty()) {
    action_cache_index_.assign(index);
    action_cache_ = action_head_;
    json::append_string(action_cache_, index);
    action_cache_ += type_part_;
    action_cache_ += pipeline_part_;
    action_cache_ += kActionEnd;
  }
  return action_cache_;
}

bool BulkFormatter::append(std::string& payload, const Batch& batch, const Record& record,
                           std::string_view index) {
  if (plain(batch, record)) {
    append_plain(payload, batch, record, index);
    return true;
  }
  const Specials s = specials(batch, record);
  scanned_ = nullptr;
  const bool target_used = truthy(s.target_index);
  const bool deterministic = config_.deterministic_id && !batch.stream_id.empty();
  const bool has_id = truthy(s.id) || deterministic;
  if (!has_id && create_) return false;

  StringWriter out(payload);
  // Action line.
  const std::string_view action = action_line(index);
  if (!has_id && !truthy(s.routing)) {
    out.put(action);
  } else {
    out.put(action.substr(0, action.size() - kActionEnd.size()));
    // After `{"create":{` in data streams (which have no routing), else after the index.
    const std::string_view id_key = config_.data_stream ? "\"_id\":" : ",\"_id\":";
    if (truthy(s.id)) {
      out.put(id_key);
      json::write_value(out, *s.id);
    } else if (deterministic) {
      char* w = out.room(id_key.size() + 1 + kDeterministicIdSize + 1);
      std::memcpy(w, id_key.data(), id_key.size());
      w += id_key.size();
      *w++ = '"';
      w = write_deterministic_id(w, batch.stream_id, record.offset, record.time);
      *w++ = '"';
      out.advance(w);
    }
    if (truthy(s.routing)) {
      out.put(major_ >= 7 ? ",\"routing\":" : ",\"_routing\":");
      json::write_value(out, *s.routing);
    }
    out.put(kActionEnd);
  }

  // Document.
  bool add_timestamp = false;
  int64_t sec = 0;
  uint32_t nsec = 0;
  int32_t off = 0;
  if (need_dt_) record_dt(s, record, sec, nsec, off, add_timestamp);
  const bool removes = !config_.remove_keys.empty();
  out.put('{');
  bool first = true;
  auto put = [&](const Field& f) {
    if (removes && skip_key(f.key)) return;
    if (target_used && &f.value == s.target_index) return;
    if (config_.include_tag_key && f.key == config_.tag_key) {
      json::write_member(out, first, f.key, Value::of_string(batch.tag));
      return;
    }
    json::write_member(out, first, f.key, f.value);
  };
  for (const Field* f = batch.begin(record); f != batch.end(record); ++f) put(*f);
  for (const Field& f : batch.common_fields) put(f);
  auto put_tag = [&] {
    if (config_.include_tag_key && !s.has_tag_key && !remove_tag_)
      json::write_member(out, first, config_.tag_key, Value::of_string(batch.tag));
  };
  if (config_.data_stream) put_tag();  // out_elasticsearch_data_stream.rb sets it before @timestamp
  if (add_timestamp && !remove_timestamp_) {
    constexpr std::string_view key = "\"@timestamp\":\"";
    char* w = out.room(1 + key.size() + timestamp_room(config_.time_precision) + 1);
    if (!first) *w++ = ',';
    first = false;
    std::memcpy(w, key.data(), key.size());
    w += key.size();
    w = off == INT32_MIN ? write_event_timestamp(w, record.time)
                         : write_iso8601(w, sec, nsec, off, config_.time_precision);
    *w++ = '"';
    out.advance(w);
  }
  if (!config_.data_stream) put_tag();
  out.put("}\n");
  return true;
}

}  // namespace sluice::es

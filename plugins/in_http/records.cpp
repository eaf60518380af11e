#include "records.h"

#include <cmath>

#include "format/msgpack_reader.h"
#include "format/json_dom_fields.h"

namespace sluice::in_http {


namespace {

constexpr uint32_t kMaxDepth = 64;

void skipped(BodyInfo& info, std::string_view why) {
  if (info.skipped++ == 0) info.skip_reason = why;
}

// One msgpack map as a record; false (the record dropped) for one that cannot be a record.
bool add_msgpack_map(mp::Reader& r, const mp::Head& map, Batch& batch, std::string& scratch) {
  batch.begin_record({});
  r.pos += map.hdr;
  for (uint64_t i = 0; i < map.count; i += 2) {
    mp::Head k, v;
    if (!r.head(k) || (k.kind != mp::Head::Str && k.kind != mp::Head::Bin)) {
      batch.drop_last_record();
      return false;
    }
    std::string_view key = batch.arena.copy(r.payload(k));
    r.pos += k.hdr + k.len;
    if (!r.head(v)) {
      batch.drop_last_record();
      return false;
    }
    Value value;
    switch (v.kind) {
      case mp::Head::Nil: break;
      case mp::Head::Bool: value = Value::of_bool(v.small != 0); break;
      case mp::Head::UInt:
      case mp::Head::Int: {
        int64_t x = 0;
        bool too_big = false;
        r.integer(v, x, too_big);
        value = too_big ? Value::of_json(batch.arena.copy(std::to_string(mp::be(r.p + r.pos + v.hdr, 8))))
                        : Value::of_int(x);
        break;
      }
      case mp::Head::Float32:
      case mp::Head::Float64: value = Value::of_float(r.real(v)); break;
      case mp::Head::Str:
      case mp::Head::Bin: value = Value::of_string(batch.arena.copy(r.payload(v))); break;
      default: break;
    }
    if (mp::is_event_time(v)) {
      // Fluentd's EventTime: kept as seconds, so that a time field can be read from it.
      const uint8_t* d = r.p + r.pos + v.hdr;
      value = Value::of_float(double(uint32_t(mp::be(d, 4))) + double(uint32_t(mp::be(d + 4, 4))) * 1e-9);
    } else if (v.kind == mp::Head::Array || v.kind == mp::Head::Map || v.kind == mp::Head::Ext) {
      const uint64_t start = r.pos;
      scratch.clear();
      if (!mp::write_json(r, scratch, 1)) {
        batch.drop_last_record();
        return false;
      }
      value = Value::of_json(
          batch.arena.copy(scratch),
          batch.arena.copy({reinterpret_cast<const char*>(r.p + start), size_t(r.pos - start)}));
      batch.add_field(key, value);
      continue;
    }
    r.pos += v.hdr + v.len;
    batch.add_field(key, value);
  }
  return true;
}

// A JSON object as the batch's next record.
bool add_object(Batch& batch, simdjson::dom::object object, const RecordStamp& stamp, std::string& error) {
  batch.begin_record({});
  add_dom_fields(batch, object);
  return stamp_last_record(batch, stamp, error);
}

bool seconds_to_time(double seconds, EventTime& out) {
  if (!std::isfinite(seconds) || std::fabs(seconds) > 1e15) return false;
  double whole = std::floor(seconds);
  out.sec = int64_t(whole);
  out.nsec = uint32_t(std::min(999'999'999.0, (seconds - whole) * 1e9));
  return true;
}

}  // namespace

bool add_json_records(simdjson::dom::parser& parser, std::string_view text, const RecordStamp& stamp,
                      Batch& batch, BodyInfo& info, std::string& error) {
  simdjson::dom::element root;
  if (auto e = parser.parse(text.data(), text.size()).get(root)) {
    error = std::string("invalid JSON: ") + simdjson::error_message(e);
    return false;
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) == simdjson::SUCCESS) {
    return add_object(batch, object, stamp, error);
  }
  simdjson::dom::array array;
  if (root.get_array().get(array) != simdjson::SUCCESS) {
    error = "the JSON is neither an object nor an array of objects";
    return false;
  }
  for (simdjson::dom::element item : array) {
    if (item.get_object().get(object) != simdjson::SUCCESS) {
      skipped(info, "an element of the JSON array is not an object");
      continue;
    }
    if (!add_object(batch, object, stamp, error)) return false;
  }
  return true;
}

bool add_ndjson_records(simdjson::dom::parser& parser, std::string_view text, const RecordStamp& stamp,
                        Batch& batch, BodyInfo& info, std::string& error) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    simdjson::dom::object object;
    if (parser.parse(line.data(), line.size()).get_object().get(object) != simdjson::SUCCESS) {
      skipped(info, "a line of the ndjson body is not a JSON object");
      continue;
    }
    if (!add_object(batch, object, stamp, error)) return false;
  }
  return true;
}

bool add_msgpack_records(std::string_view bytes, const RecordStamp& stamp, Batch& batch, BodyInfo& info,
                         std::string& error) {
  mp::Reader r(bytes, kMaxDepth);
  std::string scratch;
  while (r.pos < r.size) {
    mp::Head h;
    if (!r.head(h)) {
      error = "invalid msgpack: truncated or malformed object at byte " + std::to_string(r.pos);
      return false;
    }
    uint64_t items = 1;
    if (h.kind == mp::Head::Array) {
      items = h.count;
      r.pos += h.hdr;
    }
    for (uint64_t i = 0; i < items; ++i) {
      mp::Head item = h;
      if (h.kind == mp::Head::Array && !r.head(item)) {
        error = "invalid msgpack: truncated array at byte " + std::to_string(r.pos);
        return false;
      }
      const uint64_t start = r.pos;
      if (item.kind == mp::Head::Map && add_msgpack_map(r, item, batch, scratch)) {
        if (!stamp_last_record(batch, stamp, error)) return false;
        continue;
      }
      skipped(info, item.kind == mp::Head::Map ? "a msgpack map is not a record (keys must be strings)"
                                               : "a msgpack object is not a map");
      r.pos = start;
      if (!r.skip()) {
        error = "invalid msgpack: truncated or malformed object at byte " + std::to_string(start);
        return false;
      }
    }
  }
  return true;
}

static void add_extra_fields(Batch& batch, const std::vector<Field>& extra) {
  Record& rec = batch.records.back();
  for (const Field& e : extra) {
    Field* own = nullptr;
    for (size_t i = rec.first_field; i < rec.first_field + rec.field_count; ++i)
      if (batch.fields[i].key == e.key) own = &batch.fields[i];
    if (own) own->value = e.value;
    else batch.add_field(e.key, e.value);
  }
}

static bool stamp_time(Batch& batch, const RecordStamp& stamp, std::string& error) {
  Record& rec = batch.records.back();
  rec.time = stamp.fixed;
  if (!stamp.from_field) return true;
  const RecordTime& rule = *stamp.from_field;
  const size_t first = rec.first_field;
  size_t found = SIZE_MAX;
  for (size_t i = first; i < first + rec.field_count; ++i)
    if (batch.fields[i].key == rule.key) found = i;  // the last one, as a Ruby Hash keeps the last value
  if (found == SIZE_MAX) return true;
  const Value v = batch.fields[found].value;
  if (!rule.keep) {
    // The record is the batch's last: erasing shifts only its own fields.
    for (size_t i = first + rec.field_count; i-- > first;)
      if (batch.fields[i].key == rule.key) {
        batch.fields.erase(batch.fields.begin() + std::ptrdiff_t(i));
        --rec.field_count;
      }
  }
  bool ok = true;
  switch (v.kind) {
    case ValueKind::Null: break;
    case ValueKind::Bool: ok = !v.boolean; break;  // Ruby: false means "no time", true is an error
    case ValueKind::Int: rec.time = EventTime{v.integer, 0}; break;
    case ValueKind::Float: ok = seconds_to_time(v.real, rec.time); break;
    case ValueKind::String: ok = rule.parser && rule.parser->parse(v.text, rec.time); break;
    default: ok = false; break;
  }
  if (!ok)
    error = "the record's " + rule.key + " field is not a time" +
            (v.kind == ValueKind::String && !rule.parser ? " (a string needs time_format in <parse>)" : "");
  return ok;
}

bool stamp_last_record(Batch& batch, const RecordStamp& stamp, std::string& error) {
  if (!stamp_time(batch, stamp, error)) return false;
  if (stamp.extra) add_extra_fields(batch, *stamp.extra);
  return true;
}

EventTime time_param(std::string_view text, EventTime now) {
  // Ruby's String#to_f: leading whitespace, then the longest decimal prefix; anything else is 0.
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
  std::string number;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) number += text[i++];
  bool digits = false;
  auto take_digits = [&] {
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || (text[i] == '_' && digits))) {
      if (text[i] != '_') number += text[i], digits = true;
      ++i;
    }
  };
  take_digits();
  if (i + 1 < text.size() && text[i] == '.' && text[i + 1] >= '0' && text[i + 1] <= '9') {
    number += digits ? "." : "0.";  // Ruby reads ".5" as 0.5
    ++i;
    take_digits();
  }
  if (digits && i + 1 < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    size_t j = i + 1;
    std::string exp = "e";
    if (j < text.size() && (text[j] == '-' || text[j] == '+')) exp += text[j++];
    if (j < text.size() && text[j] >= '0' && text[j] <= '9') {
      while (j < text.size() && text[j] >= '0' && text[j] <= '9') exp += text[j++];
      number += exp;
    }
  }
  double seconds = digits ? std::strtod(number.c_str(), nullptr) : 0;
  EventTime t;
  if (seconds == 0 || !seconds_to_time(seconds, t)) return now;
  return t;
}

}  // namespace sluice::in_http

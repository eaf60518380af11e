// The event model: Fluentd's (tag, time, record) triple, laid out for batches.
//
// A Batch holds many records that share one tag (a batch comes from one source stream, e.g. one
// file). Record fields are views: into the source's read buffer, into the batch arena for bytes
// that had to be built (joined partial lines, unescaped JSON), or into long-lived storage
// (per-container metadata fragments). A batch lives only while it is being emitted; outputs that
// keep data format it into their own buffers (the one copy).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/arena.h"

namespace sluice {

class Claim;

struct EventTime {
  int64_t sec = 0;
  uint32_t nsec = 0;
  // Fluentd keeps integer times (e.g. Message-mode forward) distinct from EventTime.
  bool integer = false;
  friend bool operator==(const EventTime&, const EventTime&) = default;
};

enum class ValueKind : uint8_t { Null, Bool, Int, Float, String, Json };

// A record value. String holds raw bytes (not JSON-escaped; may be invalid UTF-8, which
// formatters write raw as Fluentd does). Json holds a complete, valid JSON text (an object or
// array) that formatters splice in as is; `packed`, when set, is the same value already encoded
// as msgpack.
struct Value {
  ValueKind kind = ValueKind::Null;
  bool boolean = false;
  // String: its parser checked that no byte needs JSON escaping (no `"`, `\` or control), so
  // JSON writers copy it. Only set where the check came free with the parse (a CRI line's stream,
  // tag and validated time stamp); false promises nothing. Code that changes the `text` of an
  // existing value clears it.
  bool plain = false;
  int64_t integer = 0;
  double real = 0;
  std::string_view text;
  std::string_view packed;

  static Value null() { return {}; }
  static Value of_bool(bool b) {
    Value v;
    v.kind = ValueKind::Bool;
    v.boolean = b;
    return v;
  }
  static Value of_int(int64_t i) {
    Value v;
    v.kind = ValueKind::Int;
    v.integer = i;
    return v;
  }
  static Value of_float(double d) {
    Value v;
    v.kind = ValueKind::Float;
    v.real = d;
    return v;
  }
  static Value of_string(std::string_view s) {
    Value v;
    v.kind = ValueKind::String;
    v.text = s;
    return v;
  }
  static Value of_string(std::string_view s, bool plain) {
    Value v = of_string(s);
    v.plain = plain;
    return v;
  }
  static Value of_json(std::string_view json, std::string_view msgpack = {}) {
    Value v;
    v.kind = ValueKind::Json;
    v.text = json;
    v.packed = msgpack;
    return v;
  }
};

struct Field {
  std::string_view key;
  Value value;
};

// One event. Its fields are batch.fields[first_field, first_field + field_count), in insertion
// order (Fluentd keeps it and so do its JSON outputs).
struct Record {
  EventTime time;
  uint32_t first_field = 0;
  uint32_t field_count = 0;
  // Byte offset of the start of the line this record came from, in its source stream
  // (deterministic document ids hash it with the stream's identity).
  uint64_t offset = 0;
};

class Batch {
 public:
  std::string_view tag;
  std::vector<Record> records;
  std::vector<Field> fields;
  // Fields appended to every record, after its own (e.g. `kubernetes` and `docker` maps rendered
  // once per container). Enrichment costs one entry here per batch, not a merge per record.
  std::vector<Field> common_fields;
  Arena arena;
  // The source's claim on these records for end-to-end acknowledgement; null for sources that
  // keep no checkpoint. Outputs that buffer the records retain it until delivery.
  Claim* claim = nullptr;
  // Identity of the source stream (e.g. "dev:inode" of a file), for deterministic ids.
  std::string_view stream_id;
  // Set by sources that know where the records came from (in_tail's path_key, error messages).
  std::string_view source_path;

  void clear() {
    tag = {};
    records.clear();
    fields.clear();
    common_fields.clear();
    arena.reset();
    claim = nullptr;
    stream_id = {};
    source_path = {};
  }

  // Where `from`'s records came from (its source's claim, stream and path), for a batch made of
  // them: a filter's @ERROR records, a relabelled or re-tagged copy.
  void take_origin(const Batch& from) {
    claim = from.claim;
    stream_id = from.stream_id;
    source_path = from.source_path;
  }

  // Starts a record; add fields with add_field, which always go to the last record.
  Record& begin_record(EventTime time, uint64_t offset = 0) {
    Record& r = records.emplace_back();
    r.time = time;
    r.first_field = static_cast<uint32_t>(fields.size());
    r.offset = offset;
    return r;
  }
  void add_field(std::string_view key, Value value) {
    fields.push_back({key, value});
    records.back().field_count++;
  }
  // Drops the last record and its fields (a parser that changed its mind).
  void drop_last_record() {
    fields.resize(records.back().first_field);
    records.pop_back();
  }

  const Field* begin(const Record& r) const { return fields.data() + r.first_field; }
  const Field* end(const Record& r) const { return fields.data() + r.first_field + r.field_count; }
  const Value* find(const Record& r, std::string_view key) const {
    for (const Field* f = begin(r); f != end(r); ++f)
      if (f->key == key) return &f->value;
    for (const Field& f : common_fields)
      if (f.key == key) return &f.value;
    return nullptr;
  }
};

}  // namespace sluice

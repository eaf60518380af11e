// The bulk formatter's fast path: most records (every record of a CRI or docker source behind the
// kubernetes filter) carry no key the plugin treats specially, so their document is the shape's
// rendered key prefixes with the values between them, the batch's common fields rendered once,
// `@timestamp` from the event time and the tag member. Same bytes as the general path
// (test_es_format.cpp compares the two).
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "es_format.h"
#include "format/json.h"
#include "format/string_writer.h"

namespace sluice::es {

// A key is special when the general path's scan would pick it up, or it is removed.
uint32_t BulkFormatter::classify_key(const void* self, std::string_view key) {
  const auto& f = *static_cast<const BulkFormatter*>(self);
  const Field field{key, Value::null()};
  Specials s;
  f.scan_fields(&field, &field + 1, s);
  return s.any() || f.skip_key(key) ? 1 : 0;
}

// Records whose keys change more often than this within a batch are written key by key: building
// a shape per record would cost more than it saves.
constexpr uint64_t kMaxShapeBuildsPerBatch = 16;

void BulkFormatter::begin_plain_batch(const Batch& batch) {
  shapes_.begin_batch();
  builds_before_batch_ = shapes_.builds();
  shaped_record_ = nullptr;
  batch_shape_ = nullptr;
  plain_batch_ = plain_config_;
  for (const Field& f : batch.common_fields)
    if (classify_key(this, f.key) != 0) plain_batch_ = false;
  if (!plain_batch_) return;
  common_text_.clear();
  bool first = false;  // each member with its comma; a record without fields drops the first
  for (const Field& f : batch.common_fields) json::append_member(common_text_, first, f.key, f.value);
  tag_member_.clear();
  if (config_.include_tag_key && !remove_tag_) {
    first = false;
    json::append_member(tag_member_, first, config_.tag_key, Value::of_string(batch.tag));
  }
  if (same_key_views(batch)) {
    const Record& r = batch.records.front();
    const json::JsonShape& s = shapes_.match(batch.begin(r), batch.end(r), {classify_key, this});
    if (s.flags == 0) batch_shape_ = &s;
  }
}

// The same view (pointer and size), not merely equal bytes: what one shape per batch relies on.
static bool same_key_view(const Field& a, const Field& b) {
  return a.key.data() == b.key.data() && a.key.size() == b.key.size();
}

// Whether each field in [from, end) has the key view of the field n places before it. Without a
// branch per field: the usual batch passes, and its fields are a few hundred per batch.
static bool keys_repeat(const Field* from, const Field* end, uint32_t n) {
#if defined(__SSE2__)
  static_assert(sizeof(Field::key) == 16);
  auto key_bits = [](const Field* f) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(&f->key));
  };
  __m128i differ = _mm_setzero_si128();
  for (const Field* f = from; f < end; ++f)
    differ = _mm_or_si128(differ, _mm_xor_si128(key_bits(f), key_bits(f - n)));
  return _mm_movemask_epi8(_mm_cmpeq_epi8(differ, _mm_setzero_si128())) == 0xffff;
#else
  for (const Field* f = from; f < end; ++f)
    if (!same_key_view(*f, *(f - n))) return false;
  return true;
#endif
}

// Whether every record of the batch has the first record's key views (a parser's records do):
// then one shape serves them all and no record is matched on its own. A parser lays its records'
// fields out one record after another, so the usual batch is checked in one pass over its
// fields, each against the same field of the record before.
bool BulkFormatter::same_key_views(const Batch& batch) {
  if (batch.records.empty()) return false;
  const Record& first = batch.records.front();
  const uint32_t n = first.field_count;
  // (first_field, field_count) in one word (one load, one compare per record).
  auto placement = [](const Record& r) { return uint64_t{r.field_count} << 32 | r.first_field; };
  uint64_t expected = placement(first);
  bool laid_out = true;
  for (const Record& r : batch.records) {
    if (placement(r) != expected) {
      laid_out = false;
      break;
    }
    expected += n;
  }
  if (laid_out)
    return keys_repeat(batch.begin(first) + n, batch.begin(batch.records.back()) + n, n);
  const Field* keys = batch.begin(first);
  for (const Record& r : batch.records) {
    if (r.field_count != n) return false;
    const Field* f = batch.begin(r);
    for (uint32_t i = 0; i < n; ++i)
      if (!same_key_view(f[i], keys[i])) return false;
  }
  return true;
}

bool BulkFormatter::match_plain(const Batch& batch, const Record& record) {
  shaped_record_ = &record;
  shaped_plain_ = false;
  if (plain_batch_) {
    shape_ = &shapes_.match(batch.begin(record), batch.end(record), {classify_key, this});
    shaped_plain_ = shape_->flags == 0;
    if (shapes_.builds() - builds_before_batch_ > kMaxShapeBuildsPerBatch) plain_batch_ = false;
  }
  return shaped_plain_;
}

// Defined before its two callers and inline, so that GCC can honour always_inline at -O2.
inline void BulkFormatter::write_plain(StringWriter& out, const json::JsonShape& shape,
                                       const Batch& batch, const Record& record,
                                       std::string_view action) {
  // The write position and the room's end in locals: the writer's members would be loaded again
  // after every byte store.
  char* w = out.room(action.size());
  char* end = out.limit();
  auto room = [&](size_t need) {
    if (static_cast<size_t>(end - w) < need) {
      out.advance(w);
      w = out.room(need);
      end = out.limit();
    }
  };
  std::memcpy(w, action.data(), action.size());
  w += action.size();
  const Field* f = batch.begin(record);
  const uint32_t n = record.field_count;
  // Held in a register: the document's byte stores could alias the vector's own pointers.
  const json::JsonShape::Prefix* const prefixes = shape.prefixes.data();
  for (uint32_t i = 0; i < n; ++i) {
    const json::JsonShape::Prefix& p = prefixes[i];
    const Value& v = f[i].value;
    if (v.kind == ValueKind::String && v.text.size() <= json::kEscapeStep) {
      room(json::prefix_room(p) + json::max_escaped_size(v.text.size()));
      w = json::write_quoted(json::write_prefix(w, p), v);
    } else {
      room(json::prefix_room(p));
      out.advance(json::write_prefix(w, p));
      json::write_value(out, v);
      w = out.position();
      end = out.limit();
    }
  }
  // The rest in one room: common fields, @timestamp, the tag member and the end of the line.
  constexpr std::string_view kTimestampKey = "\"@timestamp\":\"";
  std::string_view common = common_text_, tag = tag_member_;
  room(1 + common.size() + 1 + kTimestampKey.size() + timestamp_room(config_.time_precision) +
       tag.size() + 3);
  bool first = n == 0;
  if (first) *w++ = '{';
  auto put = [&](std::string_view member) {  // member starts with its comma
    if (member.empty()) return;
    if (first) member.remove_prefix(1), first = false;
    std::memcpy(w, member.data(), member.size());
    w += member.size();
  };
  put(common);
  if (config_.data_stream) put(tag);  // out_elasticsearch_data_stream.rb sets it before @timestamp
  if (plain_timestamp_) {
    if (!first) *w++ = ',';
    first = false;
    std::memcpy(w, kTimestampKey.data(), kTimestampKey.size());
    w = write_event_timestamp(w + kTimestampKey.size(), record.time);
    *w++ = '"';
  }
  if (!config_.data_stream) put(tag);
  *w++ = '}';
  *w++ = '\n';
  out.advance(w);
}

void BulkFormatter::append_plain(std::string& payload, const Batch& batch, const Record& record,
                                 std::string_view index) {
  shaped_record_ = nullptr;
  StringWriter out(payload);
  write_plain(out, batch_shape_ ? *batch_shape_ : *shape_, batch, record, action_line(index));
}

size_t BulkFormatter::append_run(std::string& payload, const Batch& batch, size_t first,
                                 std::string_view index, size_t limit, size_t& last_start) {
  if (!batch_shape_) return 0;
  // Locals, not reloaded after each document's byte stores (which could alias the vector).
  const Record* const records = batch.records.data();
  const size_t count = batch.records.size();
  const json::JsonShape& shape = *batch_shape_;
  const std::string_view action = action_line(index);  // one index per run
  StringWriter out(payload);
  size_t i = first;
  do {
    last_start = out.size();
    write_plain(out, shape, batch, records[i], action);
    ++i;
  } while (i < count && out.size() < limit && same_plain_index(index, records[i]));
  return i - first;
}

}  // namespace sluice::es

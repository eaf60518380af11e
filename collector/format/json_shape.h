// Record shapes: the keys of a record's own fields, in order. Records from one parser share them
// (`stream`, `logtag`, `message` for CRI), so a JSON formatter can render the text between the
// values (`{"stream":`, `,"logtag":`, ...) once per shape and decide once per shape whether any
// key needs special handling, instead of escaping every key and comparing it with its special
// names for every record.
//
//   JsonShapes shapes;
//   shapes.begin_batch();  // key views of earlier batches may dangle
//   const JsonShape& s = shapes.match(batch.begin(r), batch.end(r), {classify, this});
//   if (s.flags == 0) ... write_prefix(w, s.prefixes[i]) before each value ...
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"

namespace sluice::json {

struct JsonShape {
  // `{"key":` for the first field, `,"key":` for the others, escaped; stored in 32-byte slots
  // so that a writer can copy a whole slot (the bytes past the prefix are overwritten next).
  static constexpr size_t kSlot = 32;
  struct Prefix {
    std::array<char, kSlot> bytes{};
    uint8_t size = 0;      // 0: too long for a slot, in `long_text`
    std::string long_text;
  };
  std::vector<std::string> keys;
  std::vector<Prefix> prefixes;
  uint32_t flags = 0;  // OR of the classifier's flags over the keys
  // Key views that matched these keys in the current batch: the same view again is the same key
  // without comparing bytes (a batch's views stay valid while it lives).
  struct Seen {
    const char* data;
    size_t size;  // SIZE_MAX: none yet
  };
  std::vector<Seen> seen;
};

class JsonShapes {
 public:
  // The flags of one key (for example "needs special handling"), called when a shape is built.
  struct Classifier {
    uint32_t (*classify)(const void* context, std::string_view key);
    const void* context;
  };
  explicit JsonShapes(size_t capacity = 8) : capacity_(capacity) {}

  // Forgets the key pointers of the previous batch.
  void begin_batch();
  // Shapes built so far: a caller whose records keep changing shape (more than the cache holds)
  // can fall back to writing keys per record.
  uint64_t builds() const { return builds_; }
  // The shape of [begin, end): found, or built in place of the least recently built one.
  const JsonShape& match(const Field* begin, const Field* end, Classifier classifier) {
    // The common case inline: the same key views as the record before.
    if (last_ < shapes_.size()) {
      const JsonShape& s = shapes_[last_];
      const size_t n = static_cast<size_t>(end - begin);
      if (s.seen.size() == n && seen_prefix(s, begin, n) == n) return s;
    }
    return match_keys(begin, end, classifier);
  }

 private:
  // How many of the n keys from f, from the first on, are the views s has seen.
  static size_t seen_prefix(const JsonShape& s, const Field* f, size_t n) {
    size_t i = 0;
    while (i < n && f[i].key.data() == s.seen[i].data && f[i].key.size() == s.seen[i].size) ++i;
    return i;
  }
  const JsonShape& match_keys(const Field* begin, const Field* end, Classifier classifier);
  bool same_keys(JsonShape& s, const Field* begin, size_t n);
  JsonShape& build(const Field* begin, size_t n, Classifier classifier);

  size_t capacity_;
  std::vector<JsonShape> shapes_;
  size_t last_ = 0;
  size_t next_victim_ = 0;
  uint64_t builds_ = 0;
  std::string text_;  // scratch for rendering a prefix
};

// Writes shape prefix i at w (the room has JsonShape::kSlot bytes more than the prefix's size).
inline char* write_prefix(char* w, const JsonShape::Prefix& p) {
  if (p.size != 0) {
    __builtin_memcpy(w, p.bytes.data(), JsonShape::kSlot);
    return w + p.size;
  }
  __builtin_memcpy(w, p.long_text.data(), p.long_text.size());
  return w + p.long_text.size();
}
inline size_t prefix_room(const JsonShape::Prefix& p) {
  return (p.size != 0 ? p.size : p.long_text.size()) + JsonShape::kSlot;
}

}  // namespace sluice::json

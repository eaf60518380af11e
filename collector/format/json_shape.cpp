#include "format/json_shape.h"

#include <cstdint>
#include <cstring>

#include "core/equal_bytes.h"
#include "format/json.h"

namespace sluice::json {

void JsonShapes::begin_batch() {
  for (JsonShape& s : shapes_) std::fill(s.seen.begin(), s.seen.end(), JsonShape::Seen{nullptr, SIZE_MAX});
}

bool JsonShapes::same_keys(JsonShape& s, const Field* f, size_t n) {
  if (s.keys.size() != n) return false;
  const size_t i = seen_prefix(s, f, n);
  if (i == n) return true;
  for (size_t k = i; k < n; ++k)
    if (!equal_bytes(f[k].key, s.keys[k])) return false;
  for (size_t k = i; k < n; ++k) s.seen[k] = {f[k].key.data(), f[k].key.size()};
  return true;
}

const JsonShape& JsonShapes::match_keys(const Field* begin, const Field* end,
                                        Classifier classifier) {
  const size_t n = static_cast<size_t>(end - begin);
  if (last_ < shapes_.size() && same_keys(shapes_[last_], begin, n)) return shapes_[last_];
  for (size_t i = 0; i < shapes_.size(); ++i)
    if (i != last_ && same_keys(shapes_[i], begin, n)) {
      last_ = i;
      return shapes_[i];
    }
  return build(begin, n, classifier);
}

JsonShape& JsonShapes::build(const Field* f, size_t n, Classifier classifier) {
  size_t at;
  if (shapes_.size() < capacity_) {
    at = shapes_.size();
    shapes_.emplace_back();
  } else {
    at = next_victim_;
    next_victim_ = (next_victim_ + 1) % capacity_;
  }
  last_ = at;
  ++builds_;
  JsonShape& s = shapes_[at];
  s.keys.resize(n);
  s.prefixes.resize(n);
  s.seen.resize(n);
  s.flags = 0;
  std::string& text = text_;
  for (size_t i = 0; i < n; ++i) {
    s.keys[i].assign(f[i].key);
    s.seen[i] = {f[i].key.data(), f[i].key.size()};
    s.flags |= classifier.classify(classifier.context, f[i].key);
    text.assign(i == 0 ? "{" : ",");
    append_string(text, f[i].key);
    text += ':';
    JsonShape::Prefix& p = s.prefixes[i];
    if (text.size() <= JsonShape::kSlot) {
      p.bytes.fill(0);
      std::memcpy(p.bytes.data(), text.data(), text.size());
      p.size = static_cast<uint8_t>(text.size());
      p.long_text.clear();
    } else {
      p.size = 0;
      p.long_text = text;
    }
  }
  return s;
}

}  // namespace sluice::json

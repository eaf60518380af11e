// Keys of parsed JSON lines, kept for the parser's life. Consecutive lines of one file nearly
// always have the same keys in the same order (`log`, `stream`, `time` for docker); when a key's
// bytes are the ones kept for its position, the record gets the kept view, so every record's key
// views are the same pointers, which is what JSON outputs' shape matching compares first (see
// collector/format/json_shape.h) instead of comparing key bytes per record.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/equal_bytes.h"

namespace sluice::parsers {

class KeyInterner {
 public:
  // The kept view equal to key (the one at `position` tried first), or key itself when none is
  // kept and no room is left. Kept strings are never changed or freed while the interner lives.
  std::string_view intern(size_t position, std::string_view key) {
    if (position < by_position_.size()) {
      const std::string* s = by_position_[position];
      if (s && equal_bytes(*s, key)) return *s;
    }
    return intern_slow(position, key);
  }

 private:
  // Bounds per parser (one per followed file): at most ~2 KiB each however varied the keys.
  static constexpr size_t kMaxKeys = 16;
  static constexpr size_t kMaxKeySize = 64;
  static constexpr size_t kMaxPositions = 16;

  // Out of line, so that intern() stays small enough to inline into both of the parser's paths.
  __attribute__((noinline)) std::string_view intern_slow(size_t position, std::string_view key) {
    const std::string* found = nullptr;
    for (const auto& s : kept_)
      if (equal_bytes(*s, key)) {
        found = s.get();
        break;
      }
    if (!found) {
      if (kept_.size() >= kMaxKeys || key.size() > kMaxKeySize) return key;
      kept_.push_back(std::make_unique<std::string>(key));
      found = kept_.back().get();
    }
    if (position < kMaxPositions) {
      if (by_position_.size() <= position) by_position_.resize(position + 1, nullptr);
      by_position_[position] = found;
    }
    return *found;
  }

  std::vector<std::unique_ptr<std::string>> kept_;
  std::vector<const std::string*> by_position_;
};

}  // namespace sluice::parsers

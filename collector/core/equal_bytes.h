// Equality of short byte strings (keys, tags, index names) without a call to memcmp: loads that
// overlap where needed cover any length up to 32 bytes and never read outside either string.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace sluice {

inline bool equal_bytes(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  // The `sizeof word` bytes at `at` of both strings differ: nonzero.
  auto diff = [&](auto word, size_t at) {
    decltype(word) x, y;
    std::memcpy(&x, p + at, sizeof x), std::memcpy(&y, q + at, sizeof y);
    return x ^ y;
  };
  const uint64_t w = 0;
  if (n > 32) return std::memcmp(p, q, n) == 0;
  if (n > 16) return (diff(w, 0) | diff(w, 8) | diff(w, n - 16) | diff(w, n - 8)) == 0;
  if (n >= 8) return (diff(w, 0) | diff(w, n - 8)) == 0;
  if (n >= 4) return (diff(uint32_t{}, 0) | diff(uint32_t{}, n - 4)) == 0;
  if (n >= 2) return (diff(uint16_t{}, 0) | diff(uint16_t{}, n - 2)) == 0;
  return n == 0 || *p == *q;
}

}  // namespace sluice

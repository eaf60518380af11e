// parse_rfc3339's common case, inline in its callers (the CRI parser reads a stamp per line): a
// call cost ~10 instructions of its own and made the caller save its parsed line around it. The
// rest is rfc3339::parse_general, out of line.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "core/event.h"
#include "format/time_calendar.h"

namespace sluice {

namespace rfc3339 {

// Consecutive stamps of a log mostly share their second: the validated `YYYY-MM-DDTHH:MM:SS` of
// the previous stamp read (per thread, as raw bytes) and its local seconds are reused.
struct SecondCache {
  uint64_t a = 0, b = 0;  // bytes 0-7 and 8-15
  uint32_t c = 0;         // bytes 15-18
  bool valid = false;
  int64_t seconds = 0;
};
// constinit: callers in other files read it directly, without a thread-local init wrapper.
extern constinit thread_local SecondCache second_cache;

// Whether the 19 bytes at p are the cached `YYYY-MM-DDTHH:MM:SS`.
inline bool cached_second(const char* p) {
  uint64_t a, b;
  uint32_t c;
  std::memcpy(&a, p, 8);
  std::memcpy(&b, p + 8, 8);
  std::memcpy(&c, p + 15, 4);
  const SecondCache& cache = second_cache;
  return ((a ^ cache.a) | (b ^ cache.b) | (c ^ cache.c)) == 0 && cache.valid;
}

// Caches the 19 bytes at p, a validated `YYYY-MM-DDTHH:MM:SS`, with its local seconds.
inline void remember_second(const char* p, int64_t local_seconds) {
  SecondCache& cache = second_cache;
  std::memcpy(&cache.a, p, 8);
  std::memcpy(&cache.b, p + 8, 8);
  std::memcpy(&cache.c, p + 15, 4);
  cache.seconds = local_seconds;
  cache.valid = true;
}

// The number of leading decimal digits in the 8 bytes at p (0-8) and, when there are any, their
// value. A word at a time: a fraction is read for every record of a CRI or docker log.
inline int leading_digits8(const char* p, uint32_t& value) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  if constexpr (std::endian::native != std::endian::little) w = __builtin_bswap64(w);
  const uint64_t x = w ^ 0x3030303030303030ull;  // digit bytes become 0-9, no other byte does
  // High bit of a byte set when it is 10 or more (no carries between bytes).
  const uint64_t over9 =
      (((x & 0x7f7f7f7f7f7f7f7full) + 0x7676767676767676ull) | x) & 0x8080808080808080ull;
  const int n = over9 ? std::countr_zero(over9) >> 3 : 8;
  if (n == 0) return 0;
  // Left-align the n digits (zeros before them) and combine pairs, quads, then the two halves.
  uint64_t v = x << (64 - 8 * n);
  v = (v * 10 + (v >> 8)) & 0x00ff00ff00ff00ffull;
  v = (v * 100 + (v >> 16)) & 0x0000ffff0000ffffull;
  value = static_cast<uint32_t>((v * 10000 + (v >> 32)) & 0xffffffffull);
  return n;
}

inline constexpr uint32_t kFractionScale[] = {1000000000, 100000000, 10000000, 1000000, 100000,
                                              10000,      1000,      100,      10,      1};

bool parse_general(std::string_view text, EventTime& out);

}  // namespace rfc3339

// RFC 3339 / ISO 8601 with 0-9 fraction digits and Z or ±hh:mm / ±hhmm: the CRI and docker
// json-file time stamps. Fast path, no allocation. The usual stamp,
// `YYYY-MM-DDTHH:MM:SS.fffffffffZ` with 7-9 digits (Go trims trailing zeros) in the same second
// as the previous one, is read here; rfc3339::parse_general takes the rest.
inline bool parse_rfc3339(std::string_view text, EventTime& out) {
  const char* p = text.data();
  const size_t len = text.size();
  if (len >= 28 && len <= 30 && p[19] == '.' && p[len - 1] == 'Z' && rfc3339::cached_second(p)) {
    const size_t digits = len - 21;
    uint32_t v = 0;
    const int n = rfc3339::leading_digits8(p + 20, v);
    if (static_cast<size_t>(n) == (digits < 8 ? digits : 8) &&
        (digits < 9 || calendar::digit(p[28]))) {
      out.sec = rfc3339::second_cache.seconds;
      out.nsec = digits == 9 ? v * 10 + static_cast<uint32_t>(p[28] - '0')
                             : v * rfc3339::kFractionScale[n];
      out.integer = false;
      return true;
    }
  }
  return rfc3339::parse_general(text, out);
}

}  // namespace sluice

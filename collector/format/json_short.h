// The escaper's 16-byte primitives, and its short-string path inline for formatters that write
// many short values (field values of 1-32 bytes are most of them): one or two SSE2 blocks, no
// call. Longer strings and strings with bytes to escape go to json::write_escaped_body.
#pragma once

#include <cstdint>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice::json {

enum class HexCase { Lower, Upper };
char* write_escaped_body(char* w, std::string_view bytes, HexCase hex);

namespace detail {

// Whether the n bytes at p lie in one page: reading past a string's end within its page cannot
// fault.
inline bool within_page(const unsigned char* p, unsigned n) {
  return (reinterpret_cast<uintptr_t>(p) & 4095) <= 4096 - n;
}

#if defined(__SSE2__)
// Bit i set when byte i of v needs escaping: a C0 control, `"` or `\\`. Flipping bit 1 maps `"`
// (0x22) to 0x20, the controls onto controls and no other byte to 0x20 or below, so one unsigned
// compare finds the controls and `"` together.
inline unsigned escape_mask(__m128i v) {
  const __m128i limit = _mm_set1_epi8(0x20);
  const __m128i flipped = _mm_xor_si128(v, _mm_set1_epi8(0x02));
  // flipped <= 0x20 unsigned  <=>  max(flipped, 0x20) == 0x20
  const __m128i m = _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(flipped, limit), limit),
                                 _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
  return static_cast<unsigned>(_mm_movemask_epi8(m));
}

// The 16 bytes at p when they lie in one page (false otherwise), for the last bytes of a string:
// reading past its end within the page cannot fault, and the bytes past the end are ignored.
// glibc's string functions read the same way; the address sanitizer is told so.
__attribute__((no_sanitize("address"))) inline bool load_within_page(const unsigned char* p,
                                                                     __m128i& v) {
  if (!within_page(p, 16)) return false;
  v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return true;
}
#endif

// Short strings (most keys and many values, time stamps): 1-15 bytes are one block read within
// its page; 16-32 bytes two blocks, the first and the last 16, which overlap and never read
// outside the string. kChecked: the blocks are checked for bytes to escape, and a string with any
// goes to write_escaped_body; unchecked (Value::plain: its parser checked them) they are copied.
template <bool kChecked>
inline char* write_short(char* w, std::string_view bytes, HexCase hex) {
  const size_t n = bytes.size();
#if defined(__SSE2__)
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  __m128i v;
  // n - 1 < 15: 1 to 15 bytes (an empty view may have a null data()).
  if (n - 1 < 15 && load_within_page(p, v)) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(w), v);
    if (!kChecked || (escape_mask(v) & ((1u << n) - 1)) == 0) return w + n;
  } else if (n - 16 <= 16) {
    const __m128i head = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i tail = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + n - 16));
    if (!kChecked || (escape_mask(head) | escape_mask(tail)) == 0) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(w), head);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(w + n - 16), tail);
      return w + n;
    }
  }
#endif
  if constexpr (kChecked) {
    return write_escaped_body(w, bytes, hex);
  } else {
    if (n != 0) __builtin_memcpy(w, bytes.data(), n);
    return w + n;
  }
}

inline char* write_escaped_body_short(char* w, std::string_view bytes, HexCase hex) {
  return write_short<true>(w, bytes, hex);
}
// Bytes with nothing to escape (Value::plain), copied.
inline char* copy_plain(char* w, std::string_view bytes) {
  return write_short<false>(w, bytes, HexCase::Lower);
}

}  // namespace detail
}  // namespace sluice::json

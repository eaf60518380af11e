// The pieces of reading JSON escapes, shared by the readers that unescape JSON text (msgpack's
// JSON conversion, the json parser's flat-object reader): the one-letter escapes, and a \uXXXX
// escape's hex digits and its code point as UTF-8.
#pragma once

#include <cstdint>

namespace sluice::json_unescape {

// The character each one-letter escape stands for (0: not one), from letter-character pairs.
struct OneLetterEscapes {
  char t[256] = {};
  constexpr OneLetterEscapes() {
    constexpr char kPairs[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
    for (unsigned i = 0; i + 1 < sizeof kPairs; i += 2) t[static_cast<unsigned char>(kPairs[i])] = kPairs[i + 1];
  }
};
inline constexpr OneLetterEscapes kOneLetter;

// The character `\letter` stands for, or 0 when it is not a one-letter escape.
inline char one_letter(char letter) { return kOneLetter.t[static_cast<unsigned char>(letter)]; }

// The code unit of the four hex digits at p (either case); false when one is not a hex digit.
inline bool read_hex4(const char* p, uint32_t& unit) {
  unit = 0;
  for (int i = 0; i < 4; ++i) {
    const char c = p[i];
    uint32_t d;
    if (c >= '0' && c <= '9') d = static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') d = static_cast<uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = static_cast<uint32_t>(c - 'A' + 10);
    else return false;
    unit = unit << 4 | d;
  }
  return true;
}

// Writes code point cp (at most 0x10FFFF) as 1-4 bytes of UTF-8 at w; returns the end.
inline char* write_utf8(char* w, uint32_t cp) {
  if (cp < 0x80) {
    *w++ = static_cast<char>(cp);
  } else if (cp < 0x800) {
    *w++ = static_cast<char>(0xc0 | cp >> 6);
    *w++ = static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *w++ = static_cast<char>(0xe0 | cp >> 12);
    *w++ = static_cast<char>(0x80 | (cp >> 6 & 0x3f));
    *w++ = static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    *w++ = static_cast<char>(0xf0 | cp >> 18);
    *w++ = static_cast<char>(0x80 | (cp >> 12 & 0x3f));
    *w++ = static_cast<char>(0x80 | (cp >> 6 & 0x3f));
    *w++ = static_cast<char>(0x80 | (cp & 0x3f));
  }
  return w;
}

}  // namespace sluice::json_unescape

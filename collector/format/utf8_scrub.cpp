#include "format/utf8_scrub.h"

#include <cstdint>

namespace sluice {

size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end) {
  unsigned char c = p[0];
  if (c < 0x80) return 1;
  size_t n;
  uint32_t min;
  if ((c & 0xE0) == 0xC0) n = 2, min = 0x80;
  else if ((c & 0xF0) == 0xE0) n = 3, min = 0x800;
  else if ((c & 0xF8) == 0xF0) n = 4, min = 0x10000;
  else return 0;
  if (static_cast<size_t>(end - p) < n) return 0;
  uint32_t cp = c & (0x7F >> n);
  for (size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) return 0;
  return n;
}

std::string_view scrub_utf8(std::string_view s, std::string& tmp, std::string_view replacement) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  const auto* q = p;
  while (q < end && *q < 0x80) ++q;
  if (q == end) return s;
  bool valid = true;
  for (const auto* r = q; r < end;) {
    size_t n = utf8_sequence_length(r, end);
    if (!n) {
      valid = false;
      break;
    }
    r += n;
  }
  if (valid) return s;
  tmp.assign(s.data(), static_cast<size_t>(q - p));
  while (q < end) {
    size_t n = utf8_sequence_length(q, end);
    if (n) {
      tmp.append(reinterpret_cast<const char*>(q), n);
      q += n;
    } else {
      tmp.append(replacement);
      ++q;
    }
  }
  return tmp;
}

}  // namespace sluice

#include "flat_object.h"

#include <simdjson.h>

#include <cstring>

#include "format/json_short.h"
#include "format/json_unescape.h"
#include "unescape_blocks.h"

namespace sluice::parsers {
namespace {

using Byte = unsigned char;

bool is_space(Byte c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

const Byte* skip_space(const Byte* p, const Byte* end) {
  if (p < end && *p > ' ') return p;  // compact JSON (docker's) has none
  while (p < end && is_space(*p)) ++p;
  return p;
}

// The bytes a string's text cannot hold as they are: its closing quote, a backslash, a control.
bool special(Byte c) { return c < 0x20 || c == '"' || c == '\\'; }

// The first special byte from p on, or end.
const Byte* find_special(const Byte* p, const Byte* end) {
#if defined(__SSE2__)
  using json::detail::escape_mask;
  while (end - p >= 16) {
    const unsigned m = escape_mask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    if (m != 0) return p + __builtin_ctz(m);
    p += 16;
  }
  __m128i v;
  if (p < end && json::detail::load_within_page(p, v)) {
    const unsigned m = escape_mask(v) & ((1u << (end - p)) - 1);
    return m != 0 ? p + __builtin_ctz(m) : end;
  }
#endif
  while (p < end && !special(*p)) ++p;
  return p;
}

// Whether the n bytes at p are all ASCII (then they are valid UTF-8 without asking simdjson,
// whose general check costs several times this).
bool all_ascii(const Byte* p, size_t n) {
#if defined(__SSE2__)
  if (n >= 16) {
    auto load = [](const Byte* q) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)); };
    __m128i any = load(p + n - 16);  // the last 16 bytes; the blocks below cover the rest
    for (; n >= 64; n -= 64, p += 64)
      any = _mm_or_si128(_mm_or_si128(any, _mm_or_si128(load(p), load(p + 16))),
                         _mm_or_si128(load(p + 32), load(p + 48)));
    for (; n >= 16; n -= 16, p += 16) any = _mm_or_si128(any, load(p));
    return _mm_movemask_epi8(any) == 0;
  }
#endif
  Byte high = 0;
  for (; n > 0; --n) high |= *p++;
  return high < 0x80;
}

// A \uXXXX escape (p at the `u`, 5 bytes available) as UTF-8 at w; false declines it (not hex,
// or a surrogate: simdjson pairs them or rejects a lone one).
bool unescape_unicode(const Byte* p, char*& w) {
  uint32_t cp;
  if (!json_unescape::read_hex4(reinterpret_cast<const char*>(p + 1), cp) || (cp >= 0xd800 && cp <= 0xdfff))
    return false;
  w = json_unescape::write_utf8(w, cp);
  return true;
}

// Writes the character of the escape whose letter is at p (after the backslash) to w. Returns the
// bytes it took after the backslash; 0 declines it.
inline size_t unescape_one(const Byte* p, const Byte* end, char*& w) {
  if (p >= end) return 0;
  if (const char c = json_unescape::one_letter(static_cast<char>(*p)); c != 0) {
    *w++ = c;
    return 1;
  }
  return *p == 'u' && end - p >= 5 && unescape_unicode(p, w) ? 5 : 0;
}

// Copies plain bytes from p to w up to the next special byte (or end), where p and w are left.
inline void copy_plain(const Byte*& p, const Byte* end, char*& w) {
#if defined(__SSE2__)
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(w), v);
    const unsigned m = json::detail::escape_mask(v);
    if (m != 0) {
      const unsigned i = static_cast<unsigned>(__builtin_ctz(m));
      p += i;
      w += i;
      return;
    }
    p += 16;
    w += 16;
  }
#endif
  while (p < end && !special(*p)) *w++ = static_cast<char>(*p++);
}

// Reads the string whose text starts at p (after its opening quote); returns the byte after its
// closing quote, or nullptr when declined. Text with escapes is unescaped into the arena. Inline:
// six calls per docker line, and the key's copy folds away the escape path.
__attribute__((always_inline)) inline const Byte* read_string(const Byte* p, const Byte* end,
                                                              bool escapes_allowed, Arena& arena,
                                                              std::string_view& value) {
  const Byte* const text = p;
  p = find_special(p, end);
  if (p == end) return nullptr;
  if (*p == '"') {
    value = {reinterpret_cast<const char*>(text), static_cast<size_t>(p - text)};
    return p + 1;
  }
  if (*p != '\\' || !escapes_allowed) return nullptr;
  // Every escape is at least as long as what it stands for, so the output stays at or behind the
  // input: `end - text` bytes hold it, including copy_plain's 16-byte and unescape_blocks' 32-byte
  // stores (made only while as many input bytes remain).
  const size_t room = static_cast<size_t>(end - text);
  char* const out = arena.allocate(room);
  std::memcpy(out, text, static_cast<size_t>(p - text));
  char* w = out + (p - text);
  for (;;) {
    p = unescape_blocks(p, end, w);
    copy_plain(p, end, w);
    if (p == end || *p != '\\') break;
    const size_t n = unescape_one(p + 1, end, w);
    if (n == 0) break;
    p += 1 + n;
  }
  if (p == end || *p != '"') {  // a control byte, an escape declined, no closing quote
    arena.shrink_last(out, room, 0);
    return nullptr;
  }
  const size_t used = static_cast<size_t>(w - out);
  arena.shrink_last(out, room, used);
  value = {out, used};
  return p + 1;
}

}  // namespace

bool FlatObjectReader::read(std::string_view line, Arena& arena) {
  members_.clear();
  const auto* p = reinterpret_cast<const Byte*>(line.data());
  const Byte* const end = p + line.size();
  p = skip_space(p, end);
  if (p == end || *p != '{') return false;
  p = skip_space(p + 1, end);
  if (p == end || *p == '}') return false;
  for (;;) {
    if (p == end || *p != '"' || members_.size() == kMaxMembers) return false;
    FlatMember m;
    p = read_string(p + 1, end, false, arena, m.key);
    if (p == nullptr) return false;
    if (end - p >= 2 && p[0] == ':' && p[1] == '"') {  // compact JSON (docker's): no spaces to skip
      p += 1;
    } else {
      p = skip_space(p, end);
      if (p == end || *p != ':') return false;
      p = skip_space(p + 1, end);
      if (p == end || *p != '"') return false;
    }
    p = read_string(p + 1, end, true, arena, m.value);
    if (p == nullptr) return false;
    members_.push_back(m);
    p = skip_space(p, end);
    if (p == end) return false;
    if (*p == '}') break;
    if (*p != ',') return false;
    p = skip_space(p + 1, end);
  }
  if (skip_space(p + 1, end) != end) return false;
  // Last, so that lines declined for their shape are not validated twice.
  return all_ascii(reinterpret_cast<const Byte*>(line.data()), line.size()) ||
         simdjson::validate_utf8(line.data(), line.size());
}

}  // namespace sluice::parsers

// JSON writing as Fluentd's serializers (Oj, Yajl) do it. See json.h.
//
// Only `"`, `\` and the C0 controls are escaped; DEL, `/<>&`, non-ASCII (including
// U+2028/U+2029) and invalid UTF-8 bytes are written raw, as both Oj and Yajl do. The escaper
// writes straight into the room a StringWriter gives it, 16 (SSE2) or 32 (AVX2) bytes at a time,
// and fixes up at the bytes to escape.
#include "format/json.h"

#include "format/string_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace sluice::json {

namespace {

// 0: copy as is. Otherwise the character after the backslash ('u' for \u00XX).
struct EscapeTable {
  char t[256];
  constexpr EscapeTable() : t{} {
    for (int c = 0; c < 0x20; ++c) t[c] = 'u';
    t['\b'] = 'b';
    t['\f'] = 'f';
    t['\n'] = 'n';
    t['\r'] = 'r';
    t['\t'] = 't';
    t['"'] = '"';
    t['\\'] = '\\';
  }
};
constexpr EscapeTable kEscape;

constexpr char kLowerHex[] = "0123456789abcdef";
constexpr char kUpperHex[] = "0123456789ABCDEF";

// The escape sequence of each byte with its length (0 for bytes copied as is), 8 bytes per entry
// so that one 8-byte store writes any sequence (the bytes past `len` are overwritten later or lie
// in the room's slack).
struct EscapeSeq {
  char s[7];
  unsigned char len;
};
struct EscapeSeqs {
  EscapeSeq t[256];
  constexpr explicit EscapeSeqs(const char* hex) : t{} {
    for (int c = 0; c < 256; ++c) {
      const char e = kEscape.t[c];
      if (e == 0) continue;
      t[c].s[0] = '\\';
      t[c].s[1] = e;
      t[c].len = 2;
      if (e == 'u') {
        t[c].s[2] = '0';
        t[c].s[3] = '0';
        t[c].s[4] = hex[c >> 4];
        t[c].s[5] = hex[c & 0xf];
        t[c].len = 6;
      }
    }
  }
};
constexpr EscapeSeqs kLowerSeqs(kLowerHex);
constexpr EscapeSeqs kUpperSeqs(kUpperHex);

}  // namespace

using detail::escape_mask;
using detail::load_within_page;
using detail::within_page;

// Writes the escape sequence of c (kEscape.t[c] != 0): one 8-byte store, at most 6 bytes kept.
static inline char* write_escape(char* w, unsigned char c, const EscapeSeq* seqs) {
  std::memcpy(w, &seqs[c], sizeof(EscapeSeq));
  return w + seqs[c].len;
}

// A byte at a time, for bytes where a block load could cross into another page.
static char* escape_bytes(char* w, const unsigned char* p, const unsigned char* end,
                          const EscapeSeq* seqs) {
  for (; p < end; ++p) {
    if (kEscape.t[*p] != 0) {
      w = write_escape(w, *p, seqs);
    } else {
      *w++ = static_cast<char>(*p);
    }
  }
  return w;
}

// In a block at p stored at w from its byte `start` on, the first byte marked in mask: backs up
// to it, writes its escape, moves start past it and returns where the bytes after it go.
static inline char* escape_first(char* w, const unsigned char* p, unsigned mask, unsigned& start,
                                 const EscapeSeq* seqs) {
  const unsigned i = static_cast<unsigned>(__builtin_ctz(mask));
  w = write_escape(w + (i - start), p[i], seqs);
  start = i + 1;
  return w;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define SLUICE_JSON_AVX2 1
// The 32 bytes at p, which the caller knows lie in one page: reading past the string's end within
// the page cannot fault (glibc's string functions read the same way; the address sanitizer is
// told so).
__attribute__((target("avx2"), no_sanitize("address"))) static inline __m256i load32_unchecked(
    const unsigned char* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
__attribute__((target("avx2"))) static inline bool load32_within_page(const unsigned char* p,
                                                                     __m256i& v) {
  if (!within_page(p, 32)) return false;
  v = load32_unchecked(p);
  return true;
}

// Bit i set when byte i of v is a C0 control (controls) or `"` / `\\` (quotes).
struct EscapeMasks {
  unsigned controls, quotes;
  unsigned all() const { return controls | quotes; }
};
__attribute__((target("avx2"))) static inline EscapeMasks escape_masks32(__m256i v) {
  const __m256i control_max = _mm256_set1_epi8(0x1f);
  const __m256i controls = _mm256_cmpeq_epi8(_mm256_max_epu8(v, control_max), control_max);
  const __m256i quotes = _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('"')),
                                         _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\')));
  return {static_cast<unsigned>(_mm256_movemask_epi8(controls)),
          static_cast<unsigned>(_mm256_movemask_epi8(quotes))};
}

// Escapes the bytes marked in mask of the block at p, stored at w, `size` bytes of which are in
// the string; returns where the block's output ends. kInPage: the 64 bytes from p lie in one
// page, so every reload can be made without checking.
template <bool kInPage>
__attribute__((target("avx2"))) static inline char* fix_up32(char* w, const unsigned char* p,
                                                            unsigned mask, unsigned size,
                                                            const EscapeSeq* seqs) {
  unsigned start = 0;
  do {
    w = escape_first(w, p, mask, start, seqs);
    mask &= mask - 1;
    if (!kInPage && !within_page(p + start, 32)) return escape_bytes(w, p + start, p + size, seqs);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w), load32_unchecked(p + start));
  } while (mask != 0);
  return w + (size - start);
}

// The common case of fix_up32, a block whose escapes are all `"` or `\\` and whose 64 bytes lie
// in one page: each escape is a backslash and the 32 bytes from the escaped byte on, one place
// further along.
__attribute__((target("avx2"))) static inline char* fix_up_quotes32(char* w, const unsigned char* p,
                                                                   unsigned mask, unsigned size) {
  do {
    const unsigned i = static_cast<unsigned>(__builtin_ctz(mask));
    w[i] = '\\';
    ++w;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w + i), load32_unchecked(p + i));
    mask &= mask - 1;
  } while (mask != 0);
  return w + size;
}

// Escapes a block at p stored at w with `size` bytes in the string, given its masks.
__attribute__((target("avx2"))) static inline char* fix_up_block32(char* w, const unsigned char* p,
                                                                  EscapeMasks m, unsigned size,
                                                                  const EscapeSeq* seqs) {
  if (!within_page(p, 64)) return fix_up32<false>(w, p, m.all(), size, seqs);
  if (m.controls == 0) return fix_up_quotes32(w, p, m.quotes, size);
  return fix_up32<true>(w, p, m.all(), size, seqs);
}

// The whole string 32 bytes at a time, for CPUs with AVX2 (checked once at start-up). Each block
// is stored as is; for each byte in it to escape, the writer backs up to it, writes its escape
// and stores the 32 bytes that follow it in the input (the next escape or block overwrites what
// lies past the block). The last 1-31 bytes are one more block, masked to the string, when the
// 32-byte load stays within its page; otherwise they go a byte at a time, as does the rest of a
// block whose reload would cross a page. A store ends at most 31 bytes past the escaped text of
// the bytes read so far: within max_escaped_size's slack.
__attribute__((target("avx2"))) static char* escape_avx2(char* w, const unsigned char* p,
                                                        const unsigned char* end,
                                                        const EscapeSeq* seqs) {
  while (end - p >= 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w), v);
    const EscapeMasks m = escape_masks32(v);
    w = m.all() == 0 ? w + 32 : fix_up_block32(w, p, m, 32, seqs);
    p += 32;
  }
  const unsigned n = static_cast<unsigned>(end - p);
  __m256i v;
  if (n == 0 || !load32_within_page(p, v)) return escape_bytes(w, p, end, seqs);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(w), v);
  EscapeMasks m = escape_masks32(v);
  const unsigned in_string = (1u << n) - 1;
  m.controls &= in_string;
  m.quotes &= in_string;
  return m.all() == 0 ? w + n : fix_up_block32(w, p, m, n, seqs);
}

static const bool kHaveAvx2 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") != 0;
}();
#endif

char* write_escaped_body(char* w, std::string_view bytes, HexCase hex) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  const EscapeSeq* seqs = hex == HexCase::Lower ? kLowerSeqs.t : kUpperSeqs.t;
#if defined(SLUICE_JSON_AVX2)
  if (kHaveAvx2) return escape_avx2(w, p, end, seqs);
#endif
#if defined(__SSE2__)
  // 16 bytes per step with SSE2 (part of x86-64): each block is stored as is; for each byte in it
  // that needs escaping, the writer backs up to it, writes its escape and stores the 16 bytes that
  // follow it after the escape (the next escape or block overwrites what lies past them). While 32
  // bytes remain, those 16-byte loads stay within the string; the last 16-31 bytes go a block at
  // a time from the byte after each escape, the last 1-15 masked to the string. A table lookup per
  // byte where a 16-byte load could cross into another page.
  while (end - p >= 32) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(w), v);
    unsigned mask = escape_mask(v);
    if (mask == 0) {
      p += 16;
      w += 16;
      continue;
    }
    unsigned start = 0;
    do {
      w = escape_first(w, p, mask, start, seqs);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(w),
                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + start)));
      mask &= mask - 1;
    } while (mask != 0);
    w += 16 - start;
    p += 16;
  }
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(w), v);
    const unsigned mask = escape_mask(v);
    if (mask == 0) {
      p += 16;
      w += 16;
      continue;
    }
    const unsigned i = static_cast<unsigned>(__builtin_ctz(mask));
    w = write_escape(w + i, p[i], seqs);
    p += i + 1;
  }
  // The last 1-15 bytes the same way, masked to the string (the room has kEscapeSlack for the
  // store); the byte loop below takes them when they end a page.
  __m128i v;
  while (p < end && load_within_page(p, v)) {
    const unsigned n = static_cast<unsigned>(end - p);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(w), v);
    const unsigned mask = escape_mask(v) & ((1u << n) - 1);
    if (mask == 0) {
      w += n;
      p = end;
      break;
    }
    const unsigned i = static_cast<unsigned>(__builtin_ctz(mask));
    w = write_escape(w + i, p[i], seqs);
    p += i + 1;
  }
#endif
  return escape_bytes(w, p, end, seqs);
}

void write_string(StringWriter& out, std::string_view bytes, HexCase hex) {
  if (bytes.size() <= kEscapeStep) {
    out.advance(write_quoted(out.room(max_escaped_size(bytes.size())), bytes, hex));
    return;
  }
  // Long strings in steps, so that the room asked for stays small.
  out.put('"');
  for (size_t at = 0; at < bytes.size(); at += kEscapeStep) {
    std::string_view part = bytes.substr(at, kEscapeStep);
    out.advance(write_escaped_body(out.room(max_escaped_size(part.size())), part, hex));
  }
  out.put('"');
}

void append_string(std::string& out, std::string_view bytes, HexCase hex) {
  StringWriter w(out);
  write_string(w, bytes, hex);
}

// Ruby's Float#to_s (flo_to_s): shortest round-trip digits; fixed notation when the decimal
// exponent is in (-4, 16], else `d.ddde+XX` with at least two exponent digits. At most 32 bytes.
char* write_double(char* w, double d) {
  auto put = [&w](std::string_view s) {
    std::memcpy(w, s.data(), s.size());
    w += s.size();
  };
  if (!std::isfinite(d)) {
    put("null");
    return w;
  }
  if (d == 0) {
    put(std::signbit(d) ? "-0.0" : "0.0");
    return w;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  // buf: [-]D[.DDDD]e[+-]XX
  const char* p = buf;
  const char* end = r.ptr;
  bool negative = *p == '-';
  if (negative) ++p;
  char digits[32];
  int ndigits = 0;
  while (p < end && *p != 'e') {
    if (*p != '.') digits[ndigits++] = *p;
    ++p;
  }
  int exp10 = 0;
  std::from_chars(p + 1 + (p[1] == '+' ? 1 : 0), end, exp10);
  while (ndigits > 1 && digits[ndigits - 1] == '0') --ndigits;
  const int decpt = exp10 + 1;  // digits are 0.DDDD * 10^decpt
  const std::string_view all(digits, static_cast<size_t>(ndigits));

  if (negative) *w++ = '-';
  if (decpt > 0 && decpt <= 16) {
    if (ndigits <= decpt) {
      put(all);
      w = std::fill_n(w, decpt - ndigits, '0');
      put(".0");
    } else {
      put(all.substr(0, static_cast<size_t>(decpt)));
      *w++ = '.';
      put(all.substr(static_cast<size_t>(decpt)));
    }
  } else if (decpt <= 0 && decpt > -4) {
    put("0.");
    w = std::fill_n(w, -decpt, '0');
    put(all);
  } else {
    *w++ = digits[0];
    *w++ = '.';
    if (ndigits > 1)
      put(all.substr(1));
    else
      *w++ = '0';
    int e = decpt - 1;
    *w++ = 'e';
    *w++ = e < 0 ? '-' : '+';
    if (e < 0) e = -e;
    if (e < 10) *w++ = '0';
    w = std::to_chars(w, w + 4, e).ptr;
  }
  return w;
}

void append_double(std::string& out, double d) {
  StringWriter w(out);
  w.advance(write_double(w.room(kMaxDoubleSize), d));
}

void write_value(StringWriter& out, const Value& v, HexCase hex) {
  switch (v.kind) {
    case ValueKind::Null:
      out.put("null");
      break;
    case ValueKind::Bool:
      out.put(v.boolean ? std::string_view("true") : std::string_view("false"));
      break;
    case ValueKind::Int: {
      char* w = out.room(24);
      out.advance(std::to_chars(w, w + 24, v.integer).ptr);
      break;
    }
    case ValueKind::Float:
      out.advance(write_double(out.room(kMaxDoubleSize), v.real));
      break;
    case ValueKind::String:
      write_string(out, v.text, hex);
      break;
    case ValueKind::Json:
      out.put(v.text.empty() ? std::string_view("null") : v.text);
      break;
  }
}

void write_member(StringWriter& out, bool& first, std::string_view key, const Value& v, HexCase hex) {
  const bool string = v.kind == ValueKind::String;
  if (key.size() <= kEscapeStep && (!string || v.text.size() <= kEscapeStep)) {
    // The common case, key and string value under one request for room.
    char* w = out.room(max_escaped_size(key.size()) + 2 + (string ? max_escaped_size(v.text.size()) : 0));
    if (!first) *w++ = ',';
    first = false;
    w = write_quoted(w, key, hex);
    *w++ = ':';
    if (string) {
      out.advance(write_quoted(w, v.text, hex));
      return;
    }
    out.advance(w);
  } else {
    if (!first) out.put(',');
    first = false;
    write_string(out, key, hex);
    out.put(':');
  }
  write_value(out, v, hex);
}

bool write_record_open(StringWriter& out, const Batch& batch, const Record& record, HexCase hex) {
  out.put('{');
  bool first = true;
  for (const Field* f = batch.begin(record); f != batch.end(record); ++f)
    write_member(out, first, f->key, f->value, hex);
  for (const Field& f : batch.common_fields) write_member(out, first, f.key, f.value, hex);
  return !first;
}

void append_value(std::string& out, const Value& v, HexCase hex) {
  StringWriter w(out);
  write_value(w, v, hex);
}

void append_member(std::string& out, bool& first, std::string_view key, const Value& v,
                   HexCase hex) {
  StringWriter w(out);
  write_member(w, first, key, v, hex);
}

bool append_record_open(std::string& out, const Batch& batch, const Record& record, HexCase hex) {
  StringWriter w(out);
  return write_record_open(w, batch, record, hex);
}

void append_record(std::string& out, const Batch& batch, const Record& record, HexCase hex) {
  StringWriter w(out);
  write_record_open(w, batch, record, hex);
  w.put('}');
}

}  // namespace sluice::json

// The JSON string escaper (write_escaped_body), as Fluentd's serializers (Oj, Yajl) escape.
//
// Only `"`, `\` and the C0 controls are escaped; DEL, `/<>&`, non-ASCII (including
// U+2028/U+2029) and invalid UTF-8 bytes are written raw, as both Oj and Yajl do. The escaper
// writes straight into the room a StringWriter gives it, 16 (SSE2), 32 (AVX2) or 32 bytes spread
// to 64 (AVX-512) at a time, and fixes up at the bytes to escape.
#include <cstdint>
#include <cstring>

#include "format/json.h"

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
    t[unsigned{'\b'}] = 'b';
    t[unsigned{'\f'}] = 'f';
    t[unsigned{'\n'}] = 'n';
    t[unsigned{'\r'}] = 'r';
    t[unsigned{'\t'}] = 't';
    t[unsigned{'"'}] = '"';
    t[unsigned{'\\'}] = '\\';
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

// The compare operands, read from memory by the instructions that use them: built in registers
// (a broadcast each) they cost ~16 instructions per string, as many as two plain blocks.
struct alignas(32) EscapeConstants {
  unsigned char control_max[32], quote[32], backslash[32];
  constexpr EscapeConstants() : control_max{}, quote{}, backslash{} {
    for (int i = 0; i < 32; ++i) {
      control_max[i] = 0x1f;
      quote[i] = '"';
      backslash[i] = '\\';
    }
  }
};
constexpr EscapeConstants kEscapeConstants;

// The table through a pointer the compiler cannot see through (the empty asm): knowing the
// contents, it would broadcast them into registers again in every string's prologue and tail.
static inline const EscapeConstants& escape_constants() {
  const EscapeConstants* at = &kEscapeConstants;
  asm("" : "+r"(at));
  return *at;
}
__attribute__((target("avx2"))) static inline __m256i constant32(const unsigned char (&c)[32]) {
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(c));
}

// Bit i set when byte i of v is a C0 control (controls) or `"` / `\\` (quotes).
struct EscapeMasks {
  unsigned controls, quotes;
  unsigned all() const { return controls | quotes; }
};
__attribute__((target("avx2"))) static inline EscapeMasks escape_masks32(__m256i v) {
  const __m256i control_max = constant32(escape_constants().control_max);
  const __m256i controls = _mm256_cmpeq_epi8(_mm256_max_epu8(v, control_max), control_max);
  const __m256i quotes = _mm256_or_si256(_mm256_cmpeq_epi8(v, constant32(escape_constants().quote)),
                                         _mm256_cmpeq_epi8(v, constant32(escape_constants().backslash)));
  return {static_cast<unsigned>(_mm256_movemask_epi8(controls)),
          static_cast<unsigned>(_mm256_movemask_epi8(quotes))};
}

// Escapes the bytes marked in mask of the block at p, stored at w, `size` bytes of which are in
// the string; returns where the block's output ends. kInPage: the 64 bytes from p lie in one
// page, so every reload can be made without checking. Out of line: blocks with controls or at a
// page's end are rare, and inline its registers made every string save and restore more.
template <bool kInPage>
__attribute__((target("avx2"), noinline)) static char* fix_up32(char* w, const unsigned char* p,
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

// A block with many `"` or `\\` to escape and no control goes 8 bytes at a time instead: one byte
// shuffle puts each byte at its place and a backslash before each escaped one, from a table
// indexed by the 8 bytes' mask, at the same cost whatever the number of escapes. With fewer than
// kMinSpreadQuotes in the block, fixing up escape by escape costs less. (JSON application logs:
// a third of their 32-byte blocks have 4 to 9.)
constexpr unsigned kMinSpreadQuotes = 4;

// For each 8-bit mask: the shuffle of a source whose bytes 0-7 are the input and 8-15
// backslashes, and the length of its output.
struct SpreadTable {
  alignas(16) unsigned char shuffle[256][16];
  unsigned char length[256];
  constexpr SpreadTable() : shuffle{}, length{} {
    for (unsigned m = 0; m < 256; ++m) {
      unsigned j = 0;
      for (unsigned i = 0; i < 8; ++i) {
        if (m >> i & 1) shuffle[m][j++] = 8;
        shuffle[m][j++] = static_cast<unsigned char>(i);
      }
      length[m] = static_cast<unsigned char>(j);
      for (; j < 16; ++j) shuffle[m][j] = 0x80;
    }
  }
};
constexpr SpreadTable kSpread;

// The 8 input bytes in source's low half, escaped by mask `quotes`, stored at w (16 bytes: within
// max_escaped_size's slack); returns the output's end.
__attribute__((target("avx2"))) static inline char* spread8(char* w, __m128i source, unsigned quotes) {
  const __m128i shuffle = _mm_load_si128(reinterpret_cast<const __m128i*>(kSpread.shuffle[quotes]));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(w), _mm_shuffle_epi8(source, shuffle));
  return w + kSpread.length[quotes];
}

__attribute__((target("avx2"))) static inline char* spread_quotes32(char* w, __m256i v, unsigned quotes) {
  const __m128i backslashes = _mm256_castsi256_si128(constant32(escape_constants().backslash));
  const __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
  w = spread8(w, _mm_unpacklo_epi64(lo, backslashes), quotes & 0xff);
  w = spread8(w, _mm_unpackhi_epi64(lo, backslashes), quotes >> 8 & 0xff);
  w = spread8(w, _mm_unpacklo_epi64(hi, backslashes), quotes >> 16 & 0xff);
  return spread8(w, _mm_unpackhi_epi64(hi, backslashes), quotes >> 24);
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
// lies past the block); a full block with kMinSpreadQuotes or more quotes and no control is
// spread by shuffles instead (spread_quotes32). The last 1-31 bytes are one more block, masked
// to the string, when the 32-byte load stays within its page; otherwise they go a byte at a
// time, as does the rest of a block whose reload would cross a page. A store ends at most 31
// bytes past the escaped text of the bytes read so far: within max_escaped_size's slack.
// Inline in both callers: a call of its own cost ~10 instructions per string, most of them
// materialising the compare constants the loop before it already holds.
__attribute__((target("avx2"), always_inline)) static inline char* escape_tail32(
    char* w, const unsigned char* p, const unsigned char* end, const EscapeSeq* seqs) {
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

__attribute__((target("avx2,popcnt"))) static char* escape_avx2(char* w, const unsigned char* p,
                                                        const unsigned char* end,
                                                        const EscapeSeq* seqs) {
  for (size_t blocks = static_cast<size_t>(end - p) / 32; blocks != 0; --blocks) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w), v);
    const EscapeMasks m = escape_masks32(v);
    if (m.all() == 0)
      w += 32;
    else if (m.controls == 0 &&
             static_cast<unsigned>(__builtin_popcount(m.quotes)) >= kMinSpreadQuotes)
      w = spread_quotes32(w, v, m.quotes);
    else
      w = fix_up_block32(w, p, m, 32, seqs);
    p += 32;
  }
  return escape_tail32(w, p, end, seqs);
}

// With AVX-512 VBMI2 (checked once at start-up), a 32-byte block whose escapes are all `"` or
// `\\` (or none) is written whole in one masked store: vpexpandb spreads its bytes out, leaving a
// place for a backslash before each escaped one, so the cost no longer grows with the escapes
// (JSON application logs carry ~16 per message). Blocks with controls go as in escape_avx2.
#define SLUICE_AVX512_TARGET __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vbmi2,bmi2")))

// The first n (1-32) bytes of block v, whose bytes to escape (`quotes`) are all `"` or `\\`,
// written at w with a backslash before each: in reading order each input byte takes one output
// place and an escaped one a backslash's place first, so interleave (backslash slot, byte slot)
// pairs, keep the slots present and mark the byte slots; vpexpandb puts the bytes there and the
// backslashes fill the rest. Stores the output's bytes only; returns its end.
SLUICE_AVX512_TARGET static inline char* spread_quotes(char* w, __m256i v, unsigned n, unsigned quotes) {
  const uint64_t bytes = n == 32 ? 0xffffffffull : (1ull << n) - 1;
  const uint64_t present = _pdep_u64(bytes, 0xaaaaaaaaaaaaaaaaull) | _pdep_u64(quotes, 0x5555555555555555ull);
  const __mmask64 byte_places = _pext_u64(0xaaaaaaaaaaaaaaaaull, present);
  const unsigned len = n + static_cast<unsigned>(__builtin_popcount(quotes));
  const __mmask64 out = len == 64 ? ~0ull : (1ull << len) - 1;
  _mm512_mask_storeu_epi8(w, out, _mm512_mask_expand_epi8(_mm512_set1_epi8('\\'), byte_places,
                                                           _mm512_castsi256_si512(v)));
  return w + len;
}

// The last 1-31 bytes of a string: a masked load never touches the bytes masked off (the address
// sanitizer sees a 32-byte load, so it is not told).
__attribute__((target("avx512bw,avx512vl"), no_sanitize("address"))) static inline __m256i load_masked32(
    const unsigned char* p, __mmask32 in_string) {
  return _mm256_maskz_loadu_epi8(in_string, p);
}

SLUICE_AVX512_TARGET static char* escape_avx512(char* w, const unsigned char* p,
                                                const unsigned char* end, const EscapeSeq* seqs) {
  while (end - p >= 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const EscapeMasks m = escape_masks32(v);
    if (m.controls == 0) {
      w = spread_quotes(w, v, 32, m.quotes);
    } else {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w), v);
      w = fix_up_block32(w, p, m, 32, seqs);
    }
    p += 32;
  }
  const unsigned n = static_cast<unsigned>(end - p);
  if (n == 0) return w;
  const __mmask32 in_string = (1u << n) - 1;
  const __m256i v = load_masked32(p, in_string);
  const EscapeMasks m = escape_masks32(v);
  if ((m.controls & in_string) == 0) return spread_quotes(w, v, n, m.quotes & in_string);
  return escape_tail32(w, p, end, seqs);
}

static Escaper best_escaper() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("bmi2"))
    return Escaper::Avx512;
  if (__builtin_cpu_supports("avx2")) return Escaper::Avx2;
  return Escaper::Sse2;
}
#else
static Escaper best_escaper() { return Escaper::Sse2; }
#endif

static char* escape_sse2(char* w, const unsigned char* p, const unsigned char* end,
                         const EscapeSeq* seqs) {
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

using EscapeFunction = char* (*)(char*, const unsigned char*, const unsigned char*, const EscapeSeq*);

static EscapeFunction escape_function(Escaper e) {
#if defined(SLUICE_JSON_AVX2)
  if (e == Escaper::Avx512) return escape_avx512;
  if (e == Escaper::Avx2) return escape_avx2;
#endif
  return escape_sse2;
}

// The escaper is chosen once and called through a pointer: cheaper than testing the choice for
// every string. Constant-initialised to SSE2 so that a string escaped during another file's static
// initialisation does not call through a null pointer.
static Escaper g_escaper = Escaper::Sse2;
static EscapeFunction g_escape = escape_sse2;

Escaper escaper() { return g_escaper; }

bool use_escaper(Escaper e) {
  if (e > best_escaper()) return false;
  g_escaper = e;
  g_escape = escape_function(e);
  return true;
}

[[maybe_unused]] static const bool g_best_escaper_chosen = use_escaper(best_escaper());

char* write_escaped_body(char* w, std::string_view bytes, HexCase hex) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  return g_escape(w, p, p + bytes.size(), hex == HexCase::Lower ? kLowerSeqs.t : kUpperSeqs.t);
}

}  // namespace sluice::json

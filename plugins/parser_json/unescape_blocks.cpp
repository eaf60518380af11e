#include "unescape_blocks.h"

#include <cstdint>

#include "format/json_unescape.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SLUICE_UNESCAPE_AVX2 1
#endif

namespace sluice::parsers {

#if defined(SLUICE_UNESCAPE_AVX2)
namespace {

// For each 8-bit mask of bytes to keep: the shuffle that packs them to the front.
struct PackTable {
  alignas(16) unsigned char shuffle[256][16];
  constexpr PackTable() : shuffle{} {
    for (unsigned m = 0; m < 256; ++m) {
      unsigned j = 0;
      for (unsigned i = 0; i < 8; ++i)
        if (m >> i & 1) shuffle[m][j++] = static_cast<unsigned char>(i);
      for (; j < 16; ++j) shuffle[m][j] = 0x80;
    }
  }
};
constexpr PackTable kPack;

// The 8 bytes in lane's low half with the bytes not in `keep` left out, stored at w (8 bytes);
// returns the output's end.
__attribute__((target("avx2,popcnt"))) inline char* pack8(char* w, __m128i lane, unsigned keep) {
  const __m128i shuffle = _mm_load_si128(reinterpret_cast<const __m128i*>(kPack.shuffle[keep]));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(w), _mm_shuffle_epi8(lane, shuffle));
  return w + __builtin_popcount(keep);
}

__attribute__((target("avx2"))) inline unsigned byte_mask(__m256i v, char c) {
  return static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(c))));
}

// The backslashes of mask `backslashes` that start an escape, for a block that does not start
// inside one: in each run of backslashes, those at the run's even distances from its start (the
// others are escaped backslashes). Adding a run's first bit clears the run by carrying through
// it, which marks the runs that start at even places.
inline uint64_t escape_starts(uint64_t backslashes) {
  if ((backslashes & backslashes << 1) == 0) return backslashes;  // no run: each starts one
  constexpr uint64_t kEven = 0x5555555555555555ull;
  const uint64_t starts = backslashes & ~(backslashes << 1);
  const uint64_t even_runs = backslashes & ~(backslashes + (starts & kEven));
  const uint64_t odd_runs = backslashes & ~even_runs;
  const uint64_t escaped = (even_runs & ~kEven) | (odd_runs & kEven);
  return backslashes & ~escaped;
}

// What to do with one 32-byte block at p: its bytes to keep (all but the escapes' backslashes)
// within its first `len`, the letters to look up (other than `"` and `\`, which stand for
// themselves), and whether the string's reading stops after it (`stopped`: at the closing
// quote, a control, or a `\u` or invalid escape left to the caller).
struct BlockPlan {
  unsigned len = 32;
  unsigned keep = ~0u;  // within len
  unsigned translated = 0;
  // Flags as unsigned, not bool: with bools GCC packed the plan into one register and took it
  // apart again in every block (~7 instructions).
  unsigned stopped = 0;
  unsigned plain = 1;  // no escape within len: the block's bytes as they are
};

__attribute__((target("avx2,popcnt,bmi"), always_inline)) inline BlockPlan plan_block(__m256i v,
                                                                                    const unsigned char* p) {
  BlockPlan plan;
  const unsigned backslashes = byte_mask(v, '\\');
  const __m256i control_max = _mm256_set1_epi8(0x1f);
  const unsigned controls = static_cast<unsigned>(
      _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_max_epu8(v, control_max), control_max)));
  const unsigned quotes = byte_mask(v, '"');
  if (backslashes == 0) {
    const unsigned stop = quotes | controls;
    if (stop != 0) {
      plan.len = static_cast<unsigned>(__builtin_ctz(stop));
      plan.keep = (1u << plan.len) - 1;
      plan.stopped = 1;
    }
    return plan;
  }
  plan.plain = 0;
  const uint64_t starts = escape_starts(backslashes);
  const uint64_t letters = starts << 1;  // bit 32: the block's last byte starts an escape
  // The block ends early at its closing quote or a control (escaped or not: JSON allows none),
  // or before an escape whose letter lies past it.
  const unsigned stop = (quotes & ~static_cast<unsigned>(letters)) | controls;
  unsigned len = stop != 0 ? static_cast<unsigned>(__builtin_ctz(stop)) : 32;
  plan.stopped = stop != 0 ? 1 : 0;
  // An escape whose letter is past len (the block's end, or a control) waits for the next
  // round or the caller's reading.
  if (len > 0 && (starts >> (len - 1) & 1)) --len;
  // The first letter that is not a one-letter escape (`\u`, or invalid) ends the block at its
  // backslash.
  const unsigned in_len = len == 32 ? ~0u : (1u << len) - 1;
  unsigned translated = static_cast<unsigned>(letters) & in_len & ~(quotes | backslashes);
  for (unsigned t = translated; t != 0; t &= t - 1) {
    const unsigned i = static_cast<unsigned>(__builtin_ctz(t));
    if (json_unescape::one_letter(static_cast<char>(p[i])) == 0) {
      len = i - 1;
      plan.stopped = 1;
      translated &= (1u << i) - 1;
      break;
    }
  }
  plan.len = len;
  plan.keep = (len == 32 ? ~0u : (1u << len) - 1) & ~static_cast<unsigned>(starts);
  plan.translated = translated;
  return plan;
}

// Writes the looked-up letters of a block packed at block_out.
__attribute__((target("popcnt,bmi"), always_inline)) inline void write_letters(char* block_out,
                                                                             const unsigned char* p,
                                                                             const BlockPlan& plan) {
  for (unsigned t = plan.translated; t != 0; t &= t - 1) {
    const unsigned i = static_cast<unsigned>(__builtin_ctz(t));
    const char c = json_unescape::one_letter(static_cast<char>(p[i]));
    block_out[__builtin_popcount(plan.keep & ((1u << i) - 1))] = c;  // the letter's output place
  }
}

// A block with escapes packed 8 bytes at a time by table shuffles.
__attribute__((target("avx2,popcnt"), always_inline)) inline char* pack32_avx2(char* out, __m256i v,
                                                                               unsigned keep) {
  const __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
  out = pack8(out, lo, keep & 0xff);
  out = pack8(out, _mm_bsrli_si128(lo, 8), keep >> 8 & 0xff);
  out = pack8(out, hi, keep >> 16 & 0xff);
  return pack8(out, _mm_bsrli_si128(hi, 8), keep >> 24);
}

__attribute__((target("avx2,popcnt,bmi"))) const unsigned char* unescape_avx2(const unsigned char* p,
                                                                             const unsigned char* end,
                                                                             char*& w) {
  char* out = w;
  while (end - p >= 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const BlockPlan plan = plan_block(v, p);
    if (plan.plain) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), v);
      out += plan.len;
    } else {
      char* const block_out = out;
      out = pack32_avx2(out, v, plan.keep);
      write_letters(block_out, p, plan);
    }
    p += plan.len;
    if (plan.stopped) break;
  }
  w = out;
  return p;
}

// With AVX-512 VBMI2 one vpcompressb packs the block.
__attribute__((target("avx2,popcnt,bmi,avx512f,avx512bw,avx512vl,avx512vbmi2"))) const unsigned char*
unescape_avx512(const unsigned char* p, const unsigned char* end, char*& w) {
  char* out = w;
  while (end - p >= 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const BlockPlan plan = plan_block(v, p);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_maskz_compress_epi8(plan.keep, v));
    if (!plan.plain) write_letters(out, p, plan);
    out += __builtin_popcount(plan.keep);
    p += plan.len;
    if (plan.stopped) break;
  }
  w = out;
  return p;
}

Unescaper best_unescaper() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("popcnt") || !__builtin_cpu_supports("bmi"))
    return Unescaper::OneAtATime;
  if (__builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    return Unescaper::Avx512;
  return Unescaper::Avx2;
}

Unescaper g_unescaper = best_unescaper();

}  // namespace

const unsigned char* unescape_blocks(const unsigned char* p, const unsigned char* end, char*& w) {
  if (g_unescaper == Unescaper::Avx512) return unescape_avx512(p, end, w);
  if (g_unescaper == Unescaper::Avx2) return unescape_avx2(p, end, w);
  return p;
}

#else
namespace {
Unescaper best_unescaper() { return Unescaper::OneAtATime; }
Unescaper g_unescaper = Unescaper::OneAtATime;
}  // namespace

const unsigned char* unescape_blocks(const unsigned char* p, const unsigned char*, char*&) { return p; }
#endif

Unescaper unescaper() { return g_unescaper; }

bool use_unescaper(Unescaper u) {
  if (u > best_unescaper()) return false;
  g_unescaper = u;
  return true;
}

}  // namespace sluice::parsers

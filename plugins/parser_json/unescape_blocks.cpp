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

__attribute__((target("avx2,popcnt,bmi"))) const unsigned char* unescape_avx2(const unsigned char* p,
                                                                             const unsigned char* end,
                                                                             char*& w) {
  char* out = w;
  while (end - p >= 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const unsigned backslashes = byte_mask(v, '\\');
    const __m256i control_max = _mm256_set1_epi8(0x1f);
    const unsigned controls = static_cast<unsigned>(
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_max_epu8(v, control_max), control_max)));
    const unsigned quotes = byte_mask(v, '"');
    if (backslashes == 0) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), v);
      const unsigned stop = quotes | controls;
      if (stop != 0) {
        const unsigned n = static_cast<unsigned>(__builtin_ctz(stop));
        p += n;
        out += n;
        break;
      }
      p += 32;
      out += 32;
      continue;
    }
    const uint64_t starts = escape_starts(backslashes);
    const uint64_t letters = starts << 1;  // bit 32: the block's last byte starts an escape
    // The block ends early at its closing quote or a control (escaped or not: JSON allows none),
    // or before an escape whose letter lies past it.
    const unsigned stop = (quotes & ~static_cast<unsigned>(letters)) | controls;
    unsigned len = stop != 0 ? static_cast<unsigned>(__builtin_ctz(stop)) : 32;
    bool stopped = stop != 0;
    // An escape whose letter is past len (the block's end, or a control) waits for the next
    // round or the caller's reading.
    if (len > 0 && (starts >> (len - 1) & 1)) --len;
    // Letters other than `"` and `\` (which stand for themselves) are looked up; the first that
    // is not a one-letter escape (`\u`, or invalid) ends the block at its backslash.
    const unsigned in_len = len == 32 ? ~0u : (1u << len) - 1;
    unsigned translated = static_cast<unsigned>(letters) & in_len & ~(quotes | backslashes);
    for (unsigned t = translated; t != 0; t &= t - 1) {
      const unsigned i = static_cast<unsigned>(__builtin_ctz(t));
      if (json_unescape::one_letter(static_cast<char>(p[i])) == 0) {
        len = i - 1;
        stopped = true;
        translated &= (1u << i) - 1;
        break;
      }
    }
    const unsigned in_block = len == 32 ? ~0u : (1u << len) - 1;
    const unsigned keep = in_block & ~static_cast<unsigned>(starts);
    char* const block_out = out;
    const __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
    out = pack8(out, lo, keep & 0xff);
    out = pack8(out, _mm_bsrli_si128(lo, 8), keep >> 8 & 0xff);
    out = pack8(out, hi, keep >> 16 & 0xff);
    out = pack8(out, _mm_bsrli_si128(hi, 8), keep >> 24);
    for (; translated != 0; translated &= translated - 1) {
      const unsigned i = static_cast<unsigned>(__builtin_ctz(translated));
      const char c = json_unescape::one_letter(static_cast<char>(p[i]));
      block_out[__builtin_popcount(keep & ((1u << i) - 1))] = c;  // the letter's place in the output
    }
    p += len;
    if (stopped) break;
  }
  w = out;
  return p;
}

bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("bmi");
}

bool g_enabled = cpu_has_avx2();

}  // namespace

const unsigned char* unescape_blocks(const unsigned char* p, const unsigned char* end, char*& w) {
  return g_enabled ? unescape_avx2(p, end, w) : p;
}

bool unescape_blocks_enabled() { return g_enabled; }

bool use_unescape_blocks(bool on) {
  if (on && !cpu_has_avx2()) return false;
  g_enabled = on;
  return true;
}

#else
const unsigned char* unescape_blocks(const unsigned char* p, const unsigned char*, char*&) { return p; }
bool unescape_blocks_enabled() { return false; }
bool use_unescape_blocks(bool on) { return !on; }
#endif

}  // namespace sluice::parsers

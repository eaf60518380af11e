#include "line_split.h"

#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SLUICE_LINES_AVX2 1
#endif

namespace sluice {
namespace detail {

namespace {
// offset_base: the stream offset of address 0 (the first line's offset less its address).
inline void add_line(const char* line, const char* nl, uint64_t offset_base, std::vector<Line>& lines) {
  size_t len = static_cast<size_t>(nl - line);
  if (len > 0 && line[len - 1] == '\r') --len;
  lines.push_back(Line{{line, len}, offset_base + reinterpret_cast<uintptr_t>(line)});
}
}  // namespace

void split_lines_memchr(const char* p, const char* end, uint64_t first_offset, std::vector<Line>& lines) {
  const uint64_t offset_base = first_offset - reinterpret_cast<uintptr_t>(p);
  for (const char* line = p; line < end;) {
    const char* nl = static_cast<const char*>(std::memchr(line, '\n', static_cast<size_t>(end - line)));
    if (!nl) return;  // not a line: the caller passes whole lines only
    add_line(line, nl, offset_base, lines);
    line = nl + 1;
  }
}

#if defined(SLUICE_LINES_AVX2)
__attribute__((target("avx2,bmi"))) static void split_avx2(const char* p, const char* end,
                                                           uint64_t first_offset,
                                                           std::vector<Line>& lines) {
  const __m256i newline = _mm256_set1_epi8('\n');
  const char* line = p;
  const char* block = p;
  // A count of blocks and the offset of address 0, rather than the end and the first offset:
  // the loop has fewer values to keep, and kept them on the stack.
  const uint64_t offset_base = first_offset - reinterpret_cast<uintptr_t>(p);
  for (size_t blocks = static_cast<size_t>(end - p) / 64; blocks != 0; --blocks, block += 64) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 32));
    uint64_t mask = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, newline))) |
                    static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, newline))))
                        << 32;
    while (mask != 0) {
      const char* nl = block + __builtin_ctzll(mask);
      add_line(line, nl, offset_base, lines);
      line = nl + 1;
      mask &= mask - 1;
    }
  }
  // The last 0-63 bytes: a 64-byte load could leave the buffer.
  for (const char* b = block; b < end; ++b)
    if (*b == '\n') {
      add_line(line, b, offset_base, lines);
      line = b + 1;
    }
}

static bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi");
}
static const bool kHaveAvx2 = cpu_has_avx2();
#endif

bool split_lines_avx2(const char* p, const char* end, uint64_t first_offset, std::vector<Line>& lines) {
#if defined(SLUICE_LINES_AVX2)
  if (!kHaveAvx2) return false;
  split_avx2(p, end, first_offset, lines);
  return true;
#else
  (void)p, (void)end, (void)first_offset, (void)lines;
  return false;
#endif
}

}  // namespace detail

void split_lines(const char* p, const char* end, uint64_t first_offset, std::vector<Line>& lines) {
  if (!detail::split_lines_avx2(p, end, first_offset, lines)) detail::split_lines_memchr(p, end, first_offset, lines);
}

}  // namespace sluice

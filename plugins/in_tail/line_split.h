// Finding the lines of a read block: the newlines of 64 bytes at a time as one bit mask (AVX2,
// checked once at start-up), then one step per line, instead of a memchr call per line.
#pragma once

#include <cstdint>
#include <vector>

#include "core/plugin.h"

namespace sluice {

// Appends the lines of [p, end), which ends with '\n', to `lines`: each without its '\n' and a
// '\r' before it (Ruby's chomp, as Fluentd applies it), with its offset (p's is first_offset).
void split_lines(const char* p, const char* end, uint64_t first_offset, std::vector<Line>& lines);

namespace detail {
// The two ways split_lines goes, for tests: memchr per line, and the 64-byte masks (false when
// the CPU lacks AVX2, nothing appended).
void split_lines_memchr(const char* p, const char* end, uint64_t first_offset, std::vector<Line>& lines);
bool split_lines_avx2(const char* p, const char* end, uint64_t first_offset, std::vector<Line>& lines);
}  // namespace detail

}  // namespace sluice

// libFuzzer target: in_tail's line splitting (split_lines), both ways (a memchr per line, and the
// 64-byte newline masks when the CPU has AVX2). The input, with a newline added when it has none
// at the end, is copied to a heap block of its exact size at an offset the first byte picks, so a
// mask load past the block is an address sanitizer report. Both ways must find the same lines,
// and the lines with their newlines (and chomped \r) must give back the input.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "../../plugins/in_tail/line_split.h"

using sluice::Line;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t skip = data[0] % 64;
  std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (skip > in.size()) return 0;
  in.erase(0, skip);
  if (in.empty() || in.back() != '\n') in += '\n';
  std::unique_ptr<char[]> exact(new char[in.size()]);
  std::memcpy(exact.get(), in.data(), in.size());
  const char* p = exact.get();
  const char* end = p + in.size();
  const uint64_t first_offset = 1000;

  std::vector<Line> by_memchr, by_masks;
  sluice::detail::split_lines_memchr(p, end, first_offset, by_memchr);
  std::string rebuilt;
  for (const Line& l : by_memchr) {
    const size_t at = static_cast<size_t>(l.offset - first_offset);
    SLUICE_FUZZ_CHECK(at == rebuilt.size() && l.bytes.data() == p + at);
    rebuilt.append(l.bytes);
    if (p[at + l.bytes.size()] == '\r') rebuilt += '\r';  // the chomped \r before the newline
    rebuilt += '\n';
    SLUICE_FUZZ_CHECK(p[rebuilt.size() - 1] == '\n');
  }
  SLUICE_FUZZ_CHECK(rebuilt == in);
  if (sluice::detail::split_lines_avx2(p, end, first_offset, by_masks)) {
    SLUICE_FUZZ_CHECK(by_masks.size() == by_memchr.size());
    for (size_t i = 0; i < by_masks.size(); ++i)
      SLUICE_FUZZ_CHECK(by_masks[i].bytes.data() == by_memchr[i].bytes.data() &&
                        by_masks[i].bytes.size() == by_memchr[i].bytes.size() &&
                        by_masks[i].offset == by_memchr[i].offset);
  }
  return 0;
}

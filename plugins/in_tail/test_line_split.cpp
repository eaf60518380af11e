#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "line_split.h"

namespace sluice {
namespace {

struct Expected {
  std::string text;
  uint64_t offset;
};

// Lines of random lengths around the 64-byte masks (empty ones, a \r before the \n, a \r inside,
// a line of only \r), at every start within a 64-byte block, against a byte-at-a-time reading.
TEST(SplitLines, BothWaysFindEveryLineWithItsOffsetAndChompedCr) {
  uint32_t seed = 99;
  auto next = [&seed] { return seed = seed * 1103515245u + 12345u; };
  for (int round = 0; round < 200; ++round) {
    std::string data;
    std::vector<Expected> expected;
    const uint64_t first_offset = 1000 * static_cast<uint64_t>(round);
    const size_t lead = next() % 64;  // where the lines start within a block
    data.append(lead, 'x');
    const int count = 1 + static_cast<int>(next() % 40);
    for (int i = 0; i < count; ++i) {
      const unsigned kind = next() % 8;
      size_t len = kind == 0 ? 0 : kind == 1 ? 62 + next() % 4 : kind == 2 ? 120 + next() % 20 : next() % 40;
      std::string line;
      for (size_t k = 0; k < len; ++k) line += next() % 17 == 0 ? '\r' : char('a' + next() % 26);
      const bool crlf = next() % 3 == 0;
      expected.push_back({line, first_offset + (data.size() - lead)});
      if (!crlf && !line.empty() && line.back() == '\r') expected.back().text.pop_back();
      data += line;
      if (crlf) data += '\r';
      data += '\n';
    }
    const char* p = data.data() + lead;
    const char* end = data.data() + data.size();
    auto check = [&](const std::vector<Line>& lines, const char* way) {
      ASSERT_EQ(lines.size(), expected.size()) << way << " round " << round;
      for (size_t i = 0; i < lines.size(); ++i) {
        EXPECT_EQ(lines[i].bytes, expected[i].text) << way << " round " << round << " line " << i;
        EXPECT_EQ(lines[i].offset, expected[i].offset) << way << " round " << round << " line " << i;
      }
    };
    std::vector<Line> by_memchr, by_masks, chosen;
    detail::split_lines_memchr(p, end, first_offset, by_memchr);
    check(by_memchr, "memchr");
    if (detail::split_lines_avx2(p, end, first_offset, by_masks)) check(by_masks, "masks");
    split_lines(p, end, first_offset, chosen);
    check(chosen, "split_lines");
  }
}

TEST(SplitLines, AppendsAfterWhatTheVectorHolds) {
  std::string data = "a\nbb\r\n\n";
  std::vector<Line> lines{Line{"earlier", 7}};
  split_lines(data.data(), data.data() + data.size(), 40, lines);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].bytes, "earlier");
  EXPECT_EQ(lines[1].bytes, "a");
  EXPECT_EQ(lines[1].offset, 40u);
  EXPECT_EQ(lines[2].bytes, "bb");
  EXPECT_EQ(lines[2].offset, 42u);
  EXPECT_EQ(lines[3].bytes, "");
  EXPECT_EQ(lines[3].offset, 46u);
}

TEST(SplitLines, TheCpuHasTheMaskWay) {
  std::vector<Line> lines;
  if (!detail::split_lines_avx2(nullptr, nullptr, 0, lines)) GTEST_SKIP() << "this CPU has no AVX2: only memchr is tested";
}

}  // namespace
}  // namespace sluice

#include "core/equal_bytes.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice {
namespace {

// Every length up to 40 (each of the word paths and memcmp), a difference at every position, and
// strings that lie at different offsets of their buffers.
TEST(EqualBytes, MatchesStringCompareAtEveryLengthAndPosition) {
  for (size_t n = 0; n <= 40; ++n) {
    for (size_t offset : {0, 1, 7}) {
      std::string a(offset, '#'), b(3, '%');
      for (size_t i = 0; i < n; ++i) a += char('a' + i % 26), b += char('a' + i % 26);
      const std::string_view va(a.data() + offset, n), vb(b.data() + 3, n);
      EXPECT_TRUE(equal_bytes(va, vb)) << n;
      for (size_t i = 0; i < n; ++i) {
        std::string c = b;
        c[3 + i] ^= 0x20;
        EXPECT_FALSE(equal_bytes(va, std::string_view(c.data() + 3, n))) << n << " at " << i;
      }
      if (n > 0) {
        EXPECT_FALSE(equal_bytes(va, std::string_view(b.data() + 3, n - 1))) << n;
      }
    }
  }
}

}  // namespace
}  // namespace sluice

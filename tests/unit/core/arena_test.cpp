#include "core/arena.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(Arena, ShrinkLastGivesBackTheUnusedEndOfTheLatestAllocation) {
  Arena arena(1024);
  char* a = arena.allocate(100);
  arena.shrink_last(a, 100, 10);
  char* b = arena.allocate(5);
  EXPECT_EQ(b, a + 10);  // the 90 bytes given back are handed out again
}

TEST(Arena, ShrinkLastLeavesAnAllocationThatIsNoLongerTheLatest) {
  Arena arena(1024);
  char* a = arena.allocate(100);
  char* b = arena.allocate(8);
  arena.shrink_last(a, 100, 10);  // b lies after a: nothing may move
  EXPECT_EQ(arena.allocate(1), b + 8);
}

TEST(Arena, ShrinkLastOfAnOversizedAllocationKeepsTheSharedBlockIntact) {
  Arena arena(64);
  char* small = arena.allocate(16);
  char* big = arena.allocate(1000);  // a block of its own
  arena.shrink_last(big, 1000, 1);
  EXPECT_EQ(arena.allocate(8), small + 16);
}

}  // namespace
}  // namespace sluice

#include "parser_test_util.h"

namespace sluice {
namespace {

TEST(ParserNone, WholeLineIsMessage) {
  test::ParserHarness h("none");
  EventTime before = now();
  ASSERT_EQ(h.feed({"hello world", "", "\x01\xff binary"}), 3u);
  EXPECT_EQ(h.keys(0), std::vector<std::string>{"message"});
  EXPECT_EQ(h.str(0, "message"), "hello world");
  EXPECT_EQ(h.str(1, "message"), "");
  EXPECT_EQ(h.str(2, "message"), "\x01\xff binary");
  EXPECT_GE(h.rec(0).time.sec, before.sec);
  EXPECT_EQ(h.rec(1).offset, 12u);
}

TEST(ParserNone, MessageKey) {
  test::ParserHarness h("none", {{"message_key", "log"}});
  h.feed1("x");
  EXPECT_EQ(h.keys(0), std::vector<std::string>{"log"});
}

}  // namespace
}  // namespace sluice

// Behaviour fixed after fuzzing (tests/fuzz/README.md lists the findings). The inputs are also in
// the seed corpora (tests/fuzz/corpus/*/regress-*), where the sanitizer build replays them;
// these checks hold without sanitizers too.
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "../../../plugins/parser_none/parser_test_util.h"
#include "format/time.h"

namespace sluice {
namespace {

using test::ParserHarness;

// A line starting with `[` that simdjson cannot open as an array was iterated anyway (begin()
// on an invalid ondemand::array: undefined, reached __builtin_unreachable under UBSan).
TEST(FuzzRegressions, JsonTopLevelArrayThatIsNotAnArrayIsKeptRaw) {
  ParserHarness h("json");
  ASSERT_EQ(h.feed({R"(["log":"single "})", R"({"ok":1})"}), 2u);
  EXPECT_EQ(h.str(0, "message"), R"(["log":"single "})");
  EXPECT_NE(h.find(0, "_parse_error"), nullptr);
  EXPECT_EQ(h.find(1, "ok")->integer, 1);
  EXPECT_EQ(h.errors(), 1u);
}

// `types x:integer` on a JSON float beyond int64 (or inf) converted it with a static_cast
// (undefined); it saturates now, as the string path (ruby_to_i) already did.
TEST(FuzzRegressions, IntegerConversionOfHugeFloatSaturates) {
  ParserHarness h("json", {{"types", "a:integer,b:integer,c:integer,d:integer"}});
  ASSERT_EQ(h.feed1(R"({"a":1e300,"b":-1e999,"c":-2.9,"d":9.3e18})"), 1u);
  EXPECT_EQ(h.find(0, "a")->integer, INT64_MAX);
  EXPECT_EQ(h.find(0, "b")->integer, INT64_MIN);
  EXPECT_EQ(h.find(0, "c")->integer, -2);
  EXPECT_EQ(h.find(0, "d")->integer, INT64_MAX);
}

// Epoch times in exponent form beyond int64 seconds (or inf) were cast to int64 (undefined);
// they are invalid times now, as in Fluentd (Infinity cannot be a time).
TEST(FuzzRegressions, EpochTimeWithHugeExponentIsInvalid) {
  EventTime t;
  for (auto type : {TimeParser::Type::Float, TimeParser::Type::Unixtime}) {
    TimeParser p("", type);
    EXPECT_FALSE(p.parse("201e20101", t));
    EXPECT_FALSE(p.parse("2019e119", t));
    EXPECT_FALSE(p.parse("-1e19", t));
  }
  TimeParser f("", TimeParser::Type::Float);
  ASSERT_TRUE(f.parse("1.7145648e9", t));
  EXPECT_EQ(t.sec, 1714564800);
}

// `%s` reads up to 19 digits; those beyond int64 overflowed the accumulator (undefined). Such a
// number is not a time now.
TEST(FuzzRegressions, EpochSecondsBeyondInt64AreInvalid) {
  EventTime t;
  TimeParser p("%s", TimeParser::Type::String, true);
  EXPECT_FALSE(p.parse("9999999999999999999", t));
  ASSERT_TRUE(p.parse("9223372036854775807", t));
  EXPECT_EQ(t.sec, INT64_MAX);
  TimeParser q("%s.%6N", TimeParser::Type::String, true);
  EXPECT_FALSE(q.parse("9999999999999999999999999999992024-05-01T12:00:00.738415629Z", t));
}

// A width prefix with many digits (`%99999999999N`) overflowed an int in both strptime and
// strftime (undefined); widths saturate at 1024 now.
TEST(FuzzRegressions, HugeFormatWidthSaturates) {
  std::string out;
  append_time(out, EventTime{0, 5, false}, "%99999999999N", true);
  EXPECT_EQ(out.size(), 1024u);
  EXPECT_EQ(out.substr(0, 9), "000000005");
  EventTime t;
  try {
    TimeParser p("%2122222222222222222222t%s", TimeParser::Type::String, true);
    (void)p.parse("1714564800", t);
  } catch (const std::invalid_argument&) {
  }
}

// A nested object whose key held an invalid escape (`\s`) was kept as a Json value: On Demand
// validates keys only when they are unescaped, so outputs would have written (or failed to
// convert) invalid JSON. The line is an invalid-JSON error now, kept raw like the others.
TEST(FuzzRegressions, NestedKeyWithInvalidEscapeIsInvalidJson) {
  for (const char* type : {"json", "docker"}) {
    ParserHarness h(type);
    ASSERT_EQ(h.feed({R"({"k":{"ne\sted":[1]},"log":"x\n"})", R"({"k":{"ok\n":[1]},"log":"y\n"})"}), 2u)
        << type;
    EXPECT_NE(h.find(0, "_parse_error"), nullptr) << type;
    EXPECT_EQ(h.find(0, "k"), nullptr) << type;
    ASSERT_NE(h.find(1, "k"), nullptr) << type;
    EXPECT_EQ(h.find(1, "k")->text, R"({"ok\n":[1]})") << type;
    EXPECT_EQ(h.errors(), 1u) << type;
  }
}

}  // namespace
}  // namespace sluice

#include "format/json_lookup.h"

#include <gtest/gtest.h>

#include "format/record_path.h"

using namespace sluice;

namespace {

// `text` without the member at `path` (a record_accessor path whose top is a field holding
// `text`), or "<absent>".
std::string removed(const std::string& path, std::string_view text) {
  std::string out = "<absent>";
  RecordPath(path).remove_nested(Value::of_json(text), out);
  return out;
}

}  // namespace

TEST(JsonLookup, RemovesAMemberWhereverItStands) {
  EXPECT_EQ(removed("$.k.a", R"({"a":1,"b":2,"c":3})"), R"({"b":2,"c":3})");
  EXPECT_EQ(removed("$.k.b", R"({"a":1,"b":2,"c":3})"), R"({"a":1,"c":3})");
  EXPECT_EQ(removed("$.k.c", R"({"a":1,"b":2,"c":3})"), R"({"a":1,"b":2})");
  EXPECT_EQ(removed("$.k.a", R"({ "a" : {"x":[1]} })"), "{  }");
  EXPECT_EQ(removed("$.k.b", R"({"a": 1, "b": {"c": "}"}})"), R"({"a": 1})");
  EXPECT_EQ(removed("$.k.m.n", R"({"m":{"n":true,"o":null},"p":0})"), R"({"m":{"o":null},"p":0})");
  EXPECT_EQ(removed("$.k['a.b']", R"({"a.b":1,"a":{"b":2}})"), R"({"a":{"b":2}})");
  EXPECT_EQ(removed(R"($.k.q\"x)", R"({"q\"x":1})"), "<absent>");  // a path has no escapes
  EXPECT_EQ(removed("$.k.q\"x", R"({"q\"x":1,"r":2})"), R"({"r":2})");
}

TEST(JsonLookup, RemovesAnArrayElement) {
  EXPECT_EQ(removed("$.k[0]", "[1,2,3]"), "[2,3]");
  EXPECT_EQ(removed("$.k[2]", "[1,2,3]"), "[1,2]");
  EXPECT_EQ(removed("$.k.a[1]", R"({"a":["x","y"]})"), R"({"a":["x"]})");
}

TEST(JsonLookup, AbsentOrMistypedPathsLeaveTheTextAlone) {
  EXPECT_EQ(removed("$.k.z", R"({"a":1})"), "<absent>");
  EXPECT_EQ(removed("$.k.a.b", R"({"a":1})"), "<absent>");
  EXPECT_EQ(removed("$.k[5]", "[1,2]"), "<absent>");
  EXPECT_EQ(removed("$.k[0]", R"({"0":1})"), "<absent>");
  EXPECT_EQ(removed("$.k.a", "[1]"), "<absent>");
  EXPECT_EQ(removed("$.k.a", "{}"), "<absent>");
  EXPECT_EQ(removed("$.k.a", R"({"a":1,)"), "<absent>");  // not JSON: nothing is cut
  std::string out = "kept";
  EXPECT_FALSE(RecordPath("$.k.a").remove_nested(Value::of_string(R"({"a":1})"), out));
  EXPECT_EQ(out, "kept");
}

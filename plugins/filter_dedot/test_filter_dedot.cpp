#include <gtest/gtest.h>

#include "config/config.h"
#include "core/registry.h"
#include "format/json.h"
#include "support/plugin_config.h"

using namespace sluice;

namespace {

std::unique_ptr<Filter> make(const std::string& body, std::string* refused = nullptr) {
  static sluice::testing::PluginConfig config;
  PluginContext ctx = config.parse("filter", "filter", "dedot", body, "dd0");
  EXPECT_TRUE(config.errors.empty());
  std::unique_ptr<Filter> f;
  std::string error = config.error_of([&] { f = (*config.registry.filter("dedot"))(ctx, config.params()); });
  if (refused) *refused = error;
  return f;
}

std::string json_of(const Batch& b, size_t i) {
  std::string s;
  json::append_record(s, b, b.records.at(i));
  return s;
}

TEST(Dedot, TopLevelKeysOnlyByDefault) {
  auto f = make("");
  Batch b;
  b.tag = "t";
  b.begin_record({1, 0, false});
  b.add_field("a.b", Value::of_string("1"));
  b.add_field("c", Value::of_json(R"({"d.e":{"f.g":1}})"));
  f->filter(b);
  EXPECT_EQ(json_of(b, 0), R"({"a_b":"1","c":{"d.e":{"f.g":1}}})");
}

TEST(Dedot, NestedMapsAndMapsInArraysButNotArraysInArrays) {
  auto f = make("  de_dot_nested true\n  de_dot_separator __\n");
  Batch b;
  b.tag = "t";
  b.begin_record({1, 0, false});
  b.add_field("k", Value::of_json(
                       R"({"d.e":{"f.g":1.5},"arr":[{"x.y":2},3,[{"no.t":4}]],"s":"v.w"})"));
  f->filter(b);
  EXPECT_EQ(json_of(b, 0),
            R"({"k":{"d__e":{"f__g":1.5},"arr":[{"x__y":2},3,[{"no.t":4}]],"s":"v.w"}})");
}

TEST(Dedot, RecordsWithoutDotsAreNotCopied) {
  auto f = make("  de_dot_nested true\n");
  Batch b;
  b.tag = "t";
  b.begin_record({1, 0, false});
  b.add_field("a", Value::of_string("x.y"));
  b.add_field("m", Value::of_json(R"({"v":"1.5"})"));
  const char* key = b.fields[0].key.data();
  const char* json = b.fields[1].value.text.data();
  f->filter(b);
  EXPECT_EQ(b.fields[0].key.data(), key);
  EXPECT_EQ(b.fields[1].value.text.data(), json);
  EXPECT_EQ(json_of(b, 0), R"({"a":"x.y","m":{"v":"1.5"}})");
}

TEST(Dedot, CollidingKeysKeepFirstPlaceAndLastValue) {
  auto f = make("  de_dot_nested true\n");
  Batch b;
  b.tag = "t";
  b.begin_record({1, 0, false});
  b.add_field("a_b", Value::of_int(1));
  b.add_field("z", Value::of_int(2));
  b.add_field("a.b", Value::of_int(3));
  b.add_field("m", Value::of_json(R"({"x_y":1,"x.y":2,"x\u002ey":3})"));
  f->filter(b);
  EXPECT_EQ(json_of(b, 0), R"({"a_b":3,"z":2,"m":{"x_y":3}})");
}

TEST(Dedot, CommonFieldsOncePerBatchAndDottedCommonKeysMerged) {
  auto f = make("  de_dot_nested true\n");
  Batch b;
  b.tag = "t";
  b.begin_record({1, 0, false});
  b.add_field("log", Value::of_string("x"));
  b.begin_record({2, 0, false});
  b.add_field("log", Value::of_string("y"));
  b.common_fields.push_back(
      {"kubernetes", Value::of_json(R"({"labels":{"app.kubernetes.io/name":"web"}})")});
  f->filter(b);
  ASSERT_EQ(b.common_fields.size(), 1u);
  EXPECT_EQ(json_of(b, 1), R"({"log":"y","kubernetes":{"labels":{"app_kubernetes_io/name":"web"}}})");

  Batch c;
  c.tag = "t";
  c.begin_record({1, 0, false});
  c.add_field("a_b", Value::of_string("own"));
  c.common_fields.push_back({"a.b", Value::of_string("common")});
  f->filter(c);
  EXPECT_TRUE(c.common_fields.empty());
  EXPECT_EQ(json_of(c, 0), R"({"a_b":"common"})");
}

TEST(Dedot, DisabledDropsEveryRecordAsTheRubyPluginDoes) {
  auto f = make("  de_dot false\n  de_dot_separator .\n");
  Batch b;
  b.tag = "t";
  b.begin_record({1, 0, false});
  b.add_field("a.b", Value::of_int(1));
  f->filter(b);
  EXPECT_TRUE(b.records.empty());
}

TEST(Dedot, SeparatorWithADotIsRefused) {
  std::string err;
  EXPECT_EQ(make("  de_dot_separator a.\n", &err), nullptr);
  EXPECT_EQ(err, "t.conf:3: dedot: Invalid de_dot_separator: cannot be or contain '.'");
}

TEST(Dedot, MalformedAndDeepJsonDoNotCrash) {
  auto f = make("  de_dot_nested true\n");
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "{\"a.b\":";
  deep += "1";
  for (int i = 0; i < 5000; ++i) deep += "}";
  Batch b;
  b.tag = "t";
  b.begin_record({1, 0, false});
  b.add_field("deep", Value::of_json(deep));
  b.add_field("bad", Value::of_json(R"({"a.b":)"));
  b.add_field("x.y", Value::of_int(1));
  f->filter(b);
  EXPECT_EQ(b.records.size(), 1u);
  EXPECT_EQ(b.fields[0].value.text, deep);  // too deep to read whole: left as it is
  EXPECT_EQ(b.fields[1].value.text, R"({"a.b":)");
  EXPECT_EQ(b.fields[2].key, "x_y");
}

}  // namespace

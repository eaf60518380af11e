#include <gtest/gtest.h>

#include "char_encoding.h"
#include "config/config.h"
#include "core/registry.h"
#include "format/json.h"
#include "support/plugin_config.h"

using namespace sluice;

namespace {

using CaptureEmitter = sluice::testing::JsonLinesEmitter;

struct Env : sluice::testing::PluginConfig {
  CaptureEmitter* error_label = nullptr;

  std::unique_ptr<Filter> make(const std::string& body) {
    PluginContext ctx = parse("filter", "filter", "record_modifier", body, "rm0");
    if (!errors.empty()) throw ConfigException(errors[0].pos, errors[0].message);
    ctx.label_emitter = [this](const std::string& label) -> Emitter* {
      return label == "@ERROR" ? error_label : nullptr;
    };
    return (*registry.filter("record_modifier"))(ctx, params());
  }

  // The error message of a configuration that must be refused.
  std::string refused(const std::string& body) {
    std::string e = error_of([&] { make(body); });
    return e.empty() ? "accepted" : e;
  }
};

using sluice::testing::json_lines;

Batch one(std::string_view tag, std::initializer_list<std::pair<const char*, Value>> fields) {
  Batch b;
  b.tag = tag;
  b.begin_record({1700000000, 5, false});
  for (auto& [k, v] : fields) b.add_field(k, v);
  return b;
}

TEST(RecordModifier, LiteralsTagPartsAndTypedExpressions) {
  Env env;
  auto f = env.make(
      "  <record>\n"
      "    foo bar\n"
      "    included_tag ${tag}\n"
      "    tag_wrap -${tag_parts[0]}-${tag_parts[1]}-\n"
      "    n_copy ${record[\"n\"]}\n"
      "    t ${time}\n"
      "    t_s at ${time}\n"
      "    t_f ${time.to_f}\n"
      "    t_i ${time.to_i + 1}\n"
      "  </record>\n");
  Batch b = one("test.tag", {{"n", Value::of_int(7)}});
  b.records[0].time.nsec = 250000000;
  f->filter(b);
  EXPECT_EQ(json_lines(b)[0],
            R"({"n":7,"foo":"bar","included_tag":"test.tag","tag_wrap":"-test-tag-","n_copy":7,)"
            R"("t":1700000000,"t_s":"at 1700000000","t_f":1700000000.25,"t_i":1700000001})");
}

TEST(RecordModifier, LaterEntriesSeeEarlierOnes) {
  Env env;
  auto f = env.make(
      "  <record>\n"
      "    a x\n"
      "    b ${record[\"a\"] + \"y\"}\n"
      "  </record>\n");
  Batch b = one("t", {{"a", Value::of_string("orig")}});
  f->filter(b);
  EXPECT_EQ(json_lines(b)[0], R"({"a":"x","b":"xy"})");
}

TEST(RecordModifier, DoubleQuotedStringEscapesAndNil) {
  Env env;
  auto f = env.make(
      "  <record>\n"
      "    s a\\tb ${tag}\n"
      "    gone \"#{use_nil}\"\n"
      "  </record>\n");
  Batch b = one("t", {{"k", Value::of_string("v")}});
  f->filter(b);
  EXPECT_EQ(json_lines(b)[0], R"({"k":"v","s":"a\tb t","gone":null})");
}

TEST(RecordModifier, RemoveKeysTopAndNested) {
  Env env;
  auto f = env.make("  remove_keys k1, $.kubernetes.test\n");
  Batch b = one("t", {{"k1", Value::of_string("v")},
                      {"kubernetes", Value::of_json(R"({"test":"v","prod":"v"})")},
                      {"k2", Value::of_string("v")}});
  f->filter(b);
  EXPECT_EQ(json_lines(b)[0], R"({"kubernetes":{"prod":"v"},"k2":"v"})");
}

TEST(RecordModifier, WhitelistKeepsListedKeysInListOrderWithRecordKeys) {
  Env env;
  auto f = env.make(
      "  <record>\n    foo bar\n  </record>\n"
      "  whitelist_keys k3, k1 ,k2,\n");
  Batch b = one("t", {{"k1", Value::of_string("1")}, {"k2", Value::of_string("2")},
                      {"k4", Value::of_string("4")}});
  b.common_fields.push_back({"k3", Value::of_string("3")});
  b.common_fields.push_back({"k5", Value::of_string("5")});
  f->filter(b);
  EXPECT_EQ(json_lines(b)[0], R"({"k3":"3","k1":"1","k2":"2","foo":"bar"})");
  EXPECT_TRUE(b.common_fields.empty());
}

TEST(RecordModifier, ReplaceWithGroupsOnlyWhenMatching) {
  Env env;
  auto f = env.make(
      "  <replace>\n    key msg\n    expression /(\\w+)@(\\w+)\\.com/\n"
      "    replace \\2 from \\1\n  </replace>\n"
      "  <replace>\n    key msg\n    expression /(?<who>[bd]) from/\n"
      "    replace \\k<who>!\n  </replace>\n"
      "  <replace>\n    key absent\n    expression /x/\n    replace y\n  </replace>\n");
  Batch b = one("t", {{"msg", Value::of_string("mail a@b.com or c@d.com")}});
  f->filter(b);
  EXPECT_EQ(json_lines(b)[0], R"({"msg":"mail b! a or d! c"})");
}

TEST(RecordModifier, ReplaceOnANonStringSendsTheRecordToError) {
  Env env;
  CaptureEmitter err;
  env.error_label = &err;
  auto f = env.make(
      "  <record>\n    added yes\n  </record>\n"
      "  <replace>\n    key n\n    expression /1/\n    replace 2\n  </replace>\n");
  Batch b;
  b.tag = "t";
  b.begin_record({1, 0, false});
  b.add_field("n", Value::of_int(1));
  b.begin_record({2, 0, false});
  b.add_field("n", Value::of_string("1"));
  f->filter(b);
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(json_lines(b)[0], R"({"n":"2","added":"yes"})");
  ASSERT_EQ(err.records.size(), 1u);
  // Modified in place up to the error, as the Ruby plugin's record is.
  EXPECT_EQ(err.records[0], R"({"n":1,"added":"yes"})");
}

TEST(RecordModifier, RaisingExpressionGoesToErrorOthersKept) {
  Env env;
  CaptureEmitter err;
  env.error_label = &err;
  auto f = env.make("  <record>\n    x ${record[\"k\"][\"a\"]}\n  </record>\n");
  Batch b;
  b.tag = "t";
  b.begin_record({1, 0, false});
  b.add_field("k", Value::of_json(R"({"a":1})"));
  b.begin_record({2, 0, false});
  b.add_field("other", Value::of_string("v"));
  f->filter(b);
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(json_lines(b)[0], R"({"k":{"a":1},"x":1})");
  ASSERT_EQ(err.records.size(), 1u);
  EXPECT_EQ(err.records[0], R"({"other":"v"})");
}

TEST(RecordModifier, CharEncodingScrubsInvalidUtf8) {
  Env env;
  auto f = env.make("  char_encoding utf-8:utf-8\n");
  Batch b = one("t", {{"ok", Value::of_string("caf\xC3\xA9")},
                      {"bad", Value::of_string("a\xFF" "b\xE3\x81" "c")},
                      {"nested", Value::of_json("{\"k\":\"x\xFEy\"}")},
                      {"n", Value::of_int(3)}});
  const char* ok_before = b.fields[0].value.text.data();
  f->filter(b);
  EXPECT_EQ(b.fields[0].value.text.data(), ok_before);  // valid: no copy
  EXPECT_EQ(json_lines(b)[0],
            "{\"ok\":\"caf\xC3\xA9\",\"bad\":\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\","
            "\"nested\":{\"k\":\"x\xEF\xBF\xBDy\"},\"n\":3}");
}

TEST(RecordModifier, CharEncodingFromLatin1AndForceEncodingOnly) {
  std::string tmp;
  record_modifier::CharEncoding latin("ISO-8859-1:UTF-8");
  EXPECT_EQ(latin.convert("caf\xE9", tmp), "caf\xC3\xA9");
  record_modifier::CharEncoding binary("ascii-8bit:utf-8");
  EXPECT_EQ(binary.convert("a\xC3\xA9", tmp), "a\xEF\xBF\xBD\xEF\xBF\xBD");
  record_modifier::CharEncoding force("utf-8");
  EXPECT_FALSE(force.converts());
  EXPECT_EQ(force.convert("\xFF", tmp), "\xFF");
}

TEST(RecordModifier, CommonFieldsReplacedOrRemovedOncePerBatch) {
  Env env;
  auto f = env.make(
      "  remove_keys drop\n"
      "  <record>\n    over new\n    seen ${record[\"over\"]}\n  </record>\n"
      "  <replace>\n    key host\n    expression /node-(\\d+)/\n    replace n\\1\n  </replace>\n");
  Batch b = one("t", {{"k", Value::of_string("v")}});
  b.common_fields.push_back({"drop", Value::of_string("x")});
  b.common_fields.push_back({"over", Value::of_string("old")});
  b.common_fields.push_back({"host", Value::of_string("node-12")});
  f->filter(b);
  EXPECT_EQ(json_lines(b)[0], R"({"k":"v","over":"new","seen":"new","host":"n12"})");
  ASSERT_EQ(b.common_fields.size(), 1u);
}

TEST(RecordModifier, RefusedConfigurationsNameFileAndLine) {
  Env env;
  EXPECT_EQ(env.refused("  prepare_value @foo = 'x'\n").substr(0, 21), "t.conf:3: record_modi");
  EXPECT_NE(env.refused("  prepare_value @foo = 'x'\n").find("prepare_value"), std::string::npos);
  EXPECT_NE(env.refused("  allowlist_keys a\n").find("t.conf:3: record_modifier: allowlist_keys"),
            std::string::npos);
  EXPECT_NE(env.refused("  remove_keys a\n  whitelist_keys b\n").find("exclusive"),
            std::string::npos);
  EXPECT_NE(env.refused("  <record>\n    x ${`ls`}\n  </record>\n").find("t.conf:4:"),
            std::string::npos);
  EXPECT_NE(env.refused("  <record>\n    x ${hostname}\n  </record>\n").find("does not evaluate"),
            std::string::npos);
  EXPECT_NE(env.refused("  char_encoding utf-8:euc-jp\n").find("t.conf:3: record_modifier: char_encoding"),
            std::string::npos);
  EXPECT_NE(env.refused("  <replace>\n    key a\n    expression /(/\n    replace b\n  </replace>\n")
                .find("invalid expression"),
            std::string::npos);
  EXPECT_NE(env.refused("  <replace>\n    key a\n  </replace>\n"), "accepted");
  EXPECT_EQ(env.refused("  <record>\n    x ${tag_parts[0]}\n  </record>\n"), "accepted");
}

TEST(RecordModifier, InvalidUtf8ValuesAreMatchedBytewise) {
  Env env;
  auto f = env.make("  <replace>\n    key m\n    expression /b+/\n    replace B\n  </replace>\n");
  Batch b = one("t", {{"m", Value::of_string("a\xFF" "bb")}});
  f->filter(b);
  EXPECT_EQ(b.fields[0].value.text, "a\xFF" "B");
}

TEST(RecordModifier, Utf8UnitsAreMaximalSubparts) {
  auto unit = [](std::string_view s) {
    bool complete;
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    size_t n = record_modifier::utf8_unit(p, p + s.size(), complete);
    return std::to_string(n) + (complete ? "c" : "i");
  };
  EXPECT_EQ(unit("\xE3\x81\x82"), "3c");
  EXPECT_EQ(unit("\xE3\x81" "A"), "2i");
  EXPECT_EQ(unit("\xE0\x80"), "1i");
  EXPECT_EQ(unit("\xED\xA0\x80"), "1i");  // a surrogate
  EXPECT_EQ(unit("\x80"), "1i");
  EXPECT_EQ(unit("\xF0\x9F\x98"), "3i");
}

}  // namespace

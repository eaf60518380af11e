#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "core/registry.h"
#include "format/json.h"

using namespace sluice;

namespace {

struct Env {
  Registry reg;
  ConfigSection section;
  std::vector<ConfigError> errors;
  Env() {
    setenv("TZ", "UTC", 1);
    tzset();
    register_all_plugins(reg);
  }

  std::unique_ptr<Filter> make(const std::string& body) {
    auto parsed = parse_config_text("<filter **>\n  @type record_transformer\n" + body + "</filter>\n",
                                    "t.conf", ".");
    EXPECT_TRUE(parsed.errors.empty()) << parsed.errors[0].to_string();
    section = parsed.root.children.at(0);
    const PluginSpec* spec = reg.spec("filter", "record_transformer");
    for (auto& e : validate_params(section, *spec)) errors.push_back(e);
    EXPECT_TRUE(errors.empty()) << errors[0].to_string();
    PluginContext ctx;
    ctx.registry = &reg;
    ctx.id = "rt0";
    ctx.errors = &errors;
    Params p(section, *spec);
    return (*reg.filter("record_transformer"))(ctx, p);
  }
};

Batch make_batch(std::string_view tag, int n) {
  Batch b;
  b.tag = tag;
  for (int i = 0; i < n; ++i) {
    b.begin_record({1700000000 + i, 5, false});
    b.add_field("message", Value::of_string(b.arena.copy("msg " + std::to_string(i))));
    b.add_field("n", Value::of_int(i));
  }
  return b;
}

std::string to_json(const Batch& b, size_t i) {
  std::string out;
  json::append_record(out, b, b.records.at(i));
  return out;
}

}  // namespace

TEST(RecordTransformer, AddsTagAndHostnamePlaceholders) {
  Env env;
  auto f = env.make(
      "<record>\n"
      "  t ${tag}\n"
      "  p0 ${tag_parts[0]}\n"
      "  plast ${tag_parts[-1]}\n"
      "  pre ${tag_prefix[1]}\n"
      "  suf ${tag_suffix[1]}\n"
      "  host \"${hostname}\"\n"
      "  mixed svc-${tag_parts[1]}-x\n"
      "</record>\n");
  Batch b = make_batch("kube.app.web", 2);
  f->filter(b);
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  for (size_t i = 0; i < 2; ++i)
    EXPECT_EQ(to_json(b, i), "{\"message\":\"msg " + std::to_string(i) + "\",\"n\":" + std::to_string(i) +
                              ",\"t\":\"kube.app.web\",\"p0\":\"kube\",\"plast\":\"web\",\"pre\":"
                              "\"kube.app\",\"suf\":\"app.web\",\"host\":\"" + host +
                              "\",\"mixed\":\"svc-app-x\"}");
}

TEST(RecordTransformer, RecordFieldPlaceholdersAndTime) {
  Env env;
  auto f = env.make(
      "<record>\n"
      "  copy ${record[\"message\"]}\n"
      "  bare ${message}!\n"
      "  num n=${n}\n"
      "  when ${time}\n"
      "</record>\n");
  Batch b = make_batch("a", 2);
  f->filter(b);
  EXPECT_EQ(to_json(b, 1),
            R"({"message":"msg 1","n":1,"copy":"msg 1","bare":"msg 1!","num":"n=1",)"
            R"("when":"2023-11-14 22:13:21 +0000"})");
}

TEST(RecordTransformer, ReplacesExistingKeyInPlace) {
  Env env;
  auto f = env.make("<record>\n  message new ${message}\n</record>\n");
  Batch b = make_batch("a", 1);
  f->filter(b);
  EXPECT_EQ(to_json(b, 0), R"({"message":"new msg 0","n":0})");
}

TEST(RecordTransformer, AutoTypecastKeepsTypes) {
  Env env;
  auto f = env.make("auto_typecast true\n<record>\n  n2 ${record[\"n\"]}\n  s ${n}x\n"
                    "  missing ${record[\"nope\"]}\n</record>\n");
  Batch b = make_batch("a", 2);
  f->filter(b);
  EXPECT_EQ(to_json(b, 1), R"({"message":"msg 1","n":1,"n2":1,"s":"1x","missing":null})");
}

TEST(RecordTransformer, WithoutTypecastValuesAreStrings) {
  Env env;
  auto f = env.make("<record>\n  n2 ${record[\"n\"]}\n  missing ${nope}\n  part ${tag_parts[9]}\n</record>\n");
  Batch b = make_batch("a", 1);
  f->filter(b);
  EXPECT_EQ(to_json(b, 0), R"({"message":"msg 0","n":0,"n2":"0","missing":"","part":""})");
}

TEST(RecordTransformer, RemoveKeys) {
  Env env;
  auto f = env.make("remove_keys n,$.message\n<record>\n  copy ${message}\n</record>\n");
  Batch b = make_batch("a", 1);
  f->filter(b);
  EXPECT_EQ(to_json(b, 0), R"({"copy":"msg 0"})");
}

TEST(RecordTransformer, RenewRecordWithKeepKeys) {
  Env env;
  auto f = env.make("renew_record true\nkeep_keys n\n<record>\n  t ${tag}\n</record>\n");
  Batch b = make_batch("a.b", 2);
  f->filter(b);
  EXPECT_EQ(to_json(b, 0), R"({"n":0,"t":"a.b"})");
  EXPECT_EQ(to_json(b, 1), R"({"n":1,"t":"a.b"})");
}

TEST(RecordTransformer, KeepKeysNeedsRenewRecord) {
  Env env;
  EXPECT_THROW(env.make("keep_keys n\n"), ConfigException);
}

TEST(RecordTransformer, EnableRubyIsAConfigError) {
  Env env;
  try {
    env.make("enable_ruby true\n<record>\n  x ${tag}\n</record>\n");
    FAIL();
  } catch (const ConfigException& e) {
    EXPECT_EQ(e.error.pos.line, 3);
    EXPECT_NE(e.error.message.find("enable_ruby"), std::string::npos);
  }
}

TEST(RecordTransformer, NestedRemoveKeysIsAConfigError) {
  Env env;
  EXPECT_THROW(env.make("remove_keys $.a.b\n"), ConfigException);
}

TEST(RecordTransformer, RenewTimeKey) {
  Env env;
  auto f = env.make("renew_time_key ts\n<record>\n  ts ${message}\n</record>\n");
  Batch b;
  b.tag = "a";
  b.begin_record({1, 0});
  b.add_field("message", Value::of_string("1600000000.25"));
  b.begin_record({1, 0});
  b.add_field("message", Value::of_string("junk"));
  f->filter(b);
  EXPECT_EQ(b.records[0].time.sec, 1600000000);
  EXPECT_EQ(b.records[0].time.nsec, 250000000u);
  EXPECT_EQ(b.records[1].time.sec, 0);  // Ruby: "junk".to_f == 0.0

  auto g = env.make("renew_time_key epoch\n");
  Batch c;
  c.tag = "a";
  c.begin_record({1, 0});
  c.add_field("epoch", Value::of_int(1500000000));
  g->filter(c);
  EXPECT_EQ(c.records[0].time.sec, 1500000000);
}

TEST(RecordTransformer, JsonValues) {
  Env env;
  auto f = env.make("<record>\n  obj {\"a\": [1, 2], \"b\": \"x y\"}\n  notjson \"{nope\"\n</record>\n");
  Batch b = make_batch("a", 1);
  f->filter(b);
  EXPECT_EQ(to_json(b, 0), R"({"message":"msg 0","n":0,"obj":{"a":[1,2],"b":"x y"},"notjson":"{nope"})");
}

TEST(RecordTransformer, CommonFieldsOverriddenAndRemoved) {
  Env env;
  auto f = env.make("remove_keys docker\n<record>\n  kubernetes replaced\n  ns ${record[\"kubernetes\"]}\n</record>\n");
  Batch b = make_batch("a", 1);
  b.common_fields.push_back({"kubernetes", Value::of_json(R"({"ns":"x"})")});
  b.common_fields.push_back({"docker", Value::of_json(R"({"id":"1"})")});
  b.common_fields.push_back({"cluster", Value::of_string("c1")});
  f->filter(b);
  EXPECT_EQ(to_json(b, 0),
            R"({"message":"msg 0","n":0,"kubernetes":"replaced","ns":"{\"ns\":\"x\"}","cluster":"c1"})");
}

TEST(RecordTransformer, DynamicKeysMaterializeCommonFields) {
  Env env;
  auto f = env.make("<record>\n  k_${message} v\n</record>\n");
  Batch b = make_batch("a", 2);
  b.common_fields.push_back({"cluster", Value::of_string("c1")});
  f->filter(b);
  EXPECT_TRUE(b.common_fields.empty());
  EXPECT_EQ(to_json(b, 1), R"({"message":"msg 1","n":1,"cluster":"c1","k_msg 1":"v"})");
}

TEST(RecordTransformer, ReusesScratchAcrossBatches) {
  Env env;
  auto f = env.make("<record>\n  t ${tag}\n  m ${message}\n</record>\n");
  for (int round = 0; round < 3; ++round) {
    Batch b = make_batch(round % 2 ? "x.y" : "p.q", 100);
    f->filter(b);
    ASSERT_EQ(b.records.size(), 100u);
    EXPECT_EQ(to_json(b, 99), std::string(R"({"message":"msg 99","n":99,"t":")") +
                               (round % 2 ? "x.y" : "p.q") + R"(","m":"msg 99"})");
  }
}

TEST(RecordTransformer, LegacyDoubleUnderscorePlaceholderIsNil) {
  Env env;
  auto f = env.make("<record>\n  a x__TAG__y\n  b keep__this\n</record>\n");
  Batch b = make_batch("a", 1);
  f->filter(b);
  EXPECT_EQ(to_json(b, 0), R"({"message":"msg 0","n":0,"a":"xy","b":"keep__this"})");
}

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
  Emitter* error_label = nullptr;  // the @ERROR label, when the test has one
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
    ctx.label_emitter = [this](const std::string& label) {
      return label == "@ERROR" ? error_label : nullptr;
    };
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
      "  num n=${record[\"n\"]}\n"
      "  when ${time}\n"
      "</record>\n");
  Batch b = make_batch("a", 2);
  f->filter(b);
  EXPECT_EQ(to_json(b, 1),
            R"({"message":"msg 1","n":1,"copy":"msg 1","num":"n=1",)"
            R"("when":"2023-11-14 22:13:21 +0000"})");
}

// Fluentd 1.x has no `${key}` for a record field (v0.12 had): it is an unknown placeholder.
TEST(RecordTransformer, BareFieldNameIsAnUnknownPlaceholder) {
  Env env;
  auto f = env.make("<record>\n  bare ${message}!\n  typed ${message}\n</record>\n");
  Batch b = make_batch("a", 1);
  f->filter(b);
  EXPECT_EQ(to_json(b, 0), R"({"message":"msg 0","n":0,"bare":"!","typed":null})");
}

TEST(RecordTransformer, ReplacesExistingKeyInPlace) {
  Env env;
  auto f = env.make("<record>\n  message new ${record[\"message\"]}\n</record>\n");
  Batch b = make_batch("a", 1);
  f->filter(b);
  EXPECT_EQ(to_json(b, 0), R"({"message":"new msg 0","n":0})");
}

TEST(RecordTransformer, AutoTypecastKeepsTypes) {
  Env env;
  auto f = env.make("<record>\n  n2 ${record[\"n\"]}\n  s ${record[\"n\"]}x\n"
                    "  missing ${record[\"nope\"]}\n</record>\n");
  Batch b = make_batch("a", 2);
  f->filter(b);
  EXPECT_EQ(to_json(b, 1), R"({"message":"msg 1","n":1,"n2":1,"s":"1x","missing":null})");
}

TEST(RecordTransformer, WithoutTypecastValuesAreStrings) {
  Env env;
  auto f = env.make("auto_typecast false\n<record>\n  n2 ${record[\"n\"]}\n  missing ${nope}\n"
                    "  part ${tag_parts[9]}\n</record>\n");
  Batch b = make_batch("a", 1);
  f->filter(b);
  EXPECT_EQ(to_json(b, 0), R"({"message":"msg 0","n":0,"n2":"0","missing":"","part":""})");
}

TEST(RecordTransformer, RemoveKeys) {
  Env env;
  auto f = env.make("remove_keys n,$.message\n<record>\n  copy ${record[\"message\"]}\n</record>\n");
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

TEST(RecordTransformer, RubyBeyondTheSubsetIsAConfigError) {
  Env env;
  try {
    env.make("enable_ruby true\n<record>\n  x ${tag}\n  y ${record.map{|k,v| v}}\n</record>\n");
    FAIL();
  } catch (const ConfigException& e) {
    EXPECT_EQ(e.error.pos.line, 6);
    EXPECT_NE(e.error.message.find("record.map{|k,v| v}"), std::string::npos) << e.error.message;
  }
  EXPECT_THROW(env.make("enable_ruby true\n<record>\n  x ${message}\n</record>\n"), ConfigException);
  EXPECT_THROW(env.make("enable_ruby true\n<record>\n  x ${ENV['HOME']}\n</record>\n"),
               ConfigException);
}

TEST(RecordTransformer, NestedRemoveKeys) {
  Env env;
  // As configurations trim the kubernetes map: the batch's shared map once, a record's own map
  // per record; an entry reads the map before the removal, as Fluentd's reform does.
  auto f = env.make("remove_keys $.kubernetes.pod_id, $.kubernetes.labels.tier, $.own[0], $.nope.x, n\n"
                    "<record>\n  ns ${record[\"kubernetes\"]}\n</record>\n");
  Batch b = make_batch("a", 1);
  b.add_field("own", Value::of_json(R"([1, 2, 3])"));
  b.common_fields.push_back(
      {"kubernetes", Value::of_json(R"({"pod_id":"u1","labels":{"app":"w", "tier":"db"},"host":"n1"})")});
  f->filter(b);
  EXPECT_EQ(to_json(b, 0),
            R"({"message":"msg 0","own":[2, 3],)"
            R"("ns":{"pod_id":"u1","labels":{"app":"w", "tier":"db"},"host":"n1"},)"
            R"("kubernetes":{"labels":{"app":"w"},"host":"n1"}})");
  EXPECT_THROW(env.make("remove_keys $.a[x]\n"), ConfigException);
}

TEST(RecordTransformer, RenewTimeKey) {
  Env env;
  auto f = env.make("renew_time_key ts\n<record>\n  ts ${record[\"message\"]}\n</record>\n");
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
            R"({"message":"msg 0","n":0,"kubernetes":"replaced","ns":{"ns":"x"},"cluster":"c1"})");
}

TEST(RecordTransformer, DynamicKeysMaterializeCommonFields) {
  Env env;
  auto f = env.make("<record>\n  k_${record[\"message\"]} v\n</record>\n");
  Batch b = make_batch("a", 2);
  b.common_fields.push_back({"cluster", Value::of_string("c1")});
  f->filter(b);
  EXPECT_TRUE(b.common_fields.empty());
  EXPECT_EQ(to_json(b, 1), R"({"message":"msg 1","n":1,"cluster":"c1","k_msg 1":"v"})");
}

TEST(RecordTransformer, ReusesScratchAcrossBatches) {
  Env env;
  auto f = env.make("<record>\n  t ${tag}\n  m ${record[\"message\"]}\n</record>\n");
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

// ---- enable_ruby -------------------------------------------------------------------------------

namespace {

// The @ERROR label: keeps what it is sent as JSON lines.
struct Collect : Emitter {
  std::vector<std::string> records;
  void emit(Batch& b) override {
    for (size_t i = 0; i < b.records.size(); ++i) records.push_back(to_json(b, i));
  }
};

Batch pod_batch() {
  Batch b;
  b.tag = "kubernetes.var.log.containers.web-1_shop_app-0123.log";
  b.begin_record({1700000000, 5, false});
  b.add_field("message", Value::of_string("Hello World"));
  b.add_field("n", Value::of_int(5));
  b.add_field("csv", Value::of_string("a,b,,c,,"));
  b.add_field("opt", Value::of_json(R"({"x": 1, "s": "q\"uote"})"));
  b.begin_record({1700000001, 0, false});
  b.add_field("message", Value::of_string("ERROR: disk"));
  b.add_field("n", Value::of_int(7));
  b.common_fields.push_back(
      {"kubernetes", Value::of_json(R"({"namespace_name":"shop","labels":{"app":"web"}})")});
  return b;
}

std::string ruby_value(const std::string& expression, size_t record = 0) {
  Env env;
  auto f = env.make("enable_ruby true\n<record>\n  v " + expression + "\n</record>\n");
  Batch b = pod_batch();
  f->filter(b);
  std::string out;
  const Value* v = b.find(b.records.at(record), "v");
  if (!v) return "<absent>";
  json::append_value(out, *v);
  return out;
}

}  // namespace

TEST(RecordTransformerRuby, RecordAccessAsInKubernetesConfigs) {
  EXPECT_EQ(ruby_value(R"(${record["kubernetes"]["namespace_name"]})"), R"("shop")");
  EXPECT_EQ(ruby_value(R"(${record.dig("kubernetes", "labels", "app") || "unknown"})"), R"("web")");
  EXPECT_EQ(ruby_value(R"(${record.dig("kubernetes", "labels", "tier") || "unknown"})"), R"("unknown")");
  EXPECT_EQ(ruby_value(R"(${record["kubernetes"]["labels"]})"), R"({"app":"web"})");
  EXPECT_EQ(ruby_value(R"(${record["kubernetes"]["labels"].to_json})"), R"("{\"app\":\"web\"}")");
  EXPECT_EQ(ruby_value(R"(${record["opt"]["s"]})"), R"("q\"uote")");
  EXPECT_EQ(ruby_value(R"(${record["n"] + 1})"), "6");
  EXPECT_EQ(ruby_value(R"(${record.has_key?("opt")})"), "true");
  EXPECT_EQ(ruby_value(R"(${record.fetch("nope", "dflt")})"), R"("dflt")");
  EXPECT_EQ(ruby_value(R"(${record["nope"]["x"] rescue "rescued"})"), R"("rescued")");
}

TEST(RecordTransformerRuby, StringMethodsConditionsAndInterpolation) {
  EXPECT_EQ(ruby_value(R"(${record["message"].include?("ERROR") ? "error" : "info"})", 0), R"("info")");
  EXPECT_EQ(ruby_value(R"(${record["message"].include?("ERROR") ? "error" : "info"})", 1), R"("error")");
  EXPECT_EQ(ruby_value(R"(${record["message"] && record["message"].start_with?("ERR")})", 1), "true");
  EXPECT_EQ(ruby_value(R"(${record["message"].downcase.sub("world", "there")})"), R"("hello there")");
  EXPECT_EQ(ruby_value(R"(${record["csv"].split(",")})"), R"(["a","b","","c"])");
  EXPECT_EQ(ruby_value(R"(${record["csv"].split(",").join("|")})"), R"("a|b||c")");
  EXPECT_EQ(ruby_value(R"(${record["csv"].split(",")[-1]})"), R"("c")");
  EXPECT_EQ(ruby_value(R"(${record["csv"].split(",", -1)})"), R"(["a","b","","c","",""])");
  EXPECT_EQ(ruby_value(R"(${record["csv"].split(",", 2)})"), R"(["a","b,,c,,"])");
  EXPECT_EQ(ruby_value(R"(${"  a b  c ".split(" ", 2)})"), R"(["a","b  c "])");
  EXPECT_EQ(ruby_value(R"(${record["opt"].to_json})"), R"("{\"x\":1,\"s\":\"q\\\"uote\"}")");
  EXPECT_EQ(ruby_value(R"(${"a-b-c".gsub("-", "_")})"), R"("a_b_c")");
  EXPECT_EQ(ruby_value(R"(${record["message"].length})"), "11");
  EXPECT_EQ(ruby_value(R"(n=${record["n"]} ${tag_parts[-1]}\t${tag_parts[4].split("_")[1]})"),
            R"("n=5 log\tshop")");
  EXPECT_EQ(ruby_value(R"(${tag_suffix[-2]})"), R"("web-1_shop_app-0123.log")");
  EXPECT_EQ(ruby_value(R"(${hostname == hostname})"), "true");
  EXPECT_EQ(ruby_value(R"(${record["nope"]})"), "null");
  EXPECT_EQ(ruby_value(R"(x${record["nope"]}y)"), R"("xy")");
}

// Regexp literals, checked against Ruby 3.1 on the same record.
TEST(RecordTransformerRuby, Regexps) {
  EXPECT_EQ(ruby_value(R"(${record["message"] =~ /World/})"), "6");
  EXPECT_EQ(ruby_value(R"(${record["message"] =~ /world/i})"), "6");
  EXPECT_EQ(ruby_value(R"(${record["message"] =~ /nope/})"), "null");
  EXPECT_EQ(ruby_value(R"(${record["message"] !~ /nope/})"), "true");
  EXPECT_EQ(ruby_value(R"(${/llo/ =~ record["message"]})"), "2");
  EXPECT_EQ(ruby_value(R"(${record["nope"] =~ /x/})"), "null");
  EXPECT_EQ(ruby_value(R"(${record["kubernetes"]["namespace_name"] =~ /^kube-/ ? "system" : "app"})"),
            R"("app")");
  EXPECT_EQ(ruby_value(R"(${record["message"].match?(/^Hello/)})"), "true");
  EXPECT_EQ(ruby_value(R"(${record["message"].match(/(\w+) (\w+)/)[2]})"), R"("World")");
  EXPECT_EQ(ruby_value(R"(${record["message"].match(/(?<first>\w+) (?<second>\w+)/)["second"]})"),
            R"("World")");
  EXPECT_EQ(ruby_value(R"(${record["message"].match(/xyz/)})"), "null");
  EXPECT_EQ(ruby_value(R"(${record["message"].match(/(\w+)/).captures})"), R"(["Hello"])");
  EXPECT_EQ(ruby_value(R"(${record["message"].gsub(/o/, "0")})"), R"("Hell0 W0rld")");
  EXPECT_EQ(ruby_value(R"(${record["message"].sub(/(\w+) (\w+)/, '\2 \1')})"), R"("World Hello")");
  EXPECT_EQ(ruby_value(R"(${record["message"].gsub(/(?<w>l+)/, '<\k<w>>')})"), R"("He<ll>o Wor<l>d")");
  EXPECT_EQ(ruby_value(R"(${record["csv"].split(/,/)})"), R"(["a","b","","c"])");
  EXPECT_EQ(ruby_value(R"(${record["csv"].split(/(,)/)})"), R"(["a",",","b",",","",",","c",",","",","])");
  EXPECT_EQ(ruby_value(R"(${record["message"].split(//)})"),
            R"(["H","e","l","l","o"," ","W","o","r","l","d"])");
  EXPECT_EQ(ruby_value(R"(${record["message"].scan(/l+/)})"), R"(["ll","l"])");
  EXPECT_EQ(ruby_value(R"(${record["message"].scan(/(l)(o)/)})"), R"([["l","o"]])");
  EXPECT_EQ(ruby_value(R"(${/a/i})"), R"x("(?i-mx:a)")x");
  // What raises sends the record to @ERROR (here: drops it): a String where a Regexp must be, an
  // unknown group name.
  Env env;
  const std::pair<const char*, size_t> raising[] = {
      {R"(${record["message"] =~ "World"})", 0},
      {R"(${record["message"].sub(/(?<x>o)/, '[\k<y>]')})", 1}};  // "ERROR: disk" has no o: no error
  for (auto [expression, left] : raising) {
    auto f = env.make(std::string("enable_ruby true\n<record>\n  v ") + expression + "\n</record>\n");
    Batch b = pod_batch();
    f->filter(b);
    EXPECT_EQ(b.records.size(), left) << expression;
  }
  // A pattern Oniguruma refuses, interpolation and a `/` in a class are configuration errors.
  for (const char* bad : {R"(${record["m"] =~ /(/})", R"(${record["m"] =~ /#{x}/})", R"(${record["m"] =~ /[/]/})"})
    EXPECT_THROW(env.make(std::string("enable_ruby true\n<record>\n  v ") + bad + "\n</record>\n"),
                 ConfigException)
        << bad;
}

TEST(RecordTransformerRuby, TimeAsRubyPrintsIt) {
  // TZ is UTC in these tests, as in the images Fluentd runs in.
  EXPECT_EQ(ruby_value("${time}"), R"("2023-11-14 22:13:20 +0000")");
  EXPECT_EQ(ruby_value("${time.utc}"), R"("2023-11-14 22:13:20 UTC")");
  EXPECT_EQ(ruby_value("${time.strftime('%Y-%m-%dT%H:%M:%S.%NZ')}"), R"("2023-11-14T22:13:20.000000005Z")");
  EXPECT_EQ(ruby_value("${time.iso8601}"), R"("2023-11-14T22:13:20+00:00")");
  EXPECT_EQ(ruby_value("${time.utc.iso8601(3)}"), R"("2023-11-14T22:13:20.000Z")");
  EXPECT_EQ(ruby_value("${time.to_i}"), "1700000000");
  EXPECT_EQ(ruby_value("${time.to_f}", 1), "1700000001.0");
}

TEST(RecordTransformerRuby, WhatRaisesSendsTheRecordToErrorLabel) {
  Env env;
  Collect errors;
  env.error_label = &errors;
  auto f = env.make("enable_ruby true\n<record>\n  x ${record[\"opt\"][\"x\"]}\n</record>\n");
  Batch b = pod_batch();
  f->filter(b);
  ASSERT_EQ(b.records.size(), 1u);  // the second record has no "opt": nil["x"] raises
  EXPECT_EQ(b.find(b.records[0], "x")->integer, 1);
  ASSERT_EQ(errors.records.size(), 1u);
  EXPECT_EQ(errors.records[0],
            R"({"message":"ERROR: disk","n":7,"kubernetes":{"namespace_name":"shop","labels":{"app":"web"}}})");

  // Without @ERROR the record is dropped, as Fluentd does (it logs it).
  Env quiet;
  auto g = quiet.make("enable_ruby true\n<record>\n  x ${record[\"n\"] + \"s\"}\n</record>\n");
  Batch c = pod_batch();
  g->filter(c);
  EXPECT_TRUE(c.records.empty());
}

TEST(RecordTransformerRuby, TagOnlyExpressionsAreEvaluatedOncePerBatch) {
  Env env;
  Collect errors;
  env.error_label = &errors;
  auto f = env.make("enable_ruby true\n<record>\n  ns ${tag_parts[4].split(\"_\")[1].upcase}\n"
                    "  bad ${tag_parts[9].upcase}\n</record>\n");
  Batch b = pod_batch();
  f->filter(b);
  EXPECT_TRUE(b.records.empty());  // tag_parts[9] is nil for every record
  EXPECT_EQ(errors.records.size(), 2u);
}

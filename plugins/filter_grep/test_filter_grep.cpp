#include <gtest/gtest.h>

#include "config/config.h"
#include "core/registry.h"

using namespace sluice;

namespace {

struct Env {
  Registry reg;
  ConfigSection section;
  std::vector<ConfigError> errors;
  Env() { register_all_plugins(reg); }

  std::unique_ptr<Filter> make(const std::string& body) {
    auto parsed = parse_config_text("<filter **>\n  @type grep\n" + body + "</filter>\n", "t.conf", ".");
    EXPECT_TRUE(parsed.errors.empty()) << parsed.errors[0].to_string();
    section = parsed.root.children.at(0);
    const PluginSpec* spec = reg.spec("filter", "grep");
    for (auto& e : validate_params(section, *spec)) errors.push_back(e);
    PluginContext ctx;
    ctx.registry = &reg;
    ctx.id = "grep0";
    ctx.errors = &errors;
    Params p(section, *spec);
    return (*reg.filter("grep"))(ctx, p);
  }
};

// Builds a batch of records from (key, value) string lists.
Batch batch_of(const std::vector<std::vector<std::pair<std::string, std::string>>>& recs) {
  Batch b;
  b.tag = "app";
  for (auto& rec : recs) {
    b.begin_record({1, 0});
    for (auto& [k, v] : rec) b.add_field(b.arena.copy(k), Value::of_string(b.arena.copy(v)));
  }
  return b;
}

std::vector<std::string> messages(const Batch& b) {
  std::vector<std::string> out;
  for (auto& r : b.records) {
    const Value* v = b.find(r, "message");
    out.push_back(v ? std::string(v->text) : "<none>");
  }
  return out;
}

}  // namespace

TEST(FilterGrep, RegexpKeepsMatching) {
  Env env;
  auto f = env.make("<regexp>\n key message\n pattern /cool/\n</regexp>\n");
  Batch b = batch_of({{{"message", "this is cool"}}, {{"message", "boring"}}, {{"message", "COOL"}}});
  f->filter(b);
  EXPECT_EQ(messages(b), (std::vector<std::string>{"this is cool"}));
}

TEST(FilterGrep, IgnoreCaseFlag) {
  Env env;
  auto f = env.make("<regexp>\n key message\n pattern /cool/i\n</regexp>\n");
  Batch b = batch_of({{{"message", "this is cool"}}, {{"message", "boring"}}, {{"message", "COOL"}}});
  f->filter(b);
  EXPECT_EQ(messages(b), (std::vector<std::string>{"this is cool", "COOL"}));
}

TEST(FilterGrep, ExcludeDropsMatching) {
  Env env;
  auto f = env.make("<exclude>\n key message\n pattern /^debug/\n</exclude>\n"
                    "<exclude>\n key level\n pattern /trace/\n</exclude>\n");
  Batch b = batch_of({{{"message", "debug: x"}},
                      {{"message", "info: y"}},
                      {{"message", "info: z"}, {"level", "trace"}}});
  f->filter(b);
  EXPECT_EQ(messages(b), (std::vector<std::string>{"info: y"}));
}

TEST(FilterGrep, TopLevelRegexpsAreAnd) {
  Env env;
  auto f = env.make("<regexp>\n key a\n pattern /x/\n</regexp>\n"
                    "<regexp>\n key b\n pattern /y/\n</regexp>\n");
  Batch b = batch_of({{{"message", "1"}, {"a", "x"}, {"b", "y"}},
                      {{"message", "2"}, {"a", "x"}, {"b", "n"}},
                      {{"message", "3"}, {"a", "n"}, {"b", "y"}}});
  f->filter(b);
  EXPECT_EQ(messages(b), (std::vector<std::string>{"1"}));
}

TEST(FilterGrep, OrGroupOfRegexps) {
  Env env;
  auto f = env.make("<or>\n <regexp>\n  key a\n  pattern /x/\n </regexp>\n"
                    " <regexp>\n  key b\n  pattern /y/\n </regexp>\n</or>\n");
  Batch b = batch_of({{{"message", "1"}, {"a", "x"}, {"b", "n"}},
                      {{"message", "2"}, {"a", "n"}, {"b", "n"}},
                      {{"message", "3"}, {"a", "n"}, {"b", "y"}}});
  f->filter(b);
  EXPECT_EQ(messages(b), (std::vector<std::string>{"1", "3"}));
}

TEST(FilterGrep, AndGroupOfExcludes) {
  Env env;
  auto f = env.make("<and>\n <exclude>\n  key a\n  pattern /x/\n </exclude>\n"
                    " <exclude>\n  key b\n  pattern /y/\n </exclude>\n</and>\n");
  Batch b = batch_of({{{"message", "1"}, {"a", "x"}, {"b", "y"}},
                      {{"message", "2"}, {"a", "x"}, {"b", "n"}},
                      {{"message", "3"}, {"a", "n"}, {"b", "y"}}});
  f->filter(b);
  EXPECT_EQ(messages(b), (std::vector<std::string>{"2", "3"}));
}

TEST(FilterGrep, BothKindsInOneGroupIsAnError) {
  Env env;
  EXPECT_THROW(env.make("<and>\n <regexp>\n  key a\n  pattern /x/\n </regexp>\n"
                        " <exclude>\n  key b\n  pattern /y/\n </exclude>\n</and>\n"),
               ConfigException);
}

TEST(FilterGrep, LegacyParams) {
  Env env;
  auto f = env.make("regexp1 message cool\nexclude1 message uncool\n");
  EXPECT_TRUE(env.errors.empty());
  Batch b = batch_of({{{"message", "cool"}}, {{"message", "uncool"}}, {{"message", "meh"}}});
  f->filter(b);
  EXPECT_EQ(messages(b), (std::vector<std::string>{"cool"}));
}

TEST(FilterGrep, LegacyParamWithoutPatternIsAnError) {
  Env env;
  try {
    env.make("regexp1 message\n");
    FAIL();
  } catch (const ConfigException& e) {
    EXPECT_EQ(e.error.to_string(), "t.conf:3: regexp1 does not contain 2 parameters");
  }
}

TEST(FilterGrep, DuplicateKeyIsAnError) {
  Env env;
  EXPECT_THROW(env.make("<regexp>\n key a\n pattern /x/\n</regexp>\n"
                        "<regexp>\n key a\n pattern /y/\n</regexp>\n"),
               ConfigException);
}

TEST(FilterGrep, BadRegexpIsAConfigErrorWithLine) {
  Env env;
  try {
    env.make("<regexp>\n key a\n pattern /(unclosed/\n</regexp>\n");
    FAIL();
  } catch (const ConfigException& e) {
    EXPECT_EQ(e.error.pos.line, 3);
    EXPECT_NE(e.error.message.find("invalid regexp"), std::string::npos) << e.error.message;
  }
}

TEST(FilterGrep, MissingPatternIsReported) {
  Env env;
  EXPECT_THROW(env.make("<regexp>\n key a\n</regexp>\n"), ConfigException);
}

TEST(FilterGrep, MissingKeyMatchesAsEmptyString) {
  Env env;
  auto f = env.make("<exclude>\n key level\n pattern /^$/\n</exclude>\n");
  Batch b = batch_of({{{"message", "1"}}, {{"message", "2"}, {"level", "info"}}});
  f->filter(b);
  EXPECT_EQ(messages(b), (std::vector<std::string>{"2"}));
}

TEST(FilterGrep, NonStringValuesUseRubyToS) {
  Env env;
  auto f = env.make("<regexp>\n key code\n pattern /^5\\d\\d$/\n</regexp>\n"
                    "<regexp>\n key ok\n pattern /false/\n</regexp>\n");
  Batch b;
  b.tag = "t";
  for (int code : {200, 503, 500}) {
    b.begin_record({1, 0});
    b.add_field("message", Value::of_string(code == 200 ? "a" : code == 503 ? "b" : "c"));
    b.add_field("code", Value::of_int(code));
    b.add_field("ok", Value::of_bool(code == 200));
  }
  f->filter(b);
  EXPECT_EQ(messages(b), (std::vector<std::string>{"b", "c"}));
}

TEST(FilterGrep, NestedPathIntoJsonAndCommonFields) {
  Env env;
  auto f = env.make("<regexp>\n key $.kubernetes.namespace_name\n pattern /^prod-/\n</regexp>\n"
                    "<exclude>\n key $['kubernetes']['labels']['app']\n pattern /^noisy$/\n</exclude>\n");
  Batch b = batch_of({{{"message", "1"}}, {{"message", "2"}}});
  b.common_fields.push_back(
      {"kubernetes", Value::of_json(R"({"pod_name":"p","namespace_name":"prod-a","labels":{"app":"web"}})")});
  f->filter(b);
  EXPECT_EQ(messages(b), (std::vector<std::string>{"1", "2"}));

  Batch c = batch_of({{{"message", "3"}}});
  c.common_fields.push_back(
      {"kubernetes", Value::of_json(R"({"namespace_name":"prod-b","labels":{"app":"noisy"}})")});
  f->filter(c);
  EXPECT_TRUE(c.records.empty());

  // A record's own field shadows the common one.
  Batch d = batch_of({{{"message", "4"}}});
  d.begin_record({1, 0});
  d.add_field("message", Value::of_string("5"));
  d.add_field("kubernetes", Value::of_json(R"({"namespace_name":"dev"})"));
  d.common_fields.push_back({"kubernetes", Value::of_json(R"({"namespace_name":"prod-c"})")});
  f->filter(d);
  EXPECT_EQ(messages(d), (std::vector<std::string>{"4"}));
}

TEST(FilterGrep, InvalidUtf8IsScrubbedNotSkipped) {
  Env env;
  auto f = env.make("<regexp>\n key message\n pattern /a.b/\n</regexp>\n");
  Batch b = batch_of({{{"message", std::string("a\xff" "b")}}, {{"message", "ab"}}});
  f->filter(b);
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(b.find(b.records[0], "message")->text, std::string("a\xff" "b"));
}

TEST(FilterGrep, RubySyntaxNamedGroupsAndAnchors) {
  Env env;
  auto f = env.make("<regexp>\n key message\n pattern /\\A(?<lvl>ERROR|WARN)\\b/\n</regexp>\n");
  Batch b = batch_of({{{"message", "ERROR boom"}}, {{"message", "xERROR"}}, {{"message", "WARN x"}}});
  f->filter(b);
  EXPECT_EQ(messages(b), (std::vector<std::string>{"ERROR boom", "WARN x"}));
}

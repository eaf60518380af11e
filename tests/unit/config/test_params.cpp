// Typed parameter access and validation against plugin specs.
#include <gtest/gtest.h>

#include "config/params.h"

namespace sluice {
namespace {

ParamSpec spec(std::string name, ParamType t, std::string def = "", bool has_default = true) {
  ParamSpec s;
  s.name = std::move(name);
  s.type = t;
  s.default_value = std::move(def);
  s.has_default = has_default;
  return s;
}

PluginSpec tail_spec() {
  PluginSpec p;
  p.kind = "input";
  p.type = "tail";
  p.params = {spec("path", ParamType::String), spec("tag", ParamType::String),
              spec("read_from_head", ParamType::Bool, "false"),
              spec("refresh_interval", ParamType::Duration, "60"),
              spec("read_bytes_limit_per_second", ParamType::Size, "-1"),
              spec("rotate_wait", ParamType::Duration, "5"),
              spec("max_lines", ParamType::Integer, "1000"),
              spec("ratio", ParamType::Float, "0.5"),
              spec("exclude_path", ParamType::Array, "[]"),
              spec("labels", ParamType::Hash, ""),
              spec("mode", ParamType::Enum, "fast"),
              spec("expression", ParamType::Regexp, "", false),
              spec("password", ParamType::String),
              spec("token", ParamType::Integer),
              spec("enable_watch_timer", ParamType::Bool, "true")};
  p.params[0].required = true;
  p.params[10].choices = {"fast", "safe"};
  p.params[12].secret = true;
  p.params[13].secret = true;
  p.params[14].ignored = true;
  p.sections = {"parse"};
  return p;
}

ConfigSection section(std::vector<std::pair<std::string, std::string>> kv) {
  ConfigSection s;
  s.name = "source";
  s.pos = {"f.conf", 10};
  int line = 11;
  for (auto& [k, v] : kv) s.params.push_back({k, v, {"f.conf", line++}});
  return s;
}

TEST(ParamValues, Sizes) {
  uint64_t v;
  auto size = [&](const char* s) { return parse_size(s, v) ? v : uint64_t(-1); };
  EXPECT_EQ(size("10"), 10u);
  EXPECT_EQ(size("2k"), 2048u);
  EXPECT_EQ(size("2K"), 2048u);
  EXPECT_EQ(size("2KB"), 2048u);
  EXPECT_EQ(size("8M"), 8u << 20);
  EXPECT_EQ(size("8m"), 8u << 20);
  EXPECT_EQ(size("1g"), 1u << 30);
  EXPECT_EQ(size("1t"), 1ull << 40);
  EXPECT_EQ(size("1.5k"), 1536u);
  EXPECT_EQ(size(" 4k "), 4096u);
  for (const char* bad : {"", "k", "x", "2x", "-1", "1.5", "2kk", "1e3", "2 M B"})
    EXPECT_FALSE(parse_size(bad, v)) << bad;
}

TEST(ParamValues, Durations) {
  double v;
  auto dur = [&](const char* s) { return parse_duration(s, v) ? v : -999.0; };
  EXPECT_EQ(dur("5"), 5);
  EXPECT_EQ(dur("5s"), 5);
  EXPECT_EQ(dur("1.5"), 1.5);
  EXPECT_EQ(dur("0.5"), 0.5);
  EXPECT_EQ(dur("10m"), 600);
  EXPECT_EQ(dur("1h"), 3600);
  EXPECT_EQ(dur("1d"), 86400);
  EXPECT_EQ(dur("-1"), -1);
  EXPECT_EQ(dur("1.5h"), 5400);
  for (const char* bad : {"", "s", "5x", "5S", "1m30s", "abc", "5 sec"})
    EXPECT_FALSE(parse_duration(bad, v)) << bad;
}

TEST(ParamValues, BoolsAsFluentd) {
  bool b;
  EXPECT_TRUE(parse_bool("true", b) && b);
  EXPECT_TRUE(parse_bool("yes", b) && b);
  EXPECT_TRUE(parse_bool("", b) && b);  // Fluentd: `flag` alone is true
  EXPECT_TRUE(parse_bool("#comment", b) && b);
  EXPECT_TRUE(parse_bool("false", b) && !b);
  EXPECT_TRUE(parse_bool("no", b) && !b);
  EXPECT_FALSE(parse_bool("TRUE", b));
  EXPECT_FALSE(parse_bool("1", b));
}

TEST(ParamValues, IntegersFloats) {
  int64_t i;
  double d;
  EXPECT_TRUE(parse_integer("-1", i) && i == -1);
  EXPECT_TRUE(parse_integer("1_000", i) && i == 1000);
  EXPECT_FALSE(parse_integer("1.5", i));
  EXPECT_FALSE(parse_integer("12abc", i));
  EXPECT_FALSE(parse_integer("99999999999999999999", i));
  EXPECT_TRUE(parse_float("1.5e3", d) && d == 1500);
  EXPECT_FALSE(parse_float("nan", d));
  EXPECT_FALSE(parse_float("1.5x", d));
}

TEST(ParamValues, ArraysAndHashes) {
  std::vector<std::string> a;
  EXPECT_TRUE(parse_array(" a , b,c ", a));
  EXPECT_EQ(a, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(parse_array("[\"/var/log/a*.log\", \"b\\u0041\", 3]", a));
  EXPECT_EQ(a, (std::vector<std::string>{"/var/log/a*.log", "bA", "3"}));
  EXPECT_TRUE(parse_array("[]", a) && a.empty());
  EXPECT_TRUE(parse_array("", a) && a.empty());
  EXPECT_TRUE(parse_array("a,b,", a) && a.size() == 2u);
  EXPECT_TRUE(parse_array("[{\"_SYSTEMD_UNIT\":\"kubelet.service\"}]", a));
  EXPECT_EQ(a, (std::vector<std::string>{"{\"_SYSTEMD_UNIT\":\"kubelet.service\"}"}));
  EXPECT_FALSE(parse_array("[\"a\",", a));
  EXPECT_FALSE(parse_array("[a]", a));

  std::vector<std::pair<std::string, std::string>> h;
  EXPECT_TRUE(parse_hash("k1:v1, k2:v2:x", h));
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1], (std::pair<std::string, std::string>{"k2", "v2:x"}));
  EXPECT_TRUE(parse_hash("{\"a\": \"x\", \"n\": 1, \"a\": \"y\"}", h));
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].second, "y");
  EXPECT_EQ(h[1].second, "1");
  EXPECT_FALSE(parse_hash("{\"a\" 1}", h));
}

TEST(ParamValues, Regexps) {
  RegexpValue r;
  EXPECT_TRUE(parse_regexp("/^(?<time>.+) (?<log>.*)$/", r));
  EXPECT_EQ(r.pattern, "^(?<time>.+) (?<log>.*)$");
  EXPECT_FALSE(r.ignore_case);
  EXPECT_TRUE(parse_regexp("/a/b/im", r));
  EXPECT_EQ(r.pattern, "a/b");
  EXPECT_TRUE(r.ignore_case && r.multiline);
  EXPECT_TRUE(parse_regexp("^bare$", r));
  EXPECT_EQ(r.pattern, "^bare$");
  EXPECT_FALSE(parse_regexp("/unterminated", r));
  EXPECT_FALSE(parse_regexp("/a/bcd", r));
}

TEST(Params, TypedGettersAndDefaults) {
  auto ps = tail_spec();
  auto s = section({{"path", "/var/log/*.log"}, {"read_from_head", "true"},
                    {"refresh_interval", "10m"}, {"read_bytes_limit_per_second", "8M"},
                    {"exclude_path", "[\"a\", \"b\"]"}, {"labels", "a:1,b:2"},
                    {"expression", "/x(?<y>.)/i"}, {"max_lines", ""}});
  Params p(s, ps);
  EXPECT_TRUE(p.has("path"));
  EXPECT_FALSE(p.has("tag"));
  EXPECT_EQ(p.str("path"), "/var/log/*.log");
  EXPECT_EQ(p.str("tag"), "");
  EXPECT_TRUE(p.flag("read_from_head"));
  EXPECT_EQ(p.seconds("refresh_interval"), 600);
  EXPECT_EQ(p.seconds("rotate_wait"), 5);
  EXPECT_EQ(p.size("read_bytes_limit_per_second"), 8u << 20);
  EXPECT_EQ(p.integer("max_lines"), 1000);  // empty value (e.g. `|| nil`): the default
  EXPECT_DOUBLE_EQ(p.real("ratio"), 0.5);
  EXPECT_EQ(p.list("exclude_path"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(p.hash("labels").size(), 2u);
  EXPECT_EQ(p.regexp("expression"), "x(?<y>.)");
  EXPECT_TRUE(p.regexp_value("expression").ignore_case);
  EXPECT_EQ(p.str("mode"), "fast");
  EXPECT_EQ(p.pos("refresh_interval").line, 13);
  EXPECT_EQ(p.pos("tag").line, 10);
}

TEST(Params, NilParamsUseTheDefault) {
  auto ps = tail_spec();
  auto s = section({{"path", "/x"}, {"rotate_wait", ""}});
  s.params[1].is_nil = true;
  Params p(s, ps);
  EXPECT_FALSE(p.has("rotate_wait"));
  EXPECT_EQ(p.seconds("rotate_wait"), 5);
}

TEST(Params, GettersThrowWithPosition) {
  auto ps = tail_spec();
  auto s = section({{"path", "/x"}, {"refresh_interval", "5x"}, {"mode", "slow"},
                    {"password", "hunter2"}, {"token", "s3cr3t"}});
  Params p(s, ps);
  try {
    p.seconds("refresh_interval");
    FAIL();
  } catch (const ConfigException& e) {
    EXPECT_EQ(e.error.to_string(),
              "f.conf:12: invalid value for parameter 'refresh_interval': \"5x\" is not a duration");
  }
  EXPECT_THROW(p.str("mode"), ConfigException);
  try {
    p.integer("token");
    FAIL();
  } catch (const ConfigException& e) {
    EXPECT_EQ(e.error.pos.line, 15);
    EXPECT_EQ(std::string(e.what()).find("s3cr3t"), std::string::npos) << e.what();
  }
  try {
    p.size("password");  // read as another type: still hidden
    FAIL();
  } catch (const ConfigException& e) {
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
  }
  auto missing = section({});
  Params q(missing, ps);
  try {
    q.str("path");
    FAIL();
  } catch (const ConfigException& e) {
    EXPECT_EQ(e.error.to_string(), "f.conf:10: missing required parameter 'path' in <source> @type tail");
  }
  EXPECT_THROW(q.str("undeclared"), ConfigException);
}

TEST(Params, IsSystemParam) {
  for (const char* k : {"@type", "@id", "@label", "@log_level"}) EXPECT_TRUE(is_system_param(k));
  EXPECT_FALSE(is_system_param("@include"));
  EXPECT_FALSE(is_system_param("type"));
}

TEST(ValidateParams, ReportsEveryProblem) {
  auto ps = tail_spec();
  auto s = section({{"@type", "tail"}, {"@id", "in"}, {"pathh", "/x"}, {"read_from_head", "maybe"},
                    {"mode", "slow"}, {"token", "abc"}, {"enable_watch_timer", "whatever"},
                    {"labels", "{bad"}, {"zzzzzz", "1"}});
  ConfigSection parse;
  parse.name = "parse";
  parse.pos = {"f.conf", 30};
  ConfigSection buffer;
  buffer.name = "bufer";
  buffer.pos = {"f.conf", 33};
  s.children = {parse, buffer};
  auto errors = validate_params(s, ps);
  std::vector<std::string> got;
  for (auto& e : errors) got.push_back(e.to_string());
  std::vector<std::string> want = {
      "f.conf:13: unknown parameter 'pathh' in <source> @type tail (did you mean 'path'?)",
      "f.conf:14: invalid value for parameter 'read_from_head': \"maybe\" is not a boolean (true, false, yes, no)",
      "f.conf:15: invalid value for parameter 'mode': \"slow\" is not one of: fast, safe",
      "f.conf:16: invalid value for parameter 'token': the value (hidden) is not an integer",
      "f.conf:18: invalid value for parameter 'labels': \"{bad\" is not a hash (k1:v1,k2:v2 or a JSON object)",
      "f.conf:19: unknown parameter 'zzzzzz' in <source> @type tail",
      "f.conf:10: missing required parameter 'path' in <source> @type tail",
      "f.conf:33: unknown section <bufer> in <source> @type tail",
  };
  EXPECT_EQ(got, want);
}

TEST(ValidateParams, NilValuesAndMatchArgs) {
  auto ps = tail_spec();
  ps.type = "";
  auto s = section({{"@type", "tail"}, {"path", "/x"}, {"refresh_interval", ""}});
  s.params[2].is_nil = true;
  s.name = "match";
  s.arg = "**";
  s.params.push_back({"pat", "1", {"f.conf", 20}});
  auto errors = validate_params(s, ps);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "unknown parameter 'pat' in <match **> @type tail (did you mean 'path'?)");
}

}  // namespace
}  // namespace sluice

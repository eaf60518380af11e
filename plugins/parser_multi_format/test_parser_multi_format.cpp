#include <gtest/gtest.h>

#include "../parser_none/parser_test_util.h"

namespace sluice {
namespace {

using test::ParserHarness;

ConfigSection pattern(std::vector<std::pair<std::string, std::string>> params, int line) {
  ConfigSection s{"pattern", "", {"test.conf", line}, {}, {}};
  for (auto& [k, v] : params) s.params.push_back({k, v, {"test.conf", line + 1}});
  return s;
}

// The container pattern pair of Kubernetes' fluentd-elasticsearch addon: docker's JSON lines,
// else CRI lines through a regexp.
std::vector<ConfigSection> addon_patterns() {
  return {pattern({{"format", "json"}, {"time_key", "time"}, {"time_format", "%Y-%m-%dT%H:%M:%S.%NZ"}}, 2),
          pattern({{"format", "/^(?<time>.+) (?<stream>stdout|stderr) [^ ]* (?<log>.*)$/"},
                   {"time_format", "%Y-%m-%dT%H:%M:%S.%N%:z"}},
                  6)};
}

TEST(ParserMultiFormat, FirstPatternThatParsesWins) {
  ParserHarness h("multi_format", {}, addon_patterns());
  h.feed({R"({"log":"hello\n","stream":"stdout","time":"2024-05-01T12:00:00.5Z"})",
          "2024-05-01T12:00:01.000000000+00:00 stderr F from cri", "neither of them"});
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.str(0, "log"), "hello\n");
  EXPECT_EQ(h.rec(0).time.sec, 1714564800);
  EXPECT_EQ(h.str(1, "log"), "from cri");
  EXPECT_EQ(h.str(1, "stream"), "stderr");
  EXPECT_EQ(h.rec(1).time.sec, 1714564801);
  // No pattern: kept raw once (the patterns' own raw records were taken back), counted once.
  EXPECT_EQ(h.keys(2), (std::vector<std::string>{"message", "_parse_error"}));
  EXPECT_EQ(h.str(2, "_parse_error"), "pattern not matched");
  EXPECT_EQ(h.errors(), 1u);
}

TEST(ParserMultiFormat, TypeFormAndNone) {
  ParserHarness h("multi_format", {},
                  {pattern({{"@type", "regexp"}, {"expression", "/^(?<k>\\w+)=(?<v>\\d+)$/"}}, 2),
                   pattern({{"format", "none"}}, 5)});
  h.feed({"a=1", "free text"});
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.str(0, "v"), "1");
  EXPECT_EQ(h.str(1, "message"), "free text");
  EXPECT_EQ(h.errors(), 0u);
}

TEST(ParserMultiFormat, ConfigurationMistakes) {
  EXPECT_THROW(ParserHarness("multi_format"), ConfigException);
  EXPECT_THROW(ParserHarness("multi_format", {}, {pattern({{"time_key", "t"}}, 2)}), ConfigException);
  try {
    ParserHarness("multi_format", {}, {pattern({{"format", "nope"}}, 2)});
    FAIL();
  } catch (const ConfigException& e) {
    EXPECT_NE(e.error.to_string().find("test.conf:3: unknown parser type 'nope'"), std::string::npos);
  }
}

}  // namespace
}  // namespace sluice

#include <gtest/gtest.h>

#include "config/config.h"
#include "core/registry.h"
#include "format/json.h"
#include "support/plugin_config.h"

using namespace sluice;

namespace {

// The label's router: keeps (tag, record JSON) of what it is sent, and may send some tags back
// to the output, as a <match> that matches them again would.
struct Router : Emitter {
  std::vector<std::pair<std::string, std::string>> got;
  Output* loop_back = nullptr;
  void emit(Batch& b) override {
    if (loop_back) {
      loop_back->write(b);
      return;
    }
    for (const Record& r : b.records) {
      std::string s;
      json::append_record(s, b, r);
      got.emplace_back(std::string(b.tag), s);
    }
  }
};

struct Env : sluice::testing::PluginConfig {
  Router router;
  Metrics metrics;

  std::unique_ptr<Output> make(const std::string& body) {
    PluginContext ctx = parse("match", "output", "rewrite_tag_filter", body, "rw0");
    ctx.metrics = &metrics;
    ctx.emitter = &router;
    return (*registry.output("rewrite_tag_filter"))(ctx, params());
  }
  std::string config_error(const std::string& body) {
    return error_of([&] { make(body); });
  }
};

Batch logs(std::string_view tag, std::initializer_list<std::pair<const char*, const char*>> records) {
  Batch b;
  b.tag = tag;
  for (auto& [level, ns] : records) {
    b.begin_record({1700000000, 0, false});
    if (level) b.add_field("level", Value::of_string(level));
    b.add_field("kubernetes", Value::of_json(b.arena.copy(std::string("{\"namespace_name\":\"") + ns + "\"}")));
  }
  return b;
}

const char* const kRules =
    "  <rule>\n    key level\n    pattern /^(error|fatal)$/i\n    tag alert.$1.${tag}\n  </rule>\n"
    "  <rule>\n    key $.kubernetes.namespace_name\n    pattern /^kube-/\n    tag system.${tag_parts[1]}\n  </rule>\n"
    "  <rule>\n    key level\n    pattern /^debug$/\n    tag ${tag}\n  </rule>\n";

}  // namespace

TEST(RewriteTagFilter, FirstMatchingRuleTagsEachRecordInItsOrder) {
  Env env;
  auto out = env.make(kRules);
  Batch b = logs("app.web", {{"ERROR", "prod"}, {"info", "kube-system"}, {"fatal", "prod"}, {"info", "prod"},
                             {"debug", "prod"}, {nullptr, "kube-dns"}});
  out->write(b);
  using Got = std::vector<std::pair<std::string, std::string>>;
  // Grouped by new tag, in the order each tag first appears; unmatched and same-tag records dropped.
  EXPECT_EQ(env.router.got,
            (Got{{"alert.ERROR.app.web", R"({"level":"ERROR","kubernetes":{"namespace_name":"prod"}})"},
                 {"system.web", R"({"level":"info","kubernetes":{"namespace_name":"kube-system"}})"},
                 {"system.web", R"({"kubernetes":{"namespace_name":"kube-dns"}})"},
                 {"alert.fatal.app.web", R"({"level":"fatal","kubernetes":{"namespace_name":"prod"}})"}}));
  EXPECT_EQ(env.metrics.value("sluice_rewrite_unmatched_records_total{plugin=\"rw0\"}"), 2u);
}

TEST(RewriteTagFilter, CommonFieldsAndClaimTravelWithTheRecords) {
  Env env;
  auto out = env.make("  <rule>\n    key level\n    pattern /./\n    tag x.$0\n  </rule>\n");
  Batch b = logs("a", {{"info", "p"}});
  b.common_fields.push_back({"host", Value::of_string("n1")});
  out->write(b);
  ASSERT_EQ(env.router.got.size(), 1u);
  EXPECT_EQ(env.router.got[0].first, "x.");
  EXPECT_EQ(env.router.got[0].second, R"({"level":"info","kubernetes":{"namespace_name":"p"},"host":"n1"})");
}

TEST(RewriteTagFilter, ALoopEndsInsteadOfExhaustingTheStack) {
  Env env;
  auto out = env.make("  <rule>\n    key level\n    pattern /./\n    tag more.${tag}\n  </rule>\n");
  env.router.loop_back = out.get();
  Batch b = logs("a", {{"info", "p"}, {"warn", "p"}});
  out->write(b);
  EXPECT_EQ(env.metrics.value("sluice_rewrite_loop_dropped_records_total{plugin=\"rw0\"}"), 2u);
}

TEST(RewriteTagFilter, ConfigurationMistakes) {
  EXPECT_NE(Env().config_error("").find("missing rewriterules"), std::string::npos);
  EXPECT_NE(Env().config_error("  rewriterule1 level ^x$ y\n").find("t.conf:3: \"rewriterule<num>\" support has been dropped"),
            std::string::npos);
  EXPECT_NE(Env().config_error("  <rule>\n    key level\n    tag x\n  </rule>\n").find("pattern"), std::string::npos);
  std::string twice = "  <rule>\n    key a\n    pattern /x/\n    tag t\n  </rule>\n";
  EXPECT_NE(Env().config_error(twice + twice).find("duplicated rewriterules"), std::string::npos);
  EXPECT_EQ(Env().config_error(kRules), "");
}

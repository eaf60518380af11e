#include <gtest/gtest.h>

#include "config/config.h"
#include "core/registry.h"
#include "format/json.h"
#include "support/plugin_config.h"

using namespace sluice;

namespace {

struct Env : sluice::testing::PluginConfig {
  std::unique_ptr<Filter> make(const std::string& body) {
    PluginContext ctx = parse("filter", "filter", "concat", body, "concat0");
    ctx.dry_run = true;
    return (*registry.filter("concat"))(ctx, params());
  }
  std::string config_error(const std::string& body) {
    return error_of([&] { make(body); });
  }
};

// The reference configuration (fluentd-observed 3.3).
const char* const kCri =
    "  key message\n  use_partial_cri_logtag true\n  partial_cri_logtag_key logtag\n"
    "  partial_cri_stream_key stream\n  separator \"\"\n";

Batch cri_records() {
  Batch b;
  b.tag = "kubernetes.var.log.containers.a.log";
  b.begin_record({1700000000, 0, false});
  b.add_field("stream", Value::of_string("stdout"));
  b.add_field("logtag", Value::of_string("F"));
  b.add_field("message", Value::of_string("partial-part-1 partial-part-2"));
  b.add_field("time", Value::of_string("2024-05-01T12:00:02.5Z"));
  b.begin_record({1700000001, 0, false});
  b.add_field("other", Value::of_string("no message key"));
  b.add_field("stream", Value::of_string("stderr"));
  return b;
}

std::string json_of(const Batch& b, size_t i) {
  std::string s;
  json::append_record(s, b, b.records.at(i));
  return s;
}

}  // namespace

TEST(FilterConcat, CriLogtagModeRemovesLogtagAndStreamAsConcatDoes) {
  Env env;
  auto f = env.make(kCri);
  Batch b = cri_records();
  f->filter(b);
  EXPECT_EQ(json_of(b, 0), R"({"message":"partial-part-1 partial-part-2","time":"2024-05-01T12:00:02.5Z"})");
  EXPECT_EQ(json_of(b, 1), R"({"other":"no message key","stream":"stderr"})");  // no key: untouched
}

TEST(FilterConcat, KeepPartialKeyAndFluentTags) {
  Env env;
  auto f = env.make(std::string(kCri) + "  keep_partial_key true\n");
  Batch b = cri_records();
  f->filter(b);
  EXPECT_EQ(json_of(b, 0), R"({"logtag":"F","message":"partial-part-1 partial-part-2","time":"2024-05-01T12:00:02.5Z"})");
  Env env2;
  auto g = env2.make(kCri);
  Batch c = cri_records();
  c.tag = "fluent.warn";
  g->filter(c);
  EXPECT_EQ(json_of(c, 0).substr(0, 21), R"({"stream":"stdout","l)");
}

TEST(FilterConcat, DockerEndRegexpChangesNothing) {
  Env env;
  auto f = env.make("  key log\n  multiline_end_regexp /\\n$/\n  separator \"\"\n");
  Batch b = cri_records();
  f->filter(b);
  EXPECT_EQ(json_of(b, 0), R"({"stream":"stdout","logtag":"F","message":"partial-part-1 partial-part-2","time":"2024-05-01T12:00:02.5Z"})");
}

TEST(FilterConcat, ConfigurationMistakes) {
  EXPECT_NE(Env().config_error("  key log\n  partial_key p\n  partial_value true\n").find("t.conf:4: concat: partial_key is not supported"),
            std::string::npos);
  EXPECT_NE(Env().config_error("  key log\n  n_lines 3\n  multiline_start_regexp /x/\n").find("exclusive"), std::string::npos);
  EXPECT_NE(Env().config_error("  key log\n  n_lines 0\n").find("at least 1"), std::string::npos);
  EXPECT_NE(Env().config_error("  key log\n  multiline_start_regexp /(/\n").find("t.conf:4: concat: invalid multiline_start_regexp"),
            std::string::npos);
  EXPECT_NE(Env().config_error("  key log\n").find("Either n_lines"), std::string::npos);
  EXPECT_NE(Env().config_error("  key log\n  use_partial_cri_logtag true\n").find("partial_cri_logtag_key is required"),
            std::string::npos);
  EXPECT_EQ(Env().config_error(kCri), "");
}

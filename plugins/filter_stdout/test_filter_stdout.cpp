#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "core/registry.h"
#include "support/test_support.h"

using namespace sluice;

namespace {

using sluice::testing::CaptureStdout;

struct Env {
  Registry reg;
  ConfigSection section;
  Env() {
    setenv("TZ", "UTC", 1);
    tzset();
    register_all_plugins(reg);
  }
  std::unique_ptr<Filter> make(const std::string& body) {
    auto parsed = parse_config_text("<filter **>\n  @type stdout\n" + body + "</filter>\n", "t.conf", ".");
    EXPECT_TRUE(parsed.errors.empty());
    section = parsed.root.children.at(0);
    const PluginSpec* spec = reg.spec("filter", "stdout");
    EXPECT_TRUE(validate_params(section, *spec).empty());
    PluginContext ctx;
    ctx.registry = &reg;
    ctx.id = "fs0";
    Params p(section, *spec);
    return (*reg.filter("stdout"))(ctx, p);
  }
};

Batch two_records() {
  Batch b;
  b.tag = "app.x";
  b.begin_record({1700000000, 123456789});
  b.add_field("message", Value::of_string("hello"));
  b.begin_record({1700000001, 0});
  b.add_field("message", Value::of_string("world"));
  b.add_field("n", Value::of_int(2));
  return b;
}

}  // namespace

TEST(FilterStdout, PrintsLikeOutStdoutAndPassesOn) {
  Env env;
  auto f = env.make("");
  Batch b = two_records();
  CaptureStdout cap;
  f->filter(b);
  std::string out = cap.finish();
  EXPECT_EQ(out,
            "2023-11-14 22:13:20.123456789 +0000 app.x: {\"message\":\"hello\"}\n"
            "2023-11-14 22:13:21.000000000 +0000 app.x: {\"message\":\"world\",\"n\":2}\n");
  ASSERT_EQ(b.records.size(), 2u);
  EXPECT_EQ(b.find(b.records[1], "message")->text, "world");
}

TEST(FilterStdout, FormatSection) {
  Env env;
  auto f = env.make("<format>\n  @type json\n</format>\n");
  Batch b = two_records();
  CaptureStdout cap;
  f->filter(b);
  EXPECT_EQ(cap.finish(), "{\"message\":\"hello\"}\n{\"message\":\"world\",\"n\":2}\n");
}

TEST(FilterStdout, HashOutputType) {
  Env env;
  auto f = env.make("output_type hash\n");
  Batch b = two_records();
  CaptureStdout cap;
  f->filter(b);
  EXPECT_EQ(cap.finish(),
            "2023-11-14 22:13:20.123456789 +0000 app.x: {\"message\"=>\"hello\"}\n"
            "2023-11-14 22:13:21.000000000 +0000 app.x: {\"message\"=>\"world\", \"n\"=>2}\n");
}

#include <gtest/gtest.h>

#include "core/delivery.h"
#include "core/registry.h"

using namespace sluice;

TEST(OutNull, DiscardsAndAcceptsBuffer) {
  Registry reg;
  register_all_plugins(reg);
  ConfigSection s{"match", "**", {"t.conf", 1}, {{"@type", "null", {"t.conf", 2}}}, {}};
  s.children.push_back({"buffer", "", {"t.conf", 3}, {}, {}});
  ASSERT_NE(reg.spec("output", "null"), nullptr);
  EXPECT_TRUE(validate_params(s, *reg.spec("output", "null")).empty());
  PluginContext ctx;
  ctx.registry = &reg;
  auto out = ctx.make_output(s, "null");
  Batch b;
  b.tag = "t";
  b.begin_record({1, 0});
  b.add_field("a", Value::of_int(1));
  DeliveryTracker tracker;
  b.claim = tracker.open(10);
  out->write(b);
  b.claim->release();
  EXPECT_EQ(tracker.committed(), 10u);  // not retained
  bool done = false;
  out->close([&] { done = true; });
  EXPECT_TRUE(done);
}

#include <gtest/gtest.h>

#include "core/registry.h"

using namespace sluice;

namespace {

struct Recorder : Emitter {
  std::vector<std::string> seen;
  void emit(Batch& batch) override {
    for (auto& r : batch.records) {
      std::string s(batch.tag);
      for (auto* f = batch.begin(r); f != batch.end(r); ++f) s += " " + std::string(f->key);
      seen.push_back(s);
    }
    // A filter in the label changes the batch: the caller's batch must not see it.
    batch.fields.clear();
    batch.records.clear();
  }
};

ConfigSection relabel_section(const std::string& label) {
  ConfigSection s{"match", "**", {"t.conf", 4}, {{"@type", "relabel", {"t.conf", 5}}}, {}};
  if (!label.empty()) s.params.push_back({"@label", label, {"t.conf", 6}});
  return s;
}

}  // namespace

TEST(OutRelabel, EmitsCopyIntoLabel) {
  Registry reg;
  register_all_plugins(reg);
  Recorder rec;
  PluginContext ctx;
  ctx.registry = &reg;
  ctx.label_emitter = [&](const std::string& l) -> Emitter* { return l == "@X" ? &rec : nullptr; };
  auto s = relabel_section("@X");
  auto out = ctx.make_output(s, "relabel");
  Batch b;
  b.tag = "app";
  b.begin_record({1, 0});
  b.add_field("a", Value::of_int(1));
  b.add_field("b", Value::of_int(2));
  out->write(b);
  ASSERT_EQ(rec.seen.size(), 1u);
  EXPECT_EQ(rec.seen[0], "app a b");
  EXPECT_EQ(b.records.size(), 1u);
  EXPECT_EQ(b.fields.size(), 2u);
  out->write(b);
  EXPECT_EQ(rec.seen.size(), 2u);
}

TEST(OutRelabel, UnknownLabelIsConfigError) {
  Registry reg;
  register_all_plugins(reg);
  PluginContext ctx;
  ctx.registry = &reg;
  ctx.label_emitter = [](const std::string&) -> Emitter* { return nullptr; };
  auto s = relabel_section("@NOPE");
  try {
    ctx.make_output(s, "relabel");
    FAIL() << "expected ConfigException";
  } catch (const ConfigException& e) {
    EXPECT_EQ(e.error.to_string(), "t.conf:6: unknown label '@NOPE' for relabel");
  }
  auto missing = relabel_section("");
  EXPECT_THROW(ctx.make_output(missing, "relabel"), ConfigException);
}
